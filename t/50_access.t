#!/usr/bin/perl
# Access control: the predefined ACLs, the acl option of create, get_acl,
# set_acl, add_auth with the digest scheme, server-side ACL enforcement and
# the client-side ACL validation (spec sections 1.3, 2.1, 3.4, 3.5, 3.11,
# 3.12, 9; manual "Access Control").

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Scalar::Util ();

use ZKTest;
use ZKTest::Util qw(croaks error_is delete_tree);
use Net::ZooKeeper qw(:errors :acl_perms :acls);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

# The test user of the original suite (zk_acl_test_setup).
my ($USER, $PASSWORD, $DIGEST) = ('_net_zookeeper_test', 'test', '2qi7Erp2cXYLGcQbXADiwUFaOGo=');
my $USER_ID = "$USER:$DIGEST";

sub new_handle {
    my $h = Net::ZooKeeper->new($hosts);
    isa_ok($h, 'Net::ZooKeeper') or BAIL_OUT("cannot create a handle for $hosts");
    return $h;
}

my $OPEN    = [ { perms => 31, scheme => 'world', id => 'anyone' } ];
my $READ    = [ { perms => 1,  scheme => 'world', id => 'anyone' } ];
my $CREATOR = [ { perms => 31, scheme => 'auth',  id => '' } ];

## The predefined ACLs (1.3)

is_deeply(ZOO_OPEN_ACL_UNSAFE, $OPEN,    'ZOO_OPEN_ACL_UNSAFE is [{perms => 31, scheme => world, id => anyone}]');
is_deeply(ZOO_READ_ACL_UNSAFE, $READ,    'ZOO_READ_ACL_UNSAFE is [{perms => 1, scheme => world, id => anyone}]');
is_deeply(ZOO_CREATOR_ALL_ACL, $CREATOR, 'ZOO_CREATOR_ALL_ACL is [{perms => 31, scheme => auth, id => ""}]');

for my $c ([ ZOO_OPEN_ACL_UNSAFE => \&ZOO_OPEN_ACL_UNSAFE, $OPEN ],
           [ ZOO_READ_ACL_UNSAFE => \&ZOO_READ_ACL_UNSAFE, $READ ],
           [ ZOO_CREATOR_ALL_ACL => \&ZOO_CREATOR_ALL_ACL, $CREATOR ]) {
    my ($name, $f, $want) = @$c;
    my ($a, $b) = ($f->(), $f->());
    ok(Scalar::Util::refaddr($a) != Scalar::Util::refaddr($b)
       && Scalar::Util::refaddr($a->[0]) != Scalar::Util::refaddr($b->[0]),
       "$name returns a new array of new hashes on every call");
    $a->[0]{perms} &= ~ZOO_PERM_READ;
    $a->[0]{scheme} = 'digest';
    push @$a, { perms => 1, scheme => 'ip', id => '127.0.0.1' };
    is_deeply($f->(), $want, "changing what $name returned does not change what it returns next");
    is_deeply($b, $want, "... nor a copy returned earlier");
}

## Setup

my $zkh   = new_handle();      # authenticates with the digest further down
my $other = new_handle();      # never authenticates

is($zkh->create($root, 'foo', acl => ZOO_OPEN_ACL_UNSAFE), $root, 'create with acl => ZOO_OPEN_ACL_UNSAFE creates the node')
    or BAIL_OUT('cannot create the test node ' . $root . ': ' . $zkh->get_error);

## Client-side ACL validation (9.1), create's acl option

my %good = (perms => ZOO_PERM_READ, scheme => 'world', id => 'anyone');
my @invalid = (
    # [ acl, message, what ]
    [ 'foo',                 'invalid ACL array reference',     'a string as acl value' ],
    [ {},                    'invalid ACL array reference',     'a hash reference as acl value' ],
    [ undef,                 'invalid ACL array reference',     'undef as acl value' ],
    [ [ 'foo' ],             'invalid ACL entry hash reference', 'a string entry' ],
    [ [ undef ],             'invalid ACL entry hash reference', 'an undef entry' ],
    [ [ [] ],                'invalid ACL entry hash reference', 'an array reference entry' ],
    [ [ {%good}, 'foo' ],    'invalid ACL entry hash reference', 'a bad second entry after a good first one' ],
    [ [ {} ],                'no ACL entry perms element',       'an empty entry (perms is checked first)' ],
    [ [ { scheme => 'world', id => 'anyone' } ], 'no ACL entry perms element', 'an entry without perms' ],
    [ [ { %good, perms => 0 } ],  'invalid ACL entry perms', 'perms 0' ],
    [ [ { %good, perms => -1 } ], 'invalid ACL entry perms', 'perms -1' ],
    [ [ { %good, perms => 32 } ], 'invalid ACL entry perms', 'perms 32 (a bit outside ZOO_PERM_ALL)' ],
    [ [ { perms => 0 } ],         'invalid ACL entry perms', 'bad perms and no scheme or id (perms is checked before scheme)' ],
    [ [ { perms => 1 } ],         'no ACL entry scheme element', 'only perms (scheme is checked before id)' ],
    [ [ { perms => 1, id => 'anyone' } ], 'no ACL entry scheme element', 'an entry without scheme' ],
    [ [ { perms => 1, scheme => 'world' } ], 'no ACL entry id element', 'an entry without id' ],
    [ [ { perms => 1, scheme => 'world' }, 'foo' ], 'no ACL entry id element', 'entries are checked in array order' ],
);
for my $case (@invalid) {
    my ($acl, $msg, $what) = @$case;
    croaks(sub { $zkh->create("$root/bad", 'x', acl => $acl) }, $msg, "create croaks \"$msg\" for $what");
}
is(scalar($zkh->exists("$root/bad")), '', 'an ACL rejected client-side creates no node');

$zkh->get("$root/missing");
croaks(sub { $zkh->create("$root/bad", 'x', acl => [ {} ]) }, 'no ACL entry perms element',
       'an invalid ACL croaks after a failed call ...');
error_is($zkh, ZOK, '... and the croak leaves get_error() reset to ZOK');

croaks(sub { $zkh->create("$root/bad", 'x', flags => 99, acl => 'foo') }, 'invalid create flags: 99',
       'create options are validated in the order given (flags before acl)');
croaks(sub { $zkh->create("$root/bad", 'x', acl => 'foo', flags => 99) }, 'invalid ACL array reference',
       'create options are validated in the order given (acl before flags)');

## create with ACLs the server refuses (ZINVALIDACL) (3.5, 9.1)

is($zkh->create("$root/bad", 'x', acl => []), undef, 'create with an empty ACL returns undef');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL and $! empty');
is($zkh->create("$root/bad", 'x'), undef, 'create without an acl option returns undef (no implicit ACL)');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');
is($zkh->create("$root/bad", 'x', acl => [ { perms => ZOO_PERM_WRITE, scheme => 'foo', id => 'bar' } ]), undef,
   'create with an ACL of an unknown scheme returns undef');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');
is($zkh->create("$root/bad", 'x', acl => ZOO_CREATOR_ALL_ACL), undef,
   'create with ZOO_CREATOR_ALL_ACL by a session without credentials returns undef');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');
is(scalar($zkh->exists("$root/bad")), '', 'none of these created the node');

## create with ACLs, get_acl (3.5, 3.11, 9.2)

{
    my @holes;
    $holes[1] = { %good };
    is($zkh->create("$root/holes", 'x', acl => \@holes), "$root/holes",
       'create skips nonexistent slots of an ACL array');
    is_deeply([ $zkh->get_acl("$root/holes") ], [ { %good } ], '... the node has just the existing entry');
    $zkh->delete("$root/holes");
}

is($zkh->create("$root/extra", 'x', acl => [ { perms => '31', scheme => 'world', id => 'anyone', foo => 'bar' } ]),
   "$root/extra", 'create ignores extra keys of an ACL entry and takes perms as a number');
is_deeply([ $zkh->get_acl("$root/extra") ], $OPEN, '... get_acl shows exactly perms, scheme and id');
$zkh->delete("$root/extra");

my $stat = $zkh->stat();
my @acl = ('abc');
@acl = $zkh->get_acl($root, stat => $stat);
is_deeply(\@acl, ZOO_OPEN_ACL_UNSAFE, 'get_acl in list context returns the entries of the node\'s ACL');
error_is($zkh, ZOK, '... get_error is ZOK');
is($stat->{data_len}, 3, 'get_acl with the stat option updates the stat object (data_len)');
is($stat->{acl_version}, 0, '... acl_version of a node whose ACL was never set is 0');
ok($acl[0]{perms} =~ /^\d+\z/ && !ref($acl[0]{scheme}) && !ref($acl[0]{id}),
   'perms is an integer, scheme and id are strings');
is(scalar($zkh->get_acl($root)), 1, 'get_acl in scalar context returns the number of entries');
{
    my $s2 = $zkh->stat();
    my $count = $zkh->get_acl($root, stat => $s2);
    ok($count == 1 && $s2->{data_len} == 3, 'get_acl in scalar context with the stat option counts and updates the stat');
}

@acl = ('abc');
@acl = $zkh->get_acl("$root/NONE", stat => $stat);
is(scalar(@acl), 0, 'get_acl of a missing node returns an empty list');
error_is($zkh, ZNONODE, '... get_error is ZNONODE and $! empty');
is($stat->{data_len}, 3, '... and the stat object is left unchanged');
my $n = $zkh->get_acl("$root/NONE");
ok(!defined($n), 'get_acl of a missing node returns undef in scalar context');
error_is($zkh, ZNONODE, '... get_error is ZNONODE');

croaks(sub { $zkh->get_acl() }, 'Usage: Net::ZooKeeper::get_acl(zkh, path, ...)', 'get_acl without a path croaks its usage');
croaks(sub { $zkh->get_acl($root, 'stat') }, 'invalid number of arguments', 'get_acl with an odd option list croaks');
croaks(sub { $zkh->get_acl($root, stat => {}) }, 'stat is not a hash reference of type Net::ZooKeeper::Stat',
       'get_acl croaks for a stat option that is not a stat object');

# A node readable by anyone but writable (and administrable) only by the
# digest user, as in the original suite.
my $acl_node = "$root/a1";
my $digest_acl = [
    { perms => ZOO_PERM_READ,                   scheme => 'world',  id => 'anyone' },
    { perms => (ZOO_PERM_WRITE | ZOO_PERM_ADMIN), scheme => 'digest', id => $USER_ID },
];
is($zkh->create($acl_node, 'foo', acl => $digest_acl), $acl_node, 'create with a digest ACL creates the node');
is(scalar($zkh->get_acl($acl_node)), 2, 'get_acl in scalar context counts both entries');
is_deeply([ $zkh->get_acl($acl_node) ],
          [ $digest_acl->[0], { %{ $digest_acl->[1] }, id => "$USER:x" } ],
          'get_acl by a caller without ADMIN shows the digest id redacted to "user:x"');

# A node only the digest user can read and write.
my $private = "$root/a3";
is($zkh->create($private, 'secret', acl => [ { perms => (ZOO_PERM_READ | ZOO_PERM_WRITE), scheme => 'digest', id => $USER_ID } ]),
   $private, 'create with a digest ACL of READ|WRITE for the test user creates the node');

# Does this server enforce ACLs at all (spec 13: skipACL=yes servers do not)?
my $enforced;
{
    my $node = $other->get($private);
    if (!defined($node) && $other->get_error == ZNOAUTH) { $enforced = 1 }
    elsif (defined($node) && $node eq 'secret')            { $enforced = 0 }
    else { diag('unexpected result of get on a digest-protected node: ' . $other->get_error) }
}

SKIP: {
    skip 'the ZooKeeper server does not enforce ACLs (skipACL=yes?)', 17 unless $enforced;

    my $no_read_acl = ZOO_OPEN_ACL_UNSAFE;
    $no_read_acl->[0]{perms} &= ~ZOO_PERM_READ;
    is($zkh->create("$root/noread", 'foo', acl => $no_read_acl), "$root/noread",
       'create with a modified ZOO_OPEN_ACL_UNSAFE (all but READ) creates the node');
    is($zkh->get("$root/noread"), undef, 'get of a node without READ permission returns undef');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH and $! empty');
    is($zkh->delete("$root/noread"), 1, 'delete needs no permission on the node itself');

    ## An unauthenticated handle is refused (ZNOAUTH)

    is($other->get($private), undef, 'get of a digest-protected node by an unauthenticated handle returns undef');
    error_is($other, ZNOAUTH, '... get_error is ZNOAUTH and $! empty');
    is($other->set($private, 'x'), '', 'set of a digest-protected node by an unauthenticated handle returns false');
    error_is($other, ZNOAUTH, '... get_error is ZNOAUTH');
    is(scalar($other->get_acl($private)), undef, 'get_acl of a node without READ or ADMIN for the caller returns undef');
    error_is($other, ZNOAUTH, '... get_error is ZNOAUTH');

    is($zkh->get($acl_node), 'foo', 'get of a node with a world READ entry works without authentication');
    is($zkh->set($acl_node, 'bar'), '', 'set of a node writable only by the digest user fails without authentication');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH');

    is($zkh->set_acl($acl_node, [ { perms => ZOO_PERM_CREATE, scheme => 'foo', id => 'bar' } ]), '',
       'set_acl with an ACL of an unknown scheme returns false');
    error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');
    is($zkh->set_acl($acl_node, ZOO_OPEN_ACL_UNSAFE), '', 'set_acl without ADMIN permission returns false');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH');
}

## add_auth (3.4)

croaks(sub { $zkh->add_auth('digest') }, 'Usage: Net::ZooKeeper::add_auth(zkh, scheme, cert)',
       'add_auth with too few arguments croaks its usage');
croaks(sub { $zkh->add_auth('digest', 'a', 'b') }, 'Usage: Net::ZooKeeper::add_auth(zkh, scheme, cert)',
       'add_auth with too many arguments croaks its usage');

is($zkh->add_auth('digest', ''), 1, 'add_auth with an empty digest credential returns true');
error_is($zkh, ZOK, '... get_error is ZOK');
SKIP: {
    skip 'the ZooKeeper server does not enforce ACLs', 2 unless $enforced;
    is($zkh->set($acl_node, 'bar'), '', 'an empty digest credential does not grant the test user\'s permissions');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH');
}

is($zkh->add_auth('digest', "$USER:$PASSWORD"), 1, 'add_auth with the test user\'s "user:password" returns true');
error_is($zkh, ZOK, '... get_error is ZOK');

is($zkh->get($private), 'secret', 'an authenticated handle reads a node of READ|WRITE for its digest');
is($zkh->set($private, 'changed'), 1, 'an authenticated handle writes that node');
is($zkh->get($private), 'changed', '... and the new data is stored');
SKIP: {
    skip 'the ZooKeeper server does not enforce ACLs', 2 unless $enforced;
    is($other->get($private), undef, 'another, unauthenticated handle is still refused');
    error_is($other, ZNOAUTH, '... with ZNOAUTH');
}

is($zkh->set($acl_node, 'baz'), 1, 'set with WRITE permission through the digest works');
is($zkh->get($acl_node), 'baz', '... and get sees the new value');

$stat = $zkh->stat();
is_deeply([ $zkh->get_acl($acl_node, stat => $stat) ], $digest_acl,
          'get_acl by a caller with ADMIN shows the full digest id');
is($stat->{data_len}, 3, 'get_acl with the stat option by an authenticated handle updates the stat object');
SKIP: {
    skip 'the ZooKeeper server does not enforce ACLs', 1 unless $enforced;
    is_deeply([ $other->get_acl($acl_node) ],
              [ $digest_acl->[0], { %{ $digest_acl->[1] }, id => "$USER:x" } ],
              'other handles without ADMIN still see the id redacted');
}

## set_acl with versions (3.12)

my $acl_version = $stat->{acl_version};
is($acl_version, 0, 'the acl_version of a new node is 0');
push @$digest_acl, { perms => (ZOO_PERM_CREATE | ZOO_PERM_DELETE), scheme => 'ip', id => '0.0.0.0' };
is($zkh->set_acl($acl_node, $digest_acl, version => $acl_version), 1, 'set_acl with the matching version returns true');
error_is($zkh, ZOK, '... get_error is ZOK');
is_deeply([ $zkh->get_acl($acl_node, stat => $stat) ], $digest_acl, '... and get_acl returns the new ACL');
is($stat->{acl_version}, $acl_version + 1, '... set_acl increments acl_version');
is($zkh->set_acl($acl_node, ZOO_OPEN_ACL_UNSAFE, version => $acl_version), '', 'set_acl with a stale version returns false');
error_is($zkh, ZBADVERSION, '... get_error is ZBADVERSION and $! empty');
is_deeply([ $zkh->get_acl($acl_node) ], $digest_acl, '... and the ACL is unchanged');
is($zkh->set_acl($acl_node, $digest_acl), 1, 'set_acl without a version sets the ACL whatever its version');
is($zkh->set_acl("$root/NONE", ZOO_OPEN_ACL_UNSAFE), '', 'set_acl of a missing node returns false');
error_is($zkh, ZNONODE, '... get_error is ZNONODE');
is($zkh->set_acl($acl_node, []), '', 'set_acl with an empty ACL returns false');
error_is($zkh, ZINVALIDACL, '... get_error is ZINVALIDACL');

## The ACL governs create and delete of children (as in the original suite)

SKIP: {
    skip 'the ZooKeeper server does not enforce ACLs', 7 unless $enforced;
    my $child = "$acl_node/c1";
    is($zkh->create($child, 'foo', acl => ZOO_OPEN_ACL_UNSAFE), undef,
       'create of a child needs CREATE permission on the parent');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH');
    $digest_acl->[1]{perms} |= ZOO_PERM_CREATE;
    $digest_acl->[2]{perms} &= ~ZOO_PERM_CREATE;
    ok($zkh->set_acl($acl_node, $digest_acl), 'set_acl granting CREATE to the digest user returns true');
    is($zkh->create($child, 'foo', acl => ZOO_OPEN_ACL_UNSAFE), $child, '... after which the child can be created');
    is($zkh->delete($child), '', 'delete of a child needs DELETE permission on the parent');
    error_is($zkh, ZNOAUTH, '... get_error is ZNOAUTH');
    $digest_acl->[1]{perms} |= ZOO_PERM_DELETE;
    pop @$digest_acl;
    $zkh->set_acl($acl_node, $digest_acl);
    is($zkh->delete($child), 1, '... after granting DELETE the child can be deleted');
}

## ZOO_CREATOR_ALL_ACL expands to the session's credentials (9.2)

is($zkh->create("$root/mine", 'x', acl => ZOO_CREATOR_ALL_ACL), "$root/mine",
   'create with ZOO_CREATOR_ALL_ACL works for an authenticated session');
my @mine = $zkh->get_acl("$root/mine");
ok((grep { $_->{scheme} eq 'digest' && $_->{id} eq $USER_ID && $_->{perms} == ZOO_PERM_ALL } @mine),
   '... the node\'s ACL has an ALL entry for the session\'s digest credential')
    or diag(explain(\@mine));
ok(!(grep { $_->{scheme} eq 'auth' } @mine), '... and no "auth" entry (the server expands it)');

## set_acl argument checks, in their order (2.1, 2.3, 3.12, 9.1)

my $ARR = 'Net::ZooKeeper::set_acl: acl_arr is not an ARRAY reference';
croaks(sub { $zkh->set_acl($root) }, 'Usage: Net::ZooKeeper::set_acl(zkh, path, acl_arr, ...)',
       'set_acl without an ACL croaks its usage');
croaks(sub { Net::ZooKeeper::set_acl('foo', $root, 'bar') }, 'zkh is not a hash reference of type Net::ZooKeeper',
       'set_acl checks the handle type before the acl_arr');
croaks(sub { $zkh->set_acl($root, 'foo') }, $ARR, "set_acl croaks \"$ARR\" for a string");
croaks(sub { $zkh->set_acl($root, undef) }, $ARR, '... for undef');
croaks(sub { $zkh->set_acl($root, {}) },    $ARR, '... for a hash reference');
croaks(sub { (bless {}, 'Net::ZooKeeper')->set_acl($root, 'foo') }, $ARR,
       'set_acl checks the acl_arr before the handle\'s validity');
croaks(sub { (bless {}, 'Net::ZooKeeper')->set_acl($root, []) }, 'invalid handle',
       'set_acl on an invalid handle with a valid acl_arr croaks "invalid handle"');
croaks(sub { $zkh->set_acl($root, [ 'foo' ], 'bar') }, 'invalid number of arguments',
       'set_acl checks the option count before the ACL entries');
croaks(sub { $zkh->set_acl($root, [ 'foo' ], version => -1) }, 'invalid ACL entry hash reference',
       'set_acl checks the ACL entries before its options');
croaks(sub { $zkh->set_acl($root, [], version => -1) }, 'invalid version requirement: -1',
       'set_acl croaks for a negative version');
for my $case (grep { ref $_->[0] eq 'ARRAY' } @invalid) {
    my ($acl, $msg, $what) = @$case;
    croaks(sub { $zkh->set_acl($root, $acl) }, $msg, "set_acl croaks \"$msg\" for $what");
}
$zkh->get("$root/NONE");
croaks(sub { $zkh->set_acl($root, [], 'bar') }, 'invalid number of arguments', 'set_acl croaks after a failed call ...');
error_is($zkh, ZOK, '... and the croak leaves get_error() reset to ZOK');
is_deeply([ $zkh->get_acl($root) ], ZOO_OPEN_ACL_UNSAFE, 'set_acl calls that croaked did not change the ACL');

## add_auth with an unknown scheme makes the handle unusable (3.4, 11.2)

{
    my $h = new_handle();
    ok($h->exists($root), 'a fresh handle works');
    my $ret = $h->add_auth('foo', 'bar');
    is($ret, '', 'add_auth with an unknown scheme returns false');
    error_is($h, ZAUTHFAILED, '... get_error is ZAUTHFAILED and $! empty');
    is($h->exists($root), '', 'after a failed add_auth, exists returns false');
    error_is($h, ZINVALIDSTATE, '... get_error is ZINVALIDSTATE (the handle is unusable)');
    is($h->get($root), undef, '... get returns undef');
    error_is($h, ZINVALIDSTATE, '... with ZINVALIDSTATE too');
}

## Cleanup

ok(delete_tree($zkh, $root), 'the authenticated handle deletes the test nodes');

done_testing();
