package ZKTest::Interop;

# Runs the real Curator (Java) and kazoo (Python) recipes next to the Perl
# ones: compiles t/lib/ZKTest/interop/CuratorHelper.java with javac into a
# temporary directory and starts helpers as child processes talking over
# pipes (a line protocol: the helper prints "ready", "held", "done N",
# "value N" ...; the test writes "go", "release", "read").  Core Perl only.

use strict;
use warnings;

use File::Basename ();
use File::Spec ();
use File::Temp ();
use IPC::Open2 ();
use IO::Handle ();
use IO::Select ();
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
    my $pid = IPC::Open2::open2($out, $in, @cmd);
    $in->autoflush(1);
    return bless { pid => $pid, out => $out, in => $in, which => $which, buf => '' }, $class;
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
