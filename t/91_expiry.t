#!/usr/bin/perl
# Session expiry (spec 8.3: ZOO_SESSION_EVENT with ZOO_EXPIRED_SESSION_STATE
# when the server says the session expired; 11.2: from then on every operation
# fails with ZINVALIDSTATE, session_id still reports the old session, DESTROY
# returns true, a new handle is needed; manual new() and wait()).
#
# Part 1 makes the expiry real on the server side: the handle talks to a
# private standalone server through a proxy (t/lib/ZKTest/SilentServer.pm),
# and the proxy is cut off - a network partition, the server stays up.  The
# server hears nothing from the session for longer than its timeout and
# expires it: another session sees the handle's ephemeral node vanish.  Then
# the partition heals, the handle reaches the server again and learns that its
# session is gone.  The server runs with tickTime=500 (session timeouts 1-10 s
# allowed, expiry checked every 0.5 s) so that it expires the 4 s session
# promptly after 4 s.
#
# Part 2 stops the whole server (data kept) for longer than the session
# timeout and starts it again.  Whether the client then gives the session up
# or resumes it (a restarted server tracks the sessions it loads afresh), the
# handle must be consistent: either it reports the expiry (watch, ZINVALIDSTATE,
# ephemeral gone) or it continues the session (watch CONNECTED, calls work,
# ephemeral kept).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use ZKTest::SilentServer;
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

$SIG{PIPE} = 'IGNORE';

my $srv = ZKTest::Ensemble->start_or_skip(size => 1, tick_time => 500);
my $proxy = ZKTest::SilentServer->start(forward_to => $srv->hosts);

my $root = ZKTest::test_root();
my $TIMEOUT = 4000;
my %CONN_ERROR = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT;

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.02) }

my $other = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
is($other->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my $other_sid = unpack 'H*', $other->{session_id};

## Part 1: a partition; the server expires the session.

{
    my $zkh = Net::ZooKeeper->new($proxy->hosts, session_timeout => $TIMEOUT);
    isa_ok($zkh, 'Net::ZooKeeper', 'a handle connected through the proxy');
    my $eph = "$root/eph1";
    is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph,
       'the handle creates an ephemeral node');
    is($zkh->{session_timeout}, $TIMEOUT, "the negotiated session timeout is $TIMEOUT ms");
    my $sid = $zkh->{session_id};
    is(length $sid, 24, 'the handle has a session');

    my $w = $zkh->watch(timeout => 60000);
    ok($zkh->exists($eph, watch => $w), 'a watch armed by exists on the ephemeral node');
    my $wm = $zkh->watch(timeout => 60000);
    ok(!$zkh->exists("$root/missing", watch => $wm), 'a creation watch armed by exists on a missing node');

    ok($proxy->cut, 'cut the handle off from the server (the server keeps running)');
    my $r = guard(60, 'exists during the partition', sub { $zkh->exists($root) });
    ok(!$r, 'a call during the partition fails');
    ok($CONN_ERROR{ $zkh->get_error }, '... with a connection error') or diag('get_error: ' . $zkh->get_error);
    ok(eventually(sub { $w->{state} == ZOO_CONNECTING_STATE }),
       'the watch shows ZOO_CONNECTING_STATE') or diag("event $w->{event}, state $w->{state}");
    is($w->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');

    ok(eventually(sub { !$other->exists($eph) }, 30),
       'the server expires the session: its ephemeral node vanishes for another session');
    is($other->get_error, ZNONODE, '... (ZNONODE)');
    isnt($w->{state}, ZOO_CONNECTED_STATE, '... and the handle has not reconnected meanwhile');

    ok($proxy->heal, 'heal the partition');
    ok(eventually(sub { $w->{state} == ZOO_EXPIRED_SESSION_STATE }, 30),
       'the armed watch then shows ZOO_EXPIRED_SESSION_STATE')
        or diag("event $w->{event}, state $w->{state}");
    is($w->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
    ok($w->wait(timeout => 0), '... and wait() reports it');
    is($wm->{state}, ZOO_EXPIRED_SESSION_STATE, 'the creation watch shows ZOO_EXPIRED_SESSION_STATE too');

    my $first = guard(60, 'exists after the expiry', sub { $zkh->exists($root) });
    ok(!$first, 'after the expiry a call fails');
    my $err = $zkh->get_error;
    ok($err == ZINVALIDSTATE || $err == ZSESSIONEXPIRED,
       '... with ZINVALIDSTATE (or ZSESSIONEXPIRED, for a call racing with the expiry)')
        or diag("get_error: $err");
    my %codes;
    for my $call (
        [ exists       => sub { $zkh->exists($root) } ],
        [ get          => sub { $zkh->get($root) } ],
        [ get_children => sub { $zkh->get_children($root) } ],
        [ create       => sub { $zkh->create("$root/new", '', acl => ZOO_OPEN_ACL_UNSAFE) } ],
        [ set          => sub { $zkh->set($root, 'x') } ],
        [ delete       => sub { $zkh->delete($root) } ],
        [ get_acl      => sub { $zkh->get_acl($root) } ],
        [ set_acl      => sub { $zkh->set_acl($root, ZOO_OPEN_ACL_UNSAFE) } ],
        [ add_auth     => sub { $zkh->add_auth('digest', 'u:p') } ],
    ) {
        my ($name, $code) = @$call;
        guard(60, "$name after the expiry", $code);
        $codes{$name} = $zkh->get_error;
    }
    is_deeply(\%codes, { map { $_ => ZINVALIDSTATE } keys %codes },
              'every kind of call then fails with ZINVALIDSTATE');
    ok(!$other->exists("$root/new"), '... and the create did nothing');
    is($other->get($root), '', '... nor the set');
    my $w2 = $zkh->watch(timeout => 100);
    ok(!$zkh->exists($root, watch => $w2), 'a watch passed to a call after the expiry');
    ok(!$w2->wait, '... never fires');
    is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), 'session_id still reports the expired session');
    ok(guard(30, 'DESTROY', sub { $zkh->DESTROY }), 'DESTROY of the expired handle returns true');

    my $new = Net::ZooKeeper->new($proxy->hosts, session_timeout => $TIMEOUT);
    ok(guard(60, 'exists on a new handle', sub { $new->exists($root) }), 'a new handle works')
        or diag('get_error: ' . $new->get_error);
    ok(!$new->exists($eph), '... and does not see the expired session\'s ephemeral node');
    isnt(unpack('H*', $new->{session_id}), unpack('H*', $sid), '... it has a new session');
    is($new->create($eph, 'n', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph,
       '... and can create the node again');
    ok($new->DESTROY, 'DESTROY the new handle');
}

## Part 2: the server is down for longer than the session timeout.

{
    my $zkh = Net::ZooKeeper->new($srv->hosts, session_timeout => $TIMEOUT);
    my $eph = "$root/eph2";
    is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph,
       'part 2: the handle creates an ephemeral node');
    my $sid = $zkh->{session_id};
    my $w = $zkh->watch(timeout => 60000);
    ok($zkh->exists($eph, watch => $w), 'a watch armed by exists on it');

    ok($srv->stop_member(1), 'stop the server (its data kept)');
    ok(eventually(sub { $w->{state} == ZOO_CONNECTING_STATE }, 30),
       'the watch shows ZOO_CONNECTING_STATE') or diag("state $w->{state}");
    my $r = guard(60, 'exists while the server is down', sub { $zkh->exists($root) });
    ok(!$r, 'a call while the server is down fails');
    my $err = $zkh->get_error;
    ok($CONN_ERROR{$err} || $err == ZINVALIDSTATE || $err == ZSESSIONEXPIRED,
       '... with a connection error (or the expiry, once the client gave the session up)')
        or diag("get_error: $err");
    # Wait well past the session timeout: for the expiry, if the client gives
    # the session up by itself, else for 3 timeouts.
    eventually(sub { $w->{state} == ZOO_EXPIRED_SESSION_STATE }, 3 * $TIMEOUT / 1000);
    ok($srv->start_member(1), 'start the server again with its data');

    # The first call after the restart may still meet a reconnect attempt that
    # failed (ZCONNECTIONLOSS): the handle is asked until it answers (bounded).
    my $ok;
    guard(60, 'exists after the restart', sub {
        eventually(sub { $ok = $zkh->exists($root); $ok || !$CONN_ERROR{ $zkh->get_error } }, 50);
    });
    if ($ok) {
        note('the session was continued after the restart');
        ok(eventually(sub { $w->{state} == ZOO_CONNECTED_STATE }),
           'the session continues: the watch shows ZOO_CONNECTED_STATE');
        is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), '... session_id is unchanged');
        # The other handle's connection went down with the server too: it is asked
        # until it answers, as $zkh was above.
        my $kept;
        guard(60, 'exists on the other handle', sub {
            eventually(sub { $kept = $other->exists($eph); $kept || !$CONN_ERROR{ $other->get_error } }, 50);
        });
        ok($kept, '... and the ephemeral node is kept') or diag('get_error: ' . $other->get_error);
    }
    else {
        note('the session expired');
        my $err = $zkh->get_error;
        ok($err == ZINVALIDSTATE || $err == ZSESSIONEXPIRED,
           'the session expired: a call fails with ZINVALIDSTATE (or ZSESSIONEXPIRED once)')
            or diag("get_error: $err");
        ok(eventually(sub { $w->{state} == ZOO_EXPIRED_SESSION_STATE }),
           '... the watch shows ZOO_EXPIRED_SESSION_STATE') or diag("state $w->{state}");
        ok(!guard(60, 'exists again', sub { $zkh->exists($root) }) && $zkh->get_error == ZINVALIDSTATE,
           '... later calls fail with ZINVALIDSTATE');
        ok(eventually(sub { !$other->exists($eph) }, 30),
           '... and the server drops the ephemeral node of the expired session');
    }
    ok(guard(30, 'DESTROY', sub { $zkh->DESTROY }), 'DESTROY the part 2 handle');
}

# (it may still be reconnecting: its calls fail with ZCONNECTIONLOSS until then)
ok(eventually(sub { guard(60, 'exists on the other handle', sub { $other->exists($root) }) }),
   'a handle with a 10 s session rode out the short restart: its calls work')
    or diag('get_error: ' . $other->get_error);
is(unpack('H*', $other->{session_id}), $other_sid, '... in its session');
my $cleanup = Net::ZooKeeper->new($srv->hosts);
for my $child ($cleanup->get_children($root)) {
    $cleanup->delete("$root/$child");
}
ok($cleanup->delete($root), 'delete the test node');
ok($cleanup->DESTROY, 'DESTROY the cleanup handle');
ok($proxy->stop, 'stop the proxy');
ok($srv->stop, 'stop the server');

done_testing();
