#!/usr/bin/perl
# Persistent watches (add_watch, ZooKeeper 3.6 and later) and the removal of
# watches (remove_watches, remove_all_watches, 3.5 and later), against a real
# server (lib/Net/ZooKeeper.pod, "Persistent watches").
#
# No test sleeps in the hope that an event has arrived.  ZooKeeper sends a
# session the notifications of a change before its reply to any later request,
# and the binding moves what has arrived into the queue before pending(),
# dropped() and wait() look: after the writes (by another handle) a read on the
# watching handle returns only once their events are there to be counted.
# Otherwise wait() itself waits for the next event.
#
# Sessions: a private standalone server (t/lib/ZKTest/Ensemble.pm) is stopped
# and started with its data (the watch gets ZOO_CONNECTING_STATE, then
# ZOO_CONNECTED_STATE and works on), then stopped, emptied and started (the
# session expired: the last event, after which the watch is over).

use strict;
use warnings;

use Config;
BEGIN { require threads if $Config{useithreads} }
use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Scalar::Util ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(croaks exception_of delete_tree reap unused_local_host);
use Net::ZooKeeper qw(:errors :errors_ext :acls :events :states :watch_modes :watch_types);

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my $zkh   = Net::ZooKeeper->new($hosts);    # sets the watches
my $other = Net::ZooKeeper->new($hosts);    # makes the changes
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

sub node_event { my ($type, $path) = @_; return { type => $type, state => ZOO_CONNECTED_STATE, path => $path } }

# The next $n events (each waited for, up to 10 s).
sub events {
    my ($pw, $n) = @_;
    my @got;
    while (@got < $n) {
        my $e = $pw->wait(timeout => 10000);
        last unless $e;
        push @got, $e;
    }
    return \@got;
}

# Perl busy: no call into the module for a while (no sleep: nothing depends on it).
sub busy { my $x = 0; $x += $_ % 7 for 1 .. 300_000; return $x }

# The events of writes made before it are queued once a call on the watching
# handle returns.
sub synced { my ($h) = @_; return $h->exists($root) }

# The watch is over: wait returns undef at once, whatever its timeout.
sub over {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($pw, $name) = @_;
    my $t0 = Time::HiRes::time();
    my $e = $pw->wait(timeout => 10000);
    my $took = Time::HiRes::time() - $t0;
    return ok(!defined $e && $took < 1, $name) || diag(sprintf 'got %s after %.2f s', $e // 'undef', $took);
}

sub create_node { my ($path, $data) = @_; return $other->create($path, $data // '', acl => ZOO_OPEN_ACL_UNSAFE) }

## A recursive watch: three levels deep, changes by another handle, in order.

my $w = "$root/w";
{
    ok(create_node($w), "create $w");
    my $pw = $zkh->add_watch($w, mode => ZOO_WATCH_PERSISTENT_RECURSIVE, queue => 100);
    isa_ok($pw, 'Net::ZooKeeper::PersistentWatch', 'add_watch returns a watch object');
    is($zkh->get_error, ZOK, '... and get_error is ZOK');
    is($pw->path, $w, 'path is the path watched');
    is($pw->mode, ZOO_WATCH_PERSISTENT_RECURSIVE, 'mode is ZOO_WATCH_PERSISTENT_RECURSIVE');
    is($pw->pending, 0, 'no event is pending yet');
    is($pw->dropped, 0, 'none was dropped');

    my @writes = (
        [ create => "$w/a" ], [ create => "$w/a/b" ], [ create => "$w/a/b/c" ],
        [ set => "$w/a/b/c" ], [ set => "$w/a" ], [ set => $w ],
        [ delete => "$w/a/b/c" ], [ delete => "$w/a/b" ],
    );
    my $done = 0;
    for (@writes) {
        my ($op, $path) = @$_;
        $done += $op eq 'create' ? create_node($path) eq $path
               : $op eq 'set'    ? $other->set($path, 'x')
               :                   $other->delete($path);
        busy();
    }
    is($done, scalar @writes, 'another handle creates three levels below, changes and deletes, Perl busy in between');
    ok(synced($zkh), 'a read on the watching handle');
    is($pw->pending, 8, 'all 8 events are queued when it returns');
    is_deeply(events($pw, 8), [
        node_event(ZOO_CREATED_EVENT, "$w/a"),
        node_event(ZOO_CREATED_EVENT, "$w/a/b"),
        node_event(ZOO_CREATED_EVENT, "$w/a/b/c"),
        node_event(ZOO_CHANGED_EVENT, "$w/a/b/c"),
        node_event(ZOO_CHANGED_EVENT, "$w/a"),
        node_event(ZOO_CHANGED_EVENT, $w),
        node_event(ZOO_DELETED_EVENT, "$w/a/b/c"),
        node_event(ZOO_DELETED_EVENT, "$w/a/b"),
    ], 'wait returns them in order: creations three levels deep, changes, deletions (no child events)');
    is($pw->pending, 0, 'the queue is empty');
    my $t0 = Time::HiRes::time();
    is($pw->wait(timeout => 200), undef, 'wait returns undef when its timeout passes with no event');
    cmp_ok(Time::HiRes::time() - $t0, '>=', 0.15, '... after the timeout');
    is($pw->wait(timeout => 0), undef, 'wait(timeout => 0) returns undef at once');
    ok($other->set("$w/a", 'y'), 'another change');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, "$w/a"),
              'the watch goes on: wait returns the next event');
    ok($pw->remove, 'remove the watch');
}

## A plain persistent watch: its node and its children, not grandchildren.

{
    my $p = "$root/p";
    ok(create_node($p), "create $p");
    my $pw = $zkh->add_watch($p);
    is($pw->mode, ZOO_WATCH_PERSISTENT, 'the default mode is ZOO_WATCH_PERSISTENT');
    ok($other->set($p, '1'), 'change the node');
    ok(create_node("$p/c"), 'create a child');
    ok(create_node("$p/c/g"), 'create a grandchild');
    ok($other->set("$p/c/g", '2') && $other->set("$p/c", '3'), 'change the grandchild and the child');
    ok($other->delete("$p/c/g") && $other->delete("$p/c"), 'delete them');
    ok($other->set($p, '4'), 'change the node again');
    ok(synced($zkh), 'a read on the watching handle');
    is($pw->pending, 4, '4 events are queued');
    is_deeply(events($pw, 4), [
        node_event(ZOO_CHANGED_EVENT, $p),
        node_event(ZOO_CHILD_EVENT, $p),
        node_event(ZOO_CHILD_EVENT, $p),
        node_event(ZOO_CHANGED_EVENT, $p),
    ], 'the node\'s changes and its children\'s creation and deletion, nothing of the grandchild');
    ok($other->delete($p), 'delete the node');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_DELETED_EVENT, $p), 'its deletion');
    ok(create_node($p), 'create it again');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CREATED_EVENT, $p),
              'its creation: the watch outlives the node');
}

## The queue bound: new events past it are dropped and counted.

my $q = "$root/q";
{
    ok(create_node($q), "create $q");
    my $pw = $zkh->add_watch($q, queue => 5);
    my $sets = grep { $other->set($q, "v$_") } 1 .. 12;
    is($sets, 12, '12 changes');
    ok(synced($zkh), 'a read on the watching handle');
    is($pw->pending, 5, 'the queue holds its bound of 5 events');
    is($pw->dropped, 7, 'the 7 later events were dropped and counted');
    is_deeply(events($pw, 5), [ map { node_event(ZOO_CHANGED_EVENT, $q) } 1 .. 5 ], 'wait returns the 5 first events');
    is($pw->wait(timeout => 200), undef, '... then undef: the dropped ones are not reported');
    is($pw->dropped, 7, 'dropped still counts 7');
    ok($other->set($q, 'v13'), 'one more change');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, $q), 'a drained queue takes events again');
    is($pw->dropped, 7, 'dropped never goes down');

    ## remove
    ok($pw->remove, 'remove returns true');
    is($zkh->get_error, ZOK, '... get_error ZOK');
    is($pw->pending, 1, 'one event is queued');
    is_deeply($pw->wait(timeout => 0), node_event(ZOO_NOTWATCHING_EVENT, $q),
              'the last event: ZOO_NOTWATCHING_EVENT with the path');
    over($pw, 'then wait returns undef at once');
    ok(!$pw->remove, 'remove a second time returns false');
    is($zkh->get_error, ZNOWATCHER, '... get_error ZNOWATCHER');
    ok($other->set($q, 'v14') && synced($zkh), 'a later change');
    is($pw->pending, 0, 'reaches the removed watch no more');
    is($pw->path, $q, 'path and mode can still be read');
}

## remove_watches with a one-shot watch

my $r = "$root/r";
{
    ok(create_node($r, 'r'), "create $r");
    my $ow = $zkh->watch(timeout => 10000);
    is($zkh->get($r, watch => $ow), 'r', 'a watch armed by get');
    ok($zkh->remove_watches($r, watch => $ow), 'remove_watches returns true');
    is($zkh->get_error, ZOK, '... get_error ZOK');
    ok($ow->wait(timeout => 0), 'the removed watch\'s wait returns true at once');
    is($ow->{event}, ZOO_NOTWATCHING_EVENT, '... with event ZOO_NOTWATCHING_EVENT');
    is($ow->{state}, ZOO_CONNECTED_STATE, '... and state ZOO_CONNECTED_STATE');
    is($zkh->{pending_watches}, 0, 'it is no longer pending');
    ok($other->set($r, 'r2') && synced($zkh), 'a later change of the node');
    is($ow->{event}, ZOO_NOTWATCHING_EVENT, 'does not change the removed watch');
    ok(!$zkh->remove_watches($r, watch => $ow), 'remove_watches a second time returns false');
    is($zkh->get_error, ZNOWATCHER, '... get_error ZNOWATCHER');

    my $cw = $zkh->watch(timeout => 10000);
    ok(defined $zkh->get_children($r, watch => $cw), 'a watch armed by get_children');
    ok(!$zkh->remove_watches("$root/w", watch => $cw), 'remove_watches on another path returns false');
    is($zkh->get_error, ZNOWATCHER, '... get_error ZNOWATCHER');
    ok(!$other->remove_watches($r, watch => $cw), 'remove_watches through another handle returns false');
    is($other->get_error, ZNOWATCHER, '... get_error ZNOWATCHER');
    ok($zkh->remove_watches($r, watch => $cw), 'remove_watches on its path through its handle');
    ok($cw->wait(timeout => 0) && $cw->{event} == ZOO_NOTWATCHING_EVENT, '... removes the child watch');

    # Two watches on one node: removing one keeps the server's watch for the other.
    my ($w1, $w2) = ($zkh->watch(timeout => 10000), $zkh->watch(timeout => 10000));
    ok($zkh->exists($r, watch => $w1) && $zkh->exists($r, watch => $w2), 'two watches armed by exists');
    ok($zkh->remove_watches($r, watch => $w1), 'remove the first');
    ok($other->set($r, 'r3'), 'change the node');
    ok($w2->wait, 'the second one fires');
    is($w2->{event}, ZOO_CHANGED_EVENT, '... with ZOO_CHANGED_EVENT');
    is($w1->{event}, ZOO_NOTWATCHING_EVENT, 'the first one shows ZOO_NOTWATCHING_EVENT');
    ok(!$zkh->remove_watches($r, watch => $w2), 'a watch that fired cannot be removed');
    is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');
    my $never = $zkh->watch;
    ok(!$zkh->remove_watches($r, watch => $never), 'nor one never armed');
    is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');
}

## remove_all_watches

{
    my $s = "$root/s";
    ok(create_node($s), "create $s");
    my %w = map { $_ => $zkh->watch(timeout => 10000) } qw(data child);
    ok($zkh->exists($s, watch => $w{data}) && defined $zkh->get_children($s, watch => $w{child}),
       'a data watch and a child watch on one node');
    ok($zkh->remove_all_watches($s, type => ZWATCHTYPE_DATA), 'remove_all_watches type ZWATCHTYPE_DATA');
    ok($w{data}->wait(timeout => 0) && $w{data}{event} == ZOO_NOTWATCHING_EVENT, '... removes the data watch');
    is($w{child}{event}, 0, '... not the child watch');
    ok(create_node("$s/x"), 'create a child');
    ok($w{child}->wait, 'the child watch fires');
    is($w{child}{event}, ZOO_CHILD_EVENT, '... with ZOO_CHILD_EVENT');
    ok(!$zkh->remove_all_watches($s, type => ZWATCHTYPE_DATA), 'no watch of that type is left');
    is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');

    ok(defined $zkh->get_children($s, watch => $w{child}) && $zkh->get($s, watch => $w{data}) eq '',
       'the watches armed again');
    ok($zkh->remove_all_watches($s, type => ZWATCHTYPE_CHILD), 'remove_all_watches type ZWATCHTYPE_CHILD');
    ok($w{child}->wait(timeout => 0) && $w{child}{event} == ZOO_NOTWATCHING_EVENT, '... removes the child watch');
    is($w{data}{event}, 0, '... not the data watch');

    # All of them: one-shot and persistent.
    my $pw = $zkh->add_watch($s, mode => ZOO_WATCH_PERSISTENT_RECURSIVE);
    ok($pw, 'and a persistent watch on the node');
    ok($zkh->remove_all_watches($s), 'remove_all_watches (type ZWATCHTYPE_ANY by default)');
    is($zkh->get_error, ZOK, '... get_error ZOK');
    ok($w{data}->wait(timeout => 0) && $w{data}{event} == ZOO_NOTWATCHING_EVENT, '... removes the data watch');
    is_deeply($pw->wait(timeout => 0), node_event(ZOO_NOTWATCHING_EVENT, $s), '... and the persistent one');
    ok($other->set($s, 'x') && create_node("$s/y") && synced($zkh), 'later changes');
    is($pw->pending, 0, 'reach none of them');
    ok(!$zkh->remove_all_watches($s, type => ZWATCHTYPE_ANY), 'nothing is left to remove');
    is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');
    ok(!$pw->remove, 'the persistent watch was removed');
    is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');
}

## Paths and handles that cannot serve the call

{
    is($zkh->add_watch('no-slash'), undef, 'add_watch on a bad path returns undef');
    is($zkh->get_error, ZBADARGUMENTS, '... ZBADARGUMENTS');
    ok(!$zkh->remove_all_watches('no-slash'), 'so does remove_all_watches');
    is($zkh->get_error, ZBADARGUMENTS, '... ZBADARGUMENTS');

    my $nowhere = Net::ZooKeeper->new(unused_local_host());
    is($nowhere->add_watch('/'), undef, 'add_watch without a server returns undef');
    is($nowhere->get_error, ZCONNECTIONLOSS, '... ZCONNECTIONLOSS');
    ok(!$nowhere->remove_all_watches('/'), 'remove_all_watches without a server returns false');
    is($nowhere->get_error, ZCONNECTIONLOSS, '... ZCONNECTIONLOSS');

    # Under a chroot, event paths are relative to it.
    my $chrooted = Net::ZooKeeper->new("$hosts$root");
    my $pw = $chrooted->add_watch('/w', mode => ZOO_WATCH_PERSISTENT_RECURSIVE);
    ok(create_node("$w/chroot"), 'a change under a chrooted handle\'s watch');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CREATED_EVENT, '/w/chroot'),
              '... has its path under the chroot');
    # A one-shot watch is removed by its path under the chroot, and only by it.
    my $cw = $chrooted->watch(timeout => 10000);
    ok($chrooted->exists('/w', watch => $cw), 'a one-shot watch armed under the chroot');
    ok(!$chrooted->remove_watches($w, watch => $cw), 'remove_watches with the full path returns false');
    ok($chrooted->remove_watches('/w', watch => $cw), 'remove_watches with the path under the chroot');
    is($cw->{event}, ZOO_NOTWATCHING_EVENT, '... removes it');
    my $rw = $chrooted->watch(timeout => 10000);
    ok($chrooted->exists('/', watch => $rw), 'a one-shot watch on the chroot itself');
    ok($chrooted->remove_watches('/', watch => $rw), 'remove_watches on /');
    is($rw->{event}, ZOO_NOTWATCHING_EVENT, '... removes it');

    # The watch does not keep its handle: when the handle goes, the watch ends.
    ok($chrooted->DESTROY, 'destroy the handle');
    over($pw, 'wait on the watch of a destroyed handle returns undef at once');
    ok(!$pw->remove, 'remove returns false');
    my $t1 = Time::HiRes::time();
    undef $pw;
    cmp_ok(Time::HiRes::time() - $t1, '<', 1, 'DESTROY returns at once');
}

## Bad arguments croak

{
    croaks(sub { $zkh->add_watch($w, mode => 2) }, 'invalid watch mode: 2', 'add_watch mode 2 croaks');
    croaks(sub { $zkh->add_watch($w, mode => -1) }, 'invalid watch mode: -1', 'add_watch mode -1 croaks');
    croaks(sub { $zkh->add_watch($w, queue => 0) }, 'invalid queue length: 0', 'add_watch queue 0 croaks');
    croaks(sub { $zkh->add_watch($w, queue => -3) }, 'invalid queue length: -3', 'add_watch queue -3 croaks');
    croaks(sub { $zkh->add_watch($w, 'mode') }, 'invalid number of arguments', 'add_watch with an odd option list');
    croaks(sub { Net::ZooKeeper::add_watch('zkh', $w) }, 'zkh is not a hash reference of type Net::ZooKeeper',
           'add_watch on something else than a handle');
    croaks(sub { $zkh->remove_all_watches($w, type => 0) }, 'invalid watch type: 0', 'remove_all_watches type 0');
    croaks(sub { $zkh->remove_all_watches($w, type => 4) }, 'invalid watch type: 4', 'remove_all_watches type 4');
    croaks(sub { $zkh->remove_watches($r) }, 'watch is not a hash reference of type Net::ZooKeeper::Watch',
           'remove_watches without a watch');
    croaks(sub { $zkh->remove_watches($r, watch => 'w') },
           'watch is not a hash reference of type Net::ZooKeeper::Watch', 'remove_watches with a string as watch');
    my $gone = $zkh->watch;
    $gone->DESTROY;
    croaks(sub { $zkh->remove_watches($r, watch => $gone) }, 'invalid watch handle',
           'remove_watches with a destroyed watch');
    is(exception_of(sub { $zkh->add_watch($w, bogus => 1)->remove }), "(no exception)\n",
       'unknown options are ignored');

    my $pw = $zkh->add_watch($w);
    croaks(sub { $pw->wait('timeout') }, 'invalid number of arguments', 'wait with an odd option list');
    for my $method (qw(wait pending dropped path mode remove)) {
        no strict 'refs';
        croaks(sub { &{"Net::ZooKeeper::PersistentWatch::$method"}('pw') },
               'pw is not a Net::ZooKeeper::PersistentWatch', "$method on something else croaks");
        croaks(sub { &{"Net::ZooKeeper::PersistentWatch::$method"}(bless \(my $x = 1), 'Net::ZooKeeper::PersistentWatch') },
               'invalid handle', "$method on a forged object croaks");
    }
    ok($pw->DESTROY, 'DESTROY returns true');
    ok(!$pw->DESTROY, 'a second DESTROY returns false');
    croaks(sub { $pw->pending }, 'invalid handle', 'a destroyed watch croaks');
    ok(Net::ZooKeeper::PersistentWatch->CLONE_SKIP, 'CLONE_SKIP is true: threads get no copy');
    is($Net::ZooKeeper::PersistentWatch::VERSION, $Net::ZooKeeper::VERSION, 'the class has the module\'s VERSION');
}

## Signals during wait

{
    my $pw = $zkh->add_watch($w);
    {
        local $SIG{ALRM} = sub { die "alarm\n" };
        my $t0 = Time::HiRes::time();
        alarm 1;
        my $returned = eval { $pw->wait(timeout => 60000); 1 };
        alarm 0;
        ok(!$returned, 'a die in an alarm handler interrupts wait');
        is($@, "alarm\n", '... with the handler\'s exception');
        cmp_ok(Time::HiRes::time() - $t0, '<', 30, '... long before its timeout');
    }
    ok($other->set($w, 'after alarm'), 'a change after the interrupted wait');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, $w), 'the watch still gets it');
    {
        local $SIG{ALRM} = sub { $other->set($w, 'in handler') };
        alarm 1;
        my $e = $pw->wait(timeout => 30000);
        alarm 0;
        is_deeply($e, node_event(ZOO_CHANGED_EVENT, $w),
                  'a handler that runs during wait and changes the node: wait returns the event');
    }
    {
        local $SIG{ALRM} = sub { undef $pw };
        alarm 1;
        my $t0 = Time::HiRes::time();
        my $e = $pw->wait(timeout => 30000);
        alarm 0;
        is($e, undef, 'a handler that destroys the watch during wait: wait returns undef');
        cmp_ok(Time::HiRes::time() - $t0, '<', 20, '... long before its timeout');
        ok(!defined $pw, '... and the watch is gone');
    }
}

## fork: the child's object croaks, the parent's works on

{
    my $pw = $zkh->add_watch($w);
    pipe(my $from_child, my $to_parent) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $from_child;
        alarm 60;
        my @lines;
        for my $method (qw(wait pending dropped path mode remove)) {
            my $err = exception_of(sub { $pw->$method });
            push @lines, ($err =~ /^Net::ZooKeeper::PersistentWatch cannot be used after fork: it belongs to process \d+ at /
                          ? 'ok' : "not ok $method: $err");
        }
        my $own = Net::ZooKeeper->new($hosts);
        my $cw = $own->add_watch($w);
        push @lines, $cw && $own->set($w, 'from child') && ($cw->wait(timeout => 10000) // {})->{type} == ZOO_CHANGED_EVENT
            ? 'ok' : 'not ok the child\'s own watch';
        s/\n/ /g for @lines;
        print {$to_parent} map { "$_\n" } @lines;
        close $to_parent;
        exit 0;    # the inherited watch is destroyed here: the parent's stays
    }
    close $to_parent;
    my @lines = <$from_child>;
    close $from_child;
    is(reap($pid, 60), 0, 'the child exited normally');
    chomp @lines;
    is_deeply(\@lines, [ ('ok') x 7 ],
              'in the child every method of the inherited watch croaks "cannot be used after fork", its own watch works');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, $w), 'the parent\'s watch saw the child\'s change');
    ok($other->set($w, 'after the child'), 'a change after the child exited');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, $w), 'the parent\'s watch works on');
}

## ithreads: a new thread gets no copy

SKIP: {
    skip 'a perl without ithreads', 3 unless $Config{useithreads};
    my $pw = $zkh->add_watch($w);
    my ($shape, $err) = threads->create({ context => 'list' }, sub {
        (ref($pw) . (defined $$pw ? ' defined' : ' undef'),
         exception_of(sub { Net::ZooKeeper::PersistentWatch::pending($pw) }));
    })->join;
    is($shape, 'SCALAR undef', 'a watch captured by a new thread arrives there as a reference to an undefined scalar');
    like($err, qr/^pw is not a Net::ZooKeeper::PersistentWatch at /, '... which the methods refuse');
    ok($other->set($w, 'after the thread') && $pw->wait(timeout => 10000), 'the watch works on in its own thread');
}

## Sessions: connection loss, reconnection, expiry

SKIP: {
    require ZKTest::Ensemble;
    my $srv = eval { ZKTest::Ensemble->start(size => 1) };
    unless ($srv) {
        my $why = 'cannot start a private server: ' . ($@ || do { no warnings 'once'; $ZKTest::Ensemble::ERROR } || 'unknown');
        die $why if ZKTest::server_required();
        skip $why, 17;
    }
    local $SIG{PIPE} = 'IGNORE';
    my $h = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
    my $node = '/sessions';
    is($h->create($node, '', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'a node on a private server');
    my $pw = $h->add_watch($node, mode => ZOO_WATCH_PERSISTENT_RECURSIVE);
    ok($pw, 'a watch on it');

    ok($srv->stop_member(1), 'stop the server (its data kept)');
    is_deeply($pw->wait(timeout => 30000), { type => ZOO_SESSION_EVENT, state => ZOO_CONNECTING_STATE, path => undef },
              'a session event: ZOO_CONNECTING_STATE, path undef');
    ok($srv->start_member(1), 'start it again');
    is_deeply($pw->wait(timeout => 60000), { type => ZOO_SESSION_EVENT, state => ZOO_CONNECTED_STATE, path => undef },
              'a session event: ZOO_CONNECTED_STATE');
    ok($h->set($node, 'x'), 'the session goes on');
    is_deeply($pw->wait(timeout => 10000), node_event(ZOO_CHANGED_EVENT, $node), 'and so does the watch');

    ok($srv->stop_member(1), 'stop the server again');
    is_deeply($pw->wait(timeout => 30000), { type => ZOO_SESSION_EVENT, state => ZOO_CONNECTING_STATE, path => undef },
              'ZOO_CONNECTING_STATE');
    ok($srv->wipe_member(1) > 0, 'empty its data directory');
    ok($srv->start_member(1), 'start it: it knows no session');
    # The emptied server answers a client only once its zxid has passed the one
    # the client saw (see t/96_outage_wiped.t): a new session makes transactions.
    my $writer = Net::ZooKeeper->new($srv->hosts);
    my $made = grep { $writer->create("/pad$_", '', acl => ZOO_OPEN_ACL_UNSAFE) } 1 .. 30;
    is($made, 30, 'another session makes 30 transactions');
    is_deeply($pw->wait(timeout => 60000),
              { type => ZOO_SESSION_EVENT, state => ZOO_EXPIRED_SESSION_STATE, path => undef },
              'the last event: ZOO_EXPIRED_SESSION_STATE');
    over($pw, 'then wait returns undef at once');
    ok(!$pw->remove, 'remove returns false');
    is($h->get_error, ZINVALIDSTATE, '... ZINVALIDSTATE: the session is over');
    $srv->stop;
}

ok(delete_tree($other, $root), 'delete the test nodes');
ok($zkh->DESTROY && $other->DESTROY, 'DESTROY the handles');

done_testing();
