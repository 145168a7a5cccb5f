#!/usr/bin/perl
# Transactions and read batches against a server (lib/Net/ZooKeeper.pod,
# "Transactions"): multi() applies all its operations or none, with one result
# hash per operation (ZOK before the failing one, its code, ZRUNTIMEINCONSISTENCY
# after it, as the server answers); multi_read() reads nodes together, each read
# failing on its own; the Net::ZooKeeper::Transaction builder; bad operations
# croak before anything is sent, also when a tied value dies in one (and nothing
# is left behind); an inherited handle croaks after fork.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use ZKTest::Util qw(croaks error_is exception_of delete_tree create_null_node unused_local_host);
use Net::ZooKeeper qw(:errors :node_flags :acls :create_modes);

$SIG{PIPE} = 'IGNORE';

# A tied scalar whose FETCH runs CODE (once) and returns VALUE.
package Runs {
    sub TIESCALAR { my ($class, $value, $code) = @_; return bless { value => $value, code => $code }, $class }
    sub FETCH { my $code = delete $_[0]{code}; $code->() if $code; return $_[0]{value} }
    sub STORE { }
}

package Dies {
    sub TIESCALAR { my ($class) = @_; return bless {}, $class }
    sub FETCH     { die "FETCH died\n" }
}

package main;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my ($list, $chroot) = $hosts =~ m{\A([^/]*)(.*)\z}s;
my $A = ZOO_OPEN_ACL_UNSAFE;

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
my $other = Net::ZooKeeper->new($hosts);    # sees what the server holds

ok($zkh->create($root, 'root', acl => $A), "create $root") or BAIL_OUT('error ' . $zkh->get_error);

sub errors { return [ map { $_->{error} } @_ ] }

# An operation whose last element is tied to CLASS (with ARGS), so that it is read
# only when the call converts it ([ ..., $tied ] would copy the value at once).
sub tied_op {
    my ($class, $args, @op) = @_;
    my @array = (@op, undef);
    tie $array[-1], $class, @$args;
    return \@array;
}

## A transaction that commits: every kind of operation

ok($zkh->create("$root/old", 'old', acl => $A), 'a node to delete');
ok($zkh->create("$root/data", 'v0', acl => $A), 'a node to set');
{
    my @r = $zkh->multi(
        [ create => "$root/new", 'new', acl => $A ],
        [ create => "$root/seq-", 's', acl => $A, flags => ZOO_SEQUENCE ],
        [ set => "$root/data", 'v1', version => 0 ],
        [ delete => "$root/old" ],
        [ check => "$root/data", version => 1 ],
        [ check => "$root/new" ],
    );
    error_is($zkh, ZOK, 'a committed transaction leaves ZOK');
    is(scalar @r, 6, 'one result per operation');
    is_deeply($r[0], { type => 'create', path => "$root/new", error => ZOK }, 'create: its type, the path made, error ZOK');
    like($r[1]{path}, qr{\A\Q$root\E/seq-\d{10}\z}, 'a sequential create gives the path with its sequence number');
    is_deeply([ sort keys %{ $r[1] } ], [qw(error path type)], '... and nothing else');
    is($r[2]{type}, 'set', 'set: its type');
    isa_ok($r[2]{stat}, 'Net::ZooKeeper::Stat', "... its stat");
    is($r[2]{stat}{version}, 1, "... the stat has the node's new version");
    is($r[2]{stat}{data_len}, 2, '... and its new data length');
    my $stat = $other->stat;
    ok($other->exists("$root/data", stat => $stat), 'the set node seen from another handle');
    is($r[2]{stat}{mzxid}, $stat->{mzxid}, "... has the stat's mzxid");
    is($r[2]{error}, ZOK, '... error ZOK');
    is_deeply([ sort keys %{ $r[2] } ], [qw(error stat type)], '... and nothing else');
    is_deeply($r[3], { type => 'delete', error => ZOK }, 'delete: its type, error ZOK');
    is_deeply($r[4], { type => 'check', error => ZOK }, 'check with a version: its type, error ZOK');
    is_deeply($r[5], { type => 'check', error => ZOK }, 'check without a version (any version)');

    is($other->get("$root/new"), 'new', 'the created node exists, seen from another handle');
    is($other->get($r[1]{path}), 's', 'so does the sequential node');
    is($other->get("$root/data"), 'v1', 'the data was set');
    ok(!$other->exists("$root/old"), 'the deleted node is gone');
}

{
    my $ok = $zkh->multi([ set => "$root/data", 'v2' ]);
    is($ok, 1, 'in scalar context a committed transaction is true (1)');
    error_is($zkh, ZOK, '... with ZOK');
    my ($r) = $zkh->multi([ create => "$root/truncated", '', acl => $A, path_read_len => 5 ]);
    is($r->{path}, substr("$root/truncated", 0, 5), "create's path_read_len truncates the path given back");
    my @r = $zkh->multi([ CREATE => "$root/upper", '', ACL => $A ], [ Check => "$root/upper" ]);
    is_deeply(\@r, [ { type => 'create', path => "$root/upper", error => ZOK }, { type => 'check', error => ZOK } ],
              'operation names, like option names, are matched regardless of case; the type is given in lower case');
}

## A transaction whose third operation fails changes nothing

{
    my @ops = (
        [ create => "$root/t1", 'one', acl => $A ],
        [ set => "$root/data", 'changed' ],
        [ create => "$root/missing/t3", '', acl => $A ],
        [ delete => "$root/new" ],
        [ check => "$root/data" ],
    );
    my @r = $zkh->multi(@ops);
    error_is($zkh, ZNONODE, "get_error is the failing operation's code");
    is_deeply(\@r, [ { type => 'create', error => ZOK }, { type => 'set', error => ZOK },
                     { type => 'create', error => ZNONODE }, { type => 'delete', error => ZRUNTIMEINCONSISTENCY },
                     { type => 'check', error => ZRUNTIMEINCONSISTENCY } ],
              'results: ZOK before the failing operation, its code, ZRUNTIMEINCONSISTENCY after it; no path or stat');
    ok(!$other->exists("$root/t1"), "the first operation's node was not created (seen from another handle)");
    is($other->get("$root/data"), 'v2', "the second operation's set did not happen");
    ok($other->exists("$root/new"), "the fourth operation's delete did not happen");
    is(scalar($zkh->multi(@ops)), '', "in scalar context a failed transaction is false ('')");
    error_is($zkh, ZNONODE, '... get_error is the failing operation\'s code');
}

## Each kind of operation failing

for my $case (
    [ 'create of an existing node',      [ create => "$root/new", '', acl => $A ], ZNODEEXISTS ],
    [ 'create below a missing parent',   [ create => "$root/none/x", '', acl => $A ], ZNONODE ],
    [ 'create without an ACL',           [ create => "$root/noacl", '' ], ZINVALIDACL ],
    [ 'delete of a missing node',        [ delete => "$root/none" ], ZNONODE ],
    [ 'delete with another version',     [ delete => "$root/new", version => 9 ], ZBADVERSION ],
    [ 'delete of a node with children',  [ delete => $root ], ZNOTEMPTY ],
    [ 'set of a missing node',           [ set => "$root/none", 'x' ], ZNONODE ],
    [ 'set with another version',        [ set => "$root/data", 'x', version => 0 ], ZBADVERSION ],
    [ 'check of a missing node',         [ check => "$root/none" ], ZNONODE ],
    [ 'check of another version',        [ check => "$root/data", version => 0 ], ZBADVERSION ],
    [ 'a path the C client refuses',     [ check => 'no/slash' ], ZBADARGUMENTS ],
    [ 'a TTL mode without a ttl',        [ create => "$root/ttl", '', acl => $A, mode => ZOO_PERSISTENT_WITH_TTL ], ZBADARGUMENTS ],
) {
    my ($name, $op, $code) = @$case;
    my @r = $zkh->multi([ create => "$root/first", '', acl => $A ], $op, [ set => "$root/data", 'no' ]);
    is_deeply(errors(@r), [ ZOK, $code, ZRUNTIMEINCONSISTENCY ], "$name: errors ZOK, $code, ZRUNTIMEINCONSISTENCY");
    is($r[1]{type}, lc $op->[0], "... the failing result has its type");
    error_is($zkh, $code, "... get_error is $code");
    ok(!$other->exists("$root/first") && $other->get("$root/data") eq 'v2', '... and nothing changed');
}

## A check guards the writes after it

{
    my $stat = $zkh->stat;
    $zkh->exists("$root/data", stat => $stat);
    my $version = $stat->{version};
    ok(!$zkh->multi([ check => "$root/data", version => $version + 1 ], [ set => "$root/data", 'guarded' ]),
       'a check of a version the node does not have fails the transaction');
    error_is($zkh, ZBADVERSION, '... with ZBADVERSION');
    is($other->get("$root/data"), 'v2', '... and the set after it did not happen');
    ok($zkh->multi([ check => "$root/data", version => $version ], [ set => "$root/data", 'guarded' ]),
       'with the current version it commits');
    is($other->get("$root/data"), 'guarded', '... and the set happened');
}

## Empty transactions and batches

is_deeply([ $zkh->multi() ], [], 'an empty transaction returns an empty list');
error_is($zkh, ZOK, '... with ZOK');
is(scalar($zkh->multi()), 1, '... and true in scalar context');
is_deeply([ $zkh->multi_read() ], [], 'an empty multi_read returns an empty list');
is(scalar($zkh->multi_read()), 1, '... and true in scalar context');
error_is($zkh, ZOK, '... with ZOK');
{
    my $nowhere = Net::ZooKeeper->new(unused_local_host());
    is(scalar($nowhere->multi()), '', 'without a server even an empty transaction fails, as every call does');
    error_is($nowhere, ZCONNECTIONLOSS, '... with ZCONNECTIONLOSS');
    is_deeply(errors($nowhere->multi([ check => '/' ], [ delete => '/x' ])), [ ZCONNECTIONLOSS, ZCONNECTIONLOSS ],
              'when the call fails as a whole, every operation has its code');
    is_deeply(errors($nowhere->multi_read([ get => '/' ], [ get => 'bad' ])), [ ZCONNECTIONLOSS, ZCONNECTIONLOSS ],
              '... in multi_read too');
}

## multi_read

{
    create_null_node((split /,/, $list)[0], ($chroot eq '/' ? '' : $chroot) . "$root/null");
    ok($zkh->create("$root/empty", '', acl => $A), 'a node with empty data');
    my @r = $zkh->multi_read(
        [ get => "$root/data" ],
        [ get => "$root/none" ],
        [ get_children => $root ],
        [ get => "$root/empty" ],
        [ get => "$root/data", data_read_len => 3 ],
        [ get_children => "$root/none" ],
        [ get => 'no/slash' ],
        [ get_children => "$root/new" ],
    );
    error_is($zkh, ZNONODE, "get_error is the first failure's code");
    is(scalar @r, 8, 'one result per operation');
    is($r[0]{type}, 'get', 'get: its type');
    is($r[0]{data}, 'guarded', '... the data');
    isa_ok($r[0]{stat}, 'Net::ZooKeeper::Stat', '... its stat');
    is($r[0]{stat}{version}, 3, "... with the node's version");
    is($r[0]{error}, ZOK, '... error ZOK');
    is_deeply($r[1], { type => 'get', error => ZNONODE }, 'a missing node: its error, no data and no stat');
    is($r[2]{type}, 'get_children', 'get_children: its type');
    is_deeply([ sort @{ $r[2]{children} } ], [ sort $other->get_children($root) ], '... the names of the children');
    is_deeply([ sort keys %{ $r[2] } ], [qw(children error type)], '... error, no stat');
    ok(defined $r[3]{data} && $r[3]{data} eq '', "empty data is ''");
    is($r[4]{data}, 'gua', 'data_read_len truncates the data');
    is_deeply($r[5], { type => 'get_children', error => ZNONODE }, 'get_children of a missing node: its error');
    is_deeply($r[6], { type => 'get', error => ZBADARGUMENTS }, 'a path the C client refuses: ZBADARGUMENTS');
    is_deeply($r[7], { type => 'get_children', children => [], error => ZOK }, 'a node without children: an empty list');

    is(scalar($zkh->multi_read([ get => "$root/data" ], [ get => "$root/none" ])), '',
       'in scalar context a batch with a failed read is false');
    is(scalar($zkh->multi_read([ get => "$root/data" ], [ get_children => $root ])), 1,
       'and true when every read succeeds');
    error_is($zkh, ZOK, '... with ZOK');

    my ($null) = $zkh->multi_read([ get => "$root/null" ]);
    is($null->{error}, ZOK, 'a node with null data is read');
    ok(exists $null->{data}, '... with a data element');
    is($null->{data}, undef, '... undef for null data, as get() gives');
}

## Bad operations croak, and nothing is sent

{
    my $first = [ create => "$root/never", '', acl => $A ];
    for my $case (
        [ [ frob => "$root/x" ],                                   'invalid transaction operation: frob', 'an unknown operation' ],
        [ 'create',                                                 'invalid transaction operation', 'an element that is not an array reference' ],
        [ {},                                                       'invalid transaction operation', 'a hash reference' ],
        [ [],                                                       'invalid transaction operation', 'an empty array' ],
        [ [ get => "$root/data" ],                                  'invalid transaction operation: get', 'a read in a transaction' ],
        [ [ create => "$root/x" ],                                  'invalid number of arguments', 'create without data' ],
        [ [ set => "$root/x" ],                                     'invalid number of arguments', 'set without data' ],
        [ [ delete => "$root/x", 'version' ],                       'invalid number of arguments', 'an odd option list' ],
        [ [ create => "$root/x", '', flags => 9 ],                  'invalid create flags: 9', 'bad create flags' ],
        [ [ create => "$root/x", '', mode => 7 ],                   'invalid create mode: 7', 'a bad create mode' ],
        [ [ create => "$root/x", '', acl => 'x' ],                  'invalid ACL array reference', 'a bad ACL' ],
        [ [ create => "$root/x", '', path_read_len => 1 ],          'invalid path read length: 1', 'a bad path_read_len' ],
        [ [ set => "$root/x", '', version => -2 ],                  'invalid version requirement: -2', 'a negative set version' ],
        [ [ check => "$root/x", version => -1 ],                    'invalid version requirement: -1', 'a negative check version' ],
    ) {
        my ($op, $msg, $name) = @$case;
        croaks(sub { $zkh->multi($first, [ check => $root ], $op) }, $msg, "multi croaks for $name");
    }
    croaks(sub { $zkh->multi_read([ get => "$root/data" ], [ set => "$root/data", 'x' ]) },
           'invalid transaction operation: set', 'multi_read croaks for a write');
    croaks(sub { $zkh->multi_read([ get => "$root/data", data_read_len => -1 ]) }, 'invalid data read length: -1',
           'multi_read croaks for a bad data_read_len');
    croaks(sub { $zkh->multi_read([ get_children => $root, 'watch' ]) }, 'invalid number of arguments',
           'multi_read croaks for an odd option list');
    error_is($zkh, ZOK, 'after a croak get_error is ZOK');
    ok(!$other->exists("$root/never"), "nothing was sent: the first operation's node does not exist");
    croaks(sub { Net::ZooKeeper->can('multi')->() }, 'Usage: Net::ZooKeeper::multi(zkh, ...)', 'multi without a handle croaks its usage');
    croaks(sub { Net::ZooKeeper->can('multi_read')->() }, 'Usage: Net::ZooKeeper::multi_read(zkh, ...)',
           'multi_read without a handle croaks its usage');
    croaks(sub { Net::ZooKeeper::multi('x', [ check => $root ]) }, 'zkh is not a hash reference of type Net::ZooKeeper',
           'multi on something else croaks as other methods do');
}

## Perl code run while the operations are converted

{
    my $op1 = [ create => "$root/h1", 'one', acl => $A ];
    my $op2 = tied_op('Runs', [ 0, sub { @$op1 = (); undef $op1 } ], check => $root, 'version');
    my $op3;
    $op3 = tied_op('Runs', [ 100, sub { @$op3 = (); undef $op3 } ], create => "$root/h3", 'three', acl => $A, 'path_read_len');
    my @r = $zkh->multi($op1, $op2, $op3, [ check => "$root/h1" ]);
    is_deeply(errors(@r), [ ZOK, ZOK, ZOK, ZOK ],
              'operations emptied and freed by FETCH of a later value: the call goes on with what it was given');
    is($other->get("$root/h3"), 'three', '... and the operations took effect');

    my $h = Net::ZooKeeper->new($hosts);
    my $op = tied_op('Runs', [ 0, sub { undef $h } ], check => "$root/h4", 'version');
    @r = $h->multi([ create => "$root/h4", 'four', acl => $A ], $op);
    is_deeply(errors(@r), [ ZOK, ZOK ], 'the handle undefined by FETCH of a value: the call goes on');
    ok(!defined $h, '... and the handle is gone afterwards');
    is($other->get("$root/h4"), 'four', '... after the operations took effect');
}

## A tied value that dies in the third operation: nothing sent, nothing left behind

SKIP: {
    skip('RSS is read from /proc/self/status (Linux only)', 8) unless -r '/proc/self/status';
    my $rss_kb = sub {
        open(my $fh, '<', '/proc/self/status') or die "/proc/self/status: $!";
        while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
        die 'no VmRSS in /proc/self/status';
    };
    my %case = (
        multi => sub {
            $zkh->multi([ create => "$root/d1", 'one', acl => $A ], [ set => "$root/data", 'two', version => 3 ],
                        tied_op('Dies', [], create => "$root/d3", 'three', acl => $A, 'flags'));
        },
        multi_read => sub {
            $zkh->multi_read([ get => "$root/data", data_read_len => 10 ], [ get_children => $root ],
                             tied_op('Dies', [], get => "$root/data", 'data_read_len'));
        },
    );
    for my $name (sort keys %case) {
        my $call = $case{$name};
        my $died = 0;
        for (1 .. 2_000) { $died++ unless eval { $call->(); 1 } }    # warm up the allocator
        my $before = $rss_kb->();
        for (1 .. 20_000) { $died++ unless eval { $call->(); 1 } }
        my $grown = $rss_kb->() - $before;
        is($died, 22_000, "$name: every call dies with the FETCH");
        is($@, "FETCH died\n", "$name: the die reaches the caller unchanged");
        cmp_ok($grown, '<', 2048, "$name: RSS grew ${grown} kB over 20,000 calls (less than 2 MB)");
    }
    ok(!$other->exists("$root/d1"), "nothing was sent: the first operation's node does not exist");
    is($other->get("$root/data"), 'guarded', "... and the second operation's set did not happen");
}

## The builder

{
    my $txn = $zkh->transaction;
    isa_ok($txn, 'Net::ZooKeeper::Transaction', 'transaction()');
    is($txn->create("$root/b1", 'b', acl => $A), $txn, 'create returns the transaction');
    is($txn->set("$root/b1", 'b2')->check("$root/b1", version => 1)->delete("$root/b1"), $txn,
       'set, check and delete too, so that calls chain');
    is_deeply([ $txn->ops ],
              [ [ create => "$root/b1", 'b', acl => $A ], [ set => "$root/b1", 'b2' ],
                [ check => "$root/b1", version => 1 ], [ delete => "$root/b1" ] ],
              'ops returns the operations as multi() takes them');
    my @r = $txn->commit;
    is_deeply(\@r, [ { type => 'create', path => "$root/b1", error => ZOK }, { type => 'set', stat => $r[1]{stat}, error => ZOK },
                     { type => 'check', error => ZOK }, { type => 'delete', error => ZOK } ],
              "commit in list context returns multi()'s results");
    is($r[1]{stat}{version}, 1, "... set's stat among them");
    ok(!$other->exists("$root/b1"), '... and the transaction took effect');
    is(scalar($txn->commit), 1, 'commit again, in scalar context: true');

    my $bad = $zkh->transaction->create("$root/b2", '', acl => $A)->delete("$root/none");
    is(scalar($bad->commit), '', 'a failing transaction commits false');
    error_is($zkh, ZNONODE, "... get_error is the failing operation's code");
    ok(!$other->exists("$root/b2"), '... and nothing changed');
    is_deeply([ $zkh->transaction->commit ], [], 'an empty transaction commits nothing: an empty list');
    croaks(sub { $zkh->transaction->create("$root/b3")->commit }, 'invalid number of arguments',
           'commit croaks as multi() does');
}

## After fork, an inherited handle croaks

{
    pipe(my $from_child, my $to_parent) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $from_child;
        my @errors = (exception_of(sub { $zkh->multi([ check => $root ]) }),
                      exception_of(sub { $zkh->multi_read([ get => $root ]) }),
                      exception_of(sub { $zkh->transaction->check($root)->commit }));
        print {$to_parent} @errors;
        close $to_parent;
        POSIX::_exit(0);
    }
    close $to_parent;
    my @got = <$from_child>;
    close $from_child;
    waitpid($pid, 0);
    is(scalar @got, 3, 'the child tried multi, multi_read and commit on an inherited handle');
    like($_, qr/^Net::ZooKeeper handle cannot be used after fork: it belongs to process \Q$$\E at /,
         '... each croaks that it cannot be used after fork') for @got;
    ok($zkh->multi([ check => $root ]), "the parent's handle still works");
}

ok(delete_tree($zkh, $root), 'delete the test nodes');

done_testing();
