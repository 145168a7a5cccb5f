#!/usr/bin/perl
# Net::ZooKeeper::Recipe::Queue and LockingQueue, alone and side by side with
# kazoo's Queue and LockingQueue (t/lib/ZKTest/interop/kazoo_queue.py, see
# t/lib/ZKTest/Interop.pm).  Without kazoo its tests are skipped (failed
# under CI).  Values travel to and from the helper in hex, so that any bytes
# are compared.  Every wait is bounded (a helper's line, a queue's get
# timeout).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use Net::ZooKeeper qw(:errors :acls);
use Net::ZooKeeper::Recipe::Queue;
use Net::ZooKeeper::Recipe::LockingQueue;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my %CLASS = (simple => 'Net::ZooKeeper::Recipe::Queue', locking => 'Net::ZooKeeper::Recipe::LockingQueue');

sub hex_of { my $h = unpack('H*', $_[0]); length $h ? $h : '-' }
sub un_hex { $_[0] eq '-' ? '' : pack('H*', $_[0]) }

# Takes one entry: the simple queue's get, or the locking queue's get and
# consume.
sub take_one {
    my ($q, $timeout) = @_;
    return $q->get unless $q->isa('Net::ZooKeeper::Recipe::LockingQueue');
    my $v = $q->get(timeout => $timeout // 5);
    die "consume failed: " . $q->error . "\n" if defined $v && !$q->consume;
    return $v;
}

# Values that a text-minded or truncating path would spoil.
my @VALUES = ("\0", join('', map { chr } 0 .. 255), '', "caf\xc3\xa9", "x" x 100_000, "line\nbreak", "\xff\xfe");

# A Perl process of its own: $body->($handle, $say, $next_line), with a 4 s
# session so that a killed child's session ends soon.
sub perl_proc { ZKTest::Interop::perl_child($hosts, $_[0], session_timeout => 4000) }

# ---- Perl alone --------------------------------------------------------------

for my $type (qw(simple locking)) {
    my $q = $CLASS{$type}->new(handle => $zkh, path => "$root/$type-alone");
    # Priorities 5, 1, 5, 0, 1, ... in put order; expected: by priority, then FIFO.
    my @put = map { [ "v$_", (5, 1, 5, 0, 1, 999, 100)[$_ % 7] ] } 0 .. 13;
    ok($q->put($_->[0], priority => $_->[1]), "$type: put $_->[0] priority $_->[1]") for @put[0 .. 1];
    $q->put($_->[0], priority => $_->[1]) for @put[2 .. $#put];
    ok($q->put_all([qw(all1 all2 all3)], priority => 1), "$type: put_all");
    push @put, map { [ $_, 1 ] } qw(all1 all2 all3);
    is($q->length, scalar @put, "$type: length");
    my @want = map { $_->[0] } sort { $a->[1] <=> $b->[1] } @put;    # sort is stable
    my @got;
    while (defined(my $v = take_one($q, 0.5))) { push @got, $v }
    is("@got", "@want", "$type: lower priority first, FIFO within a priority");
    is($q->length, 0, "$type: empty after all taken");
    ok(!defined take_one($q, 0.2), "$type: get on an empty queue gives undef");
    is($q->error, $type eq 'simple' ? ZOK : ZOPERATIONTIMEOUT, "$type: error() " . ($type eq 'simple' ? 'ZOK' : 'ZOPERATIONTIMEOUT'));
    ok(!eval { $q->put('x', priority => 1000); 1 } && $@ =~ /priority must be an integer from 0 to 999/, "$type: priority 1000 croaks");
    ok(!eval { $q->put("\x{263a}"); 1 } && $@ =~ /value must be a byte string/, "$type: a wide character croaks");
    my @names = $zkh->get_children($type eq 'simple' ? "$root/$type-alone" : "$root/$type-alone/entries");
    is(scalar @names, 0, "$type: no entry left");
}

{
    my $q = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => "$root/locking-basics");
    $q->put('first', priority => 7);
    $q->put('second', priority => 7);
    my $entry = "$root/locking-basics/entries";
    my @names = $zkh->get_children($entry);
    like($names[0], qr/\Aentry-007-\d{10}\z/, "kazoo's entry name ($names[0])");
    is($q->get(timeout => 5), 'first', 'get takes the first');
    my $taken = $q->taken_entry;
    is($zkh->get("$root/locking-basics/taken/$taken"), $q->id, 'taken/<entry> holds our id');
    like($q->id, qr/\A[0-9a-f]{32}\z/, 'the id is a uuid4 hex');
    is($q->get(timeout => 5), 'first', 'get again: the same entry while not consumed');
    ok($q->holds_lock, 'holds_lock');
    my $other = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => "$root/locking-basics");
    is($other->get(timeout => 5), 'second', 'another consumer gets the next entry');
    ok($q->release, 'release gives the first back');
    ok(!$q->holds_lock, 'no lock held after release');
    is($q->get(timeout => 5), 'first', 'and it can be taken again');
    ok($q->consume && $other->consume, 'both consumed');
    is($q->length, 0, 'nothing left');
    ok(!$q->consume && !$q->release, 'consume/release with nothing taken: false');
}

# ---- with kazoo ----------------------------------------------------------------

SKIP: {
    ZKTest::Interop::require_library(kazoo => 40);
    my $k = ZKTest::Interop->start('kazoo:kazoo_queue.py' => $hosts);
    is($k->line(60), 'ready', 'kazoo helper ready');

    for my $type (qw(simple locking)) {
        my $path = "$root/$type-interop";
        my $q = $CLASS{$type}->new(handle => $zkh, path => $path);
        my @put = map { [ $VALUES[$_], (3, 1, 3, 2)[$_ % 4] ] } 0 .. $#VALUES;
        $q->put($_->[0], priority => $_->[1]) for @put;
        my @want = map { $_->[0] } sort { $a->[1] <=> $b->[1] } @put;
        my @got;
        for (@want) {
            $k->say("get $path $type");
            my $line = $k->line(30) // 'nothing';
            push @got, $line =~ /\Avalue (\S+)\z/ ? un_hex($1) : $line;
        }
        is(scalar(grep { $got[$_] eq $want[$_] } 0 .. $#want), scalar(@want),
           "$type: Perl put, kazoo get: every value intact and in kazoo's order");
        $k->say("get $path $type");
        is($k->line(30), 'empty', "$type: kazoo finds the queue empty");

        @put = map { [ $VALUES[$_], (0, 999, 0, 50)[$_ % 4] ] } 0 .. $#VALUES;
        for (@put) {
            $k->say("put $path $type $_->[1] " . hex_of($_->[0]));
            $k->line(30);
        }
        @want = map { $_->[0] } sort { $a->[1] <=> $b->[1] } @put;
        @got = ();
        while (defined(my $v = take_one($q))) { push @got, $v }
        is(scalar(@got), scalar(@want), "$type: kazoo put, Perl get: as many values");
        is(scalar(grep { $got[$_] eq $want[$_] } 0 .. $#want), scalar(@want), "$type: every value intact and in order");
    }

    # kazoo's put_all, and Perl's, read by the other.
    {
        my $path = "$root/locking-all";
        my $q = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => $path);
        $k->say("putall $path 4 " . join(' ', map { hex_of($_) } @VALUES));
        is($k->line(30), 'ok', 'kazoo put_all');
        $q->put_all(\@VALUES, priority => 3);
        $k->say("len $path locking");
        is($k->line(30), 'len ' . 2 * @VALUES, 'kazoo counts both batches');
        my @mine;
        for (1 .. @VALUES) {
            $k->say("get $path locking");
            my $line = $k->line(30) // '';
            push @mine, $line =~ /\Avalue (\S+)\z/ ? un_hex($1) : $line;
        }
        is(join(',', map { hex_of($_) } @mine), join(',', map { hex_of($_) } @VALUES), "kazoo gets Perl's put_all (priority 3) first");
        my @theirs;
        while (defined(my $v = take_one($q, 1))) { push @theirs, $v }
        is(join(',', map { hex_of($_) } @theirs), join(',', map { hex_of($_) } @VALUES), "Perl gets kazoo's put_all");
    }

    # An entry taken and not consumed is given back when its consumer's
    # session ends: a killed Perl child's (expiry), a kazoo client's (closed).
    {
        my $path = "$root/locking-given-back";
        my $q = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => $path);
        $q->put("job\0one");
        my $child = perl_proc(sub {
            my ($h, $say, $next) = @_;
            my $cq = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $h, path => $path);
            my $v = $cq->get(timeout => 10);
            $say->(defined $v ? 'taken ' . hex_of($v) : 'empty');
            $next->();    # killed meanwhile
        });
        is($child->line(30), 'taken ' . hex_of("job\0one"), 'a Perl child takes the entry');
        $k->say("take $path 0.5");
        is($k->line(30), 'empty', 'kazoo does not get an entry that is taken');
        kill 'KILL', $child->{pid};
        waitpid(delete $child->{pid}, 0);
        $k->say("take $path 30");
        is($k->line(60), 'taken ' . hex_of("job\0one"), "the killed child's entry goes to kazoo once its session has expired");
        $k->say('quit');
        is($k->finish, 0, 'kazoo closes its session without consuming');
        is($q->get(timeout => 30), "job\0one", 'and Perl gets the entry kazoo had taken');
        ok($q->consume, 'Perl consumes it');
        is($q->length, 0, 'the queue is empty');
    }

    # Concurrent consumers, Perl and kazoo: every entry exactly once.
    for my $type (qw(simple locking)) {
        my $path = "$root/$type-concurrent";
        my $q = $CLASS{$type}->new(handle => $zkh, path => $path);
        my $N = 200;
        my @values = map { "entry $_ \0\xff" } 1 .. $N;
        $q->put_all([ @values[0 .. 99] ], priority => 10);
        $q->put($_, priority => 20) for @values[100 .. $N - 1];
        is($q->length, $N, "$type: $N entries");
        my $kc = ZKTest::Interop->start('kazoo:kazoo_queue.py' => $hosts);
        is($kc->line(60), 'ready', "$type: kazoo consumer ready");
        my @consumers = ($kc, map {
            perl_proc(sub {
                my ($h, $say, $next) = @_;
                my $cq = $CLASS{$type}->new(handle => $h, path => $path);
                $say->('ready');
                $next->();
                my $n = 0;
                while (1) {
                    my $v = take_one($cq, 1);
                    if (defined $v) { $n++; $say->('got ' . hex_of($v)); next }
                    die "get: " . $cq->error . "\n" unless $cq->error == ZOK || $cq->error == ZOPERATIONTIMEOUT;
                    last if $cq->length == 0;
                }
                $say->("done $n");
            });
        } 1 .. 2);
        is($consumers[$_]->line(30), 'ready', "$type: Perl consumer $_ ready") for 1 .. 2;
        $kc->say("consume $path $type");
        $consumers[$_]->say('go') for 1 .. 2;
        my (%count, @took);
        for my $i (0 .. $#consumers) {
            my $c = $consumers[$i];
            while (defined(my $line = $c->line(60))) {
                if ($line =~ /\Agot (\S+)\z/) { $count{ un_hex($1) }++; $took[$i]++; next }
                is($line, 'done ' . ($took[$i] // 0), "$type: consumer $i done") ;
                last;
            }
        }
        is(scalar(keys %count), $N, "$type: all $N entries consumed");
        is(scalar(grep { $count{$_} != 1 } keys %count), 0, "$type: each exactly once");
        is(scalar(grep { !$count{$_} } @values), 0, "$type: the values as put");
        diag("$type: consumers took " . join('/', map { $_ // 0 } @took[0 .. 2]) . ' (kazoo/Perl/Perl)');
        $kc->say('quit');
        $_->finish for @consumers;
    }
}

done_testing;
