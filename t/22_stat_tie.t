#!/usr/bin/perl
# The tied-hash interface of Net::ZooKeeper::Stat objects: 11 read-only
# keys, all zero when new, warnings, copies and inner/outer DESTROY
# (spec sections 3.13, 5 and 7).  No ZooKeeper server is needed.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use Net::ZooKeeper qw(:errors);
use ZKTest::Util qw(croaks warns unused_local_host);

my $CLASS = 'Net::ZooKeeper::Stat';
my @KEYS  = qw(czxid mzxid ctime mtime version children_version acl_version
               ephemeral_owner data_len num_children children_zxid);

my $zkh = Net::ZooKeeper->new(unused_local_host());
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

my $stat = $zkh->stat();

## Structure (3.13, 5.1)

is(ref($stat), $CLASS, 'stat() returns a Net::ZooKeeper::Stat');
ok(tied(%$stat), 'a stat object is a tied hash');
is(ref(tied(%$stat)), $CLASS, 'its inner object is a Net::ZooKeeper::Stat too');
{
    my ($s1, $s2) = ($zkh->stat(), $zkh->stat());
    isnt(0 + $s1, 0 + $s2, 'each stat() call returns a new object');
}

## Keys (5.2)

is_deeply([ keys %$stat ], \@KEYS, 'keys are listed in the documented order');
is(scalar(keys %$stat), 11, 'a stat object has 11 keys');
ok(scalar(%$stat), 'a stat object is true in scalar context');
{
    my @each;
    while (my ($k, $v) = each %$stat) { push @each, $k }
    is_deeply(\@each, \@KEYS, 'each() visits the keys in the documented order');
}
my $inner = tied(%$stat);
is($inner->FIRSTKEY(), 'czxid', 'FIRSTKEY is czxid');
for my $i (0 .. $#KEYS - 1) {
    is($inner->NEXTKEY($KEYS[$i]), $KEYS[$i + 1], "NEXTKEY($KEYS[$i]) is $KEYS[$i + 1]");
}
is($inner->NEXTKEY('ACL_VERSION'), 'ephemeral_owner', 'NEXTKEY matches the key case-insensitively');
is(scalar($inner->NEXTKEY('children_zxid')), undef, 'NEXTKEY after the last key is undef');
is(scalar($inner->NEXTKEY('foo')), undef, 'NEXTKEY of an unknown key is undef');

## Values (7)

for my $key (@KEYS) {
    is($stat->{$key}, 0, "a new stat object has $key 0");
}
is($stat->{Data_Len}, 0, 'keys are matched case-insensitively');
is($inner->FETCH('VERSION'), 0, 'FETCH on the inner object works');
{
    my $v;
    warns(sub { $v = $stat->{foo} }, ['invalid element: foo'], 'reading an unknown key warns invalid element');
    is($v, undef, 'reading an unknown key returns undef');
}

## All keys are read-only (5.2, 7)

for my $key (@KEYS) {
    warns(sub { $stat->{$key} = 42 }, ["read-only element: $key"], "storing $key warns read-only element");
    is($stat->{$key}, 0, "storing $key leaves it unchanged");
}
warns(sub { $stat->{NUM_CHILDREN} = 1 }, ['read-only element: NUM_CHILDREN'], 'the read-only warning keeps the caller\'s case');
warns(sub { $stat->{foo} = 1 }, ['invalid element: foo'], 'storing an unknown key warns invalid element');
is(scalar(keys %$stat), 11, 'storing an unknown key does not add it');
warns(sub { $inner->STORE('version', 1) }, ['read-only element: version'], 'STORE on the inner object warns too');

## EXISTS, DELETE, CLEAR (5.2)

{
    my @missing = grep { !exists $stat->{$_} } @KEYS;
    is_deeply(\@missing, [], 'exists is true for all 11 keys');
    ok(exists $stat->{MZXID}, 'exists matches keys case-insensitively');
    ok(!exists $stat->{foo}, 'exists is false for an unknown key');

    my $msg = "deleting elements from hashes of class $CLASS not supported";
    warns(sub { delete $stat->{czxid}; 1 }, [$msg], 'delete warns that deleting is not supported');
    ok(exists $stat->{czxid}, 'delete does not remove the key');

    $msg = "clearing hashes of class $CLASS not supported";
    warns(sub { %$stat = () }, [$msg], 'clearing the hash warns that clearing is not supported');
    is(scalar(keys %$stat), 11, 'clearing does not remove keys');
    warns(sub { %$stat = (version => 3) }, [ $msg, 'read-only element: version' ],
          'assigning a list warns the clear message, then read-only for each pair');
    is($stat->{version}, 0, '... and changes nothing');
}

## tie and untie (5.2)

croaks(sub { tie my %h, $CLASS }, "tying hashes of class $CLASS not supported", 'tie croaks');
croaks(sub { $CLASS->TIEHASH() }, "tying hashes of class $CLASS not supported", 'TIEHASH croaks');
croaks(sub { untie %$stat }, "untying hashes of class $CLASS not supported", 'untie croaks');
ok(tied(%$stat), 'the stat object stays tied after a failed untie');
is($stat->{czxid}, 0, 'the stat object still works after a failed untie');

## Tie methods that need state must be called on the inner object (5.1)

croaks(sub { $stat->FETCH('czxid') }, 'invalid handle', 'FETCH on the outer object croaks invalid handle');
croaks(sub { $stat->STORE('czxid', 1) }, 'invalid handle', 'STORE on the outer object croaks invalid handle');
croaks(sub { $stat->EXISTS('czxid') }, 'invalid handle', 'EXISTS on the outer object croaks invalid handle');
croaks(sub { $stat->FIRSTKEY() }, 'invalid handle', 'FIRSTKEY on the outer object croaks invalid handle');
croaks(sub { $stat->NEXTKEY('czxid') }, 'invalid handle', 'NEXTKEY on the outer object croaks invalid handle');

## stat() resets the handle's error (3.13)

$zkh->exists('bad');
is($zkh->get_error(), ZBADARGUMENTS, 'a rejected path leaves ZBADARGUMENTS');
$zkh->stat();
is($zkh->get_error(), ZOK, 'stat() resets the error to ZOK');

## Copies (5.3)

{
    my %copy = %$stat;
    is_deeply([ sort keys %copy ], [ sort @KEYS ], 'a content copy has the 11 keys');
    is_deeply([ grep { $copy{$_} != 0 } @KEYS ], [], 'a content copy holds the values');
    ok(!tied(%copy), 'a content copy is a plain hash');

    my $blessed = bless { %$stat }, $CLASS;
    is(scalar(keys %$blessed), 11, 'a blessed content copy lists its 11 plain keys');
    croaks(sub { $blessed->FETCH('czxid') }, 'invalid handle', 'FETCH on a blessed content copy croaks invalid handle');
    is(scalar($blessed->DESTROY), '', 'DESTROY on a blessed content copy returns false');
    undef $blessed;
    is($stat->{czxid}, 0, 'freeing a blessed content copy does not affect the original');

    my $ref = $stat;
    is(scalar($ref->DESTROY), 1, 'DESTROY through a reference copy returns true');
    ok(!tied(%$stat), '... and destroys the shared object');
    is(scalar($stat->DESTROY), '', 'DESTROY through the other reference then returns false');
}

## DESTROY on the outer object (5.4)

{
    my $s = $zkh->stat();
    is(scalar($s->DESTROY), 1, 'DESTROY of a stat object returns true');
    ok(!tied(%$s), 'after DESTROY the outer hash is untied');
    is(scalar(keys %$s), 0, 'after DESTROY the outer hash is empty');
    my @warnings;
    {
        local $SIG{__WARN__} = sub { push @warnings, @_ };
        is($s->{czxid}, undef, 'after DESTROY reads give undef');
    }
    is(scalar(@warnings), 0, '... silently');
    croaks(sub { $zkh->exists('bad', stat => $s) }, 'invalid stat handle',
           'a destroyed stat object is rejected as stat option');
    is(scalar($s->DESTROY), '', 'a second DESTROY returns false');
}

## DESTROY on the inner object (5.4)

{
    my $s = $zkh->stat();
    is(scalar(tied(%$s)->DESTROY), 1, 'DESTROY on the inner object returns true');
    ok(tied(%$s), 'the outer hash stays tied to the dead inner object');
    croaks(sub { my $x = $s->{czxid} }, 'invalid handle', 'reading through a dead inner object croaks invalid handle');
    croaks(sub { my @k = keys %$s }, 'invalid handle', 'keys through a dead inner object croaks invalid handle');
    croaks(sub { $zkh->exists('bad', stat => $s) }, 'invalid stat handle',
           'a stat object with a dead inner is rejected as stat option');
    is(scalar(tied(%$s)->DESTROY), '', 'a second inner DESTROY returns false');
    is(scalar($s->DESTROY), '', 'DESTROY on an outer whose inner is dead returns false');
}

## A stat object does not depend on its handle (3.13)

{
    my $s = $zkh->stat();
    ok($zkh->DESTROY, 'DESTROY on the handle returns true');
    is($s->{version}, 0, 'a stat object is still readable after its handle is destroyed');
    is(scalar(keys %$s), 11, '... and still has its 11 keys');
    is(scalar($s->DESTROY), 1, '... and can still be destroyed');
}

done_testing();
