#!/usr/bin/perl
# Reblessing and subclassing (spec section 5.5): a handle reblessed into an
# unrelated class keeps its tied hash; a subclass of Net::ZooKeeper works
# fully and may override methods and call SUPER::; stat and watch objects
# reblessed into subclasses are accepted as options.
#
# The first part needs no server; the second part uses the test server.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(croaks warns unused_local_host delete_tree);
use Net::ZooKeeper qw(:errors :node_flags :acls);

$SIG{PIPE} = 'IGNORE';

package My::Unrelated;      # no relation to Net::ZooKeeper at all

package My::Stat;
our @ISA = ('Net::ZooKeeper::Stat');

package My::Watch;
our @ISA = ('Net::ZooKeeper::Watch');

package My::ZooKeeper;
our @ISA = ('Net::ZooKeeper');
our %calls;

# Nodes get an open ACL unless the caller says otherwise.
sub create {
    my ($self, $path, $data, @opts) = @_;
    $calls{create}++;
    return $self->SUPER::create($path, $data, acl => Net::ZooKeeper::ZOO_OPEN_ACL_UNSAFE(), @opts);
}

sub stat {
    my $self = shift;
    $calls{stat}++;
    return bless $self->SUPER::stat(@_), 'My::Stat';
}

sub watch {
    my $self = shift;
    $calls{watch}++;
    return bless $self->SUPER::watch(@_), 'My::Watch';
}

sub first_child {
    my ($self, $path) = @_;
    my @children = $self->get_children($path);
    return (sort @children)[0];
}

package main;

my $nowhere = unused_local_host();

## Reblessing into an unrelated class

{
    my $zkh = Net::ZooKeeper->new($nowhere);
    bless $zkh, 'My::Unrelated';
    is(ref($zkh), 'My::Unrelated', 'the outer object can be reblessed into an unrelated class');
    is(ref(tied(%$zkh)), 'Net::ZooKeeper', '... its inner object keeps its class');
    is($zkh->{data_read_len}, 1023, '... hash access still works');
    $zkh->{watch_timeout} = 500;
    is($zkh->{watch_timeout}, 500, '... stores still work');
    is(scalar(keys %$zkh), 7, '... keys still lists the 7 attributes');
    warns(sub { delete $zkh->{hosts}; 1 }, ['deleting elements from hashes of class Net::ZooKeeper not supported'],
          '... delete warns with the base class name');
    croaks(sub { untie %$zkh }, 'untying hashes of class Net::ZooKeeper not supported',
           '... untie croaks with the base class name');
    ok(!eval { $zkh->EXISTS('hosts'); 1 }, '... methods resolve in the new class');
    like($@, qr/^Can't locate object method "EXISTS" via package "My::Unrelated"/, '... with Perl\'s usual error');
    croaks(sub { Net::ZooKeeper::exists($zkh, '/') }, 'zkh is not a hash reference of type Net::ZooKeeper',
           '... it is no longer accepted as a handle');
    is(scalar(tied(%$zkh)->DESTROY), 1, '... DESTROY on its inner object returns true');
    is(scalar(tied(%$zkh)->DESTROY), '', '... and false the second time');
}

## A subclass of Net::ZooKeeper

{
    my $sub = My::ZooKeeper->new($nowhere);
    isa_ok($sub, 'Net::ZooKeeper', 'My::ZooKeeper->new');
    is(ref($sub), 'My::ZooKeeper', 'the handle is blessed into the subclass');
    is(ref(tied(%$sub)), 'My::ZooKeeper', 'its inner object is blessed into the subclass too');
    is($sub->{hosts}, $nowhere, 'attributes work on a subclass handle');
    is_deeply([ keys %$sub ], [qw(data_read_len path_read_len watch_timeout hosts session_timeout session_id pending_watches)],
              'a subclass handle has the same keys in the same order');
    warns(sub { my $x = $sub->{foo} }, ['invalid element: foo'], 'reading an unknown key warns invalid element');
    warns(sub { delete $sub->{hosts}; 1 }, ['deleting elements from hashes of class Net::ZooKeeper not supported'],
          'warnings name the base class, not the subclass');
    warns(sub { %$sub = () }, ['clearing hashes of class Net::ZooKeeper not supported'],
          'the clear warning names the base class');
    croaks(sub { untie %$sub }, 'untying hashes of class Net::ZooKeeper not supported',
           'untie croaks with the base class name');
    croaks(sub { tie my %h, 'My::ZooKeeper' }, 'tying hashes of class Net::ZooKeeper not supported',
           'tie with the subclass croaks with the base class name');

    is(scalar($sub->exists('bad')), '', 'inherited methods work on a subclass handle');
    is($sub->get_error(), ZBADARGUMENTS, '... and set its error');

    my $stat = $sub->stat();
    is(ref($stat), 'My::Stat', 'an overridden stat() can rebless the stat object');
    is(ref(tied(%$stat)), 'Net::ZooKeeper::Stat', '... the inner stat object keeps the base class');
    is($stat->{version}, 0, '... and the reblessed stat object works');
    warns(sub { delete $stat->{version}; 1 }, ['deleting elements from hashes of class Net::ZooKeeper::Stat not supported'],
          '... its warnings name the base Stat class');
    is(ref(Net::ZooKeeper::stat($sub)), 'Net::ZooKeeper::Stat', 'the base stat() always returns a Net::ZooKeeper::Stat');

    $sub->{watch_timeout} = 50;
    my $watch = $sub->watch();
    is(ref($watch), 'My::Watch', 'an overridden watch() can rebless the watch object');
    is(ref(tied(%$watch)), 'Net::ZooKeeper::Watch', '... the inner watch object keeps the base class');
    is($watch->{timeout}, 50, '... and it inherits the subclass handle\'s watch_timeout');
    is(ref(Net::ZooKeeper::watch($sub)), 'Net::ZooKeeper::Watch', 'the base watch() always returns a Net::ZooKeeper::Watch');
    is(scalar($watch->wait()), '', 'wait on a reblessed watch object with timeout 50 returns false');
    is(scalar($watch->wait(timeout => 50)), '', 'wait(timeout => 50) on it returns false too');

    is(scalar($sub->DESTROY), 1, 'DESTROY on a subclass handle returns true');
    is(scalar($sub->DESTROY), '', '... and false the second time');
    is($stat->{version}, 0, 'the reblessed stat object outlives the handle');
    is(scalar($stat->DESTROY), 1, '... and DESTROY on it returns true');
    is(scalar($watch->DESTROY), 1, 'DESTROY on the reblessed watch object returns true');
}

## With a server

SKIP: {
    my $hosts = ZKTest::require_server(20);
    my $root  = ZKTest::test_root();
    %My::ZooKeeper::calls = ();

    my $sub = My::ZooKeeper->new($hosts);
    isa_ok($sub, 'My::ZooKeeper', 'My::ZooKeeper->new with the test server');
    is($sub->create($root, 'class'), $root, 'an overridden create calls SUPER::create (here with a default ACL)');
    is($My::ZooKeeper::calls{create}, 1, '... through the override');
    is($sub->create("$root/b", 'bee'), "$root/b", 'a second node through the override');
    is($sub->create("$root/a", 'ay'), "$root/a", 'a third node through the override');
    is($sub->first_child($root), 'a', 'a subclass method built on get_children works');

    my $stat = $sub->stat();
    ok($sub->exists("$root/a", stat => $stat), 'exists accepts a stat object reblessed into a subclass');
    is($stat->{data_len}, 2, '... and updates it');
    is($sub->get("$root/b", stat => $stat), 'bee', 'get accepts the reblessed stat object');
    is($stat->{data_len}, 3, '... and updates it');
    ok($sub->set("$root/b", 'bees', stat => $stat), 'set accepts the reblessed stat object');
    is($stat->{version}, 1, '... and updates it');
    is($My::ZooKeeper::calls{stat}, 1, 'stat went through the override');

    my $watch = $sub->watch(timeout => 50);
    ok($sub->exists("$root/a", watch => $watch), 'exists accepts a watch object reblessed into a subclass');
    is(scalar($watch->wait()), '', '... nothing happens to the node, so wait with timeout 50 returns false');
    is($watch->{event}, 0, '... and event stays 0');
    is($My::ZooKeeper::calls{watch}, 1, 'watch went through the override');

    # A reblessed handle is still closed when its last reference goes away.
    my $plain = Net::ZooKeeper->new($hosts);
    $plain->create("$root/eph", '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
    ok($sub->exists("$root/eph"), 'an ephemeral node of another handle exists');
    bless $plain, 'My::Unrelated';
    undef $plain;
    is(scalar($sub->exists("$root/eph")), '', 'freeing a reblessed handle closes its session (ephemeral node gone)');

    ok(delete_tree($sub, $root), 'delete the test nodes through the subclass handle');
}

done_testing();
