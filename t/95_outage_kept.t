#!/usr/bin/perl
# An outage longer than the session timeout does not end the session (as with
# the ZooKeeper C client, which the original Net::ZooKeeper wraps): the client
# never ends a session by itself, it keeps trying the servers for as long as
# the handle lives, and a server that comes back with its data gets the same
# session, with its ephemeral nodes and armed watches.  Only a server can say
# that a session expired.
#
# A private standalone server (t/lib/ZKTest/Ensemble.pm, size 1, tickTime
# 2000: session timeouts of 4-40 s allowed) is stopped with its data kept for
# 2.5 times the negotiated session timeout (4 s) and started again.  A
# restarted server loads the sessions it had and gives each a fresh timeout,
# so a client that comes back within it continues its session.
#   Part 1: calls during the outage fail with ZCONNECTIONLOSS, at once (the
#           server refuses connections) - never ZOPERATIONTIMEOUT,
#           ZSESSIONEXPIRED or ZINVALIDSTATE; after the restart the same
#           session_id is in use, the ephemeral node is still there (also for
#           a new handle), and a get watch and an exists watch armed before the
#           outage fire for changes made after it.
#   Part 2: the same with no call at all during the outage or after the
#           restart until the handle has reconnected by itself: the armed watch
#           shows ZOO_CONNECTED_STATE again without any call waiting.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

$SIG{PIPE} = 'IGNORE';

my $srv = ZKTest::Ensemble->start_or_skip(size => 1);

my $root    = ZKTest::test_root();
my $TIMEOUT = 4000;
my $OUTAGE  = 2.5;      # times the negotiated session timeout

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.02) }

# Waits (bounded) until watch $w shows $event - or shows that the session
# expired, after which it would wait for nothing.
sub watch_sees {
    my ($w, $event) = @_;
    eventually(sub { $w->{event} == $event || $w->{state} == ZOO_EXPIRED_SESSION_STATE });
    return $w->{event} == $event;
}

# The same for a state.
sub watch_sees_state {
    my ($w, $state) = @_;
    eventually(sub { $w->{state} == $state || $w->{state} == ZOO_EXPIRED_SESSION_STATE });
    return $w->{state} == $state;
}

sub owner_of { sprintf '%.0f', unpack('q', substr($_[0], 0, 8)) }
sub hex_sid  { unpack 'H*', $_[0] // '' }

{
    my $setup = Net::ZooKeeper->new($srv->hosts);
    is($setup->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
    ok($setup->DESTROY, 'DESTROY the setup handle');
}

# A handle with an ephemeral node, a get watch on one node and an exists
# (creation) watch on a missing one.
sub prepare {
    my ($part) = @_;
    my %p = (part => $part);
    my $zkh = $p{zkh} = Net::ZooKeeper->new($srv->hosts, session_timeout => $TIMEOUT);
    isa_ok($zkh, 'Net::ZooKeeper', "$part: a handle");
    $p{eph}     = "$root/eph_$part";
    $p{watched} = "$root/watched_$part";
    $p{later}   = "$root/later_$part";
    is($zkh->create($p{eph}, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $p{eph},
       "$part: the handle creates an ephemeral node");
    is($zkh->create($p{watched}, 'w0', acl => ZOO_OPEN_ACL_UNSAFE), $p{watched},
       "$part: and a node to watch");
    is($zkh->{session_timeout}, $TIMEOUT, "$part: the negotiated session timeout is $TIMEOUT ms");
    $p{sid} = $zkh->{session_id};
    is(length $p{sid}, 24, "$part: the handle has a session");
    $p{wget} = $zkh->watch(timeout => 120000);
    is($zkh->get($p{watched}, watch => $p{wget}), 'w0', "$part: a watch armed by get on $p{watched}");
    $p{wexists} = $zkh->watch(timeout => 120000);
    ok(!$zkh->exists($p{later}, watch => $p{wexists}), "$part: a creation watch armed by exists on $p{later}");
    is($zkh->get_error, ZNONODE, "$part: ... (ZNONODE)");
    return \%p;
}

# After the restart: the same session, its ephemeral node, and the watches fire.
sub check_resumed {
    my ($p) = @_;
    my ($part, $zkh) = @$p{qw(part zkh)};
    is(hex_sid($zkh->{session_id}), hex_sid($p->{sid}), "$part: session_id is unchanged: the same session");
    ok($zkh->exists($p->{eph}), "$part: the handle still sees its ephemeral node")
        or diag('get_error: ' . $zkh->get_error);

    my $second = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
    my $stat = $second->stat;
    ok(guard(60, 'exists on a second handle', sub { $second->exists($p->{eph}, stat => $stat) }),
       "$part: a second handle sees the ephemeral node") or diag('get_error: ' . $second->get_error);
    is($stat->{ephemeral_owner}, owner_of($p->{sid}), "$part: ... owned by the resumed session");
    isnt(hex_sid($second->{session_id}), hex_sid($p->{sid}), "$part: ... (the second handle has a session of its own)");

    for my $w (@$p{qw(wget wexists)}) {
        isnt($w->{state}, ZOO_EXPIRED_SESSION_STATE, "$part: an armed watch never showed the session expired")
            or diag("event $w->{event}, state $w->{state}");
    }
    ok($second->set($p->{watched}, 'w1'), "$part: the second handle changes the watched node");
    ok(watch_sees($p->{wget}, ZOO_CHANGED_EVENT),
       "$part: the get watch armed before the outage shows ZOO_CHANGED_EVENT")
        or diag("event $p->{wget}{event}, state $p->{wget}{state}");
    is($p->{wget}{state}, ZOO_CONNECTED_STATE, "$part: ... with ZOO_CONNECTED_STATE");
    is($second->create($p->{later}, 'l', acl => ZOO_OPEN_ACL_UNSAFE), $p->{later},
       "$part: the second handle creates the missing node");
    ok(watch_sees($p->{wexists}, ZOO_CREATED_EVENT),
       "$part: the exists watch armed before the outage shows ZOO_CREATED_EVENT")
        or diag("event $p->{wexists}{event}, state $p->{wexists}{state}");
    is($zkh->get($p->{watched}), 'w1', "$part: the handle reads the new data");

    ok(guard(30, 'DESTROY', sub { $zkh->DESTROY }), "$part: DESTROY the handle");
    ok(!$second->exists($p->{eph}), "$part: its ephemeral node is gone at once: the close reached the server");
    is($second->get_error, ZNONODE, "$part: ... (ZNONODE)");
    ok($second->DESTROY, "$part: DESTROY the second handle");
}

## Part 1: calls during the outage.

{
    my $p = prepare('calls');
    my $zkh = $p->{zkh};
    my $outage = $OUTAGE * $zkh->{session_timeout} / 1000;

    ok($srv->stop_member(1), 'calls: stop the server (its data kept)');
    my $t_down = Time::HiRes::time();
    my (%codes, $slowest);
    my $calls = 0;
    while (Time::HiRes::time() - $t_down < $outage) {
        my $t0 = Time::HiRes::time();
        my $r = guard(60, "exists #" . ($calls + 1) . ' during the outage', sub { $zkh->exists($root) });
        my $took = Time::HiRes::time() - $t0;
        $slowest = $took if !defined $slowest || $took > $slowest;
        $calls++;
        $codes{ $r ? 'success' : $zkh->get_error }++;
        Time::HiRes::sleep(0.25);
    }
    my $expired_meanwhile = grep { $_->{state} == ZOO_EXPIRED_SESSION_STATE } @$p{qw(wget wexists)};
    ok($srv->start_member(1), 'calls: start the server again with its data');
    my $t_up = Time::HiRes::time();
    note(sprintf 'calls: outage %.1f s (%.1f x the session timeout); %d calls meanwhile, the slowest took %.3f s',
         $t_up - $t_down, ($t_up - $t_down) * 1000 / $TIMEOUT, $calls, $slowest // 0);
    ok($calls > 0, 'calls: calls were made during the outage');
    is_deeply(\%codes, { ZCONNECTIONLOSS() => $calls },
              'calls: every call during the outage failed with ZCONNECTIONLOSS')
        or diag('codes: ' . join(', ', map { "$_ x $codes{$_}" } sort keys %codes));
    ok(!$expired_meanwhile, 'calls: the armed watches did not report an expiry during the outage');
    is($p->{wget}{event}, ZOO_SESSION_EVENT, 'calls: the get watch got a session event')
        or diag("event $p->{wget}{event}, state $p->{wget}{state}");

    # The first calls after the restart may still fail while the handle
    # reconnects; with connection errors only.
    my ($ok, %after) = (0);
    for my $try (1 .. 200) {
        last if $ok = guard(60, "exists #$try after the restart", sub { $zkh->exists($root) });
        $after{ $zkh->get_error }++;
        last if $zkh->get_error == ZINVALIDSTATE;    # for good
        Time::HiRes::sleep(0.05);
    }
    ok($ok, 'calls: calls succeed again after the restart')
        or diag('codes: ' . join(', ', map { "$_ x $after{$_}" } sort keys %after));
    ok(!grep({ $_ != ZCONNECTIONLOSS } keys %after), 'calls: ... failing meanwhile with ZCONNECTIONLOSS only')
        or diag('codes: ' . join(', ', map { "$_ x $after{$_}" } sort keys %after));
    note(sprintf 'calls: the first successful call came %.2f s after the server was back',
                 Time::HiRes::time() - $t_up) if $ok;
    ok(watch_sees_state($p->{wget}, ZOO_CONNECTED_STATE),
       'calls: the get watch shows ZOO_CONNECTED_STATE') or diag("state $p->{wget}{state}");
    check_resumed($p);
}

## Part 2: no call during the outage; the handle reconnects by itself.

{
    my $p = prepare('idle');
    my $zkh = $p->{zkh};
    my $w = $p->{wget};
    my $outage = $OUTAGE * $zkh->{session_timeout} / 1000;

    ok($srv->stop_member(1), 'idle: stop the server (its data kept)');
    my $t_down = Time::HiRes::time();
    my @states;
    my $record = sub { push @states, $w->{state} unless @states && $states[-1] == $w->{state} };
    # The outage itself: watch states are read, no call is made.
    while (Time::HiRes::time() - $t_down < $outage) {
        $record->();
        Time::HiRes::sleep(0.05);
    }
    ok($srv->start_member(1), 'idle: start the server again with its data');
    my $t_up = Time::HiRes::time();
    note(sprintf 'idle: outage %.1f s (%.1f x the session timeout)', $t_up - $t_down,
         ($t_up - $t_down) * 1000 / $TIMEOUT);
    my $back = eventually(sub { $record->(); $w->{state} == ZOO_CONNECTED_STATE
                                             || $w->{state} == ZOO_EXPIRED_SESSION_STATE }, 30)
               && $w->{state} == ZOO_CONNECTED_STATE;
    ok($back, 'idle: without any call the handle reconnects: the get watch shows ZOO_CONNECTED_STATE')
        or diag("event $w->{event}, state $w->{state}");
    note(sprintf 'idle: reconnected %.2f s after the server was back', Time::HiRes::time() - $t_up) if $back;
    note('idle: watch states seen: ' . join(' -> ', @states));
    ok(!grep({ $_ == ZOO_EXPIRED_SESSION_STATE } @states), 'idle: ... and never showed ZOO_EXPIRED_SESSION_STATE')
        or diag("@states");
    ok(grep({ $_ == ZOO_CONNECTING_STATE } @states), 'idle: ... it showed ZOO_CONNECTING_STATE during the outage')
        or diag("@states");
    ok(guard(60, 'exists after reconnecting', sub { $zkh->exists($root) }), 'idle: the first call succeeds')
        or diag('get_error: ' . $zkh->get_error);
    check_resumed($p);
}

{
    my $cleanup = Net::ZooKeeper->new($srv->hosts);
    ok(ZKTest::Util::delete_tree($cleanup, $root), 'delete the test nodes');
    ok($cleanup->DESTROY, 'DESTROY the cleanup handle');
}
ok($srv->stop, 'stop the server');

done_testing();
