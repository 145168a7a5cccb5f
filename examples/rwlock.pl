#!/usr/bin/perl
# Reads under a read lock shared with other readers, then writes under the
# write lock, on a read/write lock shared with Curator
# (InterProcessReadWriteLock) processes.  Hosts from ZK_TEST_HOSTS (default
# localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::ReadWriteLock;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my $zkh   = Net::ZooKeeper->new($hosts);
my $path  = '/examples/locks/catalogue';
my $rw    = Net::ZooKeeper::Recipe::ReadWriteLock->new(
    handle  => $zkh,
    path    => $path,
    layout  => 'curator',             # or 'kazoo'
    on_lost => sub { warn $_[0]->kind, " lock lost\n" },
);

# Two readers (a second session stands for another process) hold at once.
my $other = Net::ZooKeeper::Recipe::ReadWriteLock->new(
    handle => Net::ZooKeeper->new($hosts), path => $path, layout => 'curator');
{
    my $mine = $rw->read_lock->guard(timeout => 10) or die "no read lock: ", $rw->read_lock->error, "\n";
    my $theirs = $other->read_lock->guard(timeout => 10) or die "no second read lock\n";
    print "two readers: ", join(', ', $rw->read_lock->contenders), "\n";
    # A writer can not come in while they read.
    print "writer kept out while reading\n" unless $other->write_lock->try_acquire;
}   # both read locks released here

my $w = $rw->write_lock;
$w->acquire(timeout => 10) or die "no write lock: ", $w->error, "\n";
print "writing alone as ", $w->node, "\n";
print "readers kept out while writing\n" unless $other->read_lock->try_acquire;
$w->release;
print "released\n";
