package ZKTest::Handler;

# mod_perl response handlers for the Apache2::ZooKeeper tests (t/8*.t), mapped
# to <Location /zk> by ZKTest::Httpd.  Each answers text/plain lines of
# space-separated key=value pairs (values never contain spaces), e.g.
#
#   cluster=main pid=1234 interp=55d0c0ffee rc=0 generation=1 session=1c0a... exists=1 zkerr=0
#
# Endpoints (query parameters after ?), also under /zk/g/ (e.g. /zk/g/session),
# for a <Location /zk/g> with PerlOptions +GlobalRequest:
#   /zk/session?cluster=A[&cluster=B][&path=/][&hold=MS]   per cluster: acquire,
#        exists(path), error() if exists failed with another error than ZNONODE,
#        keep holding the connection for MS milliseconds, release
#   /zk/lookup?cluster=A                         lookup
#   /zk/try?cluster=A                            tryacquire (and release)
#   /zk/busy?cluster=A                           acquire A; error(A, ZCONNECTIONLOSS);
#        tryacquire while A is held; release A; acquire again - all in one request
#   /zk/die?cluster=A[&mark=1]                   acquire (mark it failed), then die
#   /zk/ephemeral?cluster=A&path=P               create an ephemeral node P
#   /zk/watch_set?cluster=A&path=P               arm a watch on P (exists) through the
#        shared handle and keep it, by path, in this interpreter
#   /zk/watch_wait?path=P&timeout=MS             wait on the kept watch (without holding
#        the connection)
#   /zk/watch_drop?path=P                        forget the kept watch
#   /zk/keep?cluster=A[&via=r]                   acquire, passing $r->server (or, with
#        via=r, $r itself), and keep the connection object in a global without
#        releasing it; reports the file and line of the acquire call
#   /zk/kept?cluster=A[&release=0][&drop=1]      look at the kept connection object:
#        released?, release() again (not with release=0), exists("/") through its
#        handle, error() with that code if it failed; drop=1 forgets it afterwards

use strict;
use warnings;

use Apache2::RequestRec ();
use Apache2::RequestIO ();
use Apache2::RequestUtil ();
use Apache2::ServerRec ();
use Apache2::Const -compile => qw(OK NOT_FOUND);
use APR::Const -compile => qw(SUCCESS ECONNABORTED);
use Scalar::Util ();
use Time::HiRes ();

use Apache2::ZooKeeper ();
use Net::ZooKeeper qw(:errors :node_flags :acls);

our %WATCH;    # path => Net::ZooKeeper::Watch, kept between requests
our $MARK;     # its address tells the Perl interpreters of a threaded MPM apart
our %KEPT;     # cluster => connection object kept past its request (/zk/keep)

my %DISPATCH = (
    session    => \&session,
    lookup     => \&lookup,
    try        => \&try,
    busy       => \&busy,
    die        => \&die_holding,
    ephemeral  => \&ephemeral,
    watch_set  => \&watch_set,
    watch_wait => \&watch_wait,
    watch_drop => \&watch_drop,
    keep       => \&keep,
    kept       => \&kept,
);

sub _params {
    my ($r) = @_;
    my %p;
    for my $pair (split /[&;]/, (defined $r->args ? $r->args : '')) {
        my ($k, $v) = split /=/, $pair, 2;
        next unless defined $k && length $k;
        for ($k, $v) {
            next unless defined;
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        }
        push @{ $p{$k} }, defined $v ? $v : '';
    }
    return \%p;
}

sub _one {
    my ($p, $k, $default) = @_;
    return exists $p->{$k} ? $p->{$k}[0] : $default;
}

sub _line {
    my (@kv) = @_;
    my @out;
    while (@kv) {
        my ($k, $v) = splice @kv, 0, 2;
        $v = '' unless defined $v;
        $v =~ s/\s/_/g;
        push @out, "$k=$v";
    }
    return join(' ', @out) . "\n";
}

sub _interp { return sprintf '%x', Scalar::Util::refaddr(\$MARK) }

# The session number (first 8 bytes of session_id) in hex; '' before a session.
sub session_hex {
    my ($zkh) = @_;
    my $sid = $zkh->{session_id};
    return '' unless defined $sid && length $sid >= 8;
    return sprintf '%x', unpack 'Q', substr $sid, 0, 8;
}

sub _base {
    my ($name) = @_;
    return (pid => $$, interp => _interp(), cluster => $name);
}

sub handler {
    my ($r) = @_;
    my ($what) = $r->uri =~ m{^/zk/(?:g/)?(\w+)};
    my $code = defined $what ? $DISPATCH{$what} : undef;
    return Apache2::Const::NOT_FOUND unless $code;
    my $p = _params($r);
    $r->content_type('text/plain');
    $r->print($code->($r, $p));
    return Apache2::Const::OK;
}

sub session {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $path = _one($p, 'path', '/');
    my $hold = _one($p, 'hold', 0);
    my $out  = '';
    for my $name (@{ $p->{cluster} || [] }) {
        my @base = (_base($name), lookup => Apache2::ZooKeeper::lookup($name) ? 1 : 0);
        my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, $name);
        if ($rc != APR::Const::SUCCESS) {
            $out .= _line(@base, rc => $rc, zk => defined $zk ? 'defined' : 'undef',
                          NOTFOUND => Apache2::ZooKeeper::NOTFOUND);
            next;
        }
        my $zkh    = $zk->handle;
        my $exists = $zkh->exists($path) ? 1 : 0;
        my $zkerr  = $zkh->get_error;
        my $error_rc = '';
        if ($zkerr != ZOK && $zkerr != ZNONODE) {
            $error_rc = Apache2::ZooKeeper::error($s, $zk, $zkerr, "ZKTest::Handler: exists($path) failed");
        }
        my @info = (
            rc => $rc, generation => $zk->generation, session => session_hex($zkh),
            hosts => $zk->hosts, recv_timeout => $zk->recv_timeout,
            exists => $exists, zkerr => $zkerr, error_rc => $error_rc,
        );
        Time::HiRes::sleep($hold / 1000) if $hold;
        my $rel = Apache2::ZooKeeper::release($s, $zk);
        $out .= _line(@base, @info, release => $rel);
    }
    return $out;
}

sub lookup {
    my ($r, $p) = @_;
    return join '', map { _line(_base($_), lookup => Apache2::ZooKeeper::lookup($_) ? 1 : 0) }
        @{ $p->{cluster} || [] };
}

sub try {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my ($rc, $zk) = Apache2::ZooKeeper::tryacquire($s, $name);
    return _line(_base($name), rc => $rc, zk => defined $zk ? 'defined' : 'undef')
        unless $rc == APR::Const::SUCCESS;
    my $zkh    = $zk->handle;
    my $exists = $zkh->exists('/') ? 1 : 0;
    my @info   = (rc => $rc, generation => $zk->generation, session => session_hex($zkh),
                  exists => $exists, zkerr => $zkh->get_error);
    return _line(_base($name), @info, release => Apache2::ZooKeeper::release($s, $zk));
}

# The whole "reconnect pending" sequence inside one request.
sub busy {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my @out  = _base($name);
    my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, $name);
    push @out, acquire1 => $rc;
    return _line(@out) unless $rc == APR::Const::SUCCESS;
    my $zkh = $zk->handle;
    push @out, exists1 => ($zkh->exists('/') ? 1 : 0), generation1 => $zk->generation,
               session1 => session_hex($zkh);
    push @out, error => Apache2::ZooKeeper::error($s, $zk, ZCONNECTIONLOSS,
                                                  'ZKTest::Handler: simulated connection loss');
    my ($trc, $tzk) = Apache2::ZooKeeper::tryacquire($s, $name);
    push @out, tryacquire => $trc, try_zk => (defined $tzk ? 'defined' : 'undef');
    Apache2::ZooKeeper::release($s, $tzk) if $tzk;
    push @out, release1 => Apache2::ZooKeeper::release($s, $zk);
    push @out, release_again => Apache2::ZooKeeper::release($s, $zk);
    my ($rc2, $zk2) = Apache2::ZooKeeper::acquire($s, $name);
    push @out, acquire2 => $rc2;
    if ($rc2 == APR::Const::SUCCESS) {
        my $zkh2 = $zk2->handle;
        push @out, exists2 => ($zkh2->exists('/') ? 1 : 0), zkerr2 => $zkh2->get_error,
                   generation2 => $zk2->generation, session2 => session_hex($zkh2),
                   release2 => Apache2::ZooKeeper::release($s, $zk2);
    }
    return _line(@out);
}

sub die_holding {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, $name);
    die "ZKTest::Handler: acquire $name failed: $rc\n" unless $rc == APR::Const::SUCCESS;
    if (_one($p, 'mark')) {
        Apache2::ZooKeeper::error($s, $zk, ZCONNECTIONLOSS, 'ZKTest::Handler: simulated loss before dying');
    }
    die "ZKTest::Handler: dying on purpose while holding cluster $name (generation "
        . $zk->generation . ")\n";
}

sub ephemeral {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my $path = _one($p, 'path');
    my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, $name);
    return _line(_base($name), rc => $rc) unless $rc == APR::Const::SUCCESS;
    my $zkh = $zk->handle;
    my $created = $zkh->create($path, "pid $$", flags => ZOO_EPHEMERAL, acl => ZOO_OPEN_ACL_UNSAFE);
    my @info = (rc => $rc, created => $created, zkerr => $zkh->get_error,
                generation => $zk->generation, session => session_hex($zkh));
    return _line(_base($name), @info, release => Apache2::ZooKeeper::release($s, $zk));
}

sub watch_set {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my $path = _one($p, 'path');
    my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, $name);
    return _line(_base($name), rc => $rc) unless $rc == APR::Const::SUCCESS;
    my $zkh   = $zk->handle;
    my $watch = $zkh->watch;
    my $exists = $zkh->exists($path, watch => $watch) ? 1 : 0;
    my $zkerr  = $zkh->get_error;
    $WATCH{$path} = $watch;
    my @info = (rc => $rc, path => $path, exists => $exists, zkerr => $zkerr,
                generation => $zk->generation, session => session_hex($zkh),
                event => $watch->{event}, state => $watch->{state});
    return _line(_base($name), @info, release => Apache2::ZooKeeper::release($s, $zk));
}

sub watch_wait {
    my ($r, $p) = @_;
    my $path    = _one($p, 'path');
    my $timeout = _one($p, 'timeout', 0);
    my $watch   = defined $path ? $WATCH{$path} : undef;
    return _line(pid => $$, interp => _interp(), path => $path, found => 0) unless $watch;
    my $got = $watch->wait(timeout => $timeout) ? 1 : 0;
    return _line(pid => $$, interp => _interp(), path => $path, found => 1, notified => $got,
                 event => $watch->{event}, state => $watch->{state});
}

sub watch_drop {
    my ($r, $p) = @_;
    my $path = _one($p, 'path');
    my $had  = defined $path && delete $WATCH{$path} ? 1 : 0;
    return _line(pid => $$, path => $path, dropped => $had);
}

# A handler that keeps its lease past the request (the bug the request cleanup of
# Apache2::ZooKeeper is for): acquire, and store the connection object in a global.
sub keep {
    my ($r, $p) = @_;
    my $name = _one($p, 'cluster');
    my $via  = _one($p, 'via', 's');
    my $global = eval { my $cur = Apache2::RequestUtil->request; 1 } ? 1 : 0;
    my ($rc, $zk, $line);
    if ($via eq 'r') {
        ($rc, $zk) = Apache2::ZooKeeper::acquire($r, $name); $line = __LINE__;
    }
    else {
        ($rc, $zk) = Apache2::ZooKeeper::acquire($r->server, $name); $line = __LINE__;
    }
    my @out = (_base($name), via => $via, global => $global, rc => $rc, file => __FILE__, line => $line);
    return _line(@out) unless $rc == APR::Const::SUCCESS;
    $KEPT{$name} = $zk;
    return _line(@out, generation => $zk->generation, session => session_hex($zk->handle),
                 released => $zk->released ? 1 : 0);
}

sub kept {
    my ($r, $p) = @_;
    my $s    = $r->server;
    my $name = _one($p, 'cluster');
    my $zk   = $KEPT{$name};
    return _line(_base($name), found => 0) unless $zk;
    my @out = (_base($name), found => 1, generation => $zk->generation,
               released => $zk->released ? 1 : 0);
    push @out, release_again => Apache2::ZooKeeper::release($s, $zk) if _one($p, 'release', 1);
    my $zkh    = $zk->handle;
    my $exists = $zkh->exists('/') ? 1 : 0;
    my $zkerr  = $zkh->get_error;
    push @out, exists => $exists, zkerr => $zkerr;
    if ($zkerr != ZOK && $zkerr != ZNONODE) {
        push @out, error_rc => Apache2::ZooKeeper::error($s, $zk, $zkerr, 'ZKTest::Handler: kept lease call failed');
    }
    delete $KEPT{$name} if _one($p, 'drop');
    return _line(@out);
}

1;

__END__

=head1 NAME

ZKTest::Handler - mod_perl handlers used by the Apache2::ZooKeeper tests

=head1 DESCRIPTION

See the comment at the top of the file for the endpoints and their output.
This file loads only inside httpd (mod_perl); the tests parse the output with
C<ZKTest::Httpd::parse> or C<< $httpd->rows($path) >>.

=cut
