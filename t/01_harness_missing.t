#!/usr/bin/perl

# The test harness (t/lib/ZKTest/Server.pm) without java or without the
# ZooKeeper jars: it says at once what is missing and how to install it, and
# installs only what is missing.  apt-get, dpkg-query and sudo are fakes on a
# PATH of their own, so nothing is installed.  Needs no server and does not
# need Net::ZooKeeper to be built.

use strict;
use warnings;

use FindBin ();
use lib "$FindBin::Bin/lib";

use File::Temp ();
use Test::More;
use Time::HiRes ();

my $perl = $^X;
my $tdir = File::Temp->newdir('zktest-missing-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $bin  = "$tdir/bin";
mkdir $bin or die "mkdir $bin: $!";
my $log  = "$tdir/apt.log";

sub spew {
    my ($file, $text) = @_;
    open my $fh, '>', $file or die "$file: $!";
    print {$fh} $text;
    close $fh or die "$file: $!";
    chmod 0755, $file;
}

# sh and env for the install command; fakes for the rest.
for my $tool (qw(sh env)) {
    my ($path) = grep { -x } map { "$_/$tool" } qw(/bin /usr/bin);
    symlink $path, "$bin/$tool" or die "symlink $tool: $!";
}
spew("$bin/apt-get", "#!/bin/sh\necho \"apt-get \$*\" >> '$log'\nexit 0\n");
spew("$bin/sudo", "#!/bin/sh\n[ \"\$1\" = -n ] && shift\nexec \"\$@\"\n");
# dpkg says: zookeeper installed, default-jre-headless not.
spew("$bin/dpkg-query", <<'EOF');
#!/bin/sh
for a; do pkg=$a; done
[ "$pkg" = zookeeper ] && { printf 'install ok installed'; exit 0; }
exit 1
EOF

# Runs ZKTest::Server->start in a child with no java to be found; returns
# ($ERROR or 'started', seconds, lines apt-get logged).
sub start_without_java {
    my (%opt) = @_;
    unlink $log;
    my $code = 'use ZKTest::Server; '
             . ($opt{no_jars} ? '$ZKTest::Server::ZK_SHARE_DIR = "/nonexistent"; ' : '')
             . 'my $s = ZKTest::Server->start(' . ($opt{install} ? 'install => 1' : 'install => 0') . '); '
             . 'print $s ? "started" : $ZKTest::Server::ERROR';
    local $ENV{PATH} = $bin;
    local $ENV{JAVA_HOME} = "$tdir/nowhere";
    local $ENV{ZK_TEST_CLASSPATH} = $opt{no_jars} ? '' : '/nonexistent/zookeeper.jar';
    local $ENV{ZK_TEST_NO_INSTALL};
    local $ENV{JAVA};
    delete @ENV{qw(ZK_TEST_NO_INSTALL JAVA)};
    my $t0  = Time::HiRes::time();
    my $out = qx{"$perl" "-I$FindBin::Bin/lib" -e '$code' 2>/dev/null};
    my $secs = Time::HiRes::time() - $t0;
    my @apt = -f $log ? do { open my $fh, '<', $log or die; <$fh> } : ();
    return ($out, $secs, @apt);
}

my $sudo = $> == 0 ? '' : 'sudo ';

{
    my ($msg, $secs, @apt) = start_without_java(install => 0);
    like($msg, qr/^java is missing \(no java executable on PATH, in \$JAVA or in \$JAVA_HOME\/bin\)/,
         'without java, start says at once that java is missing');
    like($msg, qr/install with: \Q${sudo}apt-get install default-jre-headless\E\z/,
         '... and the apt-get command that installs it');
    unlike($msg, qr/zookeeper/i, '... and nothing about the zookeeper package, which is there');
    ok($secs < 10, sprintf('... within %.1f s', $secs));
    is(scalar(@apt), 0, '... without running apt-get (installing not allowed)');
}

{
    my ($msg, $secs, @apt) = start_without_java(install => 1);
    my @install = grep { /\binstall\b/ } @apt;
    is(scalar(@install), 1, 'with installing allowed, apt-get install runs once');
    like($install[0] // '', qr/install -y default-jre-headless$/, '... for default-jre-headless only');
    like($msg, qr/^java is missing/, '... and (the fake installed nothing) start says java is missing');
}

{
    my ($msg, $secs, @apt) = start_without_java(install => 1, no_jars => 1);
    my @install = grep { /\binstall\b/ } @apt;
    like($install[0] // '', qr/install -y default-jre-headless$/,
         'java and jars missing, the zookeeper package installed: only java is installed');
    like($msg, qr/^java and the Debian 'zookeeper' package are missing/, '... and start says both are missing');
    like($msg, qr/the package zookeeper is installed, but what it provides was not found/,
         '... and that the zookeeper package is installed');
}

{
    local $ENV{PATH} = $bin;
    local $ENV{JAVA_HOME} = "$tdir/nowhere";
    local $ENV{ZK_TEST_NO_INSTALL} = 1;
    local $ENV{ZK_TEST_CLASSPATH} = '/nonexistent/zookeeper.jar';
    local @ENV{qw(JAVA ZK_TEST_HOSTS)};
    delete @ENV{qw(JAVA ZK_TEST_HOSTS)};
    my $t0  = Time::HiRes::time();
    my $err = qx{"$perl" "$FindBin::Bin/run-with-zookeeper" "$perl" -e 1 2>&1};
    my $rc  = $? >> 8;
    my $secs = Time::HiRes::time() - $t0;
    is($rc, 1, 't/run-with-zookeeper without java exits with 1');
    like($err, qr/^run-with-zookeeper: no ZooKeeper server available: java is missing .*apt-get install default-jre-headless$/m,
         sprintf('... at once (%.1f s), saying java is missing and what to install', $secs));
}

done_testing();
