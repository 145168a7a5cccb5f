#!/usr/bin/perl
# Joins a party (group membership) that kazoo's Party processes share, lists
# the members, sees another member join through a watch, and leaves.  Hosts
# from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Party;

my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
my $party = Net::ZooKeeper::Recipe::Party->new(
    handle => $zkh, path => '/examples/parties/workers', identifier => "perl-$$");
$party->join or die "join: error ", $party->error, "\n";
printf "%d member(s): %s\n", $party->count, join(', ', sort $party->members);

my $changed = 0;
$party->watch(sub {
    my ($p, @members) = @_;
    print "members now: ", join(', ', sort @members), "\n";
    $changed = 1;
});
# Another member (here on the same handle; usually another process).
my $other = Net::ZooKeeper::Recipe::Party->new(
    handle => $zkh, path => '/examples/parties/workers', identifier => "perl-$$-helper");
$other->join;
$zkh->dispatch(timeout => 1000) for grep { !$changed } 1 .. 10;
$party->unwatch;
$other->leave;
$party->leave;
exit($changed ? 0 : 1);
