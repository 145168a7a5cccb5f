#!/usr/bin/perl
# Perl ithreads: CLONE_SKIP/CLONE, what a new thread gets in place of handle,
# stat and watch objects, and threads that each open and use their own
# handles concurrently (spec section 5.6; manual "Internal POSIX Threads").

use strict;
use warnings;

use Config;
use Test::More;

BEGIN {
    unless ($Config{useithreads}) {
        plan skip_all => 'this perl has no ithreads support';
    }
    require threads;
    threads->import;
    require threads::shared;
    threads::shared->import;
}

use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(exception_of delete_tree);
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my @CLASSES = qw(Net::ZooKeeper Net::ZooKeeper::Stat Net::ZooKeeper::Watch);

# What a value looks like: 'undef scalar ref' for a reference to an undefined
# scalar, else a short description.
sub shape {
    my ($v) = @_;
    return 'undef' unless defined $v;
    my $r = ref $v;
    return "not a reference ($v)" if $r eq '';
    return defined(${$v}) ? 'defined scalar ref' : 'undef scalar ref' if $r eq 'SCALAR';
    return "a $r reference";
}

## CLONE_SKIP and CLONE called directly

for my $class (@CLASSES) {
    no strict 'refs';
    my $skip = &{"${class}::CLONE_SKIP"}($class);
    ok($skip, "${class}::CLONE_SKIP returns true");
    my @clone = &{"${class}::CLONE"}($class);
    is(scalar(@clone), 0, "${class}::CLONE returns nothing");
    for my $sub (qw(CLONE CLONE_SKIP)) {
        my $code = \&{"${class}::$sub"};
        for my $args ([], [ $class, 'extra' ]) {
            my $err = exception_of(sub { $code->(@$args) });
            like($err, qr/^Usage: \Q${class}::$sub\E\(package\) at /,
                 "${class}::$sub with @{[ scalar @$args ]} arguments croaks with its usage");
        }
    }
}

## Objects seen from a new thread

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');
ok($zkh->create($root, 'threads', acl => ZOO_OPEN_ACL_UNSAFE), 'the test root is created')
    or diag('get_error ' . $zkh->get_error);

my $stat  = $zkh->stat();
my $watch = $zkh->watch();
my %objects = (
    'handle'       => $zkh,
    'handle inner' => tied(%$zkh),
    'stat'         => $stat,
    'stat inner'   => tied(%$stat),
    'watch'        => $watch,
    'watch inner'  => tied(%$watch),
);
my @names = sort keys %objects;

{
    # captured by the thread's closure
    my ($t) = threads->create({ context => 'list' },
        sub { map { ($_ => shape($objects{$_})) } @names });
    my %seen = $t->join;
    for my $name (@names) {
        is($seen{$name}, 'undef scalar ref',
           "a $name captured by a new thread arrives there as a reference to an undefined scalar");
    }
}

{
    # passed as thread arguments
    my ($t) = threads->create({ context => 'list' },
        sub { map { shape($_) } @_ }, map { $objects{$_} } @names);
    my @seen = $t->join;
    for my $i (0 .. $#names) {
        is($seen[$i], 'undef scalar ref',
           "a $names[$i] passed to a new thread arrives there as a reference to an undefined scalar");
    }
}

{
    # objects of subclasses are skipped too (CLONE_SKIP is inherited)
    @My::ZooKeeper::ISA = ('Net::ZooKeeper');
    @My::Stat::ISA      = ('Net::ZooKeeper::Stat');
    my $sub  = My::ZooKeeper->new($hosts);
    my $sst  = bless $zkh->stat(), 'My::Stat';
    my ($t) = threads->create({ context => 'list' }, sub { (shape($sub), shape($sst)) });
    my @seen = $t->join;
    is($seen[0], 'undef scalar ref', 'a subclass handle arrives in a new thread as a reference to an undefined scalar');
    is($seen[1], 'undef scalar ref', 'a reblessed stat arrives in a new thread as a reference to an undefined scalar');
    ok($sub->exists($root), 'the subclass handle still works in its own thread after the other thread ends');
}

# The parent's objects are untouched by the thread's copies going away.
ok($zkh->exists($root, stat => $stat), 'the handle works in the parent after threads that got copies of it ended');
is($stat->{data_len}, length('threads'), '... and so does its stat object');
is($watch->{timeout}, 60000, '... and its watch object still reads its attributes');

## Every thread opens its own handles and uses them concurrently

my $THREADS = 4;
my $OPS     = 1000;    # per thread: create, exists, set, get, delete, repeated

# All threads have their handle open before any of them starts working.
my $ready :shared = 0;
sub barrier {
    lock($ready);
    $ready++;
    cond_broadcast($ready);
    cond_wait($ready) while $ready < $THREADS;
}

sub worker {
    my ($n) = @_;
    my $h = Net::ZooKeeper->new($hosts);
    barrier();
    return (0, 'new returned undef') unless $h;
    my $base = "$root/thread$n";
    my ($ok, $done, $first) = (0, 0, undef);
    my $check = sub {
        my ($good, $what) = @_;
        $done++;
        if ($good) { $ok++ }
        elsif (!defined $first) { $first = "$what failed: get_error " . $h->get_error }
    };
    $check->(defined($h->create($base, '', acl => ZOO_OPEN_ACL_UNSAFE)), "create $base");
    for (my $i = 0; $done < $OPS; $i++) {
        my $path = "$base/n$i";
        my $data = "thread $n node $i";
        my @steps = (
            [ 'create', sub { my $r = $h->create($path, $data, acl => ZOO_OPEN_ACL_UNSAFE);
                              defined $r && $r eq $path } ],
            [ 'exists', sub { $h->exists($path) } ],
            [ 'set',    sub { $h->set($path, "$data changed") } ],
            [ 'get',    sub { my $d = $h->get($path); defined $d && $d eq "$data changed" } ],
            [ 'delete', sub { $h->delete($path) } ],
        );
        for my $step (@steps) {
            last if $done >= $OPS - 1;    # keep one operation for deleting $base
            $check->($step->[1]->(), "$step->[0] $path");
        }
        if ($done >= $OPS - 1) {
            # a cycle may have been cut short: remove what is left
            $h->delete($path) if $h->exists($path);
            $check->($h->delete($base), "delete $base");
        }
    }
    $h->DESTROY;
    return ($ok, $first // '');
}

my @workers = map { threads->create({ context => 'list' }, \&worker, $_) } 1 .. $THREADS;
my $total = 0;
for my $i (0 .. $#workers) {
    my ($ok, $first) = $workers[$i]->join;
    $ok //= 0;
    is($ok, $OPS, "thread @{[ $i + 1 ]}: all $OPS operations on its own handle succeed")
        or diag("first failure: $first");
    $total += $ok;
}
is($total, $THREADS * $OPS, "the $THREADS threads together complete all @{[ $THREADS * $OPS ]} operations");

is_deeply([ $zkh->get_children($root) ], [], 'the threads removed their nodes');
ok($zkh->set($root, 'after threads'), 'the parent handle can still write after the threads are joined');
is($zkh->get($root), 'after threads', 'the parent handle can still read after the threads are joined');

ok(delete_tree($zkh, $root), 'the test root is removed');

done_testing();
