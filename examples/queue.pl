#!/usr/bin/perl
# A priority queue shared with kazoo (Queue), and a locking queue (kazoo's
# LockingQueue) whose entries are removed only once processed.  Hosts from
# ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Queue;
use Net::ZooKeeper::Recipe::LockingQueue;

my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');

my $queue = Net::ZooKeeper::Recipe::Queue->new(handle => $zkh, path => '/examples/queues/mail');
$queue->put('weekly digest', priority => 500);
$queue->put('password reset', priority => 1);
$queue->put_all(['welcome 1', 'welcome 2']);          # priority 100
while (defined(my $mail = $queue->get)) {
    print "sending: $mail\n";                          # reset, welcome 1, welcome 2, digest
}

my $jobs = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => '/examples/queues/jobs');
$jobs->put("resize image 42");
while (defined(my $job = $jobs->get(timeout => 1))) {
    print "working on: $job\n";
    # Had this process died here, the entry would go to another consumer.
    $jobs->consume or die "consume: error ", $jobs->error, "\n";
}
printf "%d job(s) left\n", $jobs->length;
