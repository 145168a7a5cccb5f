#!/usr/bin/perl

# Memory per armed watch: arms N Watch objects (exists on missing nodes, so
# each stays armed) and prints the resident memory they added.
#
#   t/run-with-zookeeper perl -Mblib bench/watches.pl [--n 10000]
#   perl -Mblib bench/watches.pl --hosts H
#
# Prints: armed=N rss_before_kb=A rss_after_kb=B per_watch_bytes=C

use strict;
use warnings;

use Getopt::Long ();

use Net::ZooKeeper qw(:acls);

my %opt = (n => 10_000);
Getopt::Long::GetOptions(\%opt, 'hosts=s', 'n=i') or die "bad options\n";
my $hosts = $opt{hosts} // $ENV{ZK_TEST_HOSTS} // die "--hosts or ZK_TEST_HOSTS needed\n";

sub rss_kb {
    open(my $fh, '<', '/proc/self/status') or die "/proc/self/status: $!\n";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    die "no VmRSS\n";
}

my $zkh = Net::ZooKeeper->new($hosts) or die "new: $!\n";
my $root = "/nzk-watches-$$";
$zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE) or die "create $root: " . $zkh->get_error . "\n";
my @watches;
# One first, so that first-use costs are not counted.
for my $path ("$root/warm", map { "$root/n$_" } 1 .. $opt{n}) {
    my $w = $zkh->watch;
    $zkh->exists($path, watch => $w);
    push @watches, $w;
    next unless $path eq "$root/warm";
    $opt{before} = rss_kb();
}
my $after = rss_kb();
printf "armed=%d rss_before_kb=%d rss_after_kb=%d per_watch_bytes=%.0f\n",
    $opt{n}, $opt{before}, $after, ($after - $opt{before}) * 1024 / $opt{n};
$zkh->delete($root);
