#!/usr/bin/perl

use strict;
use warnings;

use Net::ZooKeeper qw(:node_flags :acls :events :functions);

my $hosts = $ENV{ZK_TEST_HOSTS} || 'localhost:7000';
my $zkh = Net::ZooKeeper->new($hosts);

$zkh->create('/foo', 'bar',
             'flags' => ZOO_EPHEMERAL,
             'acl' => ZOO_OPEN_ACL_UNSAFE) or
  die("unable to create node /foo: " . zerror($zkh->get_error()) . "\n");

print "node /foo has value: " . $zkh->get('/foo') . "\n";

$zkh->set('/foo', 'baz');

print "node / has child nodes:\n";
foreach my $path ($zkh->get_children('/')) {
  print "  /$path\n";
}

my $stat = $zkh->stat();
if ($zkh->exists('/foo', 'stat' => $stat)) {
  print "node /foo has stat info:\n";
  while (my($key,$value) = each(%{$stat})) {
    print "  $key: $value\n";
  }
}

foreach my $acl_entry ($zkh->get_acl('/foo')) {
  print "node /foo has ACL entry:\n";
  print "  perms:  $acl_entry->{perms}\n";
  print "  scheme: $acl_entry->{scheme}\n";
  print "  id:     $acl_entry->{id}\n";
}

my $watch = $zkh->watch('timeout' => 10000);
$zkh->exists('/foo', 'watch' => $watch);

# A second client changes /foo, which triggers the watch.
my $zkh2 = Net::ZooKeeper->new($hosts);
$zkh2->set('/foo', 'qux') or
  die("unable to set node /foo: " . zerror($zkh2->get_error()) . "\n");

if ($watch->wait()) {
  print "watch triggered on node /foo:\n";
  print "  event: $watch->{event}",
        ($watch->{event} == ZOO_CHANGED_EVENT ? " (ZOO_CHANGED_EVENT)" : ""), "\n";
  print "  state: $watch->{state}\n";
}
else {
  print "watch timed out after 10 seconds\n";
}

$zkh->delete('/foo') or
  die("unable to delete node /foo: " . zerror($zkh->get_error()) . "\n");
