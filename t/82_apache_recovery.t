#!/usr/bin/perl
# Apache2::ZooKeeper under a real httpd (prefork, a single child so that every
# request reaches the same process): a failed connection is reported and then
# replaced without restarting httpd (Apache2::ZooKeeper's POD, "FUNCTIONS":
# error(), acquire(), tryacquire(), release(); mod_zookeeper's ap_zk_error and
# ap_zk_tryacquire).
#
#  - error(ZCONNECTIONLOSS) marks the connection failed and returns
#    ECONNABORTED; tryacquire() returns EBUSY while the failed connection is
#    still held; after release, acquire() makes a new connection (a new session,
#    generation + 1).
#  - A handler that dies while holding the connection does not block later
#    requests (its lock is released when $zk is destroyed).
#  - A watch set through the shared connection in one request can be waited on
#    in a later request and sees a node change; once the connection is replaced
#    it reports ZOO_SESSION_EVENT with ZOO_EXPIRED_SESSION_STATE instead of
#    waiting for nothing.
#  - The ZooKeeper server is stopped (requests report a connection error and
#    error() returns ECONNABORTED) and a new, empty one is started on the same
#    port: later requests succeed again, with a new session and a higher
#    generation, served by the same httpd child.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Httpd;
use ZKTest::Server;
use ZKTest::Util qw(wait_until);
use Net::ZooKeeper qw(:errors :acls :events :states);

use constant {
    SUCCESS      => 0,
    EBUSY        => 70025,
    ECONNABORTED => 103,
    EINVAL       => 22,
};

ZKTest::Httpd->require_httpd('prefork');

# A private server: this test stops it and replaces it with an empty one.
my $zk = eval { ZKTest::Server->start };
unless ($zk) {
    my $why = 'no ZooKeeper server can be run here: ' . ($@ || $ZKTest::Server::ERROR || 'unknown');
    $why =~ s/\s+\z//;
    if (ZKTest::server_required()) {
        plan tests => 1;
        fail('a private ZooKeeper server can be started (required: CI or ZK_TEST_REQUIRE is set)');
        diag($why);
        exit 1;
    }
    plan skip_all => $why;
}
my $hosts = $zk->hosts;
my $port  = $zk->port;
my $root  = "/_zk82_recovery_$$";

my $httpd = ZKTest::Httpd->start(
    mpm        => 'prefork',
    mpm_config => { StartServers => 1, MinSpareServers => 1, MaxSpareServers => 1,
                    ServerLimit => 1, MaxRequestWorkers => 1 },
    config     => [ "ZKCluster main $hosts 2000" ],
);
note('httpd pid ', $httpd->pid, ' on ', $httpd->url('/'), "; ZooKeeper $hosts");

sub req { return scalar $httpd->rows(@_) }

# Polls (bounded) a request until $done->($row) is true; returns the last row.
sub poll {
    my ($path, $seconds, $done) = @_;
    my $row;
    wait_until(sub { $done->($row = req($path)) }, $seconds, 0.2);
    return $row;
}

## a working connection

my $first = req('/zk/session?cluster=main');
is($first->{rc}, SUCCESS, 'acquire succeeds') or diag(explain($first));
is($first->{exists}, 1, 'exists("/") through the shared handle succeeds');
my $child = $first->{pid};
ok($child, "the single httpd child is " . ($child // '?'));
unless (($first->{rc} // '') eq SUCCESS && ($first->{exists} // '') eq 1) {
    diag('the remaining checks need a working connection; stopping here');
    diag($httpd->error_log);
    $httpd->stop;
    done_testing();
    exit;
}

## EBUSY while a reconnect is pending (all in one request)

my $busy = req('/zk/busy?cluster=main');
is($busy->{acquire1}, SUCCESS, 'busy: acquire succeeds') or diag(explain($busy));
is($busy->{generation1}, $first->{generation}, 'busy: it is the same connection as before');
is($busy->{error}, ECONNABORTED, 'error() with ZCONNECTIONLOSS returns ECONNABORTED');
is($busy->{tryacquire}, EBUSY, 'tryacquire returns EBUSY while the failed connection is still held');
is($busy->{try_zk}, 'undef', '... and no connection object');
is($busy->{release1}, SUCCESS, 'release of the failed connection succeeds');
is($busy->{release_again}, EINVAL, 'releasing it a second time gives EINVAL');
is($busy->{acquire2}, SUCCESS, 'after the release, acquire succeeds again');
is($busy->{generation2}, $busy->{generation1} + 1, '... with a new connection (generation + 1)');
isnt($busy->{session2}, $busy->{session1}, '... and a new session');
is($busy->{exists2}, 1, '... which works');
is($busy->{pid}, $child, '(served by the same child)');

my $try = req('/zk/try?cluster=main');
is($try->{rc}, SUCCESS, 'tryacquire succeeds once the reconnect is done');
is($try->{generation}, $busy->{generation2}, '... on the new connection');
is($try->{session}, $busy->{session2}, '... with its session');

like($httpd->error_log, qr/simulated connection loss \(ZooKeeper cluster main, error -4\)/,
     "error() writes the message, the cluster's name and the ZooKeeper code to the error log");

## a handler that dies while holding the connection

my $res = $httpd->get('/zk/die?cluster=main');
is($res->{status}, 500, 'a handler that dies while holding the connection gives 500');
my $after = req('/zk/session?cluster=main');
is($after->{rc}, SUCCESS, 'the next request still acquires the connection');
is($after->{generation}, $try->{generation}, '... the same connection (nothing was marked failed)');
is($after->{pid}, $child, '(same child)');

$res = $httpd->get('/zk/die?cluster=main&mark=1');
is($res->{status}, 500, 'a handler that marks the connection failed and then dies gives 500');
like($httpd->error_log, qr/dying on purpose while holding cluster main/, '... and its message is logged');
my $t2 = req('/zk/try?cluster=main');
is($t2->{rc}, SUCCESS,
   'tryacquire after it does not see EBUSY: the dead handler released its lock')
    or diag(explain($t2));
is($t2->{generation}, $after->{generation} + 1, '... and the failed connection was replaced');
is($t2->{pid}, $child, '(same child)');

## a watch kept from one request to the next

my $h = Net::ZooKeeper->new($hosts);
ok($h->create($root, 'r', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or diag($h->get_error);
ok($h->create("$root/w", 'one', acl => ZOO_OPEN_ACL_UNSAFE), "create $root/w");
ok($h->create("$root/w2", 'one', acl => ZOO_OPEN_ACL_UNSAFE), "create $root/w2");

my $ws = req("/zk/watch_set?cluster=main&path=$root/w");
is($ws->{rc}, SUCCESS, 'watch_set: acquire succeeds');
is($ws->{exists}, 1, 'a watch is set with exists() through the shared handle');
is($ws->{event}, 0, '... and has no event yet');
my $ww = req("/zk/watch_wait?path=$root/w&timeout=0");
is($ww->{found}, 1, 'a later request finds the kept watch');
is($ww->{notified}, 0, '... not yet notified before the node changes');
ok($h->set("$root/w", 'two'), 'the test changes the node');
$ww = req("/zk/watch_wait?path=$root/w&timeout=10000");
is($ww->{pid}, $ws->{pid}, 'the wait runs in the same child as the request that set the watch');
is($ww->{notified}, 1, 'waiting on the kept watch in a later request sees the change');
is($ww->{event}, ZOO_CHANGED_EVENT, '... as ZOO_CHANGED_EVENT');
is($ww->{state}, ZOO_CONNECTED_STATE, '... in ZOO_CONNECTED_STATE');

# a watch armed before the server goes away
my $wk = req("/zk/watch_set?cluster=main&path=$root/w2");
is($wk->{exists}, 1, 'a second watch is kept, set on the connection that is about to fail');

## the server goes away

my $before = req('/zk/session?cluster=main');
is($before->{rc}, SUCCESS, 'before the outage a request succeeds');
$zk->stop;
ok(!$zk->is_running, 'the ZooKeeper server is stopped');

my %conn_err = map { $_ => 1 } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT, ZINVALIDSTATE, ZSESSIONEXPIRED;
my @outage;
for (1 .. 6) {
    my $row = req('/zk/session?cluster=main');
    push @outage, $row;
    last if ($row->{error_rc} // '') eq ECONNABORTED;
}
my @ok = grep { ($_->{rc} // '') eq SUCCESS && ($_->{exists} // '') eq 1 } @outage;
is(scalar @ok, 0, 'while the server is down no request succeeds');
my @unreported = grep {
    !(($_->{rc} // '') eq ECONNABORTED
      || (($_->{rc} // '') eq SUCCESS && $conn_err{ $_->{zkerr} // 0 }))
} @outage;
is(scalar @unreported, 0,
   'each of them reports a connection error (acquire ECONNABORTED, or a ZooKeeper connection error code)')
    or diag(explain(\@unreported));
ok((grep { ($_->{error_rc} // '') eq ECONNABORTED } @outage),
   'error() returns ECONNABORTED for the connection error')
    or diag(explain(\@outage));
note(explain([ map { "rc=$_->{rc} zkerr=" . ($_->{zkerr}//"") . " error_rc=" . ($_->{error_rc}//"") . " gen=" . ($_->{generation}//"") } @outage ]));

my $wl = req("/zk/watch_wait?path=$root/w2&timeout=10000");
is($wl->{notified}, 1, 'the kept watch is notified of the outage');
is($wl->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');

## a new, empty server on the same port

my $zk2 = ZKTest::Server->start(port => $port);
ok($zk2 && $zk2->is_running, "a new ZooKeeper server (empty data dir) runs on port $port");

my $rec = poll('/zk/session?cluster=main', 60,
               sub { ($_[0]{rc} // '') eq SUCCESS && ($_[0]{exists} // '') eq 1 });
is($rec->{rc}, SUCCESS, 'requests succeed again, without restarting httpd') or diag(explain($rec));
is($rec->{exists}, 1, '... exists("/") works');
is($rec->{pid}, $child, '... in the same httpd child');
ok($httpd->is_running, '... and the same httpd');
cmp_ok($rec->{generation}, '>', $before->{generation}, '... on a newer connection (higher generation)');
isnt($rec->{session}, $before->{session}, '... with a new session');

my $again = req('/zk/session?cluster=main');
is($again->{session}, $rec->{session}, 'the next request keeps the new session');
is($again->{generation}, $rec->{generation}, '... and the generation');

# The kept watch of the replaced connection reports the expiry.
my $wx = poll("/zk/watch_wait?path=$root/w2&timeout=1000", 15,
              sub { ($_[0]{state} // '') eq ZOO_EXPIRED_SESSION_STATE });
is($wx->{notified}, 1, 'the watch kept from the replaced connection returns (no hang)');
is($wx->{event}, ZOO_SESSION_EVENT, '... with ZOO_SESSION_EVENT');
is($wx->{state}, ZOO_EXPIRED_SESSION_STATE, '... and ZOO_EXPIRED_SESSION_STATE')
    or diag(explain($wx));

# Watches work on the new connection.
my $h2 = Net::ZooKeeper->new($zk2->hosts);
ok($h2->create($root, 'r', acl => ZOO_OPEN_ACL_UNSAFE), "create $root on the new server")
    or diag($h2->get_error);
ok($h2->create("$root/w3", 'one', acl => ZOO_OPEN_ACL_UNSAFE), "create $root/w3");
my $ws3 = req("/zk/watch_set?cluster=main&path=$root/w3");
is($ws3->{exists}, 1, 'a watch is set through the new connection');
ok($h2->set("$root/w3", 'two'), 'the test changes the node');
my $ww3 = req("/zk/watch_wait?path=$root/w3&timeout=10000");
is($ww3->{event}, ZOO_CHANGED_EVENT, 'a later request sees the change through the new connection');

unlike($httpd->error_log, qr/Segmentation|exit signal|\[core:(?:error|crit|alert|emerg)\]/,
       'no httpd child crashed')
    or diag($httpd->error_log);
ok($httpd->stop, 'httpd stops');
$zk2->stop if $zk2;
done_testing();
