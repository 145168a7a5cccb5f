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

# The README's promise: one runtime per process with 1 worker thread and at most
# 1 blocking-pool thread (name resolution), whatever the number of handles. The
# runtime names them nzk-worker and nzk-blocking.
sub threads {
    opendir(my $dh, "/proc/$$/task") or die "cannot read /proc/$$/task: $!";
    my @tids = grep { /^\d+$/ } readdir $dh;
    closedir $dh;
    my %count = (all => scalar @tids, worker => 0, blocking => 0);
    for my $tid (@tids) {
        open(my $fh, '<', "/proc/$$/task/$tid/comm") or next;
        my $comm = <$fh> // '';
        $count{$1}++ if $comm =~ /^nzk-(worker|blocking)$/;
    }
    return \%count;
}

sub budget_ok {
    my ($when) = @_;
    my $t = threads();
    is($t->{worker}, 1, "$when: exactly 1 runtime worker thread");
    cmp_ok($t->{blocking}, '<=', 1, "$when: at most 1 blocking-pool thread ($t->{blocking})");
    is($t->{all}, 1 + $t->{worker} + $t->{blocking},
       "$when: no other thread than the interpreter's and the runtime's ($t->{all} in all)");
    return $t;
}

my $before = threads();
is($before->{all}, 1, 'before any handle exists the process has only the interpreter thread');

my @handles;
push @handles, Net::ZooKeeper->new($hosts);
ok($handles[0] && $handles[0]->exists('/'), 'a first handle connects and works');
budget_ok('with 1 handle');

my $failed = 0;
for my $i (2 .. $HANDLES) {
    my $zkh = Net::ZooKeeper->new($hosts);
    push @handles, $zkh;
    unless ($zkh && $zkh->exists('/')) {
        diag("handle $i: " . ($zkh ? 'get_error ' . $zkh->get_error : 'new returned undef')) unless $failed++;
    }
}
is($failed, 0, "$HANDLES handles are open at once and each one works");
budget_ok("with $HANDLES open handles");

$failed = 0;
for my $zkh (@handles) {
    $failed++ unless $zkh && $zkh->DESTROY;
}
is($failed, 0, "all $HANDLES handles close");
budget_ok('after closing the handles');

done_testing();
