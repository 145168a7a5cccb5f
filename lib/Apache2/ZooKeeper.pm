package Apache2::ZooKeeper;

# mod_zookeeper for mod_perl: the ZKCluster directive, and acquire/release of one
# shared connection per cluster per httpd child, built on Net::ZooKeeper::Cluster.

use strict;
use warnings;

use Apache2::Module ();
use Apache2::CmdParms ();
use Apache2::ServerRec ();
use Apache2::ServerUtil ();
use Apache2::Log ();
use Apache2::RequestRec ();
use Apache2::RequestUtil ();
use APR::Pool ();
use Apache2::Const -compile => qw(RSRC_CONF TAKE23);
use APR::Const -compile => qw(SUCCESS EBUSY ECONNABORTED EINVAL ENOLOCK);

use Scalar::Util ();

use Net::ZooKeeper ();
use Net::ZooKeeper::Cluster ();

our $VERSION = $Net::ZooKeeper::VERSION;

# APR_NOTFOUND, which APR::Const does not provide: no cluster of that name.
use constant NOTFOUND => Net::ZooKeeper::Cluster::NOTFOUND;

# The core's statuses are APR's values; refuse to load if that ever stops holding.
for my $name (qw(SUCCESS EBUSY ECONNABORTED EINVAL ENOLOCK)) {
    no strict 'refs';
    my $apr = &{"APR::Const::$name"}();
    my $ours = &{"Net::ZooKeeper::Cluster::$name"}();
    die "Apache2::ZooKeeper: APR status $name is $apr, not $ours\n" unless $apr == $ours;
}

my @directives = (
    {
        name         => 'ZKCluster',
        func         => __PACKAGE__ . '::ZKCluster',
        req_override => Apache2::Const::RSRC_CONF,
        args_how     => Apache2::Const::TAKE23,
        errmsg       => 'ZKCluster NAME HOSTS [RECV_TIMEOUT_MS]',
    },
);
Apache2::Module::add(__PACKAGE__, \@directives);

# Per-server configuration: made anew for every pass over the configuration, so
# duplicate names are found within one pass.
sub SERVER_CREATE {
    my ($class) = @_;
    return bless { clusters => {} }, $class;
}

sub ZKCluster {
    my (undef, $parms, $name, $hosts, $timeout) = @_;
    # mod_perl hands directive handlers the per-directory object; clusters belong to
    # the server's configuration, which is where lookup and acquire read them.
    my $self = Apache2::Module::get_config(__PACKAGE__, $parms->server);
    die "ZKCluster $name: not allowed inside <VirtualHost>; clusters are per server process\n"
        if $parms->server->is_virtual;
    die "ZKCluster $name: duplicate cluster name\n" if exists $self->{clusters}{$name};
    if (defined $timeout) {
        my $max = Net::ZooKeeper::Cluster::MAX_RECV_TIMEOUT;
        die "ZKCluster $name: invalid receive timeout '$timeout' (milliseconds, 1 to $max)\n"
            unless $timeout =~ /\A[0-9]+\z/ && $timeout > 0 && $timeout <= $max;
    }
    else {
        $timeout = Net::ZooKeeper::Cluster::DEFAULT_RECV_TIMEOUT;
    }
    my $problem = Net::ZooKeeper::Cluster::hosts_error($hosts);
    die "ZKCluster $name: $problem\n" if defined $problem;
    $self->{clusters}{$name} = [ $hosts, $timeout ];
    return;
}

sub _clusters {
    my $config = Apache2::Module::get_config(__PACKAGE__, Apache2::ServerUtil->server);
    return $config ? $config->{clusters} : {};
}

sub lookup {
    my ($name) = @_;
    return defined $name && exists _clusters()->{$name} ? 1 : '';
}

sub _acquire {
    my ($s, $name, $wait) = @_;
    return (APR::Const::EINVAL, undef) unless $s && defined $name;
    my $cluster = _clusters()->{$name} or return (NOTFOUND, undef);
    # The process's registry learns the cluster on first use: in the child, never in
    # the parent, so no connection is ever made before httpd forks.
    my $status = Net::ZooKeeper::Cluster::define($name, @$cluster);
    return ($status, undef) unless $status == APR::Const::SUCCESS;
    my ($rc, $zk) = $wait ? Net::ZooKeeper::Cluster::acquire($name) : Net::ZooKeeper::Cluster::tryacquire($name);
    _bind_to_request($s, $zk) if $zk;
    return ($rc, $zk);
}

# The request an acquire is made in: $r itself when it was passed in place of $s,
# else mod_perl's current request where it keeps one (SetHandler perl-script, or
# PerlOptions +GlobalRequest); undef outside a request.
sub _request_of {
    my ($s) = @_;
    return $s if Scalar::Util::blessed($s) && $s->isa('Apache2::RequestRec');
    local $@;
    my $r = eval { Apache2::RequestUtil->request };
    return Scalar::Util::blessed($r) && $r->isa('Apache2::RequestRec') ? $r : undef;
}

# Where the caller of acquire() or tryacquire() is: the first frame outside this package.
sub _call_site {
    for (my $level = 0; my @frame = caller($level); $level++) {
        return "$frame[1] line $frame[2]" if $frame[0] ne __PACKAGE__;
    }
    return 'an unknown place';
}

# A lease taken during a request is released when the request ends, if its holder
# has not released it by then (a lease kept in a global or a closure would hold the
# shared lock for the rest of the child's life, and after a connection failure every
# later acquire would wait for it in vain). The cleanup holds the lease weakly, so a
# lease that goes out of scope is still released (and freed) at once.
sub _bind_to_request {
    my ($s, $zk) = @_;
    my $r = _request_of($s) or return;
    my $lease = [ $zk, $r->server, _call_site() ];
    Scalar::Util::weaken($lease->[0]);
    $r->pool->cleanup_register(\&_request_ended, $lease);
    return;
}

sub _request_ended {
    my ($lease) = @_;
    my ($zk, $s, $where) = @$lease;
    return unless $zk && !$zk->released;
    Net::ZooKeeper::Cluster::release($zk);
    my $msg = sprintf("%s: lease of cluster '%s' acquired at %s was still held when the request ended; released",
                      __PACKAGE__, $zk->name, $where);
    $s->log->warn($msg);
    return;
}

sub acquire    { return _acquire($_[0], $_[1], 1) }
sub tryacquire { return _acquire($_[0], $_[1], 0) }

sub release {
    my ($s, $zk) = @_;
    return Net::ZooKeeper::Cluster::release($zk);
}

sub error {
    my ($s, $zk, $ret, $msg) = @_;
    return APR::Const::EINVAL unless $s && Net::ZooKeeper::Cluster::_is_connection($zk) && defined $ret;
    my $status = $zk->_error($ret);
    $s->log_error(Net::ZooKeeper::Cluster::error_text($zk, $ret, defined $msg ? $msg : 'ZooKeeper call failed'));
    return $status;
}

1;

__END__

=head1 NAME

Apache2::ZooKeeper - mod_zookeeper for mod_perl: shared ZooKeeper connections per httpd child

=head1 SYNOPSIS

httpd.conf:

  LoadModule perl_module modules/mod_perl.so
  PerlLoadModule Apache2::ZooKeeper

  ZKCluster main_cluster zkhost1:2181,zkhost2:2181,zkhost3:2181
  ZKCluster test_cluster localhost:2181 1000

  PerlModule My::Handler
  <Location /zk>
      SetHandler perl-script
      PerlResponseHandler My::Handler
  </Location>

A handler:

  package My::Handler;
  use strict;
  use warnings;
  use Apache2::RequestRec ();
  use Apache2::RequestIO ();
  use Apache2::Const -compile => qw(OK SERVER_ERROR);
  use APR::Const -compile => qw(SUCCESS ECONNABORTED);
  use Apache2::ZooKeeper ();
  use Net::ZooKeeper qw(:errors);

  sub handler {
      my ($r) = @_;
      my $s = $r->server;
      return Apache2::Const::SERVER_ERROR
          unless Apache2::ZooKeeper::lookup('main_cluster');

      my ($rc, $zk) = Apache2::ZooKeeper::acquire($s, 'main_cluster');
      return Apache2::Const::SERVER_ERROR unless $rc == APR::Const::SUCCESS;

      my $zkh = $zk->handle;
      my $value = $zkh->get('/config/motd');
      if (!defined $value) {
          my $ret = $zkh->get_error;
          if ($ret != ZNONODE) {
              Apache2::ZooKeeper::error($s, $zk, $ret, 'get /config/motd failed');
              # ECONNABORTED: the connection is replaced once every holder released
          }
      }
      Apache2::ZooKeeper::release($s, $zk);

      $r->content_type('text/plain');
      $r->print(defined $value ? $value : "no message\n");
      return Apache2::Const::OK;
  }
  1;

=head1 DESCRIPTION

This is mod_zookeeper for mod_perl handlers. Each httpd child process keeps one
ZooKeeper connection per cluster named with C<ZKCluster>; handlers acquire it, use
it and release it, under a shared lock that lets the module drop a failed
connection and make a new one once every holder has released it.

The connection is made lazily, by the first acquire in a child process, never in
the parent before it forks. It is shared by every Perl interpreter and thread of
the process (the registry lives in the Net::ZooKeeper core, not in Perl globals),
so it works the same under the prefork, worker and event MPMs.

The same registry is available without httpd as L<Net::ZooKeeper::Cluster>, for
Starman, other Plack servers and plain scripts.

=head1 CONFIGURATION

=head2 ZKCluster NAME HOSTS [RECV_TIMEOUT_MS]

Names a cluster (unique within the configuration) and lists its servers as
C<host:port> pairs separated by commas, optionally followed by a chroot path. The
receive timeout, in milliseconds, is used as the session timeout; it defaults to
4000. Allowed in the main server configuration only (not in C<< <VirtualHost> >>).

A duplicate name, a missing argument, a bad timeout or an invalid host list stops
httpd from starting, with a message in the error log such as
C<ZKCluster main: duplicate cluster name>.

=head1 FUNCTIONS

Statuses are C<APR::Const> values: SUCCESS, EBUSY, ECONNABORTED, EINVAL, ENOLOCK,
and this module's NOTFOUND constant (APR_NOTFOUND, 70015) for a name that is not
configured.

=head2 lookup($name)

True if a cluster of that name is configured.

=head2 ($rc, $zk) = acquire($s, $name)

Takes a shared lock on the cluster's connection of this process, making the
connection if there is none. C<$s> is the C<Apache2::ServerRec> (e.g.
C<< $r->server >>), or the request C<$r> itself, which ties the lease to that
request in every configuration (see L</LEASES AND REQUESTS>). Blocks while a
failed connection still has holders (at most twice the receive timeout), since
the next acquire after they have released makes a new connection. Returns
SUCCESS and a connection object, or a status and undef: NOTFOUND, ECONNABORTED
(no connection can be made), EINVAL, EBUSY (the wait ran out).

=head2 ($rc, $zk) = tryacquire($s, $name)

Like acquire(), but returns EBUSY at once where acquire() would block, for
example while a reconnect is pending.

=head2 $rc = release($s, $zk)

Releases the lock: SUCCESS, or EINVAL for a bad or already released C<$zk>
(released by an earlier release(), or by the end of the request it was acquired
in). If C<$zk> goes out of scope without release (a handler that dies), the lock
is released anyway. C<$s> may be C<$r>, here and in error().

=head2 $rc = error($s, $zk, $ret, $msg)

Logs C<$msg> with the cluster name and the ZooKeeper error code C<$ret> to the
server's error log. For ZCONNECTIONLOSS, ZINVALIDSTATE and ZSESSIONEXPIRED it
marks the connection failed and returns ECONNABORTED: release C<$zk> and acquire
again to get the new connection. Other codes give SUCCESS.

=head1 LEASES AND REQUESTS

A connection object (a lease) holds the shared lock until it is released or
destroyed. A lease acquired during a request belongs to that request: if it is
still held when the request ends, a cleanup of the request releases it and
writes a warning to the error log naming the cluster and the file and line of
the acquire() or tryacquire() call:

  [perl:warn] [pid 1234] Apache2::ZooKeeper: lease of cluster 'main_cluster'
  acquired at /srv/lib/My/Handler.pm line 42 was still held when the request
  ended; released

(one line in the log). Without this, a lease stored in a global or a closure
would hold the lock for the rest of the child's life: harmless while the
connection works, but once error() has marked it failed the connection could
never be replaced, and every later acquire() of that child would wait (twice the
receive timeout) and give EBUSY.

The request is known when C<$r> is passed to acquire() or tryacquire() in place
of C<$s>, or, with C<$s>, when mod_perl keeps the current request: under
C<SetHandler perl-script>, or with C<PerlOptions +GlobalRequest>. A lease
acquired outside a request (for example in a C<PerlChildInitHandler>), or with
C<$s> under C<SetHandler modperl> without C<+GlobalRequest>, is released only by
release() or when it is destroyed.

The object the handler kept stays usable as a released lease: C<released> is
true and release() gives EINVAL. Its handle still reaches the connection the
lease was taken on while that connection lasts, but without holding it: once the
connection is replaced (after a failure), calls through that handle fail with
ZINVALIDSTATE, and error() with such a code gives ECONNABORTED without marking
the new connection failed. So acquire in each request, and keep data or a
L<Net::ZooKeeper::Watch> between requests, not the lease:

  our $ZK;    # wrong: the lease outlives its request
  sub handler {
      my ($r) = @_;
      (my $rc, $ZK) = Apache2::ZooKeeper::acquire($r, 'main_cluster') unless $ZK;
      my $motd = $ZK->handle->get('/config/motd');
      # ... never released: when this request ends its lease is released with
      # the warning above, and in later requests $ZK->released is true
      return Apache2::Const::OK;
  }

  sub handler {    # right: acquire, use, release in every request
      my ($r) = @_;
      my ($rc, $zk) = Apache2::ZooKeeper::acquire($r, 'main_cluster');
      return Apache2::Const::SERVER_ERROR unless $rc == APR::Const::SUCCESS;
      my $motd = $zk->handle->get('/config/motd');
      Apache2::ZooKeeper::release($r, $zk);
      return Apache2::Const::OK;
  }

The rule for failed connections is unchanged: error() with ZCONNECTIONLOSS,
ZINVALIDSTATE or ZSESSIONEXPIRED marks the connection failed, and it is replaced
once every holder has released it; the end of a request releases what the
request still held.

=head1 CONNECTION OBJECTS

C<$zk> is a L<Net::ZooKeeper::Cluster> connection object:

=over 4

=item $zk->handle

A L<Net::ZooKeeper> handle on the shared connection, usable with the whole API,
watches included. A L<Net::ZooKeeper::Watch> set through it may be kept (for
example in a package variable) and waited on in a later request of the same
process; when the connection is replaced it reports ZOO_SESSION_EVENT with
ZOO_EXPIRED_SESSION_STATE instead of waiting for nothing.

=item $zk->name, $zk->hosts, $zk->recv_timeout

The cluster's settings.

=item $zk->generation

Counts the connections made for the cluster in this process. When it changes, a
reconnect made a new session: ephemeral nodes created through the old one are
gone and must be recreated.

=back

=head1 SEE ALSO

L<Net::ZooKeeper>, L<Net::ZooKeeper::Cluster>.

=head1 LICENSE

Apache License, Version 2.0.

=cut
