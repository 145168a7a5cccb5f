#!/usr/bin/perl
# Keeps a local copy of a subtree (Curator's and kazoo's TreeCache): prints
# every event while a second handle builds and removes a small tree, then
# the copy.  Hosts from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Net::ZooKeeper qw(:acls);
use Net::ZooKeeper::Recipe::TreeCache;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my $root  = "/examples/tree_cache_$$";
my $zkh   = Net::ZooKeeper->new($hosts);
my $cache = Net::ZooKeeper::Recipe::TreeCache->new(
    handle   => $zkh,
    path     => $root,
    on_event => sub {
        my ($cache, $type, $path, $data) = @_;
        print defined $path ? "$type $path '" . ($data // '') . "'\n" : "$type\n";
    },
);
$cache->start or die "cannot start the cache (error ", $cache->error, ")\n";
print "watching with a ", $cache->watch_mode, " watch\n";

my $writer = Net::ZooKeeper->new($hosts);
$writer->create('/examples', '', acl => ZOO_OPEN_ACL_UNSAFE);
my @create = ([$root, ''], ["$root/web", 'nginx'], ["$root/web/1", '10.0.0.1'], ["$root/web/2", '10.0.0.2'], ["$root/db", 'pg']);
for my $node (@create) {
    $writer->create(@$node, acl => ZOO_OPEN_ACL_UNSAFE) or die "create $node->[0] failed (error ", $writer->get_error, ")\n";
}
$writer->set("$root/db", 'pg-15');
$cache->wait_for(sub { ($_[0]->data("$root/db") // '') eq 'pg-15' && $_[0]->get("$root/web/2") }, timeout => 10)
    or die "the cache did not catch up\n";

print "the copy:\n";
print "  $_ = '", $cache->data($_) // '', "'\n" for $cache->nodes;
print "children of $root/web: ", join(', ', $cache->children("$root/web")), "\n";

$writer->delete($_->[0]) for reverse @create;
$cache->wait_for(sub { !$_[0]->nodes }, timeout => 10) or die "the cache did not see the deletes\n";
$cache->close;
print "done\n";
exit 0;
