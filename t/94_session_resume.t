#!/usr/bin/perl
# Resuming a session with new(..., session_id => $sid) (spec 3.1 session_id,
# 6.1; manual new()): when the handle that made the session is gone without
# closing it - its process ended through POSIX::_exit, so no DESTROY ran, or
# was killed with SIGKILL - a new handle given its session_id continues the same
# session: session_id is the same, the session's ephemeral nodes still exist
# and are owned by it.  A wrong password does not take the session over, and a
# session that was closed can not be resumed: such a handle fails every call,
# with ZINVALIDSTATE once the expiry is known (spec 11.2).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :acls :node_flags);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $TIMEOUT = 20000;    # long enough that the server keeps the orphaned sessions

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# The session number of a 24-byte session_id, as Stat's ephemeral_owner shows
# it (through a double, spec 7).
sub owner_of { sprintf '%.0f', unpack('q', substr($_[0], 0, 8)) }

# Waits (bounded) for a child process; returns its wait status, or undef after
# killing it if it did not finish in time.
sub reap {
    my ($pid, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        my $r = waitpid $pid, POSIX::WNOHANG();
        return $? if $r == $pid;
        return undef if $r == -1;
        Time::HiRes::sleep(0.02);
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return undef;
}

# Calls on a handle whose session the server refuses (spec 11.2): none
# succeeds; the first ones may fail with a connection error (the server closes
# the connection after refusing) or ZSESSIONEXPIRED once, and once the refusal
# has reached the client every call fails with ZINVALIDSTATE.  Returns
# (number of calls that succeeded, unexpected codes, final code).
sub refused_session_calls {
    my ($h, $path) = @_;
    my %ok_codes = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZSESSIONEXPIRED, ZINVALIDSTATE;
    my ($succeeded, @unexpected, $err) = (0);
    for my $try (1 .. 20) {
        $succeeded++ if guard(60, "exists, try $try", sub { $h->exists($path) });
        $err = $h->get_error;
        push @unexpected, $err unless $ok_codes{$err};
        last if $err == ZINVALIDSTATE;
    }
    # and once it is ZINVALIDSTATE it stays so
    $succeeded++ if guard(60, 'create', sub { $h->create("$path-x", '', acl => ZOO_OPEN_ACL_UNSAFE) });
    return ($succeeded, \@unexpected, $err, $h->get_error);
}

# A child process opens a session, creates the ephemeral node $node with it and
# reports the session_id; then it either leaves through POSIX::_exit ('exit') or
# waits to be killed ('kill').  Returns (session_id, pid).
sub orphan_session {
    my ($node, $how) = @_;
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $r;
        my $h = Net::ZooKeeper->new($hosts, session_timeout => $TIMEOUT);
        my $ok = $h && $h->create($node, 'eph', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
        my $sid = $ok ? $h->{session_id} : '';
        syswrite $w, unpack('H*', $sid) . "\n";
        close $w;
        POSIX::_exit($ok ? 0 : 1) if $how eq 'exit';   # no DESTROY, no END
        sleep 1 while 1;                                # until SIGKILL
    }
    close $w;
    my $line = guard(30, 'reading the child\'s session_id', sub { scalar <$r> }) // '';
    close $r;
    chomp $line;
    return (pack('H*', $line), $pid);
}

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

for my $how ('exit', 'kill') {
    my $what = $how eq 'exit' ? 'a child that left through POSIX::_exit' : 'a child killed with SIGKILL';
    my $node = "$root/eph_$how";
    my ($sid, $pid) = orphan_session($node, $how);
    is(length $sid, 24, "$what: its handle had a 24-byte session_id");
    if ($how eq 'kill') {
        ok(kill('KILL', $pid), "$what: SIGKILL the child");
        is(reap($pid, 30) & 127, POSIX::SIGKILL(), '... it died of SIGKILL');
    }
    else {
        is(reap($pid, 30), 0, "$what: the child exited with status 0");
    }

    my $stat = $zkh->stat;
    ok($zkh->exists($node, stat => $stat), "$what: its ephemeral node outlives the process (session not closed)");

    my $h = Net::ZooKeeper->new($hosts, session_timeout => $TIMEOUT, session_id => $sid);
    isa_ok($h, 'Net::ZooKeeper', "$what: new() with its session_id");
    is(unpack('H*', $h->{session_id}), unpack('H*', $sid), '... session_id reads the given value before connecting');
    my $hstat = $h->stat;
    ok(guard(60, 'exists on the resumed handle', sub { $h->exists($node, stat => $hstat) }),
       '... its first call succeeds and finds the ephemeral node') or diag('get_error: ' . $h->get_error);
    is(unpack('H*', $h->{session_id}), unpack('H*', $sid), '... session_id is unchanged after connecting: the same session');
    is($hstat->{ephemeral_owner}, owner_of($sid), '... the node is owned by that session');
    is($h->get($node), 'eph', '... and its data can be read');

    # The resumed session owns what it creates, and the old node, as one session.
    my $second = "$node-2";
    is($h->create($second, '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $second,
       '... the resumed handle creates another ephemeral node');
    ok($zkh->exists($second, stat => $stat), '... which another session sees');
    is($stat->{ephemeral_owner}, owner_of($sid), '... owned by the same session');

    if ($how eq 'kill') {
        # The password is part of the session_id: a wrong one is refused and the
        # session stays with its owner.
        my $bad = $sid;
        substr($bad, 8, 1) = chr(ord(substr($bad, 8, 1)) ^ 0xff);
        my $thief = Net::ZooKeeper->new($hosts, session_timeout => $TIMEOUT, session_id => $bad);
        my ($succeeded, $unexpected, $err, $then) = refused_session_calls($thief, $node);
        is($succeeded, 0, 'a session_id with a wrong password: no call succeeds');
        is_deeply($unexpected, [], '... calls fail with connection errors, ZSESSIONEXPIRED or ZINVALIDSTATE');
        is($err, ZINVALIDSTATE, '... and, once the refusal is known, with ZINVALIDSTATE');
        is($then, ZINVALIDSTATE, '... also for later calls');
        ok(!$zkh->exists("$node-x"), '... which did nothing');
        # (The server closes the rightful handle's connection when another one
        # claims the session; the handle reconnects, a call may see that.)
        my $works = 0;
        for my $try (1 .. 10) {
            last if $works = guard(60, "exists after the refused attempt, try $try", sub { $h->exists($node) });
        }
        ok($works, '... while the rightful handle keeps working');
        is(unpack('H*', $h->{session_id}), unpack('H*', $sid), '... in its session');
        ok($zkh->exists($node), '... and the ephemeral node is still there');
        undef $thief;
    }

    # Closing the resumed handle closes the session: its ephemerals go at once.
    ok($h->DESTROY, "$what: DESTROY the resumed handle");
    ok(!$zkh->exists($node), '... its ephemeral nodes are gone at once');
    is($zkh->get_error, ZNONODE, '... (ZNONODE)');
    ok(!$zkh->exists($second), '... both of them');

    # A closed session can not be resumed.
    my $late = Net::ZooKeeper->new($hosts, session_timeout => $TIMEOUT, session_id => $sid);
    my ($succeeded, $unexpected, $err, $then) = refused_session_calls($late, "$root/x");
    is($succeeded, 0, "$what: new() with the closed session's id: no call succeeds");
    is_deeply($unexpected, [], '... calls fail with connection errors, ZSESSIONEXPIRED or ZINVALIDSTATE');
    is($err, ZINVALIDSTATE, '... and, once the refusal is known, with ZINVALIDSTATE');
    is($then, ZINVALIDSTATE, '... also for later calls');
    ok(!$zkh->exists("$root/x-x"), '... which did nothing');
    ok($late->DESTROY, '... DESTROY still returns true');
}

ok($zkh->delete($root), 'delete the test node');
ok($zkh->DESTROY, 'DESTROY the handle');

done_testing();
