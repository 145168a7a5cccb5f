#!/usr/bin/perl
# Basic operations against a server: create, exists, get, set, delete and
# get_children; stat objects; truncation; versions; sequence and ephemeral
# nodes; error codes (spec sections 2.5, 2.6, 3.5 - 3.10, 7, 11.1).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(error_is delete_tree);
use Net::ZooKeeper qw(:errors :node_flags :acls);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my @STAT_KEYS = qw(czxid mzxid ctime mtime version children_version acl_version
                   ephemeral_owner data_len num_children children_zxid);

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

sub stat_hash { my ($s) = @_; return { map { $_ => $s->{$_} } @STAT_KEYS } }

## create, exists, get

is($zkh->create($root, 'basic', acl => ZOO_OPEN_ACL_UNSAFE), $root, 'create returns the path of the new node');
error_is($zkh, ZOK, 'a successful create leaves ZOK');
is(scalar($zkh->exists($root)), 1, 'exists returns 1 for an existing node');
error_is($zkh, ZOK, 'a successful exists leaves ZOK');
is($zkh->get($root), 'basic', 'get returns the node data');

is($zkh->create($root, 'again', acl => ZOO_OPEN_ACL_UNSAFE), undef, 'create of an existing node returns undef');
error_is($zkh, ZNODEEXISTS, '... get_error is ZNODEEXISTS and $! empty');
is($zkh->get($root), 'basic', '... and the data is unchanged');
{
    my @r = $zkh->create($root, 'again', acl => ZOO_OPEN_ACL_UNSAFE);
    is_deeply(\@r, [undef], 'a failed create returns (undef) in list context');
}

is($zkh->create("$root/missing/child", '', acl => ZOO_OPEN_ACL_UNSAFE), undef,
   'create below a missing parent returns undef');
error_is($zkh, ZNONODE, '... get_error is ZNONODE');

is($zkh->create("$root/noacl", 'x'), undef, 'create without an acl option returns undef');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL (no implicit open ACL)');
is($zkh->create("$root/noacl", 'x', acl => []), undef, 'create with an empty ACL returns undef');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');
is(scalar($zkh->exists("$root/noacl")), '', '... and no node was created');

is(scalar($zkh->exists("$root/missing")), '', 'exists returns false (defined) for a missing node');
error_is($zkh, ZNONODE, '... get_error is ZNONODE and $! empty');
is($zkh->get("$root/missing"), undef, 'get returns undef for a missing node');
error_is($zkh, ZNONODE, '... get_error is ZNONODE');
{
    my @r = $zkh->get("$root/missing");
    is_deeply(\@r, [undef], 'a failed get returns (undef) in list context');
    @r = $zkh->exists("$root/missing");
    is_deeply(\@r, [''], "a false exists returns ('') in list context");
}

{
    my $empty = "$root/empty";
    $zkh->create($empty, '', acl => ZOO_OPEN_ACL_UNSAFE);
    my $data = $zkh->get($empty);
    ok(defined($data) && $data eq '', "get of a node with empty data returns ''");
    error_is($zkh, ZOK, '... with ZOK');
}

## Stat objects (3.7, 7)

my $node = "$root/node";
is($zkh->create($node, 'abcdefghij', acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");
my $stat = $zkh->stat();
is(scalar($zkh->exists($node, stat => $stat)), 1, 'exists with a stat option returns 1');
{
    my %s = %{ stat_hash($stat) };
    is($s{version}, 0, 'a new node has version 0');
    is($s{children_version}, 0, 'a new node has children_version 0');
    is($s{acl_version}, 0, 'a new node has acl_version 0');
    is($s{ephemeral_owner}, 0, 'a persistent node has ephemeral_owner 0');
    is($s{data_len}, 10, 'data_len is the data length');
    is($s{num_children}, 0, 'a new node has num_children 0');
    like($s{czxid}, qr/^[1-9][0-9]*\z/, 'czxid is a positive decimal number');
    is($s{mzxid}, $s{czxid}, 'a new node has mzxid == czxid');
    is($s{children_zxid}, $s{czxid}, 'a new node has children_zxid == czxid');
    like($s{ctime}, qr/^[1-9][0-9]{12,}\z/, 'ctime is in milliseconds since the epoch');
    is($s{mtime}, $s{ctime}, 'a new node has mtime == ctime');

    my $parent = $zkh->stat();
    ok($zkh->exists($root, stat => $parent), 'exists on the parent with a stat option');
    ok($parent->{num_children} >= 1, 'the parent counts its children');
    ok($parent->{children_version} >= 1, 'creating a child changed the parent\'s children_version');
}

## set and versions (3.10)

{
    my $before = stat_hash($stat);
    is(scalar($zkh->set($node, 'new data', stat => $stat)), 1, 'set returns 1');
    error_is($zkh, ZOK, '... with ZOK');
    is($zkh->get($node), 'new data', 'get returns the new data');
    is($stat->{version}, 1, 'set with a stat option updates version to 1');
    is($stat->{data_len}, 8, '... and data_len to the new length');
    is($stat->{czxid}, $before->{czxid}, '... czxid is unchanged');
    ok($stat->{mzxid} > $before->{mzxid}, '... mzxid grows');
    ok($stat->{mtime} >= $stat->{ctime}, '... mtime is not before ctime');

    is(scalar($zkh->set($node, 'stale', version => 0)), '', 'set with a stale version returns false');
    error_is($zkh, ZBADVERSION, '... get_error is ZBADVERSION and $! empty');
    is($zkh->get($node), 'new data', '... and the data is unchanged');
    is(scalar($zkh->set($node, 'versioned', version => 1)), 1, 'set with the current version returns 1');
    my $s = $zkh->stat();
    is($zkh->get($node, stat => $s), 'versioned', 'get with a stat option returns the data');
    is($s->{version}, 2, '... and the stat object shows version 2');
    is_deeply([ map { $s->{$_} } qw(czxid ctime) ], [ map { $before->{$_} } qw(czxid ctime) ],
              '... czxid and ctime stay those of the creation');
}

## A stat object is only updated when the call succeeds (7)

{
    my $s = $zkh->stat();
    $zkh->exists($node, stat => $s);
    my $before = stat_hash($s);
    is(scalar($zkh->exists("$root/missing", stat => $s)), '', 'exists on a missing node with a stat option');
    is_deeply(stat_hash($s), $before, '... leaves the stat object unchanged');
    is($zkh->get("$root/missing", stat => $s), undef, 'get on a missing node with a stat option');
    is_deeply(stat_hash($s), $before, '... leaves the stat object unchanged');
    is(scalar($zkh->set($node, 'x', version => 99, stat => $s)), '', 'set with a wrong version and a stat option');
    is_deeply(stat_hash($s), $before, '... leaves the stat object unchanged');

    my $fresh = $zkh->stat();
    $zkh->exists("$root/missing", stat => $fresh);
    is_deeply([ grep { $fresh->{$_} != 0 } @STAT_KEYS ], [], 'a new stat object stays all zero after a failed call');

    my $root_stat = $zkh->stat();
    $zkh->exists($root, stat => $root_stat);
    my $other = Net::ZooKeeper->new($hosts);
    ok($other->exists($root, stat => $s), 'a stat object can be used with another handle');
    is($s->{czxid}, $root_stat->{czxid}, '... and gets that node\'s values');
    $other->DESTROY;
}

## Truncation (3.5, 3.9, 6)

{
    my $t = "$root/trunc";
    $zkh->create($t, 'abcdefghij', acl => ZOO_OPEN_ACL_UNSAFE);
    is($zkh->get($t, data_read_len => 4), 'abcd', 'get with data_read_len 4 returns the first 4 bytes');
    error_is($zkh, ZOK, '... with ZOK');
    my $zero = $zkh->get($t, data_read_len => 0);
    ok(defined($zero) && $zero eq '', "get with data_read_len 0 returns ''");
    is($zkh->get($t, data_read_len => 100), 'abcdefghij', 'a data_read_len above the length returns all data');
    is($zkh->get($t, DATA_READ_LEN => 2), 'ab', 'the data_read_len option name is case-insensitive');
    is($zkh->get($t, data_read_len => 1, data_read_len => 3), 'abc', 'the last of repeated options wins');

    $zkh->{data_read_len} = 3;
    is($zkh->get($t), 'abc', 'get honours the data_read_len attribute');
    is($zkh->get($t, data_read_len => 5), 'abcde', 'the data_read_len option overrides the attribute');
    is($zkh->{data_read_len}, 3, '... for that call only');
    is($zkh->get($t), 'abc', '... later calls use the attribute again');
    $zkh->{data_read_len} = 0;
    $zero = $zkh->get($t);
    ok(defined($zero) && $zero eq '', "with the attribute 0 get returns ''");
    $zkh->{data_read_len} = 1023;
    my $s = $zkh->stat();
    is($zkh->get($t, data_read_len => 1, stat => $s), 'a', 'truncated get with a stat option');
    is($s->{data_len}, 10, '... the stat object has the full data length');

    my $big = "$root/big";
    $zkh->create($big, 'x' x 2000, acl => ZOO_OPEN_ACL_UNSAFE);
    is(length($zkh->get($big)), 1023, 'by default get returns at most 1023 bytes');
    is(length($zkh->get($big, data_read_len => 2000)), 2000, 'a larger data_read_len returns all the data');

    my $long = "$root/" . ('n' x 1100);
    is($zkh->create($long, '', acl => ZOO_OPEN_ACL_UNSAFE), substr($long, 0, 1023),
       'by default create returns at most 1023 characters of the path');
    ok($zkh->exists($long), '... but the node has its full path');

    my $p = "$root/path_read_len";
    is($zkh->create($p, '', acl => ZOO_OPEN_ACL_UNSAFE, path_read_len => length($p) - 2), substr($p, 0, -2),
       'create with path_read_len returns the path truncated to that length');
    ok($zkh->exists($p), '... but the node has its full path');
    is($zkh->create("${p}2", '', acl => ZOO_OPEN_ACL_UNSAFE, path_read_len => 2), substr($p, 0, 2),
       'create with path_read_len 2 returns the first 2 characters');

    $zkh->{path_read_len} = 0;
    my $r = $zkh->create("${p}3", '', acl => ZOO_OPEN_ACL_UNSAFE);
    ok(defined($r) && $r eq '', "with the path_read_len attribute 0 create returns ''");
    ok($zkh->exists("${p}3"), '... and the node is created');
    $zkh->{path_read_len} = 1;
    is($zkh->create("${p}4", '', acl => ZOO_OPEN_ACL_UNSAFE), '/', 'with the path_read_len attribute 1 create returns /');
    is($zkh->create("${p}5", '', acl => ZOO_OPEN_ACL_UNSAFE, path_read_len => 5), substr($p, 0, 5),
       'the path_read_len option overrides the attribute');
    is($zkh->{path_read_len}, 1, '... for that call only');
    $zkh->{path_read_len} = 1023;
}

## delete (3.6)

{
    is(scalar($zkh->delete($node, version => 0)), '', 'delete with a stale version returns false');
    error_is($zkh, ZBADVERSION, '... get_error is ZBADVERSION');
    ok($zkh->exists($node), '... and the node still exists');
    is(scalar($zkh->delete($node, version => 2)), 1, 'delete with the current version returns 1');
    error_is($zkh, ZOK, '... with ZOK');
    is(scalar($zkh->exists($node)), '', '... and the node is gone');
    is(scalar($zkh->delete($node)), '', 'delete of a missing node returns false');
    error_is($zkh, ZNONODE, '... get_error is ZNONODE');

    my $d = "$root/tree";
    $zkh->create($d, '', acl => ZOO_OPEN_ACL_UNSAFE);
    $zkh->create("$d/leaf", '', acl => ZOO_OPEN_ACL_UNSAFE);
    is(scalar($zkh->delete($d)), '', 'delete of a node with children returns false');
    error_is($zkh, ZNOTEMPTY, '... get_error is ZNOTEMPTY');
    ok($zkh->delete("$d/leaf") && $zkh->delete($d), 'deleting the child first, then the node, works');
}

## get_children (3.8)

{
    my $kids = "$root/kids";
    $zkh->create($kids, '', acl => ZOO_OPEN_ACL_UNSAFE);
    my @none = $zkh->get_children($kids);
    is_deeply(\@none, [], 'get_children of a childless node returns an empty list');
    error_is($zkh, ZOK, '... with ZOK');
    my $count = $zkh->get_children($kids);
    ok(defined($count) && $count == 0, 'in scalar context it returns 0');

    $zkh->create("$kids/c1", '', acl => ZOO_OPEN_ACL_UNSAFE);
    $zkh->create("$kids/c2", '', acl => ZOO_OPEN_ACL_UNSAFE);
    my @names = $zkh->get_children($kids);
    is_deeply([ sort @names ], [qw(c1 c2)], 'get_children returns the child names without a leading /');
    error_is($zkh, ZOK, '... with ZOK');
    is(scalar($zkh->get_children($kids)), 2, 'in scalar context get_children returns the number of children');

    my @missing = $zkh->get_children("$root/missing");
    is_deeply(\@missing, [], 'get_children of a missing node returns an empty list');
    error_is($zkh, ZNONODE, '... get_error is ZNONODE');
    is(scalar($zkh->get_children("$root/missing")), undef, 'in scalar context it returns undef');
}

## Sequence nodes (3.5, 11.1)

{
    my $first = $zkh->create("$root/s", 'seq', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($first, qr{^\Q$root\E/s[0-9]+\z}, 'create with ZOO_SEQUENCE appends a sequence number');
    ok($zkh->exists($first), '... and the returned path exists');
    my $second = $zkh->create("$root/s", 'seq', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($second, qr{^\Q$root\E/s[0-9]+\z}, 'a second sequence node');
    my ($n1) = ($first // '') =~ /([0-9]+)\z/;
    my ($n2) = ($second // '') =~ /([0-9]+)\z/;
    ok(defined($n1) && defined($n2) && $n2 > $n1, '... gets a higher sequence number');

    my $dir = "$root/seqdir";
    $zkh->create($dir, '', acl => ZOO_OPEN_ACL_UNSAFE);
    my $bare = $zkh->create("$dir/", '', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($bare, qr{^\Q$dir\E/[0-9]+\z}, 'a trailing / is allowed with ZOO_SEQUENCE (name is the number only)');
    my $dot = $zkh->create("$dir/.", '', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($dot, qr{^\Q$dir\E/\.[0-9]+\z}, 'a final "." is allowed with ZOO_SEQUENCE');
    my $dotdot = $zkh->create("$dir/..", '', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($dotdot, qr{^\Q$dir\E/\.\.[0-9]+\z}, 'a final ".." is allowed with ZOO_SEQUENCE');
    is(scalar($zkh->get_children($dir)), 3, 'the sequence nodes are children of the parent');
}

## Ephemeral nodes (3.2, 3.5, 7)

{
    my $e = "$root/e";
    is($zkh->create($e, 'eph', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $e, 'create with ZOO_EPHEMERAL');
    my $s = $zkh->stat();
    ok($zkh->exists($e, stat => $s), 'exists on the ephemeral node');
    isnt($s->{ephemeral_owner}, 0, 'an ephemeral node has a non-zero ephemeral_owner');
    is($s->{ephemeral_owner}, sprintf('%.0f', unpack('q', $zkh->{session_id})),
       'ephemeral_owner is the session number (first 8 bytes of session_id, native order)');

    is($zkh->create("$e/child", '', acl => ZOO_OPEN_ACL_UNSAFE), undef, 'an ephemeral node cannot have children');
    error_is($zkh, ZNOCHILDRENFOREPHEMERALS, '... get_error is ZNOCHILDRENFOREPHEMERALS');

    my $es = $zkh->create("$root/es", '', flags => ZOO_EPHEMERAL | ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE);
    like($es, qr{^\Q$root\E/es[0-9]+\z}, 'create with ZOO_EPHEMERAL | ZOO_SEQUENCE');

    my $owner = Net::ZooKeeper->new($hosts);
    my $e2 = "$root/e2";
    is($owner->create($e2, '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $e2,
       'another handle creates an ephemeral node');
    ok($zkh->exists($e2), '... which this handle sees');
    is(scalar($owner->DESTROY), 1, 'DESTROY on the creating handle returns true');
    my $fresh = Net::ZooKeeper->new($hosts);
    is(scalar($fresh->exists($e2)), '', 'right after DESTROY of its creator the ephemeral node is gone for a new handle');
    is($fresh->get_error(), ZNONODE, '... get_error is ZNONODE');
    ok($zkh->exists($e), 'this handle\'s own ephemeral node is still there');
}

## Binary data and strings (2.5)

{
    my $b = "$root/binary";
    my $data = "\0a\0b\xff\x00";
    is($zkh->create($b, $data, acl => ZOO_OPEN_ACL_UNSAFE), $b, 'create with data containing NUL bytes');
    my $s = $zkh->stat();
    my $got = $zkh->get($b, stat => $s);
    is($got, $data, 'get returns the data with its NUL bytes');
    is($s->{data_len}, 6, 'data_len counts every byte');
    ok(!utf8::is_utf8($got), 'returned data is a byte string');
    $zkh->set($b, "x\0y");
    is($zkh->get($b), "x\0y", 'set stores data with NUL bytes');

    my $smiley = "\x{263A}";
    $zkh->set($b, $smiley);
    is($zkh->get($b), "\xe2\x98\xba", 'a UTF-8 flagged string is sent as its UTF-8 bytes');

    my @warnings;
    {
        local $SIG{__WARN__} = sub { push @warnings, $_[0] };
        $zkh->create("$root/undef", undef, acl => ZOO_OPEN_ACL_UNSAFE);
    }
    ok((grep { /uninitialized/ } @warnings), 'create with undef data warns about an uninitialized value');
    my $u = $zkh->get("$root/undef");
    ok(defined($u) && $u eq '', "... and stores empty data");
}

## Paths (2.5, 11.1)

{
    for my $name ('.a', '..a', 'a.', '...') {
        is($zkh->create("$root/$name", '', acl => ZOO_OPEN_ACL_UNSAFE), "$root/$name", "'$name' is a valid node name");
    }
    for my $case ([ "\x1f", '0x1F' ], [ "\x7f", '0x7F' ], [ "\xc3\xa9", 'UTF-8 bytes >= 0x80' ],
                  [ "\xc2\x80", 'the UTF-8 encoding of U+0080' ], [ "\xff", 'a byte that is not UTF-8' ]) {
        is(scalar($zkh->exists("$root/x$case->[0]")), '', "a path with $case->[1] passes the client checks");
        error_is($zkh, ZNONODE, "... and the server answers ZNONODE ($case->[1])");
    }
    my $flagged = "$root/\x{263A}";
    my $created = $zkh->create($flagged, '', acl => ZOO_OPEN_ACL_UNSAFE);
    is($created, "$root/\xe2\x98\xba", 'a UTF-8 flagged path is sent as its UTF-8 bytes');
    ok(defined($created) && !utf8::is_utf8($created), '... and the returned path is a byte string');
    my @names = $zkh->get_children($root);
    ok((grep { $_ eq "\xe2\x98\xba" } @names), 'get_children returns the name as bytes');
    is_deeply([ grep { utf8::is_utf8($_) } @names ], [], 'child names are byte strings');
    is($zkh->create("$root/nul\0junk", '', acl => ZOO_OPEN_ACL_UNSAFE), "$root/nul", 'a path is cut at its first NUL byte');
    ok($zkh->exists("$root/nul"), '... and the node has the shorter name');
}

## Chroot suffix in the host list (3.1, 3.5)

{
    my $ch = Net::ZooKeeper->new("$hosts$root");
    isa_ok($ch, 'Net::ZooKeeper', 'new with a chroot suffix');
    is($ch->create('/inchroot', 'c', acl => ZOO_OPEN_ACL_UNSAFE), '/inchroot', 'create returns the path without the chroot');
    is($zkh->get("$root/inchroot"), 'c', '... the node is created below the chroot');
    ok($ch->exists('/kids'), 'paths are relative to the chroot');
    like($ch->create('/cs', '', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE), qr{^/cs[0-9]+\z},
         'a sequence node path is returned without the chroot');
    $ch->DESTROY;
}

ok(delete_tree($zkh, $root), 'delete the test nodes');
is(scalar($zkh->DESTROY), 1, 'DESTROY returns true');

done_testing();
