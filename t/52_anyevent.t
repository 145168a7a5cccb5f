#!/usr/bin/perl
# Net::ZooKeeper::AnyEvent on EV (issue 15): an io watcher on the handle's fd
# runs the callbacks of asynchronous calls and code-ref watchers from the loop.
# 10,000 pipelined creates and gets on one handle complete once each, in order,
# with their own data, while a 10 ms timer keeps firing between them; a
# code-ref watcher fires for a change made by a second handle; a callback that
# dies is reported with a warning and the next one still runs; stop and
# destruction end the dispatching; a child made by fork stops its copy of the
# watcher without dispatching, and the parent goes on. The SYNOPSIS runs.
#
# Every wait is for an event (a condvar, the fd becoming readable); the bounds
# only turn a lost callback into a failure instead of a hang.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use ZKTest::Util qw(croaks modules_or_skip run_synopsis child_stops_adapter);
use Net::ZooKeeper qw(:errors :acls :events :states);

$SIG{PIPE} = 'IGNORE';

# EV first, so that AnyEvent picks it.
modules_or_skip(qw(EV AnyEvent));
require Net::ZooKeeper::AnyEvent;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $N     = 10_000;

# Runs the loop until $cv is sent; false (with a diagnostic) if that takes longer
# than any run should.
sub await_cv {
    my ($cv, $what) = @_;
    my $bound = AnyEvent->timer(after => 300, cb => sub { $cv->croak("no end after 300 s: $what") });
    return 1 if eval { $cv->recv; 1 };
    diag($@);
    return 0;
}

# Waits (with a bound) until the handle's fd is readable: a callback is ready.
sub fd_ready {
    my ($zkh) = @_;
    vec(my $rin = '', $zkh->fd, 1) = 1;
    return select(my $rout = $rin, undef, undef, 60) > 0;
}

is(AnyEvent::detect(), 'AnyEvent::Impl::EV', 'AnyEvent runs on EV');

croaks(sub { Net::ZooKeeper::AnyEvent->new }, 'Net::ZooKeeper::AnyEvent->new: handle => a Net::ZooKeeper handle is required',
       'new without a handle croaks');

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root");

my $w = Net::ZooKeeper::AnyEvent->new(handle => $zkh);
isa_ok($w, 'Net::ZooKeeper::AnyEvent');
is($w->handle, $zkh, 'handle returns the handle');
ok($w->active, 'the adapter is active');

## 10,000 pipelined creates, then 10,000 pipelined gets with a timer running

{
    my $cv = AnyEvent->condvar;
    my @created;
    $cv->begin;
    for my $i (0 .. $N - 1) {
        $cv->begin;
        $zkh->create("$root/n$i", "data-$i", acl => ZOO_OPEN_ACL_UNSAFE, callback => sub {
            push @created, [ $i, @_ ];
            $cv->end;
        });
    }
    $cv->end;
    is($zkh->pending_callbacks, $N, "$N creates in flight, none run before the loop runs");
    ok(await_cv($cv, 'creates'), "the $N create callbacks ran");
    is_deeply(\@created, [ map { [ $_, ZOK, "$root/n$_" ] } 0 .. $N - 1 ],
              '... once each, in order, each with ZOK and its path');
    is($zkh->pending_callbacks, 0, '... and none is pending');
}

{
    my (@log, @got);
    my $timer = AnyEvent->timer(after => 0.01, interval => 0.01, cb => sub { push @log, 'tick' });
    my $cv = AnyEvent->condvar;
    $cv->begin;
    for my $i (0 .. $N - 1) {
        $cv->begin;
        $zkh->get("$root/n$i", callback => sub {
            push @got, [ $i, @_ ];
            push @log, 'done';
            $cv->end;
        });
    }
    $cv->end;
    is($zkh->pending_callbacks, $N, "$N gets in flight");
    ok(await_cv($cv, 'gets'), "the $N get callbacks ran");
    undef $timer;
    is_deeply(\@got, [ map { [ $_, ZOK, "data-$_" ] } 0 .. $N - 1 ],
              '... once each, in order, each with ZOK and its own data');
    my ($first) = grep { $log[$_] eq 'done' } 0 .. $#log;
    my ($last)  = grep { $log[$_] eq 'done' } reverse 0 .. $#log;
    my $between = grep { $_ eq 'tick' } @log[ $first .. $last ];
    ok($between > 0, 'the timer fired between the first and the last completion')
        or diag("ticks in all: " . scalar(grep { $_ eq 'tick' } @log));
}

## A code-ref watcher fired by a change from a second handle

my $node = "$root/n0";
my $zkh2 = Net::ZooKeeper->new($hosts);
isa_ok($zkh2, 'Net::ZooKeeper', 'a second handle');
{
    my $cv = AnyEvent->condvar;
    my (@events, @read);
    $zkh->get($node,
        watch    => sub { push @events, [@_]; $cv->send },
        callback => sub {
            push @read, [@_];
            # The watch is armed now: change the node from the other handle.
            $zkh2->set($node, 'changed') or die 'set from the second handle failed: ' . $zkh2->get_error;
        });
    ok(await_cv($cv, 'watch'), 'the code-ref watcher ran');
    is_deeply(\@read, [ [ ZOK, 'data-0' ] ], 'the get that armed it read the old data');
    is_deeply(\@events, [ [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $node ] ],
              'the watcher was called once with the changed event, the connected state and the path');
}

## A callback that dies

{
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };
    my $cv = AnyEvent->condvar;
    my @next;
    $zkh->get($node, callback => sub { die "boom\n" });
    $zkh->get("$root/n1", callback => sub { @next = @_; $cv->send });
    ok(await_cv($cv, 'the callback after the one that died'), 'the callback after one that died ran');
    is_deeply(\@next, [ ZOK, 'data-1' ], '... with its result');
    is(scalar(@warnings), 1, 'one warning') or diag(@warnings);
    like($warnings[0] // '', qr/\ANet::ZooKeeper: callback of get \Q$node\E died: boom\b/,
         '... naming the call, its path and the message');
}

## stop and destruction end the dispatching

{
    my $w2 = Net::ZooKeeper::AnyEvent->new(handle => $zkh);
    $w->stop;
    ok(!$w->active, 'stop: the adapter is no longer active');
    my @got;
    $zkh->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh), 'a callback is ready');
    EV::run(EV::RUN_NOWAIT());
    is_deeply(\@got, [ ZOK, 'changed' ], 'a second adapter still dispatches it');

    undef $w2;
    @got = ();
    $zkh->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh), 'with no adapter left, a callback is ready');
    EV::run(EV::RUN_NOWAIT());
    is_deeply(\@got, [], '... and the loop does not run it');
    is($zkh->dispatch(timeout => 60000), 1, 'dispatch by hand runs it');
    is_deeply(\@got, [ ZOK, 'changed' ], '... with its result');
}

## fork: the child stops its copy of the watcher without dispatching

{
    my $w3 = Net::ZooKeeper::AnyEvent->new(handle => $zkh);
    my @got;
    $zkh->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh), 'before the fork, a callback is ready');
    child_stops_adapter('in the child, the loop stops the watcher without dispatching or warning', $w3, sub { @got }, sub { EV::run(EV::RUN_NOWAIT()) });
    ok($w3->active, 'the parent\'s watcher is still active');
    EV::run(EV::RUN_NOWAIT());
    is_deeply(\@got, [ ZOK, 'changed' ], '... and the parent runs the callback');
    $w3->stop;
}

## Clean up, asynchronously too

{
    my $w4 = Net::ZooKeeper::AnyEvent->new(handle => $zkh);
    my $cv = AnyEvent->condvar;
    my @failed;
    $cv->begin;
    for my $i (0 .. $N - 1) {
        $cv->begin;
        $zkh->delete("$root/n$i", callback => sub { push @failed, $i if $_[0] != ZOK; $cv->end });
    }
    $cv->end;
    ok(await_cv($cv, 'deletes'), "the $N delete callbacks ran");
    is_deeply(\@failed, [], '... each with ZOK');
}

## The SYNOPSIS runs

{
    my ($status, $out, $err) = run_synopsis("$FindBin::Bin/../lib/Net/ZooKeeper/AnyEvent.pm",
        { q('localhost:2181') => "'$hosts'", q('/demo') => "'$root/demo'" });
    is($status, 0, 'the SYNOPSIS runs') or diag($err);
    my %lines = map { $_ => 1 } split /\n/, $out;
    is_deeply(\%lines, { 'data: hello' => 1, "$root/demo changed" => 1, 'still responsive' => 1 },
              '... reads its node, sees the change, and its timer fires');
    ok(!$zkh->exists("$root/demo"), '... and deletes its node');
}

ok($zkh->delete($root), "delete $root");

done_testing();
