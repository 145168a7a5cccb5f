#!/usr/bin/perl
# Which events a watch reports, per call type (spec 8.3); notifications that
# are recorded in the background without wait() (8.1); two records for the
# same path both firing (8.3); calls that arm nothing (8.3, 8.4); and session
# events when the connection to the server is lost and comes back (8.2, 8.3,
# 11.2), using a private server that is stopped and restarted on the same port
# with the same data directory, and then replaced by a server that does not
# know the session, which expires it.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use File::Temp ();

use ZKTest;
use ZKTest::Server;
use ZKTest::Util qw(delete_tree wait_until);
use Net::ZooKeeper qw(:errors :acls :events :states);

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

# The handle whose watches are checked, and another session that makes changes.
my $zkh   = Net::ZooKeeper->new($hosts);
my $other = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

is($other->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

sub fires_with {
    my ($w, $event, $what) = @_;
    ok($w->wait(timeout => 10000), "$what: the watch fires");
    is($w->{event}, $event, "$what: event is " . event_name($event));
    is($w->{state}, ZOO_CONNECTED_STATE, "$what: state is ZOO_CONNECTED_STATE");
    is($zkh->{pending_watches}, 0, "$what: the fired watch is no longer pending");
}

sub event_name {
    my %n = (
        ZOO_CREATED_EVENT, 'ZOO_CREATED_EVENT', ZOO_DELETED_EVENT, 'ZOO_DELETED_EVENT',
        ZOO_CHANGED_EVENT, 'ZOO_CHANGED_EVENT', ZOO_CHILD_EVENT,   'ZOO_CHILD_EVENT',
        ZOO_SESSION_EVENT, 'ZOO_SESSION_EVENT',
    );
    return $n{ $_[0] } // $_[0];
}

# The last transaction id a server reports (srvr), as a number, or undef.
sub zxid_of {
    my ($srv) = @_;
    my $srvr = ZKTest::Server::four_letter_word($srv->hosts, 'srvr') // '';
    return $srvr =~ /^Zxid: (0x[0-9a-fA-F]+)/m ? hex($1) : undef;
}

## Events per call type (8.3)

{
    my $node = "$root/node";
    my $w = $zkh->watch(timeout => 10000);

    ok(!$zkh->exists($node, watch => $w), 'exists with a watch on a missing node returns false');
    is($zkh->{pending_watches}, 1, 'exists on a missing node leaves a pending watch');
    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'another session creates the node');
    fires_with($w, ZOO_CREATED_EVENT, 'exists on a missing node, node created');

    ok($zkh->exists($node, watch => $w), 'exists with a watch on an existing node');
    ok($other->set($node, 'b'), 'another session sets the node');
    fires_with($w, ZOO_CHANGED_EVENT, 'exists, node data changed');

    ok($zkh->exists($node, watch => $w), 'exists with a watch on an existing node');
    ok($other->delete($node), 'another session deletes the node');
    fires_with($w, ZOO_DELETED_EVENT, 'exists, node deleted');

    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'the node is created again');
    is($zkh->get($node, watch => $w), 'a', 'get with a watch returns the data');
    ok($other->set($node, 'c'), 'another session sets the node');
    fires_with($w, ZOO_CHANGED_EVENT, 'get, node data changed');

    is($zkh->get($node, watch => $w), 'c', 'get with a watch returns the new data');
    ok($other->delete($node), 'another session deletes the node');
    fires_with($w, ZOO_DELETED_EVENT, 'get, node deleted');

    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'the node is created again');
    is(scalar($zkh->get_children($node, watch => $w)), 0, 'get_children with a watch on a node without children');
    is($other->create("$node/c", '', acl => ZOO_OPEN_ACL_UNSAFE), "$node/c", 'another session creates a child');
    fires_with($w, ZOO_CHILD_EVENT, 'get_children, child created');

    is(scalar($zkh->get_children($node, watch => $w)), 1, 'get_children with a watch on a node with a child');
    ok($other->set("$node/c", 'x'), 'another session sets the child\'s data');
    ok($other->set($node, 'x'), 'another session sets the node\'s own data');
    ok($other->delete("$node/c"), 'another session deletes the child');
    fires_with($w, ZOO_CHILD_EVENT, 'get_children, data changes do not fire, child deleted');

    is(scalar($zkh->get_children($node, watch => $w)), 0, 'get_children with a watch again');
    ok($other->delete($node), 'another session deletes the watched node');
    fires_with($w, ZOO_DELETED_EVENT, 'get_children, node deleted');
}

## Notifications are recorded without wait() (8.1)

{
    my $node = "$root/bg";
    my $w = $zkh->watch(timeout => 10000);
    ok(!$zkh->exists($node, watch => $w), 'a watch for the creation of a node');
    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'another session creates the node');
    ok(wait_until(sub { $w->{event} != 0 }), 'the event attribute changes without wait() being called');
    is($w->{event}, ZOO_CREATED_EVENT, '... to ZOO_CREATED_EVENT');
    is($w->{state}, ZOO_CONNECTED_STATE, '... with state ZOO_CONNECTED_STATE');

    my $w2 = $zkh->watch(timeout => 10000);
    is($zkh->get($node, watch => $w2), 'a', 'a watch assigned by get');
    is($zkh->{pending_watches}, 1, '... is pending');
    ok($other->set($node, 'b'), 'another session sets the node');
    ok(wait_until(sub { $zkh->{pending_watches} == 0 }),
       'pending_watches drops to 0 without wait() being called');
    is($w2->{event}, ZOO_CHANGED_EVENT, 'the watch shows ZOO_CHANGED_EVENT without wait()');
    ok($w2->wait(timeout => 0), 'wait(timeout => 0) then returns true at once');
    ok($other->delete($node), "delete $node");
}

## The same path watched twice: both records fire (8.3)

{
    my $node = "$root/twice";
    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");

    my $w1 = $zkh->watch(timeout => 10000);
    my $w2 = $zkh->watch(timeout => 10000);
    ok($zkh->exists($node, watch => $w1), 'one watch assigned by exists');
    is($zkh->get($node, watch => $w2), 'a', 'another watch on the same node assigned by get');
    is($zkh->{pending_watches}, 2, 'both are pending');
    ok($other->set($node, 'b'), 'another session sets the node');
    ok($w1->wait(), 'the first watch fires');
    ok($w2->wait(), 'the second watch on the same node fires too');
    is($w1->{event}, ZOO_CHANGED_EVENT, 'the first watch shows ZOO_CHANGED_EVENT');
    is($w2->{event}, ZOO_CHANGED_EVENT, 'the second watch shows ZOO_CHANGED_EVENT');
    is($zkh->{pending_watches}, 0, 'neither is pending any more');

    ok($zkh->exists($node, watch => $w1), 'a watch assigned by exists');
    ok($zkh->exists($node, watch => $w1), 'the same watch object reused for the same node');
    is($zkh->{pending_watches}, 2, 'both records are pending');
    ok($other->set($node, 'c'), 'another session sets the node');
    ok($w1->wait(), 'the watch fires');
    is($w1->{event}, ZOO_CHANGED_EVENT, '... with ZOO_CHANGED_EVENT');
    ok(wait_until(sub { $zkh->{pending_watches} == 0 }),
       'the record the reused object let go of fires too (pending_watches drops to 0)')
        or diag("pending_watches: $zkh->{pending_watches}");
    ok($other->delete($node), "delete $node");
}

## Calls that arm nothing never fire (8.3, 8.4)

{
    my $node = "$root/later";
    my $g  = $zkh->watch(timeout => 10000);
    my $gc = $zkh->watch(timeout => 10000);
    my $ob = $zkh->watch(timeout => 10000);
    is($zkh->get($node, watch => $g), undef, 'get with a watch on a missing node returns undef');
    is($zkh->get_error, ZNONODE, '... with ZNONODE');
    is(scalar($zkh->get_children($node, watch => $gc)), undef, 'get_children with a watch on a missing node returns undef');
    is($zkh->{pending_watches}, 2, 'both unarmed watches are counted as pending');
    ok(!$zkh->exists($node, watch => $ob), 'an observer watch for the creation of the node');
    is($other->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'another session creates the node');
    ok($ob->wait(), 'the observer sees the creation');
    is($g->{event}, 0, 'a watch from get on a missing node does not fire on creation');
    is($gc->{event}, 0, 'a watch from get_children on a missing node does not fire on creation');
    ok(!$g->wait(timeout => 0), 'wait on the get watch returns false');
    is($other->create("$node/c", '', acl => ZOO_OPEN_ACL_UNSAFE), "$node/c", 'another session creates a child');
    ok($other->set($node, 'b'), 'another session sets the node');
    ok($zkh->exists($node, watch => $ob), 'the observer is reused for the node\'s deletion');
    ok($other->delete("$node/c") && $other->delete($node), 'another session deletes the nodes');
    ok($ob->wait(), 'the observer sees the deletion');
    is($ob->{event}, ZOO_DELETED_EVENT, '... as ZOO_DELETED_EVENT');
    is($g->{event}, 0, 'the get watch still has not fired');
    is($gc->{event}, 0, 'the get_children watch still has not fired');
    is($zkh->{pending_watches}, 2, 'unarmed watches stay counted in pending_watches');
    undef $g;
    undef $gc;
    is($zkh->{pending_watches}, 2, '... even after their watch objects are released');
}

ok(delete_tree($other, $root), 'delete the test nodes');
ok($zkh->DESTROY, 'DESTROY the watching handle');
ok($other->DESTROY, 'DESTROY the other handle');

## Session events across a server stop and restart (8.2, 8.3, 11.2)

SKIP: {
    my $data = File::Temp->newdir('zk62data-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $port = ZKTest::Server::free_port();
    my %opt  = (port => $port, config => { dataDir => "$data" });
    my $srv  = eval { ZKTest::Server->start(%opt) };
    unless ($srv) {
        my $why = "cannot start a private server: " . ($@ || $ZKTest::Server::ERROR || 'unknown');
        die $why if ZKTest::server_required();
        skip $why, 1;
    }

    my $h = Net::ZooKeeper->new($srv->hosts, session_timeout => 40000);
    my $node = $root;
    is($h->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'private server: create a node');
    my $sid = $h->{session_id};
    is(length($sid), 24, 'the handle is connected');

    my $wn = $h->watch(timeout => 20000);
    my $wc = $h->watch(timeout => 20000);
    my $wm = $h->watch(timeout => 20000);
    ok($h->exists($node, watch => $wn), 'a watch armed by exists');
    is(scalar($h->get_children($node, watch => $wc)), 0, 'a watch armed by get_children');
    is($h->get("$node/missing", watch => $wm), undef, 'a watch from get on a missing node (never armed)');
    is($h->{pending_watches}, 3, 'three watches are pending');

    ok($srv->stop, 'stop the server');
    ok($wn->wait(), 'the exists watch fires when the connection is lost');
    is($wn->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
    is($wn->{state}, ZOO_CONNECTING_STATE, '... and state ZOO_CONNECTING_STATE');
    ok($wc->wait(), 'the get_children watch fires when the connection is lost');
    is($wc->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
    is($wc->{state}, ZOO_CONNECTING_STATE, '... and state ZOO_CONNECTING_STATE');
    is($wm->{event}, 0, 'the never-armed get watch gets no session event');
    ok(!$wm->wait(timeout => 0), '... and wait on it returns false');
    is($h->{pending_watches}, 1, 'only the never-armed watch is still pending');

    my $srv2 = eval { ZKTest::Server->start(%opt) };
    ok($srv2, 'restart the server on the same port with the same data directory')
        or diag($@ || $ZKTest::Server::ERROR);
    ok(wait_until(sub { $wn->{state} == ZOO_CONNECTED_STATE }, 45),
       'after reconnecting, the fired exists watch shows state ZOO_CONNECTED_STATE')
        or diag("state: $wn->{state}");
    is($wn->{event}, ZOO_SESSION_EVENT, '... and still ZOO_SESSION_EVENT');
    ok(wait_until(sub { $wc->{state} == ZOO_CONNECTED_STATE }, 5),
       'the fired get_children watch shows state ZOO_CONNECTED_STATE too');
    is($wm->{event}, 0, 'the never-armed get watch still has event 0');
    is($wm->{state}, 0, '... and state 0');
    is($h->{pending_watches}, 1, 'and it is still counted as pending');
    is(unpack('H*', $h->{session_id}), unpack('H*', $sid), 'the handle is in the same session');
    ok($h->exists($node), 'the handle works again');

    # Node watches stay registered across the reconnect until their node event.
    ok($h->set($node, 'b'), 'set the watched node');
    ok(wait_until(sub { $wn->{event} == ZOO_CHANGED_EVENT }),
       'the exists watch, armed before the outage, then shows ZOO_CHANGED_EVENT')
        or diag("event: $wn->{event}");
    is($wn->{state}, ZOO_CONNECTED_STATE, '... with ZOO_CONNECTED_STATE');
    is($h->create("$node/c", '', acl => ZOO_OPEN_ACL_UNSAFE), "$node/c", 'create a child of the watched node');
    ok(wait_until(sub { $wc->{event} == ZOO_CHILD_EVENT }),
       'the get_children watch, armed before the outage, then shows ZOO_CHILD_EVENT')
        or diag("event: $wc->{event}");
    is($wm->{event}, 0, 'the never-armed get watch never fires');

    ok(delete_tree($h, $node), 'private server: delete the nodes');

    # Session expiry.  A server started with an empty data directory on the same
    # port does not know the session.  It refuses the client until its own
    # transaction id has passed the last one the client has seen, and then
    # tells the client that its session has expired.
    my $we = $h->watch(timeout => 20000);
    ok(!$h->exists($node, watch => $we), 'a watch armed by exists before the session expires');
    my $seen = zxid_of($srv2);
    ok(defined $seen, 'the server reports its last transaction id');
    ok($srv2->stop, 'stop the server again');
    ok($we->wait(), 'the watch fires when the connection is lost');
    is($we->{state}, ZOO_CONNECTING_STATE, '... with state ZOO_CONNECTING_STATE');

    my $data2 = File::Temp->newdir('zk62data-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $srv3 = eval { ZKTest::Server->start(port => $port, config => { dataDir => "$data2" }) };
    ok($srv3, 'start a server with an empty data directory on the same port')
        or diag($@ || $ZKTest::Server::ERROR);
    my $helper = Net::ZooKeeper->new($srv3->hosts);
    my $filler = "$root-filler";
    is($helper->create($filler, '', acl => ZOO_OPEN_ACL_UNSAFE), $filler, 'another session writes to the new server');
    my $passed = 0;
    for my $i (1 .. 100) {
        $helper->set($filler, $i) for 1 .. 10;
        last if $passed = (zxid_of($srv3) // 0) > ($seen // 0);
    }
    ok($passed, 'the new server\'s transaction id passes the one the client has seen');
    ok(wait_until(sub { $we->{state} == ZOO_EXPIRED_SESSION_STATE }, 45),
       'the watch then shows state ZOO_EXPIRED_SESSION_STATE')
        or diag("event $we->{event}, state $we->{state}");
    is($we->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
    is($wm->{event}, 0, 'the never-armed get watch does not fire on expiry either');
    is($wn->{event}, ZOO_CHANGED_EVENT, 'a watch whose node event came earlier keeps it');
    ok(!$h->exists($filler), 'after expiry the handle\'s calls fail');
    is($h->get_error, ZINVALIDSTATE, '... with ZINVALIDSTATE');
    is(unpack('H*', $h->{session_id}), unpack('H*', $sid), 'session_id still reports the expired session');
    ok($h->DESTROY, 'DESTROY of a handle whose session expired returns true');
    ok($helper->delete($filler), 'delete the filler node');
    ok($helper->DESTROY, 'DESTROY the other session');
    $srv3->stop if $srv3;
}

done_testing();
