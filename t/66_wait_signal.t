#!/usr/bin/perl
# How Net::ZooKeeper::Watch::wait() waits (spec 3.15, 8.1, 11.3): it burns no
# CPU while it waits, it returns once its timeout has passed (the bounds below
# only catch hangs), and Perl signal handlers run while it blocks: a handler
# that dies leaves wait() long before its timeout, and a handler that makes the
# watched node change lets the same wait() return true.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(unused_local_host delete_tree);
use Net::ZooKeeper qw(:errors :acls :events :states);

# A generous bound: only there to catch a wait() that does not return.
my $HANG = 5;

sub cpu { my @t = times; return $t[0] + $t[1] }

# Runs $w->wait(@args); returns (result, elapsed seconds, CPU seconds used).
sub timed_wait {
    my ($w, @args) = @_;
    my ($t0, $c0) = (Time::HiRes::time(), cpu());
    my $r = $w->wait(@args);
    return ($r, Time::HiRes::time() - $t0, cpu() - $c0);
}

## Without a server: watches that were never assigned, or assigned on a
## handle that cannot connect.

my $nowhere = Net::ZooKeeper->new(unused_local_host());
isa_ok($nowhere, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

{
    my $w = $nowhere->watch(timeout => 200);
    my ($r, $elapsed) = timed_wait($w);
    ok(!$r, 'wait() with the watch\'s 200 ms timeout returns false when nothing happens');
    cmp_ok($elapsed, '<', $HANG, '... and returns (does not hang)');

    ($r, $elapsed) = timed_wait($w, timeout => 200);
    ok(!$r, 'wait(timeout => 200) returns false');
    cmp_ok($elapsed, '<', $HANG, '... and returns (does not hang)');

    ($r, $elapsed) = timed_wait($w, timeout => 0);
    ok(!$r, 'wait(timeout => 0) returns false');
    cmp_ok($elapsed, '<', $HANG, '... and returns (does not hang)');

    ok(!$nowhere->exists('/', watch => $w), 'exists with a watch fails when no server accepts connections');
    ($r, $elapsed) = timed_wait($w, timeout => 200);
    ok(!$r, 'wait(timeout => 200) on a watch whose call failed returns false');
    cmp_ok($elapsed, '<', $HANG, '... and returns (does not hang)');

    my $cpu;
    ($r, $elapsed, $cpu) = timed_wait($w, timeout => 1000);
    ok(!$r, 'wait(timeout => 1000) returns false when nothing happens');
    cmp_ok($cpu, '<', 0.2, 'a 1 s wait uses (almost) no CPU');
}

{
    my $w = $nowhere->watch(timeout => 60000);
    local $SIG{ALRM} = sub { die "alarm\n" };
    my $t0 = Time::HiRes::time();
    alarm 1;
    my $returned = eval { $w->wait(); 1 };
    alarm 0;
    my $elapsed = Time::HiRes::time() - $t0;
    ok(!$returned, 'a die in an alarm handler interrupts wait()');
    is($@, "alarm\n", '... with the handler\'s exception');
    cmp_ok($elapsed, '<', 30, '... long before the wait\'s 60 s timeout');
    is($w->{timeout}, 60000, 'the interrupted watch keeps its timeout');
    ok(!$w->wait(timeout => 0), 'the interrupted watch can be waited on again');
}

## With a server

SKIP: {
    my $hosts = ZKTest::require_server(1);
    my $root  = ZKTest::test_root();

    my $zkh   = Net::ZooKeeper->new($hosts);
    my $other = Net::ZooKeeper->new($hosts);
    is($zkh->create($root, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

    # Waiting on a watch armed on a live connection.
    my $w = $zkh->watch(timeout => 200);
    ok($zkh->exists($root, watch => $w), 'a watch armed on the test node');
    my ($r, $elapsed, $cpu) = timed_wait($w);
    ok(!$r, 'wait() on an armed watch returns false when nothing happens');
    cmp_ok($elapsed, '<', $HANG, '... and returns (does not hang)');
    ($r, $elapsed, $cpu) = timed_wait($w, timeout => 1000);
    ok(!$r, 'wait(timeout => 1000) on an armed watch returns false when nothing happens');
    cmp_ok($cpu, '<', 0.2, 'a 1 s wait on an armed watch uses (almost) no CPU');

    # A dying handler interrupts the wait; the watch still fires afterwards.
    {
        local $SIG{ALRM} = sub { die "alarm\n" };
        my $t0 = Time::HiRes::time();
        alarm 1;
        my $returned = eval { $w->wait(timeout => 60000); 1 };
        alarm 0;
        my $t = Time::HiRes::time() - $t0;
        ok(!$returned, 'a die in an alarm handler interrupts wait() on an armed watch');
        is($@, "alarm\n", '... with the handler\'s exception');
        cmp_ok($t, '<', 30, '... long before the wait\'s 60 s timeout');
    }
    is($w->{event}, 0, 'the interrupted watch has not fired');
    ok($other->set($root, 'b'), 'the watched node changes');
    ok($w->wait(timeout => 10000), 'the interrupted watch still fires');
    is($w->{event}, ZOO_CHANGED_EVENT, '... with ZOO_CHANGED_EVENT');

    # A handler that runs during the wait and changes the watched node: the
    # wait can only return true if the handler ran while it was blocked.
    {
        my $w2 = $zkh->watch(timeout => 30000);
        ok($zkh->exists($root, watch => $w2), 'a watch armed on the test node');
        my $ran = 0;
        local $SIG{ALRM} = sub { $ran++; $other->set($root, 'c') };
        my $t0 = Time::HiRes::time();
        alarm 1;
        my $fired = $w2->wait();
        alarm 0;
        my $t = Time::HiRes::time() - $t0;
        is($ran, 1, 'the alarm handler ran');
        ok($fired, 'wait() returns true: the handler ran while wait() blocked, and its change fired the watch');
        is($w2->{event}, ZOO_CHANGED_EVENT, '... with ZOO_CHANGED_EVENT');
        cmp_ok($t, '<', 20, '... long before the wait\'s 30 s timeout');
        is($zkh->get($root), 'c', 'the handler\'s change was made');
    }

    # A handled signal is not an event.
    {
        my $w3 = $zkh->watch(timeout => 1500);
        ok($zkh->exists($root, watch => $w3), 'a watch armed on the test node');
        my $ran = 0;
        local $SIG{ALRM} = sub { $ran++ };
        alarm 1;
        my $fired = $w3->wait();
        alarm 0;
        is($ran, 1, 'an alarm handler that does not die ran');
        ok(!$fired, 'the handled signal does not make wait() return true');
        is($w3->{event}, 0, '... and the watch has event 0');
    }

    # A watch whose handle is gone.
    {
        my $h = Net::ZooKeeper->new($hosts);
        my $w4 = $h->watch(timeout => 200);
        ok($h->exists($root, watch => $w4), 'a watch armed on another handle');
        ok($h->DESTROY, 'that handle is destroyed');
        my ($r4, $t4) = timed_wait($w4);
        ok(!$r4, 'wait() on a watch of a destroyed handle returns false');
        cmp_ok($t4, '<', $HANG, '... and returns (does not hang)');
    }

    ok(delete_tree($zkh, $root), 'delete the test nodes');
    ok($zkh->DESTROY, 'DESTROY the handle');
    ok($other->DESTROY, 'DESTROY the other handle');
}

ok($nowhere->DESTROY, 'DESTROY the handle without a server');

done_testing();
