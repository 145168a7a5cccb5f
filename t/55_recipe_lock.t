#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Lock with Perl contenders only, in both layouts:
# exclusion, try_acquire, the timeout, the guard, re-entrancy (Curator
# layout), the queue order, and a lock reported lost after its session
# expired.  Waiting contenders run in child processes that report on a pipe;
# every wait is bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(await_children close_session);
use Net::ZooKeeper qw(:errors :acls :events :states);
use Net::ZooKeeper::Recipe::Lock;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
my $zkh2  = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my %NAME = (
    curator => qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-\d{10}\z/,
    kazoo   => qr/\A[0-9a-f]{32}__lock__\d{10}\z/,
);

# A child process that takes the lock (own session), says "held NODE",
# and releases it on "release".
sub waiter {
    my ($path, $layout) = @_;
    return ZKTest::Interop::perl_holder($hosts, sub {
        Net::ZooKeeper::Recipe::Lock->new(handle => $_[0], path => $path, layout => $layout);
    });
}

for my $layout (qw(curator kazoo)) {
    my $lp = "$root/$layout/a/lock";    # parents missing: the lock makes them
    my $one = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh,  path => $lp, layout => $layout, identifier => 'one');
    my $two = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh2, path => $lp, layout => $layout, identifier => 'two');

    ok(!$one->is_acquired, "$layout: not held before acquire");
    ok($one->acquire(timeout => 10), "$layout: acquire");
    ok($one->is_acquired, "$layout: is_acquired");
    like($one->node, $NAME{$layout}, "$layout: node name " . $one->node);
    is($zkh->get("$lp/" . $one->node), 'one', "$layout: node data is the identifier");
    ok(!$two->try_acquire, "$layout: try_acquire by another session fails");
    is_deeply([ $zkh->get_children($lp) ], [ $one->node ], "$layout: ... and removes its node");
    ok(!$two->acquire(timeout => 0.5), "$layout: acquire times out");
    is($two->error, ZOPERATIONTIMEOUT, "$layout: ... with ZOPERATIONTIMEOUT");
    is_deeply([ $zkh->get_children($lp) ], [ $one->node ], "$layout: ... and removes its node");

    if ($layout eq 'curator') {
        ok($one->acquire(timeout => 1), 'curator: re-entrant acquire');
        is($one->count, 2, 'curator: held twice');
        ok($one->release, 'curator: first release');
        ok($one->is_acquired && $zkh->exists("$lp/" . $one->node), 'curator: still held, node still there');
    }
    else {
        eval { $one->acquire(timeout => 1) };
        like($@, qr/not re-entrant/, 'kazoo: a second acquire croaks instead of waiting for itself');
    }
    my $node = $one->node;
    ok($one->release, "$layout: release");
    ok(!$one->is_acquired, "$layout: not held after release");
    ok(!$zkh->exists("$lp/$node"), "$layout: node deleted");
    ok($two->try_acquire, "$layout: try_acquire succeeds when free");
    $two->release;

    {
        my $guard = $one->guard(timeout => 10);
        ok($guard && $one->is_acquired, "$layout: guard holds the lock");
        ok(!$two->try_acquire, "$layout: ... against others");
    }
    ok(!$one->is_acquired, "$layout: released when the guard goes out of scope");
    is(scalar(() = $zkh->get_children($lp)), 0, "$layout: no node left");

    # Queue order: each waiter waits for the node just ahead of it.
    ok($one->acquire(timeout => 10), "$layout: held for the queue");
    my $w1 = waiter($lp, $layout);
    await_children($zkh, $lp, 2);
    my $w2 = waiter($lp, $layout);
    my @queue = $one->contenders;
    @queue = $one->contenders while @queue < 3 && await_children($zkh, $lp, 3);
    is(scalar @queue, 3, "$layout: three contenders");
    is($queue[0], $one->node, "$layout: the holder first");
    # The middle contender's node removed: the last one now waits for the
    # holder and must not take the lock.  (The middle one queues again.)
    ok($zkh->delete("$lp/$queue[1]"), "$layout: remove the middle contender's node");
    # The middle waiter watches the holder, not its own node: it queues again
    # only when the holder goes.
    is_deeply([ $one->contenders ], [ @queue[0, 2] ], "$layout: the last contender is now next");
    ok($one->release, "$layout: holder releases");
    is($w2->line(30), "held $queue[2]", "$layout: the next in line gets it");
    $w2->say('release');
    is($w2->line(30), 'released', "$layout: and releases");
    like($w1->line(30), qr/\Aheld /, "$layout: then the re-queued one");
    $w1->say('release');
    $w1->line(30);
    waitpid($_->{pid}, 0) for $w1, $w2;
}

# Lost: the session expires while the lock is held.  A second handle takes
# over the session (session_id) and closes it, so the first one hears that
# its session expired when it reconnects.
{
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my $lost = 0;
    my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $h, path => "$root/expiry", on_lost => sub { $lost++ });
    ok($lock->acquire(timeout => 10), 'expiry: acquired');
    ok(!$lock->lost, 'expiry: not lost while the session lives');
    my $w = $h->watch;
    $h->exists("$root/expiry", watch => $w);
    # The first handle may take the session back (it reconnects) before the
    # second one closes it: try again until a third handle sees the session's
    # ephemeral node gone (bounded).
    my $node = "$root/expiry/" . $lock->node;
    ok(close_session($hosts, $h, $zkh, $node), 'expiry: a second handle on the same session closed it');
    # Bounded wait for the expiry to reach the first handle.
    for (1 .. 40) {
        last if $w->{state} == ZOO_EXPIRED_SESSION_STATE;
        $w->wait(timeout => 500);
        $h->exists('/') if $w->{state} != ZOO_EXPIRED_SESSION_STATE;   # a call makes it reconnect and hear
    }
    is($w->{state}, ZOO_EXPIRED_SESSION_STATE, 'expiry: the session expired');
    ok($lock->lost, 'expiry: the lock is reported lost');
    ok(!$lock->is_acquired, 'expiry: ... and not held');
    $h->dispatch;
    is($lost, 1, 'expiry: on_lost called once');
    ok(!$lock->release, 'expiry: release reports that the lock was lost');
    ok(!$zkh->exists("$root/expiry/" . ($lock->node // 'x')), 'expiry: no node left');
    is(scalar(() = $zkh->get_children("$root/expiry")), 0, 'expiry: the ephemeral node went with the session');
}

# Lost: our node deleted by someone else (an operator, a broken client).
{
    my $lost = 0;
    my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => "$root/deleted", on_lost => sub { $lost++ });
    ok($lock->acquire(timeout => 10), 'deleted: acquired');
    ok($zkh2->delete("$root/deleted/" . $lock->node), 'deleted: another session deletes the node');
    $zkh->exists($root);    # its event is queued once a later call returns
    ok($lock->lost, 'deleted: the lock is reported lost');
    ok(!$lock->is_acquired, 'deleted: ... and not held');
    $zkh->dispatch;
    is($lost, 1, 'deleted: on_lost called once');
    ok(!$lock->release, 'deleted: release reports the loss');
}

eval { Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => "$root/x", layout => 'zoo') };
like($@, qr/layout must be/, 'an unknown layout croaks');
eval { Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => "$root/x", colour => 1) };
like($@, qr/unknown option: colour/, 'an unknown option croaks');

done_testing;
