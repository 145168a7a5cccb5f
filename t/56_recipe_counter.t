#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Counter: the three formats' bytes exactly as kazoo
# and Curator write them, node creation as each library does, try_set, and
# compare-and-set retries under concurrency (a child process with its own
# session increments at the same time).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use Net::ZooKeeper qw(:errors :acls);
use Net::ZooKeeper::Recipe::Counter;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my %BYTES = (
    kazoo        => sub { "$_[0]" },
    shared_count => sub { pack 'l>', $_[0] },
    atomic_long  => sub { pack 'q>', $_[0] },
);

sub counter { Net::ZooKeeper::Recipe::Counter->new(handle => $zkh, @_) }

for my $format (sort keys %BYTES) {
    my $path = "$root/$format/c";    # parent missing
    my $c = counter(path => $path, format => $format);
    is($c->value, 0, "$format: a new counter reads 0");
    if ($format eq 'kazoo') {
        is($zkh->get($path), '', 'kazoo: made by ensure_path, with empty data');
    }
    elsif ($format eq 'shared_count') {
        is($zkh->get($path), pack('l>', 0), 'shared_count: made with the seed value, 4 bytes');
    }
    else {
        ok(!$zkh->exists($path), 'atomic_long: reading does not make the node');
    }
    is($c->increment, 1, "$format: increment returns the new value");
    is($c->add(41), 42, "$format: add");
    is($c->decrement, 41, "$format: decrement");
    is($zkh->get($path), $BYTES{$format}->(41), "$format: stored as the library stores it");
    is($c->set(-7), -7, "$format: set a negative value");
    is($zkh->get($path), $BYTES{$format}->(-7), "$format: negative stored as the library stores it");
    ok($c->try_set(-7, 5), "$format: try_set with the right expected value");
    ok(!$c->try_set(-7, 6), "$format: try_set with a stale expected value fails");
    my $vv = $c->versioned_value;
    ok(counter(path => $path, format => $format)->increment, "$format: someone else writes");
    ok(!$c->try_set($vv, 100), "$format: try_set with a stale version fails (trySetCount)");
    is($c->value, 6, "$format: the other write stands");
    $vv = $c->versioned_value;
    ok($c->try_set($vv, 100), "$format: try_set with the current version");
    is($c->value, 100, "$format: value after try_set");
}

{
    ok($zkh->create("$root/kz", '17', acl => ZOO_OPEN_ACL_UNSAFE), 'a kazoo counter written by kazoo');
    is(counter(path => "$root/kz", format => 'kazoo', default => 5)->value, 17, 'kazoo: decimal data read');
    ok($zkh->create("$root/kz-empty", '', acl => ZOO_OPEN_ACL_UNSAFE), 'an empty node');
    is(counter(path => "$root/kz-empty", format => 'kazoo', default => 5)->value, 5, 'kazoo: empty data reads as the default');
    my $sc = counter(path => "$root/sc-seed", format => 'shared_count', default => 9);
    is($sc->value, 9, 'shared_count: seeded with the default');
    is($zkh->get("$root/sc-seed"), pack('l>', 9), 'shared_count: seed bytes');
    ok($zkh->create("$root/bad", 'xyz', acl => ZOO_OPEN_ACL_UNSAFE), 'a node with other data');
    eval { counter(path => "$root/bad", format => 'shared_count')->value };
    like($@, qr/holds no shared_count value/, 'foreign data croaks, it is not read as a number');
    eval { counter(path => "$root/x", format => 'shared_count')->set(2**31) };
    like($@, qr/not an integer in range/, 'shared_count: out of 32-bit range croaks');
}

# Concurrency: two sessions increment one counter at once; CAS retries make
# the total exact.
my $N = 300;
for my $format (sort keys %BYTES) {
    my $path = "$root/race-$format";
    pipe(my $rd, my $wr) or die "pipe: $!";
    pipe(my $grd, my $gwr) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $rd; close $gwr;
        my $h = Net::ZooKeeper->new($hosts);
        my $c = Net::ZooKeeper::Recipe::Counter->new(handle => $h, path => $path, format => $format);
        $c->value;
        syswrite $wr, "ready\n";
        sysread $grd, my $go, 3;
        my $ok = eval { $c->increment for 1 .. $N; 1 };
        POSIX::_exit($ok ? 0 : 1);
    }
    close $wr; close $grd;
    my $c = counter(path => $path, format => $format);
    is(scalar(<$rd>), "ready\n", "$format: the other session is ready");
    syswrite $gwr, "go\n";
    my $max = 0;
    for (1 .. $N) { my $v = $c->increment; $max = $v if $v > $max }
    waitpid($pid, 0);
    is($?, 0, "$format: the other session's $N increments succeeded");
    is($c->value, 2 * $N, "$format: no increment lost: " . 2 * $N);
    is($zkh->get($path), $BYTES{$format}->(2 * $N), "$format: stored bytes");
}

eval { counter(path => "$root/x", format => 'float') };
like($@, qr/format must be/, 'an unknown format croaks');

done_testing;
