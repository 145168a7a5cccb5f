#!/usr/bin/perl
# Net::ZooKeeper::Recipe::ReadWriteLock side by side with the real libraries:
# Curator's InterProcessReadWriteLock (t/lib/ZKTest/interop/CuratorRWLock.java)
# and kazoo's ReadLock/WriteLock (t/lib/ZKTest/interop/kazoo_rwlock.py), see
# t/lib/ZKTest/Interop.pm.  A library that is missing skips its tests, and
# fails them under CI.
#
# First one step at a time: a foreign reader shares with a Perl reader and
# keeps a Perl writer out, a foreign writer queued behind it keeps Perl
# readers out, and a foreign writer waits for a Perl reader.  Then a Perl
# and a foreign writer and a Perl and a foreign reader take their side
# $ROUNDS times each on one lock: every holder keeps an ephemeral marker
# node while it holds and looks at the others' (a writer must be alone, a
# reader must see no writer), this process watches the markers all along as
# well, and the writers bump a counter under the lock.  Every wait is
# bounded.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Interop;
use ZKTest::Util qw(await_children);
use Net::ZooKeeper qw(:errors :acls :node_flags);
use Net::ZooKeeper::Recipe::Lock;
use Net::ZooKeeper::Recipe::ReadWriteLock;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();
my $zkh   = Net::ZooKeeper->new($hosts);
ok($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), "create $root") or BAIL_OUT('cannot create the test node');

my $ROUNDS = 100;    # per contender

my $UUID = qr/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
my %NAME = (
    curator => { read => qr/\A_c_${UUID}-__READ__\d{10}\z/, write => qr/\A_c_${UUID}-__WRIT__\d{10}\z/ },
    kazoo   => { read => qr/\A[0-9a-f]{32}__rlock__\d{10}\z/, write => qr/\A[0-9a-f]{32}__lock__\d{10}\z/ },
);

# A foreign helper: Curator's class takes (mode, hosts, path, kind, ...),
# kazoo's script (mode, hosts, path, kind, id, ...).
sub foreign {
    my ($lib, $mode, $path, $kind, @rest) = @_;
    return $lib eq 'curator'
        ? ZKTest::Interop->start('curator:CuratorRWLock' => $mode, $hosts, $path, $kind, @rest)
        : ZKTest::Interop->start('kazoo:kazoo_rwlock.py' => $mode, $hosts, $path, $kind, "kazoo-$kind", @rest);
}

sub rw {
    my ($h, $path, $layout) = @_;
    return Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $h, path => $path, layout => $layout, identifier => 'perl');
}

# A Perl contender in a child process with its own session, doing what the
# helpers' "rounds" mode does.
sub perl_rounds {
    my ($layout, $path, $kind, $markers, $counter) = @_;
    return ZKTest::Interop::perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        my $rw = rw($h, $path, $layout);
        my $writer = $kind eq 'write';
        my $lock = $writer ? $rw->write_lock : $rw->read_lock;
        my $marker = "$markers/" . ($writer ? 'w' : 'r') . '-perl';
        $say->('ready');
        $next_line->() eq 'go' or die "expected go\n";
        my ($over, $most) = (0, 0);
        for my $round (1 .. $ROUNDS) {
            $lock->acquire(timeout => 30) or die "lock timeout in round $round\n";
            $h->create($marker, '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE)
                or die "marker: " . $h->get_error . "\n";
            my $bad = 0;
            # Hold for a while (a few round trips) so that holds overlap.
            for (1 .. 3) {
                my @seen = $h->get_children($markers);
                my $writers = grep { /\Aw-/ } @seen;
                $most = @seen - $writers if @seen - $writers > $most;
                $bad = 1 if $writer ? @seen > 1 : $writers;
                select(undef, undef, undef, 0.005);
            }
            if ($writer) {
                my $v = $h->get($counter);
                defined $v or die "get $counter: " . $h->get_error . "\n";
                $h->set($counter, $v + 1) or die "set $counter: " . $h->get_error . "\n";
            }
            $h->delete($marker) or die "marker delete: " . $h->get_error . "\n";
            $over++ if $bad;
            $lock->release or die "lock lost in round $round\n";
        }
        $say->("done $ROUNDS over $over most $most");
    });
}

# One step at a time.  15 tests.
sub steps {
    my ($lib) = @_;
    my $lp = "$root/$lib-steps";
    my $rw = rw($zkh, $lp, $lib);
    my ($r, $w) = ($rw->read_lock, $rw->write_lock);

    my $reader = foreign($lib, 'hold', $lp, 'read');
    like($reader->line, qr/\Aheld\b/, "$lib holds a read lock");
    my @nodes = $zkh->get_children($lp);
    like($nodes[0] // '', $NAME{$lib}{read}, "$lib\'s read node: $nodes[0]");
    is($zkh->get("$lp/$nodes[0]"), $lib eq 'curator' ? Net::ZooKeeper::Recipe::local_address() : 'kazoo-read',
       "$lib\'s read node holds what the Perl lock writes");
    ok($r->try_acquire, "a Perl reader shares it with $lib\'s");
    ok(!$w->try_acquire, "a Perl writer can not take it");
    $r->release;

    my $writer = foreign($lib, 'acquire', $lp, 'write');
    is($writer->line, 'waiting', "$lib writer waits");
    await_children($zkh, $lp, 2);
    @nodes = $r->contenders;
    like($nodes[1] // '', $NAME{$lib}{write}, "$lib\'s write node, queued behind its reader: " . ($nodes[1] // 'none'));
    ok(!$r->try_acquire, "a Perl reader does not pass $lib\'s waiting writer");
    $reader->say('release');
    $reader->finish;
    like($writer->line, qr/\Aheld\b/, "$lib\'s writer gets the lock once its reader went");
    ok(!$r->try_acquire, "a Perl reader can not join $lib\'s writer");
    $writer->say('release');
    $writer->finish;

    ok($r->acquire(timeout => 30), "a Perl reader gets it once $lib\'s writer went");
    $reader = foreign($lib, 'hold', $lp, 'read');
    like($reader->line, qr/\Aheld\b/, "a $lib reader shares it with the Perl reader");
    $reader->say('release');
    $reader->finish;
    $writer = foreign($lib, 'acquire', $lp, 'write');
    $writer->line;    # "waiting"
    await_children($zkh, $lp, 2);
    ok($r->release, 'the Perl reader releases');
    like($writer->line, qr/\Aheld\b/, "$lib\'s waiting writer gets the lock then");
    $writer->say('release');
    $writer->line;
    is($writer->finish, 0, "$lib helper exited cleanly");
}

# Perl and foreign writers and readers, $ROUNDS each.  14 tests.
sub contend {
    my ($lib) = @_;
    my $lp = "$root/$lib-rw";
    my $markers = "$root/$lib-holders";
    my $counter = "$root/$lib-count";
    ok($zkh->create($markers, '', acl => ZOO_OPEN_ACL_UNSAFE) && $zkh->create($counter, '0', acl => ZOO_OPEN_ACL_UNSAFE),
       "$lib: markers and counter nodes");
    my @who = ("$lib writer", 'Perl writer', "$lib reader", 'Perl reader');
    my @c = (
        foreign($lib, 'rounds', $lp, 'write', $lib eq 'curator' ? ($ROUNDS, $markers, 'java', $counter) : ($ROUNDS, $markers, $counter)),
        perl_rounds($lib, $lp, 'write', $markers, $counter),
        foreign($lib, 'rounds', $lp, 'read', $lib eq 'curator' ? ($ROUNDS, $markers, 'java', $counter) : ($ROUNDS, $markers, $counter)),
        perl_rounds($lib, $lp, 'read', $markers, $counter),
    );
    is($c[$_]->line(60), 'ready', "$who[$_] ready") for 0 .. $#c;
    $_->say('go') for @c;
    my %names;
    my ($clash, $most_readers, $mixed) = (0, 0, 0);
    # Watch the markers until every contender has answered.
    my %result = %{ ZKTest::Interop::watch_answers($zkh, $markers, \@c, sub {
        my @m = @_;
        $names{$_} = 1 for $zkh->get_children($lp);
        my $writers = grep { /\Aw-/ } @m;
        $clash++ if $writers && @m > 1;
        $most_readers = @m - $writers if @m - $writers > $most_readers;
        $mixed++ if grep({ $_ eq 'r-perl' } @m) && grep({ /\Ar-(?!perl)/ } @m);
    }) };
    is(scalar(grep { !exists $result{$_} } @c), 0, "$lib: every contender finished");
    for my $i (0 .. $#c) {
        my $r = $result{ $c[$i] } // 'no answer';
        my ($over) = $r =~ /\Adone $ROUNDS over (\d+) most \d+/;
        is($over, 0, "$who[$i]: $ROUNDS rounds, never saw a holder it must not ($r)");
    }
    is($clash, 0, "$lib: this process never saw a writer's marker next to another");
    is($zkh->get($counter), 2 * $ROUNDS, "$lib: no update lost under the write lock: " . 2 * $ROUNDS);
    diag("$lib: most readers at once seen here: $most_readers; a Perl and a $lib reader together: $mixed times");
    my @bad = grep { $_ !~ $NAME{$lib}{read} && $_ !~ $NAME{$lib}{write} } sort keys %names;
    ok(keys(%names) >= 4 && !@bad, "$lib: all " . keys(%names) . " contender nodes seen are in the one layout"
       . (@bad ? " (not: @bad)" : ''));
    is(scalar(() = $zkh->get_children($lp)), 0, "$lib: no contender node left");
    $_->finish for @c;
}

for my $lib (qw(curator kazoo)) {
    SKIP: {
        ZKTest::Interop::require_library($lib => 29);
        steps($lib);
        contend($lib);
    }
}

done_testing;
