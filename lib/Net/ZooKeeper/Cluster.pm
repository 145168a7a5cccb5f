package Net::ZooKeeper::Cluster;

# Shared cluster connections (mod_zookeeper's model) for any Perl process: one
# connection per named cluster per process, handed out under a shared lock. The
# registry itself lives in the Rust core, so every interpreter and thread of a
# process shares it.

use strict;
use warnings;

use Carp qw(croak);
use Exporter;
use Net::ZooKeeper ();

our $VERSION = $Net::ZooKeeper::VERSION;
our @ISA = qw(Exporter);

# The core's constants of this package (rust/constants.rs): APR's status values, as
# mod_zookeeper returns them (equal to APR::Const's), DEFAULT_RECV_TIMEOUT and
# MAX_RECV_TIMEOUT (the largest receive timeout define() accepts; not exported).
my @constants;
BEGIN { @constants = Net::ZooKeeper::_constants_of(__PACKAGE__) }
use constant { map { $_->[1] => $_->[2] } @constants };

my ($tags, $exportable) = Net::ZooKeeper::_exports(@constants);
our @EXPORT_OK = @$exportable;
our %EXPORT_TAGS = %$tags;

sub define {
    my ($name, $hosts, $recv_timeout) = @_;
    croak('Usage: Net::ZooKeeper::Cluster::define(name, hosts [, recv_timeout])')
        unless @_ >= 2 && @_ <= 3;
    return EINVAL unless defined $name && defined $hosts;
    $recv_timeout = DEFAULT_RECV_TIMEOUT unless defined $recv_timeout;
    return EINVAL unless $recv_timeout =~ /\A[0-9]+\z/;
    return _define($name, $hosts, $recv_timeout);
}

# An error message for a bad host list, or undef if it is valid (as new() checks it).
sub hosts_error {
    my ($hosts) = @_;
    return 'no hosts given' unless defined $hosts && length $hosts;
    my $errno = _check_hosts($hosts) or return undef;
    local $! = $errno;
    return "invalid host list '$hosts': $!";
}

sub lookup {
    my ($name) = @_;
    return defined $name && _lookup($name) ? 1 : '';
}

sub acquire {
    my ($name) = @_;
    return (EINVAL, undef) unless defined $name;
    return _acquire($name, 1);
}

sub tryacquire {
    my ($name) = @_;
    return (EINVAL, undef) unless defined $name;
    return _acquire($name, 0);
}

sub release {
    my ($zk) = @_;
    return EINVAL unless _is_connection($zk);
    return $zk->_release;
}

sub error {
    my ($zk, $ret, $msg) = @_;
    return EINVAL unless _is_connection($zk) && defined $ret;
    my $status = $zk->_error($ret);
    warn(error_text($zk, $ret, $msg) . "\n") if defined $msg;
    return $status;
}

# The log line of error(): the caller's message with the cluster and the code.
sub error_text {
    my ($zk, $ret, $msg) = @_;
    return sprintf('%s (ZooKeeper cluster %s, error %d)', $msg, $zk->name, $ret);
}

sub _is_connection { return ref $_[0] && eval { $_[0]->isa('Net::ZooKeeper::Cluster::Connection') } }

package Net::ZooKeeper::Cluster::Connection;    ## no critic (Modules::ProhibitMultiplePackages)

sub name         { return $_[0]->_fetch('name') }
sub hosts        { return $_[0]->_fetch('hosts') }
sub recv_timeout { return $_[0]->_fetch('recv_timeout') }
sub generation   { return $_[0]->_fetch('generation') }
sub released     { return $_[0]->_fetch('released') ? 1 : '' }

1;

__END__

=head1 NAME

Net::ZooKeeper::Cluster - shared per-process ZooKeeper connections, mod_zookeeper style

=head1 SYNOPSIS

  use Net::ZooKeeper qw(:errors);
  use Net::ZooKeeper::Cluster qw(:status);

  Net::ZooKeeper::Cluster::define('main', 'zk1:2181,zk2:2181,zk3:2181', 4000);

  my ($rc, $zk) = Net::ZooKeeper::Cluster::acquire('main');
  die "no connection: $rc" unless $rc == SUCCESS;

  my $zkh = $zk->handle;                 # a Net::ZooKeeper handle
  if (!defined $zkh->get('/config')) {
      my $ret = $zkh->get_error;
      if (Net::ZooKeeper::Cluster::error($zk, $ret, 'get /config failed')
          == ECONNABORTED) {
          # the connection is replaced once every holder has released it
      }
  }
  Net::ZooKeeper::Cluster::release($zk);

=head1 DESCRIPTION

This module gives any Perl process what mod_zookeeper gives httpd modules: one
ZooKeeper connection per named cluster per process, shared by every interpreter
and thread of the process, handed out with acquire and release under a shared
lock. A holder that finds the connection lost reports it with error(); the
connection is then marked failed, and the next acquire after every holder has
released makes a new connection (a new session).

It is meant for prefork servers such as Starman and other Plack servers, daemons
and plain scripts. L<Apache2::ZooKeeper> builds the httpd version on it.

Connections are made lazily, by the first acquire in a process. A connection made
before a fork is never used by the child: the child's first acquire makes its own.
An expired session is noticed by the next acquire, which then makes a new
connection once every holder has released the old one.

All statuses are APR's numeric values, the same as C<APR::Const>'s where that has
them, so code shared with mod_perl handlers can compare them directly.

=head1 FUNCTIONS

=head2 define($name, $hosts [, $recv_timeout])

Defines a cluster for this process: a name, a host list as for
L<Net::ZooKeeper/new()> (C<host:port> pairs separated by commas, optionally
followed by a chroot path), and the receive timeout in milliseconds, used as the
session timeout (default 4000). Returns SUCCESS; EINVAL for a missing name, an
invalid host list or a timeout that is not an integer in 1 .. 1073741823; EEXIST
if the name is already defined with other settings (defining it again with the
same settings is allowed).

=head2 hosts_error($hosts)

Undef if C<$hosts> is a valid host list (as L<Net::ZooKeeper/new()> checks it:
C<host:port> pairs with non-zero ports whose host names resolve), else a message
saying what is wrong.

=head2 lookup($name)

True if a cluster of that name is defined in this process.

=head2 acquire($name)

Returns C<($status, $zk)>. On SUCCESS, C<$zk> is a connection object (see below)
that holds a shared lock on the cluster's connection until it is released. If
the connection was marked failed and still has holders, acquire waits for them
to release it, at most twice the receive timeout (at least one second), then
gives EBUSY. Other statuses: NOTFOUND for a name that is not defined,
ECONNABORTED if no connection can be made, EINVAL for a missing name. C<$zk> is
undef unless the status is SUCCESS.

=head2 tryacquire($name)

Like acquire(), but returns EBUSY at once where acquire() would wait (a
reconnect is pending).

=head2 release($zk)

Gives the shared lock back. Returns SUCCESS, or EINVAL if C<$zk> is not a
connection object or was already released. A connection object that goes out of
scope without release (for example in a handler that dies) releases its lock
when it is destroyed.

=head2 error($zk, $ret, $msg)

Reports that a ZooKeeper call made through C<$zk> failed with result code
C<$ret> (from C<get_error>). If C<$msg> is defined it is written with C<warn>,
with the cluster name and the code. For ZCONNECTIONLOSS, ZINVALIDSTATE and
ZSESSIONEXPIRED the connection is marked failed and ECONNABORTED is returned:
release C<$zk>, then acquire again to get the new connection. Other codes return
SUCCESS; EINVAL for bad arguments.

=head2 error_text($zk, $ret, $msg)

The text error() writes: C<$msg> with the cluster name and the code.

=head1 CONNECTION OBJECTS

=over 4

=item $zk->handle

A L<Net::ZooKeeper> handle on the shared connection, usable with the whole API,
watches included. Destroying it does not close the shared session. Use it only
while C<$zk> is held.

=item $zk->name, $zk->hosts, $zk->recv_timeout

The cluster's settings.

=item $zk->generation

A counter of the connections made for this cluster in this process. When it
changes between two acquires, a new session was made: ephemeral nodes and watches
of the old session are gone (watches set through the old connection report a
ZOO_SESSION_EVENT with ZOO_EXPIRED_SESSION_STATE when it is replaced).

=item $zk->released

True once release() was called (or, for a lease of L<Apache2::ZooKeeper>, once
the request it was acquired in ended).

=back

=head1 CONSTANTS

C<:status> exports SUCCESS (0), EBUSY (70025), ECONNABORTED (103), EINVAL (22),
ENOLOCK (20009), NOTFOUND (70015, APR_NOTFOUND: no cluster of that name) and
EEXIST (17). DEFAULT_RECV_TIMEOUT (4000) can be imported too.
Net::ZooKeeper::Cluster::MAX_RECV_TIMEOUT (1073741823), the largest receive
timeout define() accepts, is not exported.

=head1 SEE ALSO

L<Net::ZooKeeper>, L<Apache2::ZooKeeper>.

=head1 LICENSE

Apache License, Version 2.0.

=cut
