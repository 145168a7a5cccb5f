package ZKTest::Interop;

# Runs the real Curator (Java) and kazoo (Python) recipes next to the Perl
# ones: compiles t/lib/ZKTest/interop/CuratorHelper.java with javac into a
# temporary directory and starts helpers as child processes talking over
# pipes (a line protocol: the helper prints "ready", "held", "done N",
# "value N" ...; the test writes "go", "release", "read").  Perl contenders
# run in child processes speaking the same protocol (perl_child).  Core Perl
# only.

use strict;
use warnings;

use File::Basename ();
use File::Spec ();
use File::Temp ();
use IPC::Open2 ();
use IO::Handle ();
use IO::Select ();
use POSIX ();
use Time::HiRes ();


use ZKTest ();

my $DIR = File::Spec->rel2abs(File::Basename::dirname(__FILE__) . '/interop');
my ($classes, $classpath, $curator_why, $kazoo_why);

sub _jars {
    my @want = qw(curator-recipes curator-framework curator-client zookeeper zookeeper-jute
                  guava slf4j-api netty-handler netty-transport netty-common netty-buffer
                  netty-resolver netty-codec netty-transport-native-epoll
                  netty-transport-native-unix-common metrics-core commons-io);
    my @dirs = ('/usr/share/java', '/usr/share/zookeeper', '/usr/share/zookeeper/lib');
    my @jars;
    for my $name (@want) {
        my ($jar) = grep { -f } map { ("$_/$name.jar", glob("$_/$name-[0-9]*.jar")) } @dirs;
        return (undef, "$name.jar not found under @dirs") unless $jar || $name =~ /^(?:metrics-core|commons-io|netty-transport-native-epoll|zookeeper-jute)$/;
        push @jars, $jar if $jar;
    }
    # A binding keeps slf4j quiet; without one the api jar alone warns once.
    my ($nop) = grep { -f } map { ("$_/slf4j-nop.jar", "$_/slf4j-simple.jar") } @dirs;
    push @jars, $nop if $nop;
    return join(':', @jars);
}

# Why Curator can not be used here, or undef.  Compiles the helper once.
sub curator_unavailable {
    return $curator_why if defined $curator_why || $classes;
    for my $tool (qw(java javac)) {
        my $found = grep { -x "$_/$tool" } File::Spec->path;
        return $curator_why = "no $tool in PATH" unless $found;
    }
    my ($cp, $why) = _jars();
    return $curator_why = $why unless $cp;
    my $dir = File::Temp::tempdir('zk-interop-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    # Every helper of the directory (one class per recipe family).
    my $sources = join(' ', map { "'$_'" } glob("$DIR/*.java"));
    my $out = `javac -nowarn -cp '$cp' -d '$dir' $sources 2>&1`;
    return $curator_why = "javac failed: $out" if $?;
    ($classes, $classpath) = ($dir, "$dir:$cp");
    return undef;
}

sub kazoo_unavailable {
    return $kazoo_why if defined $kazoo_why;
    return $kazoo_why = 'no /usr/bin/python3' unless -x '/usr/bin/python3';
    my $v = `/usr/bin/python3 -c 'import kazoo.version; print(kazoo.version.__version__)' 2>&1`;
    return $kazoo_why = "kazoo can not be imported: $v" if $?;
    return $kazoo_why = '';
}

# Skips $count tests (inside a SKIP block) if the library is missing, or
# dies when ZKTest::server_required() (CI), where a missing library is a
# broken test setup.
sub require_library {
    my ($which, $count) = @_;
    my $why = $which eq 'curator' ? curator_unavailable() : kazoo_unavailable();
    return 1 unless $why;
    die "$which is not available: $why\n(required because CI or ZK_TEST_REQUIRE is set)\n"
        if ZKTest::server_required();
    require Test::More;
    Test::More::skip("$which is not available: $why", $count);
}

# Starts a helper: ZKTest::Interop->start(curator => 'lock', $hosts, @args)
# runs CuratorHelper, start('curator:CuratorLeader' => ...) another class of
# the directory; start(kazoo => ...) runs kazoo_helper.py, start('kazoo:x.py'
# => ...) another script of the directory.
sub start {
    my ($class, $which, @args) = @_;
    my ($lib, $program) = split /:/, $which, 2;
    my @cmd = $lib eq 'curator'
        ? ('java', '-cp', $classpath, $program // 'CuratorHelper', @args)
        : ('/usr/bin/python3', "$DIR/" . ($program // 'kazoo_helper.py'), @args);
    my ($out, $in);
    # The kazoo helpers import kazoo_common.py from their directory: no
    # __pycache__ left there.
    local $ENV{PYTHONDONTWRITEBYTECODE} = 1;
    my $pid = IPC::Open2::open2($out, $in, @cmd);
    $in->autoflush(1);
    return bless { pid => $pid, out => $out, in => $in, which => $which, buf => '' }, $class;
}

# A Perl contender next to the helpers: forks a child that connects to
# $hosts with a session of its own (%options go to Net::ZooKeeper->new, e.g.
# session_timeout => 4000 so that a killed child's session ends soon) and
# runs $body->($handle, $say, $next_line).  $say->(@words) prints one line to
# the parent; $next_line->() returns the parent's next line without its
# newline ('' at the end of input), $next_line->($seconds) undef if none
# came by then.  A die in $body is reported as "error MESSAGE"; the child
# leaves through POSIX::_exit (1 after a die).  Returns the parent's end, a
# ZKTest::Interop object like those of start().
sub perl_child {
    my ($hosts, $body, %options) = @_;
    pipe(my $from_child, my $to_parent) or die "pipe: $!";
    pipe(my $from_parent, my $to_child) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $from_child; close $to_child;
        $to_parent->autoflush(1);
        my $ok = eval {
            my $h = Net::ZooKeeper->new($hosts, %options);
            $h->exists('/') or die "cannot connect: " . $h->get_error . "\n";
            my $sel = IO::Select->new($from_parent);
            my $next_line = sub {
                return undef if defined $_[0] && !$sel->can_read($_[0]);
                my $line = <$from_parent> // '';
                chomp $line;
                return $line;
            };
            $body->($h, sub { print $to_parent "@_\n" }, $next_line);
            1;
        };
        print $to_parent "error $@" unless $ok;
        POSIX::_exit($ok ? 0 : 1);
    }
    close $from_parent; close $to_parent;
    $to_child->autoflush(1);
    return bless { pid => $pid, out => $from_child, in => $to_child, which => 'perl', buf => '' }, __PACKAGE__;
}

# A perl_child holding a lock: takes the one $make->($handle) returns (60 s
# at the most; else says "timeout"), says "held NODE", releases it on the
# next line from the parent and says "released".
sub perl_holder {
    my ($hosts, $make, %options) = @_;
    return perl_child($hosts, sub {
        my ($h, $say, $next_line) = @_;
        my $lock = $make->($h);
        return $say->('timeout') unless $lock->acquire(timeout => 60);
        $say->('held', $lock->node);
        $next_line->();
        $lock->release;
        $say->('released');
    }, %options);
}

# Until every one of @$contenders (helpers or perl_child()ren, told "go")
# has answered a line, at most $seconds (default 60): reads the children of
# $path through $handle with a watch, calls $look->(@children), and waits
# for the watch (20 ms at the most).  Returns { $contender => $line } for
# those that answered.
sub watch_answers {
    my ($handle, $path, $contenders, $look, $seconds) = @_;
    my %answer;
    my @pending = @$contenders;
    my $end = time + ($seconds // 60);
    while (@pending && time < $end) {
        my $w = $handle->watch;
        $look->($handle->get_children($path, watch => $w));
        $w->wait(timeout => 20);
        @pending = grep {
            my $line = $_->line(0.001);
            $answer{$_} = $line if defined $line;
            !defined $line;
        } @pending;
    }
    return \%answer;
}

sub say {
    my ($self, $line) = @_;
    print { $self->{in} } "$line\n";
}

# The next line the helper prints, waited for at most $timeout seconds
# (undef on timeout or end of output).
sub line {
    my ($self, $timeout) = @_;
    $timeout //= 60;
    my $end = Time::HiRes::time() + $timeout;
    my $sel = IO::Select->new($self->{out});
    while ($self->{buf} !~ /\n/) {
        my $left = $end - Time::HiRes::time();
        return undef if $left <= 0 || !$sel->can_read($left);
        my $n = sysread($self->{out}, my $chunk, 4096);
        return undef unless $n;
        $self->{buf} .= $chunk;
    }
    $self->{buf} =~ s/\A([^\n]*)\n//;
    return $1;
}

# Waits for the helper to exit; returns its exit status ($?).
sub finish {
    my ($self) = @_;
    close $self->{in};
    waitpid(delete $self->{pid}, 0);
    return $?;
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{pid} && kill(0, $self->{pid});
    kill 'TERM', $self->{pid};
    waitpid(delete $self->{pid}, 0);
}

1;
