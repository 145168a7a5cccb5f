#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Election side by side with the real libraries:
# a Perl participant process and a Curator LeaderLatch process
# (t/lib/ZKTest/interop/CuratorLeader.java), then a Perl one and a kazoo
# Election process (kazoo_election.py).  The leader's process is killed
# (SIGKILL: its session ends only by timeout), and the other must take over
# only once the dead leader's node is gone; a third handle checks the nodes
# and both sides say who leads.  A library that is missing skips its tests,
# and fails them under CI.
#
# Waits are on participant output lines, each bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use IO::Handle ();

use ZKTest;
use ZKTest::Interop;
use Net::ZooKeeper qw(:errors :acls);
use Net::ZooKeeper::Recipe::Election;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

# A killed participant's session lasts until it times out: keep it short
# (the server's minimum, two ticks, is 4 s with the harness's tick).
my $SESSION = 4000;

# A Perl participant in a child process with its own session; it speaks the
# helpers' protocol: "joined NODE", "leader" / "follower" from on_change
# (run from dispatch), and answers "leader?" with "is leader" or
# "is follower" then "sees ID".
sub perl_participant {
    my ($layout, $path, $id) = @_;
    return ZKTest::Interop::perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        # start() may already call on_change: its line waits until
        # "joined" is out, as the helpers print them in that order.
        my ($joined, @early);
        my $e = Net::ZooKeeper::Recipe::Election->new(
            handle => $h, path => $path, layout => $layout, identifier => $id,
            on_change => sub {
                my $line = $_[1] ? 'leader' : 'follower';
                $joined ? $say->($line) : push @early, $line;
            });
        $e->start or die "start: " . $e->error . "\n";
        $say->('joined', $e->node);
        $say->($_) for @early;
        $joined = 1;
        # The event loop: commands on stdin, watches from dispatch; both
        # bounded by short timeouts so neither starves the other.
        while (1) {
            my $line = $next_line->(0.05);
            if (defined $line) {
                last if $line eq '' || $line eq 'stop';
                if ($line eq 'leader?') {
                    $say->($e->is_leader ? 'is leader' : 'is follower');
                    $say->('sees', $e->leader_id // '');
                }
            }
            $h->dispatch(timeout => 50);
        }
        $e->stop;
        $say->('stopped');
    }, session_timeout => $SESSION);
}

# Kills a participant's process outright: no goodbye to ZooKeeper.
sub kill_participant {
    my ($p) = @_;
    kill 'KILL', $p->{pid};
    waitpid(delete $p->{pid}, 0);
}

# Asks a participant who leads: (its own view, the leader id it reads).
sub ask {
    my ($p) = @_;
    $p->say('leader?');
    my $mine = $p->line(20) // 'no answer';
    my $sees = $p->line(20) // 'no answer';
    $sees =~ s/\Asees //;
    return ($mine, $sees);
}

# Kills the leader $dead (whose node is $node) and checks, while its node
# lives on until the session times out, that the survivor $p does not lead
# yet: a dead leader's node still blocks everyone.  Then waits for $p to
# take over.  Returns the takeover line ("leader" if all went well).
sub kill_leader {
    my ($dead, $node, $p, $dead_id, $what) = @_;
    kill_participant($dead);
    my @answer = ask($p);
    if ($zkh->exists($node)) {
        # Asked and answered before the node went: the answer is the
        # survivor's view while the dead leader still held its node.
        is_deeply(\@answer, [ 'is follower', $dead_id ], "$what: no takeover while the dead leader's node remains");
    }
    else {
        pass("$what: the dead leader's node went before the check could be made");
    }
    # The survivor's "leader" may have come between (or within) the answers.
    return 'leader' if grep { $_ eq 'leader' } @answer;
    while (defined(my $line = $p->line(30))) {
        return $line unless $line =~ /\A(?:is |sees )/;
    }
    return undef;
}

# The participant nodes as a third handle sees them, in election order.
sub nodes {
    my ($layout, $path) = @_;
    my $view = Net::ZooKeeper::Recipe::Election->new(handle => $zkh, path => $path, layout => $layout);
    return $view->participant_nodes;
}

my %NAME = (
    curator => qr/\A_c_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-latch-\d{10}\z/,
    kazoo   => qr/\A[0-9a-f]{32}__lock__\d{10}\z/,
);

for my $case ([ curator => 'curator:CuratorLeader' ], [ kazoo => 'kazoo:kazoo_election.py' ]) {
    my ($lib, $program) = @$case;
    SKIP: {
        ZKTest::Interop::require_library($lib => 25);
        my $path = "$root/$lib-election";

        # Perl joins first and leads; the library's participant queues.
        my $perl = perl_participant($lib, $path, 'perl-1');
        my $pnode = ($perl->line(20) // '') =~ s/\Ajoined //r;
        is($perl->line(20), 'leader', "$lib: the first Perl participant leads");
        my $other = ZKTest::Interop->start($program, $hosts, $path, "$lib-1", $SESSION);
        my $onode = ($other->line(60) // '') =~ s/\Ajoined //r;
        like($onode, $NAME{$lib}, "$lib: its node in the shared layout ($onode)");
        is($zkh->get("$path/$onode"), "$lib-1", "$lib: its node holds its id");
        is_deeply([ nodes($lib, $path) ], [ $pnode, $onode ], "$lib: Perl's node first, then $lib\'s");
        is_deeply([ ask($perl) ],  [ 'is leader',   'perl-1' ], "$lib: Perl says it leads");
        is_deeply([ ask($other) ], [ 'is follower', 'perl-1' ], "$lib: $lib says Perl leads");

        # The Perl leader dies: the library's participant takes over, and only
        # once the dead leader's node has gone with its session.
        is(kill_leader($perl, "$path/$pnode", $other, 'perl-1', $lib), 'leader',
           "$lib: takes over when the Perl leader is killed");
        is_deeply([ nodes($lib, $path) ], [$onode], "$lib: ... after the dead leader's node went");
        my $perl2 = perl_participant($lib, $path, 'perl-2');
        my $pnode2 = ($perl2->line(20) // '') =~ s/\Ajoined //r;
        like($pnode2, $NAME{$lib}, "$lib: a new Perl participant joins");
        is_deeply([ nodes($lib, $path) ], [ $onode, $pnode2 ], "$lib: ... behind the new leader");
        is_deeply([ ask($other) ], [ 'is leader',   "$lib-1" ], "$lib: $lib says it leads");
        is_deeply([ ask($perl2) ], [ 'is follower', "$lib-1" ], "$lib: Perl says $lib leads");

        # The library's leader dies: Perl takes over.
        is(kill_leader($other, "$path/$onode", $perl2, "$lib-1", $lib), 'leader',
           "$lib: Perl takes over when the $lib leader is killed");
        is_deeply([ nodes($lib, $path) ], [$pnode2], "$lib: ... after the dead leader's node went");
        is_deeply([ ask($perl2) ], [ 'is leader', 'perl-2' ], "$lib: Perl says it leads");

        # And back: a new library participant queues behind Perl, and leads
        # when Perl stops cleanly (no session timeout to wait for).
        my $other2 = ZKTest::Interop->start($program, $hosts, $path, "$lib-2", $SESSION);
        my $onode2 = ($other2->line(60) // '') =~ s/\Ajoined //r;
        is_deeply([ nodes($lib, $path) ], [ $pnode2, $onode2 ], "$lib: a new $lib participant queues behind Perl");
        is_deeply([ ask($other2) ], [ 'is follower', 'perl-2' ], "$lib: it says Perl leads");
        $perl2->say('stop');
        is($perl2->line(20), 'stopped', "$lib: Perl stops");
        is($other2->line(30), 'leader', "$lib: $lib leads after Perl stopped");
        $other2->say('stop');
        is($other2->line(30), 'stopped', "$lib: $lib stops");
        is(scalar(() = nodes($lib, $path)), 0, "$lib: no participant left");
        is($other2->finish, 0, "$lib: its process exited cleanly");
        waitpid(delete $perl2->{pid}, 0);
        is($?, 0, "$lib: the Perl process exited cleanly");
    }
}

done_testing;
