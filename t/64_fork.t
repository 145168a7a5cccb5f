#!/usr/bin/perl
# Handles and fork (lib/Net/ZooKeeper.pod "Threads and Processes"; spec 5.6):
# a process that holds live, used handles forks.  In the child every method of
# an inherited handle croaks "cannot be used after fork" at once, while its
# attributes can still be read; the child's own new handles work, watches
# included.  Destroying an inherited handle in the child, explicitly or by
# exiting, leaves the parent's session alone: the parent's ephemeral nodes
# survive and the parent's handles keep working and see the child's changes as
# watch events.
#
# The child reports each of its checks over a pipe ("ok NAME" / "not ok NAME");
# the parent turns them into tests.  Its exit status is its number of failures.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Scalar::Util ();

use ZKTest;
use ZKTest::Util qw(exception_of delete_tree reap);
use Net::ZooKeeper qw(:errors :acls :events :states :node_flags);

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

## Before the fork: two used handles, each owning an ephemeral node, and
## watches armed on them.

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
my $zkh2 = Net::ZooKeeper->new($hosts);

my $eph_a = "$root/eph_a";
my $eph_b = "$root/eph_b";
my $flag  = "$root/flag";
my $ping  = "$root/ping";
my $cnode = "$root/from_child";

is($zkh->create($root, 'root', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
is($zkh->create($eph_a, 'a', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph_a,
   'the first handle creates an ephemeral node');
is($zkh2->create($eph_b, 'b', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE), $eph_b,
   'the second handle creates an ephemeral node');
my $sid  = $zkh->{session_id};
my $sid2 = $zkh2->{session_id};
is(length($sid), 24, 'the first handle is connected');

my $w_flag = $zkh->watch(timeout => 10000);
ok(!$zkh->exists($flag, watch => $w_flag), 'before the fork, a watch waits for the creation of a node');
my $w_eph_a = $zkh->watch(timeout => 100);
my $w_eph_b = $zkh2->watch(timeout => 100);
ok($zkh->exists($eph_a, watch => $w_eph_a), 'a watch on the first ephemeral node');
ok($zkh2->exists($eph_b, watch => $w_eph_b), 'a watch on the second ephemeral node');

pipe(my $from_parent, my $to_child) or die "pipe: $!";
pipe(my $from_child, my $to_parent) or die "pipe: $!";
my $parent_pid = $$;
my $pid = fork;
die "fork: $!" unless defined $pid;

if (!$pid) {
    ## Child
    close $to_child;
    close $from_child;
    my $io = select($to_parent); $| = 1; select($io);
    alarm 120;    # never outlive a broken parent

    my $failures = 0;
    my $report = sub {
        my ($ok, $name, $diag) = @_;
        $failures++ unless $ok;
        $name =~ s/\n/ /g;
        print {$to_parent} ($ok ? 'ok' : 'not ok'), "\t$name",
            (!$ok && defined $diag ? "\t" . join(' ', split /\n/, $diag) : ''), "\n";
    };
    my $expect = sub {    # waits for the parent's go-ahead
        my ($what) = @_;
        my $line = <$from_parent>;
        chomp $line if defined $line;
        return defined $line && $line eq $what;
    };
    my $croaks = sub {
        my ($name, $code) = @_;
        my $err = exception_of($code);
        $report->($err =~ /cannot be used after fork/, "inherited handle: $name croaks 'cannot be used after fork'",
                  "got: $err");
        return $err;
    };

    # Every method of an inherited handle croaks.
    my $err = $croaks->('exists', sub { $zkh->exists($root) });
    $report->($err =~ /\b\Q$parent_pid\E\b/, 'the message names the parent process', "got: $err");
    $croaks->('get',          sub { $zkh->get($eph_a) });
    $croaks->('get_children', sub { $zkh->get_children($root) });
    $croaks->('create',       sub { $zkh->create("$root/x", 'x', acl => ZOO_OPEN_ACL_UNSAFE) });
    $croaks->('set',          sub { $zkh->set($root, 'x') });
    $croaks->('delete',       sub { $zkh->delete($eph_a) });
    $croaks->('get_acl',      sub { $zkh->get_acl($root) });
    $croaks->('set_acl',      sub { $zkh->set_acl($root, ZOO_OPEN_ACL_UNSAFE) });
    $croaks->('add_auth',     sub { $zkh->add_auth('digest', 'user:pw') });
    $croaks->('get_error',    sub { $zkh->get_error() });
    $croaks->('stat',         sub { $zkh->stat() });
    $croaks->('watch',        sub { $zkh->watch() });
    $croaks->('exists with a watch', sub { $zkh->exists($flag, watch => $w_flag) });
    $croaks->('exists on the second handle', sub { $zkh2->exists($root) });

    # Attributes can still be read.
    $report->(($zkh->{hosts} // '') eq $hosts, 'inherited handle: hosts can still be read');
    $report->(($zkh->{data_read_len} // -1) == 1023, 'inherited handle: data_read_len can still be read');

    # New handles work in the child, watches included.
    my $c1 = Net::ZooKeeper->new($hosts);
    my $c2 = Net::ZooKeeper->new($hosts);
    $report->(($c1->create($cnode, 'c', acl => ZOO_OPEN_ACL_UNSAFE) // '') eq $cnode,
              'a new handle in the child creates a node', 'error ' . $c1->get_error);
    $report->(($c1->get($eph_a) // '') eq 'a', 'a new handle in the child reads the parent\'s ephemeral node');
    my $cw = $c1->watch(timeout => 10000);
    $report->(($c1->get($cnode, watch => $cw) // '') eq 'c', 'a child handle assigns a watch with get');
    $report->($c2->set($cnode, 'd'), 'another child handle sets the node');
    $report->($cw->wait(), 'the child\'s watch fires');
    $report->($cw->{event} == ZOO_CHANGED_EVENT, 'the child\'s watch shows ZOO_CHANGED_EVENT', "event $cw->{event}");
    $report->($cw->{state} == ZOO_CONNECTED_STATE, 'the child\'s watch shows ZOO_CONNECTED_STATE', "state $cw->{state}");
    $report->($c1->{pending_watches} == 0, 'the child handle has no pending watches after the event');

    # The parent's pre-fork watch sees a node the child creates.
    $report->(($c2->create($flag, 'f', acl => ZOO_OPEN_ACL_UNSAFE) // '') eq $flag,
              'the child creates the node the parent watches');

    # The child watches for a node the parent creates.
    my $pw = $c1->watch(timeout => 10000);
    $report->(!$c1->exists($ping, watch => $pw), 'the child watches for the creation of a node');
    print {$to_parent} "armed\n";
    $report->($pw->wait(), 'the child\'s watch fires when the parent creates the node');
    $report->($pw->{event} == ZOO_CREATED_EVENT, '... with ZOO_CREATED_EVENT', "event $pw->{event}");

    # Destroying an inherited handle in the child.
    my $weak = $zkh;
    Scalar::Util::weaken($weak);
    undef $zkh;
    $report->(!defined $weak, 'undef frees the child\'s copy of the inherited handle');
    print {$to_parent} "undef done\n";
    $report->($expect->('checked'), 'the parent checked its handle after the child released its copy');

    $report->($c1->DESTROY, 'DESTROY of a child handle returns true');
    print {$to_parent} "end\n";
    close $to_parent;
    exit($failures > 250 ? 250 : $failures);    # $zkh2, $c2 and the watches go at exit
}

## Parent

close $from_parent;
close $to_parent;
{
    my $io = select($to_child); $| = 1; select($io);
}

my $child_end = 0;
my $child_lines = 0;
# Reads the child's reports up to the line $until; returns false at EOF.
sub child_reports {
    my ($until) = @_;
    while (defined(my $line = <$from_child>)) {
        chomp $line;
        return 1 if $line eq $until;
        my ($status, $name, $diag) = split /\t/, $line, 3;
        $child_lines++;
        ok($status eq 'ok', "child: $name") or diag($diag // '');
    }
    return 0;
}

ok($zkh->exists($root), 'the parent\'s first handle works after the fork');
ok($zkh2->exists($root), 'the parent\'s second handle works after the fork');

ok($w_flag->wait(), 'the parent\'s pre-fork watch fires when the child creates the node');
is($w_flag->{event}, ZOO_CREATED_EVENT, '... with ZOO_CREATED_EVENT');
is($w_flag->{state}, ZOO_CONNECTED_STATE, '... with ZOO_CONNECTED_STATE');

ok(child_reports('armed'), 'the child armed a watch');
is($zkh->create($ping, 'p', acl => ZOO_OPEN_ACL_UNSAFE), $ping, 'the parent creates the node the child watches');

ok(child_reports('undef done'), 'the child released its copy of the first handle');
my $fresh = Net::ZooKeeper->new($hosts);
ok($fresh->exists($eph_a), 'the parent\'s ephemeral node survives the child releasing the handle');
is($zkh->get($eph_a), 'a', 'the parent\'s handle keeps working');
is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), '... in the same session');
is($w_eph_a->{event}, 0, 'the watch on the parent\'s ephemeral node has not fired');
print {$to_child} "checked\n";

ok(child_reports('end'), 'the child finished its checks');
close $to_child;
my $status = reap($pid, 60);
is($child_lines, 32, 'the child reported all its 32 checks');
is($status, 0, 'the child exited normally with no failed checks');

## After the child has exited

ok($fresh->exists($eph_a), 'the first ephemeral node survives the child\'s exit');
ok($fresh->exists($eph_b), 'the second ephemeral node survives the child\'s exit');
is($zkh->get($eph_a), 'a', 'the parent\'s first handle keeps working');
is($zkh2->get($eph_b), 'b', 'the parent\'s second handle keeps working');
is(unpack('H*', $zkh->{session_id}), unpack('H*', $sid), 'the first handle keeps its session');
is(unpack('H*', $zkh2->{session_id}), unpack('H*', $sid2), 'the second handle keeps its session');
ok(!$w_eph_a->wait(), 'no deletion event for the first ephemeral node');
ok(!$w_eph_b->wait(), 'no deletion event for the second ephemeral node');
is($zkh->get($cnode), 'd', 'the parent reads the node the child created and changed');

my $w = $zkh->watch(timeout => 10000);
ok($zkh->exists($eph_b, watch => $w), 'the parent watches the second ephemeral node');
ok($zkh2->DESTROY, 'the parent destroys its second handle');
ok($w->wait(), 'closing the handle in the parent does delete its ephemeral node');
is($w->{event}, ZOO_DELETED_EVENT, '... with ZOO_DELETED_EVENT');
ok(!$fresh->exists($eph_b), 'the second ephemeral node is gone');

ok(delete_tree($zkh, $root), 'delete the test nodes');
ok($zkh->DESTROY, 'DESTROY the first handle');
ok($fresh->DESTROY, 'DESTROY the fresh handle');

done_testing();
