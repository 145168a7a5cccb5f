#!/usr/bin/perl
# Net::ZooKeeper::Mojo (issue 15): a Mojolicious::Lite app, served by
# Mojo::Server::Daemon on 127.0.0.1 in this process's Mojo::IOLoop, serves the
# value of a node that a code-ref watcher keeps current (each time it fires it
# reads the node again and arms itself again with get_p(..., watch => ...)).
# A second handle changes the node to several values in turn; after each change
# requests made with Mojo::UserAgent, in the same loop, get the new value. The
# _p forms resolve with what the calls deliver and reject with the message and
# the code; bad arguments croak at the caller's line; stop, destruction, and a
# child made by fork that stops its copy of the watcher without dispatching.
# The SYNOPSIS's app runs.
#
# Every wait is for a promise or for the fd becoming readable; the polling of
# the app is bounded, and the bounds only turn a lost event into a failure
# instead of a hang.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use ZKTest::Util qw(croaks modules_or_skip run_synopsis child_stops_adapter);
use Net::ZooKeeper qw(:errors :acls :events :states);

# Before Mojolicious::Lite is compiled below: skip (or fail in CI) without it.
BEGIN { modules_or_skip(qw(Mojolicious::Lite Mojo::IOLoop Mojo::Promise Mojo::Server::Daemon Mojo::UserAgent)) }

$SIG{PIPE} = 'IGNORE';

require Net::ZooKeeper::Mojo;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $node  = "$root/value";
my $loop  = Mojo::IOLoop->singleton;

# Runs the loop until $p settles (or a bound far above any run is reached);
# returns ('resolved', @values) or ('rejected', @reasons).
sub settle {
    my ($p) = @_;
    my @outcome = ('pending');
    Mojo::Promise->race($p, Mojo::Promise->timeout(300 => 'no answer after 300 s'))
        ->then(sub { @outcome = ('resolved', @_) }, sub { @outcome = ('rejected', @_) })
        ->wait;
    return @outcome;
}

# Waits (with a bound) until the handle's fd is readable: a callback is ready.
sub fd_ready {
    my ($zkh) = @_;
    vec(my $rin = '', $zkh->fd, 1) = 1;
    return select(my $rout = $rin, undef, undef, 60) > 0;
}

# One turn of the loop that handles what is ready now, without blocking.
sub turn {
    $loop->timer(0 => sub { });
    $loop->one_tick;
}

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root");
is($zkh->create($node, 'v0', acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");

croaks(sub { Net::ZooKeeper::Mojo->new }, 'Net::ZooKeeper::Mojo->new: handle => a Net::ZooKeeper handle is required',
       'new without a handle croaks');
croaks(sub { Net::ZooKeeper::Mojo->new(handle => $zkh, ioloop => 'loop') },
       'Net::ZooKeeper::Mojo->new: ioloop => a Mojo::IOLoop is required', 'new with a bad ioloop croaks');

my $zk = Net::ZooKeeper::Mojo->new(handle => $zkh);
isa_ok($zk, 'Net::ZooKeeper::Mojo');
is($zk->handle, $zkh, 'handle returns the handle');
is($zk->ioloop, $loop, 'the default ioloop is the singleton');
ok($zk->active, 'the adapter is active');
ok($zk->can("${_}_p"), "it has the method ${_}_p") for Net::ZooKeeper::_async_calls();

## The _p forms

{
    my @trace;
    my $p = $zk->create_p("$root/a", 'one', acl => ZOO_OPEN_ACL_UNSAFE)
        ->then(sub { push @trace, [ create => @_ ]; $zk->get_p("$root/a") })
        ->then(sub { push @trace, [ get => @_ ]; $zk->set_p("$root/a", 'two') })
        ->then(sub { push @trace, [ set => @_ ]; $zk->get_children_p($root) })
        ->then(sub { push @trace, [ get_children => sort @_ ]; $zk->delete_p("$root/a") })
        ->then(sub { push @trace, [ delete => @_ ]; 'end' });
    isa_ok($p, 'Mojo::Promise', 'a chain of promise forms');
    is_deeply([ settle($p) ], [ resolved => 'end' ], 'the chain resolves');
    is_deeply(\@trace, [ [ create => "$root/a" ], [ get => 'one' ], ['set'], [ get_children => 'a', 'value' ], ['delete'] ],
              '... each step resolved with what the call delivers');

    is_deeply([ settle($zk->get_p("$root/missing")) ], [ rejected => "get $root/missing: no node", ZNONODE ],
              'get_p of a missing node rejects with the message and ZNONODE');
    is_deeply([ settle($zk->delete_p($node, version => 7)) ], [ rejected => "delete $node: bad version", ZBADVERSION ],
              'delete_p with a wrong version rejects with ZBADVERSION');

    my ($outcome, $message, $rc, @results) = settle($zk->multi_p([ set => $node, 'v0' ], [ delete => "$root/missing" ]));
    is_deeply([ $outcome, $message, $rc ], [ rejected => 'multi: no node', ZNONODE ],
              'a multi_p that fails rejects with the message (no path) and the code');
    is_deeply([ map { $_->{type} } @results ], [qw(set delete)], '... followed by one result hash per operation');
    is($results[1]{error}, ZNONODE, '... the failing one with ZNONODE');

    my @all = settle(Mojo::Promise->all(map { $zk->get_p($node) } 1 .. 50));
    is_deeply(\@all, [ resolved => ([ 'v0' ]) x 50 ], 'Mojo::Promise->all of 50 get_p');

    croaks(sub { $zk->get_p($node, 'watch') }, 'invalid number of arguments', 'a bad argument croaks at the caller\'s line');
    is($zkh->pending_callbacks, 0, '... and nothing was sent');
}

## The app: a code-ref watcher keeps the served value current

my $value;
my $fired = 0;
my @follow_errors;

sub follow {
    $zk->get_p($node, watch => sub {
        my ($event) = @_;
        $fired++;
        follow() unless $event == ZOO_SESSION_EVENT;    # still armed after a session event
    })->then(sub { $value = shift }, sub { push @follow_errors, [@_] });
    return;
}

my $app;
{
    package ZKTest::ValueApp;    ## no critic (Modules::ProhibitMultiplePackages)
    use Mojolicious::Lite;
    app->log->level('fatal');
    get '/value' => sub {
        my ($c) = @_;
        $c->render(text => $value // '(none yet)');
    };
    $app = app;
}

my $daemon = Mojo::Server::Daemon->new(app => $app, listen => ['http://127.0.0.1'], silent => 1);
$daemon->start;
my $port = $daemon->ports->[0];
ok($port, "the app listens on 127.0.0.1:$port");
my $ua  = Mojo::UserAgent->new;
my $url = "http://127.0.0.1:$port/value";

# Resolves with the served value once it is $want; rejects after $tries requests.
sub served_p {
    my ($want, $tries) = @_;
    return $ua->get_p($url)->then(sub {
        my ($tx) = @_;
        my $got = $tx->result->body;
        return $got if $got eq $want;
        return Mojo::Promise->reject("still '$got' after the last request") if --$tries <= 0;
        return Mojo::Promise->timer(0.02)->then(sub { served_p($want, $tries) });
    });
}

follow();
is_deeply([ settle(served_p('v0', 1000)) ], [ resolved => 'v0' ], 'the app serves the node\'s value');

my $zkh2 = Net::ZooKeeper->new($hosts);
isa_ok($zkh2, 'Net::ZooKeeper', 'a second handle');
my @values = map { "v$_" } 1 .. 5;
for my $v (@values) {
    ok($zkh2->set($node, $v), "the second handle sets $v");
    is_deeply([ settle(served_p($v, 1000)) ], [ resolved => $v ], "... and the app serves $v");
}
is($fired, scalar(@values), 'the watcher fired once per change');
is_deeply(\@follow_errors, [], '... and every read after it succeeded');

## stop and destruction

{
    my $zk2 = Net::ZooKeeper::Mojo->new(handle => $zkh2);
    $zk2->stop;
    ok(!$zk2->active, 'stop: the adapter is no longer active');
    my @got;
    $zkh2->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh2), 'a callback is ready');
    turn();
    is_deeply(\@got, [], '... and the loop does not run it');
    is($zkh2->dispatch(timeout => 60000), 1, 'dispatch by hand runs it');
    is_deeply(\@got, [ ZOK, 'v5' ], '... with its result');

    my $zk3 = Net::ZooKeeper::Mojo->new(handle => $zkh2);
    @got = ();
    $zkh2->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh2), 'with a new adapter, a callback is ready');
    turn();
    is_deeply(\@got, [ ZOK, 'v5' ], '... and the loop runs it');
    undef $zk3;
    @got = ();
    $zkh2->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh2), 'after that adapter went, a callback is ready');
    turn();
    is_deeply(\@got, [], '... and the loop does not run it');
    is($zkh2->dispatch(timeout => 60000), 1, 'dispatch by hand runs it');
}

## fork: the child stops its copy of the watcher without dispatching

{
    my @got;
    $zkh->get($node, callback => sub { @got = @_ });
    ok(fd_ready($zkh), 'before the fork, a callback is ready');
    child_stops_adapter('in the child, the loop stops the watcher without dispatching', $zk, sub { @got }, sub { turn() });
    ok($zk->active, 'the parent\'s watcher is still active');
    turn();
    is_deeply(\@got, [ ZOK, 'v5' ], '... and the parent runs the callback');
}

## Clean up

$daemon->stop;

{
    # The app of the SYNOPSIS, asked by Mojolicious' own get command.
    my ($status, $out, $err) = run_synopsis("$FindBin::Bin/../lib/Net/ZooKeeper/Mojo.pm",
        { q('localhost:2181') => "'$hosts'", q('/demo_config') => "'$root/demo_config'" },
        qw(get -M POST -c new /config));
    is($status, 0, 'the SYNOPSIS runs') or diag($err);
    is($out, "set\n", '... and its POST route answers after set_p resolved');
    is($zkh->get("$root/demo_config"), 'new', '... having set the node');
    ok($zkh->delete("$root/demo_config"), 'delete the SYNOPSIS\'s node');
}
is_deeply([ settle($zk->delete_p($node)) ], ['resolved'], "delete $node");
is_deeply([ settle($zk->delete_p($root)) ], ['resolved'], "delete $root");
$zk->stop;

done_testing();
