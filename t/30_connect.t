#!/usr/bin/perl
# Connecting: DESTROY results, reference copies versus content copies, the
# session attributes before and after connecting, and resuming a session by
# its session_id (spec sections 3.1, 3.2, 5.3, 6, 6.1, 11.2).
#
# The first part needs no server; the second part uses the test server.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use POSIX ();

use ZKTest;
use ZKTest::Util qw(croaks unused_local_host delete_tree);
use Net::ZooKeeper qw(:errors :node_flags :acls);

$SIG{PIPE} = 'IGNORE';

## Without a server

{
    my $nowhere = unused_local_host();

    my $zkh = Net::ZooKeeper->new($nowhere);
    isa_ok($zkh, 'Net::ZooKeeper', 'new() returns a handle without waiting for a server');
    is($zkh->{session_timeout}, 10000, 'before connecting, session_timeout is the default request, 10000');
    is($zkh->{session_id}, '', "before connecting, session_id is ''");
    my $h4 = Net::ZooKeeper->new($nowhere, session_timeout => 4000);
    is($h4->{session_timeout}, 4000, 'before connecting, session_timeout is the requested value');

    $! = 0;
    is(scalar($zkh->exists('/')), '', 'exists fails when no server accepts connections');
    is($zkh->get_error(), ZCONNECTIONLOSS, '... with ZCONNECTIONLOSS');
    is("$!", '', '... and $! empty');
    is($zkh->{session_id}, '', "session_id stays '' without a connection");

    is(scalar($zkh->DESTROY), 1, 'DESTROY returns true the first time');
    is(scalar($zkh->DESTROY), '', 'DESTROY returns false the second time');

    # Reference copies share the object (5.3)
    my $h    = Net::ZooKeeper->new($nowhere);
    my $copy = $h;
    is(scalar($copy->DESTROY), 1, 'DESTROY through a reference copy returns true');
    croaks(sub { $h->exists('/') }, 'invalid handle', 'the other reference is then an invalid handle');
    is(scalar($h->DESTROY), '', 'DESTROY through the other reference returns false');

    # Content copies are not handles (5.3)
    $h = Net::ZooKeeper->new($nowhere);
    my $snapshot = bless { %$h }, 'Net::ZooKeeper';
    is(scalar($snapshot->DESTROY), '', 'DESTROY on a content copy returns false');
    croaks(sub { $snapshot->exists('/') }, 'invalid handle', 'methods on a content copy croak invalid handle');
    undef $snapshot;
    ok(tied(%$h), 'the original handle is untouched by its content copy');
    is(scalar($h->DESTROY), 1, '... and its DESTROY still returns true');
}

## With a server

SKIP: {
    my $hosts = ZKTest::require_server(24);
    my $root  = ZKTest::test_root();

    my $zkh = Net::ZooKeeper->new($hosts);
    isa_ok($zkh, 'Net::ZooKeeper', 'new() with the test server');
    ok($zkh->exists(ZKTest::root_path()), 'exists on the root path succeeds');
    is($zkh->get_error(), ZOK, '... with ZOK');

    my $timeout = $zkh->{session_timeout};
    ok($timeout > 0 && $timeout <= 0x3FFFFFFF, "after a call succeeded session_timeout is in (0, 0x3FFFFFFF] ($timeout)");

    my $sid = $zkh->{session_id};
    is(length($sid), 24, 'after a call succeeded session_id is 24 bytes');
    isnt($sid, "\0" x 24, 'session_id is not all zero');
    ok(!utf8::is_utf8($sid), 'session_id is a byte string');
    is($zkh->{session_id}, $sid, 'reading session_id again gives the same bytes');

    # Reference copies and content copies of a live handle (5.3)
    {
        my $ref = $zkh;
        undef $ref;
        ok($zkh->exists(ZKTest::root_path()), 'undef of a reference copy leaves the handle connected');

        my %snapshot = %$zkh;
        is($snapshot{session_id}, $sid, 'a content copy holds the session_id');
        my $blessed = bless {%snapshot}, 'Net::ZooKeeper';
        is(scalar($blessed->DESTROY), '', 'DESTROY on a content copy of a live handle returns false');
        undef $blessed;
        ok($zkh->exists(ZKTest::root_path()), 'the handle is still connected after its content copy is gone');
    }

    ok($zkh->create($root, 'connect', acl => ZOO_OPEN_ACL_UNSAFE), "create the test node $root")
        or diag('error ' . $zkh->get_error());

    # Resuming a session (3.1, 6.1): a child process opens a session, creates
    # an ephemeral node and exits without closing the session; this process
    # then takes the session over with new(session_id => ...).
    SKIP: {
        my $node = "$root/owned";
        pipe(my $rd, my $wr) or die "pipe: $!";
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            close $rd;
            alarm 60;
            my $h = Net::ZooKeeper->new($hosts);
            my $ok = $h && $h->create($node, 'child', flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
            print {$wr} $ok ? unpack('H*', $h->{session_id}) : 'error ' . ($h ? $h->get_error() : 'new');
            close $wr;
            POSIX::_exit(0);     # no DESTROY: the session stays open on the server
        }
        close $wr;
        my $child_said = do { local $/; <$rd> } // '';
        close $rd;
        waitpid($pid, 0);
        like($child_said, qr/^[0-9a-f]{48}\z/, 'a child process opened a session and created an ephemeral node')
            or skip('no child session to resume', 8);
        my $child_sid = pack('H*', $child_said);

        my $resumed = Net::ZooKeeper->new($hosts, session_id => $child_sid);
        isa_ok($resumed, 'Net::ZooKeeper', 'new() with the session_id option');
        my $stat = $resumed->stat();
        ok($resumed->exists($node, stat => $stat), 'the resumed handle sees the ephemeral node');
        is(unpack('H*', $resumed->{session_id}), $child_said, 'session_id shows that the session was resumed');
        is($stat->{ephemeral_owner}, sprintf('%.0f', unpack('q', $child_sid)),
           'the node is owned by the resumed session (session number = first 8 bytes, native order)');
        is(scalar($resumed->set($node, 'parent')), 1, 'the resumed session can write');

        is(scalar($resumed->DESTROY), 1, 'DESTROY on the resumed handle returns true');
        is(scalar($zkh->exists($node)), '', 'closing the resumed session removes its ephemeral node');
        is($zkh->get_error(), ZNONODE, '... exists reports ZNONODE');
    }

    ok(delete_tree($zkh, $root), 'delete the test node');
    is(scalar($zkh->DESTROY), 1, 'DESTROY on a connected handle returns true');
}

done_testing();
