#!/usr/bin/perl
# Argument fuzzing: random values of every kind go into every function and
# method of Net::ZooKeeper, Net::ZooKeeper::Stat, Net::ZooKeeper::Watch,
# Net::ZooKeeper::Transaction, Net::ZooKeeper::PersistentWatch, Net::ZooKeeper::Cluster and
# Net::ZooKeeper::Cluster::Connection (all subs
# found in their symbol tables: methods, tie methods, constants, functions),
# as invocants, positional arguments, option names and option values, and
# into the attribute hashes of the objects as keys and values.  Values: undef,
# read-only constants, huge and negative numbers, inf/nan, strings with NULs,
# long strings, UTF-8 strings, valid and invalid paths, references of each type
# (scalar, array, hash, code, glob, regexp, ref to ref, lvalue), objects of our
# classes (live, destroyed, inner, content copies, subclasses, forged: plain
# data blessed into our classes) and of other classes (also with overloading
# that dies), tied scalars whose FETCH returns varying values (some of them
# destroying an object on the way), $1 after a match, substr lvalues, $!,
# dualvars and v-strings; operations of multi() and multi_read() (arrays of a
# name, a path, data and options, their elements any of those values, read only
# by the call).
#
# Each call runs in eval: it must croak or return normally, never crash or
# hang.  The calls run in a child process (talking to a private server); the
# parent checks that it exits normally, not by a signal, and kills it if it
# makes no progress for ZK_FUZZ_STALL seconds (default 60).  The child
# announces each phase (pool building, value generation, the call, freeing its
# values) before it starts it, so the parent knows where a child died; it then
# starts a new child at the next call, so one run reports every crash and hang,
# grouped by kind (with the first example of each).  After a call in which a
# tied value's FETCH destroyed an object, the child exercises the heap (to
# catch corruption there, blamed on that call) and a fresh child goes on.
#
# The seed is fixed and printed; ZK_FUZZ_SEED overrides it, ZK_FUZZ_CALLS the
# number of calls (default 20,000).  Each call is drawn from srand(seed, call
# number), so calls can be replayed: ZK_FUZZ_FROM=N starts at call N (in a
# fresh state), ZK_FUZZ_TRACE=FILE logs every call and its outcome.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/../t/lib";
use IO::Handle ();
use IO::Select ();
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Server;
use Net::ZooKeeper qw(:all :watch_modes :watch_types);
use Net::ZooKeeper::Cluster ();

$SIG{PIPE} = 'IGNORE';

my $SEED  = $ENV{ZK_FUZZ_SEED} // 20240917;
my $CALLS = $ENV{ZK_FUZZ_CALLS} || 20_000;
my $FROM  = $ENV{ZK_FUZZ_FROM} || 1;
my $STALL = $ENV{ZK_FUZZ_STALL} || 60;   # seconds without progress: the child hangs

my $srv = eval { ZKTest::Server->start };
unless ($srv) {
    my $why = 'cannot start a private server: ' . ($@ || $ZKTest::Server::ERROR || 'unknown');
    die $why if ZKTest::server_required();
    plan skip_all => $why;
}
my $HOSTS = $srv->hosts;
my $REFUSED = '127.0.0.1:' . ZKTest::Server::free_port();

diag("fuzz seed $SEED (ZK_FUZZ_SEED overrides it), calls $FROM .. $CALLS");

# The parent makes no handle of its own: it only runs and watches the children.

# ---------------------------------------------------------------------------
# Helper classes for values.

package Fuzz::Vary {    # FETCH returns a different kind of value each time
    my @v = (undef, 0, -1, 2**31, 'foo', '/fuzz/a', "a\0b", [], {}, 9**9**9, \'x', 'x' x 300);
    sub TIESCALAR { my $n = 0; return bless \$n, $_[0] }
    sub FETCH { my $s = shift; return $v[ $$s++ % @v ] }
    sub STORE { }
}
package Fuzz::Nasty {   # FETCH destroys a pooled object, then returns a value
    sub TIESCALAR { my ($class, $victim, $value) = @_; return bless [ $victim, $value ], $class }
    sub FETCH {
        my $s = shift;
        my $victim = $s->[0]->();
        eval { ref($victim) =~ /^Net::ZooKeeper/
                   && ((Scalar::Util::reftype($victim) // '') eq 'HASH' || ref($victim) eq 'Net::ZooKeeper::PersistentWatch')
                   and $victim->DESTROY and $main::DESTROYED_BY_FETCH = 1 };
        return $s->[1];
    }
    sub STORE { }
}
package Fuzz::Dies {    # FETCH dies
    sub TIESCALAR { return bless [], $_[0] }
    sub FETCH { die "FETCH dies\n" }
    sub STORE { die "STORE dies\n" }
}
package Fuzz::Over {    # overloaded conversions: varying or dying
    use overload
        '""'   => sub { my $s = shift; die "stringify dies\n" if $s->{die}; return $s->{n}++ % 2 ? '/fuzz/a' : "x\0y" },
        '0+'   => sub { my $s = shift; die "numify dies\n" if $s->{die}; return $s->{n}++ % 2 ? 2**40 : -5 },
        'bool' => sub { 1 },
        fallback => 1;
}
package Fuzz::TieHash {  # a hash tie class that ties to any object given
    sub TIEHASH { my ($class, $obj) = @_; return $obj }
}
package Fuzz::StdHash {
    require Tie::Hash;
    our @ISA = ('Tie::StdHash');
}
package Fuzz::Sub::ZooKeeper { our @ISA = ('Net::ZooKeeper') }
package Fuzz::Sub::Stat      { our @ISA = ('Net::ZooKeeper::Stat') }
package Fuzz::Sub::Watch     { our @ISA = ('Net::ZooKeeper::Watch') }
package Fuzz::Other          { sub new { bless {}, shift } }

package main;

# ---------------------------------------------------------------------------
# The child: the fuzz loop.

my @CLASSES = ('Net::ZooKeeper', 'Net::ZooKeeper::Stat', 'Net::ZooKeeper::Watch', 'Net::ZooKeeper::Transaction',
               'Net::ZooKeeper::PersistentWatch', 'Net::ZooKeeper::Cluster',
               'Net::ZooKeeper::Cluster::Connection');
my @OPTION_NAMES = qw(session_timeout session_id sasl_options tls_ca_file tls_cert_file
                      tls_key_file tls_verify_hostname path_read_len flags acl version stat
                      watch data_read_len timeout mode ttl queue type read_only callback);
# Operation names of multi() and multi_read(), valid and not.
my @OP_NAMES = qw(create delete set check get get_children CREATE Get_Children frob);
my @ATTR_KEYS = qw(data_read_len path_read_len watch_timeout hosts session_timeout session_id
                   pending_watches czxid mzxid ctime mtime version children_version acl_version
                   ephemeral_owner data_len num_children children_zxid timeout event state);

my %pool;          # the objects values are drawn from
my @IMMORTAL;      # values never freed (see rand_value)
my $pool_made = -1;

sub make_pool {
    my ($i) = @_;
    %pool = ();
    my $zkh = Net::ZooKeeper->new($HOSTS, session_timeout => 10000);
    $zkh->create($_, 'x', acl => ZOO_OPEN_ACL_UNSAFE) for '/fuzz', '/fuzz/a', '/fuzz/b';
    $pool{zkh} = $zkh;
    $pool{zkh_refused} = Net::ZooKeeper->new($REFUSED, session_timeout => 2000);
    $pool{zkh_sub} = Fuzz::Sub::ZooKeeper->new($HOSTS);
    $pool{stat} = $zkh->stat;
    $pool{watch} = $zkh->watch(timeout => 50);
    my $armed = $zkh->watch(timeout => 50);
    $zkh->exists('/fuzz/a', watch => $armed);
    $pool{watch_armed} = $armed;
    $pool{stat_sub} = bless $zkh->stat, 'Fuzz::Sub::Stat';
    $pool{watch_sub} = bless $zkh->watch, 'Fuzz::Sub::Watch';
    my $dead = Net::ZooKeeper->new($HOSTS);
    $dead->DESTROY;
    $pool{zkh_dead} = $dead;
    my $dead_stat = $zkh->stat;
    tied(%$dead_stat)->DESTROY;
    $pool{stat_dead_inner} = $dead_stat;
    my $dead_watch = $zkh->watch;
    $dead_watch->DESTROY;
    $pool{watch_dead} = $dead_watch;
    $pool{zkh_inner} = tied(%$zkh);
    $pool{stat_inner} = tied(%{ $pool{stat} });
    $pool{watch_inner} = tied(%{ $pool{watch} });
    $pool{zkh_copy} = bless { %$zkh }, 'Net::ZooKeeper';
    $pool{stat_copy} = bless { %{ $pool{stat} } }, 'Net::ZooKeeper::Stat';
    $pool{watch_copy} = bless { %{ $pool{watch} } }, 'Net::ZooKeeper::Watch';
    # A hash tied to another class's inner object, blessed into a class.
    for my $pair ([ zkh_tied_to_stat => 'Net::ZooKeeper', 'stat_inner' ],
                  [ stat_tied_to_watch => 'Net::ZooKeeper::Stat', 'watch_inner' ],
                  [ watch_tied_to_zkh => 'Net::ZooKeeper::Watch', 'zkh_inner' ]) {
        my ($name, $class, $inner) = @$pair;
        my %h;
        tie %h, 'Fuzz::TieHash', $pool{$inner};
        $pool{$name} = bless \%h, $class;
    }
    my %std;
    tie %std, 'Fuzz::StdHash';
    $pool{zkh_std_tied} = bless \%std, 'Net::ZooKeeper';
    # Persistent watches: live (recursive, plain, a small queue), removed,
    # destroyed, of a destroyed handle, and forged.
    $pool{pw} = $zkh->add_watch('/fuzz', mode => ZOO_WATCH_PERSISTENT_RECURSIVE);
    $pool{pw_plain} = $zkh->add_watch('/fuzz/a', queue => 1);
    my $removed = $zkh->add_watch('/fuzz/b');
    $removed->remove if $removed;
    $pool{pw_removed} = $removed;
    my $destroyed = $zkh->add_watch('/fuzz/b');
    $destroyed->DESTROY if $destroyed;
    $pool{pw_destroyed} = $destroyed;
    my $short = Net::ZooKeeper->new($HOSTS);
    $pool{pw_dead_handle} = $short->add_watch('/fuzz');
    $short->DESTROY;
    $pool{pw_forged} = bless \(my $pn = 0), 'Net::ZooKeeper::PersistentWatch';
    $pool{pw_forged_hash} = bless {}, 'Net::ZooKeeper::PersistentWatch';
    my $oneshot = $zkh->watch(timeout => 50);
    $zkh->get_children('/fuzz', watch => $oneshot);
    $pool{watch_child} = $oneshot;
    Net::ZooKeeper::Cluster::define('fuzz', $HOSTS, 1000);
    my ($rc, $conn) = Net::ZooKeeper::Cluster::acquire('fuzz');
    $pool{conn} = $conn if $conn;
    my (undef, $conn2) = Net::ZooKeeper::Cluster::acquire('fuzz');
    if ($conn2) { Net::ZooKeeper::Cluster::release($conn2); $pool{conn_released} = $conn2 }
    # A forged connection: a number blessed into the class (never freed, see rand_value).
    push @IMMORTAL, $pool{conn_forged} = bless \(my $n = 4242), 'Net::ZooKeeper::Cluster::Connection';
    $pool{cluster_name} = 'fuzz';
    $pool{hosts_string} = $HOSTS;
    $pool{class_name} = 'Net::ZooKeeper';
    $pool{txn} = $zkh->transaction->create('/fuzz/t', 'x', acl => ZOO_OPEN_ACL_UNSAFE)->set('/fuzz/t', 'y')
                     ->check('/fuzz/b')->delete('/fuzz/t');
    $pool{txn_empty} = $zkh->transaction;
    $pool_made = $i;
}

my @POOL_NAMES;
my @CURRENT;       # our objects among the arguments of the call being made
our $DESTROYED_BY_FETCH;   # a Fuzz::Nasty FETCH destroyed an object during the call

# A ref to a value of a random kind; $depth limits nesting.
sub rand_value {
    my ($depth) = @_;
    $depth //= 0;
    my $k = int rand 100;
    if ($k < 6)  { return \(my $x = undef) }
    if ($k < 8)  { return \undef }                                   # read-only undef
    if ($k < 18) {
        my @n = (0, 1, -1, 2, 31, 32, 2**31 - 1, 2**31, -2**31, -2**31 - 1, 2**32 - 1, 2**32,
                 2**33 + 5, 2**53 + 1, 2**63, -2**63, 2**64, 18446744073709551615, 1073741823,
                 1073741824, 0.5, -0.0, 1e300, -1e300, 9**9**9, -9**9**9, (9**9**9) / (9**9**9));
        return \(my $x = $n[ rand @n ]);
    }
    if ($k < 20) { return \1 }                                       # read-only constant
    if ($k < 38) {
        my @s = ('', 'foo', "\0", "a\0b", '/', '/fuzz', '/fuzz/a', '/fuzz/b', '/fuzz/new', "/fuzz/a\0b",
                 '/zookeeper', '/zookeeper/quota', '/fuzz/', '//fuzz', '/fuzz/./a', '/fuzz/..', "/fuzz/\x01",
                 "/fuzz/\x{263a}", "/fuzz/\xff\xfe", "\x{263a}\x{10ffff}", "\xff" x 8, 'x' x 10_000,
                 '12abc', ' 3 ', '0 but true', 'inf', 'nan', '-0', '0x10', '1e3', '4294967296',
                 '-2147483649', 'ZOK', 'ZOO_LOG_LEVEL_OFF', 'ZOO_OPEN_ACL_UNSAFE', 'world', 'anyone',
                 'digest', 'user:password', 'auth', 'ip', '127.0.0.1', 'sasl', $HOSTS, "$HOSTS/fuzz",
                 $REFUSED, 'localhost:0', '0.0.0.0:0', ',,,', '[::1]:1', "$HOSTS,$REFUSED",
                 '127.0.0.1:99999', '127.0.0.1:-1', 'no.such.host.invalid:2181', "\0" x 24,
                 join('', map { chr rand 256 } 1 .. 24), 'fuzz', 'DIGEST-MD5', '/etc/passwd',
                 '/nonexistent/file', uc $OPTION_NAMES[ rand @OPTION_NAMES ],
                 $OPTION_NAMES[ rand @OPTION_NAMES ], $ATTR_KEYS[ rand @ATTR_KEYS ],
                 ucfirst $ATTR_KEYS[ rand @ATTR_KEYS ]);
        my $s = $s[ rand @s ];
        return \$s;
    }
    if ($k < 40) { return \(my $x = 'y' x (1024 * 1024 + 100)) }     # longer than a ZooKeeper packet
    if ($k < 42) {                                                   # a real session_id
        my $h = $pool{zkh};
        return \(my $x = eval { $h->{session_id} } // '');
    }
    if ($k < 50 && $depth < 2) {                                     # containers
        my $kind = int rand 9;
        return \[] if $kind == 0;
        return \[ map { ${ rand_value($depth + 1) } } 0 .. rand 3 ] if $kind == 1;
        return \{} if $kind == 2;
        return \{ map { (${ rand_value($depth + 1) } // 'k') => ${ rand_value($depth + 1) } } 0 .. rand 3 }
            if $kind == 3;
        return \[ { perms => ${ rand_value($depth + 1) }, scheme => ${ rand_value($depth + 1) },
                    id => ${ rand_value($depth + 1) } } ] if $kind == 4;
        return \[ { perms => 31, scheme => 'world', id => 'anyone' }, ${ rand_value($depth + 1) } ]
            if $kind == 5;
        if ($kind == 6) { my @a; $a[3] = { perms => 31, scheme => 'world', id => 'anyone' }; return \\@a }
        return \ZOO_OPEN_ACL_UNSAFE if $kind == 7;
        return \{ user => 'u', password_file => ${ rand_value($depth + 1) }, mechlist => 'DIGEST-MD5',
                  service => 'zookeeper', host => 'x', realm => ${ rand_value($depth + 1) } };
    }
    if ($k < 58) {                                                   # other references
        my $kind = int rand 10;
        return \\'scalar' if $kind == 0;
        return \sub { 1 } if $kind == 1;
        return \\*STDOUT if $kind == 2;
        return \*STDOUT if $kind == 3;                               # a glob, not a reference
        return \qr/x/ if $kind == 4;
        return \\\1 if $kind == 5;
        if ($kind == 6) { my $s = 'abcdef'; return \\substr($s, 1, 2) }
        if ($kind == 7) { my %h; tie %h, 'Fuzz::StdHash'; $h{perms} = 31; return \\%h }
        if ($kind == 8) { require Tie::Array; my @a; tie @a, 'Tie::StdArray'; push @a, {}; return \\@a }
        return \(my $x = \my @empty);
    }
    return rand_op($depth) if $k < 62 && $depth < 2;                # operations of multi()
    if ($k < 70) {                                                   # blessed things
        my @classes = (@CLASSES, 'Fuzz::Other', 'Fuzz::Sub::ZooKeeper', 'Fuzz::Sub::Stat', 'Fuzz::Sub::Watch');
        my $class = $classes[ rand @classes ];
        my $kind = int rand 7;
        return \(bless {}, $class) if $kind == 0;
        return \(bless [], $class) if $kind == 1;
        if ($kind == 2) {
            my $obj = bless \(my $x = (0, 1, 12345, -1, 2**40, 'abc')[ rand 6 ]), $class;
            # A forged Cluster::Connection holding a number is never freed: its
            # automatic DESTROY would crash wherever it happens to be freed
            # (inside containers, hashes, the pool), hiding what the crash is.
            # Calls of DESTROY on it are still made, and reported.
            push @IMMORTAL, $obj if $class eq 'Net::ZooKeeper::Cluster::Connection' && $$obj && $$obj ne 'abc';
            return \$obj;
        }
        return \(bless sub { 1 }, $class) if $kind == 3;
        return \(bless qr/x/, $class) if $kind == 4;
        return \(bless { session_id => 'x', timeout => 5 }, $class) if $kind == 5;
        return \(bless { die => 1 }, 'Fuzz::Over');
    }
    if ($k < 84) {                                                   # our objects
        my $name = $POOL_NAMES[ rand @POOL_NAMES ];
        return \(my $x = $pool{$name});
    }
    # magical scalars
    my $kind = int rand 8;
    if ($kind == 0) { tie my $t, 'Fuzz::Vary'; return \$t }
    if ($kind == 1) {
        my $value = ${ rand_value($depth + 1) };
        tie my $t, 'Fuzz::Nasty',
            sub { @CURRENT && rand() < 0.7 ? $CURRENT[ rand @CURRENT ] : $pool{ $POOL_NAMES[ rand @POOL_NAMES ] } },
            $value;
        return \$t;
    }
    if ($kind == 2) { tie my $t, 'Fuzz::Dies'; return \$t }
    if ($kind == 3) { 'x/fuzz/a' =~ m{(/fuzz/\w)}; return \$1 }
    if ($kind == 4) { my $s = "/fuzz/a/b"; return \substr($s, 0, 7) }
    if ($kind == 5) { $! = 2; return \$! }
    if ($kind == 6) { return \(my $x = Scalar::Util::dualvar(5, '/fuzz/a')) }
    return \(my $x = v1.22.333);
}

# Argument lists are passed by alias, so that tied and magical values reach
# the subs as they are (not copied, which would FETCH them).
my @ALIAS = map {
    my $n = $_;
    eval 'sub { my $r = $_[0]; sub { \@_ }->(' . join(',', map { "\${\$r->[$_]}" } 0 .. $n - 1) . ') }'
        or die $@;
} 0 .. 24;

# A short description of a value, for the crash report.
sub describe {
    my ($ref) = @_;
    return '$1' if defined $1 && \$1 == $ref;
    my $t = tied $$ref;
    return 'tied ' . ref($t) if $t;
    my $v = $$ref;
    return 'undef' unless defined $v;
    return 'LVALUE' if ref $ref eq 'LVALUE';
    if (ref $v) {
        for my $name (sort keys %pool) {
            return "<pool $name>" if ref $pool{$name}
                && Scalar::Util::refaddr($pool{$name}) == Scalar::Util::refaddr($v);
        }
        my $type = Scalar::Util::reftype($v);
        my $inner = $type eq 'SCALAR' ? '=' . (defined $$v ? $$v : 'undef') : '';
        if ($type eq 'ARRAY' && !tied @$v && @_ < 2 && @$v) {
            $inner = '[' . join(', ', map { describe(\$v->[$_], 1) } grep { exists $v->[$_] } 0 .. $#$v) . ']';
        }
        elsif ($type eq 'HASH' && !tied %$v && @_ < 2 && %$v && !Scalar::Util::blessed($v)) {
            $inner = '{' . join(', ', map { "$_ => " . describe(\$v->{$_}, 1) } sort keys %$v) . '}';
        }
        return Scalar::Util::blessed($v) ? 'bless(' . Scalar::Util::reftype($v) . "$inner, '" . ref($v) . "')"
                                         : ref($v) . $inner;
    }
    my $s = eval { "$v" } // '(stringification died)';
    $s = substr($s, 0, 40) . '...(' . length($s) . ')' if length $s > 40;
    $s =~ s/([^\x20-\x7e])/sprintf(ord($1) > 255 ? '\x{%x}' : '\x%02x', ord $1)/ge;
    return "'$s'";
}

# The subs to call: everything defined in our packages' symbol tables (subs
# imported from elsewhere, such as Carp's croak, are left out), in two groups:
# constants, and everything else.
my %TIE_METHODS = map { $_ => 1 } qw(TIEHASH UNTIE FIRSTKEY NEXTKEY SCALAR FETCH STORE EXISTS DELETE
                                     CLEAR DESTROY CLONE CLONE_SKIP);
sub all_subs {
    my (@constants, @others);
    require B;
    no strict 'refs';
    for my $pkg (@CLASSES) {
        for my $name (sort keys %{"${pkg}::"}) {
            next if $name =~ /^(?:BEGIN|END|INIT|CHECK|UNITCHECK|AUTOLOAD|import|unimport|bootstrap|dl_load_flags)\z/;
            next if $name =~ /::\z/;
            my $full = "${pkg}::$name";
            next unless defined &{$full};
            my $gv = B::svref_2object(\&{$full})->GV;
            next if $gv->isa('B::GV') && $gv->STASH->NAME ne $pkg;   # imported
            if ($name =~ /^[A-Z][A-Z0-9_]*\z/ && !$TIE_METHODS{$name}) { push @constants, $full }
            else                                                         { push @others, $full }
        }
    }
    return (\@constants, \@others);
}

# How many positional arguments (invocant included) each sub takes, and
# whether options follow.
my %ARITY = (
    new => [2, 1], DESTROY => [1, 0], get_error => [1, 0], add_auth => [3, 0], create => [3, 1],
    delete => [2, 1], exists => [2, 1], get_children => [2, 1], get => [2, 1], get_many => [3, 0],
    set => [3, 1], get_acl => [2, 1], set_acl => [3, 1], stat => [1, 0], watch => [1, 1],
    set_log_level => [1, 0], set_deterministic_conn_order => [1, 0], CLONE => [1, 0],
    CLONE_SKIP => [1, 0], TIEHASH => [1, 1], UNTIE => [2, 0], FIRSTKEY => [1, 0], NEXTKEY => [2, 0],
    SCALAR => [1, 0], FETCH => [2, 0], STORE => [3, 0], EXISTS => [2, 0], DELETE => [2, 0],
    CLEAR => [1, 0], wait => [1, 1], define => [3, 0], hosts_error => [1, 0], lookup => [1, 0],
    acquire => [1, 0], tryacquire => [1, 0], release => [1, 0], error => [3, 0], error_text => [3, 0],
    _define => [3, 0], _check_hosts => [1, 0], _lookup => [1, 0], _acquire => [2, 0],
    _is_connection => [1, 0], name => [1, 0], hosts => [1, 0], recv_timeout => [1, 0],
    generation => [1, 0], released => [1, 0], _fetch => [2, 0], handle => [1, 0], _release => [1, 0],
    _error => [2, 0], multi => [3, 0], multi_read => [3, 0], transaction => [1, 0], check => [2, 1],
    commit => [1, 0], ops => [1, 0], _add => [2, 1],
    add_watch => [2, 1], remove_watches => [2, 1], remove_all_watches => [2, 1],
    pending => [1, 0], dropped => [1, 0], path => [1, 0], mode => [1, 0], remove => [1, 0],
    sync => [2, 0], get_ephemerals => [2, 0], get_all_children_number => [2, 0], whoami => [1, 0],
    get_config => [1, 1], state => [1, 0],
);
# Plausible values for positional arguments after the first, by sub.
my $path = sub { ('/fuzz/a', '/fuzz/b', '/fuzz/n', '/fuzz', '/', '/zookeeper')[ rand 6 ] };
my $data = sub { ('data', '', "a\0b")[ rand 3 ] };
my $key  = sub { my $k = $ATTR_KEYS[ rand @ATTR_KEYS ]; rand() < 0.3 ? uc $k : $k };
my $code = sub { (0, -4, -9, -101, -112, -1)[ rand 6 ] };
my $op   = sub { ${ rand_op(0) } };

# A ref to an operation of multi() or multi_read(): an array of a name, a path,
# data and options, mostly plausible, whose elements are aliases of the values
# (so that a tied or magical value is read only by the call).
sub rand_op {
    my ($depth) = @_;
    my @values = (rand() < 0.9 ? \(my $n = $OP_NAMES[ rand @OP_NAMES ]) : rand_value($depth + 1));
    push @values, rand() < 0.7 ? \(my $p = $path->()) : rand_value($depth + 1) if rand() < 0.95;
    push @values, rand() < 0.7 ? \(my $d = $data->()) : rand_value($depth + 1) if rand() < 0.6;
    for (1 .. rand 3) {
        push @values, rand() < 0.8 ? \(my $o = $OPTION_NAMES[ rand @OPTION_NAMES ]) : rand_value($depth + 1);
        push @values, rand_value($depth + 1) if rand() < 0.95;
    }
    my $array = $ALIAS[@values]->(\@values);
    return \$array;
}
my %PLAUSIBLE = (
    new => [ sub { ($HOSTS, $REFUSED, "$HOSTS/fuzz")[ rand 3 ] } ],
    add_auth => [ sub { 'digest' }, sub { 'u:p' } ],
    create => [ $path, $data ], delete => [ $path ], exists => [ $path ], get_children => [ $path ],
    get => [ $path ], get_many => [ $path, $path ], set => [ $path, $data ], get_acl => [ $path ],
    set_acl => [ $path, sub { ZOO_OPEN_ACL_UNSAFE } ],
    multi => [ $op, $op ], multi_read => [ $op, $op ], check => [ $path ],
    NEXTKEY => [ $key ], FETCH => [ $key ], STORE => [ $key, sub { (0, 100, 2**31, -1)[ rand 4 ] } ],
    EXISTS => [ $key ], DELETE => [ $key ],
    define => [ sub { ($HOSTS, $REFUSED)[ rand 2 ] }, sub { (1000, 0, 2**31)[ rand 3 ] } ],
    error => [ $code, sub { 'msg' } ], error_text => [ $code, sub { 'msg' } ], _error => [ $code ],
    _fetch => [ sub { int(rand 8) - 2 } ], _acquire => [ sub { int rand 2 } ],
    add_watch => [ $path ], remove_watches => [ $path ], remove_all_watches => [ $path ],
);

# Pool objects a sub's first argument is usually drawn from.
sub preferred_pool {
    my ($sub) = @_;
    my ($pkg, $name) = $sub =~ /^(.*)::(\w+)\z/;
    my $tie = $TIE_METHODS{$name} && $name !~ /^(?:DESTROY|CLONE|CLONE_SKIP)\z/;
    return $tie ? [qw(zkh_inner zkh_sub zkh)] : [qw(zkh zkh zkh zkh_sub zkh_refused zkh_dead zkh_copy)]
        if $pkg eq 'Net::ZooKeeper';
    return $tie ? [qw(stat_inner stat)] : [qw(stat stat_sub stat_dead_inner stat_copy)]
        if $pkg eq 'Net::ZooKeeper::Stat';
    return $tie ? [qw(watch_inner watch)] : [qw(watch watch_armed watch_sub watch_dead watch_copy)]
        if $pkg eq 'Net::ZooKeeper::Watch';
    return [qw(conn conn conn_released conn_forged)] if $pkg eq 'Net::ZooKeeper::Cluster::Connection';
    return [qw(txn txn txn_empty zkh)] if $pkg eq 'Net::ZooKeeper::Transaction';
    return [qw(pw pw pw_plain pw_removed pw_destroyed pw_dead_handle pw_forged pw_forged_hash)]
        if $pkg eq 'Net::ZooKeeper::PersistentWatch';
    return $name =~ /^(?:release|error|error_text|_is_connection)\z/ ? [qw(conn conn conn_released conn_forged)]
         : $name =~ /^(?:lookup|acquire|tryacquire|_lookup|_acquire|define|_define)\z/ ? [qw(cluster_name)]
         : [qw(hosts_string)];
}

sub attr_op {
    my ($obj, $key, $val) = @_;
    my $kind = int rand 10;
    my $h = $$obj;
    return 'read', sub { my $x = $h->{$$key} } if $kind < 3;
    return 'store', sub { $h->{$$key} = $$val } if $kind < 6;
    return 'exists', sub { my $x = exists $h->{$$key} } if $kind == 6;
    return 'delete', sub { delete $h->{$$key} } if $kind == 7;
    return 'keys/each/scalar', sub { my @k = keys %$h; my @e = each %$h; my $s = scalar %$h; my %c = %$h } if $kind == 8;
    my $sub = int rand 3;
    return 'clear', sub { %$h = () } if $sub == 0;
    return 'assign pairs', sub { %$h = ($$key, $$val) } if $sub == 1;
    return 'untie/tie', sub { eval { untie %$h }; tie %$h, ref($h) || 'Net::ZooKeeper' };
}

sub child {
    my ($from, $out) = @_;
    open STDERR, '>>', "$srv->{dir}/fuzz-child.err";
    STDERR->autoflush(1);
    $SIG{__WARN__} = sub { };
    my ($constants, $methods) = all_subs();
    my ($croaked, $returned, $skipped) = (0, 0, 0);
    my $trace;
    if ($ENV{ZK_FUZZ_TRACE}) {
        open $trace, '>>', $ENV{ZK_FUZZ_TRACE} or die "cannot write $ENV{ZK_FUZZ_TRACE}: $!";
        $trace->autoflush(1);
    }
    for my $i ($from .. $CALLS) {
        srand($SEED * 1_000_003 + $i);
        if ($pool_made < 0 || $i - $pool_made >= 50 || !eval { $pool{zkh}->get_error; 1 }) {
            syswrite $out, "P $i\n";
            make_pool($i);
        }
        @POOL_NAMES = sort keys %pool;
        syswrite $out, "G $i\n";
        my ($desc, $code, @keep);
        my $made = eval {
            if (rand() < 0.03) {                                   # re-entrancy: FETCH destroys an argument
                my @forms = (
                    [ 'Net::ZooKeeper::exists', 'zkh', [ '/fuzz/a' ], 'stat', 'stat' ],
                    [ 'Net::ZooKeeper::exists', 'zkh', [ '/fuzz/a' ], 'watch', 'watch' ],
                    [ 'Net::ZooKeeper::get', 'zkh', [ '/fuzz/a' ], 'stat', 'stat' ],
                    [ 'Net::ZooKeeper::get', 'zkh', [ '/fuzz/a' ], 'watch', 'watch' ],
                    [ 'Net::ZooKeeper::get_children', 'zkh', [ '/fuzz' ], 'watch', 'watch' ],
                    [ 'Net::ZooKeeper::set', 'zkh', [ '/fuzz/a', 'x' ], 'stat', 'stat' ],
                    [ 'Net::ZooKeeper::get_acl', 'zkh', [ '/fuzz/a' ], 'stat', 'stat' ],
                    [ 'Net::ZooKeeper::multi', 'zkh', [ [ 'set', '/fuzz/a', 'x', 'version', 'NASTY' ], [ 'check', '/fuzz/b' ] ],
                      undef, 'zkh' ],
                    [ 'Net::ZooKeeper::multi', 'zkh', [ [ 'create', '/fuzz/c', 'x', 'acl', 'NASTY' ], [ 'check', 'NASTY' ] ],
                      undef, 'zkh' ],
                    [ 'Net::ZooKeeper::multi_read', 'zkh', [ [ 'get', '/fuzz/a' ], [ 'get', '/fuzz/b', 'data_read_len', 'NASTY' ] ],
                      undef, 'zkh' ],
                    [ 'Net::ZooKeeper::get', 'zkh', [ '/fuzz/a' ], undef, 'zkh' ],
                    [ 'Net::ZooKeeper::Watch::wait', 'watch_armed', [], undef, 'watch_armed' ],
                    [ 'Net::ZooKeeper::PersistentWatch::wait', 'pw', [], undef, 'pw' ],
                    [ 'Net::ZooKeeper::add_watch', 'zkh', [ '/fuzz' ], undef, 'zkh' ],
                    [ 'Net::ZooKeeper::remove_watches', 'zkh', [ '/fuzz' ], 'watch', 'watch_child' ],
                    [ 'Net::ZooKeeper::remove_all_watches', 'zkh', [ '/fuzz' ], undef, 'zkh' ],
                    [ 'Net::ZooKeeper::FETCH', 'zkh_inner', [ 'NASTY' ], undef, 'zkh' ],
                    [ 'Net::ZooKeeper::STORE', 'zkh_inner', [ 'data_read_len', 'NASTY' ], undef, 'zkh' ],
                    [ 'Net::ZooKeeper::Stat::FETCH', 'stat_inner', [ 'NASTY' ], undef, 'stat' ],
                    [ 'Net::ZooKeeper::Watch::STORE', 'watch_inner', [ 'timeout', 'NASTY' ], undef, 'watch' ],
                );
                my ($sub, $inv, $pos, $opt, $victim_name) = @{ $forms[ rand @forms ] };
                my $victim = $pool{$victim_name};
                tie my $nasty, 'Fuzz::Nasty', sub { $victim }, (0, 100, '/fuzz/a', 'timeout')[ rand 4 ];
                my @args = (\(my $x = $pool{$inv}));
                # An operation (array) with NASTY in it is an array aliasing $nasty there.
                my $arg = sub { $_[0] eq 'NASTY' ? \$nasty : \(my $p = $_[0]) };
                push @args, map {
                    ref $_ ? \(my $array = $ALIAS[@$_]->([ map { $arg->($_) } @$_ ])) : $arg->($_)
                } @$pos;
                push @args, \(my $o = $opt), \(my $ov = $pool{$opt}) if $opt;
                push @args, \(my $n = (qw(data_read_len version timeout path_read_len))[ rand 4 ]), \$nasty
                    unless grep { $_ eq 'NASTY' } map { ref $_ ? @$_ : $_ } @$pos;
                @keep = @args;
                my $aliased = $ALIAS[@args]->(\@args);
                $desc = "$sub(" . join(', ', map { describe($_) } @args) . ')';
                no strict 'refs';
                my $fn = \&{$sub};
                $code = sub { my @r = $fn->(@$aliased) };
            }
            elsif (rand() < 0.15) {                                # the attribute hashes
                my $obj = rand() < 0.8 ? \(my $x = $pool{ $POOL_NAMES[ rand @POOL_NAMES ] }) : rand_value();
                my $key = rand() < 0.6 ? \(my $k = $ATTR_KEYS[ rand @ATTR_KEYS ]) : rand_value();
                my $val = rand_value();
                @keep = ($obj, $key, $val);
                my $what;
                ($what, $code) = attr_op($obj, $key, $val);
                $desc = "$what on " . describe($obj) . ', key ' . describe($key) . ', value ' . describe($val);
            }
            else {
                my $sub = rand() < 0.05 ? $constants->[ rand @$constants ] : $methods->[ rand @$methods ];
                my @args;
                # invocant or first argument: mostly an object of the sub's class
                if (rand() < 0.95) {
                    my $pref = preferred_pool($sub);
                    my $r = rand;
                    push @args, $r < 0.6 ? \(my $x = $pool{ $pref->[ rand @$pref ] })
                              : $r < 0.8 ? \(my $y = $pool{ $POOL_NAMES[ rand @POOL_NAMES ] })
                              :            rand_value();
                }
                if ($sub =~ /::(?:new|TIEHASH|CLONE|CLONE_SKIP)\z/ && rand() < 0.7) {
                    my @classes = (@CLASSES, 'Fuzz::Sub::ZooKeeper', 'Fuzz::Other');
                    $args[0] = \(my $c = $classes[ rand @classes ]);
                }
                # positional arguments: mostly as many as the sub takes, plausible or random
                my ($name) = $sub =~ /(\w+)\z/;
                my ($arity, $opts) = @{ $ARITY{$name} // [ 1, 0 ] };
                my $count = rand() < 0.85 ? $arity : int rand 6;
                while (@args < $count) {
                    my $slot = @args;
                    my $plausible = $PLAUSIBLE{$name} && $PLAUSIBLE{$name}[ $slot - 1 ];
                    push @args, $plausible && rand() < 0.5 ? \(my $p = $plausible->()) : rand_value();
                }
                # options
                if ($opts || rand() < 0.1) {
                    for (1 .. int rand 4) {
                        my $oname = rand() < 0.8 ? $OPTION_NAMES[ rand @OPTION_NAMES ] : undef;
                        $oname = uc $oname if defined $oname && rand() < 0.2;
                        push @args, defined $oname ? \$oname : rand_value();
                        push @args, rand_value() if rand() < 0.95;
                    }
                }
                $#args = 24 if @args > 25;
                @keep = @args;
                my $aliased = $ALIAS[@args]->(\@args);
                $desc = "$sub(" . join(', ', map { describe($_) } @args) . ')';
                no strict 'refs';
                my $fn = \&{$sub};
                $code = sub { my @r = $fn->(@$aliased) };
            }
            1;
        };
        unless ($made) {                   # e.g. an overloaded value died while generating
            syswrite $out, "F $i\n";
            @keep = ();
            $code = $desc = undef;
            $skipped++;
            next;
        }
        $desc =~ s/([^\x20-\x7e])/sprintf('\x{%x}', ord $1)/ge;
        @CURRENT = grep { my $c = Scalar::Util::blessed($_); $c && $c =~ /^(?:Net::ZooKeeper|Fuzz::Sub)/ }
                   map { ref $_ eq 'SCALAR' && !tied $$_ ? $$_ : () } @keep;
        syswrite $out, "C $i $desc\n";
        my $ok = eval {
            local $SIG{ALRM} = sub { die "fuzz-alarm\n" };
            Time::HiRes::alarm(0.2);
            $code->();
            Time::HiRes::alarm(0);
            1;
        };
        Time::HiRes::alarm(0);
        $ok ? $returned++ : $croaked++;
        syswrite $out, "F $i " . ($ok ? 'returned' : 'croaked') . "\n";   # the values are freed now
        print {$trace} "$i ", ($ok ? 'returned' : "croaked: $@"), " $desc\n" if $trace;
        @keep = @CURRENT = ();
        $code = undef;
        if ($DESTROYED_BY_FETCH) {
            # An object was destroyed while the call was using it.  If that
            # corrupted memory, find out now (free and allocate a lot), then
            # start afresh in a new child, so that later calls are not blamed.
            syswrite $out, "T $i\n";
            %pool = ();
            my @junk = map { 'j' x ($_ * 7) } 1 .. 3000;
            @junk = ();
            syswrite $out, "X $i\n";
            POSIX::_exit(3);
        }
    }
    syswrite $out, "P end\n";
    %pool = ();
    syswrite $out, "DONE $croaked $returned $skipped\n";
}

# ---------------------------------------------------------------------------
# The parent: runs children until all calls are made.

# Crashes are grouped by what the call involved, so that one bug that many
# calls hit does not hide the others.
sub crash_group {
    my ($desc) = @_;
    return 'a forged Net::ZooKeeper::Cluster::Connection (a blessed scalar holding a non-zero number)'
        if $desc =~ /bless\(SCALAR=(?!0\b|abc\b)[^,]*, 'Net::ZooKeeper::Cluster::Connection'\)|<pool conn_forged>/;
    return 'a tied value whose FETCH destroys an object the call is using'
        if $desc =~ /tied Fuzz::Nasty/;
    return 'a tied hash (such as one of our objects) as the value of sasl_options'
        if $desc =~ /'sasl_options', (?:<pool \w+>|HASH)[,)]/i;
    return "other: $desc";
}

my (%groups, @group_order, @problems, $croaked, $returned, $skipped, $crashes, $hangs);
my $MAX_OTHER = 10;
my $t0 = Time::HiRes::time();
my $from = $FROM;
while ($from <= $CALLS) {
    pipe(my $r, my $w) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $r;
        my $ok = eval { child($from, $w); 1 };
        (my $err = $@ // '') =~ s/\n/ /g;
        syswrite $w, "ERROR $err\n" unless $ok;
        POSIX::_exit($ok ? 0 : 2);
    }
    close $w;
    my $sel = IO::Select->new($r);
    my ($phase, $call_desc, $done, $buf, $hung) = ("P $from", '', undef, '', 0);
    my $deadline = Time::HiRes::time() + $STALL;
    while (1) {
        my $left = $deadline - Time::HiRes::time();
        if ($left <= 0) { $hung = 1; kill 'KILL', $pid; last }
        next unless $sel->can_read($left < 5 ? $left : 5);
        my $n = sysread $r, $buf, 65536, length $buf;
        last unless $n;
        $deadline = Time::HiRes::time() + $STALL;
        while ($buf =~ s/^([^\n]*)\n//) {
            my $line = $1;
            if ($line =~ /^F (\d+) (\w+)/) { $phase = "F $1"; $2 eq 'returned' ? $returned++ : $croaked++ }
            elsif ($line =~ /^([PGFTX]) (\S+)/) { $phase = "$1 $2" }
            elsif ($line =~ /^C (\d+) (.*)/) { $phase = "C $1"; $call_desc = $2 }
            elsif ($line =~ /^DONE (\d+) (\d+) (\d+)/) { $done = 1; $skipped += $3 }
            elsif ($line =~ /^ERROR (.*)/) { push @problems, "child failed: $1" }
        }
    }
    close $r;
    waitpid $pid, 0;
    my $status = $?;
    last if $done && !$hung && !POSIX::WIFSIGNALED($status);
    my ($what, $i) = split / /, $phase;
    if ($what eq 'X' && !$hung && POSIX::WIFEXITED($status) && POSIX::WEXITSTATUS($status) == 3) {
        $from = $i + 1;                     # a fresh child after a call that destroyed an object
        next;
    }
    my $where = $what eq 'P' ? ($i eq 'end' ? 'after the last call, freeing the object pool'
                                            : "building the object pool before call $i")
              : $what eq 'G' ? "generating the values of call $i"
              : $what eq 'C' ? "call $i: $call_desc"
              : $what eq 'T' ? "freeing and allocating memory after call $i (the heap was corrupted by it): $call_desc"
              :                "freeing the values of call $i (automatic DESTROY): $call_desc";
    if ($hung || POSIX::WIFSIGNALED($status)) {
        $hung ? $hangs++ : $crashes++;
        my $err = '';
        if (open my $fh, '<', "$srv->{dir}/fuzz-child.err") {
            my @l = grep { /\S/ } <$fh>;
            $err = $l[-1] // '';
            chomp $err;
        }
        truncate "$srv->{dir}/fuzz-child.err", 0;
        my $group = ($hung ? 'HANG: ' : '') . crash_group($where);
        push @group_order, $group unless $groups{$group};
        my $how = $hung ? "no progress for ${STALL}s" : 'signal ' . POSIX::WTERMSIG($status);
        my $g = $groups{$group} //= { count => 0, first => "$how in $where" . (length $err ? " [stderr: $err]" : '') };
        $g->{count}++;
        my $others = grep { /^(?:HANG: )?other/ } keys %groups;
        if ($others > $MAX_OTHER) { push @problems, "more than $MAX_OTHER distinct crashes or hangs; stopped"; last }
    }
    else {
        push @problems, 'child exited with status ' . ($status >> 8) . " without finishing, in $where";
    }
    last if @problems;
    $from = $what eq 'P' && $i eq 'end' ? $CALLS + 1 : $i + 1;
}
my $elapsed = Time::HiRes::time() - $t0;

diag(sprintf 'fuzz seed %d: calls %d .. %d in %.1f s: %d croaked, %d returned, %d skipped, %d crashed the process, %d hung',
     $SEED, $FROM, $CALLS, $elapsed, $croaked // 0, $returned // 0, $skipped // 0, $crashes // 0, $hangs // 0);
my @report = map { sprintf '%dx %s; first: %s', $groups{$_}{count}, $_, $groups{$_}{first} } @group_order;
is_deeply(\@report, [], 'no call crashes or hangs the process: each one croaks or returns')
    or diag(join "\n", "crashes, by kind (reproduce with ZK_FUZZ_SEED=$SEED ZK_FUZZ_FROM=N ZK_FUZZ_CALLS=N):", @report);
is_deeply(\@problems, [], 'the fuzz children ran to completion (no other failure)');

ok($srv->stop, 'stop the private server');

done_testing();
