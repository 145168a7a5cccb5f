#!/usr/bin/perl
# Signals: a process that has NOT ignored SIGPIPE survives a server that dies
# while a request is in flight; the calls report a connection error instead
# (manual "Signals"; spec section 11.2).
#
# The victim runs in a child process with $SIG{PIPE} = 'DEFAULT' and keeps
# sending 1 MB requests.  The parent freezes the server (SIGSTOP), waits until
# the server holds request bytes it has not read (so a request is in flight
# and the kernel answers with a reset once the server is gone), kills it
# (SIGKILL), and then checks that the child exited normally (not by signal
# 13) and which error codes its calls reported.  The victim keeps writing to
# the dead connection's peer after the kill.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();
use IO::Handle ();
use IO::Select ();

use ZKTest;
use ZKTest::Util qw(start_server_or_skip wait_until);
use Net::ZooKeeper qw(:errors :acls);

# This file needs a server of its own to kill (ZK_TEST_HOSTS is not used).
my $server = start_server_or_skip('a private ZooKeeper server');
my $hosts = $server->hosts;
my $node  = '/sigpipe';

my %NAME = (ZCONNECTIONLOSS, 'ZCONNECTIONLOSS', ZOPERATIONTIMEOUT, 'ZOPERATIONTIMEOUT',
            ZINVALIDSTATE, 'ZINVALIDSTATE', ZSESSIONEXPIRED, 'ZSESSIONEXPIRED');
my $AFTER = 10;                 # calls the victim still makes after its first failure
my $BIG   = 'x' x 1_000_000;
my $LIMIT = 120;                # seconds; a bound on every wait, never an expectation

# Bytes received by the server's end of established client connections but
# not yet read by it (Linux /proc/net/tcp), or undef where unknown.
sub server_unread {
    my ($port) = @_;
    my ($known, $unread) = (0, 0);
    for my $file ('/proc/net/tcp', '/proc/net/tcp6') {
        open(my $fh, '<', $file) or next;
        $known = 1;
        <$fh>;
        while (my $line = <$fh>) {
            my @f = split ' ', $line;
            my ($lport) = $f[1] =~ /:([0-9A-F]+)$/i or next;
            next unless hex($lport) == $port && $f[3] eq '01';    # ESTABLISHED
            my (undef, $rx) = split /:/, $f[4];
            $unread += hex $rx;
        }
    }
    return $known ? $unread : undef;
}

pipe(my $from_child, my $to_parent) or die "pipe: $!";
my $pid = fork;
die "fork: $!" unless defined $pid;

if (!$pid) {
    # --- the victim ---
    close $from_child;
    $to_parent->autoflush(1);
    $SIG{PIPE} = 'DEFAULT';
    my $say = sub { print {$to_parent} "@_\n" };

    my $zkh = Net::ZooKeeper->new($hosts, session_timeout => 4000);
    my $created = $zkh && $zkh->create($node, $BIG, acl => ZOO_OPEN_ACL_UNSAFE);
    $say->('sigpipe', $SIG{PIPE});
    if (!$created) {
        $say->('setup-failed', $zkh ? $zkh->get_error : 'no handle');
        POSIX::_exit(0);
    }

    # Send requests until one fails (the server has been killed), then some more.
    my ($ok, $after, @codes) = (0, 0);
    my $deadline = time + $LIMIT;
    while (time < $deadline && $after < $AFTER) {
        for my $call ([ set => sub { $zkh->set($node, $BIG) } ],
                      [ get => sub { defined $zkh->get($node) } ]) {
            if ($call->[1]->()) {
                $say->('running') if ++$ok == 2;    # the parent may strike now
            }
            else {
                push @codes, "$call->[0]:" . $zkh->get_error;
                $after++;
            }
        }
    }
    $say->('ok', $ok);
    $say->('codes', @codes);
    $say->('destroy', $zkh->DESTROY ? 1 : 0);
    $say->('alive');
    close $to_parent;
    POSIX::_exit(0);
}

# --- the parent ---
close $to_parent;
my %got;
my ($killed, $in_flight) = (0, 0);
my $sel = IO::Select->new($from_child);
my $deadline = time + 2 * $LIMIT;
while (time < $deadline && $sel->can_read($deadline - time)) {
    my $line = <$from_child>;
    last unless defined $line;
    chomp $line;
    my ($key, @rest) = split / /, $line;
    $got{$key} = \@rest;
    next unless $key eq 'running' && !$killed++;

    kill 'STOP', $server->pid;
    wait_until(sub {                      # polling for the victim's next bytes
        my $unread = server_unread($server->port);
        return 1 unless defined $unread;  # not Linux: kill at once
        $in_flight = 1 if $unread > 0;
        return $in_flight;
    }, 10, 0.001);
    kill 'KILL', $server->pid;
    $server->stop;                        # reaps it
}
close $from_child;

if (waitpid($pid, POSIX::WNOHANG()) == 0) {
    kill 'KILL', $pid;
    waitpid($pid, 0);
}
my $status = $?;

is($got{sigpipe}[0], 'DEFAULT', 'the victim runs with the default SIGPIPE disposition');
ok(!$got{'setup-failed'}, 'the victim connects and creates a node with 1 MB of data')
    or diag('get_error ' . $got{'setup-failed'}[0]);
ok($killed, 'the server is killed while the victim is sending requests');
SKIP: {
    skip 'cannot see unread socket data here (no /proc/net/tcp)', 1
        unless defined server_unread(0);
    ok($in_flight, 'when the server is killed it holds unread request bytes (a request is in flight)');
}

is($status & 127, 0, 'the victim is not killed by a signal (SIGPIPE is 13)')
    or diag('killed by signal ' . ($status & 127));
is($status >> 8, 0, 'the victim exits normally');
ok($got{alive}, 'the victim keeps running after the server died during its request');

my @codes = @{ $got{codes} || [] };
note("calls that failed, with get_error: @codes");
cmp_ok(scalar(@codes), '>=', $AFTER, "after the server died, the victim's calls fail ($AFTER or more failures)");
my ($first) = @codes;
$first //= 'none:none';
my ($first_call, $first_code) = split /:/, $first;
ok(defined $NAME{$first_code},
   'the call in flight when the server died reports a connection error '
   . '(ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZINVALIDSTATE or ZSESSIONEXPIRED)')
    or diag("$first_call: get_error $first_code");
my @other = grep { !defined $NAME{ (split /:/)[1] } } @codes[1 .. $#codes];
is(scalar(@other), 0, 'every later call on the handle of the dead server reports one of these connection errors')
    or diag("other codes: @other");
is($got{destroy}[0], 1, 'DESTROY of the handle whose server died still returns true');

done_testing();
