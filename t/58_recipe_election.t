#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Election with Perl participants only, in both
# layouts: one leader among three handles, the next in sequence order
# takes over when the leader stops or its session closes, on_change from
# dispatch, and leadership reported lost after the session expired.  Every
# wait is bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(close_session);
use Net::ZooKeeper qw(:errors :acls :events :states);
use Net::ZooKeeper::Recipe::Election;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my %NAME = (
    curator => qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-latch-\d{10}\z/,
    kazoo   => qr/\A[0-9a-f]{32}__lock__\d{10}\z/,
);

# How many of the elections say they lead.
sub leaders { scalar grep { $_->is_leader } @_ }

for my $layout (qw(curator kazoo)) {
    my $path = "$root/$layout/a/election";    # parents missing: the election makes them
    my @h = map { Net::ZooKeeper->new($hosts) } 1 .. 3;
    my %changes;
    my @e = map {
        my $id = "p$_";
        Net::ZooKeeper::Recipe::Election->new(
            handle => $h[$_], path => $path, layout => $layout, identifier => $id,
            on_change => sub { push @{ $changes{$id} }, $_[1] })
    } 0 .. 2;
    ok(!$e[0]->is_leader, "$layout: not leader before start");
    ok($_->start, "$layout: start " . $_->identifier) for @e;
    like($_->node, $NAME{$layout}, "$layout: node name " . $_->node) for $e[0];
    is($zkh->get("$path/" . $e[1]->node), 'p1', "$layout: node data is the identifier");
    ok($e[0]->await_leadership(timeout => 10), "$layout: the first to join leads");
    ok(!$e[1]->await_leadership(timeout => 0.3), "$layout: the second does not");
    is($e[1]->error, ZOPERATIONTIMEOUT, "$layout: ... and times out");
    is(leaders(@e), 1, "$layout: exactly one leader among three");
    is_deeply([ $e[2]->participants ], [qw(p0 p1 p2)], "$layout: participants in sequence order");
    is($e[2]->leader_id, 'p0', "$layout: every handle sees p0 lead");
    is_deeply([ $e[0]->participant_nodes ], [ map { $_->node } @e ], "$layout: nodes in join order");

    # The leader stops: the next in sequence order (p1) leads, not p2.
    ok($e[0]->stop, "$layout: the leader stops");
    ok($e[1]->await_leadership(timeout => 10), "$layout: p1 takes over");
    ok(!$e[2]->is_leader, "$layout: p2 still waits");
    is(leaders(@e), 1, "$layout: still one leader");
    is_deeply($changes{p1}, [1], "$layout: p1's on_change called with true");
    is($e[2]->leader_id, 'p1', "$layout: and everyone sees p1 lead");

    # The leader's session closes: its ephemeral node goes, p2 leads.
    ok(close_session($hosts, $h[1], $zkh, "$path/" . $e[1]->node), "$layout: p1's session closed");
    # Only dispatch here: the code-ref watch on p1's node runs on_change.
    my $end = time + 10;
    $h[2]->dispatch(timeout => 500) until $changes{p2} || time > $end;
    is_deeply($changes{p2}, [1], "$layout: p2's on_change called from dispatch with true");
    ok($e[2]->is_leader, "$layout: p2 took over when p1's session closed");
    is_deeply([ $e[2]->participants ], ['p2'], "$layout: p2 alone");

    # A participant rejoining queues last.
    ok($e[0]->start, "$layout: p0 joins again");
    ok(!$e[0]->await_leadership(timeout => 0.3), "$layout: ... behind the leader");
    is_deeply([ $e[0]->participants ], [qw(p2 p0)], "$layout: p0 now after p2");
    ok($e[2]->stop, "$layout: p2 stops");
    ok($e[0]->await_leadership(timeout => 10), "$layout: p0 leads again");
    $e[0]->stop;
    is(scalar(() = $zkh->get_children($path)), 0, "$layout: no node left");
}

# Lost: the session expires while leading.  A second handle takes over the
# session (session_id) and closes it, so the first one hears that its
# session expired when it reconnects (the pattern of t/55_recipe_lock.t).
{
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my @changes;
    my $election = Net::ZooKeeper::Recipe::Election->new(
        handle => $h, path => "$root/expiry", identifier => 'doomed', on_change => sub { push @changes, $_[1] });
    ok($election->start && $election->await_leadership(timeout => 10), 'expiry: leading');
    my $w = $h->watch;
    $h->exists("$root/expiry", watch => $w);
    ok(close_session($hosts, $h, $zkh, "$root/expiry/" . $election->node), 'expiry: a second handle on the same session closed it');
    for (1 .. 40) {
        last if $w->{state} == ZOO_EXPIRED_SESSION_STATE;
        $w->wait(timeout => 500);
        $h->exists('/') if $w->{state} != ZOO_EXPIRED_SESSION_STATE;   # a call makes it reconnect and hear
    }
    is($w->{state}, ZOO_EXPIRED_SESSION_STATE, 'expiry: the session expired');
    ok(!$election->is_leader, 'expiry: is_leader is false');
    ok($election->lost, 'expiry: lost');
    ok(!$election->await_leadership(timeout => 1), 'expiry: await_leadership does not claim it');
    $h->dispatch;
    is_deeply(\@changes, [1, 0], 'expiry: on_change true, then false');
}

eval { Net::ZooKeeper::Recipe::Election->new(handle => $zkh, path => "$root/x", layout => 'zoo') };
like($@, qr/layout must be/, 'an unknown layout croaks');
eval { Net::ZooKeeper::Recipe::Election->new(handle => $zkh, path => "$root/x", colour => 1) };
like($@, qr/unknown option: colour/, 'an unknown option croaks');

done_testing;
