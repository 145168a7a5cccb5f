package ZKTest::Server;

# Start and stop a real, throw-away Apache ZooKeeper server for the test suite.
# Core Perl only.  See the POD at the end.

use strict;
use warnings;

use Carp ();
use Errno ();
use Fcntl ();
use File::Spec ();
use File::Temp ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();

our $VERSION = '1.00';

# Reason why the last start() returned undef (or died); undef after success.
our $ERROR;

our $JAVA_DIR     = '/usr/share/java';
our $ZK_SHARE_DIR = '/usr/share/zookeeper';
our $MAIN_CLASS   = 'org.apache.zookeeper.server.quorum.QuorumPeerMain';

# refaddr => weakened object, for END.  The hash is an object of a
# CLONE_SKIP class, so a new ithread gets no copy of the weak references in
# it (perl panics with "del_backref, svp=0" when a thread frees its copy of a
# weak reference to a CLONE_SKIP object).
my $LIVE = bless {}, 'ZKTest::Server::Live';
{ package ZKTest::Server::Live; sub CLONE_SKIP { 1 } }
sub _live { return ref $LIVE eq 'ZKTest::Server::Live' ? $LIVE : {} }   # in a thread: nothing
my $INSTALL_TRIED; # apt-get is attempted at most once per process

sub _env_true {
    my ($v) = @_;
    return defined $v && $v ne '' && $v ne '0' && lc($v) ne 'false' && lc($v) ne 'no';
}

sub _note {
    my ($opt, @msg) = @_;
    print STDERR '# ZKTest::Server: ', @msg, "\n" if $opt->{verbose};
}

# ---------------------------------------------------------------------------
# locating java and the ZooKeeper jars

sub _which {
    my ($prog) = @_;
    for my $dir (File::Spec->path) {
        my $f = File::Spec->catfile($dir, $prog);
        return $f if -f $f && -x _;
    }
    return undef;
}

sub find_java {
    return $ENV{JAVA} if defined $ENV{JAVA} && -x $ENV{JAVA} && !-d _;
    if (defined $ENV{JAVA_HOME}) {
        my $j = File::Spec->catfile($ENV{JAVA_HOME}, 'bin', 'java');
        return $j if -x $j;
    }
    return _which('java');
}

# The classpath used to run the server, or undef.  Debian's zookeeper.jar has a
# manifest Class-Path naming its dependencies; we add the jute jar explicitly and
# one slf4j binding (log4j 1.2, else slf4j-simple) so the server logs to a file.
sub classpath {
    return $ENV{ZK_TEST_CLASSPATH}
        if defined $ENV{ZK_TEST_CLASSPATH} && $ENV{ZK_TEST_CLASSPATH} =~ /\S/;
    return undef unless -d $ZK_SHARE_DIR;
    my ($zk) = grep { -f } map { "$JAVA_DIR/$_" } 'zookeeper.jar',
        sort { $b cmp $a } map { (File::Spec->splitpath($_))[2] } glob("$JAVA_DIR/zookeeper-3*.jar");
    return undef unless $zk;
    my @cp = ($zk);
    for my $jar (qw(zookeeper-jute.jar)) {
        push @cp, "$JAVA_DIR/$jar" if -f "$JAVA_DIR/$jar";
    }
    if (-f "$JAVA_DIR/slf4j-log4j12.jar" && -f "$JAVA_DIR/log4j-1.2.jar") {
        push @cp, "$JAVA_DIR/slf4j-log4j12.jar", "$JAVA_DIR/log4j-1.2.jar";
    }
    elsif (-f "$JAVA_DIR/slf4j-simple.jar") {
        push @cp, "$JAVA_DIR/slf4j-simple.jar";
    }
    return join ':', @cp;
}

# The Netty connection factory (needed for TLS) uses more of Netty than the
# jars on zookeeper.jar's manifest Class-Path: add the Debian netty jars.
sub _netty_jars {
    return grep { -f } map { "$JAVA_DIR/netty-$_.jar" }
        qw(buffer codec common handler resolver transport transport-native-unix-common
           transport-native-epoll);
}

# What a server needs and is missing here: a list of hashes with
#   what    => 'java' or "the Debian 'zookeeper' package"
#   package => the Debian package that provides it
#   why     => what was looked for
# Empty when java and the ZooKeeper jars are both found.  Each is checked on
# its own, so that only what is missing is installed or asked for.
sub missing {
    my @missing;
    push @missing, {
        what    => 'java',
        package => 'default-jre-headless',
        why     => 'no java executable on PATH, in $JAVA or in $JAVA_HOME/bin',
    } unless defined find_java();
    push @missing, {
        what    => "the Debian 'zookeeper' package",
        package => 'zookeeper',
        why     => "no $JAVA_DIR/zookeeper*.jar or $ZK_SHARE_DIR, and no \$ZK_TEST_CLASSPATH",
    } unless defined classpath();
    return @missing;
}

# True if dpkg says the package is installed (false if dpkg cannot tell).
sub _package_installed {
    my ($pkg) = @_;
    return 0 unless _which('dpkg-query');
    my $status = qx{dpkg-query -W -f='\${Status}' $pkg 2>/dev/null};
    return $? == 0 && $status =~ /\binstall ok installed\b/;
}

sub _sudo { return $> == 0 ? '' : 'sudo ' }

# "java is missing (WHY); install with: apt-get install default-jre-headless",
# or both ("java and the Debian 'zookeeper' package are missing (WHY; WHY); ...").
sub _missing_message {
    my (@missing) = @_;
    my $what = join ' and ', map { $_->{what} } @missing;
    my $msg  = "$what " . (@missing > 1 ? 'are' : 'is') . ' missing ('
             . join('; ', map { $_->{why} } @missing) . ')';
    my @pkgs = map { $_->{package} } grep { !_package_installed($_->{package}) } @missing;
    my @have = map { $_->{package} } grep { _package_installed($_->{package}) } @missing;
    $msg .= '; install with: ' . _sudo() . "apt-get install @pkgs" if @pkgs;
    $msg .= "; the package @have is installed, but what it provides was not found" if @have;
    return $msg;
}

sub _may_install {
    my ($opt) = @_;
    return $opt->{install} if exists $opt->{install};
    return 0 if _env_true($ENV{ZK_TEST_NO_INSTALL});
    return $> == 0 || _env_true($ENV{CI});
}

# Installs the packages of what is missing, except those dpkg says are
# installed already; at most once per process.
sub _install_package {
    my ($opt, @missing) = @_;
    my @pkgs = map { $_->{package} } grep { !_package_installed($_->{package}) } @missing;
    return 0 unless @pkgs;
    return 0 if $INSTALL_TRIED++;
    return 0 unless _which('apt-get');
    my @sudo = $> == 0 ? () : _which('sudo') ? ('sudo', '-n') : return 0;
    my $lock = '-o DPkg::Lock::Timeout=300';
    my $cmd  = "@sudo apt-get $lock update && "
             . "@sudo env DEBIAN_FRONTEND=noninteractive apt-get $lock install -y @pkgs";
    print STDERR '# ZKTest::Server: ', join(' and ', map { $_->{what} } @missing),
        " missing; installing @pkgs: $cmd\n";
    # apt's stdout goes to our stderr so it cannot corrupt TAP output
    system('sh', '-c', "($cmd) 1>&2");
    return $? == 0;
}

# ---------------------------------------------------------------------------
# small network helpers

sub free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1,
    ) or Carp::croak("cannot bind a socket on 127.0.0.1: $!");
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub _split_hostport {
    my ($hp) = @_;
    $hp = (split /,/, $hp)[0];
    $hp =~ s{/.*}{}s;                      # chroot suffix
    return ($1, $2) if $hp =~ /^\[([^\]]+)\]:(\d+)$/;
    return ($1, $2) if $hp =~ /^(.+):(\d+)$/;
    return ($hp, 2181);
}

sub _connect {
    my ($host, $port, $timeout) = @_;
    return IO::Socket::INET->new(
        PeerAddr => $host, PeerPort => $port, Proto => 'tcp', Timeout => $timeout,
    );
}

sub _write_all {
    my ($sock, $buf) = @_;
    local $SIG{PIPE} = 'IGNORE';
    while (length $buf) {
        my $n = syswrite $sock, $buf;
        return 0 unless $n;
        substr($buf, 0, $n, '');
    }
    return 1;
}

# Read exactly $len bytes before $deadline, or undef.
sub _read_exact {
    my ($sock, $len, $deadline) = @_;
    my $sel = IO::Select->new($sock);
    my $buf = '';
    while (length($buf) < $len) {
        my $left = $deadline - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $sock, $buf, $len - length($buf), length($buf);
        next if !defined $n && $!{EINTR};
        return undef unless $n;
    }
    return $buf;
}

# four_letter_word('127.0.0.1:2181', 'ruok' [, $timeout]) -> reply text or undef.
# Also callable as a method: $server->four_letter_word('srvr').
sub four_letter_word {
    my ($where, $cmd, $timeout) = @_;
    $where = $where->hosts if ref $where;
    $timeout ||= 5;
    my ($host, $port) = _split_hostport($where);
    my $sock = _connect($host, $port, $timeout) or return undef;
    _write_all($sock, $cmd) or return undef;
    my $deadline = Time::HiRes::time() + $timeout;
    my $sel = IO::Select->new($sock);
    my $out = '';
    while (1) {
        my $left = $deadline - Time::HiRes::time();
        last if $left <= 0 || !$sel->can_read($left);
        my $n = sysread $sock, $out, 65536, length $out;
        next if !defined $n && $!{EINTR};
        last unless $n;                    # server closes after the reply
    }
    close $sock;
    return length $out ? $out : undef;
}

# A real ZooKeeper-protocol round trip: open a session, exists("/zookeeper"),
# close the session.  Returns 1 on success, else 0 (reason in $_[2] if given).
sub protocol_check {
    my ($where, $timeout, %o) = @_;
    $where = $where->hosts if ref $where;
    my %ok_err = map { $_ => 1 } 0, @{ $o{accept_errors} || [] };
    $timeout ||= 5;
    my ($host, $port) = _split_hostport($where);
    my $deadline = Time::HiRes::time() + $timeout;
    my $sock = _connect($host, $port, $timeout) or return 0;
    my $frame = sub { pack 'N/a*', $_[0] };
    my $recv = sub {
        my $len = _read_exact($sock, 4, $deadline);
        return undef unless defined $len;
        $len = unpack 'N', $len;
        return undef if $len > 1 << 20;
        return _read_exact($sock, $len, $deadline);
    };
    # ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd, readOnly
    _write_all($sock, $frame->(pack 'N q> N q> N/a* C', 0, 0, 30000, 0, "\0" x 16, 0))
        or return 0;
    my $resp = $recv->() // return 0;
    my (undef, $to, $sid) = unpack 'l> l> q>', $resp;
    return 0 unless $to && $to > 0 && $sid;
    # exists("/zookeeper", watch=false): header xid=1 type=3
    _write_all($sock, $frame->(pack('l> l>', 1, 3) . pack('N/a* C', '/zookeeper', 0)))
        or return 0;
    $resp = $recv->() // return 0;
    my ($xid, undef, $err) = unpack 'l> q> l>', $resp;
    return 0 unless $xid == 1 && $ok_err{$err};
    if ($err) {                # e.g. a server requiring SASL closes the session itself
        close $sock;
        return 1;
    }
    # closeSession: xid=2 type=-11
    _write_all($sock, $frame->(pack 'l> l>', 2, -11)) or return 0;
    $resp = $recv->() // return 0;
    ($xid, undef, $err) = unpack 'l> q> l>', $resp;
    close $sock;
    return $xid == 2 && $err == 0 ? 1 : 0;
}

# ---------------------------------------------------------------------------
# start / stop

sub available {
    my ($class, %opt) = @_;
    return !missing();
}

sub start {
    my ($class, %opt) = @_;
    $ERROR = undef;
    $opt{verbose} //= _env_true($ENV{ZK_TEST_VERBOSE});
    my $timeout = $opt{timeout} || $ENV{ZK_TEST_START_TIMEOUT} || 60;

    if ($opt{tls} && !defined find_openssl()) {
        $ERROR = 'no openssl executable found (needed to make the TLS certificates)';
        return undef;
    }

    if (my @missing = missing()) {
        _install_package(\%opt, @missing) if _may_install(\%opt);
        if (@missing = missing()) {
            $ERROR = _missing_message(@missing);
            return undef;
        }
    }

    my $last_error;
    for my $attempt (1 .. 3) {
        my $self = $class->_spawn(\%opt);
        my $ok = $self->_wait_ready($timeout, \%opt);
        if ($ok) {
            _live()->{ Scalar::Util::refaddr($self) } = $self;
            Scalar::Util::weaken(_live()->{ Scalar::Util::refaddr($self) });
            _note(\%opt, 'ZooKeeper ', $self->version // '?', ' serving on ', $self->hosts,
                  ' (pid ', $self->pid, ', dir ', $self->dir, ')');
            return $self;
        }
        my $tail = $self->log_tail(40);
        my $port_clash = $tail =~ /Address already in use|BindException/;
        my $ports = $self->{port} . ($self->{secure_port} ? ", secure port $self->{secure_port}" : '');
        $last_error = "ZooKeeper server (pid $self->{pid}, port $ports) did not come up"
            . " within ${timeout}s: $self->{why}\n--- server log tail ---\n$tail--- end of log ---\n";
        $self->stop;
        last unless $port_clash && !$opt{port};
        _note(\%opt, "port $self->{port} was taken, retrying");
    }
    $ERROR = $last_error;
    die $last_error;
}

sub _spawn {
    my ($class, $opt) = @_;
    my $tmp  = File::Temp->newdir('zktest-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $dir  = "$tmp";
    my $port = $opt->{port} || free_port();
    my $data = "$dir/data";
    mkdir $data or Carp::croak("mkdir $data: $!");

    my %self = (port => $port);
    my (%auth_cfg, @auth_jvm);
    _setup_sasl($dir, $opt->{sasl}, \%self, \%auth_cfg, \@auth_jvm) if $opt->{sasl};
    _setup_tls($dir, $opt->{tls}, \%self, \%auth_cfg, \@auth_jvm)   if $opt->{tls};

    my %cfg = (
        tickTime                 => 2000,
        initLimit                => 10,
        syncLimit                => 5,
        dataDir                  => $data,
        clientPort               => $port,
        clientPortAddress        => '127.0.0.1',
        maxClientCnxns           => 0,
        'admin.enableServer'     => 'false',
        '4lw.commands.whitelist' => '*',
        %auth_cfg,
        %{ $opt->{config} || {} },
    );
    _spew("$dir/zoo.cfg", map { "$_=$cfg{$_}\n" } sort keys %cfg);
    _spew("$dir/log4j.properties",
        "log4j.rootLogger=INFO, FILE\n",
        "log4j.appender.FILE=org.apache.log4j.FileAppender\n",
        "log4j.appender.FILE.File=$dir/zookeeper.log\n",
        "log4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n",
        "log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n\n");

    my @cmd = (
        find_java(),
        '-Xms32m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1',
        '-Djava.awt.headless=true',
        "-Dlog4j.configuration=file:$dir/log4j.properties",
        "-Dorg.slf4j.simpleLogger.logFile=$dir/zookeeper.log",
        "-Dzookeeper.log.dir=$dir",
        '-Dzookeeper.admin.enableServer=false',
        '-Dzookeeper.jmx.log4j.disable=true',
        @auth_jvm,
        @{ $opt->{jvm_opts} || [] },
        '-cp', join(':', classpath(), $opt->{tls} ? _netty_jars() : ()), $MAIN_CLASS, "$dir/zoo.cfg",
    );

    my $pid = launch($dir, @cmd);
    return bless {
        %self,
        pid     => $pid,
        owner   => $$,
        port    => $port,
        host    => '127.0.0.1',
        tmp     => $tmp,
        dir     => $dir,
        cmd     => \@cmd,
        running => 1,
        why     => 'not yet started',
    }, ref($class) || $class;
}

# Starts a server process in $dir (output appended to $dir/zookeeper.out) and
# returns its pid. On Linux the kernel kills it if the starting process dies
# without cleaning up.
sub launch {
    my ($dir, @cmd) = @_;
    my $prctl  = _prctl_syscall();
    my $parent = $$;
    my $pid    = fork;
    Carp::croak("fork: $!") unless defined $pid;
    if (!$pid) {
        eval {
            syscall($prctl, 1, 9, 0, 0, 0) if $prctl;   # PR_SET_PDEATHSIG, SIGKILL
            POSIX::_exit(1) if getppid() != $parent;
            chdir $dir;
            open STDIN,  '<',  '/dev/null';
            open STDOUT, '>>', "$dir/zookeeper.out";
            open STDERR, '>&', \*STDOUT;
            exec { $cmd[0] } @cmd;
        };
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    return $pid;
}

# The prctl(2) syscall number (Linux only), or undef.
sub _prctl_syscall {
    return undef unless $^O eq 'linux';
    my $nr = eval {
        no warnings;
        require 'syscall.ph';    # h2ph output lands in the requiring package
        my $f = __PACKAGE__->can('SYS_prctl') || main->can('SYS_prctl');
        $f ? $f->() : undef;
    };
    return $nr if $nr;
    require Config;
    my $arch = $Config::Config{archname};
    return $arch =~ /^x86_64/ ? 157 : $arch =~ /^aarch64/ ? 167 : undef;
}

sub _spew {
    my ($file, @lines) = @_;
    open my $fh, '>', $file or Carp::croak("cannot write $file: $!");
    print {$fh} @lines;
    close $fh or Carp::croak("cannot write $file: $!");
}

# ---------------------------------------------------------------------------
# SASL (DIGEST-MD5) and TLS configurations

# Error codes with which a server that requires SASL answers an
# unauthenticated request (SESSIONCLOSEDREQUIRESASLAUTH, AUTHFAILED).
our @SASL_REQUIRED_ERRORS = (-124, -115);

sub find_openssl {
    return $ENV{OPENSSL} if defined $ENV{OPENSSL} && -x $ENV{OPENSSL} && !-d _;
    return _which('openssl');
}

sub find_keytool {
    if (defined $ENV{JAVA_HOME}) {
        my $k = File::Spec->catfile($ENV{JAVA_HOME}, 'bin', 'keytool');
        return $k if -x $k;
    }
    return _which('keytool');
}

# Runs @cmd with stdin from /dev/null and stdout+stderr appended to $log,
# killing it after $timeout seconds.  True if it exited with status 0.
sub _run_bounded {
    my ($timeout, $log, @cmd) = @_;
    my $pid = fork;
    Carp::croak("fork: $!") unless defined $pid;
    if (!$pid) {
        eval {
            open STDIN,  '<',  '/dev/null';
            open STDOUT, '>>', $log;
            open STDERR, '>&', \*STDOUT;
            exec { $cmd[0] } @cmd;
        };
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }
    my $deadline = Time::HiRes::time() + $timeout;
    while (1) {
        my $r = waitpid $pid, POSIX::WNOHANG();
        return $? == 0 if $r == $pid;
        return 0 if $r == -1;
        if (Time::HiRes::time() > $deadline) {
            kill 'KILL', $pid;
            waitpid $pid, 0;
            return 0;
        }
        Time::HiRes::sleep(0.02);
    }
}

sub _slurp {
    my ($file) = @_;
    open my $fh, '<', $file or return '';
    local $/;
    return scalar <$fh>;
}

# A JAAS file with one DigestLoginModule user per entry of sasl => { users => {...} },
# the SASL authentication provider, and (require => 1) a server that refuses
# clients which have not authenticated with SASL.
sub _setup_sasl {
    my ($dir, $sasl, $self, $cfg, $jvm) = @_;
    $sasl = {} unless ref $sasl eq 'HASH';
    my %users = %{ $sasl->{users} || { zktest => 'zktest-secret' } };
    Carp::croak('sasl => { users => ... } needs at least one user') unless %users;
    for (keys %users) {
        Carp::croak("unusable SASL user name '$_'") unless /^[A-Za-z0-9_.\-]+\z/;
        Carp::croak("unusable SASL password for '$_'") if $users{$_} =~ /["\\\r\n]/;
    }
    my $jaas = "$dir/jaas.conf";
    _spew($jaas,
        "Server {\n",
        "    org.apache.zookeeper.server.auth.DigestLoginModule required\n",
        (map { qq(    user_$_="$users{$_}"\n) } sort keys %users),
        "    ;\n",
        "};\n");
    push @$jvm, "-Djava.security.auth.login.config=$jaas";
    $cfg->{'authProvider.1'} = 'org.apache.zookeeper.server.auth.SASLAuthenticationProvider';
    if ($sasl->{require}) {
        $cfg->{sessionRequireClientSASLAuth} = 'true';
        $cfg->{'enforce.auth.enabled'}       = 'true';
        $cfg->{'enforce.auth.schemes'}       = 'sasl';
    }
    $self->{sasl_users}    = \%users;
    $self->{sasl_required} = $sasl->{require} ? 1 : 0;
    $self->{jaas_file}     = $jaas;
}

# A secure client port with the Netty connection factory, and a throw-away CA,
# server and client certificates (see _make_tls_files).
sub _setup_tls {
    my ($dir, $tls, $self, $cfg, $jvm) = @_;
    $tls = {} unless ref $tls eq 'HASH';
    my $client_auth = $tls->{client_auth} // 'none';
    Carp::croak("tls client_auth must be none, want or need, not '$client_auth'")
        unless $client_auth =~ /^(?:none|want|need)\z/;
    my $secure_port = $tls->{port} || free_port();
    $secure_port = free_port() while $secure_port == $self->{port};
    my $tdir = "$dir/tls";
    mkdir $tdir or Carp::croak("mkdir $tdir: $!");
    my $files = _make_tls_files($tdir, server_san => $tls->{server_san});
    my $factory = 'org.apache.zookeeper.server.NettyServerCnxnFactory';
    push @$jvm, "-Dzookeeper.serverCnxnFactory=$factory";
    %$cfg = (%$cfg,
        serverCnxnFactory          => $factory,
        secureClientPort           => $secure_port,
        secureClientPortAddress    => '127.0.0.1',
        'ssl.keyStore.location'    => $files->{server_keystore},
        'ssl.keyStore.password'    => $files->{store_password},
        'ssl.keyStore.type'        => 'PKCS12',
        'ssl.trustStore.location'  => $files->{server_truststore},
        'ssl.trustStore.password'  => $files->{store_password},
        'ssl.trustStore.type'      => $files->{server_truststore_type},
        'ssl.clientAuth'           => $client_auth,
    );
    $self->{secure_port} = $secure_port;
    $self->{client_auth} = $client_auth;
    $self->{tls_files}   = $files;
}

# Makes, in $dir: a CA (ca.pem), a server certificate for CN=localhost with
# subjectAltName IP:127.0.0.1, DNS:localhost (or server_san) signed by it (server.pem/.key, and
# server.p12 for the server), a client certificate signed by it (client.pem,
# client.key), a truststore holding the CA, and an unrelated second CA
# (wrong-ca.pem) with a client certificate of its own (wrong-client.pem/.key).
sub _make_tls_files {
    my ($dir, %o) = @_;
    my $san = $o{server_san} // 'IP:127.0.0.1,DNS:localhost';
    Carp::croak("unusable server_san '$san'") if $san =~ /[\r\n]/;
    my $openssl = find_openssl() or Carp::croak('no openssl executable found');
    my $log = "$dir/openssl.log";
    my $pw  = 'zktest-store-' . $$ . '-' . int(rand 1e9);
    (my $cnf = <<'CNF') =~ s/\@SERVER_SAN\@/$san/;
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
CN = ZKTest
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = @SERVER_SAN@
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
    _spew("$dir/openssl.cnf", $cnf);
    my $serial = 1000 + int(rand 1e6);
    my $run = sub {
        _run_bounded(60, $log, @_)
            or Carp::croak("TLS setup failed: @_[0 .. 2] ...\n--- $log ---\n" . _slurp($log));
    };
    my $ca = sub {
        my ($name, $cn) = @_;
        $run->($openssl, 'req', '-x509', '-config', "$dir/openssl.cnf", '-extensions', 'v3_ca',
               '-newkey', 'rsa:2048', '-nodes', '-keyout', "$dir/$name.key", '-out', "$dir/$name.pem",
               '-days', 30, '-subj', "/CN=$cn");
    };
    my $leaf = sub {
        my ($name, $cn, $ext, $caname) = @_;
        $run->($openssl, 'req', '-new', '-config', "$dir/openssl.cnf", '-newkey', 'rsa:2048', '-nodes',
               '-keyout', "$dir/$name.key", '-out', "$dir/$name.csr", '-subj', "/CN=$cn");
        $run->($openssl, 'x509', '-req', '-in', "$dir/$name.csr", '-CA', "$dir/$caname.pem",
               '-CAkey', "$dir/$caname.key", '-set_serial', $serial++, '-days', 30,
               '-extfile', "$dir/openssl.cnf", '-extensions', $ext, '-out', "$dir/$name.pem");
    };
    $ca->('ca', "ZKTest CA $$");
    $leaf->('server', 'localhost', 'server_ext', 'ca');
    $leaf->('client', 'zktest-client', 'client_ext', 'ca');
    $ca->('wrong-ca', "ZKTest unrelated CA $$");
    $leaf->('wrong-client', 'zktest-client', 'client_ext', 'wrong-ca');
    $run->($openssl, 'pkcs12', '-export', '-in', "$dir/server.pem", '-inkey', "$dir/server.key",
           '-certfile', "$dir/ca.pem", '-name', 'server', '-out', "$dir/server.p12",
           '-passout', "pass:$pw");
    my %files = (
        ca                 => "$dir/ca.pem",
        ca_key             => "$dir/ca.key",
        server_cert        => "$dir/server.pem",
        server_key         => "$dir/server.key",
        client_cert        => "$dir/client.pem",
        client_key         => "$dir/client.key",
        wrong_ca           => "$dir/wrong-ca.pem",
        wrong_client_cert  => "$dir/wrong-client.pem",
        wrong_client_key   => "$dir/wrong-client.key",
        server_keystore    => "$dir/server.p12",
        store_password     => $pw,
    );
    if (my $keytool = find_keytool()) {
        $run->($keytool, '-importcert', '-noprompt', '-alias', 'zktest-ca', '-file', "$dir/ca.pem",
               '-keystore', "$dir/truststore.p12", '-storetype', 'PKCS12', '-storepass', $pw);
        @files{qw(server_truststore server_truststore_type)} = ("$dir/truststore.p12", 'PKCS12');
    }
    else {   # ZooKeeper 3.8 reads PEM truststores too
        @files{qw(server_truststore server_truststore_type)} = ("$dir/ca.pem", 'PEM');
    }
    return \%files;
}

# $server->tls_check(%o): true if `openssl s_client` completes a verified TLS
# handshake with the secure port.  Options: ca (default: the server's CA),
# cert/key (default: the client certificate, so it also works with
# client_auth => 'need'; pass cert => undef for none), timeout (seconds, 10).
sub tls_check {
    my ($self, %o) = @_;
    return 0 unless $self->{secure_port} && $self->{tls_files};
    my $openssl = find_openssl() or return 0;
    my $f = $self->{tls_files};
    my $ca   = exists $o{ca}   ? $o{ca}   : $f->{ca};
    my $cert = exists $o{cert} ? $o{cert} : $f->{client_cert};
    my $key  = exists $o{key}  ? $o{key}  : $f->{client_key};
    my $log  = "$self->{dir}/tls/s_client.log";
    unlink $log;
    my $ok = _run_bounded($o{timeout} || 10, $log, $openssl, 's_client',
        '-connect', $self->secure_hosts, '-servername', 'localhost',
        '-CAfile', $ca, '-verify_return_error',
        (defined $cert ? ('-cert', $cert, '-key', $key) : ()));
    my $out = _slurp($log);
    return $ok && $out =~ /Verify return code: 0 \(ok\)/ && $out !~ /Cipher is \(NONE\)/ ? 1 : 0;
}

# $server->sasl_options([$user [, password => $pw, %extra]]): a hash ref for
# Net::ZooKeeper->new(..., sasl_options => ...) with DIGEST-MD5 for $user
# (default: the first user by name).  The password (default: the user's) is
# written to a new file in the server's temp dir, named by password_file.
sub sasl_options {
    my ($self, $user, %o) = @_;
    my $users = $self->{sasl_users} or Carp::croak('this server was not started with sasl');
    $user //= (sort keys %$users)[0];
    my $pw = exists $o{password} ? delete $o{password} : $users->{$user};
    Carp::croak("no SASL user '$user' and no password given") unless defined $pw;
    my $file = sprintf '%s/sasl-password-%d.txt', $self->{dir}, ++$self->{pw_files};
    _spew($file, "$pw\n");
    chmod 0600, $file;
    return {
        user          => $user,
        password_file => $file,
        mechlist      => 'DIGEST-MD5',
        service       => 'zookeeper',
        host          => 'zk-sasl-md5',
        %o,
    };
}

# Serving means: the process is alive, 'srvr' reports "Mode: standalone" and a
# "Zxid:", and a real session can be opened, used and closed.
sub _wait_ready {
    my ($self, $timeout, $opt) = @_;
    my $deadline = Time::HiRes::time() + $timeout;
    while (Time::HiRes::time() < $deadline) {
        unless ($self->_alive) {
            $self->{why} = "server process exited (status $self->{status})";
            return 0;
        }
        my $srvr = four_letter_word($self->hosts, 'srvr', 2);
        if (!defined $srvr) {
            $self->{why} = 'no answer to srvr';
        }
        elsif ($srvr !~ /^Mode: standalone$/m || $srvr !~ /^Zxid: /m) {
            ($self->{why} = "srvr said: $srvr") =~ s/\s+\z//;
        }
        elsif (!protocol_check($self->hosts, 5,
                   accept_errors => $self->{sasl_required} ? [ @SASL_REQUIRED_ERRORS ] : [])) {
            $self->{why} = 'srvr fine, but a client session could not be used';
        }
        elsif ($self->{secure_port} && !$self->tls_check(timeout => 10)) {
            $self->{why} = "srvr fine, but no TLS handshake on the secure port $self->{secure_port}"
                . " (see $self->{dir}/tls/s_client.log)";
        }
        else {
            ($self->{version}) = $srvr =~ /^Zookeeper version: (\d+(?:\.\d+)*)/m;
            $self->{why} = 'ready';
            return 1;
        }
        Time::HiRes::sleep(0.2);
    }
    $self->{why} = "timed out; last check: $self->{why}";
    return 0;
}

# Reaps the child if it has exited; true while it runs.
sub _alive { return child_running($_[0]) }

# For harness objects with {pid, running, status}: reaps the process if it has
# exited (recording its status) and says whether it still runs.
sub child_running {
    my ($self) = @_;
    return 0 unless $self->{running};
    my $r = waitpid $self->{pid}, POSIX::WNOHANG();
    if ($r == $self->{pid} || ($r == -1 && $! == Errno::ECHILD())) {
        $self->{status}  = $r == -1 ? 'unknown' : $?;
        $self->{running} = 0;
        return 0;
    }
    return 1;
}

sub stop {
    my ($self) = @_;
    local ($?, $!, $@);
    return 0 unless $self->{owner} && $self->{owner} == $$;
    delete _live()->{ Scalar::Util::refaddr($self) };
    if ($self->_alive) {
        kill 'TERM', $self->{pid};
        my $deadline = Time::HiRes::time() + 15;
        Time::HiRes::sleep(0.05) while $self->_alive && Time::HiRes::time() < $deadline;
        if ($self->_alive) {
            kill 'KILL', $self->{pid};
            $deadline = Time::HiRes::time() + 10;
            Time::HiRes::sleep(0.05) while $self->_alive && Time::HiRes::time() < $deadline;
        }
    }
    delete $self->{tmp};    # removes the temp dir (File::Temp checks the pid too)
    $self->{owner} = 0;     # stopped; DESTROY/END do nothing more
    return 1;
}

# Threads get no copy of a server object, so a thread's exit cannot stop it.
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
# accessors

sub hosts   { "$_[0]{host}:$_[0]{port}" }
sub host    { $_[0]{host} }
sub port    { $_[0]{port} }
sub pid     { $_[0]{pid} }
sub dir     { $_[0]{dir} }
sub version { $_[0]{version} }
sub log_file { "$_[0]{dir}/zookeeper.log" }
sub is_running { $_[0]->_alive }

# SASL / TLS (undef / empty unless started with those options)
sub sasl_users    { $_[0]{sasl_users} ? { %{ $_[0]{sasl_users} } } : undef }
sub sasl_required { $_[0]{sasl_required} }
sub secure_port   { $_[0]{secure_port} }
sub secure_hosts  { $_[0]{secure_port} ? "$_[0]{host}:$_[0]{secure_port}" : undef }
sub client_auth   { $_[0]{client_auth} }
sub tls_files     { $_[0]{tls_files} ? { %{ $_[0]{tls_files} } } : undef }

# Last $n lines of the server's log and console output.
sub log_tail {
    my ($self, $n) = @_;
    return dir_log_tail($self->{dir}, $n, "(no server output)\n");
}

# Last $n lines of zookeeper.out and zookeeper.log in a server directory.
sub dir_log_tail {
    my ($dir, $n, $none) = @_;
    $n ||= 30;
    my $out = '';
    for my $f ("$dir/zookeeper.out", "$dir/zookeeper.log") {
        next unless -s $f;
        open my $fh, '<', $f or next;
        my @l = <$fh>;
        splice @l, 0, @l - $n if @l > $n;
        $out .= "[$f]\n" . join '', @l;
    }
    return length $out ? $out : $none;
}

1;

__END__

=head1 NAME

ZKTest::Server - run a real, private Apache ZooKeeper server for tests

=head1 SYNOPSIS

    use lib 't/lib';
    use ZKTest::Server;

    my $zk = ZKTest::Server->start
        or die "no ZooKeeper server available: $ZKTest::Server::ERROR";
    print $zk->hosts;       # "127.0.0.1:40123"
    ...
    $zk->stop;              # also done by DESTROY / END in the starting process

=head1 DESCRIPTION

Starts Apache ZooKeeper (3.8, from Debian's C<zookeeper> package: jars in
F</usr/share/java>) in standalone mode as
C<java -cp ... org.apache.zookeeper.server.quorum.QuorumPeerMain zoo.cfg>, with
its own F<zoo.cfg>, data directory and log files in a fresh temporary
directory, listening on a free port of 127.0.0.1 only.  The generated
configuration has C<tickTime=2000>, C<admin.enableServer=false>,
C<4lw.commands.whitelist=*> and C<maxClientCnxns=0>.

C<start> returns only once the server really serves: the process is alive,
C<srvr> reports C<Mode: standalone> and a C<Zxid:>, and a real client session
can be opened, used for C<exists /zookeeper> and closed (the server answers
C<ruok> long before that).  Every wait is bounded.

The server is stopped by C<stop>, by C<DESTROY> or at C<END> - but only in the
process that started it (forked children never stop it; ithreads get no copy
of the object, see C<CLONE_SKIP>).  On Linux the server
also gets C<SIGKILL> from the kernel if the starting process dies without
cleaning up.

C<java> and the ZooKeeper jars are checked separately (see C<missing>).  If
either is missing and installing is allowed (running as root or C<$ENV{CI}>
true, and C<$ENV{ZK_TEST_NO_INSTALL}> not true; or C<< install => 1 >>), it
runs C<apt-get update && apt-get install -y PACKAGES> once per process
(output to STDERR), with only the packages of what is missing and not
installed already: C<default-jre-headless> for java, C<zookeeper> for the
jars.  Otherwise, or if that did not help, C<start> returns undef at once,
and C<$ERROR> says what is missing and the command that installs it, e.g.
C<java is missing (no java executable on PATH, in $JAVA or in $JAVA_HOME/bin);
install with: sudo apt-get install default-jre-headless>.

=head1 CLASS METHODS

=over

=item start(%opts)

Returns a server object, or C<undef> with the reason in C<$ZKTest::Server::ERROR>
if no server can be run here (package or java missing).  Dies (message includes
the server log tail; also stored in C<$ERROR>) if the server was run but did not
come up within the timeout.  Options:

  timeout  => 60          # seconds to wait for readiness (env ZK_TEST_START_TIMEOUT)
  port     => 0           # fixed client port (default: a free one)
  config   => { k => v }  # extra/overriding zoo.cfg lines, e.g. { skipACL => 'yes' }
  jvm_opts => [ ... ]     # extra JVM options
  install  => 0|1         # allow apt-get (default: root or $ENV{CI}, unless
                          # $ENV{ZK_TEST_NO_INSTALL} is true)
  verbose  => 0|1         # progress on STDERR (env ZK_TEST_VERBOSE)
  sasl     => 1 | { ... } # SASL (DIGEST-MD5) server, see below
  tls      => 1 | { ... } # secure client port with TLS, see below

B<< sasl => { users => { NAME => PASSWORD, ... }, require => 0|1 } >>
(C<< sasl => 1 >>: one user C<zktest>): writes a JAAS file with
C<< Server { org.apache.zookeeper.server.auth.DigestLoginModule required
user_NAME="PASSWORD" ...; }; >>, passes it with
C<-Djava.security.auth.login.config> and sets
C<authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider>.
With C<< require => 1 >> it also sets C<sessionRequireClientSASLAuth=true>,
C<enforce.auth.enabled=true> and C<enforce.auth.schemes=sasl>: the server
then closes the session of a client that sends a request without having
authenticated with SASL (readiness is then checked with such a request, which
must be answered with that refusal).  Clients use the service C<zookeeper> and
the host (server name) C<zk-sasl-md5>; see C<sasl_options>.

B<< tls => { client_auth => 'none'|'want'|'need', server_san => '...', port => N } >>
(C<< tls => 1 >>: C<none>): needs C<openssl> (C<$ENV{OPENSSL}> or PATH; else
C<start> returns undef) and, for the truststore, C<keytool> (without it a PEM
truststore is used).  In C<dir/tls> it makes a throw-away CA, a server
certificate for C<CN=localhost> with C<subjectAltName=IP:127.0.0.1,DNS:localhost>
(or C<server_san>, e.g. C<DNS:other.invalid> to test hostname verification),
a client certificate signed by the CA, and a second, unrelated CA with a
client certificate of its own; PEM files for the client side, a PKCS12
keystore and truststore for the server.  The server gets a
C<secureClientPort> on 127.0.0.1 (a free port, or C<port>) besides the plain
C<clientPort>, C<serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory>
(the Debian netty jars that zookeeper.jar's manifest misses are added to the
classpath), C<ssl.keyStore.*>, C<ssl.trustStore.*> and C<ssl.clientAuth>.
C<start> returns only once C<openssl s_client> completes a verified handshake
with the secure port (see C<tls_check>).

=item available()

True if java and the ZooKeeper jars are present (no install attempt).

=item missing()

What of java and the ZooKeeper jars is missing (no install attempt): a list
of hashes with C<what> (C<java> or C<the Debian 'zookeeper' package>),
C<package> (the Debian package that provides it: C<default-jre-headless> or
C<zookeeper>) and C<why> (what was looked for); empty if nothing is.

=item classpath(), find_java(), free_port(), find_openssl(), find_keytool()

Helpers; C<classpath> honours C<$ENV{ZK_TEST_CLASSPATH}>, C<find_java> honours
C<$ENV{JAVA}> and C<$ENV{JAVA_HOME}>, C<find_openssl> C<$ENV{OPENSSL}>,
C<find_keytool> C<$ENV{JAVA_HOME}>.

=item four_letter_word($hostport, $cmd [, $timeout])

Sends a four-letter word (C<ruok>, C<srvr>, C<stat>, C<mntr>, ...) and returns
the reply text, or undef.  Also usable as a method.

=item protocol_check($hostport [, $timeout [, accept_errors => [CODES]]])

Opens a real ZooKeeper session, does C<exists("/zookeeper")> and closes the
session; returns 1 on success, 0 otherwise.  Also usable as a method.  With
C<accept_errors>, an C<exists> answered with one of those error codes also
counts as success (used for servers that require SASL).

=back

=head1 OBJECT METHODS

C<hosts> (C<"127.0.0.1:PORT">), C<host>, C<port>, C<pid> (the java process),
C<dir> (temp dir), C<log_file>, C<log_tail($n)>, C<version> (e.g. C<3.8.0>),
C<is_running>, C<stop> (returns 1 if this call stopped it; waits at most 25 s
and removes the temp dir).

For a server started with C<sasl>:

=over

=item sasl_users(), sasl_required()

A copy of the C<< { NAME => PASSWORD } >> hash; whether C<< require => 1 >> was given.

=item sasl_options([$user [, password => $pw, KEY => VALUE ...]])

A new hash reference for C<< Net::ZooKeeper->new($hosts, sasl_options => ...) >>:
C<< { user => $user, password_file => FILE, mechlist => 'DIGEST-MD5',
service => 'zookeeper', host => 'zk-sasl-md5', KEY => VALUE ... } >>.
C<$user> defaults to the first user by name; the password (the user's, or
C<password>, e.g. a wrong one) is written as C<"PASSWORD\n"> to a new file
in the server's temp dir.

=back

For a server started with C<tls>:

=over

=item secure_port(), secure_hosts(), client_auth()

The secure client port, C<"127.0.0.1:SECUREPORT">, and the C<ssl.clientAuth> value.

=item tls_files()

A copy of the hash of file paths (PEM unless noted): C<ca>, C<client_cert>,
C<client_key> (signed by C<ca>), C<wrong_ca>, C<wrong_client_cert>,
C<wrong_client_key> (an unrelated CA and a client certificate signed by it),
C<ca_key>, C<server_cert>, C<server_key>, C<server_keystore> (PKCS12),
C<server_truststore> with C<server_truststore_type>, and C<store_password>.

=item tls_check(%o)

True if C<openssl s_client> completes a TLS handshake with the secure port and
verifies the server's certificate chain (not its name) against C<ca>.
Options: C<ca>, C<cert> and C<key> (default: the client certificate; C<< cert => undef >>
for none), C<timeout> (seconds, default 10).

=back

=cut
