package Net::ZooKeeper::Recipe::Barrier;

# A barrier that is up while its node exists: kazoo's Barrier and Curator's
# DistributedBarrier (the same protocol; they differ in how the node is
# made).  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper qw(:errors :events :states);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'")
        unless $layout eq 'curator' || $layout eq 'kazoo';
    return $self;
}

sub layout { $_[0]{layout} }
sub error  { $_[0]{error} // ZOK }

# A barrier keeps nothing that a lost session could take.
sub _session_gone { }

# kazoo: ensure_path (persistent nodes, empty data).  Curator: the missing
# parents as containers, the barrier node itself persistent with the
# client's default data (the local address), NodeExists ignored.
sub create {
    my ($self) = @_;
    $self->{error} = ZOK;
    my $zkh = $self->{handle};
    my $path = $self->{path};
    while (1) {
        if ($self->{layout} eq 'kazoo') {
            return 1 if $self->ensure_path($path);
        }
        else {
            my ($parent) = $path =~ m{\A(.+)/[^/]+\z};
            if (!defined $parent || $self->ensure_path($parent, container => 1)) {
                return 1 if $zkh->create($path, Net::ZooKeeper::Recipe::local_address(), acl => $self->{acl});
                return 1 if $zkh->get_error == ZNODEEXISTS;
                next if $zkh->get_error == ZNONODE;    # a container parent went meanwhile
            }
        }
        return 0 unless $self->retryable($zkh->get_error, Net::ZooKeeper::Recipe::now() + 30);
    }
}

# Deletes the node: true if this call removed it, false if it was not there
# (error ZNONODE) or could not be removed.
sub remove {
    my ($self) = @_;
    $self->{error} = ZOK;
    my $zkh = $self->{handle};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    my $tried = 0;
    while (1) {
        return 1 if $zkh->delete($self->{path});
        my $rc = $zkh->get_error;
        # After a lost connection our own delete may have gone through.
        if ($rc == ZNONODE) {
            $self->{error} = $rc;
            return $tried ? 1 : 0;
        }
        return 0 unless $self->retryable($rc, $deadline);
        $tried = 1;
    }
}

# True while the barrier is up (its node exists).
sub is_set {
    my ($self) = @_;
    my $zkh = $self->{handle};
    return 1 if $zkh->exists($self->{path});
    $self->{error} = $zkh->get_error;
    return 0;
}

# Waits until the node is gone, re-watching on every event (a change of its
# data or a connection event is not the end), as Curator's waitOnBarrier.
sub wait {
    my ($self, %o) = @_;
    Carp::croak('wait: invalid number of arguments') if @_ % 2 == 0;
    $self->{error} = ZOK;
    my $zkh = $self->{handle};
    my $deadline = defined $o{timeout} ? Net::ZooKeeper::Recipe::now() + $o{timeout} : undef;
    while (1) {
        my $w = $zkh->watch;
        unless ($zkh->exists($self->{path}, watch => $w)) {
            my $rc = $zkh->get_error;
            return 1 if $rc == ZNONODE;
            next if $self->retryable($rc, $deadline);
            return 0;
        }
        $self->wait_watch($w, $deadline) or return 0;
    }
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Barrier - a barrier shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Barrier;

  my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $barrier = Net::ZooKeeper::Recipe::Barrier->new(
      handle => $zkh,
      path   => '/barriers/deploy',
      layout => 'curator',              # or 'kazoo'
  );

  # the coordinator puts the barrier up ...
  $barrier->create or die "create: error ", $barrier->error, "\n";

  # ... workers (Perl, Curator's DistributedBarrier, kazoo's Barrier) wait ...
  if (fork == 0) {
      my $h = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
      my $b = Net::ZooKeeper::Recipe::Barrier->new(handle => $h, path => '/barriers/deploy');
      exit($b->wait(timeout => 30) ? 0 : 1);
  }

  # ... until it is removed
  $barrier->remove;
  wait;
  print "worker passed\n" if $? == 0;

=head1 DESCRIPTION

The barrier is up while its node exists: waiters watch the node and pass
when it is deleted.  The protocol is that of kazoo's C<Barrier> and
Curator's C<DistributedBarrier>; a Perl process may put up, wait on or
remove a barrier that Java and Python processes use.  The layouts differ
only in how create() makes the node:

=over 4

=item C<< layout => 'curator' >> (default)

As C<DistributedBarrier.setBarrier()>: the missing parents are created as
containers (C<creatingParentContainersIfNeeded>), the barrier node as a
persistent node holding the Curator client's default data, the local
host's address as text.

=item C<< layout => 'kazoo' >>

As C<Barrier.create()>: C<ensure_path>, persistent nodes with empty data.

=back

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, layout => 'curator'|'kazoo', acl => $acl)

  my $b = Net::ZooKeeper::Recipe::Barrier->new(handle => $zkh, path => '/barriers/b');

Does not contact the server.  Unknown options croak.

=item create()

  $b->create or warn "error ", $b->error;

Puts the barrier up (an existing node is fine).  True on success.

=item remove()

  print "removed\n" if $b->remove;

Deletes the barrier node, releasing every waiter.  True if this call removed
it, false if it was not there (error() ZNONODE) or on error, as kazoo's
C<remove()> returns.

=item wait(timeout => $seconds)

  $b->wait(timeout => 10) or print "still up after 10 s\n";

Returns true as soon as the barrier node is gone (at once if it is not
there), false on timeout (error() ZOPERATIONTIMEOUT) or error.  It waits on
a watch of the node (no polling), watching again after other events, as
Curator's C<waitOnBarrier> does; without a timeout it waits for ever.
Connection losses are retried until the deadline.

=item is_set()

  print "barrier is up\n" if $b->is_set;

True while the barrier node exists.

=item layout(), error()

The layout; the last error code (ZOK if none).

=back

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::DoubleBarrier>, L<Net::ZooKeeper::Recipe>,
Curator's DistributedBarrier, kazoo's C<kazoo.recipe.barrier.Barrier>.

=cut
