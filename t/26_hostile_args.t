#!/usr/bin/perl
# Hostile arguments: Perl code that runs while a call converts its arguments
# (a tied variable's FETCH, an overloaded value, a signal handler between the
# steps of wait()) and reassigns, undefines or destroys what the same call was
# given.  Every object argument is taken once, when it is looked up, and held
# for the call; strings are copied when converted.  So such code never crashes
# the interpreter: the call goes on with what it was given, or croaks as it
# would have for a bad argument.  And wait() always reports the watch that its
# invocant names when it returns: its result agrees with that watch's event.
#
# Also: new() leaves $! 0 when it returns a handle, as the original did, so a
# later die() exits with 255 rather than with a stale errno.
#
# Each hostile case runs in a child process with its own handle, so that a
# crash fails the case (and the file) instead of ending the run.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Data::Dumper ();
use Errno ();
use File::Spec ();
use POSIX ();
use Time::HiRes ();

use ZKTest;
use ZKTest::Util qw(delete_tree reap unused_local_host);
use Net::ZooKeeper qw(:errors :acls :acl_perms :events :states);

$SIG{PIPE} = 'IGNORE';

# A value whose numeric, string or boolean conversion runs CODE (once).
package Hostile {
    use overload
        '0+'     => sub { $_[0]->run; $_[0]{value} },
        '""'     => sub { $_[0]->run; "$_[0]{value}" },
        'bool'   => sub { $_[0]->run; !!$_[0]{value} },
        fallback => 1;
    sub new { my ($class, $value, $code) = @_; return bless { value => $value, code => $code }, $class }
    sub run { my $code = delete $_[0]{code}; $code->() if $code; return }
}

# A tied scalar whose FETCH runs CODE (once) and returns VALUE.
package Hostile::Tied {
    sub TIESCALAR { my ($class, $value, $code) = @_; return bless { value => $value, code => $code }, $class }
    sub FETCH { my $code = delete $_[0]{code}; $code->() if $code; return $_[0]{value} }
    sub STORE { $_[0]{value} = $_[1]; return }
}

package main;

my $hosts = ZKTest::server_hosts();
my $root  = ZKTest::test_root();

my $zkh = Net::ZooKeeper->new($hosts);
isa_ok($zkh, 'Net::ZooKeeper') or BAIL_OUT('cannot create a handle');

my $DATA = 'hostile-data';
my $node = "$root/node";
is($zkh->create($root, '', acl => ZOO_OPEN_ACL_UNSAFE), $root, "create $root");
is($zkh->create($node, $DATA, acl => ZOO_OPEN_ACL_UNSAFE), $node, "create $node");

# Runs CODE in a child process; returns (the child's wait status, the list CODE
# returned, or undef if it died or crashed, and its exception).
sub isolated {
    my ($code) = @_;
    pipe(my $rd, my $wr) or die "pipe: $!";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if (!$pid) {
        close $rd;
        my @r = eval { $code->() };
        my $err = $@;
        local $Data::Dumper::Terse  = 1;
        local $Data::Dumper::Indent = 0;
        local $Data::Dumper::Useqq  = 1;
        print {$wr} Data::Dumper::Dumper([ $err eq '' ? \@r : undef, $err ]);
        close $wr;
        POSIX::_exit(0);
    }
    close $wr;
    my $text = do { local $/; <$rd> };
    close $rd;
    my $status = reap($pid, 120);
    my $got = defined $text && length $text ? eval $text : [ undef, '(nothing reported)' ];
    return ($status, @$got);
}

# Runs CODE in a child: the child must exit normally and CODE must return
# EXPECT (compared with is_deeply), or die with a message matching EXPECT if it
# is a Regexp.
sub hostile_ok {
    my ($name, $code, $expect) = @_;
    my ($status, $got, $err) = isolated($code);
    my $how = !defined $status ? 'did not finish'
            : $status & 127    ? 'was killed by signal ' . ($status & 127)
            : $status          ? 'exited with ' . ($status >> 8)
            :                    '';
    subtest $name => sub {
        plan tests => 2;
        is($how, '', 'the child process ends normally (no crash)');
        if (ref $expect eq 'Regexp') {
            like($err // '', $expect, 'the call croaks');
        }
        else {
            is_deeply($got, $expect, 'the call returns what it would have')
                or diag("exception: $err");
        }
    };
}

# What the hostile code does to the variable: four ways to lose an object.
my %LOSE = (
    'reassigned to 0' => sub { ${ $_[0] } = 0 },
    'undefined'       => sub { undef ${ $_[0] } },
    'reassigned to another object' => sub { ${ $_[0] } = $_[1]->() },
    'destroyed'       => sub { ${ $_[0] }->DESTROY },
);

## 1. stat and watch options lost while a later option is converted

for my $how (sort keys %LOSE) {
    my $lose = $LOSE{$how};

    # The reported crash: get(watch => $W, data_read_len => $overloaded).
    hostile_ok("get: the watch is $how by an overloaded data_read_len", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $W = $h->watch;
        my $n = Hostile->new(7, sub { $lose->(\$W, sub { $h->watch }) });
        my $data = $h->get($node, watch => $W, data_read_len => $n);
        return ($data, $h->{pending_watches});
    }, [ substr($DATA, 0, 7), 1 ]);

    hostile_ok("get: the watch is $how by a tied data_read_len", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $W = $h->watch;
        tie my $n, 'Hostile::Tied', 7, sub { $lose->(\$W, sub { $h->watch }) };
        my $data = $h->get($node, watch => $W, data_read_len => $n);
        return ($data, $h->{pending_watches});
    }, [ substr($DATA, 0, 7), 1 ]);

    hostile_ok("get: the stat is $how by an overloaded data_read_len", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $S = $h->stat;
        my $n = Hostile->new(7, sub { $lose->(\$S, sub { $h->stat }) });
        return scalar $h->get($node, stat => $S, data_read_len => $n);
    }, [ substr($DATA, 0, 7) ]);

    hostile_ok("get: stat and watch are $how by a tied stat", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my ($W, $S) = ($h->watch, $h->stat);
        tie my $s, 'Hostile::Tied', $h->stat, sub {
            $lose->(\$W, sub { $h->watch });
            $lose->(\$S, sub { $h->stat });
        };
        my $data = $h->get($node, watch => $W, stat => $S, stat => $s);
        return ($data, $h->{pending_watches}, tied($s)->{value}{data_len});
    }, [ $DATA, 1, length $DATA ]);

    hostile_ok("exists: stat and watch are $how by an overloaded option name", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my ($W, $S) = ($h->watch, $h->stat);
        my $name = Hostile->new('ignored', sub {
            $lose->(\$W, sub { $h->watch });
            $lose->(\$S, sub { $h->stat });
        });
        my $ok = $h->exists($node, watch => $W, stat => $S, $name => 1);
        return (!!$ok, $h->{pending_watches});
    }, [ 1, 1 ]);

    hostile_ok("get_children: the watch is $how by an overloaded option name", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $W = $h->watch;
        my $name = Hostile->new('ignored', sub { $lose->(\$W, sub { $h->watch }) });
        my @children = $h->get_children($root, watch => $W, $name => 1);
        return (\@children, $h->{pending_watches});
    }, [ ['node'], 1 ]);

    hostile_ok("set: the stat is $how by an overloaded option name", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $S = $h->stat;
        my $name = Hostile->new('ignored', sub { $lose->(\$S, sub { $h->stat }) });
        my $ok = $h->set($node, $DATA, stat => $S, $name => 1);
        return (!!$ok);
    }, [ 1 ]);

    hostile_ok("get_acl: the stat is $how by an overloaded option name", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $S = $h->stat;
        my $name = Hostile->new('ignored', sub { $lose->(\$S, sub { $h->stat }) });
        my @acl = $h->get_acl($node, stat => $S, $name => 1);
        return (scalar @acl);
    }, [ 1 ]);
}

# A stat reassigned to another one: the call fills the one it was given.
hostile_ok('get: a stat replaced by another one is not filled in', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $S = $h->stat;
    my $keep = $S;
    my $n = Hostile->new(100, sub { $S = $h->stat });
    my $data = $h->get($node, stat => $S, data_read_len => $n);
    return ($data, $keep->{data_len}, $S->{data_len});
}, [ $DATA, length $DATA, 0 ]);

## 2. ACL arrays changed while their entries are converted

# The array is held: its entries are all converted, unless they were removed
# from it.
for my $case (
    [ 'undefined',  2, sub { undef ${ $_[0] } } ],
    [ 'emptied',    1, sub { @${ $_[0] } = () } ],
    [ 'reassigned', 2, sub { ${ $_[0] } = [] } ],
) {
    my ($how, $entries, $change) = @$case;

    hostile_ok("create: the acl array is $how by an overloaded perms", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $A;
        my $perms = Hostile->new(ZOO_PERM_ALL, sub { $change->(\$A) });
        $A = [ { perms => $perms, scheme => 'world', id => 'anyone' },
               { perms => ZOO_PERM_READ, scheme => 'world', id => 'anyone' } ];
        my $path = "$root/acl_" . ($how =~ tr/a-z//cdr);
        my $created = $h->create($path, 'x', acl => $A);
        my @acl = $h->get_acl($path);
        $h->delete($path);
        return ($created, scalar @acl);
    }, [ "$root/acl_" . ($how =~ tr/a-z//cdr), $entries ]);

    hostile_ok("set_acl: the acl array is $how by an overloaded id", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $A;
        my $id = Hostile->new('anyone', sub { $change->(\$A) });
        $A = [ { perms => ZOO_PERM_ALL, scheme => 'world', id => $id } ];
        return (!!$h->set_acl($node, $A), scalar(() = $h->get_acl($node)));
    }, [ 1, 1 ]);
}

hostile_ok('create: an acl entry whose scheme changes while its id is converted', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $entry = { perms => ZOO_PERM_ALL, scheme => 'world' };
    $entry->{id} = Hostile->new('anyone', sub { $entry->{scheme} = 'x' x 4096; %$entry = () });
    my $path = "$root/acl_entry";
    my $created = $h->create($path, 'x', acl => [ $entry ]);
    my ($acl) = $h->get_acl($path);
    $h->delete($path);
    return ($created, $acl->{scheme}, $acl->{id});
}, [ "$root/acl_entry", 'world', 'anyone' ]);

## 3. Strings changed after they were converted

hostile_ok('create: path and data reassigned by an overloaded flags', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $path = "$root/strings";
    my $data = 'original data';
    my $flags = Hostile->new(0, sub { $path = 'x' x 8192; $data = 'y' x 8192 });
    my $created = $h->create($path, $data, flags => $flags, acl => ZOO_OPEN_ACL_UNSAFE);
    my $got = $h->get("$root/strings");
    $h->delete("$root/strings");
    return ($created, $got);
}, [ "$root/strings", 'original data' ]);

hostile_ok('get_many: an earlier path reassigned while a later one is converted', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $first = $node;
    my $second = Hostile->new($node, sub { $first = 'z' x 8192 });
    return [ $h->get_many($first, $second) ];
}, [ [ $DATA, $DATA ] ]);

hostile_ok('add_auth: the scheme reassigned while the cert is converted', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $scheme = 'digest';
    my $cert = Hostile->new('user:pw', sub { $scheme = 'q' x 8192 });
    return (!!$h->add_auth($scheme, $cert), $h->get_error);
}, [ 1, ZOK ]);

## 4. The handle itself undefined or destroyed in the middle of its call

for my $how ('undefined', 'destroyed') {
    my $lose = $LOSE{$how};

    hostile_ok("get: the handle is $how by an overloaded data_read_len", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $n = Hostile->new(7, sub { $lose->(\$h) });
        return scalar $h->get($node, data_read_len => $n);
    }, [ substr($DATA, 0, 7) ]);

    hostile_ok("exists: the handle is $how by an overloaded option name", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $W = $h->watch;
        my $name = Hostile->new('ignored', sub { $lose->(\$h) });
        return (!!$h->exists($node, watch => $W, $name => 1), $W->{event});
    }, [ 1, 0 ]);

    hostile_ok("set: the handle is $how by a tied version", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $S = $h->stat;
        $h->exists($node, stat => $S);
        tie my $v, 'Hostile::Tied', $S->{version}, sub { $lose->(\$h) };
        return !!$h->set($node, $DATA, version => $v);
    }, [ 1 ]);

    hostile_ok("create: the handle is $how by an overloaded path_read_len", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $len = Hostile->new(1024, sub { $lose->(\$h) });
        my $path = "$root/handle_" . ($how =~ tr/a-z//cdr);
        my $created = $h->create($path, 'x', path_read_len => $len, acl => ZOO_OPEN_ACL_UNSAFE);
        my $h2 = Net::ZooKeeper->new($hosts);
        $h2->delete($path);
        return $created;
    }, [ "$root/handle_" . ($how =~ tr/a-z//cdr) ]);

    hostile_ok("watch: the handle is $how by an overloaded timeout", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $t = Hostile->new(1234, sub { $lose->(\$h) });
        return $h->watch(timeout => $t)->{timeout};
    }, [ 1234 ]);

    hostile_ok("add_auth: the handle is $how by an overloaded cert", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $cert = Hostile->new('user:pw', sub { $lose->(\$h) });
        return !!$h->add_auth('digest', $cert);
    }, [ 1 ]);

    hostile_ok("get_many: the handle is $how by an overloaded path", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $path = Hostile->new($node, sub { $lose->(\$h) });
        return [ $h->get_many($node, $path) ];
    }, [ [ $DATA, $DATA ] ]);
}

## 5. new() options

hostile_ok('new: the sasl_options hash is undefined by an overloaded value', sub {
    my $sasl;
    my $user = Hostile->new('someone', sub { undef $sasl });
    $sasl = { service => 'zookeeper', user => $user, mechlist => 'DIGEST-MD5' };
    my $h = Net::ZooKeeper->new(unused_local_host(), sasl_options => $sasl);
    return ref $h;
}, [ 'Net::ZooKeeper' ]);

hostile_ok('new: the sasl_options hash is emptied by a tied value', sub {
    my %sasl = (service => 'zookeeper', user => undef, mechlist => 'DIGEST-MD5');
    tie $sasl{user}, 'Hostile::Tied', 'someone', sub { %sasl = (); $sasl{x} = 'y' x 4096 };
    my $h = Net::ZooKeeper->new(unused_local_host(), sasl_options => \%sasl);
    return ref $h;
}, [ 'Net::ZooKeeper' ]);

hostile_ok('new: session_id reassigned by an overloaded session_timeout', sub {
    my $sid = "\1" x 24;
    my $timeout = Hostile->new(4000, sub { $sid = 'w' x 8192 });
    my $h = Net::ZooKeeper->new(unused_local_host(), session_id => $sid, session_timeout => $timeout);
    return ($h->{session_timeout});
}, [ 4000 ]);

## 6. Tie methods: the object destroyed while the key or value is converted

for my $class ('handle', 'stat', 'watch') {
    hostile_ok("FETCH on a $class destroyed by an overloaded key", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $obj = $class eq 'handle' ? $h : $class eq 'stat' ? $h->stat : $h->watch(timeout => 4321);
        $h->get($node, stat => $obj) if $class eq 'stat';
        my $copy = $obj;
        my $key = { handle => 'data_read_len', stat => 'data_len', watch => 'timeout' }->{$class};
        my $k = Hostile->new($key, sub { $copy->DESTROY });
        return tied(%$obj)->FETCH($k);
    }, [ { handle => 1023, stat => length($DATA), watch => 4321 }->{$class} ]);
}

for my $class ('handle', 'watch') {
    hostile_ok("STORE on a $class destroyed by an overloaded value", sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $obj = $class eq 'handle' ? $h : $h->watch;
        my $copy = $obj;
        my $inner = tied(%$obj);
        my $key = $class eq 'handle' ? 'watch_timeout' : 'timeout';
        my $v = Hostile->new(555, sub { $copy->DESTROY });
        $inner->STORE($key, $v);
        return 'stored';
    }, [ 'stored' ]);
}

## 7. wait(): its invocant changed while it waits

my $n1 = "$root/n1";
my $n2 = "$root/n2";

hostile_ok('wait: the watch is undefined by an overloaded timeout', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $w = $h->watch;
    my $t = Hostile->new(0, sub { undef $w });
    return !!$w->wait(timeout => $t);
}, qr/^zkwh is not a hash reference of type Net::ZooKeeper::Watch at /);

hostile_ok('wait: the watch is destroyed by an overloaded timeout', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $w = $h->watch;
    my $t = Hostile->new(0, sub { $w->DESTROY });
    return !!$w->wait(timeout => $t);
}, qr/^invalid handle at /);

hostile_ok('wait: the watch is replaced by a fired one by an overloaded timeout', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $other = Net::ZooKeeper->new($hosts);
    my $w = $h->watch;
    my $fired = $h->watch;
    $h->exists($node, watch => $fired) or die 'exists failed';
    $other->set($node, $DATA) or die 'set failed';
    $fired->wait(timeout => 20000) or die 'the watch did not fire';
    my $t = Hostile->new(20000, sub { $w = $fired });
    return (!!$w->wait(timeout => $t), $w->{event});
}, [ 1, ZOO_CHANGED_EVENT ]);

# Signal handlers between the steps of wait().  The first alarm gives the
# watch (or the variable) another assignment and fires the old one; the
# second makes the new assignment fire.  wait() must report the new one.
sub signal_case {
    my ($replace) = @_;
    return sub {
        my $h = Net::ZooKeeper->new($hosts);
        my $other = Net::ZooKeeper->new($hosts);
        $h->create($_, 'a', acl => ZOO_OPEN_ACL_UNSAFE) for $n1, $n2;
        my $w = $h->watch;
        $h->exists($n1, watch => $w) or die 'exists failed';
        my $alarms = 0;
        local $SIG{ALRM} = sub {
            if (++$alarms == 1) {
                $replace->($h, \$w);
                $other->set($n1, 'b') or die 'set failed';   # fires the old assignment
                Time::HiRes::alarm(0.3);
            }
            else {
                $other->delete($n2) if $replace;               # fires the new one
            }
        };
        Time::HiRes::alarm(0.2);
        my $r = $w->wait(timeout => 30000);
        Time::HiRes::alarm(0);
        my @got = (!!$r, $w->{event}, $alarms);
        $other->delete($_) for $n1, $n2;
        return @got;
    };
}

hostile_ok('wait: a signal handler gives the watch to another call',
    signal_case(sub { my ($h, $w) = @_; $h->exists($n2, watch => $$w) or die 'exists failed' }),
    [ 1, ZOO_DELETED_EVENT, 2 ]);

hostile_ok('wait: a signal handler points the variable at another armed watch',
    signal_case(sub {
        my ($h, $w) = @_;
        $$w = $h->watch;
        $h->exists($n2, watch => $$w) or die 'exists failed';
    }),
    [ 1, ZOO_DELETED_EVENT, 2 ]);

hostile_ok('wait: a signal handler points the variable at a new watch (the reported bug)', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $other = Net::ZooKeeper->new($hosts);
    my $w = $h->watch;
    $h->exists($node, watch => $w) or die 'exists failed';
    local $SIG{ALRM} = sub { $w = $h->watch; $other->set($node, 'c') or die 'set failed' };
    Time::HiRes::alarm(0.2);
    my $r = $w->wait(timeout => 3000);
    Time::HiRes::alarm(0);
    return (!!$r, $w->{event});
}, [ '', 0 ]);

hostile_ok('wait: a signal handler undefines the watch', sub {
    my $h = Net::ZooKeeper->new($hosts);
    my $w = $h->watch;
    local $SIG{ALRM} = sub { undef $w };
    Time::HiRes::alarm(0.2);
    my $r = eval { $w->wait(timeout => 30000) };
    Time::HiRes::alarm(0);
    die $@ if $@;
    return !!$r;
}, qr/^zkwh is not a hash reference of type Net::ZooKeeper::Watch at /);

## 8. new(), wait() and $! (spec 3.1: EINVAL for a host list the client cannot use)

{
    $! = Errno::EIO();
    my $h = Net::ZooKeeper->new($hosts);
    my $errno = $! + 0;
    isa_ok($h, 'Net::ZooKeeper', 'new() with a stale $!');
    is($errno, 0, '... leaves $! 0, as the original did');

    # (New variables: an assignment would destroy the handle before $! is read.)
    $! = Errno::EIO();
    my $h2 = Net::ZooKeeper->new(unused_local_host());
    $errno = $! + 0;
    is($errno, 0, 'new() leaves $! 0 when nothing listens at the host either');

    $! = Errno::EIO();
    my $h3 = Net::ZooKeeper->new('127.0.0.1');
    $errno = $! + 0;
    is($h3, undef, 'new() without a port fails');
    is($errno, Errno::EINVAL(), '... with $! EINVAL, whatever $! was before');
}

{
    my $w = $zkh->watch;
    $! = Errno::EIO();
    ok(!$w->wait(timeout => 100), 'a wait that times out');
    is($! + 0, Errno::EIO(), '... leaves $! as it was, as the original did');
}

{
    # die() exits with $! if it is not 0, else 255.
    my @inc = map { "-I$_" } @INC;
    my $script = 'use Net::ZooKeeper; $! = 5; my $h = Net::ZooKeeper->new($ARGV[0]) or exit 3; die "dying\n"';
    open(my $olderr, '>&', \*STDERR) or die "dup: $!";
    open(STDERR, '>', File::Spec->devnull) or die "devnull: $!";
    system($^X, @inc, '-e', $script, $hosts);
    my $status = $?;
    open(STDERR, '>&', $olderr) or die "restore: $!";
    is($status >> 8, 255, 'die after a successful new() exits with 255, not a stale errno');
}

ok(delete_tree($zkh, $root), "delete $root");
ok($zkh->DESTROY, 'DESTROY the handle');

done_testing();
