#!/usr/bin/perl
# Argument validation: every Usage, type and option croak, in the documented
# order of checks (spec sections 2, 3 and 12), invalid handles, and the
# client-side path validation that yields ZBADARGUMENTS (11.1).
#
# No ZooKeeper server is needed: the handle points at a local port on which
# nothing listens, and every call below fails before reaching a server.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use Net::ZooKeeper qw(:errors :node_flags :acls :acl_perms);
use ZKTest::Util qw(croaks lives unused_local_host);

my $hosts = unused_local_host();
my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper', 'new() with a host where nothing listens')
    or BAIL_OUT('cannot create a handle');

my $stat  = $zkh->stat();
my $watch = $zkh->watch();
isa_ok($stat,  'Net::ZooKeeper::Stat');
isa_ok($watch, 'Net::ZooKeeper::Watch');

# Leaves ZBADARGUMENTS in $zkh's error state (the path is rejected client-side).
sub force_error {
    $zkh->exists('no/leading/slash');
    return $zkh->get_error();
}

## Prototypes (1.5): they decide compile-time arity errors in callers

{
    my %proto = (
        new => '$$;@', exists => '$$;@', get => '$$;@', get_children => '$$;@',
        get_acl => '$$;@', delete => '$$;@',
        create => '$$$;@', set => '$$$;@', set_acl => '$$$;@',
        add_auth => '$$$', watch => '$;@',
        stat => '$', get_error => '$', DESTROY => '$',
        set_log_level => '$', set_deterministic_conn_order => '$',
    );
    for my $sub (sort keys %proto) {
        is(prototype("Net::ZooKeeper::$sub"), $proto{$sub}, "Net::ZooKeeper::$sub has prototype $proto{$sub}");
    }
    is(prototype('Net::ZooKeeper::Watch::wait'), '$;@', 'Watch::wait has prototype $;@');
    for my $class (qw(Net::ZooKeeper Net::ZooKeeper::Stat Net::ZooKeeper::Watch)) {
        my %tie = (FIRSTKEY => '$', SCALAR => '$', CLEAR => '$', DESTROY => '$',
                   FETCH => '$$', EXISTS => '$$', DELETE => '$$', NEXTKEY => '$$', UNTIE => '$$',
                   STORE => '$$$', TIEHASH => '$;@');
        for my $sub (sort keys %tie) {
            is(prototype("${class}::$sub"), $tie{$sub}, "${class}::$sub has prototype $tie{$sub}");
        }
    }
    ok(!defined(eval 'Net::ZooKeeper::exists($zkh); 1'), 'calling exists() literally with one argument does not compile');
    like($@, qr/Not enough arguments for Net::ZooKeeper::exists/, '... with Perl\'s "Not enough arguments" error');
}

## new (3.1)

croaks(sub { Net::ZooKeeper->new() }, 'Usage: Net::ZooKeeper::new(package, hosts, ...)',
       'new without hosts croaks Usage');
croaks(sub { Net::ZooKeeper->can('new')->() }, 'Usage: Net::ZooKeeper::new(package, hosts, ...)',
       'new without any argument croaks Usage');
croaks(sub { Net::ZooKeeper->new($hosts, 'bar') }, 'invalid number of arguments',
       'new with an odd option list croaks');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => -3, 'bar') }, 'invalid number of arguments',
       'new checks option parity before option values');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => -3) }, 'invalid session timeout: -3',
       'new rejects a negative session timeout');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => 0x40000000) }, 'invalid session timeout: 1073741824',
       'new rejects a session timeout above 0x3FFFFFFF');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => 2**31) }, 'invalid session timeout: -2147483648',
       'session timeout is converted to a C int before the check');
croaks(sub { Net::ZooKeeper->new($hosts, 'Session_TimeOut' => -1) }, 'invalid session timeout: -1',
       'new option names are case-insensitive');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => 5000, session_timeout => -1) },
       'invalid session timeout: -1', 'every occurrence of a repeated option is validated');
for my $sid ('', 'x' x 23, 'x' x 25) {
    croaks(sub { Net::ZooKeeper->new($hosts, session_id => $sid) }, 'invalid session ID',
           'new rejects a session ID of ' . length($sid) . ' bytes');
}
croaks(sub { Net::ZooKeeper->new($hosts, session_id => 'short', session_timeout => -1) },
       'invalid session ID', 'new validates options in the order given (session_id first)');
croaks(sub { Net::ZooKeeper->new($hosts, session_timeout => -1, session_id => 'short') },
       'invalid session timeout: -1', 'new validates options in the order given (session_timeout first)');
lives(sub { Net::ZooKeeper->new($hosts, session_timeout => 0x3FFFFFFF) or die "undef\n" },
      'new accepts a session timeout of 0x3FFFFFFF');
lives(sub { Net::ZooKeeper->new($hosts, session_timeout => 0) or die "undef\n" },
      'new accepts a session timeout of 0');
lives(sub { Net::ZooKeeper->new($hosts, session_id => "\x01" x 24) or die "undef\n" },
      'new accepts a 24-byte session ID');
lives(sub { Net::ZooKeeper->new($hosts, foo => 'bar') or die "undef\n" },
      'new ignores unknown options');

## DESTROY (3.2)

croaks(sub { $zkh->DESTROY('foo') }, 'Usage: Net::ZooKeeper::DESTROY(zkh)',
       'DESTROY with an extra argument croaks Usage');
croaks(sub { Net::ZooKeeper->can('DESTROY')->() }, 'Usage: Net::ZooKeeper::DESTROY(zkh)',
       'DESTROY without arguments croaks Usage');

## The zkh argument must be a Net::ZooKeeper hash reference (2.3)

my %usage = (
    create       => 'Usage: Net::ZooKeeper::create(zkh, path, buf, ...)',
    delete       => 'Usage: Net::ZooKeeper::delete(zkh, path, ...)',
    exists       => 'Usage: Net::ZooKeeper::exists(zkh, path, ...)',
    get_children => 'Usage: Net::ZooKeeper::get_children(zkh, path, ...)',
    get          => 'Usage: Net::ZooKeeper::get(zkh, path, ...)',
    set          => 'Usage: Net::ZooKeeper::set(zkh, path, buf, ...)',
    stat         => 'Usage: Net::ZooKeeper::stat(zkh)',
    watch        => 'Usage: Net::ZooKeeper::watch(zkh, ...)',
    get_error    => 'Usage: Net::ZooKeeper::get_error(zkh)',
    DESTROY      => 'Usage: Net::ZooKeeper::DESTROY(zkh)',
);
# Minimal well-formed argument lists after zkh (paths are syntactically invalid
# so that nothing would ever be sent to a server).
my %args = (
    create => [ 'bad', 'data' ], delete => ['bad'], exists => ['bad'],
    get_children => ['bad'], get => ['bad'], set => [ 'bad', 'data' ],
    stat => [], watch => [], get_error => [], DESTROY => [],
);
my @methods = qw(create delete exists get_children get set stat watch get_error DESTROY);

{
    my $arrayobj = bless [], 'Net::ZooKeeper';
    my @not_handles = (
        [ 'a string',                  'foo' ],
        [ 'an unblessed hash',         {} ],
        [ 'a hash of another class',   bless({}, 'Not::ZooKeeper') ],
        [ 'a Net::ZooKeeper array',    $arrayobj ],
        [ 'a Net::ZooKeeper::Stat',    $stat ],
    );
    for my $m (@methods) {
        my $code = Net::ZooKeeper->can($m);
        for my $case (@not_handles) {
            my ($what, $bad) = @$case;
            croaks(sub { $code->($bad, @{ $args{$m} }) },
                   'zkh is not a hash reference of type Net::ZooKeeper',
                   "$m on $what croaks the zkh type message");
        }
    }
    bless $arrayobj, 'T::Released';    # keep Perl's own DESTROY call quiet
}

## Arity comes first, then type, then handle validity, then option parity (2.1)

for my $m (grep { @{ $args{$_} } } @methods) {
    my @a = @{ $args{$m} };
    for my $n (0 .. $#a) {
        my @short = @a[0 .. $n - 1];
        croaks(sub { $zkh->$m(@short) }, $usage{$m}, "$m with " . (1 + @short) . ' argument(s) croaks Usage');
    }
    croaks(sub { Net::ZooKeeper->can($m)->('foo') }, $usage{$m},
           "$m checks the argument count before the zkh type");
}
for my $m (qw(stat get_error)) {
    croaks(sub { $zkh->$m('bar') }, $usage{$m}, "$m with an extra argument croaks Usage");
}
croaks(sub { Net::ZooKeeper->can('watch')->() }, $usage{watch}, 'watch without zkh croaks Usage');
croaks(sub { Net::ZooKeeper->can('stat')->() }, $usage{stat}, 'stat without zkh croaks Usage');
croaks(sub { Net::ZooKeeper->can('get_error')->() }, $usage{get_error}, 'get_error without zkh croaks Usage');

{
    my $plain = bless {}, 'Net::ZooKeeper';
    for my $m (grep { $_ ne 'DESTROY' } @methods) {
        croaks(sub { $plain->$m(@{ $args{$m} }) }, 'invalid handle',
               "$m on a plain blessed hash croaks invalid handle");
    }
    for my $m (qw(create delete exists get_children get set watch)) {
        croaks(sub { $plain->$m(@{ $args{$m} }, 'odd') }, 'invalid handle',
               "$m checks handle validity before option parity");
    }
    is(scalar($plain->DESTROY), '', 'DESTROY on a plain blessed hash returns false');
    my @list = $plain->DESTROY;
    is_deeply(\@list, [''], 'DESTROY on a plain blessed hash returns (\'\') in list context');
}

for my $m (qw(create delete exists get_children get set watch)) {
    croaks(sub { $zkh->$m(@{ $args{$m} }, 'odd') }, 'invalid number of arguments',
           "$m with an odd option list croaks");
    croaks(sub { $zkh->$m(@{ $args{$m} }, foo => 1, 'odd') }, 'invalid number of arguments',
           "$m with three option items croaks");
}

## get_error and $! (2.1 step 4, 2.6)

{
    $! = 1;
    is($zkh->get_error(), ZOK, 'get_error is ZOK before any operation');
    is("$!", '', 'get_error sets $! to the saved errno (0 here)');

    is(force_error(), ZBADARGUMENTS, 'a rejected path leaves ZBADARGUMENTS');
    eval { $zkh->exists() };
    is($zkh->get_error(), ZBADARGUMENTS, 'a Usage croak leaves the saved error untouched');

    for my $case (
        [ exists => sub { $zkh->exists('/', 'odd') },             'a parity croak' ],
        [ get    => sub { $zkh->get('/', data_read_len => -1) },  'an option croak' ],
        [ create => sub { $zkh->create('/', '', flags => 99) },   'an option croak' ],
        [ set    => sub { $zkh->set('/', '', stat => 'bad') },    'a stat option type croak' ],
        [ watch  => sub { $zkh->watch('odd') },                   'a parity croak' ],
        [ delete => sub { $zkh->delete('/', version => -1) },     'an option croak' ],
        [ get_children => sub { $zkh->get_children('/', watch => {}) }, 'a watch option type croak' ],
    ) {
        my ($m, $code, $what) = @$case;
        force_error();
        ok(!eval { $code->(); 1 }, "$m: $what happens");
        $! = 1;
        is($zkh->get_error(), ZOK, "$m resets the error to ZOK before $what");
        is("$!", '', "$m resets the saved errno before $what");
    }

    force_error();
    $zkh->stat();
    is($zkh->get_error(), ZOK, 'stat() resets the error to ZOK');
    force_error();
    $zkh->watch();
    is($zkh->get_error(), ZOK, 'watch() resets the error to ZOK');
    force_error();
    my $x = $zkh->{data_read_len};
    $zkh->{watch_timeout} = 1000;
    is($zkh->get_error(), ZBADARGUMENTS, 'attribute reads and writes leave the error untouched');
    $zkh->get_error();
    is($zkh->get_error(), ZBADARGUMENTS, 'get_error itself leaves the error untouched');
}

## Per-method options (2.4, 3.5 - 3.10)

# create
for my $v (-3, 0, 1) {
    croaks(sub { $zkh->create('bad', '', path_read_len => $v) }, "invalid path read length: $v",
           "create rejects path_read_len $v");
}
for my $v (4, -1, 7, 2**31) {
    my $int = $v == 2**31 ? -2147483648 : $v;
    croaks(sub { $zkh->create('bad', '', flags => $v) }, "invalid create flags: $int",
           "create rejects flags $v");
}
for my $v (0, ZOO_EPHEMERAL, ZOO_SEQUENCE, ZOO_EPHEMERAL | ZOO_SEQUENCE) {
    lives(sub { $zkh->create('bad', '', flags => $v, acl => ZOO_OPEN_ACL_UNSAFE) },
          "create accepts flags $v");
}
lives(sub { $zkh->create('bad', '', path_read_len => 2) }, 'create accepts path_read_len 2');
for my $case ([ 'a string', 'foo' ], [ 'a hash reference', {} ], [ 'undef', undef ]) {
    croaks(sub { $zkh->create('bad', '', acl => $case->[1]) }, 'invalid ACL array reference',
           "create rejects $case->[0] as acl");
}
{
    my %good = (perms => ZOO_PERM_ALL(), scheme => 'world', id => 'anyone');
    my @acl_cases = (
        [ ['foo'],                              'invalid ACL entry hash reference', 'a string entry' ],
        [ [undef],                              'invalid ACL entry hash reference', 'an undef entry' ],
        [ [ {%good}, [] ],                      'invalid ACL entry hash reference', 'a bad second entry' ],
        [ [ {} ],                               'no ACL entry perms element',       'an entry without perms' ],
        [ [ { %good, perms => -1 } ],           'invalid ACL entry perms',          'perms -1' ],
        [ [ { %good, perms => 0 } ],            'invalid ACL entry perms',          'perms 0' ],
        [ [ { %good, perms => 32 } ],           'invalid ACL entry perms',          'perms 32' ],
        [ [ { perms => 1, id => 'anyone' } ],   'no ACL entry scheme element',      'an entry without scheme' ],
        [ [ { perms => 1, scheme => 'world' } ], 'no ACL entry id element',         'an entry without id' ],
        [ [ {%good}, { %good, perms => 64 } ],  'invalid ACL entry perms',          'bad perms in a second entry' ],
    );
    for my $case (@acl_cases) {
        my ($acl, $msg, $what) = @$case;
        croaks(sub { $zkh->create('bad', '', acl => $acl) }, $msg, "create rejects an ACL with $what");
    }
    lives(sub { $zkh->create('bad', '', acl => [ { %good, extra => 1 } ]) }, 'extra ACL entry keys are ignored');
    lives(sub { $zkh->create('bad', '', acl => []) }, 'an empty ACL array passes client-side checks');
}
croaks(sub { $zkh->create('bad', '', flags => 4, path_read_len => 0) }, 'invalid create flags: 4',
       'create validates options in the order given (flags first)');
croaks(sub { $zkh->create('bad', '', path_read_len => 0, flags => 4) }, 'invalid path read length: 0',
       'create validates options in the order given (path_read_len first)');
croaks(sub { $zkh->create('bad', '', FLAGS => 4) }, 'invalid create flags: 4',
       'create option names are case-insensitive');
croaks(sub { $zkh->create('bad', '', flags => 1, flags => 4) }, 'invalid create flags: 4',
       'every occurrence of a repeated create option is validated');

# delete and set: version
for my $m (qw(delete set)) {
    my @a = @{ $args{$m} };
    croaks(sub { $zkh->$m(@a, version => -1) }, 'invalid version requirement: -1', "$m rejects version -1");
    croaks(sub { $zkh->$m(@a, version => 2**31) }, 'invalid version requirement: -2147483648',
           "$m converts version to a C int before the check");
    croaks(sub { $zkh->$m(@a, VERSION => -2) }, 'invalid version requirement: -2',
           "$m option names are case-insensitive");
    lives(sub { $zkh->$m(@a, version => 0) }, "$m accepts version 0");
}

# get: data_read_len
croaks(sub { $zkh->get('bad', data_read_len => -1) }, 'invalid data read length: -1', 'get rejects data_read_len -1');
croaks(sub { $zkh->get('bad', data_read_len => 2**31) }, 'invalid data read length: -2147483648',
       'get converts data_read_len to a C int before the check');
croaks(sub { $zkh->get('bad', Data_Read_Len => -1) }, 'invalid data read length: -1',
       'get option names are case-insensitive');
lives(sub { $zkh->get('bad', data_read_len => 0) }, 'get accepts data_read_len 0');

# stat and watch options
{
    my $plain_stat  = bless {}, 'Net::ZooKeeper::Stat';
    my $plain_watch = bless {}, 'Net::ZooKeeper::Watch';
    my $stat_copy   = bless { %$stat }, 'Net::ZooKeeper::Stat';
    my $watch_copy  = bless { %$watch }, 'Net::ZooKeeper::Watch';
    my $dead_stat   = $zkh->stat();
    $dead_stat->DESTROY();
    my $dead_watch  = $zkh->watch();
    $dead_watch->DESTROY();
    my $dead_inner_stat = $zkh->stat();
    tied(%$dead_inner_stat)->DESTROY();
    my $dead_inner_watch = $zkh->watch();
    tied(%$dead_inner_watch)->DESTROY();

    for my $m (qw(exists get set)) {
        my @a = @{ $args{$m} };
        for my $case ([ 'a string', 'foo' ], [ 'an unblessed hash', {} ], [ 'a watch', $watch ],
                      [ 'a handle', $zkh ], [ 'undef', undef ]) {
            croaks(sub { $zkh->$m(@a, stat => $case->[1]) },
                   'stat is not a hash reference of type Net::ZooKeeper::Stat',
                   "$m rejects $case->[0] as stat");
        }
        for my $case ([ 'a plain blessed hash', $plain_stat ], [ 'a content copy', $stat_copy ],
                      [ 'a destroyed stat', $dead_stat ], [ 'a stat with destroyed inner', $dead_inner_stat ]) {
            croaks(sub { $zkh->$m(@a, stat => $case->[1]) }, 'invalid stat handle',
                   "$m rejects $case->[0] as stat");
        }
        croaks(sub { $zkh->$m(@a, STAT => 'foo') }, 'stat is not a hash reference of type Net::ZooKeeper::Stat',
               "$m: the stat option name is case-insensitive");
        lives(sub { $zkh->$m(@a, stat => $stat) }, "$m accepts a stat object");
    }
    for my $m (qw(exists get get_children)) {
        my @a = @{ $args{$m} };
        for my $case ([ 'a string', 'foo' ], [ 'an unblessed hash', {} ], [ 'a stat', $stat ],
                      [ 'a handle', $zkh ], [ 'undef', undef ]) {
            croaks(sub { $zkh->$m(@a, watch => $case->[1]) },
                   'watch is not a hash reference of type Net::ZooKeeper::Watch',
                   "$m rejects $case->[0] as watch");
        }
        for my $case ([ 'a plain blessed hash', $plain_watch ], [ 'a content copy', $watch_copy ],
                      [ 'a destroyed watch', $dead_watch ], [ 'a watch with destroyed inner', $dead_inner_watch ]) {
            croaks(sub { $zkh->$m(@a, watch => $case->[1]) }, 'invalid watch handle',
                   "$m rejects $case->[0] as watch");
        }
        lives(sub { $zkh->$m(@a, watch => $watch) }, "$m accepts a watch object");
    }
    croaks(sub { $zkh->get('bad', stat => 'foo', watch => 'foo') },
           'stat is not a hash reference of type Net::ZooKeeper::Stat', 'get validates stat first when given first');
    croaks(sub { $zkh->get('bad', watch => 'foo', stat => 'foo') },
           'watch is not a hash reference of type Net::ZooKeeper::Watch', 'get validates watch first when given first');
    croaks(sub { $zkh->get('bad', data_read_len => -1, stat => 'foo') },
           'invalid data read length: -1', 'get validates data_read_len first when given first');

    # Options a method does not know are ignored, whatever their value.
    lives(sub { $zkh->get_children('bad', stat => 'foo') }, 'get_children ignores a stat option');
    lives(sub { $zkh->set('bad', '', watch => 'foo') }, 'set ignores a watch option');
    lives(sub { $zkh->delete('bad', stat => 'foo', watch => 'foo') }, 'delete ignores stat and watch options');
    lives(sub { $zkh->create('bad', '', watch => 'foo', version => -1) }, 'create ignores watch and version options');
    # create takes a stat since ZooKeeper 3.5 (create2), checked like the others'.
    croaks(sub { $zkh->create('bad', '', stat => 'foo') },
           'stat is not a hash reference of type Net::ZooKeeper::Stat', 'create validates its stat option');
    lives(sub { $zkh->exists('bad', data_read_len => -1, flags => 99) }, 'exists ignores options of other methods');
    lives(sub { $zkh->get('bad', version => -1, foo => 'bar') }, 'get ignores unknown options');
}

## stat() and watch() (3.13, 3.14)

croaks(sub { $zkh->watch('bar') }, 'invalid number of arguments', 'watch with an odd option list croaks');
lives(sub { $zkh->watch(timeout => -1, foo => 'bar') }, 'watch does not validate its timeout and ignores unknown options');
is(ref($zkh->stat()), 'Net::ZooKeeper::Stat', 'stat() returns a Net::ZooKeeper::Stat');
is(ref($zkh->watch()), 'Net::ZooKeeper::Watch', 'watch() returns a Net::ZooKeeper::Watch');

## Watch::wait (3.15)

{
    my $wait = Net::ZooKeeper::Watch->can('wait');
    croaks(sub { $wait->() }, 'Usage: Net::ZooKeeper::Watch::wait(zkwh, ...)', 'wait without arguments croaks Usage');
    for my $case ([ 'a string', 'foo' ], [ 'an unblessed hash', {} ], [ 'a handle', $zkh ], [ 'a stat', $stat ]) {
        croaks(sub { $wait->($case->[1]) }, 'zkwh is not a hash reference of type Net::ZooKeeper::Watch',
               "wait on $case->[0] croaks the zkwh type message");
    }
    my $plain = bless {}, 'Net::ZooKeeper::Watch';
    croaks(sub { $plain->wait() }, 'invalid handle', 'wait on a plain blessed hash croaks invalid handle');
    croaks(sub { $plain->wait('odd') }, 'invalid handle', 'wait checks validity before option parity');
    croaks(sub { tied(%$watch)->wait() }, 'invalid handle', 'wait on the inner object croaks invalid handle');
    my $copy = bless { %$watch }, 'Net::ZooKeeper::Watch';
    croaks(sub { $copy->wait() }, 'invalid handle', 'wait on a content copy croaks invalid handle');
    my $dead = $zkh->watch();
    $dead->DESTROY();
    croaks(sub { $dead->wait() }, 'invalid handle', 'wait on a destroyed watch croaks invalid handle');
    croaks(sub { $watch->wait('odd') }, 'invalid number of arguments', 'wait with an odd option list croaks');
    croaks(sub { $watch->wait(timeout => 0, 'odd') }, 'invalid number of arguments', 'wait with three option items croaks');
}

## Stat and Watch DESTROY

for my $case ([ 'Net::ZooKeeper::Stat', 'zksh', $stat ], [ 'Net::ZooKeeper::Watch', 'zkwh', $watch ]) {
    my ($class, $var, $obj) = @$case;
    my $destroy = $class->can('DESTROY');
    croaks(sub { $obj->DESTROY('foo') }, "Usage: ${class}::DESTROY($var)", "$class DESTROY with an extra argument croaks Usage");
    croaks(sub { $destroy->() }, "Usage: ${class}::DESTROY($var)", "$class DESTROY without arguments croaks Usage");
    for my $bad ([ 'a string', 'foo' ], [ 'an unblessed hash', {} ], [ 'a handle', $zkh ]) {
        croaks(sub { $destroy->($bad->[1]) }, "$var is not a hash reference of type $class",
               "$class DESTROY on $bad->[0] croaks the $var type message");
    }
    is(scalar((bless {}, $class)->DESTROY), '', "$class DESTROY on a plain blessed hash returns false");
    my $copy = bless { %$obj }, $class;
    is(scalar($copy->DESTROY), '', "$class DESTROY on a content copy returns false");
}

## Tie methods (2.2, 2.3, 5.1, 5.2)

{
    my %objects = ('Net::ZooKeeper' => $zkh, 'Net::ZooKeeper::Stat' => $stat, 'Net::ZooKeeper::Watch' => $watch);
    my %key     = ('Net::ZooKeeper' => 'hosts', 'Net::ZooKeeper::Stat' => 'czxid', 'Net::ZooKeeper::Watch' => 'timeout');
    my %sig = (
        FIRSTKEY => ['attr_hash'], SCALAR => ['attr_hash'], CLEAR => ['attr_hash'],
        NEXTKEY => [qw(attr_hash attr_key)], FETCH => [qw(attr_hash attr_key)],
        EXISTS  => [qw(attr_hash attr_key)], DELETE => [qw(attr_hash attr_key)],
        STORE   => [qw(attr_hash attr_key attr_val)], UNTIE => [qw(attr_hash ref_count)],
    );
    for my $class (sort keys %objects) {
        my $outer = $objects{$class};
        my $inner = tied(%$outer);
        my $k     = $key{$class};

        croaks(sub { $class->can('TIEHASH')->() }, "Usage: ${class}::TIEHASH(package, ...)",
               "${class}::TIEHASH without arguments croaks Usage");

        for my $m (sort keys %sig) {
            my $code  = $class->can($m);
            my @names = @{ $sig{$m} };
            my $usage = "Usage: ${class}::$m(" . join(', ', @names) . ')';
            my @extra = ('x') x (@names - 1);
            croaks(sub { $code->($inner, @extra[1 .. $#extra]) }, $usage, "${class}::$m with too few arguments croaks Usage")
                if @names > 1;
            croaks(sub { $code->() }, $usage, "${class}::$m without arguments croaks Usage");
            croaks(sub { $code->($inner, @extra, 'x') }, $usage, "${class}::$m with too many arguments croaks Usage");
            for my $bad ([ 'a string', 'foo' ], [ 'an unblessed hash', {} ], [ 'another class', bless({}, 'Not::ZooKeeper') ]) {
                croaks(sub { $code->($bad->[1], @extra) }, "attr_hash is not a hash reference of type $class",
                       "${class}::$m on $bad->[0] croaks the attr_hash type message");
            }
        }

        # Tie methods that need state croak on objects without state.
        my $plain = bless {}, $class;
        my $copy  = bless { %$outer }, $class;
        my %state_args = (FIRSTKEY => [], NEXTKEY => [$k], FETCH => [$k], EXISTS => [$k], STORE => [ $k, 1 ]);
        for my $m (sort keys %state_args) {
            my $code = $class->can($m);
            for my $case ([ 'the outer object', $outer ], [ 'a plain blessed hash', $plain ], [ 'a content copy', $copy ]) {
                croaks(sub { $code->($case->[1], @{ $state_args{$m} }) }, 'invalid handle',
                       "${class}::$m on $case->[0] croaks invalid handle");
            }
        }
        ok(scalar($class->can('SCALAR')->($plain)), "${class}::SCALAR needs no state (true on a plain blessed hash)");
    }
}

## Invalid handles: content copies and destroyed handles (3.2, 5.3, 5.4)

{
    my %calls = (
        create       => sub { $_[0]->create('/foo', '', acl => ZOO_OPEN_ACL_UNSAFE) },
        delete       => sub { $_[0]->delete('/foo') },
        exists       => sub { $_[0]->exists('/foo') },
        get_children => sub { $_[0]->get_children('/foo') },
        get          => sub { $_[0]->get('/foo') },
        set          => sub { $_[0]->set('/foo', '') },
        stat         => sub { $_[0]->stat() },
        watch        => sub { $_[0]->watch() },
        get_error    => sub { $_[0]->get_error() },
    );

    my $copy = bless { %$zkh }, 'Net::ZooKeeper';
    is(scalar(keys %$copy), 7, 'a content copy of a handle is a plain hash with 7 keys');

    my $dead = Net::ZooKeeper->new($hosts);
    is(scalar($dead->DESTROY), 1, 'DESTROY of a live handle returns true');

    my $dead_inner = Net::ZooKeeper->new($hosts);
    is(scalar(tied(%$dead_inner)->DESTROY), 1, 'DESTROY of a live inner handle returns true');

    my $inner = tied(%$zkh);

    for my $m (sort keys %calls) {
        croaks(sub { $calls{$m}->($copy) }, 'invalid handle', "$m on a content copy croaks invalid handle");
        croaks(sub { $calls{$m}->($dead) }, 'invalid handle', "$m on a destroyed handle croaks invalid handle");
        croaks(sub { $calls{$m}->($dead_inner) }, 'invalid handle', "$m on a handle whose inner was destroyed croaks invalid handle");
        croaks(sub { $calls{$m}->($inner) }, 'invalid handle', "$m on the inner object croaks invalid handle");
    }
    is(scalar($copy->DESTROY), '', 'DESTROY on a content copy returns false');
    is(scalar($dead->DESTROY), '', 'DESTROY on a destroyed handle returns false');
    is(scalar($dead_inner->DESTROY), '', 'DESTROY on an outer whose inner was destroyed returns false');
    is(scalar(tied(%$dead_inner)->DESTROY), '', 'DESTROY on a destroyed inner returns false');

    undef $copy;
    is($zkh->{hosts}, $hosts, 'freeing a content copy leaves the original handle working');
    is($zkh->exists('bad'), '', 'the original handle still accepts calls');
    is($zkh->get_error(), ZBADARGUMENTS, '... and reports their results');
}

## Client-side path validation -> ZBADARGUMENTS (11.1)

{
    my @bad_paths = (
        [ '',                 'an empty path' ],
        [ 'foo',              'a path without leading slash' ],
        [ '//',               'a path with an empty component' ],
        [ '/foo//bar',        'a path with an empty inner component' ],
        [ '/foo/',            'a path with a trailing slash' ],
        [ '/.',               'a path with a "." component' ],
        [ '/..',              'a path with a ".." component' ],
        [ '/foo/./bar',       'a path with an inner "." component' ],
        [ '/foo/../bar',      'a path with an inner ".." component' ],
        [ "/foo\x01",         'a path with byte 0x01' ],
        [ "/fo\x0ao",         'a path with a newline' ],
        [ "/foo\x1e",         'a path with byte 0x1E' ],
    );
    my %expect = (
        exists       => [ sub { scalar $zkh->exists($_[0]) },            '' ],
        delete       => [ sub { scalar $zkh->delete($_[0]) },            '' ],
        set          => [ sub { scalar $zkh->set($_[0], 'x') },          '' ],
        get          => [ sub { scalar $zkh->get($_[0]) },               undef ],
        get_children => [ sub { scalar $zkh->get_children($_[0]) },      undef ],
        create       => [ sub { scalar $zkh->create($_[0], 'x', acl => ZOO_OPEN_ACL_UNSAFE) }, undef ],
    );
    for my $case (@bad_paths) {
        my ($path, $what) = @$case;
        for my $m (sort keys %expect) {
            my ($code, $want) = @{ $expect{$m} };
            my $got = $code->($path);
            is($got, $want, "$m on $what fails");
            is($zkh->get_error(), ZBADARGUMENTS, "$m on $what gives ZBADARGUMENTS");
        }
    }

    my @list = $zkh->get_children('bad');
    is_deeply(\@list, [], 'get_children in list context returns () for a rejected path');
    @list = $zkh->get('bad');
    is_deeply(\@list, [undef], 'get in list context returns (undef) for a rejected path');
    @list = $zkh->create('bad', '', acl => ZOO_OPEN_ACL_UNSAFE);
    is_deeply(\@list, [undef], 'create in list context returns (undef) for a rejected path');
    @list = $zkh->exists('bad');
    is_deeply(\@list, [''], 'exists in list context returns (\'\') for a rejected path');

    # Without ZOO_SEQUENCE a trailing slash or final "." is rejected by create.
    for my $path ('/foo/', '/foo/.', '/foo/..') {
        is($zkh->create($path, '', acl => ZOO_OPEN_ACL_UNSAFE), undef, "create without ZOO_SEQUENCE rejects '$path'");
        is($zkh->get_error(), ZBADARGUMENTS, "... with ZBADARGUMENTS ('$path')");
    }
    # With ZOO_SEQUENCE the same paths pass, but an inner "." does not.
    for my $path ('/foo/./bar', '/foo//') {
        is($zkh->create($path, '', flags => ZOO_SEQUENCE, acl => ZOO_OPEN_ACL_UNSAFE), undef,
           "create with ZOO_SEQUENCE still rejects '$path'");
        is($zkh->get_error(), ZBADARGUMENTS, "... with ZBADARGUMENTS ('$path')");
    }
}

ok($zkh->DESTROY(), 'DESTROY on the test handle returns true');

done_testing();
