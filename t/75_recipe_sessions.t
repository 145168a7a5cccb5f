#!/usr/bin/perl
# Sessions as Curator treats them, for the recipes that hold something (Lock,
# Election, Semaphore, Curator layout): a connection lost without an expiry
# is reported as suspended (Curator's ConnectionState.SUSPENDED, kazoo's
# KazooState.SUSPENDED), reconnected when the same session comes back, and
# lost once the cluster expired the session - never assumed held.
#
# A private standalone server (t/lib/ZKTest/Ensemble.pm, size 1, tickTime
# 500: session timeouts of 1-10 s, expiries checked every 0.5 s).  The
# recipes' handle reaches it through a proxy (t/lib/ZKTest/SilentServer.pm)
# that can be cut off; an observer handle talks to the server directly.
#   1. The server is stopped (data kept) and started again: each recipe
#      reports suspended (on_state from dispatch, then suspended()/state()),
#      then reconnected with the same session, its node still there, never
#      lost.  (A restarted server gives the sessions it loads a fresh
#      timeout, so the session lives however long the restart takes.)
#   2. The server is stopped and started again with its data, but the
#      proxy keeps the client away until the server has expired the session
#      (the observer sees the nodes go): the recipes stay suspended (they
#      cannot know), and once the proxy heals they report lost, on_lost
#      once; another client then takes the lock.
#   3. The server comes back with an empty data directory: lost.  (It
#      refuses a client that has seen later transactions than its own, so
#      the observer makes transactions until it has passed them.)
#   4. The protected create: the server is frozen (SIGSTOP) just before the
#      lock's create, so the create fails with ZCONNECTIONLOSS; at that
#      failure (a subclass's retryable() hook) the server is thawed.  The
#      frozen server still had the create in its socket buffer and applies
#      it, so the reply was lost but the node made: the retry finds its own
#      _c_<uuid>- node and creates nothing more - exactly one contender node.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Time::HiRes ();

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use ZKTest::Server ();
use ZKTest::SilentServer;
use Net::ZooKeeper qw(:errors :acls :events :states);
use Net::ZooKeeper::Recipe::Lock;
use Net::ZooKeeper::Recipe::Election;
use Net::ZooKeeper::Recipe::Semaphore;

$SIG{PIPE} = 'IGNORE';

my $srv = ZKTest::Ensemble->start_or_skip(size => 1, tick_time => 500);
my $proxy = ZKTest::SilentServer->start(forward_to => $srv->hosts);

my $root = ZKTest::test_root();
my @KINDS = qw(lock election semaphore);

sub guard { ZKTest::Ensemble::hang_guard(@_) }
sub hex_sid { unpack 'H*', $_[0] // '' }

# Runs $zkh's callbacks as they come until $cond holds, at most $seconds.
sub dispatch_until {
    my ($zkh, $cond, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    until ($cond->()) {
        return 0 if Time::HiRes::time() > $deadline;
        $zkh->dispatch(timeout => 200);
    }
    return 1;
}

# The server's last zxid (srvr), or undef.
sub server_zxid {
    my $srvr = ZKTest::Server::four_letter_word($srv->member_hosts(1), 'srvr', 5) // '';
    return $srvr =~ /^Zxid: 0x([0-9a-f]+)/mi ? hex $1 : undef;
}

sub observer {
    my $obs = Net::ZooKeeper->new($srv->hosts, session_timeout => 10000);
    ok(guard(60, 'observer', sub { $obs->exists('/') }), 'an observer handle (direct to the server)');
    return $obs;
}

my $obs = observer();
is($obs->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

# A lock, a leadership and a lease, held on $zkh under "$root/$tag-*", with
# on_state and on_lost recording into %$log / %$lost.
sub hold_all {
    my ($zkh, $tag, $log, $lost) = @_;
    my %cb = map {
        my $kind = $_;
        ($kind => [ on_state => sub { push @{ $log->{$kind} }, $_[1] }, on_lost => sub { $lost->{$kind}++ } ])
    } @KINDS;
    my %r;
    $r{lock} = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => "$root/$tag-lock", @{ $cb{lock} });
    $r{election} = Net::ZooKeeper::Recipe::Election->new(
        handle => $zkh, path => "$root/$tag-election", identifier => "perl-$tag", @{ $cb{election} });
    $r{semaphore} = Net::ZooKeeper::Recipe::Semaphore->new(
        handle => $zkh, path => "$root/$tag-semaphore", max_leases => 2, @{ $cb{semaphore} });
    ok(guard(60, 'acquire', sub { $r{lock}->acquire(timeout => 20) }), "$tag: the lock is acquired");
    ok($r{election}->start, "$tag: the election is joined");
    ok(guard(60, 'await_leadership', sub { $r{election}->await_leadership(timeout => 20) }), "$tag: ... and leads");
    ok(guard(60, 'lease', sub { $r{semaphore}->acquire(timeout => 20) }), "$tag: a lease is acquired");
    is($r{$_}->state, 'held', "$tag: $_: state is 'held'") for @KINDS;
    $r{paths} = {
        lock      => "$root/$tag-lock/" . $r{lock}->node,
        election  => "$root/$tag-election/" . $r{election}->node,
        semaphore => "$root/$tag-semaphore/leases/" . $r{semaphore}->node,
    };
    return \%r;
}

# Every kind's on_state log has $state.
sub all_saw {
    my ($log, $state) = @_;
    return sub { !grep { my $k = $_; !grep { $_ eq $state } @{ $log->{$k} || [] } } @KINDS };
}

sub check_suspended {
    my ($tag, $r, $log, $lost) = @_;
    for my $k (@KINDS) {
        ok($r->{$k}->suspended, "$tag: $k: suspended() is true");
        is($r->{$k}->state, 'suspended', "$tag: $k: state is 'suspended'");
        ok(!$r->{$k}->lost, "$tag: $k: not lost: the session is not known to have expired");
        is_deeply($log->{$k}, ['suspended'], "$tag: $k: on_state called once, with 'suspended'");
        ok(!$lost->{$k}, "$tag: $k: on_lost not called");
    }
    ok(!$r->{election}->is_leader, "$tag: election: is_leader() is false while suspended");
}

sub check_lost {
    my ($tag, $r, $log, $lost) = @_;
    for my $k (@KINDS) {
        is($lost->{$k}, 1, "$tag: $k: on_lost called once");
        is_deeply($log->{$k}, ['suspended', 'lost'], "$tag: $k: on_state: 'suspended', then 'lost'");
        ok($r->{$k}->lost, "$tag: $k: lost() is true");
        ok(!$r->{$k}->suspended, "$tag: $k: suspended() is false");
        is($r->{$k}->state, 'lost', "$tag: $k: state is 'lost'");
    }
    ok(!$r->{lock}->is_acquired, "$tag: lock: is_acquired() is false");
    ok(!$r->{semaphore}->is_acquired, "$tag: semaphore: is_acquired() is false");
    ok(!$r->{election}->is_leader, "$tag: election: is_leader() is false");
    is($r->{lock}->release, 0, "$tag: lock: release() says it was lost");
    is($r->{semaphore}->release, 0, "$tag: semaphore: release() says it was lost");
    $r->{election}->stop;
    is($r->{$_}->state, 'idle', "$tag: $_: state is 'idle' once released") for @KINDS;
}

# Another client takes the lock that was lost.
sub taken_by_other {
    my ($tag, $h) = @_;
    my $other = Net::ZooKeeper::Recipe::Lock->new(handle => $h, path => "$root/$tag-lock");
    ok(guard(60, 'other acquire', sub { $other->acquire(timeout => 20) }), "$tag: another client takes the lock");
    is_deeply([ $other->contenders ], [ $other->node ], "$tag: ... as its only contender");
    ok($other->release, "$tag: ... and releases it");
}

## 1. A short outage: suspended, then reconnected with the same session.

{
    my $zkh = Net::ZooKeeper->new($proxy->hosts, session_timeout => 10000);
    my (%log, %lost);
    my $r = hold_all($zkh, 'short', \%log, \%lost);
    my $sid = hex_sid($zkh->{session_id});
    ok($srv->stop_member(1), 'short: stop the server (data kept)');
    ok(dispatch_until($zkh, all_saw(\%log, 'suspended'), 30), "short: on_state('suspended') for each, from dispatch")
        or diag(explain(\%log));
    check_suspended('short', $r, \%log, \%lost);
    ok($srv->start_member(1), 'short: start the server again');
    ok(dispatch_until($zkh, all_saw(\%log, 'reconnected'), 30), "short: on_state('reconnected') for each, from dispatch")
        or diag(explain(\%log));
    is(hex_sid($zkh->{session_id}), $sid, 'short: the same session');
    for my $k (@KINDS) {
        is_deeply($log{$k}, ['suspended', 'reconnected'], "short: $k: on_state: 'suspended', then 'reconnected'");
        ok(!$r->{$k}->suspended, "short: $k: suspended() is false");
        ok(!$r->{$k}->lost, "short: $k: lost() is false");
        is($r->{$k}->state, 'held', "short: $k: state is 'held' again");
        ok(!$lost{$k}, "short: $k: on_lost never called");
        ok(guard(60, 'exists', sub { $obs->exists($r->{paths}{$k}) }), "short: $k: its node is still there");
    }
    ok($r->{lock}->is_acquired, 'short: lock: still acquired');
    ok($r->{semaphore}->is_acquired, 'short: semaphore: still holds its lease');
    ok($r->{election}->is_leader, 'short: election: leads again');
    ok($r->{lock}->release, 'short: lock: released, held until then');
    ok($r->{semaphore}->release, 'short: semaphore: lease released, held until then');
    ok($r->{election}->stop, 'short: election: stopped, leading until then');
    is_deeply([ map { scalar @{ $log{$_} } } @KINDS ], [2, 2, 2], 'short: releasing reports no state');
    $zkh->DESTROY;
}

## 2. A long outage, data kept: the cluster expires the session.

{
    my $zkh = Net::ZooKeeper->new($proxy->hosts, session_timeout => 4000);
    my (%log, %lost);
    my $r = hold_all($zkh, 'long', \%log, \%lost);
    my %w;
    for my $k (@KINDS) {
        $w{$k} = $obs->watch(timeout => 60000);
        ok($obs->exists($r->{paths}{$k}, watch => $w{$k}), "long: the observer watches the $k node");
    }
    ok($srv->stop_member(1), 'long: stop the server (data kept)');
    ok(dispatch_until($zkh, all_saw(\%log, 'suspended'), 30), "long: on_state('suspended') for each")
        or diag(explain(\%log));
    ok($proxy->cut, 'long: cut the recipes\' handle off');
    ok($srv->start_member(1), 'long: start the server again with its data');
    ok(ZKTest::Util::wait_until(sub { !grep { $_->{event} != ZOO_DELETED_EVENT } values %w }, 40, 0.02),
       'long: the server expires the session: the observer sees the three nodes deleted')
        or diag(join ', ', map { "$_: $w{$_}{event}/$w{$_}{state}" } @KINDS);
    check_suspended('long', $r, \%log, \%lost);
    ok($proxy->heal, 'long: heal: the handle reaches the server');
    ok(dispatch_until($zkh, sub { !grep { !$lost{$_} } @KINDS }, 30), 'long: on_lost for each, from dispatch')
        or diag(explain(\%lost));
    check_lost('long', $r, \%log, \%lost);
    taken_by_other('long', $obs);
    $zkh->DESTROY;
}

## 3. The server comes back without its data: lost.

{
    my $zkh = Net::ZooKeeper->new($proxy->hosts, session_timeout => 4000);
    my (%log, %lost);
    my $r = hold_all($zkh, 'wiped', \%log, \%lost);
    my $seen = server_zxid();
    ok(defined $seen, 'wiped: the server\'s last zxid');
    $seen //= 1000;
    ok($srv->stop_member(1), 'wiped: stop the server');
    ok($srv->wipe_member(1) > 0, 'wiped: empty its data directory');
    ok(dispatch_until($zkh, all_saw(\%log, 'suspended'), 30), "wiped: on_state('suspended') for each")
        or diag(explain(\%log));
    check_suspended('wiped', $r, \%log, \%lost);
    ok($srv->start_member(1), 'wiped: start the server again, empty');
    $obs = observer();
    my $pad = "/_net_zookeeper_test_pad_$$";
    ok($obs->create($pad, '', acl => ZOO_OPEN_ACL_UNSAFE), 'wiped: the observer makes transactions ...');
    my $n = 0;
    while ((server_zxid() // 0) <= $seen + 2 && $n < 5000) {
        $obs->create("$pad/n" . $n++, '', acl => ZOO_OPEN_ACL_UNSAFE) for 1 .. 20;
    }
    ok((server_zxid() // 0) > $seen, "wiped: ... until the server is past the handle's ($n)");
    ok(dispatch_until($zkh, sub { !grep { !$lost{$_} } @KINDS }, 30), 'wiped: on_lost for each, from dispatch')
        or diag(explain(\%lost));
    check_lost('wiped', $r, \%log, \%lost);
    ok(ZKTest::Util::delete_tree($obs, $pad), 'wiped: delete the padding');
    ok($obs->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "wiped: the test node again");
    taken_by_other('wiped', $obs);
    $zkh->DESTROY;
}

## 4. The protected create: the reply to the create is lost.

{
    package ZKTest::HookedLock;
    our @ISA = ('Net::ZooKeeper::Recipe::Lock');
    our ($on_unknown, @unknown);
    # The first failure with an unknown outcome runs $on_unknown (which
    # thaws the server) before the lock decides to retry.
    sub retryable {
        my ($self, $rc) = @_;
        if (!@unknown && Net::ZooKeeper::Recipe::transient($rc)) {
            push @unknown, $rc;
            $on_unknown->();
        }
        return $self->SUPER::retryable(@_[1 .. $#_]);
    }
}

{
    my $dir = "$root/frozen-lock";
    ok($obs->create($dir, '', acl => ZOO_OPEN_ACL_UNSAFE), 'frozen: the lock node exists (so the create is the first call)');
    my $zkh = Net::ZooKeeper->new($srv->hosts, session_timeout => 8000);
    my $lock = ZKTest::HookedLock->new(handle => $zkh, path => $dir);
    ok(guard(60, 'exists', sub { $zkh->exists($dir) }), 'frozen: the handle is connected');
    my $sid = hex_sid($zkh->{session_id});
    my $creates = 0;
    my $create = \&Net::ZooKeeper::create;
    my $thawed = 0;
    local $ZKTest::HookedLock::on_unknown = sub { $thawed = $srv->resume_member(1) };
    {
        no warnings 'redefine';
        # Counts the creates of contender nodes sent (the real call).
        local *Net::ZooKeeper::create = sub { $creates++ if index($_[1], "$dir/") == 0; goto &$create };
        ok($srv->pause_member(1), 'frozen: freeze the server (SIGSTOP)');
        ok(guard(60, 'acquire', sub { $lock->acquire(timeout => 30) }), 'frozen: the lock is acquired');
    }
    ok($thawed, 'frozen: the server was thawed at the first failure');
    is(scalar @ZKTest::HookedLock::unknown, 1, 'frozen: a call failed with an unknown outcome');
    ok(grep({ $_ == ($ZKTest::HookedLock::unknown[0] // 0) } ZCONNECTIONLOSS, ZOPERATIONTIMEOUT),
       'frozen: ... ZCONNECTIONLOSS or ZOPERATIONTIMEOUT') or diag("rc @ZKTest::HookedLock::unknown");
    is(hex_sid($zkh->{session_id}), $sid, 'frozen: the same session');
    my @children = $obs->get_children($dir);
    is_deeply(\@children, [ $lock->node ], 'frozen: exactly one contender node, the lock\'s: no orphan')
        or diag("@children");
    like($lock->node // '', qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-lock-\d{10}\z/,
         'frozen: ... in Curator\'s protected layout');
    my $stat = $obs->stat;
    ok($obs->exists("$dir/" . $lock->node, stat => $stat), 'frozen: the node exists');
    is($stat->{ephemeral_owner}, sprintf('%.0f', unpack('q', substr($zkh->{session_id}, 0, 8))),
       'frozen: ... owned by the lock\'s session');
    is($creates, 1, 'frozen: one create was sent: the one whose reply was lost made the node, and the retry found it');
    is($lock->state, 'held', 'frozen: state is held');
    ok($lock->release, 'frozen: released');
    $zkh->DESTROY;
}

ok(ZKTest::Util::delete_tree($obs, $root), 'delete the test nodes');
$obs->DESTROY;
$proxy->stop;
ok($srv->stop, 'stop the server');

done_testing();
