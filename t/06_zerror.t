#!/usr/bin/perl
# Net::ZooKeeper::zerror: the C client's text for each result code, its argument
# checks, and its export (the :functions tag, leaving the original's tags as they
# were).  No ZooKeeper server is needed.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use Net::ZooKeeper qw(:errors :functions);
use ZKTest::Util qw(croaks);

# code => text, as zerror() in the C client's zookeeper.c (3.8), except the two
# marked: the C client has no text for them.
my @TEXTS = (
    0    => 'ok',
    -1   => 'system error',
    -2   => 'run time inconsistency',
    -3   => 'data inconsistency',
    -4   => 'connection loss',
    -5   => 'marshalling error',
    -6   => 'unimplemented',
    -7   => 'operation timeout',
    -8   => 'bad arguments',
    -9   => 'invalid zhandle state',
    -13  => 'no quorum of new config is connected and up-to-date with the leader of last commmitted config'
          . ' - try invoking reconfiguration after new servers are connected and synced',
    -14  => 'Another reconfiguration is in progress -- concurrent reconfigs not supported (yet)',
    -17  => 'ssl connection error',                    # ZSSLCONNECTIONERROR: the binding's own
    -100 => 'api error',
    -101 => 'no node',
    -102 => 'not authenticated',
    -103 => 'bad version',
    -108 => 'no children for ephemerals',
    -110 => 'node exists',
    -111 => 'not empty',
    -112 => 'session expired',
    -113 => 'invalid callback',
    -114 => 'invalid acl',
    -115 => 'authentication failed',
    -116 => 'zookeeper is closing',
    -117 => '(not error) no server responses to process',
    -118 => 'session moved to another server, so operation is ignored',
    -119 => 'state-changing request is passed to read-only server',
    -120 => 'attempt to create ephemeral node on a local session',
    -121 => "the watcher couldn't be found",
    -123 => 'attempts to perform a reconfiguration operation when reconfiguration feature is disable',
    -124 => 'session closed by server because client is required to do SASL authentication',
    -125 => 'quota exceeded',                          # ZQUOTAEXCEEDED: the binding's own
    -127 => 'Operation was throttled due to high load',
);
my %text = @TEXTS;

## Texts

{
    my @pairs = @TEXTS;
    while (my ($code, $want) = splice(@pairs, 0, 2)) {
        is(zerror($code), $want, "zerror($code) is '$want'");
    }
}

for my $name (@{ $Net::ZooKeeper::EXPORT_TAGS{errors} }, 'ZSSLCONNECTIONERROR') {
    my $code = Net::ZooKeeper->can($name)->();
    is(zerror($code), $text{$code}, "zerror($name) is the text of $code");
    isnt(zerror($code), 'unknown error', "... not 'unknown error'");
}

is(zerror(ZNONODE), 'no node', 'zerror(ZNONODE) with the imported constant');
is(Net::ZooKeeper::zerror(-110), 'node exists', 'the full name works too');
is(zerror('-101'), 'no node', 'a numeric string is a code');
is(zerror(-101.7), 'no node', 'a number is truncated to an integer');

for my $code (1, 5, 22, -10, -12, -15, -16, -99, -104, -122, -126, -128, -1000, 2**31, -2**31 - 101, 2**32 - 101) {
    is(zerror($code), 'unknown error', "zerror($code) is 'unknown error'");
}

## Arguments: as set_log_level (one argument, read as an integer)

is(prototype('Net::ZooKeeper::zerror'), '$', 'zerror has prototype $');
{
    my $f = \&Net::ZooKeeper::zerror;
    croaks(sub { $f->() },     'Usage: Net::ZooKeeper::zerror(code)', 'zerror without arguments croaks with its usage');
    croaks(sub { $f->(1, 2) }, 'Usage: Net::ZooKeeper::zerror(code)', 'zerror with two arguments croaks with its usage');

    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };
    is($f->('foo'), 'ok', 'a non-numeric argument is read as 0 ...');
    like(join('', @warnings), qr/^Argument "foo" isn't numeric/, '... with Perl\'s "isn\'t numeric" warning');
    @warnings = ();
    is($f->(undef), 'ok', 'undef is read as 0 ...');
    like(join('', @warnings), qr/^Use of uninitialized value/, '... with Perl\'s "uninitialized" warning');
}

## Export

{
    ok(!eval "package T::Default; use Net::ZooKeeper; zerror(0); 1", 'zerror is not exported by default');
    ok(eval "package T::ByName; use Net::ZooKeeper qw(zerror); zerror(0) eq 'ok'", 'zerror can be imported by name')
      or diag($@);
    ok(eval "package T::ByTag; use Net::ZooKeeper qw(:functions); zerror(-101) eq 'no node'",
       'zerror can be imported with :functions') or diag($@);
    is_deeply($Net::ZooKeeper::EXPORT_TAGS{functions}, ['zerror'], ':functions holds zerror');
    ok(!eval "package T::All; use Net::ZooKeeper qw(:all); zerror(0); 1", ':all does not import zerror');
}

# The original's tags, as t/05_constants.t expects them: unchanged by the new tag.
{
    my %ORIGINAL = (
        errors => [qw(ZOK ZSYSTEMERROR ZRUNTIMEINCONSISTENCY ZDATAINCONSISTENCY ZCONNECTIONLOSS
                      ZMARSHALLINGERROR ZUNIMPLEMENTED ZOPERATIONTIMEOUT ZBADARGUMENTS ZINVALIDSTATE
                      ZAPIERROR ZNONODE ZNOAUTH ZBADVERSION ZNOCHILDRENFOREPHEMERALS ZNODEEXISTS
                      ZNOTEMPTY ZSESSIONEXPIRED ZINVALIDCALLBACK ZINVALIDACL ZAUTHFAILED ZCLOSING
                      ZNOTHING)],
        node_flags => [qw(ZOO_EPHEMERAL ZOO_SEQUENCE)],
        acl_perms  => [qw(ZOO_PERM_READ ZOO_PERM_WRITE ZOO_PERM_CREATE ZOO_PERM_DELETE
                          ZOO_PERM_ADMIN ZOO_PERM_ALL)],
        acls       => [qw(ZOO_OPEN_ACL_UNSAFE ZOO_READ_ACL_UNSAFE ZOO_CREATOR_ALL_ACL)],
        events     => [qw(ZOO_CREATED_EVENT ZOO_DELETED_EVENT ZOO_CHANGED_EVENT ZOO_CHILD_EVENT
                          ZOO_SESSION_EVENT ZOO_NOTWATCHING_EVENT)],
        states     => [qw(ZOO_EXPIRED_SESSION_STATE ZOO_AUTH_FAILED_STATE ZOO_CONNECTING_STATE
                          ZOO_ASSOCIATING_STATE ZOO_CONNECTED_STATE)],
        log_levels => [qw(ZOO_LOG_LEVEL_OFF ZOO_LOG_LEVEL_ERROR ZOO_LOG_LEVEL_WARN
                          ZOO_LOG_LEVEL_INFO ZOO_LOG_LEVEL_DEBUG)],
    );
    my @all = map { @$_ } values %ORIGINAL;
    is(scalar(@all), 50, 'the original tags hold 50 names');

    my %tags = %Net::ZooKeeper::EXPORT_TAGS;
    # Tags added since the original (ZooKeeper 3.5 and later, see t/41_modern.t).
    my @added = qw(errors_ext states_ext create_modes watch_modes watch_types);
    is_deeply([ sort keys %tags ], [ sort(keys %ORIGINAL, 'all', 'functions', @added) ],
              'the tags are the original\'s, :functions and the added ones');
    my %added_name = map { $_ => 1 } map { @{ $tags{$_} } } @added;
    for my $tag (sort keys %ORIGINAL) {
        is_deeply([ sort @{ $tags{$tag} } ], [ sort @{ $ORIGINAL{$tag} } ], ":$tag is unchanged");
    }
    is_deeply([ sort @{ $tags{all} } ], [ sort @all ], ':all is unchanged (the 50 constants, no zerror)');
    is_deeply([ sort grep { !$added_name{$_} } @Net::ZooKeeper::EXPORT_OK ], [ sort(@all, 'zerror') ],
              '@EXPORT_OK is the 50 constants, zerror and the added tags\' names');
    is_deeply(\@Net::ZooKeeper::EXPORT, [], '@EXPORT is empty');
}

done_testing();
