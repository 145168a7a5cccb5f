#!/usr/bin/perl
# A server that accepts the TCP connection but never answers (manual
# "Background Runtime": a call waits at most about the session timeout for
# the connection and the reply, then fails; no method blocks indefinitely;
# spec 11.2, 11.3).  The silent server is a Perl listener in a child process
# (t/lib/ZKTest/SilentServer.pm) that accepts and reads forever.  Every call
# runs under ZKTest::Ensemble::hang_guard: a call that does not return within
# its bound ends the test process (status 124, "HANG: ..." on STDERR), so a
# hang fails the test instead of blocking it.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Ensemble;
use ZKTest::SilentServer;
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';

my $silent = eval { ZKTest::SilentServer->start }
    or plan skip_all => "cannot start a listener: $@";

my %CONN_ERROR = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT;

# Runs $code; the test process ends (a failure) if it does not return in time.
sub bounded {
    my ($seconds, $what, $code) = @_;
    return ZKTest::Ensemble::hang_guard($seconds, $what, $code);
}

my $zkh = Net::ZooKeeper->new($silent->hosts, session_timeout => 2000);
isa_ok($zkh, 'Net::ZooKeeper', 'new() returns a handle for a server that accepts but never answers')
    or BAIL_OUT('no handle');

my @calls = (
    [ exists       => sub { $zkh->exists('/x') } ],
    [ get          => sub { $zkh->get('/x') } ],
    [ get_children => sub { scalar $zkh->get_children('/x') } ],
    [ create       => sub { $zkh->create('/x', 'data', acl => ZOO_OPEN_ACL_UNSAFE) } ],
    [ set          => sub { $zkh->set('/x', 'data') } ],
    [ delete       => sub { $zkh->delete('/x') } ],
    [ get_acl      => sub { scalar $zkh->get_acl('/x') } ],
    [ set_acl      => sub { $zkh->set_acl('/x', ZOO_OPEN_ACL_UNSAFE) } ],
    [ add_auth     => sub { $zkh->add_auth('digest', 'user:password') } ],
);
for my $c (@calls) {
    my ($name, $code) = @$c;
    my $result = bounded(30, $name, $code);
    ok(!$result, "$name on a silent server returns and reports failure");
    my $err = $zkh->get_error;
    if ($name eq 'add_auth') {
        # spec 3.4: with no server to talk to, libzk's add_auth said ZINVALIDSTATE at once
        ok($CONN_ERROR{$err} || $err == ZINVALIDSTATE,
           "$name: get_error is a connection error (or ZINVALIDSTATE, as libzk said without a server)")
            or diag("get_error: $err");
    }
    else {
        ok($CONN_ERROR{$err}, "$name: get_error is a connection error (ZCONNECTIONLOSS or ZOPERATIONTIMEOUT)")
            or diag("get_error: $err");
    }
}

# A watch passed to a call that never reaches the server is never armed.  (The
# failed add_auth above did not make the handle unusable: this call still
# fails with a connection error, not ZINVALIDSTATE.)
{
    my $w = $zkh->watch(timeout => 200);
    my $result = bounded(30, 'exists with a watch', sub { $zkh->exists('/x', watch => $w) });
    ok(!$result, 'exists with a watch on a silent server returns and fails');
    ok($CONN_ERROR{ $zkh->get_error }, '... with a connection error');
    my $fired = bounded(30, 'wait', sub { $w->wait });
    ok(!$fired, 'the watch never fires: wait() times out');
    is($w->{event}, 0, '... and its event stays 0');
    is($zkh->{pending_watches}, 1, 'the never-armed watch stays counted in pending_watches');
}

is($zkh->{session_id}, '', 'no session was made: session_id is empty');

{
    my $result = bounded(30, 'DESTROY', sub { $zkh->DESTROY });
    ok($result, 'DESTROY of a handle that never connected returns and reports that it closed the handle');
}

# With the default session timeout (10 s) the bound is longer, but still a bound.
{
    my $h = Net::ZooKeeper->new($silent->hosts);
    my $result = bounded(60, 'get with the default session timeout', sub { $h->get('/') });
    ok(!defined $result, 'get with the default session timeout returns and fails');
    ok($CONN_ERROR{ $h->get_error }, '... with a connection error') or diag('get_error: ' . $h->get_error);
}

# Several calls in a row on one handle each fail on their own: none of them
# waits for an earlier one, and the handle stays usable (it still fails the
# same way rather than croaking).
{
    my $h = Net::ZooKeeper->new($silent->hosts, session_timeout => 2000);
    my $fails = 0;
    for my $i (1 .. 5) {
        my $result = bounded(30, "exists #$i", sub { $h->exists('/') });
        $fails++ if !$result && $CONN_ERROR{ $h->get_error };
    }
    is($fails, 5, 'five calls in a row each return with a connection error');
}

# A silent server first in the host list, a real server second: the client
# gives the silent one up and its calls are served by the real one.
SKIP: {
    my $hosts = ZKTest::require_server(3);
    Net::ZooKeeper::set_deterministic_conn_order(1);
    my $h = Net::ZooKeeper->new($silent->hosts . ",$hosts", session_timeout => 4000);
    Net::ZooKeeper::set_deterministic_conn_order(0);
    my ($ok, %codes) = (0);
    for my $try (1 .. 20) {
        last if $ok = bounded(30, "exists, try $try", sub { $h->exists('/') });
        $codes{ $h->get_error }++;
    }
    ok($ok, 'silent server listed first, real server second: the client moves on and calls succeed');
    ok(!grep({ !$CONN_ERROR{$_} } keys %codes), '... calls before that fail with connection errors only')
        or diag(explain \%codes);
    is(length $h->{session_id}, 24, '... with a session');
}

ok($silent->stop, 'stop the silent listener');

done_testing();
