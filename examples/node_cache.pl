#!/usr/bin/perl
# Keeps a local copy of one node (Curator's NodeCache): prints each change
# that a second handle makes, as on_change hears of it from dispatch(),
# then removes its node.  Hosts from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper qw(:acls);
use Net::ZooKeeper::Recipe::NodeCache;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my $path  = "/examples/node_cache_$$";
my $zkh   = Net::ZooKeeper->new($hosts);
my $cache = Net::ZooKeeper::Recipe::NodeCache->new(
    handle    => $zkh,
    path      => $path,
    on_change => sub {
        my ($cache, $data, $stat) = @_;
        if ($stat) { print "changed: '$data' (version $stat->{version})\n" }
        else       { print "deleted\n" }
    },
);
$cache->start or die "cannot start the cache (error ", $cache->error, ")\n";
print "at start: ", $cache->exists ? $cache->data : '(no node)', "\n";

# Another session writes; each step waits (at most 10 s) until the cache has it.
my $writer = Net::ZooKeeper->new($hosts);
$writer->create('/examples', '', acl => ZOO_OPEN_ACL_UNSAFE);
for my $step (
    [ create => sub { $writer->create($path, 'one', acl => ZOO_OPEN_ACL_UNSAFE) }, sub { $_[0]->exists } ],
    [ set    => sub { $writer->set($path, 'two') },  sub { ($_[0]->data // '') eq 'two' } ],
    [ delete => sub { $writer->delete($path) },      sub { !$_[0]->exists } ],
) {
    my ($what, $write, $seen) = @$step;
    $write->() or die "$what failed (error ", $writer->get_error, ")\n";
    $cache->wait_for($seen, timeout => 10) or die "the cache did not see the $what\n";
}
$cache->close;
print "done\n";
exit 0;
