#!/usr/bin/perl
# The asynchronous API without any event loop module (issue 15): the
# `callback` option of every node call, code-ref watchers, and the handle's
# fd / dispatch / pending_callbacks, as a user sees them.
#
# Each call in its callback form returns true at once; its callback runs only
# in dispatch (a synchronous call on the same handle first makes sure that the
# reply has arrived: the server answers in order), exactly once, with the
# result code and the values the synchronous form returns for the same node.
# Then: call order, the stat option per call, the fd with IO::Select,
# dispatch's timeout, pending_callbacks, code-ref watchers (one-shot and
# persistent, re-armed from their own callback, removed), a callback that
# dies, and a handle destroyed with calls in flight.
#
# Nothing sleeps in the hope that something happened: every wait is a
# dispatch(timeout => ...) loop bounded by a deadline.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use IO::Select ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(exception_of delete_tree create_null_node no_hang);
use Net::ZooKeeper qw(:errors :errors_ext :acls :events :states :node_flags :watch_modes :watch_types);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my ($list, $chroot) = $hosts =~ m{\A([^/]*)(.*)\z}s;
my $A = ZOO_OPEN_ACL_UNSAFE;

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
my $other = Net::ZooKeeper->new($hosts);    # makes the changes the watchers see

is($zkh->create($root, 'root', acl => $A), $root, "create $root") or BAIL_OUT('error ' . $zkh->get_error);

# Dispatches $h's callbacks until $cond is true; bounded (30 s by default) so
# that a callback which never comes fails the test instead of hanging it, and
# a dispatch that blocks for good kills the file (no_hang's alarm).
sub dispatch_until {
    my ($h, $cond, $secs) = @_;
    $secs //= 30;
    return no_hang($secs + 60, sub {
        my $deadline = Time::HiRes::time() + $secs;
        until ($cond->()) {
            return 0 if Time::HiRes::time() > $deadline;
            $h->dispatch(timeout => 100);
        }
        return 1;
    });
}

# A synchronous call: once it returns, the replies to the calls made before it
# on the same handle (and the notifications sent before them) have arrived.
sub barrier { my ($h) = @_; return $h->exists('/') }

sub code_list { return join(', ', map { defined $_ ? $_ : 'undef' } @_) }

my %covered;    # method => 1 once its callback form was checked here

# How the callback's values relate to what the synchronous form returns in
# list context: 'list' (the list on success, nothing on failure), 'none'
# (never anything: exists, set, delete, ...) or 'always' (multi: the result
# hashes also on failure).
my %VALUES = (
    create => 'list', delete => 'none', exists => 'none', get => 'list', set => 'none',
    get_children => 'list', get_acl => 'list', set_acl => 'none', sync => 'none',
    get_ephemerals => 'list', get_all_children_number => 'list', whoami => 'list',
    get_config => 'list', multi => 'always', multi_read => 'always',
    add_watch => 'list', remove_watches => 'none', remove_all_watches => 'none',
);

# The synchronous call's result as the callback should get it: ($rc, @values).
sub sync_result {
    my ($method, @args) = @_;
    my @r  = $zkh->$method(@args);
    my $rc = $zkh->get_error;
    my $how = $VALUES{$method};
    @r = () if $how eq 'none' || ($how eq 'list' && $rc != ZOK);
    return ($rc, @r);
}

# Calls $method(@args, callback => ...) and checks what a user sees: true at
# once, nothing before dispatch, one callback with @$want.  Returns the
# callback's arguments.
sub async_is {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($name, $method, $args, $want) = @_;
    $covered{$method} = 1;
    my (@got, $runs);
    $runs = 0;
    my $ret = $zkh->$method(@$args, callback => sub { $runs++; @got = @_ });
    ok($ret, "$name: the callback form returns true at once");
    is($zkh->pending_callbacks, 1, "$name: ... one callback pending");
    barrier($zkh);
    is($runs, 0, "$name: ... its callback has not run before dispatch (the reply is there)");
    ok(dispatch_until($zkh, sub { $runs }), "$name: ... it runs in dispatch");
    is($zkh->dispatch, 0, "$name: ... a further dispatch runs nothing");
    is($runs, 1, "$name: ... exactly once");
    is($zkh->pending_callbacks, 0, "$name: ... nothing pending afterwards");
    is_deeply(\@got, $want, "$name: ... with (" . code_list($want->[0]) . ', ...) as the synchronous form')
        or diag('got (' . code_list(@got) . '), want (' . code_list(@$want) . ')');
    return @got;
}

# The same call made synchronously and then with a callback: same result.
sub same_as_sync {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($name, $method, @args) = @_;
    my @want = sync_result($method, @args);
    return async_is($name, $method, \@args, \@want);
}

my $node    = "$root/node";
my $missing = "$root/missing";
my $eph     = "$root/eph";
is($zkh->create($node, 'data', acl => $A), $node, "create $node");
is($zkh->create("$node/kid", 'k', acl => $A), "$node/kid", 'and a child of it');
is($zkh->create($eph, 'e', flags => ZOO_EPHEMERAL, acl => $A), $eph, 'and an ephemeral node');
my $null = "$root/null";
create_null_node((split /,/, $list)[0], "$chroot$null");
ok($zkh->exists($null), "a node with null data: $null");

## Every call in its callback form: the same result as the synchronous form

{
    same_as_sync('exists',                   exists => $node);
    same_as_sync('exists of a missing node', exists => $missing);
    same_as_sync('exists of a bad path',     exists => 'bad');
    my ($rc) = same_as_sync('get', get => $node);
    is($rc, ZOK, 'get: ... ZOK');
    same_as_sync('get with data_read_len',   get => $node, data_read_len => 2);
    same_as_sync('get of a node with null data', get => $null);
    ($rc) = same_as_sync('get of a missing node', get => $missing);
    is($rc, ZNONODE, 'get of a missing node: ... ZNONODE');
    ($rc) = same_as_sync('get of a bad path', get => 'bad');
    is($rc, ZBADARGUMENTS, 'get of a bad path: ... ZBADARGUMENTS (called back, not croaked)');
    same_as_sync('get_children',             get_children => $root);
    same_as_sync('get_children of a missing node', get_children => $missing);
    same_as_sync('get_children of a bad path', get_children => 'bad/');
    same_as_sync('get_acl',                  get_acl => $node);
    same_as_sync('get_acl of a missing node', get_acl => $missing);
    same_as_sync('sync',                     sync => $root);
    same_as_sync('sync of a bad path',       sync => 'bad');
    same_as_sync('get_ephemerals',           get_ephemerals => $root);
    same_as_sync('get_all_children_number',  get_all_children_number => $root);
    same_as_sync('get_all_children_number of a missing node', get_all_children_number => $missing);
    same_as_sync('whoami',                   'whoami');
    same_as_sync('get_config',               'get_config');
    same_as_sync('multi_read',               multi_read => [ get => $node ], [ get_children => $node ]);
    same_as_sync('multi, failing on a check', multi => [ check => $node, version => 99 ], [ set => $node, 'x' ]);
    same_as_sync('multi, failing on a bad path', multi => [ check => $node ], [ set => 'bad', 'x' ]);
    same_as_sync('set with a wrong version', set => $node, 'x', version => 99);
    same_as_sync('set of a missing node',    set => $missing, 'x');
    same_as_sync('set of a bad path',        set => 'bad', 'x');
    same_as_sync('set_acl with a wrong version', set_acl => $node, $A, version => 99);
    same_as_sync('set_acl of a missing node', set_acl => $missing, $A);
    same_as_sync('delete of a missing node', delete => $missing);
    same_as_sync('delete with a wrong version', delete => $node, version => 99);
    same_as_sync('delete of a node with children', delete => $node);
    same_as_sync('delete of a bad path',     delete => 'bad');
    same_as_sync('create of an existing node', create => $node, 'x', acl => $A);
    same_as_sync('create under a missing node', create => "$missing/x", 'x', acl => $A);
    same_as_sync('create of a bad path',     create => 'bad', 'x', acl => $A);
    is($zkh->get($node), 'data', 'none of the failed writes changed the node');

    # Writes that succeed change the server: each form on a node of its own.
    for my $i (1, 2) {
        my $sync = $i == 1;
        my $n = "$root/w$i";
        my $how = $sync ? 'the synchronous form' : 'the callback form';
        if ($sync) {
            is($zkh->create($n, "c$i", acl => $A), $n, "create: $how returns the path");
            ok($zkh->set($n, "s$i"), "set: $how");
            ok($zkh->set_acl($n, ZOO_READ_ACL_UNSAFE), "set_acl: $how");
            ok($zkh->delete($n), "delete: $how");
            next;
        }
        async_is('create', create => [ $n, "c$i", acl => $A ], [ ZOK, $n ]);
        is($zkh->get($n), "c$i", 'create: ... the node is there with its data');
        async_is('set', set => [ $n, "s$i" ], [ ZOK ]);
        is($zkh->get($n), "s$i", 'set: ... the data changed');
        async_is('set_acl', set_acl => [ $n, ZOO_READ_ACL_UNSAFE ], [ ZOK ]);
        is_deeply([ $zkh->get_acl($n) ], ZOO_READ_ACL_UNSAFE, 'set_acl: ... the ACL changed');
        async_is('delete', delete => [ $n ], [ ZOK ]);
        ok(!$zkh->exists($n), 'delete: ... the node is gone');
    }

    # A sequential create calls back with the path the server assigned: the
    # next number after the synchronous form's.
    my $sync_seq = $zkh->create("$root/seq-", '', flags => ZOO_SEQUENCE, acl => $A);
    my ($num) = ($sync_seq // '') =~ /(\d{10})\z/;
    ok(defined $num, "create with ZOO_SEQUENCE: the synchronous form gives $sync_seq");
    async_is('create with ZOO_SEQUENCE', create => [ "$root/seq-", '', flags => ZOO_SEQUENCE, acl => $A ],
             [ ZOK, sprintf('%s/seq-%010d', $root, ($num // 0) + 1) ]);

    # multi that commits: the result hashes as the synchronous form has them
    # (for a create of another node).
    my @sync = $zkh->multi([ create => "$root/m1", 'a', acl => $A ], [ check => $node ]);
    is($zkh->get_error, ZOK, 'multi that commits: the synchronous form');
    my @want = (ZOK, map { +{%$_} } @sync);
    $want[1]{path} = "$root/m2";
    async_is('multi that commits', multi => [ [ create => "$root/m2", 'a', acl => $A ], [ check => $node ] ], \@want);
    ok($zkh->exists("$root/m2"), '... it was applied');
    my @ms;
    ok($zkh->multi([ set => $node, 'data' ], callback => sub { @ms = @_ }), 'multi with a set: returns true at once');
    ok(dispatch_until($zkh, sub { @ms }), '... its callback runs');
    my $now = $zkh->stat;
    $zkh->exists($node, stat => $now);
    is($ms[0], ZOK, '... with ZOK');
    isa_ok(ref $ms[1] eq 'HASH' && $ms[1]{stat}, 'Net::ZooKeeper::Stat', '... its result\'s stat');
    is(ref $ms[1] eq 'HASH' && $ms[1]{stat}{version}, $now->{version}, '... with the node\'s new version');
    my @got;

    # Net::ZooKeeper::Transaction->commit passes the callback on.
    @got = ();
    my $txn = $zkh->transaction->create("$root/t1", 't', acl => $A)->check($node);
    ok($txn->commit(callback => sub { @got = @_ }), 'commit(callback => ...) returns true at once');
    barrier($zkh);
    is(scalar(@got), 0, '... nothing before dispatch');
    ok(dispatch_until($zkh, sub { @got }), '... its callback runs in dispatch');
    is_deeply(\@got, [ ZOK, { type => 'create', path => "$root/t1", error => ZOK }, { type => 'check', error => ZOK } ],
              '... with the result hashes of multi');
    @got = ();
    ok($txn->commit(callback => sub { @got = @_ }), 'the same transaction again (its create fails)');
    ok(dispatch_until($zkh, sub { @got }), '... its callback runs');
    is_deeply(\@got, [ ZNODEEXISTS, { type => 'create', error => ZNODEEXISTS }, { type => 'check', error => ZRUNTIMEINCONSISTENCY } ],
              '... with ZNODEEXISTS and the result hashes');
}

## Bad arguments croak as in the synchronous form, and nothing is sent

{
    my $ver = do { my $s = $zkh->stat; $zkh->exists($node, stat => $s); $s->{version} };
    my $runs = 0;
    my $cb = sub { $runs++ };
    my @bad = (
        [ 'set with a negative version', set => $node, 'x', version => -1 ],
        [ 'get with a negative data_read_len', get => $node, data_read_len => -1 ],
        [ 'create with bad flags', create => "$root/bad", 'x', flags => 9, acl => $A ],
        [ 'create with an ACL that is not an array', create => "$root/bad", 'x', acl => 'x' ],
        [ 'multi with an unknown operation', multi => [ bogus => $node ] ],
        [ 'exists with a stat that is not a stat object', exists => $node, stat => {} ],
    );
    for my $case (@bad) {
        my ($name, $method, @args) = @$case;
        (my $sync = exception_of(sub { $zkh->$method(@args) })) =~ s/ at \S+ line \d+\.\n\z//;
        (my $async = exception_of(sub { $zkh->$method(@args, callback => $cb) })) =~ s/ at \S+ line \d+\.\n\z//;
        isnt($sync, "(no exception)\n", "$name: the synchronous form croaks ($sync)");
        is($async, $sync, "$name: the callback form croaks with the same message");
    }
    is($zkh->pending_callbacks, 0, 'after the croaks, no callback is pending');
    barrier($zkh);
    is($zkh->dispatch, 0, '... none runs');
    is($runs, 0, '... the callback never ran');
    ok(!$zkh->exists("$root/bad"), '... and nothing was sent: no node was created');
    my $s = $zkh->stat;
    $zkh->exists($node, stat => $s);
    is($s->{version}, $ver, '... and the node was not set');
}

## Order: callbacks in the order of the calls, requests sent in that order

{
    my $n = "$root/order";
    is($zkh->create($n, '0', acl => $A), $n, "create $n");
    my (@order, @bad_rc, $last);
    for my $i (1 .. 1000) {
        $zkh->set($n, $i, callback => sub { push @order, $i; push @bad_rc, "$i:$_[0]" if $_[0] != ZOK });
    }
    $zkh->get($n, callback => sub { push @order, 'get'; $last = $_[1] });
    ok(dispatch_until($zkh, sub { @order == 1001 }, 60), '1,000 async sets and an async get: every callback runs');
    is_deeply(\@order, [ 1 .. 1000, 'get' ], '... in the order of the calls');
    is_deeply(\@bad_rc, [], '... every set with ZOK');
    is($last, 1000, '... and the get sees the last value');

    my $c = "$root/created";
    my @created;
    ok($zkh->create($c, 'made', acl => $A, callback => sub { @created = @_ }), 'an async create');
    is($zkh->get($c), 'made', '... then a synchronous get of the same node sees the node');
    is(scalar(@created), 0, '... the create\'s callback has not run yet');
    ok(dispatch_until($zkh, sub { @created }), '... it runs in dispatch');
    is_deeply(\@created, [ ZOK, $c ], '... with ZOK and the path');
}

## The stat option: filled for each call just before its callback

{
    my @nodes = map { "$root/stat$_" } 1 .. 3;
    my @data  = ('a', 'b' x 22, 'c' x 333);
    is($zkh->create($nodes[$_], $data[$_], acl => $A), $nodes[$_], "create $nodes[$_]") for 0 .. 2;
    my $stat = $zkh->stat;
    my @seen;
    for my $i (0 .. 2) {
        $zkh->get($nodes[$i], stat => $stat,
                  callback => sub { push @seen, [ $_[0], length($_[1] // ''), $stat->{data_len}, $stat->{czxid} ] });
    }
    barrier($zkh);
    is($stat->{data_len}, 0, 'three async gets sharing one Stat object: not filled before their callbacks run');
    ok(dispatch_until($zkh, sub { @seen == 3 }), '... their callbacks run');
    is_deeply([ map { [ @$_[0 .. 2] ] } @seen ], [ [ ZOK, 1, 1 ], [ ZOK, 22, 22 ], [ ZOK, 333, 333 ] ],
              '... each sees its own node\'s data_len in the shared stat');
    my @czxid = map { my $s = $zkh->stat; $zkh->exists($_, stat => $s); $s->{czxid} } @nodes;
    is_deeply([ map { $_->[3] } @seen ], \@czxid, '... and its own czxid');

    my ($sa, $sb) = ($zkh->stat, $zkh->stat);
    my $seen_len;
    $zkh->exists($nodes[2], stat => $sa, callback => sub { $seen_len = $sa->{data_len} });
    $zkh->get($missing, stat => $sb, callback => sub { });
    ok(dispatch_until($zkh, sub { defined $seen_len }), 'exists with stat: its callback runs');
    is($seen_len, 333, '... and sees the stat filled');
    ok(dispatch_until($zkh, sub { !$zkh->pending_callbacks }), 'a failing get with stat: its callback runs');
    is($sb->{data_len}, 0, '... and leaves the stat as it was, as the synchronous form does');

    my $ss = $zkh->stat;
    my @set;
    $zkh->set($nodes[0], 'xyz', stat => $ss, callback => sub { @set = ($_[0], $ss->{data_len}, $ss->{version}) });
    ok(dispatch_until($zkh, sub { @set }), 'set with stat: its callback runs');
    is_deeply(\@set, [ ZOK, 3, 1 ], '... and sees the node\'s new stat');
}

## fd: readable while callbacks are ready

{
    my $fd = $zkh->fd;
    like($fd, qr/\A\d+\z/, 'fd is an integer');
    is($zkh->fd, $fd, '... the same one each time');
    isnt($other->fd, $fd, '... another handle has another one');
    my $sel = IO::Select->new($fd);
    my @r;
    is(scalar(@r = $sel->can_read(0)), 0, 'nothing pending: the fd is not readable');

    my $got;
    $zkh->get($node, callback => sub { $got = $_[1] });
    is(scalar(@r = $sel->can_read(30)), 1, 'after an async get the fd becomes readable');
    is($got, undef, '... the callback has not run yet');
    is($zkh->dispatch, 1, '... dispatch then runs one callback');
    is($got, 'data', '... the get\'s');
    is(scalar(@r = $sel->can_read(0)), 0, '... and the fd is no longer readable');

    my $ran = 0;
    $zkh->get($node, callback => sub { $ran++ }) for 1 .. 10;
    my $deadline = Time::HiRes::time() + 30;
    my $dispatched = 0;
    while ($ran < 10 && Time::HiRes::time() < $deadline) {
        next unless @r = $sel->can_read(1);
        $dispatched += $zkh->dispatch;
    }
    is($ran, 10, 'ten async gets, dispatched each time the fd is readable: all ran');
    is($dispatched, 10, '... dispatch counted them');
    is(scalar(@r = $sel->can_read(0)), 0, '... and the fd is not readable once all ran');
    is($zkh->pending_callbacks, 0, '... nothing is pending');
}

## dispatch(timeout => ms) and pending_callbacks

{
    is($zkh->pending_callbacks, 0, 'pending_callbacks is 0 with nothing in flight');
    is($zkh->dispatch, 0, 'dispatch with nothing pending returns 0');
    is($zkh->dispatch(timeout => 200), 0, 'dispatch(timeout => 200) with nothing pending returns 0 (after the timeout)');

    my $ran = 0;
    $zkh->get($node, callback => sub { $ran++ });
    my $n = $zkh->dispatch(timeout => 30000);
    ok($n > 0, "dispatch(timeout => 30000) returns >0 once a call completed ($n)");
    is($ran, 1, '... the callback ran');

    $ran = 0;
    $zkh->exists($node, callback => sub { $ran++ }) for 1 .. 20;
    is($zkh->pending_callbacks, 20, '20 calls in flight: pending_callbacks 20');
    barrier($zkh);
    is($zkh->pending_callbacks, 20, '... still 20 once they completed, before dispatch');
    my @counts;
    ok(dispatch_until($zkh, sub { push @counts, $zkh->pending_callbacks; $ran == 20 }), '... all run in dispatch');
    is($zkh->pending_callbacks, 0, '... and pending_callbacks goes to 0');
    ok(!grep({ $counts[$_] > $counts[$_ - 1] } 1 .. $#counts), '... never growing meanwhile')
        or diag("@counts");
}

## Code-ref watchers

{
    my $wn = "$root/watched";
    is($zkh->create($wn, 'w0', acl => $A), $wn, "create $wn");

    my @ev;
    my $watcher = sub { push @ev, [@_] };
    is($zkh->get($wn, watch => $watcher), 'w0', 'get with watch => CODE returns the data as usual');
    is($zkh->get_error, ZOK, '... with ZOK');
    ok($other->set($wn, 'w1'), 'another handle changes the node');
    barrier($zkh);
    is(scalar(@ev), 0, '... the watcher has not run before dispatch (its event is there)');
    is($zkh->pending_callbacks, 1, '... the ready event counts in pending_callbacks');
    ok(dispatch_until($zkh, sub { @ev }), '... it runs in dispatch');
    is_deeply(\@ev, [ [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $wn ] ],
              '... with (ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, path)');
    is($zkh->pending_callbacks, 0, '... nothing pending afterwards');

    # A second watcher armed now sees the next change; the first (one-shot)
    # does not: once the second has run, the first's event would have too.
    my @ev2;
    ok($zkh->exists($wn, watch => sub { push @ev2, [@_] }), 'exists with a second watcher on the node');
    ok($other->set($wn, 'w2'), 'another change');
    ok(dispatch_until($zkh, sub { @ev2 }), '... the second watcher runs');
    is_deeply(\@ev2, [ [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $wn ] ], '... with ZOO_CHANGED_EVENT');
    is(scalar(@ev), 1, '... the first, one-shot watcher was not called again');

    my $later = "$root/later";
    my @cev;
    ok(!$zkh->exists($later, watch => sub { push @cev, [@_] }), 'exists with watch => CODE on a missing node');
    is($zkh->get_error, ZNONODE, '... ZNONODE as usual');
    is($other->create($later, 'l', acl => $A), $later, 'another handle creates it');
    ok(dispatch_until($zkh, sub { @cev }), '... the watcher runs');
    is_deeply(\@cev, [ [ ZOO_CREATED_EVENT, ZOO_CONNECTED_STATE, $later ] ], '... with ZOO_CREATED_EVENT');

    my @kev;
    my @kids = $zkh->get_children($wn, watch => sub { push @kev, [@_] });
    is_deeply(\@kids, [], 'get_children with watch => CODE returns the children as usual');
    is($other->create("$wn/k", '', acl => $A), "$wn/k", 'another handle creates a child');
    ok(dispatch_until($zkh, sub { @kev }), '... the watcher runs');
    is_deeply(\@kev, [ [ ZOO_CHILD_EVENT, ZOO_CONNECTED_STATE, $wn ] ], '... with ZOO_CHILD_EVENT and the parent\'s path');

    my @dev;
    my @cb;
    ok($zkh->get($later, watch => sub { push @dev, [@_] }, callback => sub { @cb = @_ }),
       'get with both watch => CODE and callback');
    ok(dispatch_until($zkh, sub { @cb }), '... the callback runs');
    is_deeply(\@cb, [ ZOK, 'l' ], '... with the data');
    ok($other->delete($later), 'another handle deletes the node');
    ok(dispatch_until($zkh, sub { @dev }), '... the watcher runs');
    is_deeply(\@dev, [ [ ZOO_DELETED_EVENT, ZOO_CONNECTED_STATE, $later ] ], '... with ZOO_DELETED_EVENT');

    my $config = $zkh->get_config(watch => sub { });
    ok(defined $config, 'get_config takes watch => CODE');
}

## A persistent watch with watch => CODE

{
    my $pn = "$root/persistent";
    is($zkh->create($pn, 'p0', acl => $A), $pn, "create $pn");
    my @pev;
    my $pw = $zkh->add_watch($pn, watch => sub { push @pev, [@_] });
    isa_ok($pw, 'Net::ZooKeeper::PersistentWatch', 'add_watch with watch => CODE');
    ok($other->set($pn, "p$_"), "another handle sets the node (#$_)") for 1 .. 3;
    ok($other->delete($pn), 'and deletes it');
    ok(dispatch_until($zkh, sub { @pev >= 4 }), 'the watcher runs for each event');
    is_deeply(\@pev, [ ([ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $pn ]) x 3, [ ZOO_DELETED_EVENT, ZOO_CONNECTED_STATE, $pn ] ],
              '... in order: three ZOO_CHANGED_EVENT, then ZOO_DELETED_EVENT');
    ok($pw->remove, '$pw->remove');
    ok(dispatch_until($zkh, sub { @pev >= 5 }), '... the watcher runs once more');
    is_deeply($pev[4], [ ZOO_NOTWATCHING_EVENT, ZOO_CONNECTED_STATE, $pn ], '... with ZOO_NOTWATCHING_EVENT');
    is(scalar(@pev), 5, '... and that is all');

    my $rn = "$root/recursive";
    is($zkh->create($rn, '', acl => $A), $rn, "create $rn");
    my @rev;
    my $rpw = $zkh->add_watch($rn, mode => ZOO_WATCH_PERSISTENT_RECURSIVE, watch => sub { push @rev, [@_] });
    ok($rpw, 'a recursive add_watch with watch => CODE');
    is($other->create("$rn/a", '', acl => $A), "$rn/a", 'another handle creates a node below');
    ok($other->set("$rn/a", 'x'), '... and sets it');
    ok(dispatch_until($zkh, sub { @rev >= 2 }), 'the watcher runs for both');
    is_deeply([ @rev[0, 1] ], [ [ ZOO_CREATED_EVENT, ZOO_CONNECTED_STATE, "$rn/a" ], [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, "$rn/a" ] ],
              '... with the path of the node below');
    ok($rpw->remove, 'the recursive watch removed');
    ok(dispatch_until($zkh, sub { @rev >= 3 }), '... its watcher gets a last event');
    is($rev[2][0], ZOO_NOTWATCHING_EVENT, '... ZOO_NOTWATCHING_EVENT');
}

## Callbacks that make calls and re-arm watches

{
    my (@inner, $sync_in_cb);
    $zkh->get($node, callback => sub {
        $sync_in_cb = $zkh->exists($node) ? 1 : 0;
        $zkh->get($node, callback => sub { @inner = @_ });
    });
    ok(dispatch_until($zkh, sub { @inner }), 'a callback that makes an async call: the inner callback runs');
    is_deeply(\@inner, [ ZOK, 'data' ], '... with the data');
    is($sync_in_cb, 1, '... and a synchronous call in a callback works');

    my $an = "$root/rearm";
    is($zkh->create($an, 'v0', acl => $A), $an, "create $an");
    my (@events, @values);
    my ($rearm, $following) = (undef, 1);
    $rearm = sub {
        push @events, [@_];
        return unless $following;    # (the cleanup's delete fires the last one)
        $zkh->get($an, watch => $rearm, callback => sub { push @values, $_[1] });
    };
    my @first;
    $zkh->get($an, watch => $rearm, callback => sub { @first = @_ });
    ok(dispatch_until($zkh, sub { @first }), 'a watcher that re-arms itself with an async get');
    for my $i (1 .. 5) {
        ok($other->set($an, "v$i"), "change #$i by another handle");
        ok(dispatch_until($zkh, sub { @values >= $i }), "... the watcher ran and re-armed (#$i)");
    }
    is_deeply(\@events, [ ([ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $an ]) x 5 ], 'it saw 5 successive changes');
    is_deeply(\@values, [ map { "v$_" } 1 .. 5 ], '... and read each new value');
    $following = 0;
}

## A callback that dies

{
    my (@ran, @warnings);
    {
        local $SIG{__WARN__} = sub { push @warnings, $_[0] };
        $zkh->get($node, callback => sub { push @ran, 1 });
        $zkh->get($node, callback => sub { push @ran, 2; die "boom\n" });
        $zkh->get($node, callback => sub { push @ran, 3 });
        ok(eval { dispatch_until($zkh, sub { @ran == 3 }) }, 'three callbacks, the second dies: dispatch does not die')
            or diag("died: $@");
    }
    is_deeply(\@ran, [ 1, 2, 3 ], '... the others still run');
    is(scalar(@warnings), 1, '... one warning') or diag(@warnings);
    like($warnings[0] // '', qr/callback of get/, '... it says "callback of get"');
    like($warnings[0] // '', qr/\Q$node\E/, '... with the path');
    like($warnings[0] // '', qr/boom/, '... and the message');
    is($zkh->pending_callbacks, 0, '... nothing pending afterwards');
}

## remove_watches and remove_all_watches on code-ref watchers

{
    my $xn = "$root/removed";
    is($zkh->create($xn, 'x0', acl => $A), $xn, "create $xn");
    my @rev;
    my $rw = sub { push @rev, [@_] };
    is($zkh->get($xn, watch => $rw), 'x0', 'a code-ref watch armed by get');
    {
        # The code ref names the watch: remove_watches removes the watches on the
        # path that call it.
        my $removed = eval { $zkh->remove_watches($xn, watch => $rw) };
        ok($removed, 'remove_watches(path, watch => CODE)') or diag($@ || 'get_error ' . $zkh->get_error);
        ok(dispatch_until($zkh, sub { @rev }, $removed ? 30 : 0), '... the watcher runs');
        is_deeply(\@rev, [ [ ZOO_NOTWATCHING_EVENT, ZOO_CONNECTED_STATE, $xn ] ], '... with ZOO_NOTWATCHING_EVENT');
        ok(!$zkh->remove_watches($xn, watch => $rw), '... a second time there is none');
        is($zkh->get_error, ZNOWATCHER, '... ZNOWATCHER');
    }
    my @probe;
    ok($zkh->exists($xn, watch => sub { push @probe, [@_] }), 'another watcher armed on the node');
    ok($other->set($xn, 'x1'), 'a change');
    ok(dispatch_until($zkh, sub { @probe }), '... reaches the other watcher');
    is_deeply([ map { $_->[0] } @rev ], [ ZOO_NOTWATCHING_EVENT ], '... not the removed one');

    my $yn = "$root/removed_all";
    is($zkh->create($yn, 'y0', acl => $A), $yn, "create $yn");
    my @aev;
    is($zkh->get($yn, watch => sub { push @aev, [@_] }), 'y0', 'a code-ref watch armed by get');
    ok($zkh->remove_all_watches($yn, type => ZWATCHTYPE_DATA), 'remove_all_watches on its node')
        or diag('get_error ' . $zkh->get_error);
    ok(dispatch_until($zkh, sub { @aev }), '... the watcher runs');
    is_deeply(\@aev, [ [ ZOO_NOTWATCHING_EVENT, ZOO_CONNECTED_STATE, $yn ] ], '... with ZOO_NOTWATCHING_EVENT');
}

## A handle destroyed with calls in flight

{
    my $h = Net::ZooKeeper->new($hosts);
    ok(barrier($h), 'a third handle, connected');
    my (@rc, %runs);
    for my $i (1 .. 100) {
        $h->get($node, callback => sub { $runs{$i}++; push @rc, $_[0] });
    }
    no_hang(60, sub { undef $h });
    my @after = @rc;    # the statement after undef: every callback must have run
    is(scalar(@after), 100, 'undef of a handle with 100 calls in flight: every callback ran during the undef');
    ok(!grep({ ($runs{$_} // 0) != 1 } 1 .. 100), '... each exactly once');
    my @odd = grep { $_ != ZOK && $_ != ZCLOSING } @after;
    is_deeply(\@odd, [], '... each with ZOK or ZCLOSING');
    my $first_closing = (grep { $after[$_] == ZCLOSING } 0 .. $#after)[0];
    ok(!defined $first_closing || !grep({ $_ == ZOK } @after[ $first_closing .. $#after ]),
       '... the completed ones first (call order), then ZCLOSING');
    note(sprintf '%d completed, %d ZCLOSING', scalar(grep { $_ == ZOK } @after), scalar(grep { $_ == ZCLOSING } @after));
}

## add_watch, remove_watches and remove_all_watches in their callback forms

{
    my $pn = "$root/persistent_async";
    is($zkh->create($pn, 'p0', acl => $A), $pn, "create $pn");
    $covered{add_watch} = 1;
    my (@made, @ev);
    ok($zkh->add_watch($pn, watch => sub { push @ev, [@_] }, callback => sub { @made = @_ }),
       'add_watch with a callback returns true at once');
    ok(dispatch_until($zkh, sub { @made }), '... its callback runs in dispatch');
    is($made[0], ZOK, '... with ZOK');
    isa_ok($made[1], 'Net::ZooKeeper::PersistentWatch', '... and the new watch');
    is(eval { $made[1]->path }, $pn, '... on the path');
    my $pw = $made[1];
    @made = ();
    ok($other->set($pn, 'p1'), 'a change by the other handle');
    ok(dispatch_until($zkh, sub { @ev }), '... reaches the persistent code-ref watch');
    is_deeply($ev[0], [ ZOO_CHANGED_EVENT, ZOO_CONNECTED_STATE, $pn ], '... as a change of the node');
    ok($zkh->add_watch('bad', callback => sub { @made = @_ }), 'add_watch of a bad path with a callback');
    ok(dispatch_until($zkh, sub { @made }), '... its callback runs');
    is_deeply(\@made, [ZBADARGUMENTS], '... with ZBADARGUMENTS and no watch, as the synchronous form');

    $covered{remove_all_watches} = 1;
    my @removed;
    ok($zkh->remove_all_watches($pn, callback => sub { @removed = @_ }),
       'remove_all_watches with a callback returns true at once');
    ok(dispatch_until($zkh, sub { @removed && grep { $_->[0] == ZOO_NOTWATCHING_EVENT } @ev }),
       '... its callback runs, and the watch hears its end');
    is_deeply(\@removed, [ZOK], '... with ZOK');
    is_deeply($ev[-1], [ ZOO_NOTWATCHING_EVENT, ZOO_CONNECTED_STATE, $pn ], '... the last event: ZOO_NOTWATCHING_EVENT');

    $covered{remove_watches} = 1;
    my (@one, @gone);
    my $cb = sub { push @one, [@_] };
    is($zkh->get($pn, watch => $cb), 'p1', 'a code-ref watch armed by get');
    ok($zkh->remove_watches($pn, watch => $cb, callback => sub { @gone = @_ }),
       'remove_watches with a callback returns true at once');
    ok(dispatch_until($zkh, sub { @gone && @one }), '... its callback runs, and the watch is called');
    is_deeply(\@gone, [ZOK], '... with ZOK');
    is_deeply(\@one, [ [ ZOO_NOTWATCHING_EVENT, ZOO_CONNECTED_STATE, $pn ] ], '... with ZOO_NOTWATCHING_EVENT');
    @gone = ();
    ok($zkh->remove_watches($pn, watch => $cb, callback => sub { @gone = @_ }), 'again, with none armed');
    ok(dispatch_until($zkh, sub { @gone }), '... its callback runs');
    is_deeply(\@gone, [ZNOWATCHER], '... with ZNOWATCHER, as the synchronous form');
    undef $pw;
}

## Net::ZooKeeper::_async_calls: the methods that take callback, all checked here

{
    ok(defined &Net::ZooKeeper::_async_calls, 'Net::ZooKeeper::_async_calls exists');
    my @calls = defined &Net::ZooKeeper::_async_calls ? Net::ZooKeeper::_async_calls() : ();
    @calls = sort @calls;
    is_deeply(\@calls, [ sort keys %VALUES ], '_async_calls lists the methods of the spec');
    is_deeply([ grep { !$covered{$_} } @calls ], [], '... and this file checked the callback form of each');
}

ok(delete_tree($zkh, $root), 'delete the test nodes');
# Watchers still armed (the last re-arm, ...) get their nodes' deletion.
ok(dispatch_until($zkh, sub { barrier($zkh); $zkh->dispatch; !$zkh->pending_callbacks }),
   'their events dispatched, nothing is pending at the end');
is(scalar($other->DESTROY), 1, 'DESTROY the other handle');
is(scalar($zkh->DESTROY), 1, 'DESTROY returns true');

done_testing();
