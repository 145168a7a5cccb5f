package ZKTest::Ensemble;

# Run a private Apache ZooKeeper ensemble (or one restartable standalone server)
# on loopback for fault tests: members can be stopped, frozen, thawed and started
# again with their data directories kept.  Core Perl only.  See the POD at the end.

use strict;
use warnings;

use Carp ();
use Errno ();
use File::Temp ();
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();

use ZKTest::Server ();

our $VERSION = '1.00';

# Reason why the last start() returned undef (or died); undef after success.
our $ERROR;

# refaddr => weakened object, for END.  The hash is an object of a
# CLONE_SKIP class, so a new ithread gets no copy of the weak references in
# it (perl panics with "del_backref, svp=0" when a thread frees its copy of a
# weak reference to a CLONE_SKIP object).
my $LIVE = bless {}, 'ZKTest::Ensemble::Live';
{ package ZKTest::Ensemble::Live; sub CLONE_SKIP { 1 } }
sub _live { return ref $LIVE eq 'ZKTest::Ensemble::Live' ? $LIVE : {} }   # in a thread: nothing

sub _env_true {
    my ($v) = @_;
    return defined $v && $v ne '' && $v ne '0' && lc($v) ne 'false' && lc($v) ne 'no';
}

sub _note {
    my ($self, @msg) = @_;
    print STDERR '# ZKTest::Ensemble: ', @msg, "\n" if $self->{verbose};
}

sub _spew {
    my ($file, @lines) = @_;
    open my $fh, '>', $file or Carp::croak("cannot write $file: $!");
    print {$fh} @lines;
    close $fh or Carp::croak("cannot write $file: $!");
}

# Distinct free ports on 127.0.0.1.
sub _free_ports {
    my ($n, $taken) = @_;
    my %seen = map { $_ => 1 } @{ $taken || [] };
    my @ports;
    my $tries = 0;
    while (@ports < $n) {
        Carp::croak('cannot find enough free ports') if ++$tries > 100 * $n;
        my $p = ZKTest::Server::free_port();
        push @ports, $p unless $seen{$p}++;
    }
    return @ports;
}

# ---------------------------------------------------------------------------
# start / stop

sub available { ZKTest::Server->available }

sub start {
    my ($class, %opt) = @_;
    $ERROR = undef;
    my $size = $opt{size} // 3;
    Carp::croak("size must be a positive integer, not '$size'") unless $size =~ /^[1-9][0-9]*\z/;
    my $verbose = $opt{verbose} // _env_true($ENV{ZK_TEST_VERBOSE});
    my $timeout = $opt{timeout} || $ENV{ZK_TEST_START_TIMEOUT} || 90;

    unless (ZKTest::Server->available) {
        # Let ZKTest::Server install the package if it may, and say why not.
        my $srv = eval { ZKTest::Server->start };
        $srv->stop if $srv;
        unless (ZKTest::Server->available) {
            $ERROR = $ZKTest::Server::ERROR || $@ || 'ZooKeeper or java not available';
            return undef;
        }
    }

    my $last_error;
    for my $attempt (1 .. 3) {
        my $self = $class->_prepare($size, \%opt, $verbose);
        $self->_spawn_member($_) for $self->members;
        my $ok = $self->wait_serving(timeout => $timeout);
        if ($ok) {
            _live()->{ Scalar::Util::refaddr($self) } = $self;
            Scalar::Util::weaken(_live()->{ Scalar::Util::refaddr($self) });
            $self->_note("ensemble of $size serving on ", $self->hosts, ' (dir ', $self->dir, ')');
            return $self;
        }
        my $tails = join '', map { "--- member $_ ---\n" . $self->log_tail($_, 25) } $self->members;
        my $clash = $tails =~ /Address already in use|BindException/;
        $last_error = "ZooKeeper ensemble of $size did not come up within ${timeout}s: $self->{why}\n$tails";
        $self->stop;
        last unless $clash;
        $self->_note('a port was taken, retrying with other ports');
    }
    $ERROR = $last_error;
    die $last_error;
}

sub _prepare {
    my ($class, $size, $opt, $verbose) = @_;
    my $tmp = File::Temp->newdir('zkens-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $dir = "$tmp";
    my @ports = _free_ports(3 * $size);
    my %m;
    for my $i (1 .. $size) {
        my ($client, $quorum, $election) = splice @ports, 0, 3;
        $m{$i} = {
            id       => $i,
            port     => $client,
            qport    => $quorum,
            eport    => $election,
            dir      => "$dir/m$i",
            running  => 0,
        };
    }
    my $self = bless {
        owner   => $$,
        size    => $size,
        tmp     => $tmp,
        dir     => $dir,
        members => \%m,
        verbose => $verbose,
        tick    => $opt->{tick_time} || 2000,
        config  => { %{ $opt->{config} || {} } },
        jvm     => [ @{ $opt->{jvm_opts} || [] } ],
        why     => 'not yet started',
    }, ref($class) || $class;
    $self->_write_member_files($_) for 1 .. $size;
    return $self;
}

sub _write_member_files {
    my ($self, $i) = @_;
    my $m = $self->{members}{$i};
    my $mdir = $m->{dir};
    for my $d ($mdir, "$mdir/data") {
        next if -d $d;
        mkdir $d or Carp::croak("mkdir $d: $!");
    }
    my %cfg = (
        tickTime                 => $self->{tick},
        initLimit                => 10,
        syncLimit                => 5,
        dataDir                  => "$mdir/data",
        clientPort               => $m->{port},
        clientPortAddress        => '127.0.0.1',
        maxClientCnxns           => 0,
        'admin.enableServer'     => 'false',
        '4lw.commands.whitelist' => '*',
        'autopurge.purgeInterval' => 0,
    );
    if ($self->{size} > 1) {
        _spew("$mdir/data/myid", "$i\n");
        $cfg{standaloneEnabled} = 'false';
        $cfg{reconfigEnabled}   = 'false';
        for my $j (sort { $a <=> $b } keys %{ $self->{members} }) {
            my $o = $self->{members}{$j};
            $cfg{"server.$j"} = "127.0.0.1:$o->{qport}:$o->{eport}";
        }
    }
    %cfg = (%cfg, %{ $self->{config} });
    _spew("$mdir/zoo.cfg", map { "$_=$cfg{$_}\n" } sort keys %cfg);
    _spew("$mdir/log4j.properties",
        "log4j.rootLogger=INFO, FILE\n",
        "log4j.appender.FILE=org.apache.log4j.FileAppender\n",
        "log4j.appender.FILE.File=$mdir/zookeeper.log\n",
        "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n",
        "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n");
}

sub _spawn_member {
    my ($self, $i) = @_;
    Carp::croak("not the process that started the ensemble") unless $self->_owned;
    my $m = $self->_member($i);
    Carp::croak("member $i is already running (pid $m->{pid})") if $self->is_running($i);
    my $mdir = $m->{dir};
    my @cmd = (
        ZKTest::Server::find_java(),
        '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Xshare:auto',
        '-Djava.awt.headless=true',
        "-Dlog4j.configuration=file:$mdir/log4j.properties",
        "-Dorg.slf4j.simpleLogger.logFile=$mdir/zookeeper.log",
        "-Dzookeeper.log.dir=$mdir",
        '-Dzookeeper.admin.enableServer=false',
        '-Dzookeeper.jmx.log4j.disable=true',
        @{ $self->{jvm} },
        '-cp', ZKTest::Server::classpath(), $ZKTest::Server::MAIN_CLASS, "$mdir/zoo.cfg",
    );
    my $pid = ZKTest::Server::launch($mdir, @cmd);
    $m->{pid}     = $pid;
    $m->{running} = 1;
    $m->{paused}  = 0;
    $m->{starts}++;
    return $pid;
}

sub _owned { $_[0]{owner} && $_[0]{owner} == $$ }

sub _member {
    my ($self, $i) = @_;
    my $m = defined $i ? $self->{members}{$i} : undef;
    Carp::croak("no member '" . ($i // 'undef') . "' (members are 1 .. $self->{size})") unless $m;
    return $m;
}

# Reaps the member's process if it has exited; true while it runs.
sub is_running {
    my ($self, $i) = @_;
    my $m = $self->_member($i);
    return 0 unless $m->{running};
    my $r = waitpid $m->{pid}, POSIX::WNOHANG();
    if ($r == $m->{pid} || ($r == -1 && $! == Errno::ECHILD())) {
        $m->{status}  = $r == -1 ? 'unknown' : $?;
        $m->{running} = 0;
        $m->{paused}  = 0;
        return 0;
    }
    return 1;
}

# stop_member($i [, signal => 'TERM'|'KILL', timeout => 20]): the member's process
# is ended (SIGTERM, SIGKILL if it is still there after the timeout) and reaped.
# start_or_skip(%opt): start() for a test file. When no ensemble can be started,
# the test dies if a server is required (CI, ZK_TEST_REQUIRE), else skips the file.
sub start_or_skip {
    my ($class, %opt) = @_;
    my $ens = eval { $class->start(%opt) };
    return $ens if $ens;
    my $why = 'cannot start a ZooKeeper ensemble of ' . ($opt{size} // 3) . ': '
        . ($@ || $ERROR || 'unknown');
    require ZKTest;
    die $why if ZKTest::server_required();
    require Test::More;
    Test::More::plan(skip_all => $why);
}

sub stop_member {
    my ($self, $i, %o) = @_;
    return 0 unless $self->_owned;
    my $m = $self->_member($i);
    return 0 unless $self->is_running($i);
    local ($?, $!);
    my $sig = $o{signal} || 'TERM';
    kill 'CONT', $m->{pid} if $m->{paused};
    kill $sig, $m->{pid};
    my $deadline = Time::HiRes::time() + ($o{timeout} || 20);
    Time::HiRes::sleep(0.01) while $self->is_running($i) && Time::HiRes::time() < $deadline;
    if ($self->is_running($i)) {
        kill 'KILL', $m->{pid};
        $deadline = Time::HiRes::time() + 10;
        Time::HiRes::sleep(0.01) while $self->is_running($i) && Time::HiRes::time() < $deadline;
    }
    return $self->is_running($i) ? 0 : 1;
}

# kill_member($i): SIGKILL, as a crash.
sub kill_member { $_[0]->stop_member($_[1], signal => 'KILL') }

# start_member($i [, wait => 1, timeout => 60]): starts a stopped member with its
# data directory; with wait (the default) returns once it serves.
sub start_member {
    my ($self, $i, %o) = @_;
    $self->_spawn_member($i);
    return 1 if defined $o{wait} && !$o{wait};
    return $self->wait_member($i, timeout => $o{timeout});
}

# wipe_member($i): empties a stopped member's data directory (snapshots and
# transaction logs; myid is kept), so that it starts again without any state:
# no nodes, no sessions.  Croaks if the member runs.
sub wipe_member {
    my ($self, $i) = @_;
    Carp::croak("not the process that started the ensemble") unless $self->_owned;
    my $m = $self->_member($i);
    Carp::croak("member $i is running (pid $m->{pid}); stop it before wiping its data")
        if $self->is_running($i);
    my $data = "$m->{dir}/data";
    opendir my $dh, $data or Carp::croak("cannot read $data: $!");
    my @entries = grep { $_ ne '.' && $_ ne '..' && $_ ne 'myid' } readdir $dh;
    closedir $dh;
    require File::Path;
    for my $e (@entries) {
        my $path = "$data/$e";
        if (-d $path && !-l $path) {
            File::Path::remove_tree($path, { error => \my $err });
            Carp::croak("cannot remove $path: " . join(', ', map { values %$_ } @$err)) if @$err;
        }
        else {
            unlink $path or Carp::croak("cannot remove $path: $!");
        }
    }
    return scalar @entries;
}

# pause_member / resume_member: SIGSTOP / SIGCONT (a hung, unresponsive member).
sub pause_member {
    my ($self, $i) = @_;
    my $m = $self->_member($i);
    return 0 unless $self->_owned && $self->is_running($i);
    kill 'STOP', $m->{pid} or return 0;
    $m->{paused} = 1;
    _wait_stopped($m->{pid}, 5);
    return 1;
}

# kill() returns before the signal has taken effect: on Linux, wait (at most
# $seconds) until every thread of the process shows state T (stopped) in
# /proc, so that the member answers nothing from here on.  Elsewhere a no-op.
sub _wait_stopped {
    my ($pid, $seconds) = @_;
    my $dir = "/proc/$pid/task";
    return 1 unless -d $dir;
    my $deadline = Time::HiRes::time() + $seconds;
    while (Time::HiRes::time() < $deadline) {
        opendir my $dh, $dir or return 1;
        my @tasks = grep { /^\d+\z/ } readdir $dh;
        closedir $dh;
        my $running = 0;
        for my $t (@tasks) {
            open my $fh, '<', "$dir/$t/stat" or next;    # the thread may be gone
            my $stat = <$fh> // '';
            close $fh;
            # pid (comm) state ...: comm may contain spaces and parentheses
            my ($state) = $stat =~ /.*\)\s+(\S)\s/s;    # after the last ")"
            $running++ if defined $state && $state ne 'T' && $state ne 't';
        }
        return 1 unless $running;
        Time::HiRes::sleep(0.005);
    }
    return 0;
}

sub resume_member {
    my ($self, $i) = @_;
    my $m = $self->_member($i);
    return 0 unless $self->_owned && $self->is_running($i);
    kill 'CONT', $m->{pid} or return 0;
    $m->{paused} = 0;
    return 1;
}

# The member's "Mode:" from srvr (leader, follower, standalone), or undef.
sub member_mode {
    my ($self, $i, $timeout) = @_;
    my $srvr = ZKTest::Server::four_letter_word($self->member_hosts($i), 'srvr', $timeout || 2);
    return defined $srvr && $srvr =~ /^Mode: (\S+)/m ? $1 : undef;
}

# A member serves if it runs, srvr shows a serving mode, and a real session can
# be opened, used and closed through it.
sub member_serves {
    my ($self, $i) = @_;
    return 0 unless $self->is_running($i);
    my $mode = $self->member_mode($i);
    unless (defined $mode && $mode =~ /^(?:leader|follower|standalone|observer)\z/) {
        $self->{why} = "member $i: srvr mode " . ($mode // '(no answer)');
        return 0;
    }
    unless (ZKTest::Server::protocol_check($self->member_hosts($i), 5)) {
        $self->{why} = "member $i: mode $mode, but a client session could not be used";
        return 0;
    }
    return 1;
}

sub wait_member {
    my ($self, $i, %o) = @_;
    my $deadline = Time::HiRes::time() + ($o{timeout} || 60);
    while (Time::HiRes::time() < $deadline) {
        unless ($self->is_running($i)) {
            $self->{why} = "member $i exited (status " . ($self->{members}{$i}{status} // '?') . ')';
            return 0;
        }
        return 1 if $self->member_serves($i);
        Time::HiRes::sleep(0.1);
    }
    return 0;
}

# wait_serving([timeout => 60]): until every running member serves (a quorum of
# the ensemble must be running for that).  True on success.
sub wait_serving {
    my ($self, %o) = @_;
    my $deadline = Time::HiRes::time() + ($o{timeout} || 60);
    my @running = grep { $self->is_running($_) } $self->members;
    if (2 * @running <= $self->{size} && $self->{size} > 1) {
        $self->{why} = 'fewer than a quorum of members are running';
        return 0;
    }
    while (Time::HiRes::time() < $deadline) {
        my @down = grep { !$self->is_running($_) } @running;
        if (@down) {
            $self->{why} = "member(s) @down exited";
            return 0;
        }
        return 1 unless grep { !$self->member_serves($_) } @running;
        Time::HiRes::sleep(0.2);
    }
    $self->{why} = "timed out; last check: $self->{why}";
    return 0;
}

# The member whose srvr says "Mode: leader", or undef.
sub leader {
    my ($self) = @_;
    for my $i ($self->members) {
        next unless $self->is_running($i);
        my $mode = $self->member_mode($i) // '';
        return $i if $mode eq 'leader';
    }
    return undef;
}

# The member through which the session with this number (an integer, or the
# 24-byte session_id of a handle) is connected, found with 'cons'; or undef.
sub member_of_session {
    my ($self, $session) = @_;
    my $num = length($session) == 24 ? unpack('q', substr($session, 0, 8)) : $session;
    my $hex = sprintf '0x%x', $num;
    for my $i ($self->members) {
        next unless $self->is_running($i) && !$self->{members}{$i}{paused};
        my $cons = ZKTest::Server::four_letter_word($self->member_hosts($i), 'cons', 2) // '';
        return $i if $cons =~ /\bsid=\Q$hex\E\b/i;
    }
    return undef;
}

sub stop {
    my ($self) = @_;
    local ($?, $!, $@);
    return 0 unless $self->_owned;
    delete _live()->{ Scalar::Util::refaddr($self) };
    for my $i ($self->members) {
        my $m = $self->{members}{$i};
        next unless $m->{running};
        kill 'CONT', $m->{pid} if $m->{paused};
        kill 'TERM', $m->{pid};
    }
    $self->stop_member($_) for $self->members;
    delete $self->{tmp};    # removes the temp dir (File::Temp checks the pid too)
    $self->{owner} = 0;
    return 1;
}

# Threads get no copy of an ensemble, so a thread's exit cannot stop it.
sub CLONE_SKIP { 1 }

sub DESTROY {
    my ($self) = @_;
    $self->stop if $self->_owned;
}

END {
    for my $e (grep { defined } values %{ _live() }) {
        $e->stop if $e->_owned;
    }
}

# ---------------------------------------------------------------------------
# hang guard

# hang_guard($seconds, $what, $code): runs $code (list context) and returns its
# result.  If it has not returned after $seconds, the process writes
# "HANG: $what ..." to STDERR and exits with status 124 at once: the SIGALRM
# handler is installed with POSIX::sigaction as an unsafe (immediate) handler,
# so it also fires while a method blocks in native code, where Perl's deferred
# %SIG handlers could not run.
sub hang_guard {
    my ($seconds, $what, $code) = @_;
    my $msg = "HANG: $what did not return within ${seconds}s\n";
    my $old = POSIX::SigAction->new;
    my $act = POSIX::SigAction->new(sub { syswrite STDERR, $msg; POSIX::_exit(124) }, POSIX::SigSet->new);
    $act->safe(0);
    POSIX::sigaction(POSIX::SIGALRM(), $act, $old) or Carp::croak("sigaction: $!");
    alarm $seconds;
    my @r;
    my $done = eval { @r = $code->(); 1 };
    my $err = $@;
    alarm 0;
    POSIX::sigaction(POSIX::SIGALRM(), $old);
    die $err unless $done;
    return wantarray ? @r : $r[-1];
}

# ---------------------------------------------------------------------------
# accessors

sub size    { $_[0]{size} }
sub members { my $n = $_[0]{size}; return 1 .. $n }
sub dir     { $_[0]{dir} }
sub hosts   { my $s = $_[0]; join ',', map { $s->member_hosts($_) } $s->members }
sub member_hosts { '127.0.0.1:' . $_[0]->_member($_[1])->{port} }
sub member_port  { $_[0]->_member($_[1])->{port} }
sub member_pid   { my $m = $_[0]->_member($_[1]); $m->{running} ? $m->{pid} : undef }
sub member_dir   { $_[0]->_member($_[1])->{dir} }
sub member_starts { $_[0]->_member($_[1])->{starts} // 0 }
sub why     { $_[0]{why} }

sub log_tail {
    my ($self, $i, $n) = @_;
    return ZKTest::Server::dir_log_tail($self->member_dir($i), $n, "(no output)\n");
}

1;

__END__

=head1 NAME

ZKTest::Ensemble - a private ZooKeeper ensemble on loopback for fault tests

=head1 SYNOPSIS

    use lib 't/lib';
    use ZKTest::Ensemble;

    my $ens = eval { ZKTest::Ensemble->start(size => 3) }
        or plan skip_all => "no ensemble: " . ($@ || $ZKTest::Ensemble::ERROR);
    my $hosts = $ens->hosts;             # "127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3"
    my $one   = $ens->member_hosts(1);   # "127.0.0.1:P1"
    $ens->stop_member(2);                # data directory kept
    $ens->start_member(2);               # returns once it serves again
    $ens->stop;                          # also done by DESTROY / END

=head1 DESCRIPTION

Starts C<size> ZooKeeper servers (Debian's 3.8 jars, found like
L<ZKTest::Server> finds them) on 127.0.0.1, each with its own client, quorum and
election port, directory, F<zoo.cfg> (C<server.1..N=127.0.0.1:QP:EP>, C<myid>,
C<tickTime=2000>, C<initLimit=10>, C<syncLimit=5>, C<standaloneEnabled=false>,
C<4lw.commands.whitelist=*>, C<admin.enableServer=false>) and log files.
With C<< size => 1 >> the single server runs in standalone mode (no
C<server.N> lines), and can still be stopped and started again with its data.

C<start> returns once a quorum serves: every member is running, its C<srvr>
shows C<Mode: leader> or C<follower> (C<standalone> for size 1), and a real
client session can be opened, used and closed through it.  All waits are
bounded.  Members are stopped, and the temporary directory removed, by C<stop>,
C<DESTROY> or C<END> - only in the process that started the ensemble.  On Linux
the kernel also kills the servers if that process dies.

=head1 METHODS

=over

=item start(size => 3, tick_time => 2000, config => {...}, jvm_opts => [...], timeout => 90, verbose => 0)

Returns the ensemble or dies (message with the members' log tails); returns
undef (reason in C<$ZKTest::Ensemble::ERROR>) if ZooKeeper or java is missing.
C<config> adds or overrides F<zoo.cfg> lines of every member.

=item hosts, member_hosts($i), member_port($i), members, size, dir, member_dir($i), member_pid($i)

Members are numbered 1 .. size (their C<myid>).

=item stop_member($i [, signal => 'TERM', timeout => 20]), kill_member($i)

Ends a member (C<kill_member>: SIGKILL, a crash) and reaps it; its data stays.

=item start_member($i [, wait => 1, timeout => 60])

Starts a stopped member again with its data; with C<< wait => 0 >> returns at once.

=item wipe_member($i)

Empties the data directory of a stopped member (snapshots and transaction
logs; C<myid> stays): started again, it has no nodes and no sessions, as a
server replaced by a new one.  Returns the number of entries removed; croaks
if the member runs.

=item pause_member($i), resume_member($i)

SIGSTOP / SIGCONT: a member that keeps its connections but answers nothing.
On Linux C<pause_member> returns once every thread of the member's process
is stopped (state C<T> in F</proc>, waiting at most 5 s).

=item wait_member($i [, timeout => 60]), wait_serving([timeout => 60]), member_serves($i)

Bounded waits until one member, or every running member, serves.

=item member_mode($i), leader(), member_of_session($session)

C<srvr>'s C<Mode:>; the leader's number; the member whose C<cons> lists the
session (a session number, or a handle's 24-byte C<session_id>).

=item is_running($i), member_starts($i), log_tail($i [, $lines]), why, stop

=back

=head1 FUNCTIONS

=over

=item hang_guard($seconds, $what, $code)

Runs C<$code> and returns its result; if it has not returned after
C<$seconds>, writes C<HANG: $what ...> to STDERR and exits the process with
status 124 (an immediate SIGALRM handler, so it works while a method blocks
in native code).  A test that hangs thus fails instead of blocking.

=back

=cut
