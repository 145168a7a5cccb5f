#!/usr/bin/perl
# A long run: 10,000 handle cycles - new(), a few calls (an ephemeral node
# created, read with a watch armed, a stat filled), DESTROY - one after the
# other.  Every cycle must work, the process must not grow (VmRSS at the end
# exceeds the size after a warm-up by less than 10 MB) and its thread count
# must stay what it was (the runtime's threads are shared and reused: at most
# the interpreter, 2 workers and 1 blocking-pool thread).  Prints the RSS and
# thread figures and the cycle rate.
#
# ZK_HANDLE_CYCLES overrides the number of cycles.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/../t/lib";
use Time::HiRes ();

use ZKTest;
use Net::ZooKeeper qw(:errors :acls :node_flags);

$SIG{PIPE} = 'IGNORE';

plan skip_all => 'reads /proc/self/status and /proc/self/task (Linux only)'
    unless -r '/proc/self/status' && -d '/proc/self/task';

my $hosts  = ZKTest::server_hosts();
my $root   = ZKTest::test_root();
my $CYCLES = $ENV{ZK_HANDLE_CYCLES} || 10_000;
my $WARMUP = 200;
my $MAX_GROWTH_KB = 10 * 1024;
my $MAX_THREADS = 1 + 2 + 1;

sub rss_kb {
    open my $fh, '<', '/proc/self/status' or die "cannot read /proc/self/status: $!";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    die 'no VmRSS in /proc/self/status';
}

sub threads {
    opendir(my $dh, '/proc/self/task') or die "cannot read /proc/self/task: $!";
    return scalar grep { /^\d+$/ } readdir $dh;
}

my $setup = Net::ZooKeeper->new($hosts);
is($setup->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

my (%failed, $n);
sub cycle {
    my ($i) = @_;
    my $zkh = Net::ZooKeeper->new($hosts, session_timeout => 10000);
    unless ($zkh) { $failed{"new: $!"}++; return }
    my $node = "$root/e" . ($i % 8);
    my $w = $zkh->watch(timeout => 10);
    my $stat = $zkh->stat;
    my @steps = (
        [ create => sub { defined $zkh->create($node, "d$i", flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE) } ],
        [ get    => sub { my $d = $zkh->get($node, watch => $w, stat => $stat); defined $d && $d eq "d$i" } ],
        [ owner  => sub { $stat->{ephemeral_owner} ne '0' } ],
        [ pending => sub { $zkh->{pending_watches} == 1 } ],
        [ DESTROY => sub { $zkh->DESTROY } ],
    );
    for my $s (@steps) {
        my ($name, $code) = @$s;
        next if $code->();
        $failed{"$name: " . (eval { $zkh->get_error } // 'destroyed')}++;
        return;
    }
    $n++;
}

cycle($_) for 1 .. $WARMUP;
my ($rss_start, $threads_start) = (rss_kb(), threads());
my $t0 = Time::HiRes::time();
$n = 0;
cycle($_) for 1 .. $CYCLES;
my $elapsed = Time::HiRes::time() - $t0;
my ($rss_end, $threads_end) = (rss_kb(), threads());

diag(sprintf '%d handle cycles in %.1f s: %.0f cycles/s', $CYCLES, $elapsed, $CYCLES / $elapsed);
diag(sprintf 'VmRSS after %d warm-up cycles: %d kB; at the end: %d kB; growth %+d kB',
     $WARMUP, $rss_start, $rss_end, $rss_end - $rss_start);
diag("threads after the warm-up: $threads_start; at the end: $threads_end");

is($n, $CYCLES, "all $CYCLES handle cycles work") or diag(explain \%failed);
cmp_ok($rss_end - $rss_start, '<', $MAX_GROWTH_KB,
       "VmRSS grows by less than @{[ $MAX_GROWTH_KB / 1024 ]} MB over $CYCLES handle cycles");
is($threads_end, $threads_start, 'the thread count at the end is the count after the warm-up');
cmp_ok($threads_end, '<=', $MAX_THREADS, "the process has at most $MAX_THREADS threads");

is(scalar($setup->get_children($root)), 0, 'every destroyed handle took its ephemeral node along');
ok($setup->delete($root), 'delete the test node');
ok($setup->DESTROY, 'DESTROY the setup handle');

done_testing();
