package ZKTest::Httpd;

# Start and stop a real Apache httpd (Debian's apache2 with mod_perl) with a
# private configuration, for the Apache2::ZooKeeper tests.  Core Perl only.
# See the POD at the end.

use strict;
use warnings;

use Carp ();
use Cwd ();
use Errno ();
use File::Basename ();
use File::Spec ();
use File::Temp ();
use HTTP::Tiny ();
use IO::Socket::INET ();
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();

use ZKTest::Server ();

our $VERSION = '1.00';

our $APACHE      = $ENV{ZK_TEST_APACHE}         || '/usr/sbin/apache2';
our $MODULES_DIR = $ENV{ZK_TEST_APACHE_MODULES} || '/usr/lib/apache2/modules';

# Reason why the last start() failed; undef after success.
our $ERROR;

# refaddr => weakened object, for END.  The hash is an object of a
# CLONE_SKIP class, so a new ithread gets no copy of the weak references in
# it (perl panics with "del_backref, svp=0" when a thread frees its copy of a
# weak reference to a CLONE_SKIP object).
my $LIVE = bless {}, 'ZKTest::Httpd::Live';
{ package ZKTest::Httpd::Live; sub CLONE_SKIP { 1 } }
sub _live { return ref $LIVE eq 'ZKTest::Httpd::Live' ? $LIVE : {} }   # in a thread: nothing

# The repository: three levels above this file (t/lib/ZKTest/Httpd.pm).
my $REPO = Cwd::abs_path(File::Spec->catdir(File::Basename::dirname(__FILE__), (File::Spec->updir) x 3));

sub repo { $REPO }

sub _env_true {
    my ($v) = @_;
    return defined $v && $v ne '' && $v ne '0' && lc($v) ne 'false' && lc($v) ne 'no';
}

sub required { return _env_true($ENV{CI}) || _env_true($ENV{ZK_TEST_REQUIRE}) }

# Why an httpd with mod_perl and the given MPM cannot be run here, or undef.
sub missing {
    my ($class, $mpm) = @_;
    $mpm ||= 'prefork';
    return "no apache2 executable at $APACHE" unless -f $APACHE && -x _;
    return "no mod_perl.so in $MODULES_DIR (Debian package libapache2-mod-perl2)"
        unless -f "$MODULES_DIR/mod_perl.so";
    return "no mod_mpm_$mpm.so in $MODULES_DIR" unless -f "$MODULES_DIR/mod_mpm_$mpm.so";
    return "mod_perl's Perl modules are not installed (mod_perl2.pm: $@)"
        unless eval { require mod_perl2; 1 };
    for my $dir ("$REPO/blib/lib", "$REPO/blib/arch") {
        return "$dir does not exist (run perl Makefile.PL && make)" unless -d $dir;
    }
    return undef;
}

# For test files, before plan: returns if httpd can be run.  Otherwise, if
# CI or ZK_TEST_REQUIRE is set, plans one failing test; else skips the file.
sub require_httpd {
    my ($class, $mpm) = @_;
    my $why = $class->missing($mpm);
    return 1 unless defined $why;
    require Test::More;
    if (required()) {
        my $which = _env_true($ENV{ZK_TEST_REQUIRE}) ? 'ZK_TEST_REQUIRE' : 'CI';
        Test::More::plan(tests => 1);
        Test::More::fail("Apache httpd with mod_perl is available ($which is set, so it is required)");
        Test::More::diag($why);
        exit 1;
    }
    Test::More::plan(skip_all => "Apache httpd with mod_perl not available: $why");
}

sub free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1,
    ) or Carp::croak("cannot bind a socket on 127.0.0.1: $!");
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub _spew {
    my ($file, @text) = @_;
    open my $fh, '>', $file or Carp::croak("cannot write $file: $!");
    print {$fh} @text;
    close $fh or Carp::croak("cannot write $file: $!");
}

sub _slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    my $t = <$fh>;
    return defined $t ? $t : '';
}

# The user the children run as when we are root (httpd refuses to serve as root).
sub _run_user {
    for my $u (qw(www-data nobody daemon)) {
        my @pw = getpwnam $u;
        next unless @pw;
        my $group = getgrgid($pw[3]);
        return ($u, defined $group ? $group : "#$pw[3]");
    }
    Carp::croak('running as root, but there is no www-data, nobody or daemon user for httpd');
}

my %MPM_DEFAULTS = (
    prefork => {
        StartServers => 2, MinSpareServers => 1, MaxSpareServers => 4, ServerLimit => 4,
        MaxRequestWorkers => 4, MaxConnectionsPerChild => 0,
    },
    worker => {
        StartServers => 2, ServerLimit => 2, ThreadLimit => 4, ThreadsPerChild => 4,
        MinSpareThreads => 1, MaxSpareThreads => 8, MaxRequestWorkers => 8,
        MaxConnectionsPerChild => 0,
    },
    event => {
        StartServers => 2, ServerLimit => 2, ThreadLimit => 4, ThreadsPerChild => 4,
        MinSpareThreads => 1, MaxSpareThreads => 8, MaxRequestWorkers => 8,
        MaxConnectionsPerChild => 0,
    },
);
my @MPM_ORDER = qw(ServerLimit ThreadLimit StartServers MinSpareServers MaxSpareServers
                   ThreadsPerChild MinSpareThreads MaxSpareThreads MaxRequestWorkers
                   MaxConnectionsPerChild);

# Creates the temp dir and the configuration; returns the (unstarted) object.
sub new {
    my ($class, %opt) = @_;
    my $mpm = $opt{mpm} || 'prefork';
    Carp::croak("unknown MPM '$mpm' (prefork, worker or event)") unless $MPM_DEFAULTS{$mpm};
    my $tmp = File::Temp->newdir('zkhttpd-XXXXXX', TMPDIR => 1,
                                 CLEANUP => !_env_true($ENV{ZK_TEST_KEEP_HTTPD}));
    my $dir = "$tmp";
    chmod 0755, $dir;
    for my $sub (qw(logs run htdocs conf)) {
        mkdir "$dir/$sub" or Carp::croak("mkdir $dir/$sub: $!");
        chmod 0755, "$dir/$sub";
    }
    my $self = bless {
        tmp     => $tmp,
        dir     => $dir,
        mpm     => $mpm,
        port    => $opt{port} || free_port(),
        fixed_port => $opt{port} ? 1 : 0,
        opt     => \%opt,
        timeout => $opt{timeout} || $ENV{ZK_TEST_HTTPD_TIMEOUT} || 60,
        owner   => $$,
        running => 0,
    }, $class;
    $self->{conf} = "$dir/conf/httpd.conf";
    _spew($self->{conf}, $self->_config(\%opt));
    return $self;
}

sub _config {
    my ($self, $opt) = @_;
    my ($dir, $mpm) = @$self{qw(dir mpm)};
    my %mpm = (%{ $MPM_DEFAULTS{$mpm} }, %{ $opt->{mpm_config} || {} });
    my @user;
    if ($> == 0) {
        my ($user, $group) = $opt->{user} ? ($opt->{user}, $opt->{group} || $opt->{user}) : _run_user();
        @user = ("User $user", "Group $group");
    }
    # ZK_TEST_HTTPD_INC: extra directories (colon-separated) searched before blib
    my @extra = grep { length } split /:/, (defined $ENV{ZK_TEST_HTTPD_INC} ? $ENV{ZK_TEST_HTTPD_INC} : '');
    my @inc = ((map { "-I$_" } @extra), map { "-I$REPO/$_" } qw(blib/lib blib/arch t/lib));
    my @lines = (
        "# generated by ZKTest::Httpd for $0 (pid $$)",
        qq(ServerRoot "$dir"),
        qq(DefaultRuntimeDir "$dir/run"),
        qq(PidFile "$dir/run/httpd.pid"),
        qq(ErrorLog "$dir/logs/error.log"),
        'LogLevel ' . ($opt->{log_level} || 'warn'),
        qq(Mutex file:$dir/run default),
        "Listen 127.0.0.1:$self->{port}",
        'ServerName 127.0.0.1',
        @user,
        "LoadModule mpm_${mpm}_module $MODULES_DIR/mod_mpm_$mpm.so",
        "LoadModule authz_core_module $MODULES_DIR/mod_authz_core.so",
        "LoadModule perl_module $MODULES_DIR/mod_perl.so",
        (map { "$_ $mpm{$_}" } grep { exists $mpm{$_} } @MPM_ORDER),
        'Timeout 30',
        'KeepAlive Off',
        'GracefulShutdownTimeout 10',
        qq(DocumentRoot "$dir/htdocs"),
        "PerlSwitches @inc",
        'PerlLoadModule Apache2::ZooKeeper',
        @{ $opt->{config} || [] },
    );
    if ($opt->{handler} // 1) {
        push @lines,
            'PerlModule ZKTest::Handler',
            '<Location /zk>',
            '    SetHandler modperl',
            '    PerlResponseHandler ZKTest::Handler',
            '</Location>';
    }
    return join "\n", @lines, '';
}

sub _command {
    my ($self, @extra) = @_;
    return ($APACHE, '-d', $self->{dir}, '-f', $self->{conf}, @extra);
}

# Runs httpd in the foreground (-DFOREGROUND) as a child of ours, in a process
# group of its own; its stdout/stderr go to logs/startup.log.
sub _spawn {
    my ($self) = @_;
    my $out = "$self->{dir}/logs/startup.log";
    my $prctl = _prctl_syscall();
    my $pid = fork;
    Carp::croak("fork: $!") unless defined $pid;
    if (!$pid) {
        POSIX::setsid();
        # the kernel kills httpd if the starting process dies without stopping it
        syscall($prctl, 1, 9, 0, 0, 0) if $prctl;    # PR_SET_PDEATHSIG, SIGKILL
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec { $APACHE } $self->_command('-DFOREGROUND') or print STDERR "exec $APACHE: $!\n";
        POSIX::_exit(127);
    }
    $self->{pid}     = $pid;
    $self->{running} = 1;
    $self->_watchdog;
    return $pid;
}

# A small process that kills httpd's process group if this process dies without
# stopping it (httpd's children outlive a killed parent otherwise): it waits for
# EOF on a pipe whose write end only this process holds (close-on-exec, so
# httpd does not inherit it).
sub _watchdog {
    my ($self) = @_;
    pipe my $rd, my $wr or return;
    my $pg  = $self->{pid};
    my $pid = fork;
    return unless defined $pid;
    if (!$pid) {
        close $wr;
        POSIX::setsid();    # not hit by signals sent to the test's process group
        $SIG{$_} = 'IGNORE' for qw(INT HUP QUIT PIPE);
        my $buf;
        1 while !defined sysread($rd, $buf, 1) && $!{EINTR};
        kill 'KILL', -$pg;
        POSIX::_exit(0);
    }
    close $rd;
    $self->{watchdog}    = $pid;
    $self->{watchdog_fh} = $wr;
}

sub _stop_watchdog {
    my ($self) = @_;
    my $pid = delete $self->{watchdog} or return;
    close delete $self->{watchdog_fh};
    kill 'TERM', $pid;
    my $deadline = Time::HiRes::time() + 5;
    while (waitpid($pid, POSIX::WNOHANG()) == 0) {
        if (Time::HiRes::time() > $deadline) { kill 'KILL', $pid; waitpid $pid, 0; last }
        Time::HiRes::sleep(0.02);
    }
}

# The prctl(2) syscall number (Linux only), or undef.
sub _prctl_syscall {
    return undef unless $^O eq 'linux';
    require Config;
    my $arch = $Config::Config{archname};
    return $arch =~ /^x86_64/ ? 157 : $arch =~ /^aarch64/ ? 167 : undef;
}

# Reaps httpd if it has exited; true while it runs.
sub _alive { return ZKTest::Server::child_running($_[0]) }

sub _wait_exit {
    my ($self, $seconds) = @_;
    my $deadline = Time::HiRes::time() + $seconds;
    Time::HiRes::sleep(0.05) while $self->_alive && Time::HiRes::time() < $deadline;
    return !$self->_alive;
}

# ZKTest::Httpd->start(%opts): a running httpd, or dies with the reason (and
# the startup output and error log).  Options:
#   mpm        => 'prefork' | 'worker' | 'event'
#   mpm_config => { StartServers => 1, ... }   overrides of the MPM settings
#   config     => [ lines ]                    e.g. ZKCluster lines
#   handler    => 1      map /zk to ZKTest::Handler (default 1)
#   log_level  => 'warn'
#   timeout    => 60     seconds to wait until it answers HTTP
sub start {
    my ($class, %opt) = @_;
    $ERROR = undef;
    my $self = ref $class ? $class : $class->new(%opt);
    for my $attempt (1 .. 3) {
        my $why = $self->_start_once;
        return $self unless defined $why;
        my $clash = $self->startup_output =~ /Address already in use|could not bind/i;
        $ERROR = "httpd ($APACHE, pid $self->{pid}) did not start within $self->{timeout}s: $why\n"
            . $self->_diagnostics;
        $self->_kill;
        last unless $clash && !$self->{fixed_port} && $attempt < 3;
        # the free port was taken meanwhile: try another one
        $self->{port} = free_port();
        _spew($self->{conf}, $self->_config($self->{opt}));
        unlink "$self->{dir}/logs/startup.log";
    }
    die $ERROR;
}

# One attempt: undef once httpd answers HTTP and has written its pid file, else
# why not.
sub _start_once {
    my ($self) = @_;
    $self->_spawn;
    my $deadline = Time::HiRes::time() + $self->{timeout};
    my $http = HTTP::Tiny->new(timeout => 2, keep_alive => 0);
    my $why = 'no answer yet';
    while (Time::HiRes::time() < $deadline) {
        unless ($self->_alive) {
            return "httpd exited (status $self->{status})";
        }
        # the pid file (written once the port is bound) says the answer is ours
        my $pidfile = _slurp("$self->{dir}/run/httpd.pid");
        my $res = $http->get($self->url('/'));
        if ($res->{status} != 599 && $pidfile =~ /^\s*\Q$self->{pid}\E\s*$/) {
            _live()->{ Scalar::Util::refaddr($self) } = $self;
            Scalar::Util::weaken(_live()->{ Scalar::Util::refaddr($self) });
            return undef;
        }
        $why = $res->{status} == 599 ? "no HTTP answer: $res->{content}" : 'no pid file yet';
        Time::HiRes::sleep(0.1);
    }
    return $why;
}

# ZKTest::Httpd->start_fails_with(%opts): starts httpd with a configuration
# that must make it refuse to start.  Returns its startup output and error log
# if it exited with a non-zero status before answering HTTP; undef (and stops
# it) if it started or exited with status 0.
sub start_fails_with {
    my ($class, %opt) = @_;
    my $self = $class->new(%opt);
    my $ok = eval { $self->start; 1 };
    if ($ok) {
        $self->stop;
        return undef;
    }
    return undef unless defined $self->{status} && $self->{status} ne 'unknown' && $self->{status} != 0;
    return $self->startup_output . $self->error_log;
}

# ZKTest::Httpd->config_test(%opts): runs "apache2 -t" on the configuration;
# returns (1 if it exited 0, its output).
sub config_test {
    my ($class, %opt) = @_;
    my $self = ref $class ? $class : $class->new(%opt);
    my $out = "$self->{dir}/logs/configtest.log";
    my $pid = fork;
    Carp::croak("fork: $!") unless defined $pid;
    if (!$pid) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec { $APACHE } $self->_command('-t') or print STDERR "exec $APACHE: $!\n";
        POSIX::_exit(127);
    }
    my $deadline = Time::HiRes::time() + $self->{timeout};
    my $r;
    while (($r = waitpid $pid, POSIX::WNOHANG()) == 0 && Time::HiRes::time() < $deadline) {
        Time::HiRes::sleep(0.05);
    }
    if ($r == 0) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
        return (0, _slurp($out) . "\n(apache2 -t did not finish within $self->{timeout}s)\n");
    }
    return ($? == 0 ? 1 : 0, _slurp($out));
}

sub _diagnostics {
    my ($self) = @_;
    return "--- startup output ---\n" . $self->startup_output
         . "--- error log ---\n" . $self->error_log . "--- end ---\n";
}

# Graceful stop (SIGWINCH, bounded by GracefulShutdownTimeout), then SIGTERM,
# then SIGKILL to the process group.  Only in the process that started it.
sub stop {
    my ($self) = @_;
    local ($?, $!, $@);
    return 0 unless $self->{owner} && $self->{owner} == $$;
    delete _live()->{ Scalar::Util::refaddr($self) };
    if ($self->_alive) {
        kill 'WINCH', $self->{pid};
        unless ($self->_wait_exit(20)) {
            kill 'TERM', $self->{pid};
            $self->_wait_exit(10);
        }
    }
    $self->_kill;
    $self->{owner} = 0;
    return 1;
}

# SIGKILL to whatever is left of the process group, then reap.
sub _kill {
    my ($self) = @_;
    return unless $self->{pid};
    my $pg = $self->{pid};
    my $deadline = Time::HiRes::time() + 5;
    # children of a stopped httpd exit by themselves shortly; give them a moment
    Time::HiRes::sleep(0.05) while kill(0, -$pg) && Time::HiRes::time() < $deadline;
    kill 'KILL', -$pg if kill 0, -$pg;
    kill 'KILL', $self->{pid} if $self->_alive;
    $self->_wait_exit(10);
    $self->_stop_watchdog;
}

sub CLONE_SKIP { 1 }

sub DESTROY {
    my ($self) = @_;
    $self->stop if $self->{owner} && $self->{owner} == $$;
}

END {
    for my $s (grep { defined } values %{ _live() }) {
        $s->stop if $s->{owner} && $s->{owner} == $$;
    }
}

# ---------------------------------------------------------------------------
# accessors and HTTP

sub port       { $_[0]{port} }
sub pid        { $_[0]{pid} }
sub dir        { $_[0]{dir} }
sub mpm        { $_[0]{mpm} }
sub conf_file  { $_[0]{conf} }
sub config_text { _slurp($_[0]{conf}) }
sub is_running { $_[0]->_alive }
sub error_log_file { "$_[0]{dir}/logs/error.log" }
sub error_log  { _slurp("$_[0]{dir}/logs/error.log") }
sub startup_output { _slurp("$_[0]{dir}/logs/startup.log") }

sub url {
    my ($self, $path) = @_;
    $path = '/' unless defined $path;
    $path = "/$path" unless $path =~ m{^/};
    return "http://127.0.0.1:$self->{port}$path";
}

# A new connection per request (no keep-alive), so requests spread over the
# children; returns HTTP::Tiny's response hash.
sub get {
    my ($self, $path, %opt) = @_;
    my $http = HTTP::Tiny->new(timeout => $opt{timeout} || 60, keep_alive => 0);
    return $http->get($self->url($path));
}

# Parses ZKTest::Handler's output: a list of hashes, one per line of
# space-separated key=value pairs.
sub parse {
    my ($text) = @_;
    my @rows;
    for my $line (split /\n/, defined $text ? $text : '') {
        next unless $line =~ /=/;
        push @rows, { map { my ($k, $v) = split /=/, $_, 2; ($k => defined $v ? $v : '') }
                      split ' ', $line };
    }
    return @rows;
}

# GET $path and parse the body; in list context the rows, in scalar context the
# first row.  A non-200 answer gives a row { http_status => N, body => TEXT }.
sub rows {
    my ($self, $path, %opt) = @_;
    my $res = $self->get($path, %opt);
    my @rows = $res->{status} == 200
        ? parse($res->{content})
        : ({ http_status => $res->{status}, body => $res->{content} });
    return wantarray ? @rows : $rows[0];
}

1;

__END__

=head1 NAME

ZKTest::Httpd - run a real Apache httpd with mod_perl and Apache2::ZooKeeper for tests

=head1 SYNOPSIS

    use lib 't/lib';
    use ZKTest;
    use ZKTest::Httpd;

    ZKTest::Httpd->require_httpd('prefork');   # skip_all, or fail under CI
    my $hosts = ZKTest::server_hosts();
    my $httpd = ZKTest::Httpd->start(
        mpm    => 'prefork',
        config => [ "ZKCluster main $hosts 4000" ],
    );
    my $res = $httpd->get('/zk/session?cluster=main');
    print $res->{status}, $res->{content};
    $httpd->stop;    # also done by DESTROY / END in the starting process

    my $text = ZKTest::Httpd->start_fails_with(config => [ 'ZKCluster x' ]);

=head1 DESCRIPTION

Writes a private F<httpd.conf> in a fresh temporary directory (ServerRoot,
DefaultRuntimeDir, PidFile, ErrorLog, Mutex files and DocumentRoot all in it),
listening on C<127.0.0.1> and a free port, loading the chosen MPM module,
mod_authz_core and mod_perl, with
C<PerlSwitches -IREPO/blib/lib -IREPO/blib/arch -IREPO/t/lib>,
C<PerlLoadModule Apache2::ZooKeeper>, the caller's lines, and (unless
C<< handler => 0 >>) C<< <Location /zk> >> handled by L<ZKTest::Handler>.
When run as root, C<User>/C<Group> are www-data (else nobody or daemon); the
temp dir is made world-readable, and the repository must be readable by that
user.

C<start> runs C</usr/sbin/apache2 -d DIR -f CONF -DFOREGROUND> as a child in
its own process group (stdout and stderr to F<logs/startup.log>) and returns
once it answers HTTP (bounded, C<timeout> seconds, default 60 or
C<$ENV{ZK_TEST_HTTPD_TIMEOUT}>); it dies with the startup output and error log
if httpd exits or does not answer.  C<stop> does a graceful stop (SIGWINCH,
with C<GracefulShutdownTimeout 10>), then SIGTERM, then SIGKILL to the process
group, each bounded.  Only the process that started httpd stops it (also from
DESTROY and END).  Set C<ZK_TEST_KEEP_HTTPD> to keep the temp dir, and
C<ZK_TEST_HTTPD_INC> (colon-separated directories) to search other Perl module
directories before blib (e.g. to try a patched module).  C<ZK_TEST_APACHE> and
C<ZK_TEST_APACHE_MODULES> override F</usr/sbin/apache2> and
F</usr/lib/apache2/modules>.

=head1 CLASS METHODS

C<missing($mpm)> (the reason httpd cannot run here, or undef),
C<require_httpd($mpm)>, C<required()>, C<new(%opt)>, C<start(%opt)>,
C<start_fails_with(%opt)>, C<config_test(%opt)> (runs C<apache2 -t>; returns
C<($ok, $output)>), C<free_port()>, C<repo()>, C<parse($text)> (a function).

Options of new/start/start_fails_with/config_test: C<mpm> (prefork, worker,
event), C<mpm_config> (hash of MPM directives overriding the defaults:
prefork StartServers 2, MaxRequestWorkers 4; worker/event StartServers 2,
ServerLimit 2, ThreadsPerChild 4, MaxRequestWorkers 8), C<config> (array of
lines), C<handler>, C<log_level>, C<port>, C<timeout>, C<user>/C<group>.

=head1 OBJECT METHODS

C<url($path)>, C<get($path)> (HTTP::Tiny response hash, a new connection per
request), C<rows($path)> (GET and C<parse>: a list of hashes, one per output
line of L<ZKTest::Handler>; scalar context: the first), C<error_log>, C<error_log_file>, C<startup_output>, C<config_text>,
C<conf_file>, C<dir>, C<port>, C<pid>, C<mpm>, C<is_running>, C<stop>.

=cut
