package ZKTest::Util;

# Helpers shared by the test files: message matching for croaks and warnings,
# a local address where nothing listens, recursive delete, bounded waits for
# children and conditions, capturing what goes to file descriptor 2,
# loading the optional modules a test needs, and running a module's SYNOPSIS.
# Core Perl only.  See the POD at the end.

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use IO::Handle ();
use IO::Socket::INET ();
use IO::Socket::IP ();
use POSIX ();
use Test::More ();
use Time::HiRes ();

our $VERSION = '1.00';

our @EXPORT_OK = qw(
    msg_re exception_of croaks lives warns warns_like error_is no_hang
    unused_local_host delete_tree create_null_node reap wait_until capture_stderr
    children_until await_children close_session
    start_server_or_skip modules_or_skip run_synopsis child_stops_adapter
);

# The file of the nearest caller outside this module: the test file.
sub _test_file {
    my $i = 0;
    while (my @frame = caller($i++)) {
        return $frame[1] if $frame[1] ne __FILE__;
    }
    return $0;
}

sub msg_re {
    my ($msg, %opt) = @_;
    my $file   = defined $opt{file} ? $opt{file} : _test_file();
    my $period = $opt{period_optional} ? '\.?' : '\.';
    return qr/^\Q$msg\E at \Q$file\E line \d+$period\n\z/;
}

sub exception_of {
    my ($code) = @_;
    return eval { $code->(); 1 } ? "(no exception)\n" : $@;
}

sub croaks {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($code, $msg, $name, %opt) = @_;
    my $re = msg_re($msg, %opt);
    return Test::More::like(exception_of($code), $re, $name);
}

sub lives {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($code, $name) = @_;
    return Test::More::ok(eval { $code->(); 1 }, $name) || Test::More::diag("died: $@");
}

# The warnings CODE emits.
sub _warnings_of {
    my ($code) = @_;
    my @got;
    {
        local $SIG{__WARN__} = sub { push @got, $_[0] };
        $code->();
    }
    return @got;
}

sub _diag_warnings {
    Test::More::diag("warnings: " . (@_ ? join('', @_) : "(none)\n"));
    return 0;
}

sub warns {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($code, $msgs, $name) = @_;
    my @got = _warnings_of($code);
    my $ok = @got == @$msgs;
    for my $i (0 .. $#$msgs) {
        $ok &&= $got[$i] =~ msg_re($msgs->[$i]);
    }
    return Test::More::ok($ok, $name) || _diag_warnings(@got);
}

sub warns_like {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($code, $re, $name) = @_;
    my @got = _warnings_of($code);
    return Test::More::ok(@got == 1 && $got[0] =~ $re, $name) || _diag_warnings(@got);
}

sub error_is {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($h, $code, $name) = @_;
    $! = 1;
    my $got   = $h->get_error();
    my $errno = "$!";
    return Test::More::ok($got == $code && $errno eq '', $name)
        || Test::More::diag("get_error $got, \$! '$errno'");
}

sub no_hang {
    my ($secs, $code) = @_;
    local $SIG{ALRM} = 'DEFAULT';
    alarm($secs);
    my @r = $code->();
    alarm(0);
    return wantarray ? @r : $r[0];
}

sub unused_local_host {
    my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                     Proto => 'tcp', Listen => 1)
        or die "cannot bind a local port: $!";
    my $port = $sock->sockport;
    close($sock);
    return "127.0.0.1:$port";
}

sub delete_tree {
    my ($h, $path) = @_;
    for my $child ($h->get_children($path)) {
        delete_tree($h, "$path/$child");
    }
    return $h->delete($path);
}

# Creates $path with null data (a data length of -1, as the Java client writes
# null), talking the ZooKeeper protocol itself: Net::ZooKeeper always sends data.
sub create_null_node {
    my ($server, $path) = @_;
    my ($host, $port) = $server =~ /\A\s*\[?(.*?)\]?:(\d+)\z/ or die "cannot parse '$server'";
    my $sock = IO::Socket::IP->new(PeerHost => $host, PeerService => $port, Timeout => 10)
        or die "cannot connect to $host:$port: $@";
    binmode $sock;
    my $send = sub { print {$sock} pack('N/a*', $_[0]) or die "send: $!" };
    my $receive = sub {
        my $read = sub {
            my ($want, $buf) = ($_[0], '');
            while (length($buf) < $want) {
                my $n = sysread($sock, $buf, $want - length($buf), length($buf));
                die 'the server closed the connection' unless $n;
            }
            return $buf;
        };
        return $read->(unpack('N', $read->(4)));
    };
    my $string = sub { pack('N/a*', $_[0]) };
    no_hang(20, sub {
        # ConnectRequest: protocol 0, last zxid 0, timeout, session 0, empty password.
        $send->(pack('N NN N NN', 0, 0, 0, 10000, 0, 0) . $string->("\0" x 16) . "\0");
        $receive->();
        # create (op 1): path, data length -1, ACL world:anyone ALL, persistent.
        $send->(pack('N N', 1, 1) . $string->($path) . pack('l>', -1)
                . pack('N N', 1, 31) . $string->('world') . $string->('anyone') . pack('N', 0));
        my ($xid, $zxid_hi, $zxid_lo, $err) = unpack('N NN l>', $receive->());
        die "create of $path failed with $err" if $err;
        # closeSession (op -11).
        $send->(pack('N l>', 2, -11));
        $receive->();
    });
    close $sock;
}

sub reap {
    my ($pid, $seconds, $interval) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        my $r = waitpid $pid, POSIX::WNOHANG();
        return $? if $r == $pid;
        return undef if $r == -1;
        Time::HiRes::sleep($interval // 0.05);
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return undef;
}

# An event-loop adapter inherited through fork: in a child, one turn of its
# loop ($turn) must stop the child's copy of the watcher without running the
# handle's callback ($ran tells whether it ran) or warning.  One test.
sub child_stops_adapter {
    my ($name, $adapter, $ran, $turn) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        # Exit code bits: 1 the callback ran, 2 the watcher is still there, 4
        # warnings or a die.
        my @warnings;
        local $SIG{__WARN__} = sub { push @warnings, $_[0] };
        eval { $turn->(); 1 } or push @warnings, $@;
        POSIX::_exit(($ran->() ? 1 : 0) | ($adapter->active ? 2 : 0) | (@warnings ? 4 : 0));
    }
    my $status = reap($pid, 60);
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    return Test::More::is(defined $status ? $status : 'killed', 0, $name)
        || Test::More::diag(defined $status
               ? sprintf('child exit code %d, signal %d (exit code bits: 1 callback ran, 2 watcher kept, 4 warnings)',
                         $status >> 8, $status & 127)
               : 'the child did not finish');
}

sub wait_until {
    my ($cond, $seconds, $interval) = @_;
    my $deadline = Time::HiRes::time() + ($seconds // 10);
    until ($cond->()) {
        return 0 if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep($interval // 0.02);
    }
    return 1;
}

# Bounded waits on child watches of $path (through $h).
sub children_until {
    my ($h, $path, $cond, $seconds) = @_;
    my $end = time + ($seconds // 30);
    while (1) {
        my $w = $h->watch;
        my @c = $h->get_children($path, watch => $w);
        return 1 if $cond->(@c);
        return 0 if time >= $end;
        # Slices of a second: a read again does not depend on the watch
        # alone.
        my $left = $end - time;
        $w->wait(timeout => $left > 1 ? 1000 : 1000 * $left + 1);
    }
}

sub await_children {
    my ($h, $path, $n, $seconds) = @_;
    my @c;
    children_until($h, $path, sub { @c = @_; @c >= $n }, $seconds);
    return @c;
}

# Closes the session of $h: a second handle takes it over and is destroyed.
sub close_session {
    my ($hosts, $h, $observer, $node) = @_;
    for (1 .. 10) {
        my $thief = Net::ZooKeeper->new($hosts, session_id => $h->{session_id});
        # Its first attempt may meet the old connection still attached.
        for (1 .. 10) { last if $thief->exists('/'); $thief->get_error == Net::ZooKeeper::ZCONNECTIONLOSS() or last }
        undef $thief;
        return 1 if !$observer->exists($node) && $observer->get_error == Net::ZooKeeper::ZNONODE();
    }
    return 0;
}

sub capture_stderr {
    my ($code) = @_;
    my $tmp = File::Temp->new;
    my $read = sub {
        open(my $in, '<', $tmp->filename) or die "cannot read back the log: $!";
        my $text = do { local $/; <$in> };
        close $in;
        return $text;
    };
    open(my $olderr, '>&', \*STDERR) or die "cannot dup STDERR: $!";
    open(STDERR, '>', $tmp->filename) or die "cannot redirect STDERR: $!";
    STDERR->autoflush(1);
    my $ok = eval { $code->($read); 1 };
    my $err = $@;
    my $text = $read->();
    open(STDERR, '>&', $olderr) or die "cannot restore STDERR: $!";
    close $olderr;
    die $err unless $ok;
    return $text;
}

sub start_server_or_skip {
    my ($what, %opts) = @_;
    require ZKTest;
    require ZKTest::Server;
    my $server = eval { ZKTest::Server->start(%opts) };
    return $server if $server;
    no warnings 'once';
    my $why = $@ || $ZKTest::Server::ERROR || 'unknown error';
    die "cannot start $what: $why" if ZKTest::server_required();
    Test::More::plan(skip_all => "cannot start $what: $why");
}

sub modules_or_skip {
    my (@modules) = @_;
    my @missing;
    for my $module (@modules) {
        (my $file = "$module.pm") =~ s{::}{/}g;
        push @missing, $module unless eval { require $file; 1 };
    }
    return 1 unless @missing;
    require ZKTest;
    my $why = "not installed: @missing";
    die "$why (required because CI or ZK_TEST_REQUIRE is set)\n" if ZKTest::server_required();
    Test::More::plan(skip_all => $why);
}

sub run_synopsis {
    my ($file, $replace, @args) = @_;
    open(my $in, '<', $file) or die "cannot read $file: $!";
    my $pod = do { local $/; <$in> };
    close $in;
    my ($code) = $pod =~ /^=head1 SYNOPSIS\n\n(.*?)\n^(?=\S)/ms or die "no SYNOPSIS in $file";
    $code =~ s/^  //mg;
    for my $from (sort keys %$replace) {
        $code =~ s/\Q$from\E/$replace->{$from}/g or die "no '$from' in the SYNOPSIS of $file";
    }
    my $script = File::Temp->new(SUFFIX => '.pl');
    my $errors = File::Temp->new;
    print {$script} $code or die "cannot write the script: $!";
    close $script or die "cannot write the script: $!";
    my $pid = open(my $out, '-|') // die "fork: $!";
    if (!$pid) {
        open(STDERR, '>', $errors->filename) or POSIX::_exit(126);
        alarm(300);    # kept across exec: a script that hangs is killed
        { exec { $^X } $^X, (map { "-I$_" } grep { !ref } @INC), $script->filename, @args }
        POSIX::_exit(127);
    }
    my $stdout = do { local $/; <$out> };
    close $out;
    my $status = $?;
    open(my $err, '<', $errors->filename) or die "cannot read back STDERR: $!";
    my $stderr = do { local $/; <$err> };
    close $err;
    return ($status, $stdout, $stderr);
}

1;

__END__

=head1 NAME

ZKTest::Util - helpers shared by the Net::ZooKeeper test files

=head1 SYNOPSIS

    use FindBin ();
    use lib "$FindBin::Bin/lib";
    use ZKTest::Util qw(croaks warns unused_local_host delete_tree wait_until);

    my $zkh = Net::ZooKeeper->new(unused_local_host());   # never connects
    croaks(sub { $zkh->get() }, 'Usage: Net::ZooKeeper::get(zkh, path, ...)',
           'get without a path croaks with its usage');
    warns(sub { $zkh->{foo} = 1 }, ['invalid element: foo'], 'unknown keys warn');

    ok(wait_until(sub { $w->{event} != 0 }, 10), 'the event arrives');
    ok(delete_tree($zkh, $root), 'delete the test nodes');

=head1 DESCRIPTION

Nothing is exported by default; import what a file uses.  The assertion
helpers (C<croaks>, C<lives>, C<warns>, C<warns_like>, C<error_is>) use
L<Test::More> and set C<$Test::Builder::Level> so that a failure is reported
at the line of the test file that called them.  A test file that wraps one of
them in a helper of its own must raise C<$Test::Builder::Level> too.

=head1 FUNCTIONS

=head2 Croaks and warnings

Perl appends C<" at FILE line N.\n"> to a croak or warning whose message
does not end in a newline.  FILE is the test file, where the call that
croaked stands; by default these helpers take it from C<caller>: the nearest
caller outside this module.

=over

=item msg_re($message, %options)

A regex matching exactly C<$message> followed by C<" at FILE line N.\n">
(any N).  Options: C<< file => $file >> instead of the caller's file;
C<< period_optional => 1 >> to accept the trailer without its final period.

=item exception_of($code)

Runs C<$code> in an C<eval>; returns the exception (C<$@>), or
C<"(no exception)\n"> if it returned normally.

=item croaks($code, $message, $name, %options)

A test: C<$code> dies with exactly C<$message> reported at a line of the
calling test file (C<msg_re>, which also takes C<%options>).

=item lives($code, $name)

A test: C<$code> does not die; the exception is shown as a diagnostic if it
does.

=item warns($code, \@messages, $name)

A test: C<$code> emits exactly the warnings C<@messages>, in order, each
reported at a line of the calling test file (C<msg_re>).  The warnings seen
are shown as a diagnostic on failure.

=item warns_like($code, $regex, $name)

A test: C<$code> emits exactly one warning, and it matches C<$regex>.

=back

=head2 Handles and nodes

=over

=item error_is($handle, $code, $name)

A test: C<< $handle->get_error() >> is C<$code> and C<$!> is empty
afterwards (spec 2.6: C<$!> is set to 1 first, get_error must clear it).

=item unused_local_host()

C<"127.0.0.1:PORT"> with a port that was free a moment ago: nothing listens
there, so a handle on it never connects (and C<new> still accepts it).

=item delete_tree($handle, $path)

Deletes C<$path> and every node below it; returns the result of deleting
C<$path> itself (true on success).

=item create_null_node($server, $path)

Creates the node C<$path> (its full path on the server: any chroot included)
with null data, as the Java client writes C<null>, by talking the ZooKeeper
protocol to C<$server> (one C<host:port>) itself; Net::ZooKeeper always sends
data.  Dies if that fails.

=back

=head2 Bounded waits

=over

=item no_hang($seconds, $code)

Runs C<$code> (in the caller's context) with an alarm of C<$seconds> and the
default SIGALRM action, so a call that hangs kills the test file instead of
hanging it.  Not a timing assertion: the limit should be far above any
expected time.

=item reap($pid, $seconds, $interval)

Waits for the child C<$pid> for at most C<$seconds>, polling every
C<$interval> seconds (default 0.05).  Returns its wait status (C<$?>), or
undef if it was not our child or had to be killed (SIGKILL, then reaped)
because it did not finish in time.

=item wait_until($cond, $seconds, $interval)

Calls C<$cond> until it returns true, for at most C<$seconds> (default 10),
sleeping C<$interval> seconds (default 0.02) in between.  Returns 1 once
C<$cond> was true, 0 if time ran out.  For things that happen in the
background; the bound only stops a hang.

=item children_until($handle, $path, $cond, $seconds)

Reads the children of C<$path> through C<$handle> with a child watch and
calls C<< $cond->(@children) >>; until it returns true, waits on the watch
(a second at the most, so that a watch that never wakes the wait costs a
second, not the test) and reads again, for at most C<$seconds> (default
30).  Returns 1 once
C<$cond> was true, 0 if time ran out.

=item await_children($handle, $path, $n, $seconds)

C<children_until> for at least C<$n> children.  Returns the children last
read (fewer than C<$n> if time ran out).

=item close_session($hosts, $handle, $observer, $node)

Ends the session of C<$handle> from outside: a second handle takes the
session over (C<session_id>) and is destroyed, which closes it.
C<$handle> may take the session back (it reconnects) before the second
one closes it, so this is tried again (at most 10 times) until
C<$observer>, a handle of another session, sees the session's ephemeral
C<$node> gone.  Returns 1 then, 0 if it never did.  C<$handle> learns of
the expiry only when it next talks to the server.

=back

=head2 Logs and servers

=over

=item capture_stderr($code)

Runs C<$code> with file descriptor 2 (STDERR, where the client log goes)
reopened onto a new temporary file, then restores STDERR and returns the
file's contents as read right after C<$code> returned.  C<$code> gets one
argument: a function returning what has been written to the file so far, for
polling while STDERR is still redirected.  An exception from C<$code> is
passed on after STDERR is restored.

=item start_server_or_skip($what, %options)

Starts a private L<ZKTest::Server> with C<%options> and returns it.  If
none can be started: dies with C<"cannot start $what: REASON"> if
C<ZKTest::server_required()>, else C<plan skip_all> with that reason.  For use
before C<plan>.

=item modules_or_skip(@modules)

Loads each of C<@modules> (C<require>) and returns 1 if all load.  If any is
missing: dies with C<"not installed: NAMES"> if C<ZKTest::server_required()>
(CI must test with them), else C<plan skip_all> with that reason.  For use
before C<plan>, e.g. for the event loops of the adapter tests:

    modules_or_skip(qw(EV AnyEvent));

=item run_synopsis($file, \%replace, @args)

Runs the SYNOPSIS of the POD in C<$file> (its code, indented by two spaces)
as a script with C<@args>, in a new perl with this one's C<@INC>, after
replacing each key of C<%replace> (a literal string, which must occur) with
its value everywhere: the host string, the node paths.  A script still running
after 300 s is killed (SIGALRM).  Returns the wait status, what it wrote to STDOUT and what it wrote to STDERR.

    my ($status, $out) = run_synopsis('lib/Net/ZooKeeper/AnyEvent.pm',
        { q('localhost:2181') => "'$hosts'", q('/demo') => "'$root/demo'" });

=item child_stops_adapter($name, $adapter, $ran, $turn)

Forks; the child runs C<$turn> (one turn of the adapter's loop) and exits
with a code whose bits say whether the handle's callback ran (C<$ran> returns
true), the adapter is still active, or anything warned or died.  The parent
reports it as one test named C<$name>: exit code 0 passes.

    child_stops_adapter('the child stops its watcher', $adapter, sub { @got },
                        sub { EV::run(EV::RUN_NOWAIT()) });

=back

=cut
