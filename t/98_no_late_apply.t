#!/usr/bin/perl
# A call that returned an error is never applied later: a request goes on the
# wire only while its caller still waits for it (as with the ZooKeeper C
# client, which the original Net::ZooKeeper wraps), so a create that failed
# during an outage does not create its node once the server is back.
#
# A private standalone server (t/lib/ZKTest/Ensemble.pm, size 1, tickTime
# 2000); the handle's session timeout is 4 s.  Creates that fail, each under a
# parent node of its own:
#   stopped  the server is stopped (data kept): an ephemeral sequential create
#            at once, and one more and a persistent create once the handle has
#            noticed; the server is started again.
#   frozen   the server is frozen (SIGSTOP) and a first call (exists, harmless
#            if applied later) fails, so the handle gives the connection up;
#            then a create fails while the handle tries to reconnect to the
#            frozen server (the kernel still accepts the TCP connection).  The
#            server is resumed (SIGCONT).  Done twice: an ephemeral sequential
#            and a persistent create.  A request written on the live
#            connection before the handle gave it up would reach the server on
#            resume - hence the first call.  Each freeze lasts less than the
#            session timeout, so the server keeps the session (checked): a late
#            request would be applied, not refused as from an expired session.
# Then, for 20 s, another handle polls the parents: no node may appear.  The
# handle keeps its session all along (checked), so a late ephemeral node
# would stay.
#
# ZK_TEST_LATE_APPLY_WAIT overrides the 20 s.

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
my $WAIT    = $ENV{ZK_TEST_LATE_APPLY_WAIT} || 20;
my %CONN_ERROR = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT;

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.02) }

sub hex_sid { unpack 'H*', $_[0] // '' }

my $zkh = Net::ZooKeeper->new($srv->hosts, session_timeout => $TIMEOUT);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my %parent = map { $_ => "$root/$_" } qw(stopped frozen_seq frozen_plain);
for my $p (sort values %parent) {
    is($zkh->create($p, '', acl => ZOO_OPEN_ACL_UNSAFE), $p, "create the parent node $p");
}
is($zkh->{session_timeout}, $TIMEOUT, "the negotiated session timeout is $TIMEOUT ms");
my $sid = $zkh->{session_id};
my $w = $zkh->watch(timeout => 600000);
ok($zkh->exists($root, watch => $w), 'a watch armed on the test node shows the connection state');

my @creates;   # what failed: [ phase, description, parent ]

# One create that must fail; records it.
sub failing_create {
    my ($phase, $what, $parent, $flags) = @_;
    my $path = $flags & ZOO_SEQUENCE ? "$parent/n-" : "$parent/node";
    my $t0 = Time::HiRes::time();
    my $r = guard(60, "$phase: $what", sub {
        $zkh->create($path, 'late', acl => ZOO_OPEN_ACL_UNSAFE, flags => $flags) });
    my $took = Time::HiRes::time() - $t0;
    my $err = $zkh->get_error;
    ok(!defined $r, "$phase: $what fails") or diag("it returned $r");
    is($err, ZCONNECTIONLOSS, "$phase: ... with ZCONNECTIONLOSS");
    note(sprintf "$phase: $what returned %s after %.2f s", $err, $took);
    push @creates, [ $phase, $what, $parent ];
}

# Calls succeed again (connection errors only meanwhile), in the same session.
sub reconnects {
    my ($phase) = @_;
    my ($ok, %codes) = (0);
    for my $try (1 .. 300) {
        last if $ok = guard(60, "$phase: exists #$try after the outage", sub { $zkh->exists($root) });
        my $err = $zkh->get_error;
        $codes{$err}++;
        last if $err == ZINVALIDSTATE;
        Time::HiRes::sleep(0.05);
    }
    my $codes = join(', ', map { "$_ x $codes{$_}" } sort keys %codes) || 'none';
    ok($ok, "$phase: calls succeed again once the server is back") or diag("codes: $codes");
    ok(!grep({ !$CONN_ERROR{$_} } keys %codes), "$phase: ... failing meanwhile with connection errors only")
        or diag("codes: $codes");
    is(hex_sid($zkh->{session_id}), hex_sid($sid), "$phase: ... in the same session");
}

## Stopped.

ok($srv->stop_member(1), 'stopped: stop the server (its data kept)');
my $t_down = Time::HiRes::time();
failing_create('stopped', 'an ephemeral sequential create right after the stop', $parent{stopped},
               ZOO_EPHEMERAL | ZOO_SEQUENCE);
ok(eventually(sub { $w->{state} == ZOO_CONNECTING_STATE }), 'stopped: the handle notices: ZOO_CONNECTING_STATE')
    or diag("state $w->{state}");
failing_create('stopped', 'an ephemeral sequential create', $parent{stopped}, ZOO_EPHEMERAL | ZOO_SEQUENCE);
failing_create('stopped', 'a persistent create', $parent{stopped}, 0);
ok($srv->start_member(1), 'stopped: start the server again');
note(sprintf 'stopped: outage %.2f s', Time::HiRes::time() - $t_down);
reconnects('stopped');

## Frozen.

for my $case ([ 'an ephemeral sequential create', $parent{frozen_seq}, ZOO_EPHEMERAL | ZOO_SEQUENCE ],
              [ 'a persistent create', $parent{frozen_plain}, 0 ]) {
    my ($what, $parent, $flags) = @$case;
    my $phase = $flags ? 'frozen (sequential)' : 'frozen (persistent)';
    ok(eventually(sub { $w->{state} == ZOO_CONNECTED_STATE }), "$phase: the handle is connected")
        or diag("state $w->{state}");
    ok($zkh->exists($root), "$phase: a call just before the freeze (the server's last sight of the session)");
    ok($srv->pause_member(1), "$phase: freeze the server (SIGSTOP)");
    my $t_freeze = Time::HiRes::time();
    my $probe = guard(60, "$phase: exists on the frozen server", sub { $zkh->exists($root) });
    ok(!$probe, "$phase: a call on the live connection fails");
    ok($CONN_ERROR{ $zkh->get_error }, "$phase: ... with a connection error") or diag('get_error: ' . $zkh->get_error);
    note(sprintf "$phase: it returned %d after %.2f s", $zkh->get_error, Time::HiRes::time() - $t_freeze);
    ok(eventually(sub { $w->{state} == ZOO_CONNECTING_STATE }, 10),
       "$phase: the handle gave the connection up: ZOO_CONNECTING_STATE") or diag("state $w->{state}");
    failing_create($phase, $what, $parent, $flags);
    ok($srv->resume_member(1), "$phase: resume the server (SIGCONT)");
    my $frozen = Time::HiRes::time() - $t_freeze;
    note(sprintf "$phase: the server was frozen for %.2f s", $frozen);
    # Had the freeze outlasted the session timeout, the server could expire the
    # session as it wakes up and would then refuse a late request anyway.
    diag(sprintf "$phase: the freeze (%.2f s) outlasted the session timeout", $frozen)
        if $frozen >= $TIMEOUT / 1000;
    reconnects($phase);
}

## No late node, for $WAIT s.

my $checker = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
ok(guard(60, 'the checker connects', sub { $checker->exists($root) }), 'a second handle for the checks')
    or diag('get_error: ' . $checker->get_error);
my (%seen, $poll_errors);
my $t_poll = Time::HiRes::time();
my $appeared = ZKTest::Util::wait_until(sub {
    for my $p (values %parent) {
        my @kids = $checker->get_children($p);
        if (@kids) { $seen{$p} = [ @kids ]; }
        elsif ($checker->get_error != ZOK) { $poll_errors++ }
    }
    return scalar keys %seen;
}, $WAIT, 0.05);
note(sprintf 'polled the parents for %.1f s%s', Time::HiRes::time() - $t_poll,
     $poll_errors ? " ($poll_errors polls failed)" : '');
ok(!$appeared, "for $WAIT s after the server is back no node appears under any parent")
    or diag(explain \%seen);
for my $c (@creates) {
    my ($phase, $what, $parent) = @$c;
    ok(!$seen{$parent}, "$phase: $what that failed was not applied later");
}
ok(!$poll_errors, '... (every poll succeeded)');
is(hex_sid($zkh->{session_id}), hex_sid($sid), 'the handle kept its session all along (a late ephemeral node would stay)');
ok(guard(60, 'exists at the end', sub { $zkh->exists($root) }), '... and its calls work')
    or diag('get_error: ' . $zkh->get_error);

ok(ZKTest::Util::delete_tree($checker, $root), 'delete the test nodes');
ok(guard(30, 'DESTROY', sub { $zkh->DESTROY }), 'DESTROY the handle');
ok($checker->DESTROY, 'DESTROY the checker');
ok($srv->stop, 'stop the server');

done_testing();
