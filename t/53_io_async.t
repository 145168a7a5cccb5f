#!/usr/bin/perl
# Net::ZooKeeper::IOAsync (issue 15): the Future forms of the asynchronous calls
# in an IO::Async loop. create, get, set, get_children and delete chained with
# then; a failing call fails its future with the message, the category
# 'zookeeper' and the code; Future->wait_all of many gets; code-ref watchers
# (one-shot and persistent) fired by a second handle in the same loop; bad
# arguments croak at the caller's line; stop, destruction, and a child made by
# fork that removes its copy of the notifier without dispatching. The SYNOPSIS
# runs.
#
# Every wait is for a future or for the fd becoming readable; the bounds only
# turn a lost callback into a failure instead of a hang.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use ZKTest::Util qw(croaks modules_or_skip run_synopsis child_stops_adapter);
use Net::ZooKeeper qw(:errors :acls :events :states :watch_modes);

$SIG{PIPE} = 'IGNORE';

modules_or_skip(qw(IO::Async::Loop Future));
require Net::ZooKeeper::IOAsync;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my $loop = IO::Async::Loop->new;

# Runs the loop until $f is ready (or a bound far above any run is reached, which
# cancels $f); returns $f.
sub await_f {
    my ($f) = @_;
    $loop->await(Future->wait_any($f, $loop->timeout_future(after => 300)));
    return $f;
}

# Waits (with a bound) until the handle's fd is readable: a callback is ready.
sub fd_ready {
    my ($zkh) = @_;
    vec(my $rin = '', $zkh->fd, 1) = 1;
    return select(my $rout = $rin, undef, undef, 60) > 0;
}

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

croaks(sub { Net::ZooKeeper::IOAsync->new(loop => $loop) },
       'Net::ZooKeeper::IOAsync->new: handle => a Net::ZooKeeper handle is required', 'new without a handle croaks');
croaks(sub { Net::ZooKeeper::IOAsync->new(handle => $zkh) },
       'Net::ZooKeeper::IOAsync->new: loop => an IO::Async::Loop is required', 'new without a loop croaks');

my $notifiers = () = $loop->notifiers;
my $zk = Net::ZooKeeper::IOAsync->new(handle => $zkh, loop => $loop);
isa_ok($zk, 'Net::ZooKeeper::IOAsync');
is($zk->handle, $zkh, 'handle returns the handle');
is($zk->loop, $loop, 'loop returns the loop');
ok($zk->active, 'the adapter is active');
is(scalar(() = $loop->notifiers), $notifiers + 1, 'it added one notifier to the loop');
ok($zk->can($_), "it has the method $_") for Net::ZooKeeper::_async_calls();

## A chain of calls

{
    my $stat = $zkh->stat;
    my @trace;
    my $f = $zk->create($root, 'root', acl => ZOO_OPEN_ACL_UNSAFE)
        ->then(sub { push @trace, [ create => @_ ]; $zk->create("$root/a", 'one', acl => ZOO_OPEN_ACL_UNSAFE) })
        ->then(sub { push @trace, [ create => @_ ]; $zk->get("$root/a") })
        ->then(sub { push @trace, [ get => @_ ]; $zk->set("$root/a", 'two') })
        ->then(sub { push @trace, [ set => @_ ]; $zk->get("$root/a", stat => $stat) })
        ->then(sub { push @trace, [ get => @_ ]; $zk->get_children($root) })
        ->then(sub { push @trace, [ get_children => @_ ]; $zk->exists("$root/a") })
        ->then(sub { push @trace, [ exists => @_ ]; $zk->delete("$root/a") })
        ->then(sub { push @trace, [ delete => @_ ]; $zk->get_children($root) })
        ->then(sub { push @trace, [ get_children => @_ ]; Future->done('end') });
    isa_ok($f, 'Future', 'a chain of Future forms');
    ok(await_f($f)->is_done, 'the chain completes') or diag(explain([ $f->failure ]));
    is_deeply([ $f->is_done ? $f->get : () ], ['end'], '... with the last step\'s value');
    is_deeply(\@trace, [
        [ create => $root ], [ create => "$root/a" ], [ get => 'one' ], ['set'], [ get => 'two' ],
        [ get_children => 'a' ], ['exists'], ['delete'], ['get_children'],
    ], '... each step done with what the call delivers');
    is($stat->{version}, 1, 'the stat option is filled: version 1 after one set');
    is($stat->{data_len}, 3, '... data length 3');
}

## Failures

{
    my $f = await_f($zk->get("$root/missing"));
    ok($f->is_failed, 'get of a missing node fails its future');
    is_deeply([ $f->failure ], [ "get $root/missing: no node", 'zookeeper', ZNONODE ],
              '... with the message, the category zookeeper and ZNONODE');

    my @steps;
    $f = $zk->create("$root/b", 'b', acl => ZOO_OPEN_ACL_UNSAFE)
        ->then(sub { push @steps, 'created'; $zk->create("$root/b", 'again', acl => ZOO_OPEN_ACL_UNSAFE) })
        ->then(sub { push @steps, 'created again'; Future->done })
        ->else(sub { my ($message, $category, $rc) = @_; push @steps, [ $message, $category, $rc ]; $zk->delete("$root/b") });
    ok(await_f($f)->is_done, 'a chain that handles a failure with else completes');
    is_deeply(\@steps, [ 'created', [ "create $root/b: node exists", 'zookeeper', ZNODEEXISTS ] ],
              '... the failing step skips the next one, with ZNODEEXISTS');

    $f = await_f($zk->exists("$root/b"));
    is_deeply([ $f->failure ], [ "exists $root/b: no node", 'zookeeper', ZNONODE ],
              'exists of a missing node fails with ZNONODE');

    $f = await_f($zk->multi([ create => "$root/c", 'c', acl => ZOO_OPEN_ACL_UNSAFE ], [ set => "$root/c", 'c2' ]));
    ok($f->is_done, 'a multi that succeeds');
    is_deeply([ map { [ $_->{type}, $_->{error} ] } $f->get ], [ [ create => ZOK ], [ set => ZOK ] ],
              '... is done with one result hash per operation');
    $f = await_f($zk->multi([ delete => "$root/c" ], [ delete => "$root/missing" ]));
    my ($message, $category, $rc, @results) = $f->failure;
    is_deeply([ $message, $category, $rc ], [ 'multi: no node', 'zookeeper', ZNONODE ],
              'a multi that fails fails with the message (no path), the category and the code');
    is_deeply([ map { $_->{type} } @results ], [qw(delete delete)], '... followed by one result hash per operation');
    is($results[1]{error}, ZNONODE, '... the failing one with ZNONODE');
    is($zkh->get("$root/c"), 'c2', '... and nothing of it took effect');
    ok($zkh->delete("$root/c"), "delete $root/c");

    croaks(sub { $zk->get("$root/a", 'watch') }, 'invalid number of arguments',
           'a bad argument croaks at the caller\'s line');
    is($zkh->pending_callbacks, 0, '... and nothing was sent');
}

## Future->wait_all of many gets

{
    my $n = 200;
    my $f = await_f(Future->needs_all(
        map { $zk->create("$root/m$_", "value $_", acl => ZOO_OPEN_ACL_UNSAFE) } 0 .. $n - 1));
    ok($f->is_done, "$n creates at once");
    is_deeply([ $f->get ], [ map { "$root/m$_" } 0 .. $n - 1 ], '... done with their paths');

    my @gets = ((map { $zk->get("$root/m$_") } 0 .. $n - 1), $zk->get("$root/missing"));
    $f = await_f(Future->wait_all(@gets));
    ok($f->is_done, "Future->wait_all of $n gets and a failing one");
    is_deeply([ map { [ $_->get ] } @gets[ 0 .. $n - 1 ] ], [ map { ["value $_"] } 0 .. $n - 1 ],
              '... each get done with its own data');
    is(($gets[-1]->failure)[2], ZNONODE, '... the missing node\'s get failed with ZNONODE');
}

## Code-ref watchers, changed by a second handle in the same loop

my $zkh2 = Net::ZooKeeper->new($hosts);
my $zk2  = Net::ZooKeeper::IOAsync->new(handle => $zkh2, loop => $loop);
{
    my $node    = "$root/m0";
    my $changed = $loop->new_future;
    my @calls;
    my $f = $zk->get($node, watch => sub { push @calls, [@_]; $changed->done(@_) unless $changed->is_ready })
        ->then(sub { Future->needs_all($zk2->set($node, 'changed'), $changed) });
    ok(await_f($f)->is_done, 'a code-ref watcher set with get fires when a second handle sets the node');
    is_deeply(\@calls, [ [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $node ] ],
              '... called once with the changed event, the connected state and the path');
}
{
    my $node = "$root/m1";
    my (@events, $enough);
    $enough = $loop->new_future;
    my $pw = $zkh->add_watch($node, mode => ZOO_WATCH_PERSISTENT, watch => sub {
        push @events, [@_];
        $enough->done if @events == 3 && !$enough->is_ready;
    });
    isa_ok($pw, 'Net::ZooKeeper::PersistentWatch', 'add_watch with a code ref');
    my $f = $zk2->set($node, 'x1')->then(sub { $zk2->set($node, 'x2') })->then(sub { $zk2->set($node, 'x3') })
        ->then(sub { $enough });
    ok(await_f($f)->is_done, 'a persistent code-ref watcher sees three changes');
    is_deeply(\@events, [ ([ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $node ]) x 3 ],
              '... one call per change, with the event, the state and the path');
    $pw->remove;
}

## stop and destruction

{
    $zk2->stop;
    ok(!$zk2->active, 'stop: the adapter is no longer active');
    my @got;
    $zkh2->get("$root/m2", callback => sub { @got = @_ });
    ok(fd_ready($zkh2), 'a callback is ready');
    $loop->loop_once(0);
    is_deeply(\@got, [], '... and the loop does not run it');
    is($zkh2->dispatch(timeout => 60000), 1, 'dispatch by hand runs it');
    is_deeply(\@got, [ ZOK, 'value 2' ], '... with its result');

    my $count = () = $loop->notifiers;
    undef $zk2;
    is(scalar(() = $loop->notifiers), $count, 'a stopped adapter that goes leaves the loop as it was');
    my $zk3 = Net::ZooKeeper::IOAsync->new(handle => $zkh2, loop => $loop);
    undef $zk3;
    is(scalar(() = $loop->notifiers), $count, 'an adapter that goes removes its notifier');
}

## fork: the child removes its copy of the notifier without dispatching

{
    my @got;
    $zkh->get("$root/m3", callback => sub { @got = @_ });
    ok(fd_ready($zkh), 'before the fork, a callback is ready');
    child_stops_adapter('in the child, the loop removes the notifier without dispatching', $zk, sub { @got }, sub { $loop->post_fork; $loop->loop_once(0) });
    ok($zk->active, 'the parent\'s notifier is still there');
    $loop->loop_once(0);
    is_deeply(\@got, [ ZOK, 'value 3' ], '... and the parent runs the callback');
}

## Clean up

{
    my @children = $zkh->get_children($root);
    my $f = await_f(Future->needs_all(map { $zk->delete("$root/$_") } @children));
    ok($f->is_done, 'delete the children') or diag(explain([ $f->failure ]));

    my ($status, $out, $err) = run_synopsis("$FindBin::Bin/../lib/Net/ZooKeeper/IOAsync.pm",
        { q('localhost:2181') => "'$hosts'", q('/demo') => "'$root/demo'", q(get_children('/')) => "get_children('$root')",
          q(children of /) => "children of $root" });
    is($status, 0, 'the SYNOPSIS runs') or diag($err);
    is($out, "data: hello\nchildren of $root: demo\nas expected: get $root/demo: no node\n",
       '... and prints what its chain read');
    ok(await_f($zk->delete($root))->is_done, "delete $root");
}
$zk->stop;

done_testing();
