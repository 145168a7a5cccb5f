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
use File::Temp ();

use ZKTest;
use ZKTest::Server;
use Net::ZooKeeper qw(:errors :acls :log_levels);

$SIG{PIPE} = 'IGNORE';

my $FILE = __FILE__;
my $HANDLES = 20;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

sub croaks {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($code, $msg, $name) = @_;
    my $err = eval { $code->(); 1 } ? "(no exception)\n" : $@;
    like($err, qr/^\Q$msg\E at \Q$FILE\E line \d+\.?\n\z/, $name);
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
my $server_b = eval { ZKTest::Server->start };
unless ($server_b) {
    my $why = $@ || $ZKTest::Server::ERROR || 'unknown error';
    die "cannot start a second ZooKeeper server: $why" if ZKTest::server_required();
    plan skip_all => "cannot start a second ZooKeeper server: $why";
}
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

    # Runs $code with fd 2 reopened onto a temp file; returns what was logged.
    my $capture = sub {
        my ($code) = @_;
        my $tmp = File::Temp->new;
        open(my $olderr, '>&', \*STDERR) or die "cannot dup STDERR: $!";
        open(STDERR, '>', $tmp->filename) or die "cannot redirect STDERR: $!";
        my $ok = eval { $code->(); 1 };
        my $err = $@;
        open(my $in, '<', $tmp->filename) or die "cannot read back the log: $!";
        my $text = do { local $/; <$in> };
        close $in;
        open(STDERR, '>&', $olderr) or die "cannot restore STDERR: $!";
        close $olderr;
        die $err unless $ok;
        return $text;
    };

    my ($works, $error);
    my $log = $capture->(sub {
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

    # The client logs each attempt as "... connecting to HOST:PORT ...".
    my @attempts = $log =~ /connecting to\s+(?:tcp:\/\/)?(\S+?:\d+)\b/g;
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
