#!/usr/bin/perl
# Calls of ZooKeeper 3.5 and later that need an ensemble: sync makes another
# member's write visible, get_config returns the ensemble's configuration, and a
# read-only session (new(..., read_only => 1)) is served by a member cut off from
# its quorum: reads work, writes fail with ZNOTREADONLY, the state is
# ZOO_READONLY_STATE, while a handle without read_only gets no session there.
#
# A private 3-member ensemble started with -Dreadonlymode.enabled=true and
# localSessionsEnabled=true (read-only sessions are local sessions since 3.6).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(error_is);
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :errors_ext :acls :states :states_ext);

$SIG{PIPE} = 'IGNORE';

my $ens = ZKTest::Ensemble->start_or_skip(
    size     => 3,
    jvm_opts => ['-Dreadonlymode.enabled=true'],
    config   => { localSessionsEnabled => 'true' },
);

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 60, 0.05) }

my ($m1, $m2, $m3) = map { $ens->member_hosts($_) } 1 .. 3;

## sync: a write through member 1, read through member 2 after sync

Net::ZooKeeper::set_deterministic_conn_order(1);
my $writer = Net::ZooKeeper->new($m1);
my $reader = Net::ZooKeeper->new($m2);
ok($writer->exists('/') && $reader->exists('/'), 'handles on members 1 and 2');
for my $i (1 .. 20) {
    $writer->create("/synced-$i", "v$i", acl => ZOO_OPEN_ACL_UNSAFE) or last;
}
ok($reader->sync('/'), 'sync through member 2');
error_is($reader, ZOK, '... ZOK');
is($reader->get('/synced-20'), 'v20', "... after which member 2 serves member 1's last write");

## get_config

my $config = $reader->get_config;
ok(defined $config, 'get_config returns the configuration');
for my $i (1 .. 3) {
    like($config // '', qr/^server\.$i=127\.0\.0\.1:\d+:\d+/m, "... with member $i");
}

## read-only: members 2 and 3 stopped, member 1 serves reads only

ok($writer->create('/ro', 'before', acl => ZOO_OPEN_ACL_UNSAFE), 'a node written while the quorum stands');
$writer->DESTROY;
$reader->DESTROY;
ok($ens->stop_member(2) && $ens->stop_member(3), 'members 2 and 3 stopped: member 1 has no quorum');

my $ro = Net::ZooKeeper->new($m1, read_only => 1, session_timeout => 10_000);
ok(eventually(sub { defined $ro->get('/ro') }), 'a read_only handle gets a session from member 1')
    or diag('get_error ' . $ro->get_error);
is($ro->state, ZOO_READONLY_STATE, '... in ZOO_READONLY_STATE');
is($ro->get('/ro'), 'before', '... and reads the data');
ok(!$ro->set('/ro', 'after'), '... but cannot write');
error_is($ro, ZNOTREADONLY, '... ZNOTREADONLY');

my $rw = Net::ZooKeeper->new($m1, session_timeout => 4000);
ok(!$rw->exists('/ro'), 'a handle without read_only gets no session from a read-only member');
isnt($rw->get_error, ZOK, '... (get_error ' . $rw->get_error . ')');
isnt($rw->state, ZOO_READONLY_STATE, '... and is not read-only');

Net::ZooKeeper::set_deterministic_conn_order(0);
done_testing();
