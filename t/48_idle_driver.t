#!/usr/bin/perl
# Between calls the runtime's worker thread does the socket work (manual
# "Background Runtime"): while Perl computes or sleeps without calling any
# method, a watch notification is recorded (the Watch object's attributes
# change without wait()) and heartbeats keep the session for longer than its
# timeout.  The notification comes from another process, so no call of this
# process carries it in.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();
use Time::HiRes ();

use ZKTest;
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts, session_timeout => 4000);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');
ok($zkh->create("$root/watched", 'v0', acl => ZOO_OPEN_ACL_UNSAFE), 'create the watched node');
ok($zkh->create("$root/alive", '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE),
   'create an ephemeral node of this session');
my $timeout = $zkh->{session_timeout} / 1000;
my $session = $zkh->{session_id};
cmp_ok($timeout, '>', 0, "the negotiated session timeout is known ($timeout s)");

# Burns CPU without calling Net::ZooKeeper until $done->() or $seconds pass.
sub busy {
    my ($seconds, $done) = @_;
    my $end = Time::HiRes::time() + $seconds;
    my $x = 0;
    while (Time::HiRes::time() < $end) {
        $x = ($x * 31 + 7) % 1000003 for 1 .. 1000;
        return 1 if $done && $done->();
    }
    return 0;
}

# The other process: sets the watched node when told to.
pipe(my $from_parent, my $to_child) or die "pipe: $!";
my $pid = fork // die "fork: $!";
if (!$pid) {
    close $to_child;
    my $h = Net::ZooKeeper->new($hosts);
    my $go = <$from_parent>;
    my $ok = defined $go && $h->set("$root/watched", 'v1');
    POSIX::_exit($ok ? 0 : 1);
}
close $from_parent;
$to_child->autoflush(1);

my $w = $zkh->watch;
ok($zkh->exists("$root/watched", watch => $w), 'arm a watch on the node');
is($w->{event}, 0, 'nothing has fired yet');
print {$to_child} "go\n";
close $to_child;

# No method is called from here on until the checks below.
ok(busy(30, sub { $w->{event} != 0 }), 'the notification is recorded while Perl computes, without wait()');
is($w->{event}, ZOO_CHANGED_EVENT, 'the watch shows ZOO_CHANGED_EVENT');
is($w->{state}, ZOO_CONNECTED_STATE, 'in the connected state');
waitpid($pid, 0);
is($?, 0, 'the other process set the node');

busy(1.5 * $timeout);
select(undef, undef, undef, 1.5 * $timeout);

# Now look: the session outlived three timeouts without a call of ours.
my $other = Net::ZooKeeper->new($hosts);
ok($other->exists("$root/alive"), 'another session still sees our ephemeral node');
is($zkh->{session_id}, $session, 'the handle keeps its session');
is($zkh->get("$root/watched"), 'v1', 'and calls on it work');
is($zkh->get_error, ZOK, 'with ZOK');

$zkh->delete("$root/alive");
$zkh->delete("$root/watched");
$zkh->delete($root);
done_testing();
