#!/usr/bin/perl
# SASL (DIGEST-MD5) authentication through new()'s sasl_options (spec 3.1,
# 9.2, 13.1; manual "new()").
#
# With ZK_TEST_SASL_OPTIONS (a JSON object of sasl_options, e.g. {"user":
# "alice", "password_file": "/path", "mechlist": "DIGEST-MD5", "service":
# "zookeeper", "host": "zk-sasl-md5"}) the tests run, like the original
# 70_sasl.t, against the SASL-enabled server in ZK_TEST_HOSTS.  Otherwise this
# file starts its own SASL-configured ZooKeeper server (ZKTest::Server).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Errno ();
use JSON::PP ();

use ZKTest;
use ZKTest::Util qw(croaks error_is no_hang);
use Net::ZooKeeper qw(:errors :acl_perms :acls);

$SIG{PIPE} = 'IGNORE';

my $root = ZKTest::test_root();

## The option's type (3.1); no server needed

croaks(sub { Net::ZooKeeper->new('127.0.0.1:2181', sasl_options => 'x') },
       'sasl_options requires a hash reference', 'new croaks when sasl_options is a string');
croaks(sub { Net::ZooKeeper->new('127.0.0.1:2181', sasl_options => [ user => 'u' ]) },
       'sasl_options requires a hash reference', 'new croaks when sasl_options is an array reference');
croaks(sub { Net::ZooKeeper->new('127.0.0.1:2181', sasl_options => undef) },
       'sasl_options requires a hash reference', 'new croaks when sasl_options is undef');
croaks(sub { Net::ZooKeeper->new('127.0.0.1:2181', SASL_Options => 'x') },
       'sasl_options requires a hash reference', 'the option name sasl_options is case-insensitive');

{
    my $missing = "/nonexistent-$$/password";
    $! = 0;
    my $h = Net::ZooKeeper->new('127.0.0.1:2181',
        sasl_options => { user => 'alice', password_file => $missing, mechlist => 'DIGEST-MD5' });
    my $errno = $! + 0;
    ok(!defined($h), 'new returns undef when the password_file cannot be read');
    is($errno, Errno::ENOENT(), '... and $! says why (ENOENT for a missing file)');
}

if (defined $ENV{ZK_TEST_SASL_OPTIONS}) {
    external_server(JSON::PP::decode_json($ENV{ZK_TEST_SASL_OPTIONS}));
}
else {
    own_server();
}
done_testing();

# ---------------------------------------------------------------------------
# As the original 70_sasl.t: the SASL server and credentials come from the
# environment.

sub external_server {
    my ($sasl) = @_;
    my $hosts = ZKTest::server_hosts();
    my $zkh = Net::ZooKeeper->new($hosts, sasl_options => $sasl);
    isa_ok($zkh, 'Net::ZooKeeper', 'new with the sasl_options of ZK_TEST_SASL_OPTIONS')
        or return;
    is($zkh->create($root, 'foo', acl => ZOO_OPEN_ACL_UNSAFE), $root, 'a SASL-authenticated handle creates a node')
        or return diag('create failed: ' . $zkh->get_error);

    my $node = "$root/a1";
    my $sasl_acl = [
        { perms => ZOO_PERM_READ, scheme => 'world', id => 'anyone' },
        { perms => ZOO_PERM_ALL,  scheme => 'sasl',  id => $sasl->{user} },
    ];
    is($zkh->create($node, 'foo', acl => $sasl_acl), $node, 'create with a SASL ACL creates the node');
    is_deeply([ $zkh->get_acl($node) ], $sasl_acl, 'get_acl shows the sasl entry with the user name as id');

    my $plain = Net::ZooKeeper->new($hosts);
    is($plain->get($node), 'foo', 'an unauthenticated handle reads the node through its world READ entry');
    is($plain->set($node, 'bar'), '', 'an unauthenticated handle can not set the node');
    error_is($plain, ZNOAUTH, '... get_error is ZNOAUTH and $! empty');

    is($zkh->set($node, 'bar'), 1, 'the SASL-authenticated handle sets the node');
    is($zkh->get($node), 'bar', '... and reads the new value');

    ok($zkh->delete($node) && $zkh->delete($root), 'the test nodes are deleted');
}

# ---------------------------------------------------------------------------
# A private server with DIGEST-MD5 users alice and bob.

sub own_server {
    my %users = (alice => 'alice-secret', bob => 'bob-secret');
    my ($srv, $why) = ZKTest::private_server(sasl => { users => \%users });
    SKIP: {
        skip $why, 1 unless $srv;
        my $hosts = $srv->hosts;

        my $alice = Net::ZooKeeper->new($hosts, sasl_options => $srv->sasl_options('alice'));
        isa_ok($alice, 'Net::ZooKeeper', 'new with sasl_options (DIGEST-MD5)');
        is(no_hang(60, sub { $alice->create($root, 'foo', acl => ZOO_OPEN_ACL_UNSAFE) }), $root,
           'a handle authenticated with SASL creates a node')
            or diag('create failed: ' . $alice->get_error);

        ## An ACL for the SASL identity

        my $node = "$root/alice";
        my $sasl_acl = [ { perms => ZOO_PERM_ALL, scheme => 'sasl', id => 'alice' } ];
        is($alice->create($node, 'foo', acl => $sasl_acl), $node,
           'create with ACL [{perms => ZOO_PERM_ALL, scheme => sasl, id => alice}] by alice');
        is_deeply([ $alice->get_acl($node) ], $sasl_acl, 'get_acl shows scheme sasl with id alice');
        is($alice->get($node), 'foo', 'alice reads the node');
        is($alice->set($node, 'bar'), 1, 'alice sets the node');
        is($alice->get($node), 'bar', '... and reads the new value');

        my $plain = Net::ZooKeeper->new($hosts);
        is($plain->get($node), undef, 'a handle without sasl_options can not read the node');
        error_is($plain, ZNOAUTH, '... get_error is ZNOAUTH and $! empty');
        is($plain->set($node, 'x'), '', 'a handle without sasl_options can not set the node');
        error_is($plain, ZNOAUTH, '... get_error is ZNOAUTH');
        is($plain->exists($node), 1, '... but exists (which needs no permission) works: the handle is connected');

        my $bob = Net::ZooKeeper->new($hosts, sasl_options => $srv->sasl_options('bob'));
        is(no_hang(60, sub { $bob->get($node) }), undef, 'another SASL user (bob) can not read alice\'s node');
        error_is($bob, ZNOAUTH, '... get_error is ZNOAUTH');
        ok($bob->exists($root), '... while bob\'s handle itself works');

        ## The sasl_options keys

        {
            my $o = $srv->sasl_options('alice', password => "alice-secret\nsecond line is ignored");
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o);
            is(no_hang(60, sub { $h->get($node) }), 'bar',
               'only the first line of password_file is the password (trailing newline removed)');
        }
        {
            my $o = $srv->sasl_options('alice');
            open(my $fh, '>', $o->{password_file}) or die "cannot write $o->{password_file}: $!";
            print {$fh} 'alice-secret';
            close($fh);
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o);
            is(no_hang(60, sub { $h->get($node) }), 'bar', 'a password_file without a newline works');
        }
        {
            my $o = $srv->sasl_options('alice', realm => 'zk-sasl-md5', unknown_key => 'ignored');
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o);
            is(no_hang(60, sub { $h->get($node) }), 'bar',
               'the realm the server offers (zk-sasl-md5) works, and unknown sasl_options keys are ignored');
        }
        {
            my $o = $srv->sasl_options('alice', realm => 'no-such-realm');
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o, session_timeout => 4000);
            my $r = no_hang(120, sub { $h->get($node) });
            ok(!defined($r) && $h->get_error != ZOK,
               'a realm the server does not offer makes the calls fail: the realm option is used');
        }
        {
            my $o = $srv->sasl_options('alice');
            my %upper = map { uc($_) => $o->{$_} } keys %$o;
            my $h = Net::ZooKeeper->new($hosts, sasl_options => \%upper);
            is(no_hang(60, sub { $h->get($node) }), 'bar', 'sasl_options keys are case-insensitive');
        }

        ## A wrong password fails instead of hanging

        {
            my $o = $srv->sasl_options('alice', password => 'wrong-password');
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o);
            isa_ok($h, 'Net::ZooKeeper', 'new with a wrong SASL password still returns a handle (it does not wait)');
            my $r = no_hang(120, sub { $h->exists($root) });
            ok(defined($r) && !$r, 'with a wrong password the first call returns false (it does not hang)');
            error_is($h, ZAUTHFAILED, '... get_error is ZAUTHFAILED');
            is(no_hang(60, sub { $h->get($root) }), undef, 'the next call fails too');
            error_is($h, ZINVALIDSTATE, '... with ZINVALIDSTATE (the handle is unusable)');
        }
        {
            my $o = $srv->sasl_options('mallory', password => 'whatever');
            my $h = Net::ZooKeeper->new($hosts, sasl_options => $o);
            my $r = no_hang(120, sub { $h->exists($root) });
            ok(defined($r) && !$r, 'an unknown SASL user fails as well');
            error_is($h, ZAUTHFAILED, '... with ZAUTHFAILED');
        }

        ok($alice->delete($node) && $alice->delete($root), 'alice deletes the test nodes');
    }

    ## A server that refuses clients which did not authenticate with SASL

    my ($strict, $why2) = ZKTest::private_server(sasl => { users => \%users, require => 1 });
    SKIP: {
        skip $why2, 1 unless $strict;
        my $hosts = $strict->hosts;
        my $alice = Net::ZooKeeper->new($hosts, sasl_options => $strict->sasl_options('alice'));
        is(no_hang(60, sub { $alice->exists('/') }), 1,
           'on a server requiring SASL, the first call of a SASL handle succeeds (it authenticates before any request)');
        is($alice->create($root, 'x', acl => ZOO_OPEN_ACL_UNSAFE), $root, '... and it can create nodes');
        ok($alice->delete($root), '... and delete them');

        my $plain = Net::ZooKeeper->new($hosts, session_timeout => 4000);
        my $r = no_hang(60, sub { $plain->exists('/') });
        ok(defined($r) && !$r, 'on that server a handle without sasl_options fails');
        isnt($plain->get_error, ZOK, '... with an error code');
    }
}
