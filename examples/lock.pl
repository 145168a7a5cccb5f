#!/usr/bin/perl
# Takes a lock shared with Curator (InterProcessMutex) processes, works under
# it, and releases it.  Hosts from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Lock;

my $zkh  = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
my $lock = Net::ZooKeeper::Recipe::Lock->new(
    handle  => $zkh,
    path    => '/examples/locks/report',
    layout  => 'curator',
    on_lost => sub { warn "lock lost\n" },
);
{
    # The guard releases the lock when this block ends (a variable declared in
    # an if condition would live until the enclosing block ends).
    my $guard = $lock->guard(timeout => 10);
    unless ($guard) {
        print "not acquired within 10 s (error ", $lock->error, ")\n";
        last;
    }
    print "holding the lock as ", $lock->node, "\n";
    print "still held\n" if $lock->is_acquired;
}
print "released\n" unless $lock->is_acquired;
