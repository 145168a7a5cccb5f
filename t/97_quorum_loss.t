#!/usr/bin/perl
# Loss of quorum for longer than the session timeout does not end the session
# (the ZooKeeper C client's behaviour, which the original Net::ZooKeeper
# wraps): the client keeps trying the members; once a quorum serves again,
# its new leader loads the sessions with a fresh timeout, and the handle
# continues its session with its ephemeral node and armed watches.
#
# A private 3-member ensemble (t/lib/ZKTest/Ensemble.pm, tickTime 2000); the
# handle (session timeout 4 s) lists all members.  Two members are stopped -
# the one the session is connected through and the leader (or another one) -
# so the third one has no quorum and serves no client.  Calls meanwhile fail
# with ZCONNECTIONLOSS.  After 3 times the session timeout both are started
# again.

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

my $root    = ZKTest::test_root();
my $TIMEOUT = 4000;
my $OUTAGE  = 3;        # times the negotiated session timeout

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.02) }

sub owner_of { sprintf '%.0f', unpack('q', substr($_[0], 0, 8)) }
sub hex_sid  { unpack 'H*', $_[0] // '' }
sub codes    { my ($c) = @_; join(', ', map { "$_ x $c->{$_}" } sort keys %$c) || 'none' }

my $zkh = Net::ZooKeeper->new($ens->hosts, session_timeout => $TIMEOUT);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, 'r0', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my $eph = "$root/eph";
is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph,
   'the handle creates an ephemeral node');
is($zkh->{session_timeout}, $TIMEOUT, "the negotiated session timeout is $TIMEOUT ms");
my $sid = $zkh->{session_id};
is(length $sid, 24, 'the handle has a session');
my $w = $zkh->watch(timeout => 120000);
is($zkh->get($root, watch => $w), 'r0', 'a watch armed by get on the test node');

my $leader = $ens->leader;
my $via    = $ens->member_of_session($sid);
ok(defined $leader && defined $via, 'the ensemble has a leader, and cons shows the session')
    or diag('leader ' . ($leader // 'none') . ', session on ' . ($via // 'none'));
$leader //= 1;
$via    //= 1;
my @stop = ($via, $via == $leader ? (grep { $_ != $via } $ens->members)[0] : $leader);
my ($kept) = grep { my $m = $_; !grep { $_ == $m } @stop } $ens->members;
note("leader: member $leader, session through member $via; stopping members @stop, member $kept stays");

my $outage = $OUTAGE * $zkh->{session_timeout} / 1000;
ok($ens->stop_member($_), "stop member $_ (its data kept)") for @stop;
my $t_down = Time::HiRes::time();
ok(eventually(sub { my $m = $ens->member_mode($kept) // ''; $m !~ /^(?:leader|follower)\z/ }),
   "member $kept lost its quorum: it no longer serves as leader or follower")
    or diag('mode: ' . ($ens->member_mode($kept) // 'no answer'));

my (%during, $slowest, @states);
my $calls = 0;
my $record = sub { push @states, $w->{state} unless @states && $states[-1] == $w->{state} };
while (Time::HiRes::time() - $t_down < $outage) {
    $record->();
    my $t0 = Time::HiRes::time();
    my $r = guard(60, 'exists #' . ($calls + 1) . ' without a quorum', sub { $zkh->exists($root) });
    my $took = Time::HiRes::time() - $t0;
    $slowest = $took if !defined $slowest || $took > $slowest;
    $calls++;
    $during{ $r ? 'success' : $zkh->get_error }++;
    $record->();
    Time::HiRes::sleep(0.25);
}
ok($ens->start_member($_, wait => 0), "start member $_ again") for @stop;
my $t_up = Time::HiRes::time();
note(sprintf 'no quorum for %.1f s (%.1f x the session timeout); %d calls meanwhile, the slowest took %.3f s',
     $t_up - $t_down, ($t_up - $t_down) * 1000 / $TIMEOUT, $calls, $slowest // 0);
ok($calls > 0, 'calls were made without a quorum');
is_deeply(\%during, { ZCONNECTIONLOSS() => $calls }, 'every call without a quorum failed with ZCONNECTIONLOSS')
    or diag('codes: ' . codes(\%during));
ok(!grep({ $_ == ZOO_EXPIRED_SESSION_STATE } @states), 'the armed watch did not report an expiry meanwhile')
    or diag("states: @states");

# Calls succeed again once a quorum serves; connection errors only until then.
my ($ok, %after) = (0);
my $deadline = Time::HiRes::time() + 90;
while (Time::HiRes::time() < $deadline) {
    $record->();
    last if $ok = guard(60, 'exists after the restart', sub { $zkh->exists($eph) });
    my $err = $zkh->get_error;
    $after{$err}++;
    last if $err == ZINVALIDSTATE;    # for good
    Time::HiRes::sleep(0.05);
}
my $t_ok = Time::HiRes::time();
ok($ok, 'calls succeed again once a quorum serves, and find the ephemeral node')
    or diag('codes: ' . codes(\%after));
ok(!grep({ $_ != ZCONNECTIONLOSS && $_ != ZOPERATIONTIMEOUT } keys %after),
   '... calls before that fail with connection errors only') or diag('codes: ' . codes(\%after));
note(sprintf 'the first successful call came %.2f s after the members were started (failed before: %s)',
             $t_ok - $t_up, codes(\%after)) if $ok;
ok($ens->wait_serving, 'all three members serve') or diag($ens->why);
note('leader now: member ' . ($ens->leader // 'none'));

is(hex_sid($zkh->{session_id}), hex_sid($sid), 'session_id is unchanged: the same session');
{
    my $other = Net::ZooKeeper->new($ens->hosts, session_timeout => 10000);
    my $stat = $other->stat;
    ok(guard(60, 'exists on another handle', sub { $other->exists($eph, stat => $stat) }),
       'another handle sees the ephemeral node') or diag('get_error: ' . $other->get_error);
    is($stat->{ephemeral_owner}, owner_of($sid), '... owned by the resumed session');
    ok(eventually(sub { $record->(); $w->{state} == ZOO_CONNECTED_STATE || $w->{state} == ZOO_EXPIRED_SESSION_STATE })
       && $w->{state} == ZOO_CONNECTED_STATE, 'the armed watch shows ZOO_CONNECTED_STATE')
        or diag("event $w->{event}, state $w->{state}");
    note('watch states seen: ' . join(' -> ', @states));
    ok(!grep({ $_ == ZOO_EXPIRED_SESSION_STATE } @states), '... and never showed ZOO_EXPIRED_SESSION_STATE')
        or diag("states: @states");
    ok($other->set($root, 'r1'), 'another handle changes the watched node');
    ok(eventually(sub { $w->{event} == ZOO_CHANGED_EVENT || $w->{state} == ZOO_EXPIRED_SESSION_STATE })
       && $w->{event} == ZOO_CHANGED_EVENT, 'the watch armed before the quorum was lost shows ZOO_CHANGED_EVENT')
        or diag("event $w->{event}, state $w->{state}");
    is($zkh->set($root, 'r2') ? $zkh->get($root) : undef, 'r2', 'the handle writes and reads again');

    ok(guard(30, 'DESTROY', sub { $zkh->DESTROY }), 'DESTROY the handle');
    ok(!$other->exists($eph), 'its ephemeral node is gone at once');
    ok(ZKTest::Util::delete_tree($other, $root), 'delete the test nodes');
    ok($other->DESTROY, 'DESTROY the other handle');
}
ok($ens->stop, 'stop the ensemble');

done_testing();
