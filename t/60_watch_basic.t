#!/usr/bin/perl
# Watch objects without events: creation, timeout inheritance, waits that
# time out when nothing happens, and passing a watch to exists, get and
# get_children, which must not change what those calls return
# (spec sections 3.7 - 3.9, 3.14, 3.15, 8.1, 8.2).
#
# Nothing in this file changes a watched node, so no watch ever fires.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(delete_tree);
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

my $node = "$root/node";
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root");
is($zkh->create($node, 'data', acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");

## watch() and timeout inheritance (3.14)

{
    my $default = $zkh->watch();
    isa_ok($default, 'Net::ZooKeeper::Watch', 'watch()');
    is($default->{timeout}, 60000, 'a watch inherits the default watch_timeout 60000');
    is($default->{event}, 0, 'a new watch has event 0');
    is($default->{state}, 0, 'a new watch has state 0');

    $zkh->{watch_timeout} = 100;
    my $w = $zkh->watch();
    is($w->{timeout}, 100, 'a watch inherits the handle\'s current watch_timeout');
    is($default->{timeout}, 60000, 'changing watch_timeout does not affect existing watches');
    is($zkh->watch(timeout => 50)->{timeout}, 50, 'the timeout option overrides watch_timeout');
    $zkh->{watch_timeout} = 60000;
    is($w->{timeout}, 100, 'a watch keeps its timeout when watch_timeout changes again');

    $zkh->exists("$root/missing");
    is($zkh->get_error(), ZNONODE, 'a failed call leaves ZNONODE');
    $zkh->watch();
    is($zkh->get_error(), ZOK, 'watch() resets the error to ZOK');
}

## Passing a watch keeps the normal results (3.7 - 3.9, 8.2)

{
    my $w = $zkh->watch(timeout => 50);

    is(scalar($zkh->exists($node, watch => $w)), 1, 'exists with a watch returns 1 for an existing node');
    is($zkh->get_error(), ZOK, '... with ZOK');
    is($w->{event}, 0, '... the watch has event 0');
    is($w->{state}, 0, '... and state 0');
    is(scalar($w->wait(timeout => 0)), '', 'wait(timeout => 0) returns false when nothing happened');
    is(scalar($w->wait(timeout => 50)), '', 'wait(timeout => 50) returns false when nothing happens');
    is(scalar($w->wait()), '', 'wait() with the watch\'s own timeout (50) returns false');

    is($zkh->get($node, watch => $w), 'data', 'get with a watch returns the data');
    is($zkh->get($node, watch => $w, data_read_len => 2), 'da', 'get with a watch honours data_read_len');
    is(scalar($w->wait(timeout => 50)), '', '... and the watch times out');

    my @children = $zkh->get_children($root, watch => $w);
    is_deeply(\@children, ['node'], 'get_children with a watch returns the child names');
    is(scalar($zkh->get_children($root, watch => $w)), 1, 'get_children with a watch returns the count in scalar context');
    is(scalar($w->wait(timeout => 50)), '', '... and the watch times out');

    my $s = $zkh->stat();
    ok($zkh->exists($node, stat => $s, watch => $w), 'exists with both stat and watch');
    is($s->{data_len}, 4, '... updates the stat object');
    is($zkh->get($node, watch => $w, stat => $s), 'data', 'get with both watch and stat');
    is($s->{version}, 0, '... updates the stat object');

    is(scalar($zkh->exists("$root/missing", watch => $w)), '', 'exists with a watch on a missing node returns false');
    is($zkh->get_error(), ZNONODE, '... with ZNONODE');
    is(scalar($w->wait(timeout => 50)), '', '... and the watch times out as nothing is created');
    is($zkh->get("$root/missing", watch => $w), undef, 'get with a watch on a missing node returns undef');
    is($zkh->get_error(), ZNONODE, '... with ZNONODE');
    my @none = $zkh->get_children("$root/missing", watch => $w);
    is_deeply(\@none, [], 'get_children with a watch on a missing node returns ()');
    is($zkh->get_error(), ZNONODE, '... with ZNONODE');
    is(scalar($zkh->get_children("$root/missing", watch => $w)), undef, '... and undef in scalar context');
    is(scalar($w->wait(timeout => 0)), '', 'the watch still times out');

    is(scalar($zkh->exists('bad', watch => $w)), '', 'exists with a watch on an invalid path returns false');
    is($zkh->get_error(), ZBADARGUMENTS, '... with ZBADARGUMENTS');
    is(scalar($w->wait(timeout => 0)), '', '... and the watch times out');
}

## Reusing a watch keeps its timeout (8.2)

{
    my $w = $zkh->watch();
    $w->{timeout} = 70;
    ok($zkh->exists($node, watch => $w), 'a watch with a changed timeout is assigned');
    is($w->{timeout}, 70, '... it keeps the changed timeout');
    ok($zkh->get($node, watch => $w), 'the watch is assigned again');
    is($w->{timeout}, 70, '... and still keeps the timeout');
    is($w->{event}, 0, '... its event is 0');
    is(scalar($w->wait()), '', '... and it times out');
    is(scalar($w->DESTROY), 1, 'DESTROY on a used watch returns true');
}

## Watches from other handles, and handles that go away (8.2, 8.4)

{
    my $other = Net::ZooKeeper->new($hosts);
    my $w = $other->watch(timeout => 20);
    is(scalar($zkh->exists($node, watch => $w)), 1, 'a watch created by another handle can be used');
    is(scalar($other->DESTROY), 1, 'DESTROY on the handle that created the watch');
    is(scalar($zkh->exists($node, watch => $w)), 1, 'the watch can still be used after its creator is destroyed');
    is(scalar($w->wait()), '', '... and times out');

    my $third = Net::ZooKeeper->new($hosts);
    my $w3 = $third->watch(timeout => 20);
    ok($third->exists($node, watch => $w3), 'a watch assigned on a handle');
    is(scalar($third->DESTROY), 1, 'DESTROY on that handle returns true');
    is($w3->{event}, 0, 'closing the handle delivers no notification to its watch');
    is(scalar($w3->wait()), '', '... and wait on it times out');
    is($w3->{timeout}, 20, '... the watch keeps its timeout');
    ok($zkh->get($node, watch => $w3), 'the watch can be reused with a live handle');
    is(scalar($w3->wait(timeout => 0)), '', '... and times out there too');
}

ok(delete_tree($zkh, $root), 'delete the test nodes');
is(scalar($zkh->DESTROY), 1, 'DESTROY returns true');

done_testing();
