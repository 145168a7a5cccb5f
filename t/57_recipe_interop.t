#!/usr/bin/perl
# The recipes side by side with the real libraries: Apache Curator (a Java
# helper compiled at test time) and kazoo (a Python helper), see
# t/lib/ZKTest/Interop.pm.  A library that is missing skips its tests, and
# fails them under CI.
#
# Contenders start together: each says "ready" and waits for "go".  Waits
# are on helper output lines or ZooKeeper watches, each bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(await_children);
use Net::ZooKeeper qw(:errors :acls :events);
use Net::ZooKeeper::Recipe::Lock;
use Net::ZooKeeper::Recipe::Counter;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my $N = 200;    # lock rounds and counter increments per contender

# A Perl contender in a child process with its own session; it speaks the
# helpers' protocol ("ready", wait for "go", then "done ..." lines).
sub perl_contender {
    my ($code) = @_;
    return ZKTest::Interop::perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        $say->('ready');
        $next_line->() eq 'go' or die "expected go\n";
        $say->($code->($h));
    });
}

# The counter under the lock: plain decimal data, read-modify-write.
sub bump {
    my ($h, $path) = @_;
    my $v = $h->get($path);
    defined $v or die "get $path: " . $h->get_error . "\n";
    $h->set($path, $v + 1) or die "set $path: " . $h->get_error . "\n";
}

my $UUID = qr/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

# ---- Curator's InterProcessMutex ----------------------------------------
SKIP: {
    ZKTest::Interop::require_library(curator => 14);
    my $lp = "$root/curator-lock";

    my $held = ZKTest::Interop->start(curator => 'hold', $hosts, $lp);
    is($held->line, 'held', 'Curator holds the lock');
    my @nodes = $zkh->get_children($lp);
    is(scalar @nodes, 1, 'one contender node');
    like($nodes[0], qr/\A_c_${UUID}-lock-\d{10}\z/, "Curator's node is protected: _c_<uuid>-lock-<seq> ($nodes[0])");
    is($zkh->get("$lp/$nodes[0]"), Net::ZooKeeper::Recipe::local_address(),
       "Curator's node holds the local address, as the Perl lock writes");

    my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => $lp, layout => 'curator');
    ok(!$lock->try_acquire, 'try_acquire fails while Curator holds it');
    is_deeply([ $zkh->get_children($lp) ], \@nodes, 'and leaves no node behind');
    $held->say('release');
    is($held->line, 'released', 'Curator released');
    is($held->finish, 0, 'Curator helper exited cleanly');

    ok($lock->acquire(timeout => 30), 'Perl acquires after Curator released');
    like($lock->node, qr/\A_c_${UUID}-lock-\d{10}\z/, 'Perl node in the same layout');
    my $waiter = ZKTest::Interop->start(curator => 'acquire', $hosts, $lp);
    is($waiter->line, 'waiting', 'Curator waits for the lock');
    await_children($zkh, $lp, 2);
    is(($lock->contenders)[0], $lock->node, 'Curator queues behind the Perl node');
    ok($lock->release, 'Perl releases');
    is($waiter->line, 'held', 'Curator gets the lock once the Perl node is gone');
    $waiter->say('release');
    $waiter->line;
    $waiter->finish;
}

SKIP: {
    ZKTest::Interop::require_library(curator => 5);
    my $lp = "$root/curator-contend";
    my $cp = "$root/curator-count";
    ok($zkh->create($cp, '0', acl => ZOO_OPEN_ACL_UNSAFE), 'counter node');
    my $java = ZKTest::Interop->start(curator => 'lock', $hosts, $lp, $N, $cp);
    my $perl = perl_contender(sub {
        my ($h) = @_;
        my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $h, path => $lp, layout => 'curator');
        for (1 .. $N) {
            $lock->acquire(timeout => 30) or die "lock timeout\n";
            bump($h, $cp);
            $lock->release;
        }
        "done $N";
    });
    is($java->line, 'ready', 'Curator ready');
    is($perl->line, 'ready', 'Perl ready');
    $_->say('go') for $java, $perl;
    is($java->line(60), "done $N", "Curator took the lock $N times");
    is($perl->line(60), "done $N", "Perl took the lock $N times");
    $java->finish; $perl->finish;
    is($zkh->get($cp), 2 * $N, 'no update lost under the lock: ' . 2 * $N);
}

# ---- kazoo's Lock -------------------------------------------------------
SKIP: {
    ZKTest::Interop::require_library(kazoo => 10);
    my $lp = "$root/kazoo-lock";
    my $held = ZKTest::Interop->start(kazoo => 'hold', $hosts, $lp, 'kazoo-id');
    my $line = $held->line;
    like($line, qr/\Aheld /, 'kazoo holds the lock');
    my @nodes = $zkh->get_children($lp);
    is(scalar @nodes, 1, 'one contender node');
    like($nodes[0], qr/\A[0-9a-f]{32}__lock__\d{10}\z/, "kazoo's node: <uuid hex>__lock__<seq> ($nodes[0])");
    is($zkh->get("$lp/$nodes[0]"), 'kazoo-id', "kazoo's node holds the identifier");

    my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => $lp, layout => 'kazoo', identifier => 'perl-id');
    ok(!$lock->try_acquire, 'try_acquire fails while kazoo holds it');
    $held->say('release');
    is($held->line, 'released', 'kazoo released');
    $held->finish;
    ok($lock->acquire(timeout => 30), 'Perl acquires after kazoo released');
    like($lock->node, qr/\A[0-9a-f]{32}__lock__\d{10}\z/, 'Perl node in the same layout');
    is($zkh->get("$lp/" . $lock->node), 'perl-id', 'Perl node holds the identifier');
    my $waiter = ZKTest::Interop->start(kazoo => 'acquire', $hosts, $lp);
    $waiter->line;    # "waiting"
    await_children($zkh, $lp, 2);
    $lock->release;
    like($waiter->line, qr/\Aheld /, 'kazoo gets the lock once the Perl node is gone');
    $waiter->say('release');
    $waiter->line;
    $waiter->finish;
}

SKIP: {
    ZKTest::Interop::require_library(kazoo => 5);
    my $lp = "$root/kazoo-contend";
    my $cp = "$root/kazoo-count";
    ok($zkh->create($cp, '0', acl => ZOO_OPEN_ACL_UNSAFE), 'counter node');
    my $py = ZKTest::Interop->start(kazoo => 'lock', $hosts, $lp, $N, $cp);
    my $perl = perl_contender(sub {
        my ($h) = @_;
        my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $h, path => $lp, layout => 'kazoo');
        for (1 .. $N) {
            $lock->acquire(timeout => 30) or die "lock timeout\n";
            bump($h, $cp);
            $lock->release;
        }
        "done $N";
    });
    is($py->line, 'ready', 'kazoo ready');
    is($perl->line, 'ready', 'Perl ready');
    $_->say('go') for $py, $perl;
    is($py->line(60), "done $N", "kazoo took the lock $N times");
    is($perl->line(60), "done $N", "Perl took the lock $N times");
    $py->finish; $perl->finish;
    is($zkh->get($cp), 2 * $N, 'no update lost under the lock: ' . 2 * $N);
}

# ---- Counters -----------------------------------------------------------
my @counters = (
    [ curator => 'shared_count', 'shared_count', sub { pack 'l>', $_[0] } ],
    [ curator => 'atomic_long',  'atomic_long',  sub { pack 'q>', $_[0] } ],
    [ kazoo   => 'counter',      'kazoo',        sub { "$_[0]" } ],
);
for my $c (@counters) {
    my ($lib, $mode, $format, $bytes) = @$c;
    SKIP: {
        ZKTest::Interop::require_library($lib => 7);
        my $path = "$root/counters/$format";
        my $other = ZKTest::Interop->start($lib => $mode, $hosts, $path, $N);
        is($other->line, 'ready', "$lib $mode ready");
        my $perl = perl_contender(sub {
            my ($h) = @_;
            my $counter = Net::ZooKeeper::Recipe::Counter->new(handle => $h, path => $path, format => $format);
            $counter->increment for 1 .. $N;
            "done $N";
        });
        is($perl->line, 'ready', 'Perl ready');
        $_->say('go') for $other, $perl;
        like($other->line(60), qr/\Adone $N\b/, "$lib $mode: $N increments");
        is($perl->line(60), "done $N", "Perl $format: $N increments");
        $perl->finish;
        $other->say('read');
        is($other->line, 'value ' . 2 * $N, "$lib reads the sum");
        $other->finish;
        my $counter = Net::ZooKeeper::Recipe::Counter->new(handle => $zkh, path => $path, format => $format);
        is($counter->value, 2 * $N, 'Perl reads the sum');
        is($zkh->get($path), $bytes->(2 * $N), "the node holds $lib\'s bytes");
    }
}

done_testing;
