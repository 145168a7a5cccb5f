#!/usr/bin/perl
# Net::ZooKeeper::Recipe::ReadWriteLock with Perl contenders only, in both
# layouts: readers share, a writer excludes readers and writers, a waiting
# writer keeps later readers out, try_acquire, the timeout, the guard,
# Curator's downgrade and kazoo's refusal of it, and both sides reported
# lost after their session expired.  A waiting writer runs in a child
# process that reports on a pipe; every wait is bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(await_children close_session);
use Net::ZooKeeper qw(:errors :acls :events :states);
use Net::ZooKeeper::Recipe::ReadWriteLock;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
my $zkh2  = Net::ZooKeeper->new($hosts);
my $zkh3  = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my $UUID = qr/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;
my %NAME = (
    curator => { read => qr/\A_c_${UUID}-__READ__\d{10}\z/, write => qr/\A_c_${UUID}-__WRIT__\d{10}\z/ },
    kazoo   => { read => qr/\A[0-9a-f]{32}__rlock__\d{10}\z/, write => qr/\A[0-9a-f]{32}__lock__\d{10}\z/ },
);

sub rw {
    my ($h, $path, $layout, %o) = @_;
    return Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $h, path => $path, layout => $layout, %o);
}

# A child process that takes one side (own session), says "held NODE", and
# releases it on "release".
sub contender {
    my ($path, $layout, $kind) = @_;
    return ZKTest::Interop::perl_holder($hosts, sub {
        my $rw = rw($_[0], $path, $layout);
        $kind eq 'read' ? $rw->read_lock : $rw->write_lock;
    });
}

for my $layout (qw(curator kazoo)) {
    my $lp = "$root/$layout/a/rw";    # parents missing: the lock makes them
    my $rw1 = rw($zkh,  $lp, $layout, identifier => 'one');
    my $rw2 = rw($zkh2, $lp, $layout, identifier => 'two');
    my $rw3 = rw($zkh3, $lp, $layout, identifier => 'three');
    my ($r1, $r2, $r3) = map { $_->read_lock } $rw1, $rw2, $rw3;
    my ($w1, $w2, $w3) = map { $_->write_lock } $rw1, $rw2, $rw3;
    is($rw1->read_lock, $r1, "$layout: read_lock is the same object every time");
    is($r1->kind . '/' . $w1->kind, 'read/write', "$layout: kinds");

    # Readers share.
    ok($r1->acquire(timeout => 10), "$layout: reader 1 acquires");
    ok($r2->acquire(timeout => 10), "$layout: reader 2 acquires while reader 1 holds");
    ok($r3->try_acquire, "$layout: reader 3 too (try_acquire)");
    ok($r1->is_acquired && $r2->is_acquired && $r3->is_acquired, "$layout: three readers hold at once");
    like($r1->node, $NAME{$layout}{read}, "$layout: read node name " . $r1->node);
    is($zkh->get("$lp/" . $r2->node), 'two', "$layout: node data is the identifier");
    ok(!$w1->try_acquire, "$layout: a writer can not take it from readers (try_acquire)");
    ok(!$w2->acquire(timeout => 0.5), "$layout: a writer's acquire times out");
    is($w2->error, ZOPERATIONTIMEOUT, "$layout: ... with ZOPERATIONTIMEOUT");
    is(scalar(() = $zkh->get_children($lp)), 3, "$layout: ... and the writers removed their nodes");
    ok($r1->release && $r2->release, "$layout: two readers release");
    ok(!$w1->try_acquire, "$layout: one reader still keeps writers out");
    ok($r3->release, "$layout: the last reader releases");

    # A writer excludes readers and writers.
    ok($w1->acquire(timeout => 10), "$layout: writer acquires once the readers are gone");
    like($w1->node, $NAME{$layout}{write}, "$layout: write node name " . $w1->node);
    ok(!$r2->try_acquire, "$layout: a reader can not join a writer");
    ok(!$r2->acquire(timeout => 0.5), "$layout: a reader's acquire times out");
    is($r2->error, ZOPERATIONTIMEOUT, "$layout: ... with ZOPERATIONTIMEOUT");
    ok(!$w2->try_acquire, "$layout: another writer can not either");
    is_deeply([ $zkh->get_children($lp) ], [ $w1->node ], "$layout: only the writer's node is left");

    # Curator: the write lock's holder takes the read lock at once
    # (downgrade); kazoo refuses what would wait for itself.
    if ($layout eq 'curator') {
        ok($r1->acquire(timeout => 1), 'curator: the writer takes the read lock too');
        is(($r1->contenders)[1], $r1->node, 'curator: its read node is behind its write node');
        ok($w1->release, 'curator: releases the write lock (downgrade)');
        ok($r1->is_acquired, 'curator: still reading');
        ok($r2->try_acquire, 'curator: other readers join');
        ok(!$w2->try_acquire, 'curator: writers do not');
        ok($r1->release && $r2->release, 'curator: readers release');
    }
    else {
        eval { $r1->acquire(timeout => 1) };
        like($@, qr/would wait for it/, 'kazoo: the read lock while the write lock is held croaks');
        is_deeply([ $zkh->get_children($lp) ], [ $w1->node ], 'kazoo: ... leaving no node');
        ok($w1->release, 'kazoo: writer releases');
    }
    is(scalar(() = $zkh->get_children($lp)), 0, "$layout: no node left");

    # A waiting writer keeps later readers out, and gets the lock before them.
    ok($r1->acquire(timeout => 10), "$layout: reader 1 holds");
    my $writer = contender($lp, $layout, 'write');
    await_children($zkh, $lp, 2);
    ok(!$r2->try_acquire, "$layout: a later reader waits for the waiting writer (try_acquire)");
    my @queue = $r1->contenders;
    is(scalar @queue, 2, "$layout: reader and waiting writer queued");
    like($queue[1], $NAME{$layout}{write}, "$layout: the writer after the reader");
    my $reader = contender($lp, $layout, 'read');
    await_children($zkh, $lp, 3);
    ok($r1->release, "$layout: reader 1 releases");
    like($writer->line(30), qr/\Aheld \Q$queue[1]\E\z/, "$layout: the waiting writer gets it");
    ok(!$r2->try_acquire, "$layout: readers still wait");
    $writer->say('release');
    is($writer->line(30), 'released', "$layout: the writer releases");
    like($reader->line(30), qr/\Aheld /, "$layout: then the reader that queued behind it");
    ok($r2->try_acquire, "$layout: and other readers join it");
    $reader->say('release');
    $reader->line(30);
    $r2->release;
    waitpid($_->{pid}, 0) for $writer, $reader;

    # The guard.
    {
        my $guard = $w3->guard(timeout => 10);
        ok($guard && $w3->is_acquired, "$layout: a guard holds the write lock");
        ok(!$r1->try_acquire, "$layout: ... against readers");
    }
    ok(!$w3->is_acquired, "$layout: released when the guard goes out of scope");
    {
        my $guard = $r3->guard(timeout => 10);
        ok($guard && $r3->is_acquired, "$layout: a guard holds the read lock");
        ok(!$w1->try_acquire, "$layout: ... against writers");
    }
    ok(!$r3->is_acquired, "$layout: released when the guard goes out of scope");
    is(scalar(() = $zkh->get_children($lp)), 0, "$layout: no node left");
}

# Lost: the session expires while a read lock (curator layout) and a write
# lock (kazoo layout) are held.  A second handle takes over the session
# (session_id) and closes it, so the first one hears that its session
# expired when it reconnects (as in t/55_recipe_lock.t).
{
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my @lost;
    my $r = rw($h, "$root/expiry-c", 'curator', on_lost => sub { push @lost, $_[0]->kind })->read_lock;
    my $w = rw($h, "$root/expiry-k", 'kazoo',   on_lost => sub { push @lost, $_[0]->kind })->write_lock;
    ok($r->acquire(timeout => 10) && $w->acquire(timeout => 10), 'expiry: read and write lock held');
    ok(!$r->lost && !$w->lost, 'expiry: not lost while the session lives');
    my $node = "$root/expiry-k/" . $w->node;
    # The first handle may take the session back before the second one
    # closes it: again until a third handle sees the node gone (bounded).
    ok(close_session($hosts, $h, $zkh, $node), 'expiry: a second handle on the same session closed it');
    # Bounded wait for the first handle to hear it: a call makes it reconnect.
    my $end = time + 20;
    until (($r->lost && $w->lost) || time > $end) {
        my $watch = $h->watch;
        if ($h->exists($root, watch => $watch)) { $watch->wait(timeout => 200) }
        else { select(undef, undef, undef, 0.05) }    # a call fails at once while it reconnects
    }
    ok($r->lost, 'expiry: the read lock is reported lost');
    ok($w->lost, 'expiry: the write lock is reported lost');
    ok(!$r->is_acquired && !$w->is_acquired, 'expiry: ... and neither is held');
    $h->dispatch;
    is_deeply([ sort @lost ], [qw(read write)], 'expiry: on_lost called once for each');
    ok(!$r->release && !$w->release, 'expiry: release reports the loss');
    is(scalar(() = $zkh->get_children("$root/expiry-$_")), 0, "expiry: $_: the node went with the session") for qw(c k);
}

eval { Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $zkh, path => "$root/x", layout => 'zoo') };
like($@, qr/\ANet::ZooKeeper::Recipe::ReadWriteLock->new: layout must be/, 'an unknown layout croaks');
eval { Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $zkh, path => "$root/x", colour => 1) };
like($@, qr/unknown option: colour/, 'an unknown option croaks');
eval { Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $zkh, path => 'rw') };
like($@, qr/path must be/, 'a relative path croaks');

done_testing;
