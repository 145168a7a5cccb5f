#!/usr/bin/perl
# Behaviours of the original (the C client) kept for parity: host strings parsed
# as the C client's resolve_hosts does (white space before a host, unresolvable
# hosts skipped with a log line) (spec sections 3.1, 10, 11.2).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Errno ();
use Socket ();

use ZKTest;
use ZKTest::Util qw(capture_stderr);
use Net::ZooKeeper qw(:log_levels);

$SIG{PIPE} = 'IGNORE';

my $UNKNOWN = 'no-such-host.invalid';

# The errno the C client gives when $UNKNOWN is all there is: ENOENT for an unknown
# name, EINVAL for other lookup failures (no resolver to ask).
my $unknown_errno = do {
    my ($err) = Socket::getaddrinfo($UNKNOWN, '2181', { socktype => Socket::SOCK_STREAM() });
    my @noname = grep { defined } map { eval { Socket->can($_)->() } } qw(EAI_NONAME EAI_NODATA);
    !$err ? undef : (grep { $err + 0 == $_ } @noname) ? Errno::ENOENT() : Errno::EINVAL();
};

## Host strings without a server

{
    # A bad port fails the whole list, also after a host that does not resolve.
    for my $case ([ "$UNKNOWN:2181,127.0.0.1:0", 'port 0 after an unresolvable host' ],
                  [ '127.0.0.1:2181,127.0.0.1', 'a second host without port' ],
                  [ '127.0.0.1:2181 ', 'white space after the port' ],
                  [ '127.0.0.1:2181x', 'a port with trailing garbage' ]) {
        my ($bad, $what) = @$case;
        $! = 0;
        my $h = Net::ZooKeeper->new($bad);
        my $errno = $! + 0;
        is($h, undef, "new returns undef for $what");
        is($errno, Errno::EINVAL(), "... with \$! EINVAL");
    }

    SKIP: {
        skip("$UNKNOWN resolves here", 4) unless defined $unknown_errno;
        for my $bad ("$UNKNOWN:2181", "$UNKNOWN:2181, also-$UNKNOWN:2182") {
            $! = 0;
            my $h = Net::ZooKeeper->new($bad);
            my $errno = $! + 0;
            is($h, undef, "new returns undef when no host resolves ('$bad')");
            is($errno, $unknown_errno, "... with \$! " . ($unknown_errno == Errno::ENOENT() ? 'ENOENT' : 'EINVAL')
                . ' as the C client sets it from getaddrinfo');
        }
    }
}

## With a server

my $hosts = ZKTest::server_hosts();
my ($list, $chroot) = $hosts =~ m{\A([^/]*)(.*)\z}s;
my @servers = grep { /\S/ } split /,/, $list;

# A call which needs the server: exists on the test root path.
sub works {
    my ($zkh, $what) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    ok($zkh && $zkh->exists(ZKTest::root_path()), "a handle for $what works")
        or diag($zkh ? 'error ' . $zkh->get_error() : "new returned undef, \$! $!");
}

{
    my $spaced = " $list$chroot";
    works(Net::ZooKeeper->new($spaced), "'$spaced' (a space before the host)");

    my @two = @servers > 1 ? @servers : (@servers, @servers);
    my $joined = join(', ', @two) . $chroot;
    my $zkh = Net::ZooKeeper->new($joined);
    works($zkh, "'$joined' (a space after the comma)");
    is($zkh && $zkh->{hosts}, $joined, '... and its hosts attribute is the string as given');

    my $tabbed = join(",\t ", @two) . $chroot;
    works(Net::ZooKeeper->new($tabbed), 'hosts with a tab and a space after the comma');
}

{
    my $mixed = "$UNKNOWN:2181,$list$chroot";
    my $zkh;
    my $log = capture_stderr(sub {
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_ERROR);
        $zkh = Net::ZooKeeper->new($mixed);
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
    });
    works($zkh, 'a list whose first host does not resolve');
    is($zkh && $zkh->{hosts}, $mixed, '... and its hosts attribute is the string as given');
    like($log, qr/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}:\Q$$\E\(0x[0-9a-f]+\):ZOO_ERROR\@resolve_hosts\@\d+: getaddrinfo: \S.*$/m,
         'new logs the C client\'s ZOO_ERROR@resolve_hosts line "getaddrinfo: ..." for the skipped host');

    my $reversed = "$list,$UNKNOWN:2181$chroot";
    $log = capture_stderr(sub { $zkh = Net::ZooKeeper->new($reversed) });
    works($zkh, 'a list whose last host does not resolve');
    is($log, '', '... and at ZOO_LOG_LEVEL_OFF nothing is logged');
}

done_testing();
