#!/usr/bin/perl
# Behaviours of the original (the C client) kept for parity: host strings parsed
# as the C client's resolve_hosts does (white space before a host, unresolvable
# hosts skipped with a log line), null node data read as undef with ZOK, and
# create('/') sent to the server (spec sections 3.1, 3.5, 3.9, 10, 11.2).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Errno ();
use Socket ();

use ZKTest;
use ZKTest::Util qw(error_is delete_tree capture_stderr create_null_node);
use Net::ZooKeeper qw(:errors :node_flags :acls :log_levels);

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
my $root  = ZKTest::test_root();
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

## Null data versus empty data

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
ok($zkh->create($root, 'parity', acl => ZOO_OPEN_ACL_UNSAFE), "create the test node $root")
    or diag('error ' . $zkh->get_error());

{
    my $null  = "$root/null";
    my $empty = "$root/empty";
    create_null_node($servers[0], ($chroot eq '/' ? '' : $chroot) . $null);
    ok($zkh->exists($null), 'a node with null data was made with the raw protocol');
    ok($zkh->create($empty, '', acl => ZOO_OPEN_ACL_UNSAFE), 'create a node with empty data');

    my $stat = $zkh->stat();
    is($zkh->get($null, stat => $stat), undef, 'get of a node with null data returns undef');
    error_is($zkh, ZOK, '... get_error is ZOK and $! empty');
    is($stat->{data_len}, 0, '... and the stat was updated (data_len 0)');
    is($zkh->get($null, data_read_len => 0), undef, 'with data_read_len 0 it is undef too');
    error_is($zkh, ZOK, '... with ZOK');
    my $watch = $zkh->watch();
    is($zkh->get($null, watch => $watch), undef, 'get with a watch of a node with null data returns undef');
    error_is($zkh, ZOK, '... with ZOK');
    {
        my @r = $zkh->get($null);
        is_deeply(\@r, [undef], 'in list context it returns (undef)');
    }

    my $data = $zkh->get($empty);
    ok(defined($data) && $data eq '', "get of a node with empty data returns ''");
    error_is($zkh, ZOK, '... with ZOK');

    is_deeply([ $zkh->get_many($null, $empty) ], [ undef, '' ], "get_many gives undef for null data and '' for empty data");
    error_is($zkh, ZOK, '... with ZOK');
    is_deeply([ $zkh->get_many($empty, "$root/missing", $null) ], [ '', undef, undef ],
              'get_many with a missing node in between');
    error_is($zkh, ZNONODE, '... get_error is the missing node\'s ZNONODE');

    ok($zkh->set($null, 'now'), 'set data on the null node');
    is($zkh->get($null), 'now', '... then get returns it');
}

## create('/') is sent to the server

{
    is($zkh->create('/', 'x', acl => ZOO_OPEN_ACL_UNSAFE), undef, "create('/') returns undef");
    error_is($zkh, ZNODEEXISTS, '... with the server\'s ZNODEEXISTS (not ZBADARGUMENTS)');

    SKIP: {
        skip('the test hosts have a chroot', 4) if $chroot ne '' && $chroot ne '/';
        my $path = $zkh->create('/', 'seq', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
        like($path // '', qr{\A/\d{10}\z}, "create('/', flags => ZOO_SEQUENCE) creates /NNNNNNNNNN")
            or diag('error ' . $zkh->get_error());
        error_is($zkh, ZOK, '... with ZOK');
        SKIP: {
            skip('no node was created', 2) unless defined $path && $path =~ m{\A/\d{10}\z};
            is($zkh->get($path), 'seq', "... and $path holds the data");
            ok($zkh->delete($path), "... and $path is deleted again");
        }
    }

    # Under a chroot "/" is the chroot node; a sequential "/" makes a sibling of it
    # whose path, with the chroot cut off as the C client does, is the bare number.
    my $top = "$root/top";
    ok($zkh->create($top, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $top for a chroot");
    my $rooted = Net::ZooKeeper->new($list . ($chroot eq '/' ? '' : $chroot) . $top);
    is($rooted->create('/', 'x', acl => ZOO_OPEN_ACL_UNSAFE), undef, "under a chroot create('/') returns undef");
    error_is($rooted, ZNODEEXISTS, '... with ZNODEEXISTS');
    my $number = $rooted->create('/', 'seq', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($number // '', qr{\A\d{10}\z}, "under a chroot create('/', flags => ZOO_SEQUENCE) returns the bare sequence number")
        or diag('error ' . $rooted->get_error());
    error_is($rooted, ZOK, '... with ZOK');
    is($zkh->get("$top" . ($number // '')), 'seq', "... and made $top" . ($number // 'N') . ', next to the chroot node');
}

delete_tree($zkh, $root);

done_testing();
