#!/usr/bin/perl
# Credentials never leak: the certificate passed to add_auth (digest
# "user:password"), the digest of an ACL id, and the SASL password never
# appear in the client log (at ZOO_LOG_LEVEL_DEBUG, which logs the most), nor
# in warnings or croak messages (spec 3.4, 10; manual "Logging").
#
# The log goes to file descriptor 2; as in the original's log test, STDERR is
# reopened onto a temp file while the client works, then read back.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Digest::SHA ();
use MIME::Base64 ();

use ZKTest;
use ZKTest::Util qw(capture_stderr wait_until);
use Net::ZooKeeper qw(:errors :acl_perms :acls :log_levels);

$SIG{PIPE} = 'IGNORE';

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my @WARNINGS;
$SIG{__WARN__} = sub { push @WARNINGS, $_[0]; print STDERR $_[0] };

# Secrets unlikely to appear anywhere by chance.
my $tag        = sprintf '%d%04d', $$, int(rand 10000);
my $user       = "leakuser$tag";
my $password   = "Pw-digest-$tag";
my $credential = "$user:$password";
my $digest     = MIME::Base64::encode(Digest::SHA::sha1($credential), '');
my $bad_cert   = "Cert-unknown-scheme-$tag";

# Runs CODE with the log at DEBUG and fd 2 reopened onto a temp file, then
# waits (bounded) until a line about closing a handle has been logged, so that
# the background threads had their say about the session; returns the log.
sub debug_log {
    my ($code) = @_;
    my $text = '';
    capture_stderr(sub {
        my ($logged) = @_;
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_DEBUG);
        my $ok = eval { $code->(); 1 };
        my $err = $@;
        wait_until(sub { ($text = $logged->()) =~ /ZOO_.*close/ }, 10, 0.05);
        Net::ZooKeeper::set_log_level(ZOO_LOG_LEVEL_OFF);
        die $err unless $ok;
    });
    return $text;
}

# Every message of an exception thrown by CODE (empty if none).
sub croak_text {
    my ($code) = @_;
    return eval { $code->(); 1 } ? '' : "$@";
}

## add_auth with the digest scheme

my $zkh;
my $log = debug_log(sub {
    $zkh = Net::ZooKeeper->new($hosts) or die 'new returned undef';
    $zkh->add_auth('digest', $credential) or die 'add_auth failed: ' . $zkh->get_error;
    $zkh->create($root, 'x', acl => ZOO_OPEN_ACL_UNSAFE) or die 'create failed: ' . $zkh->get_error;
    my $acl = [ { perms => ZOO_PERM_ALL, scheme => 'digest', id => "$user:$digest" } ];
    $zkh->create("$root/d", 'x', acl => $acl) or die 'create with digest ACL failed: ' . $zkh->get_error;
    $zkh->set_acl("$root/d", $acl) or die 'set_acl failed: ' . $zkh->get_error;
    my @got = $zkh->get_acl("$root/d");
    die 'get_acl did not return the digest' unless @got && $got[0]{id} eq "$user:$digest";
    $zkh->get("$root/d");
    $zkh->delete("$root/d");
    $zkh->DESTROY;
});
like($log, qr/ZOO_DEBUG\@.*auth/, 'at DEBUG, add_auth is logged');
like($log, qr/ZOO_.*close/, '... and so is the close of the handle');
unlike($log, qr/\Q$password\E/, 'the add_auth password never appears in the DEBUG log');
unlike($log, qr/\Q$credential\E/, 'the add_auth credential "user:password" never appears in the DEBUG log');
unlike($log, qr/\Q$digest\E/, 'the digest of a digest ACL id (create, set_acl, get_acl) never appears in the DEBUG log');

$log = debug_log(sub {
    my $h = Net::ZooKeeper->new($hosts) or die 'new returned undef';
    $h->exists('/');
    $h->add_auth('foo', $bad_cert) and die 'add_auth with an unknown scheme succeeded';
    $h->exists('/');
    $h->DESTROY;
});
like($log, qr/ZOO_/, 'a failing add_auth (unknown scheme) is logged at DEBUG');
unlike($log, qr/\Q$bad_cert\E/, '... but its certificate never appears in the log');

## croak messages of add_auth

$zkh = Net::ZooKeeper->new($hosts) or die 'new returned undef';
my @croaks = (
    croak_text(sub { $zkh->add_auth('digest', $credential, 'extra') }),
    croak_text(sub { $zkh->add_auth($credential) }),
    croak_text(sub { (bless {}, 'Net::ZooKeeper')->add_auth('digest', $credential) }),
    croak_text(sub { Net::ZooKeeper::add_auth('not a handle', 'digest', $credential) }),
);
is(scalar(grep { length } @croaks), 4, 'add_auth croaks for a wrong argument count, an invalid handle and a non-handle');
ok(!(grep { /\Q$password\E/ } @croaks), '... and none of these messages contains the password');

## SASL

my %users = (alice => "Pw-sasl-$tag");
my $wrong = "Pw-sasl-wrong-$tag";
my ($srv, $why) = ZKTest::private_server(sasl => { users => \%users });
SKIP: {
    skip $why, 1 unless $srv;
    my $sasl_hosts = $srv->hosts;

    my $ok;
    $log = debug_log(sub {
        my $h = Net::ZooKeeper->new($sasl_hosts, sasl_options => $srv->sasl_options('alice'))
            or die "new with sasl_options returned undef: $!";
        $ok = $h->create($root, 'x', acl => [ { perms => ZOO_PERM_ALL, scheme => 'sasl', id => 'alice' } ]);
        $h->get($root);
        $h->delete($root);
        $h->DESTROY;
    });
    ok($ok, 'a SASL-authenticated handle works while logging at DEBUG');
    like($log, qr/ZOO_DEBUG\@/, '... and the client logged at DEBUG meanwhile');
    unlike($log, qr/\Q$users{alice}\E/, 'the SASL password never appears in the DEBUG log');

    my $failed;
    $log = debug_log(sub {
        my $h = Net::ZooKeeper->new($sasl_hosts, sasl_options => $srv->sasl_options('alice', password => $wrong))
            or die "new with sasl_options returned undef: $!";
        $failed = !$h->exists('/');
        $h->exists('/');
        $h->DESTROY;
    });
    ok($failed, 'a handle with a wrong SASL password fails while logging at DEBUG');
    like($log, qr/ZOO_/, '... and the failure is logged');
    unlike($log, qr/\Q$wrong\E/, '... but the wrong SASL password never appears in the log');
}

## Warnings

ok(!(grep { /\Q$password\E|\Q$bad_cert\E|\QPw-sasl-\E/ } @WARNINGS), 'no warning ever contained a password')
    or diag(explain(\@WARNINGS));

if ($zkh) {
    my $cleanup = Net::ZooKeeper->new($hosts);
    $cleanup->delete("$root/d");
    $cleanup->delete($root);
}

done_testing();
