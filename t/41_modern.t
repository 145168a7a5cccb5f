#!/usr/bin/perl
# Calls and options of ZooKeeper 3.5 and later on one server: create's modes
# (containers, TTL nodes) and stat, sync, get_ephemerals, get_all_children_number,
# whoami, get_config and state. Containers and TTL nodes need a server started with
# -Dzookeeper.extendedTypesEnabled=true and a short reaper interval: the test
# starts one of its own; the other calls also run against the shared server.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(error_is);
use Net::ZooKeeper qw(:errors :errors_ext :node_flags :acls :events :states :create_modes :states_ext);

$SIG{PIPE} = 'IGNORE';

my $REAP_MS = 200;
my ($srv, $why) = ZKTest::private_server(
    jvm_opts => [ '-Dzookeeper.extendedTypesEnabled=true', "-Dznode.container.checkIntervalMs=$REAP_MS" ],
);
plan skip_all => $why unless $srv;

my $zkh = Net::ZooKeeper->new($srv->hosts);
ok($zkh && $zkh->exists('/'), 'a handle on the server with extended types');
my $other = Net::ZooKeeper->new($srv->hosts);

# Waits (bounded by the watch's timeout) for a node to be deleted by the server.
sub deleted_by_server {
    my ($path, $timeout) = @_;
    my $w = $zkh->watch(timeout => $timeout);
    return 1 unless $zkh->exists($path, watch => $w);
    return $w->wait && $w->{event} == ZOO_DELETED_EVENT;
}

## Containers

is($zkh->create('/box', 'b', mode => ZOO_CONTAINER, acl => ZOO_OPEN_ACL_UNSAFE), '/box', 'create a container');
is($zkh->create('/box/item', 'i', acl => ZOO_OPEN_ACL_UNSAFE), '/box/item', 'a child in it');
ok($zkh->delete('/box/item'), 'its last child deleted');
ok(deleted_by_server('/box', 30_000), 'the server reaps the container after its last child went');
ok(!$zkh->exists('/box'), '... it is gone');

## TTL nodes

my $stat = $zkh->stat;
is($zkh->create('/ttl', 't', mode => ZOO_PERSISTENT_WITH_TTL, ttl => 500, acl => ZOO_OPEN_ACL_UNSAFE, stat => $stat),
   '/ttl', 'create a TTL node (500 ms)');
ok($stat->{czxid} > 0 && $stat->{version} == 0 && $stat->{data_len} == 1, 'create fills the stat (create2)');
my $check = $zkh->stat;
$zkh->exists('/ttl', stat => $check);
is($check->{czxid}, $stat->{czxid}, "... with the node's czxid");
ok(deleted_by_server('/ttl', 30_000), 'the server removes the TTL node once its TTL passed unchanged');

my $seq = $zkh->create('/ttlseq-', '', mode => ZOO_PERSISTENT_SEQUENTIAL_WITH_TTL, ttl => 60_000,
                       acl => ZOO_OPEN_ACL_UNSAFE);
like($seq, qr{^/ttlseq-\d{10}\z}, 'a sequential TTL node gets its number');
ok($zkh->delete($seq), '... and can be deleted');

is($zkh->create('/ttlnone', '', mode => ZOO_PERSISTENT_WITH_TTL, acl => ZOO_OPEN_ACL_UNSAFE), undef,
   'a TTL mode without a ttl fails');
error_is($zkh, ZBADARGUMENTS, '... with ZBADARGUMENTS, as the C client says');
is($zkh->create('/ttlmode', '', ttl => 1000, acl => ZOO_OPEN_ACL_UNSAFE), undef, 'a ttl without a TTL mode fails');
error_is($zkh, ZBADARGUMENTS, '... with ZBADARGUMENTS');
ok(!$zkh->exists('/ttlmode') && !$zkh->exists('/ttlnone'), '... and nothing was created');

for my $bad (0, -5, 2**40) {
    ok(!eval { $zkh->create('/x', '', mode => ZOO_PERSISTENT_WITH_TTL, ttl => $bad); 1 }, "ttl $bad croaks");
    like($@, qr/^invalid ttl: \Q$bad\E at /, '... with "invalid ttl"');
}
for my $bad (7, -1) {
    ok(!eval { $zkh->create('/x', '', mode => $bad); 1 }, "mode $bad croaks");
    like($@, qr/^invalid create mode: \Q$bad\E at /, '... with "invalid create mode"');
}
is($zkh->create('/modes', '', mode => ZOO_EPHEMERAL_SEQUENTIAL, acl => ZOO_OPEN_ACL_UNSAFE) =~ m{^/modes\d{10}\z} ? 1 : 0,
   1, 'the original flag combinations are modes too (ZOO_EPHEMERAL_SEQUENTIAL)');
is($zkh->create('/flagsmode', '', flags => ZOO_EPHEMERAL, mode => ZOO_PERSISTENT, acl => ZOO_OPEN_ACL_UNSAFE),
   '/flagsmode', 'the later of flags and mode wins');
my $flagsmode = $zkh->stat;
$zkh->exists('/flagsmode', stat => $flagsmode);
is($flagsmode->{ephemeral_owner}, 0, '... (a persistent node)');

## On a server without extended types, the server's own answer

my $plain = Net::ZooKeeper->new(ZKTest::server_hosts());
ok($plain && $plain->exists('/'), 'a handle on the shared server');
is($plain->create(ZKTest::test_root() . '-ttl', '', mode => ZOO_PERSISTENT_WITH_TTL, ttl => 1000,
                  acl => ZOO_OPEN_ACL_UNSAFE), undef, 'a TTL node on a server without extended types fails');
error_is($plain, ZUNIMPLEMENTED, '... with the server\'s ZUNIMPLEMENTED');

## sync, get_ephemerals, get_all_children_number

ok($other->create('/tree', '', acl => ZOO_OPEN_ACL_UNSAFE), 'another handle makes /tree');
ok($zkh->sync('/tree'), 'sync returns true');
error_is($zkh, ZOK, '... ZOK');
is($zkh->get('/tree'), '', '... and the other handle\'s write is visible');
ok(!$zkh->sync("bad"), 'sync of a bad path fails');
error_is($zkh, ZBADARGUMENTS, '... with ZBADARGUMENTS, nothing sent');

for my $p ('/tree/a', '/tree/a/b', '/tree/c') {
    $other->create($p, '', acl => ZOO_OPEN_ACL_UNSAFE);
}
is($zkh->get_all_children_number('/tree'), 3, 'get_all_children_number counts every level');
is($zkh->get_all_children_number('/tree/c'), 0, '... 0 for a leaf');
is($zkh->get_all_children_number('/missing'), undef, '... undef for a missing node');
error_is($zkh, ZNONODE, '... ZNONODE');

$zkh->create('/tree/mine', '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
$zkh->create('/tree/a/mine2', '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
$other->create('/tree/theirs', '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
is_deeply([ sort $zkh->get_ephemerals('/tree') ], [ '/tree/a/mine2', '/tree/mine' ],
          "get_ephemerals lists this session's ephemerals under the prefix, not another's");
is(scalar($zkh->get_ephemerals('/tree/a')), 1, '... a count in scalar context');
is_deeply([ $other->get_ephemerals ], [ '/tree/theirs' ], '... the whole tree by default');
is_deeply([ $zkh->get_ephemerals('/nothing') ], [], '... an empty list for a prefix with none');
error_is($zkh, ZOK, '... which is not an error');

## whoami

is_deeply([ map { "$_->{scheme}:$_->{id}" } $zkh->whoami ], ['ip:127.0.0.1'], 'whoami: the ip identity');
ok($zkh->add_auth('digest', 'alice:secret'), 'add_auth digest');
is_deeply([ sort map { "$_->{scheme}:$_->{id}" } $zkh->whoami ], [ 'digest:alice', 'ip:127.0.0.1' ],
          'whoami after add_auth: the digest identity too');
is(scalar($zkh->whoami), 2, '... a count in scalar context');

## get_config and state

my $cstat = $zkh->stat;
my $config = $zkh->get_config(stat => $cstat);
ok(defined $config, 'get_config on a standalone server returns its (empty) config');
error_is($zkh, ZOK, '... ZOK');
is($zkh->state, ZOO_CONNECTED_STATE, 'state: ZOO_CONNECTED_STATE');
my $closed = Net::ZooKeeper->new('127.0.0.1:9');
is($closed->state, ZOO_CONNECTING_STATE, 'state of a handle with no server: ZOO_CONNECTING_STATE');

## Fork: the child cannot use the parent's handle

my $pid = open(my $from_child, '-|') // die "fork: $!";
if (!$pid) {
    my $ok = eval { $zkh->sync('/'); 1 };
    print $ok ? "ran\n" : $@;
    require POSIX;
    POSIX::_exit(0);
}
my $child_says = do { local $/; <$from_child> };
close $from_child;
like($child_says, qr/^Net::ZooKeeper handle cannot be used after fork: it belongs to process $$ /,
     "a child's sync on the parent's handle croaks");
ok($zkh->sync('/'), "the parent's handle still works");

done_testing();
