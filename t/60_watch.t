#!/usr/bin/perl
# The original suite's watch expectations (spec sections 3.14, 3.15, 5.4, 8):
# what a watch object shows once an event arrived and when it is reused,
# waits that time out after 0, 50 and 100 ms, the pending_watches counts of the
# worked trace in 8.4 (2, 4, 6, then 0), a watch outliving its handle, and
# events caused by another process: a forked child changes the test node step
# by step while the parent waits with one reused watch.
#
# The tie rules that need no event are in t/24_watch_tie.t; simple waits that
# time out are also in t/60_watch_basic.t.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(delete_tree reap wait_until);
use Net::ZooKeeper qw(:errors :acls :events :states);

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

is($zkh->create($root, 'root', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");

## A watch after its event, and reuse (8.1, 8.2)

{
    my $node = "$root/n";
    my $h = Net::ZooKeeper->new($hosts);
    is($h->create($node, 'a', acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");

    my $w = $h->watch(timeout => 5000);
    ok($h->exists($node, watch => $w), 'exists with a watch on an existing node');
    is($h->{pending_watches}, 1, 'the assigned watch is pending');
    ok($zkh->set($node, 'b'), 'another handle changes the node');
    ok($w->wait(), 'wait returns true once the node changed');
    is($w->{event}, ZOO_CHANGED_EVENT, 'event is ZOO_CHANGED_EVENT after a data change');
    is($w->{state}, ZOO_CONNECTED_STATE, 'state is ZOO_CONNECTED_STATE for a node event');
    is($h->{pending_watches}, 0, 'a fired watch is no longer pending');
    ok($w->wait(timeout => 0), 'wait keeps returning true after the event, even with timeout 0');
    ok($w->wait(), 'wait returns true again until the watch is reused');

    {
        my @warnings;
        local $SIG{__WARN__} = sub { push @warnings, $_[0] };
        $w->{event} = 0;
        $w->{state} = 0;
        is(scalar(@warnings), 2, 'storing event or state of a fired watch warns');
        like($warnings[0] // '', qr/^read-only element: event at /, '... read-only element: event');
        is($w->{event}, ZOO_CHANGED_EVENT, 'event of a fired watch cannot be overwritten');
        is($w->{state}, ZOO_CONNECTED_STATE, 'state of a fired watch cannot be overwritten');
    }

    my %copy = %$w;
    is_deeply(\%copy, { timeout => 5000, event => ZOO_CHANGED_EVENT, state => ZOO_CONNECTED_STATE },
              'a content copy of a fired watch holds its timeout, event and state');

    # Only one event per assignment: the deletion is seen by a second watch
    # assigned after the first event, but not by the first one.
    my $w2 = $h->watch(timeout => 5000);
    ok($h->exists($node, watch => $w2), 'a second watch is assigned to the node');
    ok($zkh->delete($node), 'another handle deletes the node');
    ok($w2->wait(), 'the second watch sees the deletion');
    is($w2->{event}, ZOO_DELETED_EVENT, '... as ZOO_DELETED_EVENT');
    is($w->{event}, ZOO_CHANGED_EVENT, 'a fired watch reports no later event until it is reused');

    ok(!$h->exists($node, watch => $w), 'reusing the fired watch (exists on the missing node)');
    is($w->{event}, 0, 'reusing a watch resets its event to 0 at once');
    is($w->{state}, 0, 'reusing a watch resets its state to 0 at once');
    is($w->{timeout}, 5000, 'reusing a watch keeps its timeout');
    ok(!$w->wait(timeout => 0), 'after reuse wait no longer returns the old event');

    # Reuse lets go of the earlier record: an event for the old assignment is
    # not shown by the watch.
    my $other = "$root/other";
    is($zkh->create($other, 'o', acl => ZOO_OPEN_ACL_UNSAFE), $other, "create $other");
    ok($h->exists($other, watch => $w), 'the watch is reused for another node');
    my $w3 = $h->watch(timeout => 5000);
    ok(!$h->exists($node, watch => $w3), 'an observer watch waits for the first node\'s creation');
    is($h->{pending_watches}, 3, 'the old record, the new one and the observer are pending');
    is($zkh->create($node, 'c', acl => ZOO_OPEN_ACL_UNSAFE), $node, 'another handle creates the first node');
    ok($w3->wait(), 'the observer sees the creation');
    is($w3->{event}, ZOO_CREATED_EVENT, '... as ZOO_CREATED_EVENT');
    is($w->{event}, 0, 'a reused watch does not show the event of its earlier assignment');
    ok(!$w->wait(timeout => 0), '... and wait on it does not return true for it');
    ok(wait_until(sub { $h->{pending_watches} == 1 }),
       'the earlier record fired too and is no longer counted in pending_watches')
        or diag("pending_watches: $h->{pending_watches}");

    ok(delete_tree($zkh, $other), "delete $other");
    ok($w->wait(), 'the watch fires for its current assignment');
    is($w->{event}, ZOO_DELETED_EVENT, '... with the event of that node');
    ok(delete_tree($zkh, $node), "delete $node");
    ok($h->DESTROY, 'DESTROY the handle');
}

## Timeouts and pending_watches: the worked trace of spec 8.4

{
    my $h = Net::ZooKeeper->new($hosts);
    $h->{watch_timeout} = 100;

    my $watch = $h->watch();
    is($watch->{timeout}, 100, 'a watch inherits watch_timeout 100');
    ok($h->exists($root, watch => $watch), 'exists with a watch (1st record)');
    ok(!$watch->wait(), 'wait with the 100 ms timeout returns false when nothing happens');
    ok($h->exists($root, watch => $watch), 'exists with the same watch again (2nd record)');
    undef $watch;
    is($h->{pending_watches}, 2, 'pending_watches is 2: a released watch object leaves its records pending');

    $watch = $h->watch(timeout => 50);
    is($watch->{timeout}, 50, 'watch(timeout => 50) sets timeout 50');
    ok(defined($h->get_children($root, watch => $watch)), 'get_children with a watch (3rd record)');
    ok(!$watch->wait(), 'wait with the 50 ms timeout returns false when nothing happens');
    $watch->{timeout} = 100;
    ok(defined($h->get_children($root, watch => $watch)), 'get_children with the watch again (4th record)');
    is($watch->{timeout}, 100, 'a changed timeout is carried into the new assignment');
    ok(!$watch->wait(), 'wait with the 100 ms timeout returns false when nothing happens');
    is($h->{pending_watches}, 4, 'pending_watches is 4');

    $watch = $h->watch();
    ok(defined($h->get($root, watch => $watch)), 'get with a new watch (5th record)');
    ok(!$watch->wait(timeout => 0), 'wait(timeout => 0) returns false at once when nothing happened');
    ok(defined($h->get($root, watch => $watch)), 'get with the watch again (6th record)');
    ok(!$watch->wait(), 'wait returns false when nothing happens');
    is($h->{pending_watches}, 6, 'pending_watches is 6: replacing a watch object leaves its records pending');

    ok($h->DESTROY, 'DESTROY of a handle with pending watches returns true');
    is($watch->{event}, 0, 'a watch still exists after its handle is destroyed, with event 0');
    is($watch->{timeout}, 100, '... and keeps its timeout');

    my $h2 = Net::ZooKeeper->new($hosts);
    ok($h2->exists($root, watch => $watch), 'the watch of a destroyed handle can be used with a new handle');
    ok(!$watch->wait(), 'wait with the carried 100 ms timeout returns false when nothing happens');
    is($h2->{pending_watches}, 1, 'the reused watch is pending on the new handle');
    ok($h2->DESTROY, 'DESTROY the new handle');
}

## Events from another process (8.4, fork part)

{
    # The parent's handle exists before the fork and is used after it.
    my $ph = Net::ZooKeeper->new($hosts);
    ok($ph->exists($root), 'the parent\'s handle works before the fork');

    pipe(my $from_parent, my $to_child) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if (!$pid) {
        # Child: one change per line from the parent; the exit status counts failures.
        close $to_child;
        alarm 120;    # never outlive a broken parent
        my $h = Net::ZooKeeper->new($hosts);
        my $child = "$root/c";
        my %step = (
            1 => sub { $h->set($root, 'foo') },
            2 => sub { ($h->create($child, 'child', acl => ZOO_OPEN_ACL_UNSAFE) // '') eq $child },
            3 => sub { $h->delete($child) },
            4 => sub { $h->set($root, 'bar') },
        );
        my $failures = 0;
        my $done = 0;
        while (defined(my $line = <$from_parent>)) {
            chomp $line;
            last if $line eq 'end';
            my $ok = $step{$line} ? $step{$line}->() : 0;
            $failures++ unless $ok;
            $done++;
        }
        $failures += 4 - $done if $done < 4;
        exit($failures > 250 ? 250 : $failures);
    }

    close $from_parent;
    my $io = select($to_child); $| = 1; select($io);

    my $watch = $ph->watch(timeout => 5000);
    my @steps = (
        [ 'exists',       sub { $ph->exists($root, watch => $watch) },                'the child sets the node',
          ZOO_CHANGED_EVENT, 'ZOO_CHANGED_EVENT' ],
        [ 'get_children', sub { defined $ph->get_children($root, watch => $watch) }, 'the child creates a child node',
          ZOO_CHILD_EVENT, 'ZOO_CHILD_EVENT' ],
        [ 'get_children', sub { defined $ph->get_children($root, watch => $watch) }, 'the child deletes the child node',
          ZOO_CHILD_EVENT, 'ZOO_CHILD_EVENT' ],
        [ 'get',          sub { defined $ph->get($root, watch => $watch) },          'the child sets the node again',
          ZOO_CHANGED_EVENT, 'ZOO_CHANGED_EVENT' ],
    );
    my $n = 0;
    for my $s (@steps) {
        my ($call, $arm, $what, $event, $event_name) = @$s;
        $n++;
        ok($arm->(), "step $n: $call assigns the reused watch");
        is($watch->{event}, 0, "step $n: the reused watch starts with event 0");
        print {$to_child} "$n\n";
        ok($watch->wait(), "step $n: wait returns true when $what");
        is($watch->{event}, $event, "step $n: event is $event_name");
        is($watch->{state}, ZOO_CONNECTED_STATE, "step $n: state is ZOO_CONNECTED_STATE");
    }
    print {$to_child} "end\n";
    close $to_child;

    undef $watch;
    is($ph->{pending_watches}, 0, 'pending_watches is 0: every record fired, and reuse purged them');

    my $status = reap($pid, 60);
    is($status, 0, 'the child made all four changes with its own handle and exited normally');

    is($ph->get($root), 'bar', 'the parent reads the child\'s last change');
    ok($ph->DESTROY, 'DESTROY the parent\'s handle');
}

ok(delete_tree($zkh, $root), 'delete the test nodes');
ok($zkh->DESTROY, 'DESTROY returns true');

done_testing();
