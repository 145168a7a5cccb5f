#!/usr/bin/perl
# Net::ZooKeeper::Recipe::TreeCache and NodeCache against a real server, in
# both watch modes (a persistent recursive watch, and one-shot watches set
# again as they fire, forced with watch_mode => 'one_shot'):
#   - the first load, then creates, sets and deletes made by ANOTHER handle
#     and by a real kazoo process (t/lib/ZKTest/interop/kazoo_cache.py, which
#     also keeps kazoo's own TreeCache of the tree: both views must agree);
#   - nested subtrees added and removed; on_event / on_change called in
#     order with the right types and data;
#   - the server stopped and started again with its data: SUSPENDED, then
#     RECONNECTED, and the copy matches the tree, with changes made after the
#     restart;
#   - an expired session: CONNECTION_LOST, then start(handle => $new) reports
#     what changed meanwhile;
#   - the copy keeps current in an AnyEvent program without any dispatch call.
# No sleeps: every wait dispatches (bounded) until its condition holds.
# A private standalone server (t/lib/ZKTest/Ensemble.pm) is used, so that it
# can be stopped and started.  Without kazoo the kazoo tests skip (fail
# under CI).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use ZKTest::Interop;
use Net::ZooKeeper qw(:errors :acls :states);
use Net::ZooKeeper::Recipe::TreeCache;
use Net::ZooKeeper::Recipe::NodeCache;

$SIG{PIPE} = 'IGNORE';

my $srv   = ZKTest::Ensemble->start_or_skip(size => 1);
my $hosts = $srv->hosts;
my $root  = ZKTest::test_root();
my $TC    = 'Net::ZooKeeper::Recipe::TreeCache';
my $NC    = 'Net::ZooKeeper::Recipe::NodeCache';

my $writer = Net::ZooKeeper->new($hosts);
is($writer->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root")
    or BAIL_OUT('cannot create the test node');

sub mk  { my ($p, $d) = @_; $writer->create($p, $d // '', acl => ZOO_OPEN_ACL_UNSAFE) or die "create $p: " . $writer->get_error . "\n" }
sub put { my ($p, $d) = @_; $writer->set($p, $d) or die "set $p: " . $writer->get_error . "\n" }
sub del { my ($p) = @_; $writer->delete($p) or die "delete $p: " . $writer->get_error . "\n" }

# The real tree under $path as { path => data }, read by $h.
sub tree_of {
    my ($h, $path) = @_;
    my %t;
    my @queue = ($path);
    while (defined(my $p = shift @queue)) {
        my $d = $h->get($p, data_read_len => 1 << 20);
        next unless defined $d || $h->get_error == ZOK;
        $t{$p} = $d // '';
        push @queue, map { "$p/$_" } $h->get_children($p);
    }
    return \%t;
}

sub copy_of { my ($c) = @_; return { map { $_ => $c->data($_) // '' } $c->nodes } }

# The copy equals the tree (waited for, bounded).
sub matches {
    my ($c, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $want;
    $c->wait_for(sub { $want = tree_of($writer, $c->path); Test::More::eq_hash(copy_of($c), $want) }, timeout => 20);
    return is_deeply(copy_of($c), $want, $name);
}

# A cache whose events are recorded as "TYPE rel=data" ("TYPE" for the
# others), rel the path below $base.
sub tree_cache {
    my ($base, %o) = @_;
    my @events;
    my $h = Net::ZooKeeper->new($hosts);
    my $c = $TC->new(handle => $h, path => $base, %o, on_event => sub {
        my ($cache, $type, $path, $data) = @_;
        if (defined $path) {
            (my $rel = $path) =~ s{\A\Q$base\E}{};
            push @events, "$type " . ($rel eq '' ? '.' : $rel) . '=' . ($data // 'undef');
        }
        else { push @events, $type }
    });
    return ($c, \@events);
}

# Waits until $n more events than $seen are recorded; returns them.
sub next_events {
    my ($c, $events, $from, $n) = @_;
    $c->wait_for(sub { @$events >= $from + $n }, timeout => 20);
    return [ @$events[$from .. $#$events] ];
}

## Arguments.

ZKTest::Util::croaks(sub { $TC->new(handle => $writer, path => "$root/x", watch_mode => 'sometimes') },
    "$TC->new: watch_mode must be 'auto', 'persistent' or 'one_shot', not 'sometimes'", 'a bad watch_mode croaks');
ZKTest::Util::croaks(sub { $TC->new(handle => $writer, path => "$root/x", on_event => 1) },
    "$TC->new: on_event must be a code reference", 'a bad on_event croaks');
ZKTest::Util::croaks(sub { $NC->new(handle => $writer, path => "$root/x", max_depth => 2) },
    "$NC->new: unknown option: max_depth", 'NodeCache has no max_depth');

{
    my $auto = $TC->new(handle => $writer, path => "$root/auto");
    ok($auto->start, 'start a cache with the default watch_mode (auto)');
    is($auto->watch_mode, 'persistent', '... a 3.6+ server gives a persistent watch');
    ok($auto->close, '... close()');
}

my %cache;    # mode => [ TreeCache, its events, NodeCache, its changes ]
for my $mode (qw(persistent one_shot)) {
    my $base = "$root/$mode";
    mk($base);
    my $tree = "$base/tree";

    ## TreeCache: the first load.
    mk($tree, 'top');
    mk("$tree/a", '1');
    mk("$tree/a/x", 'ax');
    my ($tc, $ev) = tree_cache($tree, watch_mode => $mode);
    ok($tc->start, "$mode: start the TreeCache") or diag('error ' . $tc->error);
    is($tc->watch_mode, $mode, "$mode: ... the watch mode in use is $mode");
    is_deeply($ev, ['NODE_ADDED .=top', 'NODE_ADDED /a=1', 'NODE_ADDED /a/x=ax', 'INITIALIZED'],
              "$mode: the first load reports each node, parents first, then INITIALIZED");
    ok($tc->initialized, "$mode: initialized()");
    is_deeply([ $tc->children($tree) ], ['a'], "$mode: children() of the root");
    is($tc->get("$tree/a/x")->{data}, 'ax', "$mode: get() gives the data");
    is($tc->get("$tree/a")->{stat}{num_children}, 1, "$mode: ... and the stat");

    ## Changes by another handle.
    my $n = @$ev;
    mk("$tree/b", '2');
    is_deeply(next_events($tc, $ev, $n, 1), ['NODE_ADDED /b=2'], "$mode: a node created by another handle: NODE_ADDED");
    $n = @$ev;
    put("$tree/a", '1b');
    is_deeply(next_events($tc, $ev, $n, 1), ['NODE_UPDATED /a=1b'], "$mode: its data set: NODE_UPDATED with the new data");
    is($tc->stat("$tree/a")->{version}, 1, "$mode: ... the stat is the new one");
    $n = @$ev;
    mk("$tree/c", 'c');
    mk("$tree/c/d", 'd');
    mk("$tree/c/d/e", 'e');
    is_deeply(next_events($tc, $ev, $n, 3), ['NODE_ADDED /c=c', 'NODE_ADDED /c/d=d', 'NODE_ADDED /c/d/e=e'],
              "$mode: a nested subtree added: NODE_ADDED for each, in order");
    $n = @$ev;
    del("$tree/c/d/e");
    del("$tree/c/d");
    del("$tree/c");
    is_deeply(next_events($tc, $ev, $n, 3), ['NODE_REMOVED /c/d/e=e', 'NODE_REMOVED /c/d=d', 'NODE_REMOVED /c=c'],
              "$mode: the subtree removed: NODE_REMOVED for each, deepest first, with the last data");
    $n = @$ev;
    put("$tree/a/x", 'ax2');
    del("$tree/a/x");
    next_events($tc, $ev, $n, 1);
    $tc->wait_for(sub { !$_[0]->get("$tree/a/x") }, timeout => 20);
    is($ev->[-1], 'NODE_REMOVED /a/x=' . (@$ev - $n == 2 ? 'ax2' : 'ax'),
       "$mode: a set then a delete end with NODE_REMOVED");
    ok(!grep({ !/^NODE_(?:UPDATED|REMOVED) \/a\/x=ax2?\z/ } @$ev[$n .. $#$ev]), "$mode: ... and nothing else")
        or diag(explain([ @$ev[$n .. $#$ev] ]));
    mk("$tree/a/x", 'ax3');
    matches($tc, "$mode: the copy matches the tree");

    ## NodeCache.
    my @changes;
    my $nh = Net::ZooKeeper->new($hosts);
    my $nc = $NC->new(handle => $nh, path => "$base/node", watch_mode => $mode,
                      on_change => sub { my ($c, $data, $stat) = @_; push @changes, [ $data, $stat && $stat->{version} ] });
    ok($nc->start, "$mode: start a NodeCache on a missing node");
    ok(!$nc->exists, "$mode: ... exists() is false");
    is($nc->data, undef, "$mode: ... data() is undef");
    is($nc->stat, undef, "$mode: ... stat() is undef");
    mk("$base/node", 'v0');
    ok($nc->wait_for(sub { @changes >= 1 }, timeout => 20), "$mode: the node created by another handle: on_change");
    is_deeply(\@changes, [ [ 'v0', 0 ] ], "$mode: ... with its data and stat");
    ok($nc->exists, "$mode: ... exists()");
    put("$base/node", 'v1');
    $nc->wait_for(sub { @changes >= 2 }, timeout => 20);
    is_deeply($changes[1], [ 'v1', 1 ], "$mode: data set: on_change with the new data and version");
    is($nc->data, 'v1', "$mode: ... data() is the new data");
    mk("$base/node/child", 'c');
    del("$base/node/child");
    del("$base/node");
    $nc->wait_for(sub { @changes >= 3 }, timeout => 20);
    is_deeply(\@changes, [ [ 'v0', 0 ], [ 'v1', 1 ], [ undef, undef ] ],
              "$mode: deleted: on_change with undef, undef (a child coming and going is no change)");
    ok(!$nc->exists, "$mode: ... exists() is false");
    mk("$base/node", 'again');
    ok($nc->wait_for(sub { ($_[0]->data // '') eq 'again' }, timeout => 20), "$mode: created again: seen");

    ## A kazoo process writes; kazoo's own TreeCache agrees with ours.
    SKIP: {
        ZKTest::Interop::require_library(kazoo => 7);
        my $k = ZKTest::Interop->start('kazoo:kazoo_cache.py', $hosts, $tree);
        is($k->line(60), 'ready', "$mode: kazoo helper ready");
        my $ask = sub { $k->say($_[0]); return $k->line(30) // 'no answer' };
        $n = @$ev;
        is($ask->("create $tree/k/deep kz"), 'ok', "$mode: kazoo creates k/deep (and k)");
        is_deeply(next_events($tc, $ev, $n, 2), ['NODE_ADDED /k=', 'NODE_ADDED /k/deep=kz'],
                  "$mode: ... NODE_ADDED for both");
        $n = @$ev;
        is($ask->("set $tree/b fromkazoo"), 'ok', "$mode: kazoo sets b");
        is_deeply(next_events($tc, $ev, $n, 1), ['NODE_UPDATED /b=fromkazoo'], "$mode: ... NODE_UPDATED");
        $n = @$ev;
        $ask->("delete $tree/k");
        is_deeply(next_events($tc, $ev, $n, 2), ['NODE_REMOVED /k/deep=kz', 'NODE_REMOVED /k='],
                  "$mode: kazoo deletes k recursively: NODE_REMOVED for both, deepest first");
        my $ours = join ' ', 'tree', map { "$_=" . ($tc->data($_) // '') } $tc->nodes;
        my $theirs = 'none';
        for (1 .. 100) {
            last if ($theirs = $ask->('dump')) eq $ours;
            $tc->dispatch(timeout => 50);   # a bounded pause while kazoo's cache catches up
        }
        is($theirs, $ours, "$mode: kazoo's TreeCache and ours hold the same tree");
        $k->say('quit');
        is($k->finish, 0, "$mode: the kazoo helper exits 0");
    }

    ## max_depth.
    my ($shallow) = tree_cache($tree, watch_mode => $mode, max_depth => 1);
    $shallow->start;
    is_deeply([ $shallow->nodes ], [ $tree, "$tree/a", "$tree/b" ], "$mode: max_depth => 1 caches the children only");
    mk("$tree/b/deeper");
    mk("$tree/z", 'z');
    ok($shallow->wait_for(sub { $_[0]->get("$tree/z") }, timeout => 20), "$mode: ... a new child is seen");
    ok(!$shallow->get("$tree/b/deeper"), "$mode: ... a grandchild is not");
    del("$tree/b/deeper");
    $shallow->close;
    $shallow->handle->DESTROY;

    $cache{$mode} = [ $tc, $ev, $nc, \@changes ];
}

## The server stopped and started with its data: both modes at once.

my %mark = map { $_ => scalar @{ $cache{$_}[1] } } keys %cache;
ok($srv->stop_member(1), 'stop the server (its data kept)');
for my $mode (sort keys %cache) {
    my ($tc, $ev) = @{ $cache{$mode} };
    ok($tc->wait_for(sub { $_[0]->suspended }, timeout => 30), "$mode: CONNECTION_SUSPENDED heard")
        or diag(explain($ev));
    ok($tc->get("$root/$mode/tree/a"), "$mode: ... the copy is still readable");
}
ok($srv->start_member(1), 'start the server again');
ZKTest::Ensemble::hang_guard(60, 'the writer reconnects', sub { $writer->exists($root) for 1 .. 2; 1 });
for my $mode (sort keys %cache) {
    my $tree = "$root/$mode/tree";
    eval { put("$tree/a", 'after-restart'); mk("$tree/new", 'n'); del("$tree/z"); 1 }
        or diag("writes after the restart: $@");
}
for my $mode (sort keys %cache) {
    my ($tc, $ev, $nc, $changes) = @{ $cache{$mode} };
    ok($tc->wait_for(sub { !$_[0]->suspended && ($_[0]->data("$root/$mode/tree/a") // '') eq 'after-restart' }, timeout => 60),
       "$mode: reconnected, and a change made after the restart is seen");
    my @types = map { /^(\S+)/ } @$ev[ $mark{$mode} .. $#$ev ];
    is_deeply([ grep { /^CONNECTION_/ } @types ], [ 'CONNECTION_SUSPENDED', 'CONNECTION_RECONNECTED' ],
              "$mode: ... SUSPENDED then RECONNECTED reported");
    matches($tc, "$mode: the copy matches the tree after the restart");
    put("$root/$mode/node", 'post');
    ok($nc->wait_for(sub { ($_[0]->data // '') eq 'post' }, timeout => 30), "$mode: the NodeCache follows after the restart");
}

## An expired session (closed by a second handle of the same session).

for my $mode (sort keys %cache) {
    my ($tc, $ev) = @{ $cache{$mode} };
    my $tree = "$root/$mode/tree";
    my $old = $tc->handle;
    my $twin = Net::ZooKeeper->new($hosts, session_id => $old->{session_id});
    # The cache's handle may take the session back (ZCONNECTIONLOSS here):
    # a bounded number of tries.
    my $joined = 0;
    for (1 .. 50) { last if $joined = $twin->exists($root); last if $twin->get_error != ZCONNECTIONLOSS }
    ok($joined, "$mode: a second handle joins the cache's session") or diag("error " . $twin->get_error);
    $twin->DESTROY;    # closes the session: the cache's handle hears it expired
    $old->exists($root);   # a call makes the handle hear it
    ok($tc->wait_for(sub { $_[0]->lost }, timeout => 30), "$mode: the session ended: lost()");
    is($ev->[-1], 'CONNECTION_LOST', "$mode: ... CONNECTION_LOST reported");
    ok($tc->get("$tree/a"), "$mode: ... the last copy is kept");
    my $n = @$ev;
    mk("$tree/meanwhile", 'm');
    del("$tree/new");
    ok($tc->start(handle => Net::ZooKeeper->new($hosts)), "$mode: start(handle => a new handle)");
    is_deeply([ sort @$ev[ $n .. $#$ev ] ], [ 'INITIALIZED', 'NODE_ADDED /meanwhile=m', 'NODE_REMOVED /new=n' ],
              "$mode: ... only what changed meanwhile is reported");
    $n = @$ev;
    put("$tree/meanwhile", 'm2');
    is_deeply(next_events($tc, $ev, $n, 1), ['NODE_UPDATED /meanwhile=m2'], "$mode: ... and it follows the tree again");
    matches($tc, "$mode: the copy matches the tree");
}

## AnyEvent: no dispatch call; the adapter runs the callbacks.

SKIP: {
    skip 'AnyEvent is not installed', 3 unless eval { require AnyEvent; require Net::ZooKeeper::AnyEvent; 1 };
    for my $mode (qw(persistent one_shot)) {
        my $h = Net::ZooKeeper->new($hosts);
        my $loop = Net::ZooKeeper::AnyEvent->new(handle => $h);
        my $cv = AnyEvent->condvar;
        my $tc = $TC->new(handle => $h, path => "$root/$mode/tree", watch_mode => $mode, on_event => sub {
            my (undef, $type, $path, $data) = @_;
            $cv->send($data) if $type eq 'NODE_UPDATED' && $path eq "$root/$mode/tree/b";
        });
        $tc->start;
        put("$root/$mode/tree/b", "ae-$mode");
        my $t = AnyEvent->timer(after => 20, cb => sub { $cv->send('timeout') });
        is($cv->recv, "ae-$mode", "$mode: in an AnyEvent loop the change arrives without any dispatch call");
        is($tc->data("$root/$mode/tree/b"), "ae-$mode", "$mode: ... and is in the copy") if $mode eq 'one_shot';
        $tc->close;
        $loop->stop;
    }
}

for my $mode (sort keys %cache) { $_->close for @{ $cache{$mode} }[0, 2] }
ok(ZKTest::Util::delete_tree($writer, $root), 'delete the test nodes');
ok($srv->stop, 'stop the server');

done_testing();
