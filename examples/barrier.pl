#!/usr/bin/perl
# Puts up a barrier shared with Curator (DistributedBarrier) and kazoo
# (Barrier) processes, lets a worker process wait on it, and removes it.
# Hosts from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Barrier;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my $zkh = Net::ZooKeeper->new($hosts);
my $barrier = Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => '/examples/barriers/deploy');
$barrier->create or die "create: error ", $barrier->error, "\n";

pipe(my $r, my $w) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    close $r;
    # The worker: its own handle (a handle can not cross fork()).
    my $h = Net::ZooKeeper->new($hosts);
    my $b = Net::ZooKeeper::Recipe::Barrier->new(handle => $h, path => '/examples/barriers/deploy');
    syswrite $w, "waiting\n";
    my $passed = $b->wait(timeout => 30);
    print $passed ? "worker: barrier gone, going on\n" : "worker: still up after 30 s\n";
    exit($passed ? 0 : 1);
}
close $w;
<$r>;    # the worker is about to wait
print "coordinator: the barrier is ", ($barrier->is_set ? 'up' : 'down'), "; removing it\n";
$barrier->remove;
waitpid($pid, 0);
exit($? == 0 ? 0 : 1);
