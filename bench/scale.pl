#!/usr/bin/perl

# OS threads and resident memory with 1, 10, 100 and 1,000 handles open, each
# used once (exists('/')), for whichever Net::ZooKeeper comes first on @INC.
# See bench/README.md.
#
#   perl -Mblib bench/scale.pl [--hosts H] [--levels 1,10,100,1000]
#
# Prints a baseline line (module loaded, no handle yet), then per level:
#   handles=N threads=T runtime_threads=R rss_kb=X rss_per_handle_kb=Y
# where threads counts /proc/self/task, runtime_threads the threads other than
# the interpreter's, rss_kb is VmRSS from /proc/self/status, and
# rss_per_handle_kb the RSS increment per handle since the previous level.
# Then the targets: at most 4 runtime threads and 10 KB of RSS per handle
# (the increment from the first to the last level).

use strict;
use warnings;

use FindBin ();
use Getopt::Long ();
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

use Net::ZooKeeper ();

my %opt = (levels => '1,10,100,1000', 'session-timeout' => 30000);
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'levels=s', 'session-timeout=i')
    or die "usage: perl -Mblib $0 [--hosts H] [--levels 1,10,100,1000]\n";
my @levels = sort { $a <=> $b } grep { /^\d+$/ && $_ > 0 } split /,/, $opt{levels};
die "no levels\n" unless @levels;

my $server;
my $hosts = $opt{hosts} // $ENV{ZK_TEST_HOSTS};
if (!defined $hosts || $hosts !~ /\S/) {
    require lib;
    lib->import("$FindBin::Bin/../t/lib", 't/lib');
    require ZKTest::Server;
    $server = eval { ZKTest::Server->start }
        or die "no ZooKeeper server available: "
        . ($@ || do { no warnings 'once'; $ZKTest::Server::ERROR }) . "\n";
    $hosts = $server->hosts;
}

sub rss_kb {
    open my $fh, '<', '/proc/self/status' or die "/proc/self/status: $!\n";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    die "no VmRSS in /proc/self/status\n";
}

# All threads of the process, and the named runtime threads among them.
sub threads {
    opendir my $dh, '/proc/self/task' or die "/proc/self/task: $!\n";
    my @tids = grep { /^\d+$/ } readdir $dh;
    my $named = 0;
    for my $tid (@tids) {
        open my $fh, '<', "/proc/self/task/$tid/comm" or next;
        my $comm = <$fh> // '';
        $named++ if $comm =~ /^nzk-(?:worker|blocking)$/;
    }
    return (scalar(@tids), $named);
}

printf "# Net::ZooKeeper %s from %s; hosts=%s\n", $Net::ZooKeeper::VERSION // '?',
    $INC{'Net/ZooKeeper.pm'}, $hosts;

my ($t0, undef) = threads();
my $base = rss_kb();
printf "handles=0 threads=%d runtime_threads=%d rss_kb=%d\n", $t0, $t0 - 1, $base;

my @handles;
my ($prev_n, $prev_rss) = (0, $base);
my (%rss, %rt);
for my $level (@levels) {
    my $start = clock_gettime(CLOCK_MONOTONIC);
    while (@handles < $level) {
        my $zkh = Net::ZooKeeper->new($hosts, 'session_timeout' => $opt{'session-timeout'})
            or die "new() failed at handle " . (@handles + 1) . ": $!\n";
        $zkh->exists('/') or die "exists('/') failed at handle " . (@handles + 1)
            . ": error " . $zkh->get_error() . "\n";
        push @handles, $zkh;
    }
    my $secs = clock_gettime(CLOCK_MONOTONIC) - $start;
    my ($threads, $named) = threads();
    my $rss = rss_kb();
    # The interpreter's thread is the only one that is not the runtime's.
    my $runtime_threads = $threads - $t0;
    $rss{$level} = $rss;
    $rt{$level}  = $runtime_threads;
    printf "handles=%d threads=%d runtime_threads=%d named_nzk_threads=%d rss_kb=%d rss_per_handle_kb=%.1f open_secs=%.2f\n",
        $level, $threads, $runtime_threads, $named, $rss,
        ($rss - $prev_rss) / ($level - $prev_n), $secs;
    ($prev_n, $prev_rss) = ($level, $rss);
}

my ($lo, $hi) = ($levels[0], $levels[-1]);
my $max_rt = (sort { $b <=> $a } values %rt)[0];
my $per = $hi > $lo ? ($rss{$hi} - $rss{$lo}) / ($hi - $lo) : ($rss{$hi} - $base) / $hi;
printf "target runtime_threads=%d max=4 %s\n", $max_rt, $max_rt <= 4 ? 'met' : 'MISSED';
printf "target rss_per_handle_kb=%.1f (from %d to %d handles) max=10 %s\n", $per, $lo, $hi,
    $per <= 10 ? 'met' : 'MISSED';
printf "# runtime start-up cost: %.0f kB (RSS at %d handle(s) minus baseline)\n", $rss{$lo} - $base, $lo;

my $start = clock_gettime(CLOCK_MONOTONIC);
@handles = ();
printf "# closed %d handles in %.2f s\n", $hi, clock_gettime(CLOCK_MONOTONIC) - $start;
$server->stop if $server;
