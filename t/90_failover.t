#!/usr/bin/perl
# Failover in a 3-member ensemble (spec 8.3 session events, 11.2 reconnect to
# the same session; manual new() and wait()): when the member a handle is
# connected to stops answering or dies, calls fail with a connection error
# within a bound (never hang), and the handle reconnects to another member in
# the same session: session_id unchanged, its ephemeral node still there, an
# armed watch gets ZOO_SESSION_EVENT with ZOO_CONNECTING_STATE and then
# ZOO_CONNECTED_STATE, and node watches stay armed across the reconnects.
#
# The ensemble is private (t/lib/ZKTest/Ensemble.pm).  The host list is given
# in the order follower A, leader, follower B with deterministic connection
# order, so the handle connects to A first and to the leader after A is gone;
# 'cons' on the members confirms where the session is.
#   Part 1: A is frozen (SIGSTOP): a call in flight fails with ZCONNECTIONLOSS,
#           the watch shows CONNECTING; A is then killed, the handle moves on.
#   Part 2: A is started again; the leader, which the handle now uses, is
#           killed (SIGKILL): the remaining two elect a new leader and the handle
#           reconnects to one of them.

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

my $ens = ZKTest::Ensemble->start_or_skip(size => 3);

my $root = ZKTest::test_root();
my $TIMEOUT = 10000;
my %CONN_ERROR = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT;

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.01) }

sub owner_of { sprintf '%.0f', unpack('q', substr($_[0], 0, 8)) }

my $leader = $ens->leader;
ok(defined $leader, 'the ensemble has a leader') or BAIL_OUT('no leader');
my ($fa, $fb) = grep { $_ != $leader } $ens->members;
note("follower A = member $fa, leader = member $leader, follower B = member $fb");

Net::ZooKeeper::set_deterministic_conn_order(1);
my $zkh = Net::ZooKeeper->new(join(',', map { $ens->member_hosts($_) } $fa, $leader, $fb),
                              session_timeout => $TIMEOUT);
Net::ZooKeeper::set_deterministic_conn_order(0);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
my $other = Net::ZooKeeper->new($ens->hosts);

is($zkh->create($root, 'r', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my $eph = "$root/eph";
is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph,
   'the handle creates an ephemeral node');
my $sid = $zkh->{session_id};
is(length $sid, 24, 'the handle has a session');
is($ens->member_of_session($sid), $fa, 'cons: the session is connected through follower A, listed first');

my $stat = $other->stat;

## Part 1: the member stops answering, then dies.

my $w1 = $zkh->watch(timeout => 60000);
ok($zkh->exists($eph, watch => $w1), 'a watch armed by exists on the ephemeral node');

ok($ens->pause_member($fa), 'freeze follower A (SIGSTOP)');
my $r = guard(60, 'exists while the member is frozen', sub { $zkh->exists($eph) });
ok(!$r, 'a call sent to the frozen member fails');
is($zkh->get_error, ZCONNECTIONLOSS, '... with ZCONNECTIONLOSS');
ok(eventually(sub { $w1->{state} == ZOO_CONNECTING_STATE }),
   'the armed watch shows ZOO_CONNECTING_STATE while the handle reconnects')
    or diag("event $w1->{event}, state $w1->{state}");
is($w1->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
ok(guard(10, 'wait', sub { $w1->wait(timeout => 0) }), '... and wait() reports the notification');

ok($ens->kill_member($fa), 'kill follower A (SIGKILL)');
ok(eventually(sub { $w1->{state} == ZOO_CONNECTED_STATE }),
   'the watch then shows ZOO_CONNECTED_STATE: the handle reconnected')
    or diag("event $w1->{event}, state $w1->{state}");
is($w1->{event}, ZOO_SESSION_EVENT, '... still with ZOO_SESSION_EVENT');

ok(guard(60, 'exists after reconnecting', sub { $zkh->exists($eph) }), 'calls succeed again')
    or diag('get_error: ' . $zkh->get_error);
is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), 'session_id is unchanged: the same session');
is($ens->member_of_session($sid), $leader, 'cons: the session is now connected through the next listed member');
# The other handle may be reconnecting too: its calls fail with ZCONNECTIONLOSS
# until it has, so it is asked until it answers.
ok(eventually(sub { $other->exists($eph, stat => $stat) }), 'the ephemeral node is still there');
is($stat->{ephemeral_owner}, owner_of($sid), '... owned by the same session');
is($zkh->set($root, 'r1') ? $zkh->get($root) : undef, 'r1', 'writes work through the new member');

## Part 2: the leader dies; the others elect a new one.

ok($ens->start_member($fa), 'start follower A again (its data kept)');
ok($ens->wait_serving, 'all three members serve again') or diag($ens->why);

my $w2 = $zkh->watch(timeout => 60000);
is(scalar($zkh->get_children($root, watch => $w2)), 1, 'a watch armed by get_children on the test node');

ok($ens->kill_member($leader), 'kill the leader, which the handle is connected to (SIGKILL)');
my (@states, %codes);
my $record = sub { push @states, $w2->{state} unless @states && $states[-1] == $w2->{state} };
my $ok;
for my $try (1 .. 400) {
    $record->();
    $ok = guard(60, "exists #$try after the leader died", sub { $zkh->exists($root) });
    $record->();
    last if $ok;
    $codes{ $zkh->get_error }++;
    Time::HiRes::sleep(0.05);
}
ok($ok, 'calls succeed again once a new leader is elected');
ok(!grep({ !$CONN_ERROR{$_} } keys %codes), '... calls before that fail with connection errors only')
    or diag(explain \%codes);
note('failed calls meanwhile: ' . join(', ', map { "$_ x $codes{$_}" } sort keys %codes));
ok(eventually(sub { $record->(); $w2->{state} == ZOO_CONNECTED_STATE }),
   'the get_children watch shows ZOO_CONNECTED_STATE after the reconnect')
    or diag("event $w2->{event}, state $w2->{state}");
is($w2->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
note('watch states seen: ' . join(' -> ', @states));
ok(!grep({ $_ != 0 && $_ != ZOO_CONNECTING_STATE && $_ != ZOO_CONNECTED_STATE } @states),
   '... it only ever showed ZOO_CONNECTING_STATE and ZOO_CONNECTED_STATE') or diag("@states");

is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), 'session_id is unchanged after the leader failover');
my $now = $ens->member_of_session($sid);
ok(defined $now && $now != $leader, 'cons: the session is connected through a surviving member')
    or diag('member: ' . ($now // 'none'));
ok(eventually(sub { $other->exists($eph, stat => $stat) }), 'the ephemeral node survived the leader failover')
    or diag('get_error: ' . $other->get_error);
is($stat->{ephemeral_owner}, owner_of($sid), '... owned by the same session');
my $new_leader = $ens->leader;
ok(defined $new_leader && $new_leader != $leader, 'a new leader was elected')
    or diag('leader: ' . ($new_leader // 'none'));

# Node watches armed before the failovers are still registered on the server.
ok($other->set($eph, 'e2'), 'another session changes the ephemeral node');
ok(eventually(sub { $w1->{event} == ZOO_CHANGED_EVENT }),
   'the exists watch armed before both failovers shows ZOO_CHANGED_EVENT')
    or diag("event $w1->{event}, state $w1->{state}");
is($w1->{state}, ZOO_CONNECTED_STATE, '... with ZOO_CONNECTED_STATE');
is($zkh->create("$root/child", '', acl => ZOO_OPEN_ACL_UNSAFE), "$root/child", 'the handle creates a child node');
ok(eventually(sub { $w2->{event} == ZOO_CHILD_EVENT }),
   'the get_children watch armed before the leader died shows ZOO_CHILD_EVENT')
    or diag("event $w2->{event}, state $w2->{state}");

## Clean up.

ok($ens->start_member($leader), 'start the old leader again');
ok($zkh->delete("$root/child"), 'delete the child node');
ok($zkh->DESTROY, 'DESTROY the handle');
ok(!$other->exists($eph), 'its ephemeral node is gone at once');
ok($other->delete($root), 'delete the test node');
ok($other->DESTROY, 'DESTROY the other handle');
ok($ens->stop, 'stop the ensemble');

done_testing();
