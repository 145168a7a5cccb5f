package ZKTest;

# What every test file uses to find (or start) a ZooKeeper server.
# Core Perl only.  See the POD at the end.

use strict;
use warnings;

our $VERSION = '1.00';

our $SERVER;   # the ZKTest::Server started by this process, if any
our $ERROR;    # why no server is available (undef if one is)
my $tried;     # start attempted already (success or failure is cached)
my $test_root; # cached so forked children agree with their parent

sub _true {
    my ($v) = @_;
    return defined $v && $v ne '' && $v ne '0' && lc($v) ne 'false' && lc($v) ne 'no';
}

sub hosts {
    return $ENV{ZK_TEST_HOSTS} if defined $ENV{ZK_TEST_HOSTS} && $ENV{ZK_TEST_HOSTS} =~ /\S/;
    return $SERVER->hosts if $SERVER;
    return undef if $tried;
    $tried = 1;
    require ZKTest::Server;
    my $srv = eval { ZKTest::Server->start };
    unless ($srv) {
        ($ERROR = $@ || $ZKTest::Server::ERROR || 'unknown error') =~ s/\s+\z//;
        return undef;
    }
    $SERVER = $srv;          # stopped by ZKTest::Server's DESTROY/END, starting process only
    $ERROR  = undef;
    return $ENV{ZK_TEST_HOSTS} = $srv->hosts;
}

sub server_required {
    return _true($ENV{CI}) || _true($ENV{ZK_TEST_REQUIRE});
}

sub no_server_reason { $ERROR }

sub _no_server {
    my $why = 'no ZooKeeper server available: ' . ($ERROR // 'unknown error');
    if (server_required()) {
        my $which = _true($ENV{ZK_TEST_REQUIRE}) ? 'ZK_TEST_REQUIRE' : 'CI';
        die "$why\n(a server is required because $which is set)\n";
    }
    return $why;
}

sub server_hosts {
    my $h = hosts();
    return $h if defined $h;
    my $why = _no_server();
    require Test::More;
    Test::More::plan(skip_all => $why);
}

sub require_server {
    my ($count) = @_;
    my $h = hosts();
    return $h if defined $h;
    my $why = _no_server();
    require Test::More;
    Test::More::skip($why, $count // 1);   # leaves the enclosing SKIP: block
}

# A private server with options (e.g. sasl => ..., tls => ...), for tests
# that need a specially configured server whatever ZK_TEST_HOSTS says.
# Returns ($server) or (undef, $reason); dies if server_required().
sub private_server {
    my (%opt) = @_;
    require ZKTest::Server;
    my $srv = eval { ZKTest::Server->start(%opt) };
    return $srv if $srv;
    (my $why = $@ || $ZKTest::Server::ERROR || 'unknown error') =~ s/\s+\z//;
    my @what = grep { $opt{$_} } qw(sasl tls);
    $why = 'cannot start a ' . (@what ? join('+', map { uc } @what) . '-configured ' : '')
         . "ZooKeeper server: $why";
    if (server_required()) {
        my $which = _true($ENV{ZK_TEST_REQUIRE}) ? 'ZK_TEST_REQUIRE' : 'CI';
        die "$why\n(a server is required because $which is set)\n";
    }
    return (undef, $why);
}

sub root_path {
    my $p = $ENV{ZK_TEST_PATH};
    return '/' unless defined $p && $p =~ m{^/};
    $p =~ s{/+}{/}g;
    $p =~ s{/\z}{};
    return length $p ? $p : '/';
}

sub test_root {
    return $test_root if defined $test_root;
    (my $name = $0) =~ s{.*[/\\]}{};
    $name =~ s{\.t\z}{};
    $name =~ s{[^A-Za-z0-9_]+}{_}g;
    my $root = root_path();
    return $test_root = ($root eq '/' ? '' : $root) . "/_net_zookeeper_test_${name}_$$";
}

1;

__END__

=head1 NAME

ZKTest - find or start the ZooKeeper server a test file talks to

=head1 SYNOPSIS

    use strict; use warnings;
    use Test::More;
    use lib 't/lib';
    use ZKTest;

    my $hosts = ZKTest::server_hosts();   # skip_all (or fail under CI) if none
    my $node  = ZKTest::test_root();      # e.g. /_net_zookeeper_test_40_basic_1234
    plan tests => 3;

    # or, inside a planned file, for a few server-dependent tests:
    SKIP: {
        my $hosts = ZKTest::require_server(5);   # skips 5 tests if no server
        ...
    }

=head1 FUNCTIONS

=over

=item hosts()

C<$ENV{ZK_TEST_HOSTS}> if it contains a non-space character.  Otherwise starts
one L<ZKTest::Server> for this process (once; cached), sets
C<$ENV{ZK_TEST_HOSTS}> to its C<"127.0.0.1:PORT"> and returns that.  The server
is stopped at END by the process that started it (never by forked children).
Returns undef if no server is available; the reason is then in
C<$ZKTest::ERROR> / C<no_server_reason()>.  Applies no skip/fail policy.

=item server_required()

True if C<$ENV{CI}> or C<$ENV{ZK_TEST_REQUIRE}> is true (not empty, C<0>,
C<false> or C<no>).

=item server_hosts()

For use before C<plan>: returns C<hosts()> if a server is available.
Otherwise dies (so the test file fails) if C<server_required()>, else calls
C<< plan skip_all => 'no ZooKeeper server available: REASON' >>.

=item require_server($count)

For use inside a C<SKIP:> block: returns C<hosts()> if a server is available.
Otherwise dies if C<server_required()>, else C<skip>s C<$count> tests
(default 1) with the same reason.

=item private_server(%opts)

Starts a private L<ZKTest::Server> with C<%opts> (for example
C<< sasl => { users => { alice => 'secret' } } >> or
C<< tls => { client_auth => 'need' } >>), whatever C<ZK_TEST_HOSTS> says, for
tests that need a specially configured server.  Returns the server object,
or C<(undef, $reason)> if none can be started; dies instead if
C<server_required()>.  The server is stopped when the object goes away or at
END.

    my ($srv, $why) = ZKTest::private_server(tls => 1);
    SKIP: {
        skip $why, 1 unless $srv;
        ...
    }

=item no_server_reason()

The reason why no server is available, or undef.

=item root_path()

The root for test nodes from C<$ENV{ZK_TEST_PATH}> as the original
F<t/util.pl> computed it: the value if it starts with C</> (runs of C</>
collapsed, a trailing C</> removed), else C</>.  The node must already exist.

=item test_root()

A test node path unique to this test file and process, so test files can run
in parallel against one shared server:
C<root_path() . '/_net_zookeeper_test_' . NAME . '_' . PID> with NAME the
basename of C<$0> without C<.t>.  Computed once (forked children get the
parent's value).  Not created here.

=back

=head1 ENVIRONMENT

C<ZK_TEST_HOSTS>, C<ZK_TEST_PATH>, C<CI>, C<ZK_TEST_REQUIRE>, and those of
L<ZKTest::Server> (C<ZK_TEST_START_TIMEOUT>, C<ZK_TEST_VERBOSE>,
C<ZK_TEST_CLASSPATH>, C<JAVA>, C<JAVA_HOME>).

=cut
