#!/usr/bin/perl
# A long run: 1,000,000 operations (a mix of get, set and exists on a few
# nodes) on one handle.  Every call must succeed, and the process must not
# grow: its resident set size (VmRSS from /proc/self/status) at the end may
# exceed the size after a warm-up by less than 10 MB.  Prints the rate
# (operations per second) and the RSS figures.
#
# ZK_LONG_OPS overrides the number of operations.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/../t/lib";
use Time::HiRes ();

use ZKTest;
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';

plan skip_all => 'reads VmRSS from /proc/self/status (Linux only)' unless -r '/proc/self/status';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $OPS   = $ENV{ZK_LONG_OPS} || 1_000_000;
my $WARMUP = 20_000;
my $MAX_GROWTH_KB = 10 * 1024;

sub rss_kb {
    open my $fh, '<', '/proc/self/status' or die "cannot read /proc/self/status: $!";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    die 'no VmRSS in /proc/self/status';
}

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my @nodes = map { "$root/n$_" } 1 .. 4;
my $made = grep { defined $zkh->create($_, 'v', acl => ZOO_OPEN_ACL_UNSAFE) } @nodes;
is($made, scalar @nodes, 'create ' . @nodes . ' nodes');

my $stat = $zkh->stat;
my (%failed, $bad_data);
my $i = 0;
# One operation: get (with a stat), set or exists, round robin over the nodes.
my $op = sub {
    my $node = $nodes[ $i % @nodes ];
    my $kind = $i % 3;
    my $ok;
    if ($kind == 0) {
        my $d = $zkh->get($node, stat => $stat);
        $ok = defined $d;
        $bad_data++ if $ok && $d !~ /^v\d*\z/;
    }
    elsif ($kind == 1) {
        $ok = $zkh->set($node, "v$i");
    }
    else {
        $ok = $zkh->exists($node, stat => $stat);
    }
    $failed{ $zkh->get_error }++ unless $ok;
    $i++;
};

$op->() for 1 .. $WARMUP;
my $rss_start = rss_kb();
my $t0 = Time::HiRes::time();
my $next_report = $t0 + 60;
my $count = 0;
while ($count < $OPS) {
    $op->();
    $count++;
    if (($count & 0xffff) == 0 && Time::HiRes::time() > $next_report) {
        diag(sprintf '%d operations, %.0f ops/s, VmRSS %d kB', $count,
             $count / (Time::HiRes::time() - $t0), rss_kb());
        $next_report += 60;
    }
}
my $elapsed = Time::HiRes::time() - $t0;
my $rss_end = rss_kb();

diag(sprintf '%d operations in %.1f s: %.0f ops/s', $count, $elapsed, $count / $elapsed);
diag(sprintf 'VmRSS after %d warm-up operations: %d kB; at the end: %d kB; growth %+d kB',
     $WARMUP, $rss_start, $rss_end, $rss_end - $rss_start);

is_deeply(\%failed, {}, "all $OPS operations succeed") or diag(explain \%failed);
ok(!$bad_data, 'get always returns data that was written');
cmp_ok($rss_end - $rss_start, '<', $MAX_GROWTH_KB,
       "VmRSS grows by less than @{[ $MAX_GROWTH_KB / 1024 ]} MB over $OPS operations");

my $deleted = grep { $zkh->delete($_) } @nodes;
is($deleted, scalar @nodes, 'delete the nodes');
ok($zkh->delete($root), 'delete the test node');
ok($zkh->DESTROY, 'DESTROY the handle');

done_testing();
