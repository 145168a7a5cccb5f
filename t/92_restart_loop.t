#!/usr/bin/perl
# A standalone server is killed (SIGKILL) and restarted on the same port with
# the same data directory 100 times while this process runs a loop of
# create/set/get/exists/delete/get_children calls on one handle (manual
# "Background Runtime": reconnection to the same session is automatic, calls
# may return transient errors meanwhile, no method blocks indefinitely; spec
# 2.6, 11.2).  Checked for every call: it returns (a hang ends the test, see
# ZKTest::Ensemble::hang_guard), and either succeeds with get_error() ZOK or
# fails with a non-zero get_error().  After each restart calls succeed again;
# writes the server acknowledged are never lost; the session (and its
# ephemeral node) survives all restarts.
#
# The server is run by a supervisor child process (it owns the server and
# cleans it up): on "restart" it waits a random 0-30 ms, kills the server,
# reports "down", starts it again and reports "up".  This process does not
# wait for it; its calls go on during the kill, the outage and the restart.
#
# Then outages longer than the session timeout: a second handle with a 4 s
# session runs the same loop of calls while the supervisor kills the server
# and starts it again only after 8 s (2 x the session timeout), 3 times.  The
# client never ends a session by itself and the restarted server gives its
# sessions a fresh timeout, so the same checks hold, and the session (and
# its ephemeral node) survives these outages too.
#
# ZK_TEST_RESTARTS overrides the number of restarts (default 100),
# ZK_TEST_LONG_OUTAGES the number of long outages (default 3).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use IO::Handle ();
use IO::Select ();
use POSIX ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :acls :node_flags);

$SIG{PIPE} = 'IGNORE';

my $RESTARTS = $ENV{ZK_TEST_RESTARTS} || 100;
my $TIMEOUT  = 20000;   # the session rides out each outage (about a second)
my $LONG     = $ENV{ZK_TEST_LONG_OUTAGES} // 3;
my $SHORT_TIMEOUT = 4000;   # the long outages last 2 x this
my $t_start  = Time::HiRes::time();

sub guard { ZKTest::Ensemble::hang_guard(@_) }

## The supervisor.

pipe(my $cmd_r, my $cmd_w) or die "pipe: $!";
pipe(my $ev_r,  my $ev_w)  or die "pipe: $!";
my $parent = $$;
my $sup = fork;
die "fork: $!" unless defined $sup;
if (!$sup) {
    close $cmd_w;
    close $ev_r;
    $ev_w->autoflush(1);
    my $ens;
    $SIG{TERM} = sub { $ens->stop if $ens; POSIX::_exit(0) };
    $ens = eval { ZKTest::Ensemble->start(size => 1) };
    unless ($ens) {
        (my $why = $@ || $ZKTest::Ensemble::ERROR || 'unknown') =~ s/\n/ /g;
        print {$ev_w} "error $why\n";
        POSIX::_exit(0);
    }
    print {$ev_w} 'ready ', $ens->hosts, "\n";
    while (defined(my $cmd = <$cmd_r>)) {
        last if getppid() != $parent;
        chomp $cmd;
        last if $cmd eq 'stop';
        my ($what, $down_for) = split ' ', $cmd;
        next unless $what eq 'restart' || $what eq 'outage';
        Time::HiRes::sleep(rand 0.03);
        $ens->kill_member(1) or do { print {$ev_w} "error cannot kill the server\n"; next };
        print {$ev_w} "down\n";
        Time::HiRes::sleep($down_for) if $what eq 'outage' && $down_for;   # the outage itself
        if ($ens->start_member(1, timeout => 60)) {
            print {$ev_w} "up\n";
        }
        else {
            (my $why = $ens->why . ' ' . $ens->log_tail(1, 10)) =~ s/\n/ | /g;
            print {$ev_w} "error restart failed: $why\n";
        }
    }
    $ens->stop;
    POSIX::_exit(0);
}
close $cmd_r;
close $ev_w;
$cmd_w->autoflush(1);
my $events = IO::Select->new($ev_r);

END {
    if ($sup && $$ == $parent) {
        local ($?, $!);
        print {$cmd_w} "stop\n" if $cmd_w;
        my $deadline = Time::HiRes::time() + 30;
        while (waitpid($sup, POSIX::WNOHANG()) == 0) {
            if (Time::HiRes::time() > $deadline) { kill 'TERM', $sup; waitpid $sup, 0; last }
            Time::HiRes::sleep(0.05);
        }
    }
}

# The supervisor's next event line (waiting at most $seconds), or undef.
# Unbuffered: sysread into our own buffer, so select() sees what is unread.
my $evbuf = '';
sub next_event {
    my ($seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while ($evbuf !~ /\n/) {
        my $left = $deadline - Time::HiRes::time();
        $left = 0 if $left < 0;
        return undef unless $events->can_read($left);
        my $n = sysread $ev_r, $evbuf, 4096, length $evbuf;
        return undef unless $n;
    }
    $evbuf =~ s/^([^\n]*)\n//;
    return $1;
}

sub has_event { return $evbuf =~ /\n/ || $events->can_read(0) }

my $ready = next_event(120) // 'error no answer from the supervisor';
if ($ready =~ /^error (.*)/) {
    my $why = "cannot start a private server: $1";
    die "$why\n" if ZKTest::server_required();
    plan skip_all => $why;
}
my ($hosts) = $ready =~ /^ready (\S+)/ or BAIL_OUT("supervisor said: $ready");

## The handle and its nodes.

my $root = ZKTest::test_root();
my $zkh = Net::ZooKeeper->new($hosts, session_timeout => $TIMEOUT);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
my ($data, $node, $eph) = ("$root/data", "$root/node", "$root/eph");
is($zkh->create($data, 'v0', acl => ZOO_OPEN_ACL_UNSAFE), $data, 'create the data node');
is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph, 'create an ephemeral node');
my $sid = $zkh->{session_id};
is(length $sid, 24, 'the handle has a session');

# What the server is known to hold (undef: unknown after a failed write).
my $expect_data = 'v0';
my $node_exists = 0;
my $seq = 0;
my (%codes, @violations);
my ($calls, $failed_calls) = (0, 0);

sub violation {
    my ($msg) = @_;
    push @violations, $msg if @violations < 20;
    $violations[20] = '...' if @violations >= 20;
}

# One call of the loop; returns true if it succeeded.
my @ops = (
    [ create => sub {
        my $r = $zkh->create($node, 'n', acl => ZOO_OPEN_ACL_UNSAFE);
        return ($r, defined $r && $r eq $node);
    } ],
    [ set => sub {
        my $v = 'v' . ++$seq;
        my $r = $zkh->set($data, $v);
        return ($r, $r, $v);
    } ],
    [ get => sub { my $r = $zkh->get($data); return ($r, defined $r) } ],
    [ exists => sub { my $r = $zkh->exists($node); return ($r, $r) } ],
    [ delete => sub { my $r = $zkh->delete($node); return ($r, $r) } ],
    [ get_children => sub { my @r = $zkh->get_children($root); return (\@r, scalar @r) } ],
);
my $next_op = 0;

sub run_op {
    my ($op, $code) = @{ $ops[ $next_op++ % @ops ] };
    my ($r, $ok, $v) = guard(60, "$op (call " . ($calls + 1) . ')', $code);
    $calls++;
    my $err = $zkh->get_error;
    if ($ok) {
        violation("$op succeeded but get_error is $err") if $err != ZOK;
    }
    else {
        $failed_calls++;
        $codes{$err}++;
        violation("$op failed but get_error is 0 (result " . ($r // 'undef') . ')') if $err == ZOK;
    }
    # Acknowledged state must survive the restarts.
    if ($op eq 'set') {
        $expect_data = $ok ? $v : $err == ZOK ? $expect_data : undef;
    }
    elsif ($op eq 'get' && $ok) {
        violation("get returned '$r', but the last acknowledged set wrote '$expect_data'")
            if defined $expect_data && $r ne $expect_data;
        $expect_data = $r;
    }
    elsif ($op eq 'create') {
        my $known = $ok ? 1 : $err == ZNODEEXISTS ? 1 : undef;
        violation('create failed with ZNODEEXISTS although the node was known to be absent')
            if !$ok && $err == ZNODEEXISTS && defined $node_exists && !$node_exists;
        violation('create succeeded although the node was known to exist') if $ok && $node_exists;
        $node_exists = $known;
    }
    elsif ($op eq 'delete') {
        violation('delete succeeded although the node was known to be absent')
            if $ok && defined $node_exists && !$node_exists;
        violation('delete failed with ZNONODE although the node was known to exist')
            if !$ok && $err == ZNONODE && $node_exists;
        $node_exists = $ok ? 0 : $err == ZNONODE ? 0 : undef;
    }
    elsif ($op eq 'exists') {
        if ($ok || $err == ZNONODE) {
            my $now = $ok ? 1 : 0;
            violation("exists says $now, but the node was known to be " . ($node_exists ? 'there' : 'absent'))
                if defined $node_exists && $node_exists != $now;
            $node_exists = $now;
        }
    }
    return $ok;
}

## The loop.

# $count times: the supervisor is sent $cmd ("restart" or "outage SECONDS")
# and calls run until the server was killed and calls made after that
# succeed.  With $pause, a failed call is followed by a short pause (so that
# a long outage is not a busy loop).  Returns (cycles that succeeded, the
# first problem).
sub run_cycles {
    my ($count, $cmd, $pause) = @_;
    my ($cycles_ok, $first_problem) = (0, undef);
    for my $cycle (1 .. $count) {
        print {$cmd_w} "$cmd\n";
        my ($down, $up, $ok_after_down) = (0, 0, 0);
        my $deadline = Time::HiRes::time() + 120;
        while (Time::HiRes::time() < $deadline) {
            my $started_after_down = $down;
            my $ok = run_op();
            $ok_after_down++ if $ok && $started_after_down;
            if (!$ok && $zkh->get_error == ZINVALIDSTATE) {   # the session is over: no use going on
                $first_problem //= "cycle $cycle: the session ended (ZINVALIDSTATE)";
                last;
            }
            Time::HiRes::sleep(0.02) if !$ok && $pause;
            while (has_event()) {
                my $ev = next_event(0) // 'error the supervisor is gone';
                if    ($ev eq 'down') { $down = 1 }
                elsif ($ev eq 'up')   { $up = 1 }
                else  { $first_problem //= "cycle $cycle: $ev"; last }
            }
            last if $first_problem;
            # Done when the server was killed and calls made after that succeed
            # (two of them, so that not only a call queued before the kill counts).
            last if $up && $ok_after_down >= 2;
        }
        if ($up && $ok_after_down >= 2) {
            $cycles_ok++;
        }
        else {
            $first_problem //= "cycle $cycle: " . (!$down ? 'the server was not killed'
                                                 : !$up   ? 'the server did not come back'
                                                 :          'calls did not succeed again');
            last;
        }
    }
    return ($cycles_ok, $first_problem);
}

# Calls fail at once while the server is down, so a failed call is followed by
# a short pause: a busy loop would starve the restarting server of CPU.
my ($cycles_ok, $first_problem) = run_cycles($RESTARTS, 'restart', 1);
my $elapsed = Time::HiRes::time() - $t_start;

is($cycles_ok, $RESTARTS, "after each of $RESTARTS kills and restarts, calls succeed again")
    or diag($first_problem);
is_deeply(\@violations, [], 'every call succeeded with get_error ZOK or failed with a non-zero code, '
                          . 'and no acknowledged write was lost');
note(sprintf '%d restarts, %d calls (%d failed: %s) in %.1f s', $cycles_ok, $calls, $failed_calls,
     join(', ', map { "$_ x $codes{$_}" } sort { $a <=> $b } keys %codes) || 'none', $elapsed);
my %expected_codes = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZNODEEXISTS, ZNONODE;
ok(!grep({ !$expected_codes{$_} } keys %codes),
   'failed calls report connection errors (or ZNODEEXISTS/ZNONODE for a repeated write)')
    or diag(explain \%codes);

## Outages longer than the session timeout.

if ($LONG) {
    my $main  = $zkh;
    my $short = Net::ZooKeeper->new($hosts, session_timeout => $SHORT_TIMEOUT);
    my $short_eph = "$root/eph_short";
    is($short->create($short_eph, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $short_eph,
       'long outages: a handle with a short session creates an ephemeral node');
    is($short->{session_timeout}, $SHORT_TIMEOUT, "long outages: its negotiated session timeout is $SHORT_TIMEOUT ms");
    my $short_sid = $short->{session_id};
    my $down_for = 2 * $short->{session_timeout} / 1000;

    # The same loop of calls and checks, through the short-session handle.
    $zkh = $short;
    (%codes, @violations) = ();
    ($calls, $failed_calls) = (0, 0);
    my $t_long = Time::HiRes::time();
    my ($long_ok, $long_problem) = run_cycles($LONG, "outage $down_for", 1);
    my $long_elapsed = Time::HiRes::time() - $t_long;
    $zkh = $main;

    is($long_ok, $LONG, "after each of $LONG outages of ${down_for} s (2 x the session timeout), calls succeed again")
        or diag($long_problem);
    is_deeply(\@violations, [], 'long outages: every call succeeded with get_error ZOK or failed with a non-zero '
                              . 'code, and no acknowledged write was lost');
    note(sprintf 'long outages: %d outages of %.1f s, %d calls (%d failed: %s) in %.1f s', $long_ok, $down_for,
         $calls, $failed_calls, join(', ', map { "$_ x $codes{$_}" } sort { $a <=> $b } keys %codes) || 'none',
         $long_elapsed);
    my %long_codes = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZNODEEXISTS, ZNONODE;
    ok(!grep({ !$long_codes{$_} } keys %codes),
       'long outages: failed calls report connection errors (or ZNODEEXISTS/ZNONODE for a repeated write)')
        or diag(explain \%codes);
    is(unpack('H*', $short->{session_id}), unpack('H*', $short_sid), 'long outages: the handle kept its session');
    # The main handle may still be reconnecting after the last outage: it is asked
    # until it answers (bounded), and the answer must be that the node is there.
    my $survived;
    guard(60, 'exists on the short-session ephemeral', sub {
        ZKTest::Util::wait_until(sub {
            $survived = $main->exists($short_eph);
            $survived || $main->get_error != ZCONNECTIONLOSS;
        }, 50, 0.05);
    });
    ok($survived, 'long outages: its ephemeral node survived them') or diag('get_error: ' . $main->get_error);
    ok(guard(30, 'DESTROY', sub { $short->DESTROY }), 'long outages: DESTROY the short-session handle');
}

ok(guard(60, 'final exists', sub { $zkh->exists($eph) }), 'the ephemeral node survived all restarts')
    or diag('get_error: ' . $zkh->get_error);
is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), 'the handle is still in its first session');

my $cleanup_ok = 1;
for my $child ($zkh->get_children($root)) {
    $cleanup_ok &&= $zkh->delete("$root/$child");
}
ok($cleanup_ok && $zkh->delete($root), 'delete the test nodes');
ok($zkh->DESTROY, 'DESTROY the handle');

done_testing();
