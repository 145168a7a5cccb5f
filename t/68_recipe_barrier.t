#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Barrier, DoubleBarrier and Party side by side with
# the real libraries: Curator's DistributedBarrier and
# DistributedDoubleBarrier (t/lib/ZKTest/interop/CuratorBarrier.java), kazoo's
# Barrier, DoubleBarrier, Party and ShallowParty
# (t/lib/ZKTest/interop/kazoo_barrier.py), see t/lib/ZKTest/Interop.pm.  A
# library that is missing skips its tests, and fails them under CI.  Other
# Perl participants are forked children with sessions of their own.  Every
# wait is bounded, on a watch or a helper's line.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(children_until);
use Net::ZooKeeper qw(:errors :acls);
use Net::ZooKeeper::Recipe::Barrier;
use Net::ZooKeeper::Recipe::DoubleBarrier;
use Net::ZooKeeper::Recipe::Party;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

# One helper per library, for the whole file (each command runs in a
# thread of its own there).
my %helper;
for my $lib (qw(curator kazoo)) {
    SKIP: {
        ZKTest::Interop::require_library($lib => 1);
        $helper{$lib} = ZKTest::Interop->start($lib eq 'curator' ? 'curator:CuratorBarrier' : 'kazoo:kazoo_barrier.py', $hosts);
        is($helper{$lib}->line(60), 'ready', "$lib helper ready");
    }
}

# The next line of a helper for $tag (without the tag); lines of other tags
# are kept for later.
sub tagged {
    my ($h, $tag, $timeout) = @_;
    my $stash = $h->{stash}{$tag} //= [];
    return shift @$stash if @$stash;
    my $end = time + ($timeout // 30);
    while (1) {
        my $left = $end - time;
        my $line = $h->line($left > 0 ? $left : 0) // return undef;
        my ($t, $rest) = $line =~ /\A(\S+) ?(.*)\z/;
        return $rest if $t eq $tag;
        push @{ $h->{stash}{$t} }, $rest;
        return undef if $left <= 0;
    }
}

# A Perl participant in a child process: $body->($handle, $say, $next_line)
# with its own session (4 s, so that a killed child's session ends soon).
sub perl_proc { ZKTest::Interop::perl_child($hosts, $_[0], session_timeout => 4000) }

# ---- Barrier ---------------------------------------------------------------

{
    my $b = Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => "$root/plain/b");
    ok($b->wait(timeout => 5), 'wait on a barrier that is not up returns at once');
    ok($b->create && $b->is_set, 'Perl puts a barrier up');
    ok($b->create, 'and again (an existing node is fine)');
    ok(!$b->wait(timeout => 0.2), 'wait with a timeout while it is up: false');
    is($b->error, ZOPERATIONTIMEOUT, 'error() is ZOPERATIONTIMEOUT');
    ok($b->remove, 'remove: true');
    ok(!$b->remove && $b->error == ZNONODE, 'remove again: false, ZNONODE');
    ok(!eval { Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => "$root/x", layout => 'zk'); 1 }
       && $@ =~ /layout must be 'curator' or 'kazoo'/, 'a bad layout croaks');
}

# Compares the nodes Perl makes with those of the library (the barrier node's
# data, and whether it and its parent are containers/ephemeral).
sub same_nodes {
    my ($lib, $theirs, $mine) = @_;
    my @what = map {
        my $p = $_;
        my ($s, $ps) = ($zkh->stat, $zkh->stat);
        my $data = $zkh->get($p, stat => $s);
        (my $parent = $p) =~ s{/[^/]+\z}{};
        $zkh->exists($parent, stat => $ps);
        join ' ', $data // 'undef', $s->{ephemeral_owner}, $ps->{ephemeral_owner};
    } $theirs, $mine;
    is($what[1], $what[0], "$lib layout: Perl makes the barrier as $lib does (data, node and parent modes)");
}

my @libs = grep { $helper{$_} } qw(curator kazoo);
for my $remover ('perl', @libs) {
    my $layout = $remover eq 'perl' ? 'curator' : $remover;
    my $path = "$root/barrier-$remover/b";
    SKIP: {
        my @waiters = ('perl', @libs);
        my $b = Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => $path, layout => $layout);
        if ($remover eq 'perl') {
            ok($b->create, 'Perl sets the barrier');
        }
        else {
            $helper{$remover}->say("s set $path");
            is(tagged($helper{$remover}, 's'), 'set', "$remover sets the barrier");
            my $mine = Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => "$root/mine-$remover/b", layout => $layout);
            $mine->create;
            same_nodes($remover, $path, "$root/mine-$remover/b");
        }
        ok($b->is_set, "the barrier of $remover is up");
        my %w;
        for my $who (@waiters) {
            if ($who eq 'perl') {
                $w{perl} = perl_proc(sub {
                    my ($h, $say) = @_;
                    my $pb = Net::ZooKeeper::Recipe::Barrier->new(handle => $h, path => $path, layout => $layout);
                    $say->('waiting');
                    if ($pb->wait(timeout => 30)) { $say->('cleared ' . ($h->exists($path) ? 'present' : 'gone')) }
                    else { $say->('timeout ' . $pb->error) }
                });
                is($w{perl}->line(30), 'waiting', 'Perl waiter waiting');
            }
            else {
                $helper{$who}->say("w$remover wait $path 30");
                is(tagged($helper{$who}, "w$remover"), 'waiting', "$who waiter waiting");
            }
        }
        # Give each waiter the chance to pass wrongly: the barrier is read
        # once more, by this process, before it is removed.
        ok($zkh->exists($path), 'still up');
        my @early = grep { defined($_ eq 'perl' ? $w{perl}->line(0) : tagged($helper{$_}, "w$remover", 0)) } @waiters;
        is("@early", '', 'no waiter passed while the barrier is up');
        if ($remover eq 'perl') { ok($b->remove, 'Perl removes the barrier') }
        else {
            $helper{$remover}->say("r remove $path");
            like(tagged($helper{$remover}, 'r'), qr/\Aremoved( True)?\z/, "$remover removes the barrier");
        }
        for my $who (@waiters) {
            my $got = $who eq 'perl' ? $w{perl}->line(30) : tagged($helper{$who}, "w$remover", 30);
            is($got, 'cleared gone', "$who waiter released when $remover removed the barrier");
        }
        $w{perl}->finish;
    }
}

# ---- DoubleBarrier ---------------------------------------------------------

my %MEMBER = (curator => qr/\A[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\z/,
              kazoo   => qr/\A[0-9a-f]{32}\z/);
for my $lib (qw(curator kazoo)) {
    SKIP: {
        ZKTest::Interop::require_library($lib => 18);
        my $h = $helper{$lib};
        my $path = "$root/double-$lib";
        my $N = 4;    # 2 of the library, a Perl child, this process
        $h->say("d$_ double $path $N") for 1 .. 2;
        my $child = perl_proc(sub {
            my ($ch, $say, $next) = @_;
            my $db = Net::ZooKeeper::Recipe::DoubleBarrier->new(
                handle => $ch, path => $path, num_clients => $N, layout => $lib);
            $say->('entering');
            $db->enter(timeout => 30) or return $say->('timeout ' . $db->error);
            $say->('entered ' . scalar(() = $db->members));
            my $cmd = $next->();
            die "expected leave, got '$cmd'\n" unless $cmd eq 'leave';
            $db->leave(timeout => 30) or return $say->('timeout ' . $db->error);
            $say->('left ' . scalar(() = $db->members));
        });
        my @others = ([ "$lib 1", sub { tagged($h, 'd1', @_) } ], [ "$lib 2", sub { tagged($h, 'd2', @_) } ],
                      [ 'Perl child', sub { $child->line(@_) } ]);
        is($_->[1]->(60), 'entering', "$_->[0] entering") for @others;
        ok(children_until($zkh, $path, sub { (grep { $_ ne 'ready' } @_) == $N - 1 }), ($N - 1) . ' participants in');
        my @names = grep { $_ ne 'ready' } $zkh->get_children($path);
        is(scalar(grep { $_ =~ $MEMBER{$lib} } @names), $N - 1, "$lib layout participant nodes (@names)");
        # Curator: the client's default data (the local address) in every
        # node; kazoo: the identifier (the helper's tags d1 and d2).
        my @data = sort map { $zkh->get("$path/$_") // 'undef' } @names;
        if ($lib eq 'curator') {
            my $addr = Net::ZooKeeper::Recipe::local_address();
            is("@data", join(' ', ($addr) x @names), "participant data: the local address ($addr), as Curator's");
        }
        else {
            is(scalar(grep { /\Ad[12]\z/ } @data), 2, "participant data: the kazoo identifiers (@data)");
        }
        ok(!$zkh->exists("$path/ready"), 'no ready node yet');
        my @early = grep { defined $_->[1]->(0) } @others;
        is(scalar(@early), 0, "nobody passed enter with " . ($N - 1) . " of $N in");
        my $db = Net::ZooKeeper::Recipe::DoubleBarrier->new(handle => $zkh, path => $path, num_clients => $N, layout => $lib);
        ok($db->enter(timeout => 30), "this process enters as number $N, and passes");
        is($_->[1]->(30), "entered $N", "$_->[0] passed enter, with all $N in") for @others;

        my @all = sort(@names, $db->node);
        $h->say("d$_ leave") for 1 .. 2;
        $child->say('leave');
        # Every participant but the lowest deletes its node as it leaves;
        # the lowest and this one (not leaving yet) stay.
        my %stay = map { $_ => 1 } $all[0], $db->node;
        ok(children_until($zkh, $path, sub { my @p = grep { $_ ne 'ready' } @_; @p == keys(%stay) && !grep { !$stay{$_} } @p }),
           'the others are leaving: only the lowest node and ours are left');
        @early = grep { defined $_->[1]->(0) } @others;
        is(scalar(@early), 0, 'nobody passed leave while this process has not left');
        ok($db->leave(timeout => 30), 'this process leaves, and passes');
        my @left = map { $_->[1]->(30) // 'nothing' } @others;
        is("@left", join(' ', ('left 0') x @others), 'every other participant passed leave once all had left');
        ok(children_until($zkh, $path, sub { !@_ }, 10), 'no node left under the barrier (ready deleted too)');
        $child->finish;
    }
}

# ---- Party -----------------------------------------------------------------

for my $type (qw(party shallow)) {
    SKIP: {
        ZKTest::Interop::require_library(kazoo => 11);
        my $h = $helper{kazoo};
        my $path = "$root/party-$type";
        my $party = Net::ZooKeeper::Recipe::Party->new(handle => $zkh, path => $path, identifier => 'perl-main', type => $type);
        ok($party->join, "$type: Perl joins");
        my $child = perl_proc(sub {
            my ($ch, $say, $next) = @_;
            my $p = Net::ZooKeeper::Recipe::Party->new(handle => $ch, path => $path, identifier => 'perl-child', type => $type);
            $p->join or die "join: " . $p->error . "\n";
            $say->('joined');
            $next->();    # killed meanwhile
        });
        is($child->line(30), 'joined', "$type: a Perl child joins");
        $h->say("$type-$_ party $path kazoo-$_ $type") for 1 .. 2;
        is(tagged($h, "$type-$_"), 'joined', "$type: kazoo member $_ joins") for 1 .. 2;
        my @everyone = sort qw(perl-main perl-child kazoo-1 kazoo-2);
        is(join(',', sort $party->members), join(',', @everyone), "$type: Perl sees every member");
        is($party->count, 4, "$type: count 4");
        $h->say("$type-1 members");
        is(tagged($h, "$type-1"), 'members ' . join(',', @everyone), "$type: kazoo sees every member");

        my @seen;
        $party->watch(sub { my ($p, @m) = @_; push @seen, join(',', sort @m) });
        my $until = sub {
            my ($want) = @_;
            my $end = time + 30;
            $zkh->dispatch(timeout => 1000) while (!@seen || $seen[-1] ne $want) && time < $end;
            return @seen ? $seen[-1] : 'no change';
        };
        $h->say("$type-2 quit");
        is(tagged($h, "$type-2"), 'gone', "$type: kazoo member 2 closes its session");
        is($until->('kazoo-1,perl-child,perl-main'), 'kazoo-1,perl-child,perl-main', "$type: Perl's watch sees it leave");
        kill 'KILL', $child->{pid};
        waitpid(delete $child->{pid}, 0);
        is($until->('kazoo-1,perl-main'), 'kazoo-1,perl-main', "$type: a killed Perl member leaves when its session expires");
        $h->say("$type-1 members");
        is(tagged($h, "$type-1"), 'members kazoo-1,perl-main', "$type: kazoo sees the same");
        $party->unwatch;
        $h->say("$type-1 quit");
        tagged($h, "$type-1");
    }
}

$_->finish for values %helper;
done_testing;
