#!/usr/bin/perl
# Connection order: Net::ZooKeeper::set_deterministic_conn_order (spec
# section 4; manual "Connection Order").  By default the host list given to
# new() is shuffled; after set_deterministic_conn_order(1) the hosts are tried
# in the given order.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Server;
use ZKTest::Util qw(capture_stderr start_server_or_skip);
use Net::ZooKeeper qw(:errors :acls :log_levels);

$SIG{PIPE} = 'IGNORE';

my $HANDLES = 20;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

# The croak trailer " at FILE line N." is matched with its period optional.
sub croaks {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return ZKTest::Util::croaks(@_, period_optional => 1);
}

## Arguments

{
    my $f = \&Net::ZooKeeper::set_deterministic_conn_order;
    my @r = $f->(0);
    is(scalar(@r), 0, 'set_deterministic_conn_order returns an empty list');
    croaks(sub { $f->() }, 'Usage: Net::ZooKeeper::set_deterministic_conn_order(flag)',
           'set_deterministic_conn_order without arguments croaks with its usage');
    croaks(sub { $f->(1, 2) }, 'Usage: Net::ZooKeeper::set_deterministic_conn_order(flag)',
           'set_deterministic_conn_order with two arguments croaks with its usage');
}

## Two independent standalone servers: A (the test server) and B

# A must be a single host:port without chroot so that "A,B" is a valid list.
my $own_a;
my $A = $hosts;
if ($A =~ m{[,/]}) {
    $own_a = eval { ZKTest::Server->start }
        or plan skip_all => "cannot start a private server A: " . ($@ || $ZKTest::Server::ERROR);
    $A = $own_a->hosts;
}
my $server_b = start_server_or_skip('a second ZooKeeper server');
my $B = $server_b->hosts;

# The marker node exists on A only.
my $zka = Net::ZooKeeper->new($A);
ok($zka && $zka->create($root, 'A', acl => ZOO_OPEN_ACL_UNSAFE), 'the marker node is created on server A')
    or BAIL_OUT('cannot create the marker node on A');
{
    my $zkb = Net::ZooKeeper->new($B);
    ok(!$zkb->exists($root) && $zkb->get_error == ZNONODE, 'the marker node does not exist on server B');
}

# Opens $HANDLES handles on "$list" and says where each one landed.
sub landings {
    my ($list) = @_;
    my %count = (A => 0, B => 0, error => 0);
    my @keep;    # all handles stay open until every one has been counted
    for (1 .. $HANDLES) {
        my $zkh = Net::ZooKeeper->new($list);
        push @keep, $zkh;
        if (!$zkh) { $count{error}++ }
        elsif ($zkh->exists($root)) { $count{A}++ }
        elsif ($zkh->get_error == ZNONODE) { $count{B}++ }
        else { $count{error}++; diag('exists failed: get_error ' . $zkh->get_error) }
    }
    return \%count;
}

# Default (never set): shuffled.
{
    my $c = landings("$A,$B");
    is($c->{error}, 0, "by default, $HANDLES handles on \"A,B\" all connect");
    ok($c->{A} > 0 && $c->{B} > 0, "by default the host list is shuffled: $HANDLES handles on \"A,B\" land on both A and B")
        or diag("A: $c->{A}, B: $c->{B}");
}

Net::ZooKeeper::set_deterministic_conn_order(1);
{
    my $c = landings("$A,$B");
    is($c->{A}, $HANDLES, "with set_deterministic_conn_order(1), $HANDLES handles on \"A,B\" all land on A, the first host")
        or diag("A: $c->{A}, B: $c->{B}, errors: $c->{error}");
    $c = landings("$B,$A");
    is($c->{B}, $HANDLES, "with set_deterministic_conn_order(1), $HANDLES handles on \"B,A\" all land on B, the first host")
        or diag("A: $c->{A}, B: $c->{B}, errors: $c->{error}");
}

## A dead first host: the next one is tried

{
    my $dead = '127.0.0.1:' . ZKTest::Server::free_port();

    my ($works, $error);
    my $log = capture_stderr(sub {
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_DEBUG);
        my $zkh = Net::ZooKeeper->new("$dead,$A");
        $works = $zkh && $zkh->exists('/');
        $error = $zkh ? $zkh->get_error : 'no handle';
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
        # the connection lines were written before exists could return
        $zkh->DESTROY if $zkh;
    });
    ok($works, 'with deterministic order, a handle on "DEAD,A" still works (exists("/") is true)')
        or diag("get_error $error");

    # Each attempt is logged as the C client logs it: "Socket [HOST:PORT] zk
    # retcode=-4, ..." when it is refused, "initiated connection to server
    # [HOST:PORT]" when it connects.
    my @attempts = $log =~ /(?:Socket |initiated connection to server )\[(\S+?:\d+)\]/g;
    ok(scalar(@attempts) >= 2, 'at DEBUG the log names the hosts of the connection attempts')
        or diag("log:\n$log");
    is($attempts[0], $dead, 'with deterministic order the first connection attempt goes to the first (dead) host');
    is($attempts[1], $A, '... and the next one to the second (live) host');
}

## Switching back to the default

Net::ZooKeeper::set_deterministic_conn_order(0);
{
    my $c = landings("$A,$B");
    ok($c->{A} > 0 && $c->{B} > 0, "after set_deterministic_conn_order(0), $HANDLES handles on \"A,B\" land on both A and B again")
        or diag("A: $c->{A}, B: $c->{B}, errors: $c->{error}");
}

Net::ZooKeeper::set_deterministic_conn_order(1);
Net::ZooKeeper::set_deterministic_conn_order('');
{
    my $c = landings("$A,$B");
    ok($c->{A} > 0 && $c->{B} > 0, 'a false flag (empty string) also restores the shuffled order')
        or diag("A: $c->{A}, B: $c->{B}, errors: $c->{error}");
}

ok($zka->delete($root), 'the marker node is removed from A');
$server_b->stop;

done_testing();
