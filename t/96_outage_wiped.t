#!/usr/bin/perl
# A session ends when a server says it expired - here because the server came
# back without its data, so it knows nothing of the session (spec 8.3, 11.2;
# the ZooKeeper C client's behaviour, which the original Net::ZooKeeper
# wraps).  The client itself does not end the session during the outage,
# however long it lasts: calls fail with ZCONNECTIONLOSS meanwhile.  Once a
# server answers, the call waiting for it fails with ZSESSIONEXPIRED, the armed
# watches get ZOO_SESSION_EVENT with ZOO_EXPIRED_SESSION_STATE, and every later
# call fails with ZINVALIDSTATE.  A new handle works.
#
# A private standalone server (t/lib/ZKTest/Ensemble.pm, size 1, tickTime
# 2000) is stopped, its data directory emptied (ZKTest::Ensemble::wipe_member),
# and after 2.5 times the session timeout (4 s) started again.
#
# A server refuses (closes the connection without an answer: "client must try
# another server") a client that has seen a later zxid than its own, so the
# emptied server answers the old sessions only once its zxid has passed the
# one the old server had reached.  A writer process (exec perl, a session of
# its own) makes that many transactions once the server is back; until then
# the handles' attempts fail as connection losses.
#
# Two handles live through the same outage:
#   A makes calls during the outage and, once the server is started again,
#     calls in a tight loop, so that a call is waiting when the server answers:
#     that call gets ZSESSIONEXPIRED, the next ones ZINVALIDSTATE.
#   B makes no call: it learns of the expiry by itself (its watch shows
#     ZOO_EXPIRED_SESSION_STATE); no call was waiting, so its first call
#     already fails with ZINVALIDSTATE.

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
use POSIX ();
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

$SIG{PIPE} = 'IGNORE';

my $srv = ZKTest::Ensemble->start_or_skip(size => 1);

my $root    = ZKTest::test_root();
my $TIMEOUT = 4000;
my $OUTAGE  = 2.5;      # times the negotiated session timeout

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# The child perl finds Net::ZooKeeper where this one did (blib under
# "make test" or "prove -b"): this process's @INC, as -I options.
my @INC_FLAGS = map { "-I$_" } grep { !ref } @INC;

# Polls $cond (bounded) for something that happens in the background.
sub eventually { ZKTest::Util::wait_until($_[0], $_[1] // 30, 0.02) }

sub hex_sid { unpack 'H*', $_[0] // '' }

# The server's last zxid, from srvr, or undef.
sub server_zxid {
    my $srvr = ZKTest::Server::four_letter_word($srv->member_hosts(1), 'srvr', 5) // '';
    return $srvr =~ /^Zxid: 0x([0-9a-f]+)/mi ? hex $1 : undef;
}

# Starts a process that waits for the server and makes $count transactions
# (creates below $path) with a session of its own.  Returns its pid.
my $WRITER = <<'PERL';
use strict; use warnings; use Time::HiRes (); use Net::ZooKeeper qw(:acls);
my ($hosts, $path, $count) = @ARGV;
my $h = Net::ZooKeeper->new($hosts, session_timeout => 10000) or exit 2;
my $deadline = Time::HiRes::time() + 60;
until ($h->exists('/')) { exit 3 if Time::HiRes::time() > $deadline; Time::HiRes::sleep(0.02) }
$h->create($path, '', acl => ZOO_OPEN_ACL_UNSAFE) or exit 4;
$h->create("$path/n$_", '', acl => ZOO_OPEN_ACL_UNSAFE) or exit 5 for 1 .. $count;
exit 0;
PERL
sub start_writer {
    my ($path, $count) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        exec $^X, @INC_FLAGS, '-e', $WRITER, $srv->member_hosts(1), $path, $count
            or POSIX::_exit(127);
    }
    return $pid;
}
sub codes   { my ($c) = @_; join(', ', map { "$_ x $c->{$_}" } sort keys %$c) || 'none' }

{
    my $setup = Net::ZooKeeper->new($srv->hosts);
    is($setup->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
    ok($setup->DESTROY, 'DESTROY the setup handle');
}

my %h;
for my $name ('A', 'B') {
    my %p = (name => $name);
    my $zkh = $p{zkh} = Net::ZooKeeper->new($srv->hosts, session_timeout => $TIMEOUT);
    isa_ok($zkh, 'Net::ZooKeeper', "handle $name");
    $p{eph} = "$root/eph_$name";
    is($zkh->create($p{eph}, 'e', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $p{eph},
       "$name: creates an ephemeral node");
    is($zkh->{session_timeout}, $TIMEOUT, "$name: the negotiated session timeout is $TIMEOUT ms");
    $p{sid} = $zkh->{session_id};
    is(length $p{sid}, 24, "$name: the handle has a session");
    $p{wget} = $zkh->watch(timeout => 120000);
    is($zkh->get($root, watch => $p{wget}), '', "$name: a watch armed by get on the test node");
    $p{wexists} = $zkh->watch(timeout => 120000);
    ok(!$zkh->exists("$root/later", watch => $p{wexists}), "$name: a creation watch armed by exists on a missing node");
    $h{$name} = \%p;
}
my ($A, $B) = @h{qw(A B)};
my $outage = $OUTAGE * $TIMEOUT / 1000;
my $old_zxid = server_zxid();
ok(defined $old_zxid, 'srvr: the server\'s last zxid, at least what the handles have seen')
    and note(sprintf 'the old server\'s last zxid: %#x', $old_zxid);
$old_zxid //= 1000;

ok($srv->stop_member(1), 'stop the server');
my $t_down = Time::HiRes::time();
ok($srv->wipe_member(1) > 0, 'empty its data directory');

# The outage: A calls now and then, B does nothing.
my (%during, $expired_meanwhile);
my $calls = 0;
while (Time::HiRes::time() - $t_down < $outage) {
    my $r = guard(60, 'A: exists #' . ($calls + 1) . ' during the outage', sub { $A->{zkh}->exists($root) });
    $calls++;
    $during{ $r ? 'success' : $A->{zkh}->get_error }++;
    $expired_meanwhile ||= grep { $_->{state} == ZOO_EXPIRED_SESSION_STATE } map { @$_{qw(wget wexists)} } $A, $B;
    Time::HiRes::sleep(0.25);
}
ok($calls > 0, 'A: calls were made during the outage');
is_deeply(\%during, { ZCONNECTIONLOSS() => $calls }, 'A: every call during the outage failed with ZCONNECTIONLOSS')
    or diag('codes: ' . codes(\%during));
ok(!$expired_meanwhile, 'no armed watch of A or B reported an expiry during the outage');
ok($B->{wget}{event} == ZOO_SESSION_EVENT && $B->{wget}{state} == ZOO_CONNECTING_STATE,
   'B: its watch shows ZOO_SESSION_EVENT with ZOO_CONNECTING_STATE')
    or diag("event $B->{wget}{event}, state $B->{wget}{state}");

# Start the server without waiting for it, and the writer; keep a call of A
# waiting until the server answers.
ok($srv->start_member(1, wait => 0), 'start the server again, with an empty data directory');
my $t_up = Time::HiRes::time();
my $writer = start_writer("$root-pad", $old_zxid + 5);
my (%before, $answer, $first_code);
my $loops = 0;
while (Time::HiRes::time() - $t_up < 90) {
    my $r = guard(60, 'A: exists #' . ($loops + 1) . ' while the server starts', sub { $A->{zkh}->exists($root) });
    $loops++;
    my $err = $A->{zkh}->get_error;
    if ($r || $err != ZCONNECTIONLOSS) {
        $first_code = $r ? 'success' : $err;
        last;
    }
    $before{$err}++;
}
my $t_answer = Time::HiRes::time();
note(sprintf 'outage %.1f s (%.1f x the session timeout); A learned the answer %.2f s after the restart began, '
           . 'after %d calls', $t_up - $t_down, ($t_up - $t_down) * 1000 / $TIMEOUT, $t_answer - $t_up, $loops);
is($first_code, ZSESSIONEXPIRED,
   'A: the call waiting when the server answers fails with ZSESSIONEXPIRED')
    or diag('first code other than ZCONNECTIONLOSS: ' . ($first_code // 'none'));
note('A: codes before that: ' . codes(\%before));
ok($srv->wait_member(1), 'the server serves') or diag($srv->why);
is(ZKTest::Util::reap($writer, 60), 0, 'the writer made its transactions');
my $new_zxid = server_zxid() // 0;
ok($new_zxid > $old_zxid, '... the server\'s zxid is past the old one')
    or diag(sprintf 'old %#x, new %#x', $old_zxid, $new_zxid);

my %later;
for my $call (
    [ exists       => sub { $A->{zkh}->exists($root) } ],
    [ get          => sub { $A->{zkh}->get($root) } ],
    [ get_children => sub { $A->{zkh}->get_children('/') } ],
    [ create       => sub { $A->{zkh}->create("$root-x", '', acl => ZOO_OPEN_ACL_UNSAFE) } ],
    [ set          => sub { $A->{zkh}->set('/', 'x') } ],
    [ delete       => sub { $A->{zkh}->delete("$root-x") } ],
) {
    my ($name, $code) = @$call;
    guard(60, "A: $name after the expiry", $code);
    $later{$name} = $A->{zkh}->get_error;
}
is_deeply(\%later, { map { $_ => ZINVALIDSTATE } keys %later }, 'A: every later call fails with ZINVALIDSTATE')
    or diag(explain \%later);

for my $p ($A, $B) {
    my $name = $p->{name};
    for my $which (qw(wget wexists)) {
        my $w = $p->{$which};
        ok(eventually(sub { $w->{state} == ZOO_EXPIRED_SESSION_STATE }),
           "$name: the $which watch shows ZOO_EXPIRED_SESSION_STATE")
            or diag("event $w->{event}, state $w->{state}");
        is($w->{event}, ZOO_SESSION_EVENT, "$name: ... with ZOO_SESSION_EVENT");
    }
}
note(sprintf 'B learned of the expiry by itself within %.2f s of the restart', Time::HiRes::time() - $t_up);

{
    my $first = guard(60, 'B: exists after the expiry', sub { $B->{zkh}->exists($root) });
    ok(!$first, 'B: its first call after the expiry fails');
    is($B->{zkh}->get_error, ZINVALIDSTATE,
       'B: ... with ZINVALIDSTATE: no call was waiting when the server answered');
    ok(!guard(60, 'B: get after the expiry', sub { $B->{zkh}->get('/') }), 'B: so does the next');
    is($B->{zkh}->get_error, ZINVALIDSTATE, 'B: ... with ZINVALIDSTATE');
}

for my $p ($A, $B) {
    is(hex_sid($p->{zkh}{session_id}), hex_sid($p->{sid}), "$p->{name}: session_id still reports the expired session");
    ok(guard(30, 'DESTROY', sub { $p->{zkh}->DESTROY }), "$p->{name}: DESTROY of the expired handle returns true");
}

my $new = Net::ZooKeeper->new($srv->hosts, session_timeout => $TIMEOUT);
ok(guard(60, 'exists on a new handle', sub { $new->exists('/zookeeper') }), 'a new handle works')
    or diag('get_error: ' . $new->get_error);
isnt(hex_sid($new->{session_id}), hex_sid($_->{sid}), "... with a new session (not $_->{name}'s)") for $A, $B;
ok(!$new->exists($root), '... the server has no test node: it really lost its data');
is($new->get_error, ZNONODE, '... (ZNONODE)');
ok(!$new->exists($A->{eph}) && !$new->exists($B->{eph}), '... nor the ephemeral nodes of A and B');
is($new->get_error, ZNONODE, '... (ZNONODE)');
is($new->create($root, 'n', acl => ZOO_OPEN_ACL_UNSAFE), $root, '... and the new handle creates nodes');
ok(ZKTest::Util::delete_tree($new, $root), 'delete the test nodes');
ok(ZKTest::Util::delete_tree($new, "$root-pad"), 'delete the writer\'s nodes');
ok($new->DESTROY, 'DESTROY the new handle');
ok($srv->stop, 'stop the server');

done_testing();
