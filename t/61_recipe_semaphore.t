#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Semaphore with Perl contenders only, in both
# layouts, max_leases 2: two holders and no third, try_acquire and the
# timeout leave no node, a release hands the lease to the waiter, the
# guard, a lease deleted by someone else or whose session expired is
# reported lost, kazoo's max_leases check, and four contending processes
# that are never more than two holders at a time.  Waiting contenders run in
# child processes that report on a pipe; every wait is bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(await_children close_session);
use Net::ZooKeeper qw(:errors :acls :events :states :create_modes :node_flags);
use Net::ZooKeeper::Recipe::Semaphore;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my @zkh   = map { Net::ZooKeeper->new($hosts) } 1 .. 3;
my $zkh   = $zkh[0];
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my %NAME = (
    curator => qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lease-\d{10}\z/,
    kazoo   => qr/\A[0-9a-f]{32}\z/,
);
# Where each layout keeps its leases and its lock.
my %LEASES = (curator => sub { "$_[0]/leases" }, kazoo => sub { $_[0] });
my %LOCK   = (curator => sub { "$_[0]/locks" },  kazoo => sub { "$_[0]-__lock__" });

for my $layout (qw(curator kazoo)) {
    my $sp = "$root/$layout/a/sem";    # parents missing: the semaphore makes them
    my ($leases, $lockp) = ($LEASES{$layout}->($sp), $LOCK{$layout}->($sp));
    my @sem = map {
        Net::ZooKeeper::Recipe::Semaphore->new(
            handle => $zkh[$_], path => $sp, layout => $layout, max_leases => 2, identifier => "id$_")
    } 0 .. 2;

    ok($sem[0]->acquire(timeout => 10), "$layout: first lease");
    ok($sem[1]->acquire(timeout => 10), "$layout: second lease");
    ok($sem[0]->is_acquired && $sem[1]->is_acquired, "$layout: both held");
    like($sem[0]->node, $NAME{$layout}, "$layout: lease node name " . $sem[0]->node);
    my @held = sort $zkh->get_children($leases);
    is_deeply(\@held, [ sort map { $_->node } @sem[0, 1] ], "$layout: two lease nodes under $leases, the holders'");
    is_deeply([ sort $sem[2]->lease_holders ], [qw(id0 id1)], "$layout: lease_holders are the identifiers");
    is(scalar(() = $zkh->get_children($lockp)), 0, "$layout: the lock at $lockp is free again");
    is($zkh->get($sp), '2', 'kazoo: the path holds max_leases') if $layout eq 'kazoo';

    ok(!$sem[2]->try_acquire, "$layout: a third try_acquire fails");
    is_deeply([ sort $zkh->get_children($leases) ], \@held, "$layout: ... and leaves no lease node");
    ok(!$sem[2]->acquire(timeout => 0.5), "$layout: a third acquire times out");
    is($sem[2]->error, ZOPERATIONTIMEOUT, "$layout: ... with ZOPERATIONTIMEOUT");
    is_deeply([ sort $zkh->get_children($leases) ], \@held, "$layout: ... and leaves no lease node");
    is(scalar(() = $zkh->get_children($lockp)), 0, "$layout: ... nor a lock node");
    eval { $sem[0]->acquire(timeout => 1) };
    like($@, qr/already holds a lease/, "$layout: a second acquire on the same object croaks");

    # A waiter in another process: it queues on the lock (and, Curator, has
    # made its lease node), and gets the lease once one is released.
    my $waiter = ZKTest::Interop::perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        my $s = Net::ZooKeeper::Recipe::Semaphore->new(handle => $h, path => $sp, layout => $layout, max_leases => 2);
        $say->('waiting');
        $s->acquire(timeout => 30) or die "timeout\n";
        $say->('held', $s->node);
        $next_line->();
        $say->($s->release ? 'released' : 'lost');
    });
    is($waiter->line(30), 'waiting', "$layout: a waiter starts");
    await_children($zkh, $lockp, 1);
    # Curator: the waiter creates its lease node once it holds the lock.
    await_children($zkh, $leases, 3) if $layout eq 'curator';
    is(scalar(() = $zkh->get_children($lockp)), 1, "$layout: the waiter holds the lock while it waits");
    is(scalar(() = $zkh->get_children($leases)), $layout eq 'curator' ? 3 : 2,
       $layout eq 'curator' ? 'curator: the waiter made its lease node, not held (3 children, 2 leases)'
                            : 'kazoo: the waiter made no lease node');
    my $gone = $sem[0]->node;
    ok($sem[0]->release, "$layout: release");
    ok(!$sem[0]->is_acquired, "$layout: not held after release");
    my $line = $waiter->line(30) // '';
    like($line, qr/\Aheld /, "$layout: the release hands the lease to the waiter");
    my ($wnode) = $line =~ /\Aheld (\S+)/;
    is_deeply([ sort $zkh->get_children($leases) ], [ sort $sem[1]->node, $wnode // 'none' ],
              "$layout: the two lease nodes are the holders'");
    ok(!$zkh->exists("$leases/$gone"), "$layout: the released node is gone");
    $waiter->say('release');
    is($waiter->line(30), 'released', "$layout: the waiter releases");
    waitpid($waiter->{pid}, 0);

    {
        my $guard = $sem[2]->guard(timeout => 10);
        ok($guard && $sem[2]->is_acquired, "$layout: guard");
    }
    ok(!$sem[2]->is_acquired, "$layout: released when the guard goes out of scope");
    is(scalar(() = $zkh->get_children($leases)), 1, "$layout: one lease node left");

    # Lost: our lease node deleted by another session.
    my $lost = 0;
    my $victim = Net::ZooKeeper::Recipe::Semaphore->new(
        handle => $zkh[2], path => $sp, layout => $layout, max_leases => 2, on_lost => sub { $lost++ });
    ok($victim->acquire(timeout => 10), "$layout: lost: acquired");
    ok($zkh->delete("$leases/" . $victim->node), "$layout: lost: another session deletes the lease node");
    $zkh[2]->exists($root);    # its event is queued once a later call returns
    ok($victim->lost, "$layout: lost: the lease is reported lost");
    ok(!$victim->is_acquired, "$layout: lost: ... and not held");
    $zkh[2]->dispatch;
    is($lost, 1, "$layout: lost: on_lost called once");
    ok(!$victim->release, "$layout: lost: release reports the loss");
    ok($sem[1]->release, "$layout: last release");
    is(scalar(() = $zkh->get_children($leases)), 0, "$layout: no lease node left");
}

# Lost: the session expires while a lease is held.  A second handle takes
# over the session (session_id) and closes it, so the first one hears that
# its session expired when it reconnects (as in t/55_recipe_lock.t).
{
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my $lost = 0;
    my $sem = Net::ZooKeeper::Recipe::Semaphore->new(
        handle => $h, path => "$root/expiry", max_leases => 2, on_lost => sub { $lost++ });
    ok($sem->acquire(timeout => 10), 'expiry: acquired');
    ok(!$sem->lost, 'expiry: not lost while the session lives');
    my $node = "$root/expiry/leases/" . $sem->node;
    # The first handle may take the session back before the second one
    # closes it: again until a third handle sees the lease node gone (bounded).
    ok(close_session($hosts, $h, $zkh, $node), 'expiry: a second handle on the same session closed it');
    # Bounded wait for the first handle to hear it: a call makes it reconnect.
    my $end = time + 20;
    until ($sem->lost || time > $end) {
        my $w = $h->watch;
        if ($h->exists($root, watch => $w)) { $w->wait(timeout => 200) }
        else { select(undef, undef, undef, 0.05) }    # a call fails at once while it reconnects
    }
    # The handle's calls fail with ZCONNECTIONLOSS until it has heard too.
    my $rc;
    until (time > $end) {
        $rc = $h->exists($root) ? ZOK : $h->get_error;
        last unless $rc == ZCONNECTIONLOSS;
        select(undef, undef, undef, 0.05);
    }
    ok($rc == ZSESSIONEXPIRED || $rc == ZINVALIDSTATE, "expiry: the session expired ($rc)");
    ok($sem->lost, 'expiry: the lease is reported lost');
    ok(!$sem->is_acquired, 'expiry: ... and not held');
    $h->dispatch;
    is($lost, 1, 'expiry: on_lost called once');
    ok(!$sem->release, 'expiry: release reports that the lease was lost');
    is(scalar(() = $zkh->get_children("$root/expiry/leases")), 0, 'expiry: the lease node went with the session');
}

# kazoo's max_leases check: the number stored in the path node must agree.
{
    my $sp = "$root/kazoo/a/sem";
    my $three = Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => $sp, layout => 'kazoo', max_leases => 3);
    ok(!eval { $three->acquire(timeout => 5); 1 }, 'kazoo: acquire with another max_leases dies');
    like($@, qr/\AInconsistent max leases: 2, expected: 3 /, "kazoo: ... with kazoo's message");
    is(scalar(() = $zkh->get_children($sp)), 0, 'kazoo: ... and leaves no lease node');
    is(scalar(() = $zkh->get_children("$sp-__lock__")), 0, 'kazoo: ... nor a lock node');
    my $other = "$root/kazoo/other";
    ok($zkh->create($other, 'not a number', acl => ZOO_OPEN_ACL_UNSAFE), 'kazoo: a path with other data');
    my $s = Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => $other, layout => 'kazoo', max_leases => 3);
    ok($s->acquire(timeout => 5), 'kazoo: data that is not a number is ignored, as kazoo does');
    is($zkh->get($other), 'not a number', 'kazoo: ... and left as it was');
    $s->release;
}

# Four processes, 25 rounds each, max_leases 2.  Each holder, while it
# holds, keeps an ephemeral marker node and counts the markers (a third
# exclusion-breaking holder would see 3); this process watches the markers
# and the lease nodes all along and records the most it saw.
my $ROUNDS = 25;
for my $layout (qw(curator kazoo)) {
    my $sp = "$root/stress-$layout";
    my $markers = "$root/stress-$layout-holders";
    ok($zkh->create($markers, '', acl => ZOO_OPEN_ACL_UNSAFE), "$layout: markers node");
    my $leases = $LEASES{$layout}->($sp);
    my @kids = map {
        my $id = $_;
        ZKTest::Interop::perl_child($hosts, sub {
            my ($h, $say, $next_line) = @_;
            my $s = Net::ZooKeeper::Recipe::Semaphore->new(
                handle => $h, path => $sp, layout => $layout, max_leases => 2, identifier => "p$id");
            $say->('ready');
            $next_line->();
            my ($most, $over) = (0, 0);
            for my $round (1 .. $ROUNDS) {
                $s->acquire(timeout => 30) or die "timeout in round $round\n";
                $h->create("$markers/p$id", '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE)
                    or die "marker: " . $h->get_error . "\n";
                # Hold for a while (a few round trips) so that holds overlap.
                for (1 .. 3) {
                    my $n = () = $h->get_children($markers);
                    $most = $n if $n > $most;
                    $over++ if $n > 2;
                    select(undef, undef, undef, 0.005);
                }
                $h->delete("$markers/p$id") or die "marker delete: " . $h->get_error . "\n";
                $s->release or die "lease lost in round $round\n";
            }
            $say->("done $ROUNDS most $most over $over");
        });
    } 1 .. 4;
    is($_->line(30), 'ready', "$layout: contender ready") for @kids;
    my ($most_markers, $most_leases) = (0, 0);
    $_->say('go') for @kids;
    my %result = %{ ZKTest::Interop::watch_answers($zkh, $markers, \@kids, sub {
        my $m = @_;
        my $l = () = $zkh->get_children($leases);
        $most_markers = $m if $m > $most_markers;
        $most_leases = $l if $l > $most_leases;
    }) };
    is(scalar(grep { !exists $result{$_} } @kids), 0, "$layout: all contenders finished");
    my $sum_most = 0;
    for my $k (@kids) {
        my ($done, $most, $over) = ($result{$k} // '') =~ /\Adone (\d+) most (\d+) over (\d+)\z/;
        is($done, $ROUNDS, "$layout: $ROUNDS rounds (" . ($result{$k} // 'no answer') . ')');
        is($over, 0, "$layout: the holder never saw more than 2 holders");
        $sum_most = $most if ($most // 0) > $sum_most;
        waitpid($k->{pid}, 0);
    }
    is($sum_most, 2, "$layout: two holders did hold at the same time (a semaphore, not a mutex)");
    ok($most_markers <= 2, "$layout: a third handle saw at most 2 holders ($most_markers)");
    # Curator: a waiter under the lock has its (not held) lease node too.
    my $allowed = $layout eq 'curator' ? 3 : 2;
    ok($most_leases <= $allowed, "$layout: a third handle saw at most $allowed lease nodes ($most_leases)");
    is(scalar(() = $zkh->get_children($leases)), 0, "$layout: no lease node left");
}

eval { Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => "$root/x", layout => 'zoo') };
like($@, qr/layout must be/, 'an unknown layout croaks');
eval { Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => "$root/x", max_leases => 0) };
like($@, qr/max_leases must be a positive integer/, 'max_leases 0 croaks');
eval { Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => "$root/x", colour => 1) };
like($@, qr/unknown option: colour/, 'an unknown option croaks');

done_testing;
