#!/usr/bin/perl

# Sequential workload against a real ZooKeeper server, for whichever
# Net::ZooKeeper comes first on @INC, then the same workload with the raw Rust
# client (bench/raw_bench.rs) against the same server.  See bench/README.md.
#
#   perl -Mblib bench/bench.pl [--hosts H] [--n N] [--raw target/release/examples/raw_bench]
#
# Prints one line per operation:
#   op=NAME n=N ops_per_sec=X p50_us=Y p99_us=Z cpu_us=C   (C: process CPU per op, all threads)
# then the raw client's lines prefixed "raw " (tokio current_thread runtime: the
# ceiling) and "raw-multi " (multi_thread, 2 workers, like ours), and ratio lines:
#   ratio op=NAME ours_vs_raw=X cpu_ours_vs_raw=Y
#       (ops_per_sec ours / raw; process CPU per op ours / raw)
#   ratio op=NAME ours_vs_raw_multi=X cpu_ours_vs_raw_multi=Y   (the same against raw-multi)
#   ratio op=NAME cpu_beyond_perl_call_ours_vs_raw=Z
#       (create, exists, get, set, delete: ours' CPU per op less the Perl floor,
#        op=perl_call -- the same loop calling get_error -- over raw's CPU per op)
#   ratio op=get_children cpu_beyond_perl_list_ours_vs_raw=Z
#       (the same with op=perl_list -- the loop copying a list of as many names
#        into an array -- as the floor)
#   ratio op=get_many vs_sequential_get=X  (only if Net::ZooKeeper->can('get_many'))
#
# The sequential part uses only the API of the original Net::ZooKeeper 0.36,
# so that it runs against the original as well.

use strict;
use warnings;

use FindBin ();
use Getopt::Long ();
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC CLOCK_PROCESS_CPUTIME_ID);
use POSIX ();

use Net::ZooKeeper qw(:acls);

my %opt = (
    n               => 2000,     # create, exists, get, set, delete (and get_many paths)
    children        => 2000,     # children of the get_children node
    'children-n'    => 200,      # get_children calls
    big             => 1_000_000,  # bytes of the get_big node (jute.maxbuffer is 1 MiB)
    'big-n'         => 50,       # get_big calls
    'watch-n'       => 500,      # watch round trips
    'connect-n'     => 200,      # connect + first call, and close
    batch           => 100,      # paths per get_many call
    warmup          => 500,      # untimed calls first (the server's JIT warms up)
    'session-timeout' => 10000,
    raw             => undef,
    'raw-flavor'    => 'current,multi',   # the first is the ceiling
    'no-raw'        => 0,
    rounds          => 1,
);
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'n=i', 'children=i', 'children-n=i', 'big=i', 'big-n=i', 'watch-n=i',
    'connect-n=i', 'batch=i', 'warmup=i', 'session-timeout=i', 'raw=s', 'raw-flavor=s',
    'no-raw!', 'rounds=i', 'help')
    or die "usage: perl -Mblib $0 [--hosts H] [--n N] [--raw PATH] (see the file's header)\n";
if ($opt{help}) {
    print "usage: perl -Mblib $0 [--hosts H] [--n N] [--children C] [--children-n N] [--big BYTES]\n"
        . "       [--big-n N] [--watch-n N]\n"
        . "       [--connect-n N] [--batch B] [--warmup N] [--rounds R] [--raw PATH | --no-raw]\n"
        . "       [--raw-flavor current,multi]\n";
    exit 0;
}
$opt{batch} = 1 if $opt{batch} < 1;
$opt{rounds} = 1 if $opt{rounds} < 1;

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

my $has_get_many = Net::ZooKeeper->can('get_many') ? 1 : 0;
printf "# Net::ZooKeeper %s from %s\n", $Net::ZooKeeper::VERSION // '?', $INC{'Net/ZooKeeper.pm'};
printf "# hosts=%s n=%d children=%d children_n=%d watch_n=%d connect_n=%d batch=%d rounds=%d get_many=%s\n",
    $hosts, @opt{qw(n children children-n watch-n connect-n batch rounds)}, $has_get_many ? 'yes' : 'no';

# --- measuring ----------------------------------------------------------------

# Stats of one op from its latencies (seconds) and the loop's wall time.
# CPU is the whole process's (every thread, user and system, as getrusage's
# RUSAGE_SELF), from the start of the op's loop ($cpu_start) unless given.
my $cpu_start;
sub stats {
    my ($name, $lat, $wall, $cpu) = @_;
    $cpu //= cpu() - $cpu_start;
    my @s = sort { $a <=> $b } @$lat;
    my $n = @s;
    my $pct = sub { $s[ (POSIX::ceil($n * $_[0]) || 1) - 1 ] * 1e6 };
    return { op => $name, n => $n, ops_per_sec => $n / $wall, p50_us => $pct->(0.50), p99_us => $pct->(0.99),
             cpu_us => $cpu / $n * 1e6 };
}

sub line {
    my ($r) = @_;
    return sprintf 'op=%s n=%d ops_per_sec=%.0f p50_us=%.1f p99_us=%.1f cpu_us=%.1f',
        @{$r}{qw(op n ops_per_sec p50_us p99_us cpu_us)};
}

sub now () { clock_gettime(CLOCK_MONOTONIC) }
sub cpu () { clock_gettime(CLOCK_PROCESS_CPUTIME_ID) }

# The start of an op's loop: its wall clock, and the CPU clock for stats().
sub start_clock () { $cpu_start = cpu; return now }

my @ACL = ('acl' => ZOO_OPEN_ACL_UNSAFE);

sub connect_handle {
    my $zkh = Net::ZooKeeper->new($hosts, 'session_timeout' => $opt{'session-timeout'})
        or die "Net::ZooKeeper->new($hosts) failed: $!\n";
    return $zkh;
}

sub check {
    my ($zkh, $what) = @_;
    die "$what failed: error " . $zkh->get_error() . "\n";
}

# One round of the sequential workload; returns the results in order.
sub run_ours {
    my @out;
    my $zkh = connect_handle();
    $zkh->exists('/') or check($zkh, 'first call');
    my $root = "/nzk-bench-$$";
    $zkh->create($root, '', @ACL) or check($zkh, "create $root");
    my $payload = 'x' x 64;

    # Warm-up (untimed): the server's JIT and our own first-call costs.
    for my $i (1 .. $opt{warmup}) {
        my $p = "$root/warm";
        $zkh->create($p, $payload, @ACL) or check($zkh, 'warm-up create');
        $zkh->exists($p) && $zkh->get($p) && $zkh->set($p, $payload) && $zkh->delete($p)
            or check($zkh, 'warm-up');
    }

    my @paths = map { sprintf '%s/n%07d', $root, $_ } 0 .. $opt{n} - 1;
    my ($t, $start, @lat);

    # The Perl floor: the same loop around a handle method that does not reach
    # the server (get_error).  What any binding pays per call before its core
    # runs; the raw client pays none of it.
    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        defined($zkh->get_error()) or check($zkh, 'get_error');
        push @lat, now - $t;
    }
    push @out, stats('perl_call', \@lat, now - $start);

    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        $zkh->create($p, $payload, @ACL) or check($zkh, "create $p");
        push @lat, now - $t;
    }
    push @out, stats('create', \@lat, now - $start);

    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        $zkh->exists($p) or check($zkh, "exists $p");
        push @lat, now - $t;
    }
    push @out, stats('exists', \@lat, now - $start);

    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        defined($zkh->get($p)) or check($zkh, "get $p");
        push @lat, now - $t;
    }
    push @out, stats('get', \@lat, now - $start);

    if ($has_get_many) {
        @lat = ();
        $start = start_clock;
        for (my $i = 0; $i < @paths; $i += $opt{batch}) {
            my $j = $i + $opt{batch} - 1;
            $j = $#paths if $j > $#paths;
            my $k = $j - $i + 1;
            $t = now;
            my @got = $zkh->get_many(@paths[$i .. $j]);
            my $d = (now - $t) / $k;
            @got == $k && !grep { !defined } @got or check($zkh, 'get_many');
            push @lat, ($d) x $k;
        }
        push @out, stats('get_many', \@lat, now - $start);
    }

    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        $zkh->set($p, $payload) or check($zkh, "set $p");
        push @lat, now - $t;
    }
    push @out, stats('set', \@lat, now - $start);

    my $kids = "$root/kids";
    $zkh->create($kids, '', @ACL) or check($zkh, "create $kids");
    my @kid_paths = map { sprintf '%s/c%07d', $kids, $_ } 0 .. $opt{children} - 1;
    for my $p (@kid_paths) {
        $zkh->create($p, '', @ACL) or check($zkh, "create $p");
    }
    # The Perl floor of a list: the same loop taking a copy of a list of as many
    # names, already in memory, into an array: what `my @c = ...` costs any
    # binding before its core runs (the raw client hands over a Vec instead).
    my @names = map { sprintf 'c%07d', $_ } 0 .. $opt{children} - 1;
    @lat = ();
    $start = start_clock;
    for (1 .. $opt{'children-n'}) {
        $t = now;
        my @c = @names;
        @c == @names or die "perl_list: the copy has " . scalar(@c) . " names\n";
        push @lat, now - $t;
    }
    push @out, stats('perl_list', \@lat, now - $start);

    @lat = ();
    $start = start_clock;
    for (1 .. $opt{'children-n'}) {
        $t = now;
        my @c = $zkh->get_children($kids);
        @c == $opt{children} or check($zkh, "get_children $kids");
        push @lat, now - $t;
    }
    push @out, stats('get_children', \@lat, now - $start);

    @lat = ();
    $start = start_clock;
    for my $p (@paths) {
        $t = now;
        $zkh->delete($p) or check($zkh, "delete $p");
        push @lat, now - $t;
    }
    push @out, stats('delete', \@lat, now - $start);

    # get of a large node, read whole (data_read_len).
    my $big = "$root/big";
    $zkh->create($big, 'b' x $opt{big}, @ACL) or check($zkh, "create $big");
    @lat = ();
    $start = start_clock;
    for (1 .. $opt{'big-n'}) {
        $t = now;
        my $data = $zkh->get($big, 'data_read_len' => $opt{big});
        length($data) == $opt{big} or check($zkh, "get $big");
        push @lat, now - $t;
    }
    push @out, stats('get_big', \@lat, now - $start);

    # Watch round trip: arm on this handle, trigger from a second, wait.
    my $watched = "$root/w";
    $zkh->create($watched, '', @ACL) or check($zkh, "create $watched");
    my $trigger = connect_handle();
    @lat = ();
    $start = start_clock;
    for (1 .. $opt{'watch-n'}) {
        $t = now;
        my $w = $zkh->watch('timeout' => 10000);
        $zkh->exists($watched, 'watch' => $w) or check($zkh, 'arm');
        $trigger->set($watched, 'y') or check($trigger, 'trigger');
        $w->wait() or die "watch did not fire\n";
        push @lat, now - $t;
    }
    push @out, stats('watch', \@lat, now - $start);
    undef $trigger;

    # Connect plus first call; then close (DESTROY).  Each timed on its own.
    my (@conn, @close, $conn_wall, $close_wall, $conn_cpu, $close_cpu);
    for (1 .. $opt{'connect-n'}) {
        my $c = cpu;
        $t = now;
        my $h = connect_handle();
        $h->exists('/') or check($h, 'first call');
        my $d = now - $t;
        $conn_cpu += cpu - $c;
        push @conn, $d;
        $conn_wall += $d;
        $c = cpu;
        $t = now;
        undef $h;
        $d = now - $t;
        $close_cpu += cpu - $c;
        push @close, $d;
        $close_wall += $d;
    }
    if (@conn) {
        push @out, stats('connect', \@conn, $conn_wall, $conn_cpu);
        push @out, stats('close', \@close, $close_wall, $close_cpu);
    }

    # Clean up (untimed).
    $zkh->delete($_) for @kid_paths, $kids, $watched, $big, $root;
    undef $zkh;
    return \@out;
}

sub run_raw {
    my ($flavor) = @_;
    my @cmd = ($raw, '--hosts', $hosts, map { ("--$_", $opt{$_}) }
        qw(n children children-n big big-n watch-n connect-n batch session-timeout));
    push @cmd, '--flavor', $flavor;
    open my $fh, '-|', @cmd or die "cannot run $raw: $!\n";
    my @out;
    while (my $l = <$fh>) {
        next unless $l =~ /^op=(\S+) n=(\d+) ops_per_sec=(\S+) p50_us=(\S+) p99_us=(\S+) cpu_us=(\S+)/;
        push @out, { op => $1, n => $2, ops_per_sec => $3, p50_us => $4, p99_us => $5, cpu_us => $6 };
    }
    close $fh or die "raw benchmark failed (status $?)\n";
    return \@out;
}

# --- rounds: ours, then raw, alternately; per op the round with the median rate,
# --- and ratios as medians of per-round ratios --------------------------------

# The first flavor is the ceiling ("raw", ours_vs_raw); others are printed as
# "raw-FLAVOR" with ours_vs_raw_FLAVOR.
my @flavors = grep { length } split /,/, $opt{'raw-flavor'};
my (@ours, %raws);
for my $round (1 .. $opt{rounds}) {
    push @ours, run_ours();
    if ($raw) {
        push @{ $raws{$_} }, run_raw($_) for @flavors;
    }
}

sub median_by_op {
    my ($rounds) = @_;
    my (%by, @order);
    for my $r (@$rounds) {
        for my $x (@$r) {
            push @order, $x->{op} unless $by{ $x->{op} };
            push @{ $by{ $x->{op} } }, $x;
        }
    }
    my %med;
    for my $op (@order) {
        my @s = sort { $a->{ops_per_sec} <=> $b->{ops_per_sec} } @{ $by{$op} };
        $med{$op} = $s[ $#s / 2 ];
    }
    return (\@order, \%med);
}

# A ratio is the median over the rounds of ours / raw within the same round
# (measured a few seconds apart), which cancels most of the drift of a shared
# machine's load.
sub paired_ratio {
    my ($op, $a_rounds, $b_rounds, $key, $floor_op) = @_;
    $key //= 'ops_per_sec';
    my @r;
    for my $i (0 .. $#$a_rounds) {
        my ($x) = grep { $_->{op} eq $op } @{ $a_rounds->[$i] };
        my ($y) = grep { $_->{op} eq $op } @{ $b_rounds->[$i] || [] };
        next unless $x && $y && $y->{$key} > 0;
        # With $floor_op, that op's figure in the same round is taken off ours first.
        my $floor = 0;
        if (defined $floor_op) {
            my ($f) = grep { $_->{op} eq $floor_op } @{ $a_rounds->[$i] } or next;
            $floor = $f->{$key};
        }
        push @r, ($x->{$key} - $floor) / $y->{$key};
    }
    return median(@r);
}

sub median {
    my @s = sort { $a <=> $b } @_;
    return undef unless @s;
    return @s % 2 ? $s[ $#s / 2 ] : ($s[ @s / 2 - 1 ] + $s[ @s / 2 ]) / 2;
}

my ($order, $ours) = median_by_op(\@ours);
print line($ours->{$_}), "\n" for @$order;
if ($raw) {
    my (@ratios);
    for my $i (0 .. $#flavors) {
        my $f = $flavors[$i];
        my ($raw_order, $rawm) = median_by_op($raws{$f});
        my $prefix = $i ? "raw-$f" : 'raw';
        (my $key = "ours_vs_$prefix") =~ tr/-/_/;
        print "$prefix ", line($rawm->{$_}), "\n" for @$raw_order;
        for my $op (@$order) {
            my $r = paired_ratio($op, \@ours, $raws{$f});
            my $c = paired_ratio($op, \@ours, $raws{$f}, 'cpu_us');
            push @ratios, sprintf "ratio op=%s %s=%.2f cpu_%s=%.2f\n", $op, $key, $r, $key, $c if defined $r;
            # The CPU of a single-request op beyond the Perl floor, against raw's.
            my $core = paired_ratio($op, \@ours, $raws{$f}, 'cpu_us', 'perl_call');
            push @ratios, sprintf "ratio op=%s cpu_beyond_perl_call_%s=%.2f\n", $op, $key, $core
                if defined $core && !$i && $op =~ /\A(?:create|exists|get|set|delete)\z/;
            # get_children's beyond the floor of taking its list into an array.
            my $list = paired_ratio($op, \@ours, $raws{$f}, 'cpu_us', 'perl_list');
            push @ratios, sprintf "ratio op=%s cpu_beyond_perl_list_%s=%.2f\n", $op, $key, $list
                if defined $list && !$i && $op eq 'get_children';
        }
    }
    print @ratios;
}
if ($ours->{get_many} && $ours->{get}) {
    printf "ratio op=get_many vs_sequential_get=%.2f\n", median(map {
        my ($m) = grep { $_->{op} eq 'get_many' } @$_;
        my ($g) = grep { $_->{op} eq 'get' } @$_;
        $m->{ops_per_sec} / $g->{ops_per_sec};
    } @ours);
}

$server->stop if $server;
