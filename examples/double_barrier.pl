#!/usr/bin/perl
# Three worker processes start and finish a computation together through a
# double barrier that Curator (DistributedDoubleBarrier) processes could
# share; with layout => 'kazoo', kazoo's DoubleBarrier.  Hosts from
# ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::DoubleBarrier;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my @pids;
for my $worker (1 .. 3) {
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        my $zkh = Net::ZooKeeper->new($hosts);
        my $barrier = Net::ZooKeeper::Recipe::DoubleBarrier->new(
            handle => $zkh, path => '/examples/barriers/batch', num_clients => 3, layout => 'curator');
        $barrier->enter(timeout => 30) or die "worker $worker: not all entered (error ", $barrier->error, ")\n";
        print "worker $worker: all 3 in, computing\n";
        $barrier->leave(timeout => 30) or die "worker $worker: not all left\n";
        print "worker $worker: all done\n";
        exit 0;
    }
    push @pids, $pid;
}
my $failed = 0;
for (@pids) { waitpid($_, 0); $failed++ if $? }
exit($failed ? 1 : 0);
