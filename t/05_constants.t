#!/usr/bin/perl
# Constants, export tags and the quirks of the constants' ";$" prototype
# (spec sections 1.2 - 1.4).  No ZooKeeper server is needed.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use Net::ZooKeeper qw(:all);
use ZKTest::Util qw(msg_re);

my %TAGS = (
    errors => [
        ZOK => 0,                        ZSYSTEMERROR => -1,
        ZRUNTIMEINCONSISTENCY => -2,     ZDATAINCONSISTENCY => -3,
        ZCONNECTIONLOSS => -4,           ZMARSHALLINGERROR => -5,
        ZUNIMPLEMENTED => -6,            ZOPERATIONTIMEOUT => -7,
        ZBADARGUMENTS => -8,             ZINVALIDSTATE => -9,
        ZAPIERROR => -100,               ZNONODE => -101,
        ZNOAUTH => -102,                 ZBADVERSION => -103,
        ZNOCHILDRENFOREPHEMERALS => -108, ZNODEEXISTS => -110,
        ZNOTEMPTY => -111,               ZSESSIONEXPIRED => -112,
        ZINVALIDCALLBACK => -113,        ZINVALIDACL => -114,
        ZAUTHFAILED => -115,             ZCLOSING => -116,
        ZNOTHING => -117,
    ],
    node_flags => [ ZOO_EPHEMERAL => 1, ZOO_SEQUENCE => 2 ],
    acl_perms => [
        ZOO_PERM_READ => 1,   ZOO_PERM_WRITE => 2, ZOO_PERM_CREATE => 4,
        ZOO_PERM_DELETE => 8, ZOO_PERM_ADMIN => 16, ZOO_PERM_ALL => 31,
    ],
    acls => [
        ZOO_OPEN_ACL_UNSAFE => [ { perms => 31, scheme => 'world', id => 'anyone' } ],
        ZOO_READ_ACL_UNSAFE => [ { perms => 1,  scheme => 'world', id => 'anyone' } ],
        ZOO_CREATOR_ALL_ACL => [ { perms => 31, scheme => 'auth',  id => '' } ],
    ],
    events => [
        ZOO_CREATED_EVENT => 1, ZOO_DELETED_EVENT => 2, ZOO_CHANGED_EVENT => 3,
        ZOO_CHILD_EVENT => 4,   ZOO_SESSION_EVENT => -1, ZOO_NOTWATCHING_EVENT => -2,
    ],
    states => [
        ZOO_EXPIRED_SESSION_STATE => -112, ZOO_AUTH_FAILED_STATE => -113,
        ZOO_CONNECTING_STATE => 1, ZOO_ASSOCIATING_STATE => 2,
        ZOO_CONNECTED_STATE => 3,
    ],
    log_levels => [
        ZOO_LOG_LEVEL_OFF => 0,  ZOO_LOG_LEVEL_ERROR => 1, ZOO_LOG_LEVEL_WARN => 2,
        ZOO_LOG_LEVEL_INFO => 3, ZOO_LOG_LEVEL_DEBUG => 4,
    ],
);

my (%value, %tag_of, @all_names);
for my $tag (sort keys %TAGS) {
    my @pairs = @{ $TAGS{$tag} };
    while (my ($name, $val) = splice(@pairs, 0, 2)) {
        $value{$name}  = $val;
        $tag_of{$name} = $tag;
        push @all_names, $name;
    }
}
my @acl_names = qw(ZOO_OPEN_ACL_UNSAFE ZOO_READ_ACL_UNSAFE ZOO_CREATOR_ALL_ACL);
my %is_acl    = map { $_ => 1 } @acl_names;

is(scalar(@all_names), 50, 'the tag tables of this test list 50 constants');

## Version

ok(eval { Net::ZooKeeper->VERSION('0.36'); 1 },
   'module version is at least 0.36 (drop-in for 0.36)');

## Exporting (1.2)

{
    my $ok = eval "package T::Default; use Net::ZooKeeper; 1";
    ok($ok, 'use Net::ZooKeeper with no import list compiles');
    my @leaked = grep { defined &{"T::Default::$_"} } @all_names;
    is_deeply(\@leaked, [], 'nothing is exported by default');
}

{
    my $pkg_n = 0;
    for my $tag (sort keys %TAGS) {
        my $pkg = 'T::Tag' . ++$pkg_n;
        my $ok = eval "package $pkg; use Net::ZooKeeper qw(:$tag); 1";
        ok($ok, ":$tag can be imported") or diag($@);
        my @got = sort grep { defined &{"${pkg}::$_"} } @all_names;
        my @want = sort grep { $tag_of{$_} eq $tag } @all_names;
        is_deeply(\@got, \@want, ":$tag imports exactly its " . scalar(@want) . ' constants');
    }

    my $pkg = 'T::TagAll';
    ok(eval "package $pkg; use Net::ZooKeeper qw(:all); 1", ':all can be imported');
    my @got = grep { defined &{"${pkg}::$_"} } @all_names;
    is(scalar(@got), 50, ':all imports all 50 constants');

    my %seen;
    my @ok_list = grep { !$seen{$_}++ } @Net::ZooKeeper::EXPORT_OK;
    # Functions and tags added since the original (see t/06_zerror.t, t/41_modern.t).
    my %added = map { $_ => 1 } map { @{ $Net::ZooKeeper::EXPORT_TAGS{$_} } }
        qw(errors_ext states_ext create_modes watch_modes watch_types);
    is_deeply([ sort grep { !$added{$_} } @ok_list ], [ sort(@all_names, 'zerror') ],
              '@EXPORT_OK holds the 50 constant names, zerror and the added tags\' names');

    $pkg = 'T::Single';
    ok(eval "package $pkg; use Net::ZooKeeper qw(ZNONODE ZOO_OPEN_ACL_UNSAFE); 1",
       'single constants can be imported by name');
    ok(defined &{"${pkg}::ZNONODE"} && !defined &{"${pkg}::ZNOAUTH"},
       'importing by name imports only the named constants');

    ok(!eval "package T::Bogus; use Net::ZooKeeper qw(ZBOGUS); 1",
       'importing an unknown name fails');
    like($@, qr/"ZBOGUS" is not exported by the Net::ZooKeeper module/,
         'unknown import names get the usual Exporter error');
}

## Values (1.3)

for my $name (@all_names) {
    my $code = Net::ZooKeeper->can($name);
    ok($code, "Net::ZooKeeper::$name exists") or next;
    if ($is_acl{$name}) {
        is_deeply($code->(), $value{$name}, "$name is the documented ACL");
    }
    else {
        my $got = $code->();
        ok(defined($got) && $got == $value{$name} && $got eq "$value{$name}",
           "$name == $value{$name}")
            or diag("got " . (defined $got ? $got : 'undef'));
    }
}

is(ZOO_PERM_ALL, ZOO_PERM_READ | ZOO_PERM_WRITE | ZOO_PERM_CREATE | ZOO_PERM_DELETE | ZOO_PERM_ADMIN,
   'ZOO_PERM_ALL is the OR of all permission flags');

## ACL constants are fresh copies (1.3)

{
    my ($first, $second) = (ZOO_OPEN_ACL_UNSAFE, ZOO_OPEN_ACL_UNSAFE);
    isnt("$first", "$second", 'each ZOO_OPEN_ACL_UNSAFE call returns a new array');
    isnt("$first->[0]", "$second->[0]", 'each ZOO_OPEN_ACL_UNSAFE call returns new entry hashes');

    for my $name (@acl_names) {
        my $code = Net::ZooKeeper->can($name);
        my $acl  = $code->();
        is(ref($acl), 'ARRAY', "$name returns an array reference");
        is_deeply([ map { join ',', sort keys %$_ } @$acl ], ['id,perms,scheme'],
                  "$name entries have exactly the keys perms, scheme and id");
        $acl->[0]{perms}  = 0;
        $acl->[0]{scheme} = 'changed';
        delete $acl->[0]{id};
        push @$acl, { perms => 1, scheme => 'x', id => 'y' };
        is_deeply($code->(), $value{$name}, "modifying a returned $name does not affect later calls");
    }
}

## Prototypes (1.4)

for my $name (@all_names) {
    is(prototype("Net::ZooKeeper::$name"), ';$', "$name has the prototype ;\$");
}

{
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, $_[0] };

    my $v = eval 'ZOO_LOG_LEVEL_DEBUG + 1';
    is($v, 4, 'ZOO_LOG_LEVEL_DEBUG + 1 parses as ZOO_LOG_LEVEL_DEBUG(+1) and yields 4');
    ok((grep { /Use of "ZOO_LOG_LEVEL_DEBUG" without parentheses is ambiguous/ } @warnings),
       'ZOO_LOG_LEVEL_DEBUG + 1 draws Perl\'s "without parentheses is ambiguous" warning');

    is(eval 'ZNONODE - 1', -101, 'ZNONODE - 1 parses as ZNONODE(-1) and yields -101');
    is(eval 'ZOO_SEQUENCE * 2', 2, 'ZOO_SEQUENCE * 2 parses as ZOO_SEQUENCE(*2) and yields 2');

    ok(!defined(eval 'ZOK + 1; 1'), 'ZOK + 1 dies');
    like($@, qr/^unknown Net::ZooKeeper constant: 1 at \(eval \d+\) line 1\.\n\z/,
         'ZOK + 1 croaks "unknown Net::ZooKeeper constant: 1"');

    ok(!defined(eval 'my $x = ZOO_PERM_ALL & ~ZOO_PERM_READ; 1'),
       'ZOO_PERM_ALL & ~ZOO_PERM_READ does not compile');
    like($@, qr/syntax error/, 'ZOO_PERM_ALL & ~ZOO_PERM_READ is a syntax error');
}

is((ZOO_PERM_ALL) & ~ZOO_PERM_READ, 30, '(ZOO_PERM_ALL) & ~ZOO_PERM_READ yields 30');
is(ZOO_PERM_READ | ZOO_PERM_WRITE, 3, 'A | B parses as a binary OR');
ok(ZOO_SEQUENCE == 2, 'A == 2 parses as a comparison');
is(ZOO_OPEN_ACL_UNSAFE->[0]{perms}, 31, 'ZOO_OPEN_ACL_UNSAFE->[0]{perms} parses as a dereference');

## Arguments (1.4)

for my $name (grep { !$is_acl{$_} && $value{$_} != 0 } @all_names) {
    is(Net::ZooKeeper->can($name)->('foo'), $value{$name}, "$name ignores a single argument");
}

is(ZOK('ZOK'), 0, "ZOK('ZOK') is 0");
is(ZOK('ZOO_LOG_LEVEL_OFF'), 0, "ZOK('ZOO_LOG_LEVEL_OFF') is 0");
is(ZOO_LOG_LEVEL_OFF('ZOO_LOG_LEVEL_OFF'), 0, "ZOO_LOG_LEVEL_OFF('ZOO_LOG_LEVEL_OFF') is 0");
is(ZOO_LOG_LEVEL_OFF('ZOK'), 0, "ZOO_LOG_LEVEL_OFF('ZOK') is 0");

ok(!eval { ZOK('foo'); 1 }, 'ZOK with another argument dies');
like($@, msg_re('unknown Net::ZooKeeper constant: foo'),
     "ZOK('foo') croaks unknown Net::ZooKeeper constant: foo");
ok(!eval { ZOO_LOG_LEVEL_OFF(0); 1 }, 'ZOO_LOG_LEVEL_OFF with another argument dies');
like($@, msg_re('unknown Net::ZooKeeper constant: 0'),
     'ZOO_LOG_LEVEL_OFF(0) croaks unknown Net::ZooKeeper constant: 0');
ok(!eval { ZOK('zok'); 1 }, 'the ZOK argument check is case-sensitive');

is_deeply(ZOO_READ_ACL_UNSAFE('foo'), $value{ZOO_READ_ACL_UNSAFE},
          'an ACL constant ignores an unrelated argument');
is_deeply(ZOO_READ_ACL_UNSAFE('ZOO_OPEN_ACL_UNSAFE'), $value{ZOO_OPEN_ACL_UNSAFE},
          "ZOO_READ_ACL_UNSAFE('ZOO_OPEN_ACL_UNSAFE') returns the open ACL (checked earlier wins)");
is_deeply(ZOO_CREATOR_ALL_ACL('ZOO_READ_ACL_UNSAFE'), $value{ZOO_READ_ACL_UNSAFE},
          "ZOO_CREATOR_ALL_ACL('ZOO_READ_ACL_UNSAFE') returns the read ACL (checked earlier wins)");
is_deeply(ZOO_OPEN_ACL_UNSAFE('ZOO_CREATOR_ALL_ACL'), $value{ZOO_OPEN_ACL_UNSAFE},
          "ZOO_OPEN_ACL_UNSAFE('ZOO_CREATOR_ALL_ACL') returns the open ACL (later names do not win)");
is_deeply(ZOO_READ_ACL_UNSAFE('ZOO_CREATOR_ALL_ACL'), $value{ZOO_READ_ACL_UNSAFE},
          "ZOO_READ_ACL_UNSAFE('ZOO_CREATOR_ALL_ACL') returns the read ACL");

for my $name (@all_names) {
    my $code = Net::ZooKeeper->can($name);
    ok(!eval { $code->(1, 2); 1 }, "$name with two arguments dies");
    like($@, msg_re("Usage: Net::ZooKeeper::$name(alias=Nullch)"),
         "$name with two arguments croaks its Usage message");
}

## Constants outside the original's tags

# ZSSLCONNECTIONERROR (t/72_tls.t): in no tag and not in @EXPORT_OK (checked above),
# with the same prototype, but without the original constants' argument checks.
{
    my $code = Net::ZooKeeper->can('ZSSLCONNECTIONERROR');
    ok($code, 'Net::ZooKeeper::ZSSLCONNECTIONERROR exists');
    is(prototype($code), ';$', 'ZSSLCONNECTIONERROR has the prototype ;$');
    is_deeply([ $code->(), $code->('foo'), $code->(1, 2) ], [ -17, -17, -17 ],
              'ZSSLCONNECTIONERROR is -17 whatever its arguments');
}

# Net::ZooKeeper::Cluster's constants: use constant subs (empty prototype, inlined).
{
    require B;
    require Errno;
    require Net::ZooKeeper::Cluster;
    my @status = (
        SUCCESS => 0, EBUSY => 70025, ECONNABORTED => Errno::ECONNABORTED(), EINVAL => Errno::EINVAL(),
        ENOLOCK => 20009, NOTFOUND => 70015, EEXIST => Errno::EEXIST(),
    );
    my %want = (@status, DEFAULT_RECV_TIMEOUT => 4000, MAX_RECV_TIMEOUT => 0x3FFFFFFF);
    for my $name (sort keys %want) {
        my $code = Net::ZooKeeper::Cluster->can($name);
        ok($code, "Net::ZooKeeper::Cluster::$name exists") or next;
        is($code->(), $want{$name}, "Net::ZooKeeper::Cluster::$name is $want{$name}");
        is(prototype($code), '', "Net::ZooKeeper::Cluster::$name has the empty prototype");
        ok(B::svref_2object($code)->CvFLAGS & B::CVf_CONST(), "Net::ZooKeeper::Cluster::$name is a constant sub");
    }
    my @status_names = @status[ grep { $_ % 2 == 0 } 0 .. $#status ];
    is_deeply(\%Net::ZooKeeper::Cluster::EXPORT_TAGS, { status => \@status_names },
              'Net::ZooKeeper::Cluster has the one tag :status, in its order');
    is_deeply(\@Net::ZooKeeper::Cluster::EXPORT_OK, [ @status_names, 'DEFAULT_RECV_TIMEOUT' ],
              'Net::ZooKeeper::Cluster exports the statuses and DEFAULT_RECV_TIMEOUT');
    ok(eval "package T::Status; use Net::ZooKeeper::Cluster qw(:status DEFAULT_RECV_TIMEOUT); 1",
       'Net::ZooKeeper::Cluster qw(:status DEFAULT_RECV_TIMEOUT) can be imported') or diag($@);
    is(eval 'package T::Status; EBUSY + 1', 70026, 'an imported status is a constant (EBUSY + 1 is 70026)');
    ok(!eval "package T::Max; use Net::ZooKeeper::Cluster qw(MAX_RECV_TIMEOUT); 1",
       'MAX_RECV_TIMEOUT is not exported');
}

done_testing();
