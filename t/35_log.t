#!/usr/bin/perl
# Logging: Net::ZooKeeper::set_log_level validation, and the client log that
# goes to the process's standard error (spec sections 4 and 10; manual
# "Logging").

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Util qw(lives capture_stderr);
use Net::ZooKeeper qw(:log_levels :errors);

$SIG{PIPE} = 'IGNORE';

# The croak trailer " at FILE line N." is matched with its period optional.
sub croaks {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return ZKTest::Util::croaks(@_, period_optional => 1);
}

## set_log_level: arguments

my $f = \&Net::ZooKeeper::set_log_level;

croaks(sub { $f->(-1) }, 'invalid log level: -1', 'set_log_level(-1) croaks "invalid log level: -1"');
croaks(sub { $f->(5) },  'invalid log level: 5',  'set_log_level(5) croaks "invalid log level: 5"');
croaks(sub { Net::ZooKeeper::set_log_level(-1) }, 'invalid log level: -1',
       'a direct call with -1 croaks the same way');
croaks(sub { $f->(5.7) }, 'invalid log level: 5', 'the level is truncated to an integer before it is checked');
croaks(sub { $f->() },     'Usage: Net::ZooKeeper::set_log_level(level)', 'set_log_level without arguments croaks with its usage');
croaks(sub { $f->(1, 2) }, 'Usage: Net::ZooKeeper::set_log_level(level)', 'set_log_level with two arguments croaks with its usage');

for my $level (ZOO_LOG_LEVEL_OFF, ZOO_LOG_LEVEL_ERROR, ZOO_LOG_LEVEL_WARN,
               ZOO_LOG_LEVEL_INFO, ZOO_LOG_LEVEL_DEBUG) {
    my @r;
    lives(sub { @r = $f->($level) }, "set_log_level($level) is accepted");
    is(scalar(@r), 0, "set_log_level($level) returns an empty list");
}
lives(sub { $f->(ZOO_LOG_LEVEL_OFF) }, 'the log is switched off again');

## The log itself

SKIP: {
    my $hosts = ZKTest::require_server(13);
    my $root  = ZKTest::test_root();

    # Complete lines only: a background thread may be writing one right now.
    my $lines = sub { grep { /\S/ } $_[0] =~ /^(.*)\n/mg };

    my $session = sub {
        my $zkh = Net::ZooKeeper->new($hosts) or die 'new returned undef';
        $zkh->exists('/') or die 'exists failed: ' . $zkh->get_error;
        $zkh->DESTROY or die 'DESTROY returned false';
    };

    # Nothing is logged by default (OFF at load, and switched off above).
    is(capture_stderr($session), '', 'at ZOO_LOG_LEVEL_OFF a handle, exists and DESTROY write nothing to STDERR');

    my $log = capture_stderr(sub {
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_DEBUG);
        $session->();
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
    });
    my @lines = $lines->($log);
    ok(scalar(@lines), 'at ZOO_LOG_LEVEL_DEBUG the client writes log lines to STDERR');
    ok((grep { /ZOO_.*exists/ } @lines), 'at DEBUG, exists logs a line matching /ZOO_.*exists/');
    ok((grep { /ZOO_.*close/ } @lines), 'at DEBUG, DESTROY logs a line matching /ZOO_.*close/');
    my @bad = grep {
        !/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}:\d+\(0x[0-9a-f]+\):ZOO_(?:ERROR|WARN|INFO|DEBUG)@[^@]+@\d+: /
    } @lines;
    is(scalar(@bad), 0, 'every log line has the C client layout "DATE TIME,ms:PID(0xTID):ZOO_LEVEL@function@line: "')
        or diag("not in the layout:\n", map { "  $_\n" } @bad[0 .. ($#bad < 4 ? $#bad : 4)]);
    ok((grep { /^[^(]*:\Q$$\E\(/ } @lines), 'the log lines carry the process id');

    # Levels filter: INFO has no DEBUG lines but still the close line.
    $log = capture_stderr(sub {
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_INFO);
        $session->();
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
    });
    @lines = $lines->($log);
    ok((grep { /:ZOO_INFO@.*close/ } @lines), 'at INFO, DESTROY logs a ZOO_INFO line about the close');
    is(scalar(grep { /:ZOO_DEBUG@/ } @lines), 0, 'at INFO no ZOO_DEBUG lines are written');

    # add_auth never logs the credential.
    my $password = 's3cretPassw0rd';
    my $auth_ok;
    $log = capture_stderr(sub {
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_DEBUG);
        my $zkh = Net::ZooKeeper->new($hosts) or die 'new returned undef';
        $auth_ok = $zkh->add_auth('digest', "user:$password");
        $zkh->exists('/');
        $zkh->DESTROY;
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
    });
    ok($auth_ok, 'add_auth with a digest credential succeeds while logging at DEBUG');
    ok(length($log), '... and the client did log at DEBUG meanwhile');
    unlike($log, qr/\Q$password\E/, 'at DEBUG, add_auth never writes the password to the log');
    unlike($log, qr/user:/, 'at DEBUG, add_auth never writes the "user:password" credential to the log');

    # Switching back to OFF stops the log.
    is(capture_stderr($session), '', 'after set_log_level(ZOO_LOG_LEVEL_OFF) a handle, exists and DESTROY write nothing');
}

done_testing();
