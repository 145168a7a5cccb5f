#!/usr/bin/perl
# The client's background work runs on a small shared set of OS threads: the
# number of threads in the process does not grow with the number of handles
# (manual "Internal POSIX Threads": the implementation shares its threads
# between handles).  Linux only: threads are counted in /proc/$$/task.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use Net::ZooKeeper qw(:errors);

$SIG{PIPE} = 'IGNORE';

plan skip_all => 'threads are counted through /proc/PID/task (Linux only)'
    unless $^O eq 'linux' && -d "/proc/$$/task";

my $hosts = ZKTest::server_hosts();   # the server must accept 200 connections from us

my $HANDLES = 200;
my $MAX     = 1 + 2 + 1;   # the interpreter, 2 runtime workers, 1 blocking-pool thread

sub thread_count {
    opendir(my $dh, "/proc/$$/task") or die "cannot read /proc/$$/task: $!";
    my $n = grep { /^\d+$/ } readdir $dh;
    closedir $dh;
    return $n;
}

note('threads before any handle exists: ' . thread_count());

my @handles;
push @handles, Net::ZooKeeper->new($hosts);
ok($handles[0] && $handles[0]->exists('/'), 'a first handle connects and works');
my $after_one = thread_count();
cmp_ok($after_one, '<=', $MAX, "with 1 handle the process has at most $MAX threads");

my $failed = 0;
for my $i (2 .. $HANDLES) {
    my $zkh = Net::ZooKeeper->new($hosts);
    push @handles, $zkh;
    unless ($zkh && $zkh->exists('/')) {
        diag("handle $i: " . ($zkh ? 'get_error ' . $zkh->get_error : 'new returned undef')) unless $failed++;
    }
}
is($failed, 0, "$HANDLES handles are open at once and each one works");

my $after_all = thread_count();
cmp_ok($after_all, '<=', $MAX, "with $HANDLES open handles the process still has at most $MAX threads");
is($after_all, $after_one, "the thread count with $HANDLES handles equals the count with 1 handle");

$failed = 0;
for my $zkh (@handles) {
    $failed++ unless $zkh && $zkh->DESTROY;
}
is($failed, 0, "all $HANDLES handles close");
cmp_ok(thread_count(), '<=', $MAX, "after closing the handles the process has at most $MAX threads");

done_testing();
