#!/usr/bin/perl
# The tied-hash interface of Net::ZooKeeper::Watch objects: keys timeout,
# event and state, the writable timeout, warnings, copies and inner/outer
# DESTROY (spec sections 3.14, 5 and 8.1).  No ZooKeeper server is needed.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use Net::ZooKeeper qw(:errors);
use ZKTest::Util qw(croaks warns unused_local_host);

my $CLASS = 'Net::ZooKeeper::Watch';
my @KEYS  = qw(timeout event state);

my $zkh = Net::ZooKeeper->new(unused_local_host());
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

my $watch = $zkh->watch();

## Structure (3.14, 5.1)

is(ref($watch), $CLASS, 'watch() returns a Net::ZooKeeper::Watch');
ok(tied(%$watch), 'a watch object is a tied hash');
is(ref(tied(%$watch)), $CLASS, 'its inner object is a Net::ZooKeeper::Watch too');
{
    my ($w1, $w2) = ($zkh->watch(), $zkh->watch());
    isnt(0 + $w1, 0 + $w2, 'each watch() call returns a new object');
}
is($zkh->{pending_watches}, 0, 'creating watch objects adds no pending watches');

## Keys (5.2)

is_deeply([ keys %$watch ], \@KEYS, 'keys are listed in the documented order');
is(scalar(keys %$watch), 3, 'a watch object has 3 keys');
ok(scalar(%$watch), 'a watch object is true in scalar context');
{
    my @each;
    while (my ($k, $v) = each %$watch) { push @each, $k }
    is_deeply(\@each, \@KEYS, 'each() visits the keys in the documented order');
}
my $inner = tied(%$watch);
is($inner->FIRSTKEY(), 'timeout', 'FIRSTKEY is timeout');
is($inner->NEXTKEY('timeout'), 'event', 'NEXTKEY(timeout) is event');
is($inner->NEXTKEY('EVENT'), 'state', 'NEXTKEY(EVENT) is state (case-insensitive)');
is(scalar($inner->NEXTKEY('state')), undef, 'NEXTKEY after the last key is undef');
is(scalar($inner->NEXTKEY('foo')), undef, 'NEXTKEY of an unknown key is undef');

## Values (3.14, 8.1)

is($watch->{timeout}, 60000, 'timeout defaults to the handle\'s watch_timeout (60000)');
is($watch->{event}, 0, 'event starts at 0');
is($watch->{state}, 0, 'state starts at 0');
is($watch->{TimeOut}, 60000, 'keys are matched case-insensitively');
is($inner->FETCH('STATE'), 0, 'FETCH on the inner object works');
is($zkh->watch(timeout => 50)->{timeout}, 50, 'watch(timeout => 50) sets timeout 50');
is($zkh->watch(TIMEOUT => 70)->{timeout}, 70, 'the watch() option name is case-insensitive');
is($zkh->watch(timeout => -1)->{timeout}, 4294967295, 'the watch() timeout is unsigned 32-bit');
{
    my $v;
    warns(sub { $v = $watch->{foo} }, ['invalid element: foo'], 'reading an unknown key warns invalid element');
    is($v, undef, 'reading an unknown key returns undef');
}

## STORE (5.2, 8.1)

$watch->{timeout} = 100;
is($watch->{timeout}, 100, 'timeout is writable');
$watch->{timeout} = 0;
is($watch->{timeout}, 0, 'timeout accepts 0');
$watch->{timeout} = -1;
is($watch->{timeout}, 4294967295, 'timeout is an unsigned 32-bit value (-1)');
$watch->{timeout} = 2**33 + 5;
is($watch->{timeout}, 5, 'timeout is an unsigned 32-bit value (2**33 + 5)');
$inner->STORE('Timeout', 60000);
is($watch->{timeout}, 60000, 'STORE on the inner object works');
for my $key (qw(event state)) {
    warns(sub { $watch->{$key} = 3 }, ["read-only element: $key"], "storing $key warns read-only element");
    is($watch->{$key}, 0, "storing $key leaves it unchanged");
}
warns(sub { $watch->{Event} = 3 }, ['read-only element: Event'], 'the read-only warning keeps the caller\'s case');
warns(sub { $watch->{foo} = 1 }, ['invalid element: foo'], 'storing an unknown key warns invalid element');
is(scalar(keys %$watch), 3, 'storing an unknown key does not add it');

## EXISTS, DELETE, CLEAR (5.2)

{
    my @missing = grep { !exists $watch->{$_} } @KEYS;
    is_deeply(\@missing, [], 'exists is true for all 3 keys');
    ok(exists $watch->{STATE}, 'exists matches keys case-insensitively');
    ok(!exists $watch->{foo}, 'exists is false for an unknown key');

    my $msg = "deleting elements from hashes of class $CLASS not supported";
    warns(sub { delete $watch->{timeout}; 1 }, [$msg], 'delete warns that deleting is not supported');
    is($watch->{timeout}, 60000, 'delete does not change the value');

    $msg = "clearing hashes of class $CLASS not supported";
    warns(sub { %$watch = () }, [$msg], 'clearing the hash warns that clearing is not supported');
    is(scalar(keys %$watch), 3, 'clearing does not remove keys');
    warns(sub { %$watch = (timeout => 250) }, [$msg], 'assigning a list warns the clear message');
    is($watch->{timeout}, 250, '... and then stores each pair');
    $watch->{timeout} = 60000;
}

## tie and untie (5.2)

croaks(sub { tie my %h, $CLASS }, "tying hashes of class $CLASS not supported", 'tie croaks');
croaks(sub { $CLASS->TIEHASH() }, "tying hashes of class $CLASS not supported", 'TIEHASH croaks');
croaks(sub { untie %$watch }, "untying hashes of class $CLASS not supported", 'untie croaks');
ok(tied(%$watch), 'the watch object stays tied after a failed untie');
is($watch->{timeout}, 60000, 'the watch object still works after a failed untie');

## Tie methods that need state must be called on the inner object (5.1)

croaks(sub { $watch->FETCH('timeout') }, 'invalid handle', 'FETCH on the outer object croaks invalid handle');
croaks(sub { $watch->STORE('timeout', 1) }, 'invalid handle', 'STORE on the outer object croaks invalid handle');
croaks(sub { $watch->EXISTS('timeout') }, 'invalid handle', 'EXISTS on the outer object croaks invalid handle');
croaks(sub { $watch->FIRSTKEY() }, 'invalid handle', 'FIRSTKEY on the outer object croaks invalid handle');
croaks(sub { $watch->NEXTKEY('timeout') }, 'invalid handle', 'NEXTKEY on the outer object croaks invalid handle');

## A watch that was never assigned just times out (3.15)

{
    my $w = $zkh->watch(timeout => 50);
    is(scalar($w->wait(timeout => 0)), '', 'wait(timeout => 0) on an unassigned watch returns false');
    my @r = $w->wait(timeout => 0);
    is_deeply(\@r, [''], 'wait returns (\'\') in list context on timeout');
    is(scalar($w->wait()), '', 'wait() with the object\'s timeout returns false');
    is(scalar($w->wait(TIMEOUT => 1)), '', 'the wait() option name is case-insensitive');
    is($w->{event}, 0, 'event stays 0 after a timed-out wait');
    is($w->{state}, 0, 'state stays 0 after a timed-out wait');
    is($w->{timeout}, 50, 'a wait timeout option does not change the timeout attribute');
}

## Copies (5.3)

{
    my %copy = %$watch;
    is_deeply([ sort keys %copy ], [ sort @KEYS ], 'a content copy has the 3 keys');
    is($copy{timeout}, 60000, 'a content copy holds the values');
    ok(!tied(%copy), 'a content copy is a plain hash');

    my $blessed = bless { %$watch }, $CLASS;
    is(scalar(keys %$blessed), 3, 'a blessed content copy lists its 3 plain keys');
    croaks(sub { $blessed->wait(timeout => 0) }, 'invalid handle', 'wait on a blessed content copy croaks invalid handle');
    croaks(sub { $blessed->FETCH('timeout') }, 'invalid handle', 'FETCH on a blessed content copy croaks invalid handle');
    is(scalar($blessed->DESTROY), '', 'DESTROY on a blessed content copy returns false');
    undef $blessed;
    is($watch->{timeout}, 60000, 'freeing a blessed content copy does not affect the original');
}

## DESTROY on the outer object (5.4)

{
    my $w = $zkh->watch();
    is(scalar($w->DESTROY), 1, 'DESTROY of a watch object returns true');
    ok(!tied(%$w), 'after DESTROY the outer hash is untied');
    is(scalar(keys %$w), 0, 'after DESTROY the outer hash is empty');
    my @warnings;
    {
        local $SIG{__WARN__} = sub { push @warnings, @_ };
        is($w->{timeout}, undef, 'after DESTROY reads give undef');
    }
    is(scalar(@warnings), 0, '... silently');
    croaks(sub { $w->wait(timeout => 0) }, 'invalid handle', 'after DESTROY wait croaks invalid handle');
    croaks(sub { $zkh->exists('bad', watch => $w) }, 'invalid watch handle',
           'a destroyed watch object is rejected as watch option');
    is(scalar($w->DESTROY), '', 'a second DESTROY returns false');

    my $copy = $zkh->watch();
    my $ref  = $copy;
    is(scalar($ref->DESTROY), 1, 'DESTROY through a reference copy returns true');
    is(scalar($copy->DESTROY), '', 'DESTROY through the other reference then returns false');
}

## DESTROY on the inner object (5.4)

{
    my $w = $zkh->watch();
    is(scalar(tied(%$w)->DESTROY), 1, 'DESTROY on the inner object returns true');
    ok(tied(%$w), 'the outer hash stays tied to the dead inner object');
    croaks(sub { my $x = $w->{timeout} }, 'invalid handle', 'reading through a dead inner object croaks invalid handle');
    croaks(sub { $w->{timeout} = 1 }, 'invalid handle', 'storing through a dead inner object croaks invalid handle');
    croaks(sub { $w->wait(timeout => 0) }, 'invalid handle', 'wait croaks invalid handle');
    is(scalar(tied(%$w)->DESTROY), '', 'a second inner DESTROY returns false');
    is(scalar($w->DESTROY), '', 'DESTROY on an outer whose inner is dead returns false');
}

## A watch object outlives its handle (8.4)

{
    my $w = $zkh->watch(timeout => 20);
    ok($zkh->DESTROY, 'DESTROY on the handle returns true');
    is($w->{timeout}, 20, 'a watch object is still readable after its handle is destroyed');
    is($w->{event}, 0, '... its event is still 0');
    is(scalar($w->wait()), '', '... and wait still just times out');
    is(scalar($w->DESTROY), 1, '... and it can still be destroyed');
}

done_testing();
