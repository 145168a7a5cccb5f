#!/usr/bin/perl

# The asynchronous API (issue 15) against a real ZooKeeper server, in one run
# against one server (see bench/README.md, "Asynchronous calls"):
#
#   perl -Mblib bench/async.pl [--hosts H] [--n 10000] [--batch 100] [--rounds 5]
#       [--watch-n 500] [--warmup 500] [--raw PATH | --no-raw] [--raw-flavor current]
#
# (a) the raw client's pipelined get rate: raw_bench --loop get_many (batches
#     of --batch gets of /zookeeper, every request of a batch sent before any
#     reply is awaited);
# (b) ours: the same batches as async gets with callbacks, dispatched with
#     dispatch(timeout => ...) until the batch is done; our get_many of the
#     same batches next to it.  Rounds alternate raw and ours; each ratio is
#     the median of the per-round ratios (goal ours / raw >= 0.90);
# (c) watch latency: a second handle sets a node, and the time from just
#     before that set to our code-ref watcher running (dispatched with
#     dispatch(timeout => ...)), next to the same with a Watch object and
#     $w->wait; the two kinds alternate round by round.  Both include the
#     set's own round trip.  Median and p90.
#
# Prints figures; asserts nothing.  Without --hosts and ZK_TEST_HOSTS it starts
# a private server (t/lib/ZKTest/Server.pm), as bench/bench.pl does.

use strict;
use warnings;

use FindBin ();
use Getopt::Long ();
use POSIX ();
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

use Net::ZooKeeper qw(:acls :errors :events);

my %opt = (
    n            => 10000,     # gets per round, in batches
    batch        => 100,       # gets in flight at once (one batch)
    rounds       => 5,
    'watch-n'    => 500,       # watch latency rounds per kind
    warmup       => 500,       # untimed gets (and 50 watch rounds) first
    raw          => undef,
    'raw-flavor' => 'current', # the ceiling: a current_thread runtime
    'no-raw'     => 0,
    'dispatch-ms' => 1000,     # the timeout of each dispatch call
);
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'n=i', 'batch=i', 'rounds=i', 'watch-n=i', 'warmup=i',
    'raw=s', 'raw-flavor=s', 'no-raw!', 'dispatch-ms=i', 'help')
    or die "usage: perl -Mblib $0 [--hosts H] [--n N] [--batch B] [--rounds R] (see the file's header)\n";
if ($opt{help}) {
    print "usage: perl -Mblib $0 [--hosts H] [--n N] [--batch B] [--rounds R] [--watch-n N]\n"
        . "       [--warmup N] [--raw PATH | --no-raw] [--raw-flavor current|multi] [--dispatch-ms MS]\n";
    exit 0;
}
$opt{batch}  = 1 if $opt{batch} < 1;
$opt{rounds} = 1 if $opt{rounds} < 1;
$opt{n} = $opt{batch} if $opt{n} < $opt{batch};
$opt{n} -= $opt{n} % $opt{batch};    # whole batches, as raw_bench makes them

die "this Net::ZooKeeper has no asynchronous API (dispatch)\n" unless Net::ZooKeeper->can('dispatch');

# --- the server --------------------------------------------------------------

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

my $raw = $opt{raw} // "$FindBin::Bin/../target/release/examples/raw_bench";
$raw = undef if $opt{'no-raw'};
if (defined $raw && !-x $raw) {
    print STDERR "# no raw benchmark at $raw (build it: cargo build --release --example raw_bench)\n";
    $raw = undef;
}

printf "# Net::ZooKeeper %s from %s\n", $Net::ZooKeeper::VERSION // '?', $INC{'Net/ZooKeeper.pm'};
printf "# hosts=%s n=%d batch=%d rounds=%d watch_n=%d warmup=%d dispatch_ms=%d raw=%s\n",
    $hosts, @opt{qw(n batch rounds watch-n warmup dispatch-ms)}, $raw ? $opt{'raw-flavor'} : 'none';

# --- helpers -----------------------------------------------------------------

sub now () { clock_gettime(CLOCK_MONOTONIC) }

sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[ $#s / 2 ] : ($s[ @s / 2 - 1 ] + $s[ @s / 2 ]) / 2;
}

# Nearest-rank percentile of seconds, in microseconds.
sub pct_us {
    my ($sorted, $p) = @_;
    return $sorted->[ (POSIX::ceil(@$sorted * $p) || 1) - 1 ] * 1e6;
}

sub check {
    my ($zkh, $what) = @_;
    die "$what failed: error " . $zkh->get_error() . "\n";
}

# Dispatches until $cond is true; dies after 60 s (a lost callback must not
# hang the benchmark).
sub dispatch_until {
    my ($zkh, $cond, $what) = @_;
    my $deadline = now + 60;
    until ($cond->()) {
        die "$what: nothing after 60 s\n" if now > $deadline;
        $zkh->dispatch(timeout => $opt{'dispatch-ms'});
    }
}

my $zkh = Net::ZooKeeper->new($hosts) or die "Net::ZooKeeper->new($hosts) failed: $!\n";
$zkh->exists('/') or check($zkh, 'first call');
my $path = '/zookeeper';    # what raw_bench --loop get_many reads

# --- (a) and (b): pipelined gets ----------------------------------------------

sub run_raw {
    my @cmd = ($raw, '--hosts', $hosts, '--loop', 'get_many', '--n', $opt{n}, '--batch', $opt{batch},
               '--flavor', $opt{'raw-flavor'});
    open my $fh, '-|', @cmd or die "cannot run $raw: $!\n";
    my $rate;
    while (my $l = <$fh>) {
        $rate = $1 if $l =~ /^op=get_many n=\d+ ops_per_sec=(\S+)/;
    }
    close $fh or die "raw benchmark failed (status $?)\n";
    die "no get_many line from $raw\n" unless defined $rate;
    return $rate;
}

# N async gets in batches: each batch sent, then dispatched until all its
# callbacks ran.  Returns gets per second.
sub run_async {
    my ($n) = @_;
    my ($done, $failed) = (0, 0);
    my $cb = sub { $done++; $failed++ if $_[0] != ZOK };
    my $start = now;
    for (my $sent = 0; $sent < $n; ) {
        for (1 .. $opt{batch}) {
            $zkh->get($path, callback => $cb) or check($zkh, 'async get');
            $sent++;
        }
        dispatch_until($zkh, sub { $done == $sent }, 'async gets');
    }
    my $wall = now - $start;
    die "$failed async gets failed\n" if $failed;
    return $n / $wall;
}

sub run_get_many {
    my ($n) = @_;
    my @batch = ($path) x $opt{batch};
    my $start = now;
    for (1 .. $n / $opt{batch}) {
        my @got = $zkh->get_many(@batch);
        $zkh->get_error == ZOK or check($zkh, 'get_many');
    }
    return $n / (now - $start);
}

run_async($opt{warmup} - $opt{warmup} % $opt{batch} || $opt{batch});
my (@raw, @ours, @many);
for my $round (1 .. $opt{rounds}) {
    my $r = $raw ? run_raw() : undef;
    my $o = run_async($opt{n});
    my $m = run_get_many($opt{n});
    push @raw, $r if defined $r;
    push @ours, $o;
    push @many, $m;
    printf "round=%d%s ours_async_gets_per_sec=%.0f ours_get_many_per_sec=%.0f\n", $round,
        defined $r ? sprintf(' raw_gets_per_sec=%.0f', $r) : '', $o, $m;
}
printf "raw op=get_many n=%d batch=%d ops_per_sec=%.0f\n", $opt{n}, $opt{batch}, median(@raw) if @raw;
printf "op=async_get n=%d batch=%d ops_per_sec=%.0f\n", $opt{n}, $opt{batch}, median(@ours);
printf "op=get_many n=%d batch=%d ops_per_sec=%.0f\n", $opt{n}, $opt{batch}, median(@many);
printf "ratio op=async_get ours_vs_raw=%.2f (goal >= 0.90)\n", median(map { $ours[$_] / $raw[$_] } 0 .. $#raw) if @raw;
printf "ratio op=async_get vs_get_many=%.2f\n", median(map { $ours[$_] / $many[$_] } 0 .. $#many);

# --- (c): watch latency --------------------------------------------------------

my $node = "/nzk-bench-async-$$";
$zkh->create($node, '0', acl => ZOO_OPEN_ACL_UNSAFE) or check($zkh, "create $node");
my $trigger = Net::ZooKeeper->new($hosts) or die "Net::ZooKeeper->new($hosts) failed: $!\n";
$trigger->exists('/') or check($trigger, 'first call');

my $value = 0;

# One round with a code-ref watcher: armed by a synchronous get, then the
# clock starts, the other handle sets the node, and the watcher stops it.
sub code_ref_round {
    my ($fired, $t1);
    my $watcher = sub { $t1 = now; $fired = $_[0] };
    defined $zkh->get($node, watch => $watcher) or check($zkh, 'arm (code ref)');
    my $t0 = now;
    $trigger->set($node, ++$value) or check($trigger, 'set');
    dispatch_until($zkh, sub { defined $fired }, 'code-ref watcher');
    die "the watcher got event $fired\n" unless $fired == ZOO_CHANGED_EVENT;
    return $t1 - $t0;
}

# The same with a Watch object and $w->wait.
sub watch_object_round {
    my $w = $zkh->watch(timeout => 10000);
    defined $zkh->get($node, watch => $w) or check($zkh, 'arm (Watch)');
    my $t0 = now;
    $trigger->set($node, ++$value) or check($trigger, 'set');
    $w->wait or die "the watch did not fire within 10 s\n";
    my $t1 = now;
    die "the watch got event $w->{event}\n" unless $w->{event} == ZOO_CHANGED_EVENT;
    return $t1 - $t0;
}

for (1 .. 50) { code_ref_round(); watch_object_round() }
my (@code, @object);
for (1 .. $opt{'watch-n'}) {
    push @code,   code_ref_round();
    push @object, watch_object_round();
}
@code   = sort { $a <=> $b } @code;
@object = sort { $a <=> $b } @object;
printf "watch kind=code_ref n=%d p50_us=%.1f p90_us=%.1f\n", scalar(@code), pct_us(\@code, 0.5), pct_us(\@code, 0.9);
printf "watch kind=watch_object n=%d p50_us=%.1f p90_us=%.1f\n", scalar(@object), pct_us(\@object, 0.5),
    pct_us(\@object, 0.9);
printf "ratio watch code_ref_vs_watch_object p50=%.2f p90=%.2f\n", pct_us(\@code, 0.5) / pct_us(\@object, 0.5),
    pct_us(\@code, 0.9) / pct_us(\@object, 0.9);

$zkh->delete($node) or check($zkh, "delete $node");
undef $trigger;
undef $zkh;
$server->stop if $server;
