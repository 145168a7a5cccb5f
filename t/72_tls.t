#!/usr/bin/perl
# TLS connections through new()'s tls_ca_file, tls_cert_file, tls_key_file
# and tls_verify_hostname options (an extension of this implementation; the
# original binding had no TLS), against private ZooKeeper servers with a
# secure client port (ZKTest::Server->start(tls => ...)).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Errno ();

use ZKTest;
use ZKTest::Util qw(no_hang);
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';

my $root = ZKTest::test_root();

# error_is(HANDLE, CODE, NAME): get_error() == CODE.
sub error_is {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($h, $code, $name) = @_;
    my $got = $h->get_error();
    ok($got == $code, $name) or diag("get_error $got, want $code");
}

# new_undef(NAME, OPTIONS...): new() returns undef with $! == ENOENT.
sub new_undef {
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my ($what, @opts) = @_;
    $! = 0;
    my $h = Net::ZooKeeper->new('127.0.0.1:2181', @opts);
    my $errno = $! + 0;
    ok(!defined($h) && $errno == Errno::ENOENT(), "new returns undef with \$! ENOENT for $what")
        or diag(defined($h) ? 'got a handle' : "\$! is $errno");
}

## The error code

is(Net::ZooKeeper::ZSSLCONNECTIONERROR(), -17, 'Net::ZooKeeper::ZSSLCONNECTIONERROR() is -17');
ok(!(grep { $_ eq 'ZSSLCONNECTIONERROR' } map { @$_ } values %Net::ZooKeeper::EXPORT_TAGS),
   'ZSSLCONNECTIONERROR is not exported by any tag (the original\'s tags are unchanged)');

my ($srv, $why) = ZKTest::private_server(tls => 1);
SKIP: {
    skip $why, 1 unless $srv;
    my $f     = $srv->tls_files;
    my $hosts = $srv->secure_hosts;

    ## Unreadable files: new() returns undef with $! set

    new_undef('a missing tls_ca_file', tls_ca_file => "$f->{ca}.missing");
    new_undef('a missing tls_cert_file',
              tls_ca_file => $f->{ca}, tls_cert_file => "$f->{client_cert}.missing", tls_key_file => $f->{client_key});
    new_undef('a missing tls_key_file',
              tls_ca_file => $f->{ca}, tls_cert_file => $f->{client_cert}, tls_key_file => "$f->{client_key}.missing");
    new_undef('a missing tls_cert_file given without tls_key_file',
              tls_ca_file => $f->{ca}, tls_cert_file => "$f->{client_cert}.missing");
    new_undef('a missing tls_key_file given without tls_cert_file',
              tls_ca_file => $f->{ca}, tls_key_file => "$f->{client_key}.missing");
    {
        $! = 0;
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $srv->dir);
        my $errno = $! + 0;
        ok(!defined($h) && $errno != 0, 'new returns undef with $! set for a tls_ca_file that is a directory')
            or diag(defined($h) ? 'got a handle' : "\$! is $errno");
    }

    ## A server certificate signed by the given CA

    my $zkh = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca});
    isa_ok($zkh, 'Net::ZooKeeper', 'new with tls_ca_file');
    is(no_hang(60, sub { $zkh->create($root, 'tls', acl => ZOO_OPEN_ACL_UNSAFE) }), $root,
       'over TLS (server certificate signed by tls_ca_file) create works')
        or diag('create failed: ' . $zkh->get_error);
    is($zkh->get($root), 'tls', '... get works');
    ok($zkh->set($root, 'changed'), '... set works');
    is($zkh->get($root), 'changed', '... and get sees the new data');
    is($zkh->create("$root/c", '', acl => ZOO_OPEN_ACL_UNSAFE), "$root/c", '... create of a child works');
    is_deeply([ $zkh->get_children($root) ], [ 'c' ], '... get_children works');
    is_deeply([ $zkh->get_acl($root) ], ZOO_OPEN_ACL_UNSAFE, '... get_acl works');
    ok($zkh->delete("$root/c"), '... delete works');

    {
        my $plain = Net::ZooKeeper->new($srv->hosts);
        is($plain->get($root), 'changed', 'a plain handle on the server\'s clientPort sees the data written over TLS');
    }
    {
        my $h = Net::ZooKeeper->new('localhost:' . $srv->secure_port, tls_ca_file => $f->{ca});
        is(no_hang(60, sub { $h->get($root) }), 'changed',
           'a host name matching the certificate (localhost) works with hostname verification');
    }
    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca},
                                    tls_cert_file => $f->{client_cert}, tls_key_file => $f->{client_key});
        is(no_hang(60, sub { $h->get($root) }), 'changed',
           'a client certificate may be given when the server does not ask for one');
    }
    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, tls_no_such_option => 1, foo => 'bar');
        is(no_hang(60, sub { $h->get($root) }), 'changed', 'unknown options of new are ignored, as in the original');
    }
    {
        my $h = Net::ZooKeeper->new($hosts, TLS_CA_File => $f->{ca}, Tls_Verify_Hostname => 1);
        is(no_hang(60, sub { $h->get($root) }), 'changed', 'the tls option names are case-insensitive');
    }

    ## A server certificate not signed by the given CA

    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{wrong_ca});
        isa_ok($h, 'Net::ZooKeeper', 'new with an unrelated CA still returns a handle (it does not wait)');
        my $r = no_hang(120, sub { $h->exists('/') });
        ok(defined($r) && !$r, 'with an unrelated CA, exists returns false (it does not hang)');
        error_is($h, Net::ZooKeeper::ZSSLCONNECTIONERROR(), '... get_error is ZSSLCONNECTIONERROR');
        is(no_hang(120, sub { $h->create("$root/w", '', acl => ZOO_OPEN_ACL_UNSAFE) }), undef,
           '... create returns undef');
        error_is($h, Net::ZooKeeper::ZSSLCONNECTIONERROR(), '... with ZSSLCONNECTIONERROR again');
        is(scalar($zkh->exists("$root/w")), '', '... and nothing was created');
    }

    ## TLS and plain ports do not mix

    {
        my $h = Net::ZooKeeper->new($srv->hosts, tls_ca_file => $f->{ca}, session_timeout => 4000);
        my $r = no_hang(120, sub { $h->exists('/') });
        ok(defined($r) && !$r, 'a TLS handle on the plain clientPort fails (it does not hang)');
        isnt($h->get_error, ZOK, '... with an error code') ;
    }
    {
        my $h = Net::ZooKeeper->new($hosts, session_timeout => 4000);
        my $r = no_hang(120, sub { $h->exists('/') });
        ok(defined($r) && !$r, 'a handle without tls_ca_file on the secure port fails (it does not hang)');
        isnt($h->get_error, ZOK, '... with an error code');
    }

    ok($zkh->delete($root), 'the test node is deleted over TLS');
}

## A server that requires a client certificate, with a certificate for
## another host name

my ($need, $why2) = ZKTest::private_server(tls => { client_auth => 'need', server_san => 'DNS:zk-other.invalid' });
SKIP: {
    skip $why2, 1 unless $need;
    my $f     = $need->tls_files;
    my $hosts = $need->secure_hosts;
    my %cert  = (tls_cert_file => $f->{client_cert}, tls_key_file => $f->{client_key});

    my $zkh = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, %cert, tls_verify_hostname => 0);
    is(no_hang(60, sub { $zkh->create($root, 'need', acl => ZOO_OPEN_ACL_UNSAFE) }), $root,
       'with the client certificate (ssl.clientAuth=need) create works')
        or diag('create failed: ' . $zkh->get_error);
    is($zkh->get($root), 'need', '... and get works');

    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, tls_verify_hostname => 0);
        my $r = no_hang(120, sub { $h->get($root) });
        ok(!defined($r), 'without a client certificate a server requiring one refuses the handle (it does not hang)');
        isnt($h->get_error, ZOK, '... get_error is not ZOK') and note('get_error: ' . $h->get_error);
    }
    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, tls_verify_hostname => 0,
                                    tls_cert_file => $f->{wrong_client_cert}, tls_key_file => $f->{wrong_client_key});
        my $r = no_hang(120, sub { $h->get($root) });
        ok(!defined($r), 'a client certificate from an unrelated CA is refused too');
        isnt($h->get_error, ZOK, '... get_error is not ZOK');
    }

    ## Hostname verification

    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, %cert);
        my $r = no_hang(120, sub { $h->get($root) });
        ok(!defined($r), 'hostname verification is on by default: a certificate for another name is refused');
        error_is($h, Net::ZooKeeper::ZSSLCONNECTIONERROR(), '... get_error is ZSSLCONNECTIONERROR');
    }
    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{ca}, %cert, tls_verify_hostname => 1);
        my $r = no_hang(120, sub { $h->get($root) });
        ok(!defined($r) && $h->get_error == Net::ZooKeeper::ZSSLCONNECTIONERROR(),
           'tls_verify_hostname => 1 refuses it as well');
    }
    {
        my $h = Net::ZooKeeper->new($hosts, tls_ca_file => $f->{wrong_ca}, %cert, tls_verify_hostname => 0);
        my $r = no_hang(120, sub { $h->get($root) });
        ok(!defined($r) && $h->get_error == Net::ZooKeeper::ZSSLCONNECTIONERROR(),
           'tls_verify_hostname => 0 still verifies the certificate chain (unrelated CA: ZSSLCONNECTIONERROR)');
    }

    ok($zkh->delete($root), 'the test node is deleted');
}

done_testing();
