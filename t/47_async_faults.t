#!/usr/bin/perl
# The asynchronous API (issue 15) across fork, ithreads and connection loss.
#
#   fork:     a child inherits a handle with calls in flight (some completed,
#             some not) and an armed code-ref watch.  In the child dispatch,
#             fd, pending_callbacks and new calls croak like every method of
#             an inherited handle, and no callback of the parent's ever runs
#             there, not even when the child destroys the handle or exits;
#             the child's own new handle works.  The parent's callbacks all
#             run in the parent.  Callbacks append "PID TAG" lines to a file,
#             which the parent reads.
#   threads:  a thread makes its own handle, makes async calls and dispatches
#             them; the main thread's callbacks (their replies already there)
#             never run in it.  Callbacks record threads->tid.
#   sessions: a private server is stopped and started again with its data:
#             armed code-ref watches (one-shot and persistent) are called with
#             (ZOO_SESSION_EVENT, ZOO_CONNECTING_STATE), then
#             ZOO_CONNECTED_STATE; async calls made while it is down complete
#             with ZCONNECTIONLOSS (or ZOPERATIONTIMEOUT).
#
# Every wait is bounded; nothing sleeps in the hope that something happened.

use strict;
use warnings;

use Config;
my $HAVE_THREADS;
BEGIN {
    $HAVE_THREADS = $Config{useithreads} ? 1 : 0;
    if ($HAVE_THREADS) {
        require threads;
        threads->import;
        require threads::shared;
        threads::shared->import;
    }
}

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use File::Temp ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(exception_of delete_tree reap);
use ZKTest::Ensemble ();
use Net::ZooKeeper qw(:errors :acls :events :states);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $A = ZOO_OPEN_ACL_UNSAFE;

# Dispatches $h's callbacks until $cond is true, for at most $secs.
sub dispatch_until {
    my ($h, $cond, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs // 30);
    until ($cond->()) {
        return 0 if Time::HiRes::time() > $deadline;
        $h->dispatch(timeout => 100);
    }
    return 1;
}

sub guard { ZKTest::Ensemble::hang_guard(@_) }

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
my $other = Net::ZooKeeper->new($hosts);
my $node = "$root/node";
my $wn   = "$root/watched";
is($zkh->create($root, '', acl => $A), $root, "create $root") or BAIL_OUT('error ' . $zkh->get_error);
is($zkh->create($node, 'data', acl => $A), $node, "create $node");
is($zkh->create($wn, 'w0', acl => $A), $wn, "create $wn");

## fork

{
    my $log = File::Temp->new;
    my $logname = $log->filename;
    # One line per callback; opened and closed each time, so no buffered
    # output is inherited by the child.
    my $record = sub {
        open my $fh, '>>', $logname or die "cannot append to $logname: $!";
        print {$fh} "$$ @_\n";
        close $fh or die "cannot write $logname: $!";
    };
    my $read_log = sub {
        open my $fh, '<', $logname or die "cannot read $logname: $!";
        my @lines = map { chomp; [ split / /, $_ ] } <$fh>;
        return @lines;
    };

    # 20 calls whose replies are there (the barrier), 20 that may still be in
    # flight at the fork, and a code-ref watch.
    $zkh->get($node, callback => sub { $record->('done', $_[0]) }) for 1 .. 20;
    ok($zkh->exists('/'), 'the replies of 20 async gets have arrived (not dispatched)');
    $zkh->get($node, callback => sub { $record->('done', $_[0]) }) for 1 .. 20;
    is($zkh->get($wn, watch => sub { $record->('watch', $_[0]) }), 'w0', 'a code-ref watch armed');
    is($zkh->pending_callbacks, 40, '40 callbacks pending at the fork');

    my $parent = $$;
    pipe(my $from_child, my $to_parent) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $from_child;
        my $io = select($to_parent); $| = 1; select($io);
        alarm 120;    # never outlive a broken parent
        my $failures = 0;
        my $report = sub {
            my ($ok, $name, $diag) = @_;    # $ok in scalar context (a failed match is () in a list)
            $failures++ unless $ok;
            print {$to_parent} ($ok ? 'ok' : 'not ok'), "\t$name",
                (!$ok && defined $diag ? "\t" . join(' ', split /\n/, $diag) : ''), "\n";
        };
        my $croaks = sub {
            my ($name, $code) = @_;
            my $err = exception_of($code);
            $report->(scalar($err =~ /\bprocess \Q$parent\E\b/), "inherited handle: $name croaks naming process $parent",
                      "got: $err");
        };
        $croaks->('dispatch', sub { $zkh->dispatch });
        $croaks->('dispatch(timeout => 100)', sub { $zkh->dispatch(timeout => 100) });
        $croaks->('fd', sub { $zkh->fd });
        $croaks->('pending_callbacks', sub { $zkh->pending_callbacks });
        $croaks->('get with a callback', sub { $zkh->get($node, callback => sub { $record->('child-call') }) });

        # The child's own handle works, callbacks and all.
        my $c = Net::ZooKeeper->new($hosts);
        my @got;
        $report->(scalar($c->get($node, callback => sub { @got = @_; $record->('child-own', $_[0]) })),
                  'a new handle in the child: async get returns true');
        $report->(scalar(dispatch_until($c, sub { @got })), '... its callback runs in the child');
        $report->("@got" eq ZOK . ' data', '... with ZOK and the data', "got (@got)");
        undef $c;

        undef $zkh;    # destroying the inherited handle runs none of its callbacks
        $report->(1, 'the child released the inherited handle');
        print {$to_parent} "end\n";
        close $to_parent;
        exit($failures > 250 ? 250 : $failures);    # and exiting runs none either
    }

    close $to_parent;
    my ($lines, $end) = (0, 0);
    while (defined(my $line = <$from_child>)) {
        chomp $line;
        if ($line eq 'end') { $end = 1; last }
        my ($status, $name, $diag) = split /\t/, $line, 3;
        $lines++;
        ok($status eq 'ok', "child: $name") or diag($diag // '');
    }
    close $from_child;
    my $status = reap($pid, 60);
    ok($end, 'the child finished its checks');
    is($lines, 9, 'the child reported its 9 checks');
    is($status, 0, 'the child exited with no failed check');

    my @before = $read_log->();
    is_deeply([ map { "@$_" } grep { $_->[0] != $$ } @before ], [ "$pid child-own " . ZOK ],
              'in the child only the callback of its own handle ran');
    is(scalar(grep { $_->[0] == $$ } @before), 0, 'the parent has run no callback yet');

    ok(guard(90, 'the parent\'s dispatch after the fork', sub { dispatch_until($zkh, sub { !$zkh->pending_callbacks }) }),
       'the parent dispatches its 40 callbacks');
    ok($other->set($wn, 'w1'), 'another handle changes the watched node');
    ok(guard(90, 'the parent\'s dispatch of the watch', sub {
        dispatch_until($zkh, sub { grep { $_->[1] eq 'watch' } $read_log->() }) }), '... the parent\'s watcher runs');
    my @mine = grep { $_->[0] == $$ } $read_log->();
    is_deeply([ map { "$_->[1] $_->[2]" } @mine ], [ ('done ' . ZOK) x 40, 'watch ' . ZOO_CHANGED_EVENT ],
              'the parent ran all its callbacks (ZOK) and the watcher (ZOO_CHANGED_EVENT), in the parent');
    is(scalar(grep { $_->[0] == $pid } $read_log->()), 1, '... and the child ran none of them');
}

## ithreads

SKIP: {
    skip 'this perl has no ithreads support', 6 unless $HAVE_THREADS;
    my @tlog;
    &threads::shared::share(\@tlog);
    $zkh->get($node, callback => sub { push @tlog, 'main ' . threads->tid . " $_[0]" }) for 1 .. 20;
    ok($zkh->exists('/'), 'the main thread has 20 async gets whose replies are there');
    my ($thr) = threads->create({ context => 'list' }, sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $done = 0;
        $h->get($node, callback => sub { $done++; push @tlog, 'thread ' . threads->tid . " $_[0]" }) for 1 .. 20;
        my $ok = dispatch_until($h, sub { $done == 20 });
        my $pending = $h->pending_callbacks;
        $h->DESTROY;
        return ($ok ? 1 : 0, $done, $pending);
    });
    my ($ok, $done, $pending) = guard(120, 'joining the thread', sub { $thr->join });
    my $tid = $thr->tid;
    ok($ok, "a thread (tid $tid) with its own handle dispatched its 20 callbacks");
    is_deeply([ $done, $pending ], [ 20, 0 ], '... all ran, none left pending');
    is_deeply([ @tlog ], [ ("thread $tid " . ZOK) x 20 ], '... in the thread; none of the main thread\'s ran there');
    ok(guard(90, 'the main thread\'s dispatch', sub { dispatch_until($zkh, sub { @tlog == 40 }) }),
       'the main thread then dispatches its own');
    is_deeply([ @tlog[ 20 .. 39 ] ], [ ('main 0 ' . ZOK) x 20 ], '... in the main thread (tid 0)');
}

## A handle destroyed with calls that cannot complete: a server that accepts
## the connection and never answers (t/lib/ZKTest/SilentServer.pm)

SKIP: {
    require ZKTest::SilentServer;
    my $silent = eval { ZKTest::SilentServer->start };
    skip "cannot start a listener: $@", 4 unless $silent;
    # The session timeout (the bound of every call) is far longer than the
    # test, so no call can end before the handle goes.
    my $h = Net::ZooKeeper->new($silent->hosts, session_timeout => 30000);
    my @rc;
    ok($h->get('/x', callback => sub { push @rc, $_[0] }), 'async calls on a server that never answers')
        for 1 .. 1;
    $h->exists('/x', callback => sub { push @rc, $_[0] }) for 1 .. 9;
    guard(60, 'undef of the handle', sub { undef $h });
    my @after = @rc;    # the statement after undef
    is(scalar(@after), 10, 'undef of the handle: all 10 callbacks ran during the undef');
    is_deeply(\@after, [ (ZCLOSING) x 10 ], '... each with ZCLOSING') or diag("codes @after");
    ok($silent->stop, 'stop the listener');
}

## Session events to code-ref watchers, calls during an outage

SKIP: {
    my $srv = eval { ZKTest::Ensemble->start(size => 1) };
    unless ($srv) {
        my $why = 'cannot start a private ZooKeeper server: ' . ($@ || $ZKTest::Ensemble::ERROR || 'unknown');
        die $why if ZKTest::server_required();
        skip $why, 1;
    }
    my $h = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
    # Two nodes: servers before 3.9 keep one watch per node and session
    # (ZOOKEEPER-4466), so one-shot and persistent watches are not mixed.
    my ($sn, $pn) = ('/async_session', '/async_session_p');
    is($h->create($sn, 's0', acl => $A), $sn, "a handle on a private server creates $sn");
    is($h->create($pn, 'p0', acl => $A), $pn, "and $pn");

    my (@one, @pers);
    is($h->get($sn, watch => sub { push @one, [@_] }), 's0', 'a one-shot code-ref watch armed by get');
    my $pw = $h->add_watch($pn, watch => sub { push @pers, [@_] });    # kept: its end removes the watch
    ok($pw, 'a persistent code-ref watch on the other node');

    ok($srv->stop_member(1), 'stop the server (its data kept)');
    ok(guard(60, 'dispatch after the stop', sub { dispatch_until($h, sub { @one && @pers }, 30) }),
       'both watchers are called');
    is_deeply([ @{ $one[0] // [] }[ 0, 1 ] ], [ ZOO_SESSION_EVENT, ZOO_CONNECTING_STATE ],
              '... the one-shot watch with (ZOO_SESSION_EVENT, ZOO_CONNECTING_STATE)');
    is_deeply($pers[0], [ ZOO_SESSION_EVENT, ZOO_CONNECTING_STATE, undef ],
              '... the persistent watch with (ZOO_SESSION_EVENT, ZOO_CONNECTING_STATE, undef)');

    my @rc;
    ok($h->exists($sn, callback => sub { push @rc, $_[0] }), "an async call while the server is down (#$_)") for 1 .. 5;
    ok(guard(120, 'dispatch during the outage', sub { dispatch_until($h, sub { @rc == 5 }, 90) }),
       '... all 5 complete');
    is_deeply([ grep { $_ != ZCONNECTIONLOSS && $_ != ZOPERATIONTIMEOUT } @rc ], [],
              '... with ZCONNECTIONLOSS or ZOPERATIONTIMEOUT') or diag("codes @rc");
    is($h->pending_callbacks, 0, '... nothing pending');

    ok($srv->start_member(1), 'start the server again with its data');
    my $connected = sub { my ($list) = @_; grep { $_->[0] == ZOO_SESSION_EVENT && $_->[1] == ZOO_CONNECTED_STATE } @$list };
    ok(guard(120, 'dispatch after the restart', sub { dispatch_until($h, sub { $connected->(\@pers) }, 90) }),
       'the persistent watcher is called with (ZOO_SESSION_EVENT, ZOO_CONNECTED_STATE) when the handle has reconnected');
    is($pers[-1][2], undef, '... and path undef');
    # The same session event reaches both watchers; a call and a dispatch of
    # everything due make sure the one-shot watcher's has run, if it came.
    ok(guard(60, 'a call and dispatch', sub { $h->exists('/') && dispatch_until($h, sub { !$h->pending_callbacks }) }),
       '... (a call, and everything due dispatched)');
    ok(scalar($connected->(\@one)), '... the one-shot watcher is called with (ZOO_SESSION_EVENT, ZOO_CONNECTED_STATE) too')
        or diag('one-shot watcher calls: ' . join('; ', map { join(',', map { $_ // 'undef' } @$_) } @one));
    ok(!grep({ $_->[1] == ZOO_EXPIRED_SESSION_STATE } @one, @pers), '... none saw the session expire');
    my $n_one = grep { $_->[0] == ZOO_SESSION_EVENT } @one;

    my $w = Net::ZooKeeper->new($srv->hosts);
    ok(guard(60, 'set by another handle', sub { $w->set($sn, 's1') && $w->set($pn, 'p1') }),
       'another handle changes both nodes (the one-shot watcher\'s first)');
    ok(guard(60, 'dispatch of the change', sub {
        dispatch_until($h, sub { grep { $_->[0] == ZOO_CHANGED_EVENT } @pers }) }),
       'the persistent watcher gets its change');
    # The one-shot node was changed first: its notification came before.
    ok(guard(60, 'a call and dispatch', sub { $h->exists('/') && dispatch_until($h, sub { !$h->pending_callbacks }) }),
       '... (a call, and everything due dispatched)');
    is_deeply($one[-1], [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $sn ],
              'the one-shot watcher armed before the outage gets the change: ZOO_CHANGED_EVENT')
        or diag('one-shot watcher calls: ' . join('; ', map { join(',', map { $_ // 'undef' } @$_) } @one));
    is(scalar(@one), $n_one + 1, '... once (besides its session events)');
    is_deeply($pers[-1], [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $pn ], '... the persistent one too');

    my @after;
    ok(guard(60, 'a call after the restart', sub { $h->get($sn, callback => sub { @after = @_ }) }),
       'an async call after the restart');
    ok(guard(60, 'its dispatch', sub { dispatch_until($h, sub { @after }) }), '... completes');
    is_deeply(\@after, [ ZOK, 's1' ], '... with ZOK and the new data');

    ok($pw->remove, 'remove the persistent watch');
    ok($w->delete($sn) && $w->delete($pn), 'delete the nodes');
    $w->DESTROY;
    ok(guard(60, 'DESTROY', sub { $h->DESTROY }), 'DESTROY the handle');
    ok($srv->stop, 'stop the private server');
}

ok(delete_tree($zkh, $root), 'delete the test nodes');
is(scalar($other->DESTROY), 1, 'DESTROY the other handle');
is(scalar($zkh->DESTROY), 1, 'DESTROY returns true');

done_testing();
