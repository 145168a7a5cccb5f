#!/usr/bin/perl
# DESTROY and exit with the server gone or hung (manual DESTROY(); the
# ZooKeeper C client's zookeeper_close, which the original Net::ZooKeeper
# calls): with no live connection they return at once; with a connection to a
# server that does not answer (frozen with SIGSTOP) the close is written and
# waited for briefly (about 1.5 s per handle), and the process ends.  The
# close written into the socket is processed when the server wakes up: the
# sessions end then, their ephemeral nodes vanish at once - not only when the
# session timeout (30 s here) would expire them.
#
# Child processes (fork + exec perl with our @INC, e.g. blib: nothing inherited) open 1 or
# 3 handles with a session timeout of 30 s, each creating an ephemeral node,
# and act on commands read from STDIN: touch (a call on each handle), undef
# (undef each handle, reporting how long each took), exit.
#   (a) The server is stopped: the children exit, or undef their handles.
#   (b) The server is frozen: the children exit; the server is resumed and
#       their nodes must be gone before the sessions could have expired.
# The time limits only catch hangs; measured times are printed as notes.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use IO::Handle ();
use IO::Select ();
use POSIX ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util ();
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :acls :node_flags);

$SIG{PIPE} = 'IGNORE';

my $srv = ZKTest::Ensemble->start_or_skip(size => 1);

my $root    = ZKTest::test_root();
my $TIMEOUT = 30000;

sub guard { ZKTest::Ensemble::hang_guard(@_) }

# The child perl finds Net::ZooKeeper where this one did (blib under
# "make test" or "prove -b"): this process's @INC, as -I options.
my @INC_FLAGS = map { "-I$_" } grep { !ref } @INC;

my $CHILD = <<'PERL';
use strict; use warnings; use Time::HiRes (); use Net::ZooKeeper qw(:acls :node_flags);
$| = 1;
my ($hosts, $prefix, $n, $timeout) = @ARGV;
my @h;
for my $i (1 .. $n) {
    my $h = Net::ZooKeeper->new($hosts, session_timeout => $timeout)
        or do { print "error new: $!\n"; exit 1 };
    $h->create("$prefix-$i", '', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE)
        or do { print "error create $i: ", $h->get_error, "\n"; exit 1 };
    push @h, $h;
}
print 'ready ', join(' ', map { unpack 'H*', substr($_->{session_id}, 0, 8) } @h), "\n";
while (defined(my $cmd = <STDIN>)) {
    chomp $cmd;
    if ($cmd eq 'touch') {
        my $ok = grep { $_->exists('/') } @h;
        print "touched $ok\n";
    }
    elsif ($cmd eq 'undef') {
        for my $i (0 .. $#h) {
            my $t0 = Time::HiRes::time();
            undef $h[$i];
            printf "undef %d %.3f\n", $i + 1, Time::HiRes::time() - $t0;
        }
        print "undone\n";
    }
    elsif ($cmd eq 'exit') {
        exit 0;        # the handles go in global destruction
    }
}
exit 0;
PERL

# A child with $n handles; nodes "$root/$name-1" .. "$root/$name-$n".
sub spawn {
    my ($name, $n) = @_;
    pipe(my $in_r, my $in_w)   or die "pipe: $!";
    pipe(my $out_r, my $out_w) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $in_w;
        close $out_r;
        POSIX::dup2(fileno $in_r, 0)  or POSIX::_exit(126);
        POSIX::dup2(fileno $out_w, 1) or POSIX::_exit(126);
        exec $^X, @INC_FLAGS, '-e', $CHILD, $srv->hosts, "$root/$name", $n, $TIMEOUT
            or POSIX::_exit(127);
    }
    close $in_r;
    close $out_w;
    $in_w->autoflush(1);
    return { name => $name, n => $n, pid => $pid, in => $in_w, out => $out_r, buf => '',
             nodes => [ map { "$root/$name-$_" } 1 .. $n ] };
}

# The child's next line (waiting at most $seconds), or undef.
sub line_of {
    my ($c, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    my $sel = IO::Select->new($c->{out});
    while ($c->{buf} !~ /\n/) {
        my $left = $deadline - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $c->{out}, $c->{buf}, 4096, length $c->{buf};
        return undef unless $n;
    }
    $c->{buf} =~ s/^([^\n]*)\n//;
    return $1;
}

sub tell_child { my ($c, $cmd) = @_; print { $c->{in} } "$cmd\n" }

# Sends "exit" to each child at once and waits (at most $bound s) for all of
# them; returns { name => seconds } (undef for one that had to be killed).
sub exit_all {
    my ($bound, @children) = @_;
    my $t0 = Time::HiRes::time();
    tell_child($_, 'exit') for @children;
    my %left = map { $_->{pid} => $_ } @children;
    my %took;
    while (%left && Time::HiRes::time() - $t0 < $bound) {
        for my $pid (keys %left) {
            my $r = waitpid $pid, POSIX::WNOHANG();
            next unless $r == $pid || $r == -1;
            my $c = delete $left{$pid};
            $took{ $c->{name} } = Time::HiRes::time() - $t0;
            $c->{status} = $r == $pid ? $? : 'unknown';
        }
        Time::HiRes::sleep(0.01);
    }
    for my $c (values %left) {      # a hang: kill it, record no time
        kill 'KILL', $c->{pid};
        waitpid $c->{pid}, 0;
        $took{ $c->{name} } = undef;
        $c->{status} = 'killed';
    }
    return \%took;
}

sub ready {
    my ($c) = @_;
    my $line = line_of($c, 60) // '(nothing)';
    ok($line =~ /^ready( [0-9a-f]+){$c->{n}}$/, "$c->{name}: the child opened $c->{n} handle(s) and created its nodes")
        or diag("it said: $line");
}

my $checker_of = sub { Net::ZooKeeper->new($srv->hosts, session_timeout => 10000) };
{
    my $setup = $checker_of->();
    is($setup->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create the test node $root");
    ok($setup->DESTROY, 'DESTROY the setup handle');
}

## (a) The server is stopped.

{
    my @c = (spawn('stopped1', 1), spawn('stopped3', 3), spawn('undef3', 3));
    ready($_) for @c;
    my ($u) = grep { $_->{name} eq 'undef3' } @c;
    ok($srv->stop_member(1), '(a) stop the server');

    my $took = exit_all(10, grep { $_ != $u } @c);
    for my $name ('stopped1', 'stopped3') {
        my ($c) = grep { $_->{name} eq $name } @c;
        ok(defined $took->{$name}, "(a) $name: exit with $c->{n} handle(s) returned (hang check: 10 s)");
        is($c->{status}, 0, "(a) $name: ... with status 0");
        note(sprintf "(a) $name: exit with %d handle(s) took %s", $c->{n},
             defined $took->{$name} ? sprintf('%.3f s', $took->{$name}) : 'too long: killed');
    }

    tell_child($u, 'undef');
    my @times;
    my $t0 = Time::HiRes::time();
    for my $i (1 .. $u->{n}) {
        my $line = line_of($u, 10) // '';
        push @times, $line =~ /^undef $i (\S+)$/ ? $1 : undef;
    }
    my $done = line_of($u, 10) // '';
    ok(!grep({ !defined } @times) && $done eq 'undone', '(a) undef3: undef $h returned for each of 3 handles (hang check: 10 s each)')
        or diag("times: @{[ map { $_ // 'none' } @times ]}; then: $done");
    note(sprintf '(a) undef3: undef $h took %s; %.3f s in all', join(', ', map { defined ? "$_ s" : 'too long' } @times),
         Time::HiRes::time() - $t0);
    my $ut = exit_all(10, $u);
    ok(defined $ut->{undef3} && $u->{status} == 0, '(a) undef3: then exits with status 0')
        or diag('status ' . $u->{status});
}

## (b) The server is frozen.

{
    ok($srv->start_member(1), '(b) start the server again');
    my @c = (spawn('frozen1', 1), spawn('frozen3', 3));
    ready($_) for @c;
    my @nodes = map { @{ $_->{nodes} } } @c;
    {
        my $checker = $checker_of->();
        is(scalar(grep { $checker->exists($_) } @nodes), scalar @nodes, '(b) the children\'s ephemeral nodes exist');
        ok($checker->DESTROY, '(b) DESTROY the checker');
    }
    # The server's last sight of the sessions: from here they would expire
    # after 30 s at the earliest.
    tell_child($_, 'touch') for @c;
    for my $c (@c) {
        is(line_of($c, 30), "touched $c->{n}", "(b) $c->{name}: a call on each handle just before the freeze");
    }
    my $t_touch = Time::HiRes::time();
    ok($srv->pause_member(1), '(b) freeze the server (SIGSTOP)');

    my $took = exit_all(30, @c);
    for my $c (@c) {
        my $name = $c->{name};
        ok(defined $took->{$name}, "(b) $name: exit with $c->{n} handle(s) returned (hang check: 30 s)");
        is($c->{status}, 0, "(b) $name: ... with status 0");
        note(sprintf "(b) $name: exit with %d handle(s) took %s (about 1.5 s per handle expected)", $c->{n},
             defined $took->{$name} ? sprintf('%.3f s', $took->{$name}) : 'too long: killed');
    }

    ok($srv->resume_member(1), '(b) resume the server (SIGCONT)');
    my $t_resume = Time::HiRes::time();
    my $checker = $checker_of->();
    # Natural expiry comes 30 s after the touch at the earliest: the bound ends
    # before that (and at most 15 s after the resume).
    my $bound = $t_touch + 27 - $t_resume;
    $bound = 15 if $bound > 15;
    $bound = 0.1 if $bound < 0.1;
    my %left = map { $_ => 1 } @nodes;
    my $gone = ZKTest::Util::wait_until(sub {
        for my $node (keys %left) {
            delete $left{$node} if !$checker->exists($node) && $checker->get_error == ZNONODE;
        }
        return !%left;
    }, $bound, 0.05);
    my $t_gone = Time::HiRes::time();
    ok($gone, sprintf('(b) the closes written to the frozen server are processed when it resumes: '
                    . 'all %d ephemeral nodes are gone within %.1f s (before a 30 s expiry could remove them)',
                      scalar @nodes, $bound))
        or diag('still there: ' . join(' ', sort keys %left));
    note(sprintf '(b) the nodes were gone %.2f s after the resume, %.2f s after the last call', $t_gone - $t_resume,
         $t_gone - $t_touch) if $gone;
    ok(ZKTest::Util::delete_tree($checker, $root), 'delete the test nodes');
    ok($checker->DESTROY, 'DESTROY the checker');
}
ok($srv->stop, 'stop the server');

done_testing();
