#!/usr/bin/perl

# How long arming watches takes as a handle's armed watches add up:
#
#   t/run-with-zookeeper perl -Mblib bench/arm.pl [--rounds 5000,10000,20000]
#
# On one handle, arms each round's count of Watch objects with exists on
# missing nodes (they stay armed), and prints the round's time per watch.  A
# cost that grows with the earlier rounds means arming looks at every watch.

use strict;
use warnings;

use Getopt::Long ();
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);

use Net::ZooKeeper ();

my %opt = (rounds => '5000,10000,20000');
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'rounds=s') or die "bad options\n";
my $hosts = $opt{hosts} // $ENV{ZK_TEST_HOSTS} // die "--hosts or ZK_TEST_HOSTS needed\n";

my $zkh = Net::ZooKeeper->new($hosts) or die "new: $!\n";
my ($armed, @watches) = (0);
for my $n (split /,/, $opt{rounds}) {
    my $start = clock_gettime(CLOCK_MONOTONIC);
    for my $i (1 .. $n) {
        my $w = $zkh->watch();
        $zkh->exists("/nzk-arm-$$-" . ($armed + $i), watch => $w);
        $zkh->get_error() == Net::ZooKeeper::ZNONODE() or die "exists: " . $zkh->get_error() . "\n";
        push @watches, $w;
    }
    my $took = clock_gettime(CLOCK_MONOTONIC) - $start;
    $armed += $n;
    printf "armed=%d already=%d secs=%.2f us_per_watch=%.1f\n", $n, $armed - $n, $took, $took / $n * 1e6;
}
