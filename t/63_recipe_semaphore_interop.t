#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Semaphore side by side with the real libraries:
# Curator's InterProcessSemaphoreV2 (t/lib/ZKTest/interop/CuratorSemaphore.java)
# and kazoo's Semaphore (t/lib/ZKTest/interop/kazoo_semaphore.py), see
# t/lib/ZKTest/Interop.pm.  A library that is missing skips its tests, and
# fails them under CI.
#
# Two Perl and two foreign holders share a semaphore of 2 leases for 50
# rounds each.  Every holder keeps an ephemeral marker node while it holds a
# lease and counts the markers: more than 2 means exclusion broke.  This
# process watches the markers and the lease nodes all along as well.
# Holders start together ("ready", then "go"); every wait is bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use Net::ZooKeeper qw(:errors :acls :node_flags);
use Net::ZooKeeper::Recipe::Semaphore;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my $MAX    = 2;
my $ROUNDS = 50;    # per holder

my %NAME = (
    curator => qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-lease-\d{10}\z/,
    kazoo   => qr/\A[0-9a-f]{32}\z/,
);
my %LEASES = (curator => sub { "$_[0]/leases" }, kazoo => sub { $_[0] });

# A Perl holder in a child process with its own session, doing what the
# helpers do (ready, go, rounds with a marker, "done N most M over V").
sub perl_holder {
    my ($layout, $path, $markers, $id) = @_;
    return ZKTest::Interop::perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        my $s = Net::ZooKeeper::Recipe::Semaphore->new(
            handle => $h, path => $path, layout => $layout, max_leases => $MAX, identifier => $id);
        $say->('ready');
        $next_line->() eq 'go' or die "expected go\n";
        my ($most, $over) = (0, 0);
        for my $round (1 .. $ROUNDS) {
            $s->acquire(timeout => 30) or die "lease timeout in round $round\n";
            $h->create("$markers/$id", '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE)
                or die "marker: " . $h->get_error . "\n";
            # Hold for a while (a few round trips) so that holds overlap.
            for (1 .. 3) {
                my $n = () = $h->get_children($markers);
                $most = $n if $n > $most;
                $over++ if $n > $MAX;
                select(undef, undef, undef, 0.005);
            }
            $h->delete("$markers/$id") or die "marker delete: " . $h->get_error . "\n";
            $s->release or die "lease lost in round $round\n";
        }
        $say->("done $ROUNDS most $most over $over");
    });
}

# Runs 2 Perl and 2 foreign holders on one semaphore and checks that never
# more than $MAX held at once.  15 tests.
sub contend {
    my ($lib, $layout, $start) = @_;
    my $path = "$root/$lib-sem";
    my $markers = "$root/$lib-holders";
    my $leases = $LEASES{$layout}->($path);
    ok($zkh->create($markers, '', acl => ZOO_OPEN_ACL_UNSAFE), "$lib: markers node");
    my @holders = (
        (map { $start->($path, $markers, "$lib$_") } 1 .. 2),
        (map { perl_holder($layout, $path, $markers, "perl$_") } 1 .. 2),
    );
    my @who = ("$lib 1", "$lib 2", 'Perl 1', 'Perl 2');
    is($holders[$_]->line(60), 'ready', "$who[$_] ready") for 0 .. $#holders;
    $_->say('go') for @holders;
    my %names;
    my ($most_markers, $most_leases, $mixed) = (0, 0, 0);
    my %result = %{ ZKTest::Interop::watch_answers($zkh, $markers, \@holders, sub {
        my @m = @_;
        my @l = $zkh->get_children($leases);
        $names{$_} = 1 for @l;
        $most_markers = @m if @m > $most_markers;
        $mixed++ if grep({ /\Aperl/ } @m) && grep({ /\A\Q$lib\E/ } @m);
        $most_leases = @l if @l > $most_leases;
    }) };
    is(scalar(grep { !exists $result{$_} } @holders), 0, "$lib: every holder finished");
    my $most = 0;
    for my $i (0 .. $#holders) {
        my $r = $result{ $holders[$i] } // 'no answer';
        my ($done, $m, $over) = $r =~ /\Adone (\d+) most (\d+) over (\d+)\z/;
        is($over, 0, "$who[$i]: $ROUNDS rounds, never more than $MAX holders seen ($r)");
        $most = $m if ($m // 0) > $most;
    }
    is($most, $MAX, "$lib: $MAX holders did hold at the same time");
    ok($most_markers <= $MAX, "$lib: this process saw at most $MAX holders ($most_markers)");
    # How often this process saw both sides hold depends on how the rounds fall;
    # share() shows it for certain.
    note("$lib: a Perl and a $lib holder seen holding at the same time $mixed times");
    # Curator: the one waiter under the lock has its (not held) lease node too.
    my $allowed = $layout eq 'curator' ? $MAX + 1 : $MAX;
    ok($most_leases <= $allowed, "$lib: this process saw at most $allowed lease nodes ($most_leases)");
    my @bad = grep { $_ !~ $NAME{$layout} } sort keys %names;
    ok(keys(%names) >= 4 && !@bad, "$lib: all " . keys(%names) . " lease nodes seen in the one layout"
       . (@bad ? " (not: @bad)" : ''));
    is(scalar(() = $zkh->get_children($leases)), 0, "$lib: no lease node left");
    $_->finish for @holders;
    return $path;
}

# One lease held by the other library's holder ($one: a started helper in
# its "one" mode): a Perl holder gets the other lease, and a second one waits
# until the foreign lease is given back.  5 tests.
sub share {
    my ($lib, $layout, $path, $one) = @_;
    is($one->line(60), 'holding', "$lib: one holder takes a lease");
    my ($first, $second) = map {
        Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => $path, layout => $layout, max_leases => $MAX)
    } 1 .. 2;
    ok($first->acquire(timeout => 10), "$lib: a Perl holder gets the other lease while it holds");
    ok(!$second->acquire(timeout => 1), "$lib: a second Perl holder gets none within 1 s: the $lib lease counts");
    $one->say('release');
    is($one->line(60), 'released', "$lib: the $lib holder gives its lease back");
    ok($second->acquire(timeout => 10), "$lib: then the second Perl holder gets it");
    $_->release for $first, $second;
    $one->finish;
}

# ---- Curator's InterProcessSemaphoreV2 -----------------------------------
SKIP: {
    ZKTest::Interop::require_library(curator => 20);
    my $path = contend(curator => 'curator', sub {
        my ($p, $markers, $id) = @_;
        ZKTest::Interop->start('curator:CuratorSemaphore' => $hosts, $p, $MAX, $ROUNDS, $markers, $id);
    });
    share(curator => 'curator', $path, ZKTest::Interop->start('curator:CuratorSemaphore' => $hosts, $path, $MAX));
}

# ---- kazoo's Semaphore ---------------------------------------------------
SKIP: {
    ZKTest::Interop::require_library(kazoo => 25);
    my $path = contend(kazoo => 'kazoo', sub {
        my ($p, $markers, $id) = @_;
        ZKTest::Interop->start('kazoo:kazoo_semaphore.py' => 'hold', $hosts, $p, $MAX, $ROUNDS, $markers, $id);
    });
    is($zkh->get($path), $MAX, 'kazoo: the path holds max_leases');
    share(kazoo => 'kazoo', $path, ZKTest::Interop->start('kazoo:kazoo_semaphore.py' => 'one', $hosts, $path, $MAX));

    # The max_leases check, each way.
    my $check = ZKTest::Interop->start('kazoo:kazoo_semaphore.py' => 'check', $hosts, $path, 3);
    is($check->line(60), "mismatch Inconsistent max leases: $MAX, expected: 3",
       'kazoo refuses another max_leases on the shared path');
    $check->finish;
    my $mine = "$root/perl-made-sem";
    my $s = Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => $mine, layout => 'kazoo', max_leases => 3);
    ok($s->acquire(timeout => 10) && $s->release, 'Perl makes a kazoo semaphore with 3 leases');
    $check = ZKTest::Interop->start('kazoo:kazoo_semaphore.py' => 'check', $hosts, $mine, 3);
    is($check->line(60), 'acquired', 'kazoo agrees with the number Perl stored');
    $check->finish;
    my $two = Net::ZooKeeper::Recipe::Semaphore->new(handle => $zkh, path => $mine, layout => 'kazoo', max_leases => 2);
    ok(!eval { $two->acquire(timeout => 10); 1 } && $@ =~ /\AInconsistent max leases: 3, expected: 2 /,
       'and Perl refuses another number');
}

done_testing;
