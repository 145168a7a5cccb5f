#!/usr/bin/perl
# The handle's tied-hash interface: attribute keys, defaults, stores,
# warnings, copies and inner/outer DESTROY (spec sections 3.1, 5, 6).
#
# No ZooKeeper server is needed: handles point at a local port on which
# nothing listens, so they never connect.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Errno ();

use Net::ZooKeeper qw(:errors);
use ZKTest::Util qw(croaks warns warns_like unused_local_host);

my $CLASS = 'Net::ZooKeeper';
my @KEYS  = qw(data_read_len path_read_len watch_timeout hosts session_timeout session_id pending_watches);

my $hosts = unused_local_host();

## new() returns undef for host strings the client cannot use (3.1)

for my $case ([ '', 'an empty host list' ], [ '127.0.0.1', 'a host without port' ],
              [ '127.0.0.1:0', 'port 0' ], [ 'localhost:0', 'localhost with port 0' ]) {
    my ($bad, $what) = @$case;
    $! = 0;
    my $h = Net::ZooKeeper->new($bad);
    my $errno = $! + 0;
    is($h, undef, "new returns undef for $what");
    is($errno, Errno::EINVAL(), "new sets \$! to EINVAL for $what");
}
{
    my @r = Net::ZooKeeper->new('');
    is_deeply(\@r, [undef], 'new returns (undef) in list context on failure');
}

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, $CLASS, 'new() with a host where nothing listens') or BAIL_OUT('cannot create a handle');

## Structure (5.1)

is(ref($zkh), $CLASS, 'the handle is blessed into Net::ZooKeeper');
ok(tied(%$zkh), 'the handle is a tied hash');
is(ref(tied(%$zkh)), $CLASS, 'the inner object is blessed into Net::ZooKeeper too');
isnt(0 + tied(%$zkh), 0 + $zkh, 'the inner object is a different reference');

## Keys (5.2)

is_deeply([ keys %$zkh ], \@KEYS, 'keys are listed in the documented order');
is(scalar(keys %$zkh), 7, 'a handle has 7 keys');
ok(scalar(%$zkh), 'a handle is true in scalar context');
{
    my @each;
    while (my ($k, $v) = each %$zkh) { push @each, $k }
    is_deeply(\@each, \@KEYS, 'each() visits the keys in the documented order');
}
my $inner = tied(%$zkh);
is($inner->FIRSTKEY(), 'data_read_len', 'FIRSTKEY is data_read_len');
for my $i (0 .. $#KEYS - 1) {
    is($inner->NEXTKEY($KEYS[$i]), $KEYS[$i + 1], "NEXTKEY($KEYS[$i]) is $KEYS[$i + 1]");
}
is($inner->NEXTKEY('HOSTS'), 'session_timeout', 'NEXTKEY matches the key case-insensitively');
is(scalar($inner->NEXTKEY('pending_watches')), undef, 'NEXTKEY after the last key is undef');
is(scalar($inner->NEXTKEY('foo')), undef, 'NEXTKEY of an unknown key is undef');
is_deeply([ $inner->NEXTKEY('pending_watches') ], [], 'NEXTKEY after the last key is () in list context');

## Defaults (6)

is($zkh->{data_read_len}, 1023, 'data_read_len defaults to 1023');
is($zkh->{path_read_len}, 1023, 'path_read_len defaults to 1023');
is($zkh->{watch_timeout}, 60000, 'watch_timeout defaults to 60000');
is($zkh->{hosts}, $hosts, 'hosts is the string passed to new');
is($zkh->{session_timeout}, 10000, 'session_timeout defaults to 10000 before connecting');
is($zkh->{session_id}, '', "session_id is '' before connecting");
is($zkh->{pending_watches}, 0, 'pending_watches starts at 0');
is($zkh->{Data_Read_Len}, 1023, 'keys are matched case-insensitively');
is($inner->FETCH('HOSTS'), $hosts, 'FETCH on the inner object works, case-insensitively');

{
    my $h = Net::ZooKeeper->new($hosts, session_timeout => 12345);
    is($h->{session_timeout}, 12345, 'session_timeout is the requested value before connecting');
    $h = Net::ZooKeeper->new($hosts, session_timeout => 5000, SESSION_TIMEOUT => 6000);
    is($h->{session_timeout}, 6000, 'the last of repeated options wins');
    my $sid = join '', map { chr } 1 .. 24;
    $h = Net::ZooKeeper->new($hosts, session_id => $sid);
    is($h->{session_id}, $sid, 'a requested session_id is reported before connecting');
    $h = Net::ZooKeeper->new($hosts, session_id => "\0" x 24);
    is($h->{session_id}, '', "an all-zero requested session_id reads as ''");
    my $chroot = "$hosts/some/chroot";
    $h = Net::ZooKeeper->new($chroot);
    ok($h, 'new accepts a host list with a chroot suffix');
    is($h ? $h->{hosts} : undef, $chroot, 'hosts includes the chroot suffix');
}

{
    my $v;
    warns(sub { $v = $zkh->{foo} }, ['invalid element: foo'], 'reading an unknown key warns invalid element');
    is($v, undef, 'reading an unknown key returns undef');
    warns(sub { $v = $inner->FETCH('Foo') }, ['invalid element: Foo'], 'FETCH of an unknown key keeps the caller\'s case');
}

## STORE (5.2, 6)

{
    $zkh->{data_read_len} = 200;
    is($zkh->{data_read_len}, 200, 'data_read_len is writable');
    $zkh->{data_read_len} = 0;
    is($zkh->{data_read_len}, 0, 'data_read_len accepts 0');
    croaks(sub { $zkh->{data_read_len} = -1 }, 'invalid data read length: -1', 'data_read_len rejects -1');
    croaks(sub { $zkh->{data_read_len} = 2**31 }, 'invalid data read length: -2147483648',
           'data_read_len is converted to a C int before the check');
    is($zkh->{data_read_len}, 0, 'a rejected data_read_len leaves the value unchanged');
    $zkh->{DATA_READ_LEN} = 1023;
    is($zkh->{data_read_len}, 1023, 'stores match keys case-insensitively');

    warns_like(sub { $zkh->{data_read_len} = 'abc' }, qr/isn't numeric/,
               'a non-numeric data_read_len warns like any numeric conversion');
    is($zkh->{data_read_len}, 0, '... and is stored as 0');
    warns_like(sub { $zkh->{data_read_len} = undef }, qr/uninitialized/,
               'an undef data_read_len warns about an uninitialized value');
    is($zkh->{data_read_len}, 0, '... and is stored as 0');
    $zkh->{data_read_len} = 1023;

    $zkh->{path_read_len} = 1;
    is($zkh->{path_read_len}, 1, 'path_read_len accepts 1');
    $zkh->{path_read_len} = 0;
    is($zkh->{path_read_len}, 0, 'path_read_len accepts 0');
    croaks(sub { $zkh->{path_read_len} = -2 }, 'invalid path read length: -2', 'path_read_len rejects -2');
    is($zkh->{path_read_len}, 0, 'a rejected path_read_len leaves the value unchanged');
    $zkh->{path_read_len} = 1023;

    $zkh->{watch_timeout} = 0;
    is($zkh->{watch_timeout}, 0, 'watch_timeout accepts 0');
    $zkh->{watch_timeout} = -1;
    is($zkh->{watch_timeout}, 4294967295, 'watch_timeout is an unsigned 32-bit value (-1)');
    $zkh->{watch_timeout} = 2**33 + 5;
    is($zkh->{watch_timeout}, 5, 'watch_timeout is an unsigned 32-bit value (2**33 + 5)');
    $inner->STORE('Watch_Timeout', 60000);
    is($zkh->{watch_timeout}, 60000, 'STORE on the inner object works');

    my %before = map { $_ => $zkh->{$_} } @KEYS;
    for my $key (qw(hosts session_timeout session_id pending_watches)) {
        warns(sub { $zkh->{$key} = 'foo' }, ["read-only element: $key"], "storing $key warns read-only element");
        is($zkh->{$key}, $before{$key}, "storing $key leaves it unchanged");
    }
    warns(sub { $zkh->{Hosts} = 'foo' }, ['read-only element: Hosts'], 'the read-only warning keeps the caller\'s case');
    warns(sub { $zkh->{foo} = 'bar' }, ['invalid element: foo'], 'storing an unknown key warns invalid element');
    is(scalar(keys %$zkh), 7, 'storing an unknown key does not add it');
}

## EXISTS, DELETE, CLEAR (5.2)

{
    my @missing = grep { !exists $zkh->{$_} } @KEYS;
    is_deeply(\@missing, [], 'exists is true for all 7 keys');
    ok(exists $zkh->{SESSION_ID}, 'exists matches keys case-insensitively');
    ok(!exists $zkh->{foo}, 'exists is false for an unknown key');
    ok($inner->EXISTS('hosts'), 'EXISTS on the inner object works');

    my $msg = "deleting elements from hashes of class $CLASS not supported";
    warns(sub { delete $zkh->{hosts}; 1 }, [$msg], 'delete warns that deleting is not supported');
    ok(exists $zkh->{hosts}, 'delete does not remove the key');
    is($zkh->{hosts}, $hosts, 'delete does not change the value');
    warns(sub { delete $zkh->{foo}; 1 }, [$msg], 'deleting an unknown key warns the same');
    warns(sub { $zkh->DELETE('hosts'); 1 }, [$msg], 'DELETE on the outer object warns too (it needs no state)');
    my @r;
    warns(sub { @r = $inner->DELETE('hosts') }, [$msg], 'DELETE on the inner object warns');
    is_deeply(\@r, [], 'DELETE returns nothing');

    $msg = "clearing hashes of class $CLASS not supported";
    warns(sub { %$zkh = () }, [$msg], 'clearing the hash warns that clearing is not supported');
    is(scalar(keys %$zkh), 7, 'clearing does not remove keys');
    is($zkh->{hosts}, $hosts, 'clearing does not change values');
    warns(sub { %$zkh = (watch_timeout => 1234) }, [$msg], 'assigning a list warns the clear message');
    is($zkh->{watch_timeout}, 1234, '... and then stores each pair');
    $zkh->{watch_timeout} = 60000;
    warns(sub { $zkh->CLEAR() }, [$msg], 'CLEAR on the outer object warns too (it needs no state)');
}

## tie and untie (5.2)

croaks(sub { tie my %h, $CLASS }, "tying hashes of class $CLASS not supported", 'tie croaks');
croaks(sub { $CLASS->TIEHASH() }, "tying hashes of class $CLASS not supported", 'TIEHASH croaks');
croaks(sub { $CLASS->TIEHASH(foo => 1) }, "tying hashes of class $CLASS not supported", 'TIEHASH with options croaks');
croaks(sub { untie %$zkh }, "untying hashes of class $CLASS not supported", 'untie croaks');
ok(tied(%$zkh), 'the handle stays tied after a failed untie');
is($zkh->{hosts}, $hosts, 'the handle still works after a failed untie');
croaks(sub { $inner->UNTIE(0) }, "untying hashes of class $CLASS not supported", 'UNTIE on the inner object croaks');
croaks(sub { $zkh->UNTIE(0) }, "untying hashes of class $CLASS not supported", 'UNTIE on the outer object croaks');

## Tie methods that need state must be called on the inner object (5.1)

croaks(sub { $zkh->FETCH('hosts') }, 'invalid handle', 'FETCH on the outer object croaks invalid handle');
croaks(sub { $zkh->STORE('watch_timeout', 1) }, 'invalid handle', 'STORE on the outer object croaks invalid handle');
croaks(sub { $zkh->EXISTS('hosts') }, 'invalid handle', 'EXISTS on the outer object croaks invalid handle');
croaks(sub { $zkh->FIRSTKEY() }, 'invalid handle', 'FIRSTKEY on the outer object croaks invalid handle');
croaks(sub { $zkh->NEXTKEY('hosts') }, 'invalid handle', 'NEXTKEY on the outer object croaks invalid handle');
ok($zkh->SCALAR(), 'SCALAR on the outer object is true');
croaks(sub { $inner->exists('/') }, 'invalid handle', 'ordinary methods on the inner object croak invalid handle');

## get_error is not touched by attribute access (2.6)

{
    $zkh->exists('bad');
    is($zkh->get_error(), ZBADARGUMENTS, 'a rejected path leaves ZBADARGUMENTS');
    my @vals = map { $zkh->{$_} } @KEYS;
    $zkh->{data_read_len} = 10;
    $zkh->{data_read_len} = 1023;
    is($zkh->get_error(), ZBADARGUMENTS, 'attribute reads and writes leave the error untouched');
}

## Copies (5.3)

{
    my %copy = %$zkh;
    is_deeply([ sort keys %copy ], [ sort @KEYS ], 'a content copy has the 7 keys');
    ok(!tied(%copy), 'a content copy is a plain hash');
    is($copy{hosts}, $hosts, 'a content copy holds the values');
    is($copy{data_read_len}, 1023, 'a content copy holds data_read_len');
    $copy{data_read_len} = 5;
    is($zkh->{data_read_len}, 1023, 'changing a content copy does not change the handle');

    my $blessed = bless { %$zkh }, $CLASS;
    is(scalar(keys %$blessed), 7, 'a blessed content copy lists its 7 plain keys');
    croaks(sub { $blessed->exists('/') }, 'invalid handle', 'methods on a blessed content copy croak invalid handle');
    croaks(sub { $blessed->FETCH('hosts') }, 'invalid handle', 'FETCH on a blessed content copy croaks invalid handle');
    is(scalar($blessed->DESTROY), '', 'DESTROY on a blessed content copy returns false');
    undef $blessed;
    is($zkh->{hosts}, $hosts, 'freeing a blessed content copy does not affect the handle');

    my $ref = $zkh;
    undef $ref;
    is($zkh->{hosts}, $hosts, 'undef of one reference does not destroy the handle');
}

## DESTROY on the outer object (5.4)

{
    my $h = Net::ZooKeeper->new($hosts);
    my $w;
    {
        local $SIG{__WARN__} = sub { $w = $_[0] };
        $h->DESTROY;                       # void context
    }
    is($w, undef, 'DESTROY in void context emits nothing');
    ok(!tied(%$h), 'after DESTROY the outer hash is untied');
    is(scalar(keys %$h), 0, 'after DESTROY the outer hash is empty');
    {
        my @warnings;
        local $SIG{__WARN__} = sub { push @warnings, @_ };
        is($h->{hosts}, undef, 'after DESTROY reads give undef');
        is(scalar(@warnings), 0, '... silently');
    }
    $h->{foo} = 'bar';
    is($h->{foo}, 'bar', 'after DESTROY stores go into the plain hash');
    croaks(sub { $h->exists('/') }, 'invalid handle', 'after DESTROY methods croak invalid handle');
    is(scalar($h->DESTROY), '', 'a second DESTROY returns false');

    $h = Net::ZooKeeper->new($hosts);
    my $r = $h->DESTROY;
    is($r, 1, 'DESTROY of a live handle returns true');
    my @r = $h->DESTROY;
    is_deeply(\@r, [''], 'DESTROY of a destroyed handle returns (\'\') in list context');
}

## DESTROY on the inner object (5.4)

{
    my $h = Net::ZooKeeper->new($hosts);
    is(scalar(tied(%$h)->DESTROY), 1, 'DESTROY on the inner object returns true');
    ok(tied(%$h), 'the outer hash stays tied to the dead inner object');
    croaks(sub { my $x = $h->{hosts} }, 'invalid handle', 'reading through a dead inner object croaks invalid handle');
    croaks(sub { $h->{watch_timeout} = 1 }, 'invalid handle', 'storing through a dead inner object croaks invalid handle');
    croaks(sub { my @k = keys %$h }, 'invalid handle', 'keys through a dead inner object croaks invalid handle');
    croaks(sub { my $x = exists $h->{hosts} }, 'invalid handle', 'exists through a dead inner object croaks invalid handle');
    croaks(sub { $h->exists('/') }, 'invalid handle', 'methods on the outer object croak invalid handle');
    is(scalar(tied(%$h)->DESTROY), '', 'a second inner DESTROY returns false');
    is(scalar($h->DESTROY), '', 'DESTROY on an outer whose inner is dead returns false');
    ok(tied(%$h), '... and leaves the outer hash as it is');
}

ok($zkh->DESTROY, 'DESTROY on the test handle returns true');

done_testing();
