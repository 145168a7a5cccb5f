#!/usr/bin/perl
# Increments a counter shared with Curator's SharedCount.  Hosts from
# ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Counter;

my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
my $runs = Net::ZooKeeper::Recipe::Counter->new(
    handle => $zkh, path => '/examples/counters/runs', format => 'shared_count');
printf "this is run %d\n", $runs->increment;
my $seen = $runs->versioned_value;
printf "reset to 0: %s\n", $runs->try_set($seen, 0) ? 'yes' : 'someone else wrote first';
