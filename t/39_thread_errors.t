#!/usr/bin/perl
# get_error() is per Perl object, also when ithreads share one connection
# (manual "Error Handling": each handle remembers the result of its most recent
# operation and get_error() returns it and sets $! to the errno captured with
# it - zero, so $! reads '', for ZOK and for server results such as ZNONODE).
#
# Four ithreads each acquire their own lease of one named
# Net::ZooKeeper::Cluster connection (one session for the process) and make
# 2,000 gets through it, alternating between an existing and a missing node;
# neighbouring threads are out of phase, so at any moment some threads' calls
# succeed while others' fail with ZNONODE.  After every call a thread checks
# that get_error() is its own call's result (ZOK or ZNONODE), that $! then
# reads '' (it is set to 1 before), and that the value returned is right.  Any
# mismatch means one thread saw another's result.

use strict;
use warnings;

use Config;
use Test::More;

BEGIN {
    unless ($Config{useithreads}) {
        plan skip_all => 'this perl has no ithreads support (threads are needed to share a connection between interpreters)';
    }
    require threads;
    threads->import;
    require threads::shared;
    threads::shared->import;
}

use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(delete_tree);
use Net::ZooKeeper qw(:errors :acls);
use Net::ZooKeeper::Cluster qw(:status);

$SIG{PIPE} = 'IGNORE';

my $hosts   = ZKTest::server_hosts();
my $root    = ZKTest::test_root();
my $THREADS = 4;
my $CALLS   = 2000;
my $there   = "$root/there";
my $missing = "$root/missing";

{
    my $setup = Net::ZooKeeper->new($hosts);
    is($setup->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
    is($setup->create($there, 'data', acl => ZOO_OPEN_ACL_UNSAFE), $there, "create $there");
    ok($setup->DESTROY, 'DESTROY the setup handle');
}

is(Net::ZooKeeper::Cluster::define('errors', $hosts, 10000), SUCCESS, 'define the cluster');
my $generation;
{
    my ($rc, $zk) = Net::ZooKeeper::Cluster::acquire('errors');
    is($rc, SUCCESS, 'the main thread acquires it (the connection is made)');
    ok($zk && $zk->handle->exists($root), '... and uses it') or BAIL_OUT('the cluster connection does not work');
    $generation = $zk->generation;
    is(Net::ZooKeeper::Cluster::release($zk), SUCCESS, '... and releases it');
}

my $ready :shared = 0;

sub worker {
    my ($t) = @_;
    my %n = (calls => 0, code => 0, errno => 0, value => 0, first => '');
    my ($rc, $zk) = Net::ZooKeeper::Cluster::acquire('errors');
    return (error => "acquire gave $rc") unless $rc == SUCCESS;
    my $zkh = $zk->handle;
    { lock $ready; $ready++; cond_broadcast($ready); }
    { lock $ready; cond_wait($ready) until $ready >= $THREADS; }    # all start together
    for my $i (0 .. $CALLS - 1) {
        my $exists = ($i + $t) % 2 == 0;
        my $value  = $zkh->get($exists ? $there : $missing);
        $! = 1;
        my $code  = $zkh->get_error;
        my $errno = "$!";
        $n{calls}++;
        my $want = $exists ? ZOK : ZNONODE;
        my @bad;
        if ($code != $want) { $n{code}++; push @bad, "get_error $code, not $want" }
        if ($errno ne '')   { $n{errno}++; push @bad, "\$! '$errno'" }
        if ($exists ? !defined $value || $value ne 'data' : defined $value) {
            $n{value}++;
            push @bad, 'value ' . ($value // 'undef');
        }
        $n{first} ||= "call $i on " . ($exists ? 'the existing' : 'the missing') . ' node: ' . join('; ', @bad)
            if @bad;
    }
    Net::ZooKeeper::Cluster::release($zk);
    return %n;
}

my $t0 = Time::HiRes::time();
my @threads = map { threads->create({ context => 'list' }, \&worker, $_) } 1 .. $THREADS;
my @results = map { { $_->join } } @threads;
note(sprintf '%d threads x %d gets in %.2f s', $THREADS, $CALLS, Time::HiRes::time() - $t0);

my %total = (calls => 0, code => 0, errno => 0, value => 0);
for my $t (1 .. $THREADS) {
    my $r = $results[ $t - 1 ];
    ok(!$r->{error}, "thread $t: acquired a lease of the cluster") or diag($r->{error});
    is($r->{calls} // 0, $CALLS, "thread $t: made $CALLS gets");
    $total{$_} += $r->{$_} // 0 for qw(calls code errno value);
    note("thread $t: first mismatch at $r->{first}") if $r->{first};
    note(sprintf 'thread %d: %d get_error mismatches, %d $! mismatches, %d wrong values',
         $t, map { $r->{$_} // 0 } qw(code errno value));
}
is($total{code}, 0, 'get_error() always returned the thread\'s own result (ZOK or ZNONODE)');
is($total{errno}, 0, '$! always read \'\' after get_error(), as documented for ZOK and ZNONODE');
is($total{value}, 0, 'every get returned its own node\'s value (undef for the missing one)');

{
    my ($rc, $zk) = Net::ZooKeeper::Cluster::acquire('errors');
    is($rc, SUCCESS, 'the main thread acquires the cluster again');
    is($zk->generation, $generation, '... the same connection: it was never replaced');
    my $zkh = $zk->handle;
    ok(delete_tree($zkh, $root), 'delete the test nodes');
    is(Net::ZooKeeper::Cluster::release($zk), SUCCESS, '... and release it');
}

done_testing();
