#!/usr/bin/perl
# Every program in examples/ runs as a user would run it, against the test
# server: it exits 0 and prints something.  (examples/synopsis.pl is the
# README's command; t/07_synopsis.t checks that it is the manual's SYNOPSIS.)
# Each run is bounded: a program still running after $LIMIT seconds is
# killed and fails.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use File::Temp ();
use POSIX ();
use Time::HiRes ();

use ZKTest;

my $hosts = ZKTest::server_hosts();
my $LIMIT = 60;

my @examples = sort glob("$FindBin::Bin/../examples/*.pl");
ok(@examples >= 13, 'examples/ has a program per recipe') or diag("found: @examples");

for my $example (@examples) {
    (my $name = $example) =~ s{.*/}{};
    my $out = File::Temp->new;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open(STDOUT, '>&', $out) or POSIX::_exit(126);
        open(STDERR, '>&', $out) or POSIX::_exit(126);
        local $ENV{ZK_TEST_HOSTS} = $hosts;
        exec($^X, (map { "-I$_" } @INC), $example) or POSIX::_exit(127);
    }
    my $deadline = Time::HiRes::time() + $LIMIT;
    my $done;
    until ($done = waitpid($pid, POSIX::WNOHANG())) {
        last if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.05);
    }
    if (!$done || $done < 0) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
        fail("$name finishes within $LIMIT s");
        next;
    }
    my $status = $?;
    seek($out, 0, 0);
    my $printed = do { local $/; <$out> } // '';
    is($status, 0, "$name exits 0") or diag($printed);
    ok(length $printed, "$name prints what it did");
}

done_testing();
