#!/usr/bin/perl
# Net::ZooKeeper::Cluster, mod_zookeeper's model without httpd, in a plain
# script (its POD): define/lookup/acquire/tryacquire/release/error/generation;
# one connection per cluster per process under a shared lock; error() with a
# connection error marks it failed, tryacquire() gives EBUSY and acquire()
# waits (bounded, then EBUSY) while it still has holders, and the next acquire
# after every holder released makes a new connection; a connection object
# that goes out of scope releases its lock; an expired session is noticed by
# the next acquire; a forked child makes its own connection, never the
# parent's; prefork-style workers keep one session each.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use IO::Select ();
use POSIX ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Server;
use ZKTest::Util qw(reap wait_until);
use Net::ZooKeeper qw(:errors :acls :node_flags);
use Net::ZooKeeper::Cluster qw(:status DEFAULT_RECV_TIMEOUT);

my $hosts = ZKTest::server_hosts();

sub define     { Net::ZooKeeper::Cluster::define(@_) }
sub lookup     { Net::ZooKeeper::Cluster::lookup(@_) }
sub acquire    { Net::ZooKeeper::Cluster::acquire(@_) }
sub tryacquire { Net::ZooKeeper::Cluster::tryacquire(@_) }
sub release    { Net::ZooKeeper::Cluster::release(@_) }
sub zk_error   { Net::ZooKeeper::Cluster::error(@_) }

sub session_of {
    my ($zk) = @_;
    my $sid = $zk->handle->{session_id};
    return defined $sid && length $sid >= 8 ? sprintf('%x', unpack 'Q', substr $sid, 0, 8) : '';
}

# acquire, exists('/'), release: (status, generation, session, exists)
sub cycle {
    my ($name) = @_;
    my ($rc, $zk) = acquire($name);
    return ($rc) unless $rc == SUCCESS;
    my $ok = $zk->handle->exists('/') ? 1 : 0;
    my @r  = ($rc, $zk->generation, session_of($zk), $ok);
    release($zk);
    return @r;
}

# Runs $code in a forked child, whose return value (a hash of strings) comes
# back over a pipe; returns (pid, the pipe's reading end) for child_result.
sub start_child {
    my ($code) = @_;
    pipe my $r, my $w or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $r;
        my %out = eval { $code->() };
        $out{died} = $@ if $@;
        print {$w} map { my $v = $out{$_}; $v =~ s/\n/ /g; "$_=$v\n" } sort keys %out;
        close $w;
        POSIX::_exit(0);
    }
    close $w;
    return ($pid, $r);
}

# The hash a child of start_child returned (bounded wait); the child is reaped.
sub child_result {
    my ($pid, $r) = @_;
    my %got;
    my $deadline = Time::HiRes::time() + 120;
    my $sel = IO::Select->new($r);
    my $buf = '';
    while (Time::HiRes::time() < $deadline) {
        next unless $sel->can_read(0.5);
        my $n = sysread $r, $buf, 65536, length $buf;
        last unless $n;
    }
    close $r;
    for (split /\n/, $buf) {
        my ($k, $v) = split /=/, $_, 2;
        $got{$k} = $v;
    }
    reap($pid, 30);
    return \%got;
}

# start_child and child_result in one: runs $code in a child, returns its hash.
sub in_child { return child_result(start_child(@_)) }

## constants

is_deeply([ SUCCESS, EBUSY, ECONNABORTED, EINVAL, ENOLOCK, NOTFOUND, EEXIST ],
          [ 0, 70025, 103, 22, 20009, 70015, 17 ],
          "the statuses are APR's values (SUCCESS EBUSY ECONNABORTED EINVAL ENOLOCK NOTFOUND EEXIST)");
is(DEFAULT_RECV_TIMEOUT, 4000, 'the default receive timeout is 4000 ms');

## define and lookup

ok(!lookup('main'), 'lookup is false before define');
is(define('main', $hosts, 3000), SUCCESS, 'define a cluster: SUCCESS');
ok(lookup('main'), 'lookup is true for a defined cluster');
is(define('main', $hosts, 3000), SUCCESS, 'defining it again with the same settings is allowed');
is(define('main', $hosts, 4000), EEXIST, 'defining it with another timeout gives EEXIST');
is(define('main', "$hosts/other", 3000), EEXIST, 'defining it with other hosts gives EEXIST');
is(define('dflt', $hosts), SUCCESS, 'define without a timeout');
is(define('quick', $hosts, 400), SUCCESS, 'define a cluster with a short receive timeout');
is(define(undef, $hosts), EINVAL, 'define without a name gives EINVAL');
is(define('nohosts', undef), EINVAL, 'define without hosts gives EINVAL');
is(define('badhosts', '127.0.0.1:0'), EINVAL, 'define with an invalid host list gives EINVAL');
for my $t (0, -1, 'abc', 1.5, 1073741824) {
    is(define("badtimeout", $hosts, $t), EINVAL, "define with receive timeout '$t' gives EINVAL");
}
is(define('maxtimeout', $hosts, 1073741823), SUCCESS, 'receive timeout 1073741823 is accepted');
ok(!lookup($_), "lookup is false after a failed define ($_)") for qw(nohosts badhosts badtimeout);
ok(!lookup('nope'), 'lookup is false for a name never defined');
ok(!lookup(undef), 'lookup(undef) is false');
ok(!eval { define('only-a-name'); 1 }, 'define with one argument croaks');
like($@, qr/^Usage: Net::ZooKeeper::Cluster::define\(name, hosts \[, recv_timeout\]\)/, '... with its usage');

is(Net::ZooKeeper::Cluster::hosts_error($hosts), undef, 'hosts_error: undef for a valid host list');
like(Net::ZooKeeper::Cluster::hosts_error('127.0.0.1:0'), qr/invalid host list '127\.0\.0\.1:0'/,
     'hosts_error: a message for a zero port');
ok(defined Net::ZooKeeper::Cluster::hosts_error(''), 'hosts_error: a message for an empty host list');

## acquire and release

{
    my @r = acquire('nope');
    is($r[0], NOTFOUND, 'acquire of an undefined name gives NOTFOUND');
    is($r[1], undef, '... and no connection object');
    @r = tryacquire('nope');
    is($r[0], NOTFOUND, 'tryacquire of an undefined name gives NOTFOUND');
    @r = acquire(undef);
    is($r[0], EINVAL, 'acquire(undef) gives EINVAL');
}

my ($rc, $zk) = acquire('main');
is($rc, SUCCESS, 'acquire succeeds');
isa_ok($zk, 'Net::ZooKeeper::Cluster::Connection');
is($zk->name, 'main', 'name');
is($zk->hosts, $hosts, 'hosts');
is($zk->recv_timeout, 3000, 'recv_timeout');
is($zk->generation, 1, 'the first connection of the process has generation 1');
ok(!$zk->released, 'not released');
my $zkh = $zk->handle;
isa_ok($zkh, 'Net::ZooKeeper', 'handle');
ok($zkh->exists('/'), 'the handle works: exists("/")');
my $s1 = session_of($zk);
ok(length $s1, "it has a session ($s1)");

my ($rc2, $zk2) = acquire('main');
is($rc2, SUCCESS, 'a second acquire while the first is held succeeds (shared lock)');
is($zk2->generation, 1, '... on the same connection');
ok($zk2->handle->exists('/'), '... whose handle works');
is(session_of($zk2), $s1, '... in the same session');
my ($rc3, $zk3) = tryacquire('main');
is($rc3, SUCCESS, 'tryacquire while others hold it succeeds too');
is(release($zk3), SUCCESS, 'release');
is(release($zk2), SUCCESS, 'release');
is(release($zk), SUCCESS, 'release the first one');
ok($zk->released, 'released is true after release');
is(release($zk), EINVAL, 'releasing it again gives EINVAL');
is(release(undef), EINVAL, 'release(undef) gives EINVAL');
is(release('junk'), EINVAL, 'release of a string gives EINVAL');
is(release(bless {}, 'Other'), EINVAL, 'release of another object gives EINVAL');

{
    my ($r, $z) = acquire('dflt');
    is($z && $z->recv_timeout, 4000, 'a cluster defined without a timeout has recv_timeout 4000');
    release($z) if $z;
    ($r, $z) = acquire('main');
    is($z->generation, 1, 'acquire after release: still the same connection');
    is(session_of($z), $s1, '... and session');
    release($z);
}

## error()

{
    my ($r, $z) = acquire('main');
    my @warn;
    local $SIG{__WARN__} = sub { push @warn, @_ };
    is(zk_error($z, ZNONODE), SUCCESS, 'error() with ZNONODE returns SUCCESS');
    is(zk_error($z, ZOPERATIONTIMEOUT), SUCCESS, 'error() with ZOPERATIONTIMEOUT returns SUCCESS');
    is(scalar @warn, 0, 'error() without a message writes nothing');
    is(zk_error($z, ZNONODE, 'get /x failed'), SUCCESS, 'error() with a message');
    is_deeply(\@warn, ["get /x failed (ZooKeeper cluster main, error -101)\n"],
              '... warns the message with the cluster name and the code');
    is(Net::ZooKeeper::Cluster::error_text($z, -4, 'm'), 'm (ZooKeeper cluster main, error -4)', 'error_text');
    is(zk_error(undef, ZCONNECTIONLOSS), EINVAL, 'error() without a connection object gives EINVAL');
    is(zk_error($z, undef), EINVAL, 'error() without a code gives EINVAL');
    is(release($z), SUCCESS, 'release');
    my @c = cycle('main');
    is($c[1], 1, 'codes other than connection errors do not replace the connection');
}

## a reconnect pending: EBUSY, then a new connection

my ($gen, $sess) = (cycle('main'))[1, 2];
{
    my ($ra, $a) = acquire('main');
    my ($rb, $b) = acquire('main');
    ok($ra == SUCCESS && $rb == SUCCESS, 'two holders of the connection');
    my @warn;
    local $SIG{__WARN__} = sub { push @warn, @_ };
    is(zk_error($a, ZCONNECTIONLOSS, 'lost it'), ECONNABORTED,
       'error() with ZCONNECTIONLOSS returns ECONNABORTED');
    like("@warn", qr/lost it \(ZooKeeper cluster main, error -4\)/, '... and warns its message');
    my @t = tryacquire('main');
    is($t[0], EBUSY, 'tryacquire returns EBUSY while the failed connection is held');
    is($t[1], undef, '... and no connection object');
    is(release($a), SUCCESS, 'one holder releases');
    @t = tryacquire('main');
    is($t[0], EBUSY, 'tryacquire still returns EBUSY while another holder remains');
    ok($b->handle, 'the remaining holder still has its handle');
    is(release($b), SUCCESS, 'the last holder releases');
    my ($rn, $n) = tryacquire('main');
    is($rn, SUCCESS, 'once every holder released, tryacquire succeeds');
    is($n->generation, $gen + 1, '... with a new connection (generation + 1)');
    ok($n->handle->exists('/'), '... which works');
    isnt(session_of($n), $sess, '... in a new session');
    release($n);
}

# acquire waits (bounded: at least one second, twice the timeout) and then gives EBUSY
{
    my ($r, $a) = acquire('quick');
    ok($a->handle->exists('/'), 'quick: connected');
    my $g = $a->generation;
    is(zk_error($a, ZCONNECTIONLOSS), ECONNABORTED, 'quick: marked failed');
    my @b = acquire('quick');
    is($b[0], EBUSY, 'acquire while the failed connection is still held gives EBUSY after its wait');
    is($b[1], undef, '... and no connection object');
    release($a);
    my ($r2, $z2) = acquire('quick');
    is($r2, SUCCESS, 'after the release, acquire succeeds');
    is($z2->generation, $g + 1, '... with a new connection');
    release($z2);
}

for my $code (ZINVALIDSTATE, ZSESSIONEXPIRED) {
    my ($r, $z) = acquire('main');
    my $g = $z->generation;
    is(zk_error($z, $code), ECONNABORTED, "error() with $code returns ECONNABORTED");
    release($z);
    my @c = cycle('main');
    is($c[1], $g + 1, "... and the next acquire makes a new connection");
}

## a connection object that goes out of scope releases its lock

($gen) = (cycle('main'))[1];
{
    my ($r, $z) = acquire('main');
    zk_error($z, ZCONNECTIONLOSS);
}
{
    my ($r, $z) = tryacquire('main');
    is($r, SUCCESS, 'a failed connection whose holder went out of scope without release is replaced at once');
    is($z && $z->generation, $gen + 1, '... (generation + 1)');
    release($z) if $z;
}
($gen) = (cycle('main'))[1];
eval {
    my ($r, $z) = acquire('main');
    zk_error($z, ZCONNECTIONLOSS);
    die "handler died\n";
};
is($@, "handler died\n", 'code holding a failed connection dies');
{
    my ($r, $z) = tryacquire('main');
    is($r, SUCCESS, '... and its lock is released anyway: tryacquire succeeds');
    is($z && $z->generation, $gen + 1, '... with a new connection');
    release($z) if $z;
}

## an expired session is noticed by the next acquire

SKIP: {
    my $priv = eval { ZKTest::Server->start };
    skip('no private ZooKeeper server: ' . ($@ || $ZKTest::Server::ERROR || ''), 6) unless $priv;
    is(define('private', $priv->hosts, 2000), SUCCESS, 'define a cluster on a private server');
    my ($r, $g, $s, $ok) = cycle('private');
    ok($r == SUCCESS && $ok, 'its connection works');
    my $port = $priv->port;
    $priv->stop;
    my $priv2 = ZKTest::Server->start(port => $port);
    ok($priv2, 'the server is replaced by an empty one on the same port (the session is unknown there)');
    # A server refuses a client that has seen later transactions than its own ("client
    # must try another server"), as every ZooKeeper client is refused; once the new
    # server has served others past that point, it answers that the session expired.
    my $other = Net::ZooKeeper->new($priv2->hosts);
    $other->create("/filler$_", '', acl => ZOO_OPEN_ACL_UNSAFE) for 1 .. 20;
    my @c;
    # no error() calls: acquire must notice the expiry itself
    wait_until(sub { @c = cycle('private'); $c[0] == SUCCESS && $c[3] }, 30, 0.2);
    ok($c[0] == SUCCESS && $c[3], 'acquire hands out a working connection again without error() calls');
    cmp_ok($c[1] // 0, '>', $g, '... a new one (higher generation)');
    isnt($c[2], $s, '... in a new session');
    $priv2->stop if $priv2;
}

## fork: the child makes its own connection

sub child_cycle {
    my %o = (lookup => lookup('main') ? 1 : 0, define => define('main', $hosts, 3000));
    my ($cr, $cz) = acquire('main');
    $o{rc} = $cr;
    return %o unless $cr == SUCCESS;
    $o{exists}  = $cz->handle->exists('/') ? 1 : 0;
    $o{session} = session_of($cz);
    $o{release} = release($cz);
    return %o;
}

{
    my ($r, $g, $parent_session, $ok) = cycle('main');
    ok($r == SUCCESS && $ok, 'the parent has a working connection (not held) when it forks');
    my $child = in_child(\&child_cycle);
    is($child->{died}, undef, 'the child ran');
    is($child->{define}, SUCCESS, 'in the child, define with the same settings succeeds');
    is($child->{rc}, SUCCESS, 'in the child, acquire succeeds');
    is($child->{exists}, 1, "... and the child's connection works");
    ok(length($child->{session} // ''), '... with a session');
    isnt($child->{session}, $parent_session, "... not the parent's session");
    is($child->{release}, SUCCESS, '... and is released');
    my @c = cycle('main');
    is($c[2], $parent_session, "after the child exited the parent's connection keeps its session");
    ok($c[3], '... and works');
}

{
    my ($r, $held) = acquire('main');
    ok($held->handle->exists('/'), 'the parent holds a working connection when it forks');
    my $parent_session = session_of($held);
    my $child = in_child(\&child_cycle);
    is($child->{died}, undef, 'the child (forked while the parent held the connection) ran');
    is($child->{rc}, SUCCESS,
       "in a child forked while the parent held the connection, acquire succeeds (the parent's lock is not the child's)");
    is($child->{exists}, 1, "... and the child's connection works");
    ok(length($child->{session} // ''), '... with a session');
    isnt($child->{session}, $parent_session, "... not the parent's session");
    ok($held->handle->exists('/'), "after the child exited the parent's held connection still works");
    is(session_of($held), $parent_session, '... in its session');
    is(release($held), SUCCESS, '... and is released normally');
    my @c = cycle('main');
    is($c[2], $parent_session, "the parent's next acquire gets its own session back");
}

## prefork-like: workers each keep one session

{
    my $parent_session = (cycle('main'))[2];
    my @pids;
    my %reports;
    my @children;
    for my $w (1 .. 3) {
        push @children, [ $w, sub {
            my (%seen, $fail);
            for (1 .. 20) {
                my ($r, $g, $s, $ok) = cycle('main');
                if ($r != SUCCESS || !$ok) { $fail .= "rc=$r ok=" . ($ok // '') . ';'; next }
                $seen{$s}++;
            }
            return (sessions => join(',', sort keys %seen), failures => $fail // '', pid => $$);
        } ];
    }
    # run the three workers at the same time
    my @started;
    for my $c (@children) {
        my ($w, $code) = @$c;
        push @started, [ $w, start_child($code) ];
    }
    for my $job (@started) {
        my ($w, $pid, $rd) = @$job;
        $reports{$w} = child_result($pid, $rd);
    }
    for my $w (1 .. 3) {
        my $rep = $reports{$w} || {};
        is($rep->{failures} // 'no report', '', "worker $w: all 20 acquire/exists/release cycles succeeded")
            or diag(explain($rep));
        my @s = grep { length } split /,/, $rep->{sessions} // '';
        is(scalar @s, 1, "worker $w used exactly one session for its 20 cycles") or diag("@s");
    }
    my @all = map { $reports{$_}{sessions} // '' } 1 .. 3;
    my %distinct = map { $_ => 1 } grep { length } @all;
    is(scalar keys %distinct, 3, 'the three workers have three different sessions') or diag("@all");
    ok(!grep({ $_ eq $parent_session } @all), "none of them is the parent's session");
}

done_testing();
