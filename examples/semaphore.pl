#!/usr/bin/perl
# Takes one of 2 leases of a semaphore shared with Curator
# (InterProcessSemaphoreV2) processes, works under it, and gives it back.
# Hosts from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Semaphore;

my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
my $sem = Net::ZooKeeper::Recipe::Semaphore->new(
    handle     => $zkh,
    path       => '/examples/semaphores/crawler',
    layout     => 'curator',
    max_leases => 2,
    on_lost    => sub { warn "lease lost\n" },
);
{
    # The guard gives the lease back when this block is left (a variable
    # declared in an if condition lives until the enclosing block ends).
    my $guard = $sem->guard(timeout => 10);
    if ($guard) {
        print "holding lease ", $sem->node, "\n";
        print "lease nodes: ", join(', ', $sem->participant_nodes), "\n";
        print "still held\n" if $sem->is_acquired;
    }
    else {
        print "no lease within 10 s (error ", $sem->error, ")\n";
    }
}
print "released\n" unless $sem->is_acquired;
