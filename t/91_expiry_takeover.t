#!/usr/bin/perl
# A session taken over by another client (session_id) and closed there: the
# first handle's armed watches hear that the session expired, whatever the
# client reports of its end (it can end "closed" rather than "expired" then,
# seen in 1 of 4 rounds before the fix), and its calls then fail for good.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(close_session);
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root");

my $rounds = 12;
for my $round (1 .. $rounds) {
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my $node = "$root/eph$round";
    is($h->create($node, '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $node, "round $round: an ephemeral node");
    my $w = $h->watch;
    my @code;
    ok($h->get_children($root, watch => $w), "round $round: a child watch armed");
    ok($h->exists($root, watch => sub { push @code, [@_] }), "round $round: a code-ref watch armed");
    # The first handle may take the session back (it reconnects) before the
    # second one closes it: again until a third handle sees the node gone.
    ok(close_session($hosts, $h, $zkh, $node), "round $round: another client took the session over and closed it");
    # Calls make the first handle reconnect and learn of the end: until they
    # fail with ZINVALIDSTATE (bounded; a call may still be answered while
    # the server has not yet dropped this handle's connection).
    my $end = time + 20;
    until (!$h->exists('/') && $h->get_error == ZINVALIDSTATE) {
        last if time > $end;
        # A fired watch returns at once: pause instead.
        $w->{event} ? select(undef, undef, undef, 0.05) : $w->wait(timeout => 250);
    }
    # The child watch may instead have had its node event (the ephemeral
    # child's deletion) when the server still sent it to this handle's
    # connection; a watch that fired for its node hears no session event.
    ok($w->{state} == ZOO_EXPIRED_SESSION_STATE
           || ($w->{event} == ZOO_CHILD_EVENT && $w->{state} == ZOO_CONNECTED_STATE),
       "round $round: the Watch object hears the expiry (or the deletion, when that came first)")
        or diag("event $w->{event}, state $w->{state}");
    $h->dispatch(timeout => 1000) until grep({ $_->[1] == ZOO_EXPIRED_SESSION_STATE } @code) || !$h->pending_callbacks;
    ok((grep { $_->[0] == ZOO_SESSION_EVENT && $_->[1] == ZOO_EXPIRED_SESSION_STATE } @code),
       "round $round: the code-ref watch is called with the expiry");
    ok(!$h->exists('/'), "round $round: calls fail");
    is($h->get_error, ZINVALIDSTATE, "round $round: ... with ZINVALIDSTATE");
}

ok($zkh->delete($root), "delete $root");
done_testing();
