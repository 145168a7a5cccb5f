#!/usr/bin/perl
# Takes part in a leader election shared with Curator (LeaderLatch)
# processes: waits to lead, works while leading, and leaves.  Hosts from
# ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper;
use Net::ZooKeeper::Recipe::Election;

my $zkh      = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
my $election = Net::ZooKeeper::Recipe::Election->new(
    handle     => $zkh,
    path       => '/examples/elections/report',
    layout     => 'curator',
    identifier => "example-$$",
    on_change  => sub { print $_[1] ? "gained leadership\n" : "lost leadership\n" },
);
$election->start or die "cannot join the election (error ", $election->error, ")\n";
print "participants: ", join(', ', $election->participants), "\n";
if ($election->await_leadership(timeout => 10)) {
    print "leading as ", $election->leader_id, "\n";
    # Work while leading; dispatch() runs on_change if leadership is lost.
    for (1 .. 3) {
        last unless $election->is_leader;
        print "working\n";
        $zkh->dispatch(timeout => 200);
    }
}
else {
    print "not leading within 10 s; the leader is ", $election->leader_id // 'nobody', "\n";
}
$election->stop;
print "left the election\n";
