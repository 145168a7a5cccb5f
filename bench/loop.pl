#!/usr/bin/perl

# One operation in a tight loop, for profilers (perf stat, valgrind --tool=callgrind):
#
#   perl -Mblib bench/loop.pl --hosts H [--op exists|get|get_many|get_children|set] [--n 5000]
#       [--warmup 200] [--batch 100] [--children 2000]
#   perf stat -e task-clock,context-switches perl -Mblib bench/loop.pl --hosts H
#   valgrind --tool=callgrind --separate-threads=yes perl -Mblib bench/loop.pl --hosts H --n 2000
#
# Reads /zookeeper (exists, get) or N/100 batches of 100 paths (get_many), or
# lists a node with --children children (made first, removed after), or sets a
# node of its own to 64 bytes (made first, removed after); the server
# must be running already.  Prints one line like bench/bench.pl.

use strict;
use warnings;

use Getopt::Long ();
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC CLOCK_PROCESS_CPUTIME_ID);

use Net::ZooKeeper ();

my %opt = (op => 'exists', n => 5000, warmup => 200, batch => 100, children => 2000);
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'op=s', 'n=i', 'warmup=i', 'batch=i', 'children=i')
    or die "bad options\n";
my $hosts = $opt{hosts} // $ENV{ZK_TEST_HOSTS} // die "--hosts or ZK_TEST_HOSTS needed\n";

my $zkh = Net::ZooKeeper->new($hosts) or die "new: $!\n";
my $path = '/zookeeper';
my @made;
if ($opt{op} eq 'set') {
    $path = "/nzk-loop-$$";
    $zkh->create($path, '', 'acl' => [ { perms => 31, scheme => 'world', id => 'anyone' } ])
        or die "create $path: " . $zkh->get_error() . "\n";
    push @made, $path;
}
if ($opt{op} eq 'get_children') {
    $path = "/nzk-loop-$$";
    my @acl = ('acl' => [ { perms => 31, scheme => 'world', id => 'anyone' } ]);
    for my $p ($path, map { sprintf '%s/c%07d', $path, $_ } 0 .. $opt{children} - 1) {
        $zkh->create($p, '', @acl) or die "create $p: " . $zkh->get_error() . "\n";
        push @made, $p;
    }
}
my $call = {
    exists   => sub { $zkh->exists($path) or die "exists: " . $zkh->get_error() . "\n" },
    get      => sub { defined $zkh->get($path) or die "get: " . $zkh->get_error() . "\n" },
    get_children => sub {
        my @c = $zkh->get_children($path);
        @c == $opt{children} or die "get_children: " . $zkh->get_error() . "\n";
    },
    set      => sub { $zkh->set($path, 'x' x 64) or die "set: " . $zkh->get_error() . "\n" },
    get_many => sub {
        my @got = $zkh->get_many(($path) x $opt{batch});
        @got == $opt{batch} or die "get_many: " . $zkh->get_error() . "\n";
    },
}->{ $opt{op} } or die "unknown op $opt{op}\n";

$call->() for 1 .. $opt{warmup};
my $calls = $opt{op} eq 'get_many' ? int($opt{n} / $opt{batch}) || 1 : $opt{n};
my @lat;
my $cpu = clock_gettime(CLOCK_PROCESS_CPUTIME_ID);
my $start = clock_gettime(CLOCK_MONOTONIC);
for (1 .. $calls) {
    my $t = clock_gettime(CLOCK_MONOTONIC);
    $call->();
    push @lat, clock_gettime(CLOCK_MONOTONIC) - $t;
}
my $wall = clock_gettime(CLOCK_MONOTONIC) - $start;
# CPU of the whole process (every thread, user and system) per op.
$cpu = clock_gettime(CLOCK_PROCESS_CPUTIME_ID) - $cpu;
my $per = $opt{op} eq 'get_many' ? $opt{batch} : 1;
@lat = sort { $a <=> $b } map { $_ / $per } @lat;
printf "op=%s n=%d ops_per_sec=%.0f p50_us=%.1f p99_us=%.1f cpu_us=%.1f\n", $opt{op}, $calls * $per,
    $calls * $per / $wall, $lat[ int(@lat * 0.5) ] * 1e6, $lat[ int(@lat * 0.99) ] * 1e6, $cpu / ($calls * $per) * 1e6;
$zkh->delete($_) for reverse @made;
