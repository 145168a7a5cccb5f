#!/usr/bin/perl

# Tests the real-server test harness itself (t/lib/ZKTest.pm and
# t/lib/ZKTest/Server.pm).  Does not need Net::ZooKeeper to be built.

use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use IO::Socket::INET ();
use Test::More;
use Time::HiRes ();
use ZKTest;

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
plan tests => 14;

# Talk four-letter words over a raw socket.
sub flw {
    my ($hostport, $cmd) = @_;
    my ($host, $port) = (split /,/, $hostport)[0] =~ m{^\[?([^\]/]+?)\]?:(\d+)}
        or return undef;
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                     Proto => 'tcp', Timeout => 5)
        or return undef;
    print {$sock} $cmd;
    local $/;
    my $reply;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 10;
        $reply = <$sock>;
        alarm 0;
    };
    close $sock;
    return $reply;
}

like($hosts, qr/\S/, "server_hosts() returns a host list ($hosts)");
is($ENV{ZK_TEST_HOSTS}, $hosts, 'ZK_TEST_HOSTS is set to it');
is(ZKTest::hosts(), $hosts, 'hosts() returns the same value again');

is(flw($hosts, 'ruok'), 'imok', 'ruok -> imok');
my $srvr = flw($hosts, 'srvr') // '';
like($srvr, qr/^Mode: /m, 'srvr reports Mode:');

# test_root() / root_path()
my $root = ZKTest::test_root();
like($root, qr{^/_net_zookeeper_test_00_harness_$$\z}, "test_root() is per file and process ($root)");
{
    local $ENV{ZK_TEST_PATH} = '//a//b///';
    is(ZKTest::root_path(), '/a/b', 'ZK_TEST_PATH is normalised');
    local $ENV{ZK_TEST_PATH} = 'relative';
    is(ZKTest::root_path(), '/', 'a ZK_TEST_PATH not starting with / is ignored');
}

# A server of our own: starts, serves, and really stops.
require ZKTest::Server;
my $zk = ZKTest::Server->start;
ok($zk, 'ZKTest::Server->start') or diag($ZKTest::Server::ERROR);
SKIP: {
    skip 'no server', 5 unless $zk;
    my ($hp, $pid, $dir) = ($zk->hosts, $zk->pid, $zk->dir);
    like($hp, qr/^127\.0\.0\.1:\d+\z/, "hosts() is 127.0.0.1:PORT ($hp)");
    is(flw($hp, 'ruok'), 'imok', 'own server answers ruok');

    # A forked child that exits normally must not stop the parent's server.
    my $kid = fork;
    if (defined $kid && !$kid) { exit 0 }     # runs END blocks and DESTROY
    waitpid $kid, 0 if $kid;
    is(flw($hp, 'ruok'), 'imok', 'still serving after a forked child exited');

    $zk->stop;
    my $refused = !IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $zk->port,
                                         Proto => 'tcp', Timeout => 5);
    ok($refused, 'port no longer accepts connections after stop');
    ok(!kill(0, $pid) && !-d $dir, 'server process is gone and its temp dir removed');
}
