package Net::ZooKeeper::Recipe::Semaphore;

# A counting semaphore (N leases) in Curator's (InterProcessSemaphoreV2) or
# kazoo's (Semaphore) node layout.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(:errors :events :states :create_modes :node_flags);
use Net::ZooKeeper::Recipe::Lock ();
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout identifier max_leases on_lost on_state));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'")
        unless $layout eq 'curator' || $layout eq 'kazoo';
    my $max = $self->{max_leases} //= 1;
    Carp::croak("$class->new: max_leases must be a positive integer")
        unless $max =~ /\A[0-9]+\z/ && $max > 0;
    for my $cb (qw(on_lost on_state)) {
        Carp::croak("$class->new: $cb must be a code reference")
            if defined $self->{$cb} && ref $self->{$cb} ne 'CODE';
    }
    my $path = $self->{path};
    if ($layout eq 'kazoo') {
        # kazoo: the leases are the children of the path itself, so its lock
        # is a sibling (path + "-__lock__"), holding the identifier as well.
        my $id = $self->{identifier} // '';
        utf8::encode($id) if utf8::is_utf8($id);
        $self->{data} = $id;
        $self->{dir} = $path;
        # One lease name per object (uuid4().hex), not sequential.
        ($self->{lease_name} = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
        $self->{lock} = Net::ZooKeeper::Recipe::Lock->new(
            handle => $self->{handle}, path => "$path-__lock__", layout => 'kazoo',
            identifier => $id, acl => $self->{acl});
    }
    else {
        # Curator: an InterProcessMutex at <path>/locks (the client's default
        # data), leases under <path>/leases holding the node data, which
        # defaults to the client's default data too (the local address).
        $self->{data} = $self->{identifier} // Net::ZooKeeper::Recipe::local_address();
        $self->{dir} = "$path/leases";
        $self->{lock} = Net::ZooKeeper::Recipe::Lock->new(
            handle => $self->{handle}, path => "$path/locks", layout => 'curator', acl => $self->{acl});
    }
    $self->{pid} = $$;
    return $self;
}

sub layout     { $_[0]{layout} }
sub max_leases { $_[0]{max_leases} }
sub data       { $_[0]{data} }
sub node       { $_[0]{node} }
sub error      { $_[0]{error} // ZOK }

# The lease node names (Curator's getParticipantNodes); an absent path has none.
sub participant_nodes {
    my ($self) = @_;
    my @children = $self->{handle}->get_children($self->{dir});
    return @children;
}

# The data of every lease node, unordered (kazoo's lease_holders): the
# identifiers (kazoo) or node data (Curator).  Nodes gone meanwhile are left out.
sub lease_holders {
    my ($self) = @_;
    my $zkh = $self->{handle};
    my @holders;
    for my $child ($self->participant_nodes) {
        my $data = $zkh->get("$self->{dir}/$child");
        push @holders, $data if defined $data;
    }
    return @holders;
}

# After a failed call: true (after a pause) if it is worth another try
# before the deadline.  Remembers a lost session.
# A session gone while a lease is held: it is lost.
sub _session_gone {
    my ($self) = @_;
    $self->mark_lost if defined $self->{node};
}

# kazoo's _ensure_path, once per object: a path that already existed must
# hold our max_leases if its data is a number (other data is ignored, as
# kazoo does); a path we created gets it.  Dies on a disagreement, as
# kazoo raises ValueError.
sub _kazoo_path {
    my ($self, $deadline) = @_;
    my $zkh = $self->{handle};
    my $path = $self->{path};
    while (1) {
        my $existed = $zkh->exists($path);
        my $rc = $zkh->get_error;
        if (!$existed && $rc == ZNONODE) {
            my ($parent) = $path =~ m{\A(.+)/[^/]+\z};
            ($parent ? $self->ensure_path($parent) : 1)
                or $self->retryable($zkh->get_error, $deadline) ? next : return 0;
            if ($zkh->create($path, $self->{max_leases}, acl => $self->{acl})) {
                $self->{assured_path} = 1;
                return 1;
            }
            $rc = $zkh->get_error;
            next if $rc == ZNODEEXISTS;
            $self->retryable($rc, $deadline) ? next : return 0;
        }
        elsif (!$existed) {
            $self->retryable($rc, $deadline) ? next : return 0;
        }
        my $data = $zkh->get($path);
        unless (defined $data) {
            $rc = $zkh->get_error;
            next if $rc == ZNONODE || $self->retryable($rc, $deadline);
            return 0;
        }
        $self->{assured_path} = 1;
        # int() of Python: optional blanks and sign around the digits.
        if ($data =~ /\A\s*([+-]?[0-9]+)\s*\z/ && $1 != $self->{max_leases}) {
            Carp::croak("Inconsistent max leases: " . (0 + $1) . ", expected: $self->{max_leases}");
        }
        return 1;
    }
}

# Our lease node, created if need be; returns its name or undef.  A create
# that fails with ZCONNECTIONLOSS may have been applied: Curator's protected
# name is looked for before creating again; kazoo's fixed name simply
# exists then.
sub _create_lease {
    my ($self, $deadline) = @_;
    my $curator = $self->{layout} eq 'curator';
    my $prefix = $curator ? '_c_' . Net::ZooKeeper::Recipe::uuid() . '-lease-' : $self->{lease_name};
    # Curator creates <path>/leases with its parents as containers; kazoo's
    # path exists already (ensured before), and its lease has a fixed name.
    return $self->protected_create(
        dir => $self->{dir}, prefix => $prefix, name => $prefix,
        create => [ $curator ? (mode => ZOO_EPHEMERAL_SEQUENTIAL) : (flags => ZOO_EPHEMERAL) ],
        container => $curator, exists_ok => !$curator, deadline => $deadline);
}

sub acquire {
    my ($self, %o) = @_;
    Carp::croak('acquire: invalid number of arguments') if @_ % 2 == 0;
    return $self->_acquire($o{timeout}, 0);
}

sub try_acquire {
    my ($self) = @_;
    return $self->_acquire(0, 1);
}

sub _acquire {
    my ($self, $timeout, $no_wait) = @_;
    Carp::croak('acquire: the semaphore object belongs to another process') if $$ != $self->{pid};
    # One lease per object, as kazoo's Semaphore (which returns True for a
    # held lease); Curator hands out a Lease object per acquire, here a
    # second object takes a second lease.
    Carp::croak('acquire: this semaphore object already holds a lease') if defined $self->{node};
    $self->{error} = ZOK;
    my $deadline = defined $timeout ? Net::ZooKeeper::Recipe::now() + $timeout : undef;
    if ($self->{layout} eq 'kazoo' && !$self->{assured_path}) {
        $self->_kazoo_path($deadline) or return 0;
    }
    # Both libraries take their lock first and keep it while they wait for a
    # lease, so that the waiters queue on the lock (no herd on the leases).
    my $lock = $self->{lock};
    my $got = $no_wait ? $lock->try_acquire
        : $lock->acquire(defined $deadline ? (timeout => _left($deadline)) : ());
    unless ($got) {
        $self->{error} = $lock->error == ZOK ? ZOPERATIONTIMEOUT : $lock->error;
        return 0;
    }
    my $ok = eval { $self->_acquire_locked($deadline, $no_wait) };
    my $err = $@;
    $lock->release;
    die $err unless defined $ok;
    return $ok;
}

sub _left {
    my ($deadline) = @_;
    my $left = $deadline - Net::ZooKeeper::Recipe::now();
    return $left > 0 ? $left : 0;
}

# Under the lock: take a lease, waiting for the leases' children to change.
sub _acquire_locked {
    my ($self, $deadline, $no_wait) = @_;
    my $zkh = $self->{handle};
    my $dir = $self->{dir};
    my $max = $self->{max_leases};
    my $node;
    if ($self->{layout} eq 'curator') {
        # InterProcessSemaphoreV2.internalAcquire1Lease: create the lease node
        # first, then count the children: ours is held once there are at most
        # maxLeases of them; if ours is missing, start over.
        $node = $self->_create_lease($deadline);
        return 0 unless defined $node;
    }
    while (1) {
        my $w = $zkh->watch;
        my @children = $zkh->get_children($dir, watch => $w);
        my $rc = $zkh->get_error;
        if ($rc != ZOK) {
            next if $self->retryable($rc, $deadline);
            return $self->_give_up($node);
        }
        if ($self->{layout} eq 'curator') {
            unless (grep { $_ eq $node } @children) {
                $node = $self->_create_lease($deadline);
                return 0 unless defined $node;
                next;
            }
            return $self->_held($node) if @children <= $max;
        }
        else {
            # kazoo's _get_lease: create our lease only while fewer than
            # max_leases children exist, then check that it exists.
            if (@children < $max || grep { $_ eq $self->{lease_name} } @children) {
                $node = $self->_create_lease($deadline);
                return 0 unless defined $node;
                return $self->_held($node);
            }
        }
        return $self->_give_up($node) if $no_wait;
        my $left = defined $deadline ? $deadline - Net::ZooKeeper::Recipe::now() : 60;
        return $self->_give_up($node, ZOPERATIONTIMEOUT) if $left <= 0;
        $w->wait(timeout => int($left * 1000) + 1);
    }
}

sub _held {
    my ($self, $node) = @_;
    $self->{node} = $node;
    $self->{lost} = $self->{suspended} = 0;
    $self->_watch_node;
    return 1;
}

# Not acquired: remove our lease node, if any (Curator's returnLease, kazoo's
# _best_effort_cleanup).
sub _give_up {
    my ($self, $node, $rc) = @_;
    $self->{error} = $rc if defined $rc;
    return 0 unless defined $node;
    my $zkh = $self->{handle};
    for (1 .. 3) {
        last if $zkh->delete("$self->{dir}/$node") || $zkh->get_error == ZNONODE;
        last unless Net::ZooKeeper::Recipe::transient($zkh->get_error);
        $self->backoff;
    }
    return 0;
}

# Watch our node: deleted, or the session gone, means it is lost.
sub _watch_node {
    my ($self) = @_;
    $self->watch_held("$self->{dir}/$self->{node}");
}

sub _holds {
    my ($self, $node) = @_;
    return defined $self->{node} && $self->{node} eq $node;
}

sub lost {
    my ($self) = @_;
    return 1 if $self->{lost};
    return 0 unless defined $self->{node};
    my $w = $self->{watch};
    my ($event, $state) = ($w->{event}, $w->{state});
    if (Net::ZooKeeper::Recipe::ends_hold($event, $state)) {
        $self->mark_lost;
        return 1;
    }
    $self->_watch_node if $event == ZOO_CHANGED_EVENT;
    # A watch that heard the connection go may not hear the expiry that
    # follows (seen: the handle's calls fail with ZSESSIONEXPIRED while the
    # watch still says connecting): ask the server, so that an expired
    # session is never taken for a suspended one.
    $self->_probe if Net::ZooKeeper::Recipe::suspends($event, $state);
    return $self->{lost} ? 1 : 0;
}

# Looks for our lease node: gone, or the session gone, means lost; found
# means the session is back (the watch is armed again).
sub _probe {
    my ($self) = @_;
    my $zkh = $self->{handle};
    if ($zkh->exists("$self->{dir}/$self->{node}")) {
        $self->_watch_node;
        return;
    }
    my $rc = $zkh->get_error;
    $self->mark_lost if $rc == ZNONODE || Net::ZooKeeper::Recipe::session_gone($rc);
}

# True while the connection is lost and the session may or may not live.
sub suspended {
    my ($self) = @_;
    return 0 unless defined $self->{node} && !$self->lost;
    return $self->watched_suspended;
}

sub is_acquired {
    my ($self) = @_;
    return defined $self->{node} && !$self->lost ? 1 : 0;
}

sub release {
    my ($self) = @_;
    return 0 unless defined $self->{node};
    my $was_lost = $self->lost;
    my $node = delete $self->{node};
    delete $self->{watch};
    my $zkh = $self->{handle};
    # Curator deletes guaranteed(), kazoo through its retry: retried while
    # the outcome is unknown; a session that is gone took the node with it.
    for (1 .. 20) {
        last if $zkh->delete("$self->{dir}/$node");
        my $rc = $zkh->get_error;
        last if $rc == ZNONODE || !Net::ZooKeeper::Recipe::transient($rc);
        $self->backoff;
    }
    $self->{lost} = $self->{suspended} = 0;
    return $was_lost ? 0 : 1;
}

sub guard {
    my ($self, %o) = @_;
    return undef unless $self->_acquire($o{timeout}, 0);
    return $self->guard_for;
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' || $$ != ($self->{pid} // 0);
    if (defined $self->{node}) {
        local ($@, $!, $?);
        eval { $self->release };
    }
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Semaphore - a counting semaphore shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Semaphore;

  my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $sem = Net::ZooKeeper::Recipe::Semaphore->new(
      handle     => $zkh,
      path       => '/semaphores/crawler',
      layout     => 'curator',            # or 'kazoo'
      max_leases => 3,
      on_lost    => sub { warn "lease lost: stop crawling\n" },
  );

  {
      my $guard = $sem->guard(timeout => 30) or die "all leases taken for 30 s\n";
      # one of at most 3 lease holders, Perl, Curator
      # (InterProcessSemaphoreV2) or, with layout => 'kazoo', kazoo
      # (Semaphore) processes alike
      die "lost the lease\n" if $sem->lost;
      print "holding lease ", $sem->node, " of ", scalar($sem->participant_nodes), "\n";
  }   # released here, when the block is left

=head1 DESCRIPTION

A semaphore with C<max_leases> leases: at most that many holders at a time.
Both libraries serialize their acquirers with a lock, kept while the
acquirer waits for a lease, and wake the one waiter on a change of the
lease nodes:

=over 4

=item C<< layout => 'curator' >> (default)

Curator's InterProcessSemaphoreV2 (Curator 5.4).  The lock is an
InterProcessMutex at C<E<lt>pathE<gt>/locks> (the Curator layout of
L<Net::ZooKeeper::Recipe::Lock>).  Under it the acquirer creates its lease
node C<E<lt>pathE<gt>/leases/_c_E<lt>uuidE<gt>-lease-E<lt>seqE<gt>>
(EPHEMERAL_SEQUENTIAL, protected, missing parents as containers; the data
is C<identifier>, else the local address as Curator's default data), then
lists the leases: with at most C<max_leases> children (ours included) the
lease is held; otherwise it waits for the children to change and counts
again (if our node is missing, it makes a new one).  Each participant
gives its own C<max_leases>; nothing checks that they agree.

=item C<< layout => 'kazoo' >>

kazoo's Semaphore (kazoo 2.8).  The leases are the children of C<path>
itself, named C<E<lt>uuid hexE<gt>> (one name per object, EPHEMERAL, not
sequential) and holding C<identifier> (UTF-8); the lock is a kazoo Lock at
the sibling C<E<lt>pathE<gt>-__lock__>.  Under the lock the acquirer lists
the leases and creates its node only while fewer than C<max_leases>
exist, else waits for a change.  The first acquire() of an object ensures
C<path>: a path it creates gets C<max_leases> as its data (decimal text);
an existing path whose data is a number different from C<max_leases>
makes acquire() croak C<Inconsistent max leases: N, expected: M>, as
kazoo raises ValueError (other data is ignored).  Delete the path to
change the number.

=back

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

Options: C<layout> (C<'curator'> or C<'kazoo'>), C<max_leases> (a positive
integer, default 1), C<identifier> (the lease node data), C<acl> (default
ZOO_OPEN_ACL_UNSAFE), C<on_lost> (a code reference, see lost()),
C<on_state> (a code reference, see state()).  Unknown options croak.  new() does not contact the server.

=item acquire(timeout => $seconds)

Waits up to C<$seconds> (the lock and the lease together; without a
timeout, for ever) for a lease.  Returns true once held, false on timeout
or error, after removing its lease node; error() tells which
(ZOPERATIONTIMEOUT for the timeout).  An object holds one lease at a time:
acquire() while it holds one croaks (use another object for another lease).

=item try_acquire()

acquire() without waiting: true if the lock and a lease were free at once.

=item release()

Deletes the lease node.  True if the lease was held until then, false if
none was held or it had been lost meanwhile.

=item guard(timeout => $seconds)

acquire(), returning an object that releases the lease when it goes out of
scope (or on C<< $guard->release >>), or undef if no lease was acquired.

=item lost(), suspended(), is_acquired(), state()

  warn "lease: ", $sem->state, "\n" unless $sem->state eq 'held';

As for L<Net::ZooKeeper::Recipe::Lock>: lost() is true once the lease
node was deleted by someone else or the session expired (a lost lease is
never reported held; release() resets the object); C<on_lost> is called
once then; suspended() is true while the connection is lost.  While the
watch on the lease node says the connection is lost, lost() asks the
server about the node (one exists() call), because the watch may miss the
expiry that follows: a session the server expired is reported lost, not
suspended.  state() is C<'idle'>, C<'held'>, C<'suspended'> or C<'lost'>,
and C<on_state> is called with the semaphore and C<'suspended'>,
C<'reconnected'> or C<'lost'>, as for the lock.

=item participant_nodes()

The names of the lease nodes (Curator's getParticipantNodes()).

=item lease_holders()

The data of every lease node, unordered (kazoo's lease_holders()): the
holders' identifiers.

=item node(), max_leases(), layout(), data(), error()

Our lease node's name while held; the number of leases; the layout; the
node data; the last error code (ZOK if none).

=back

A semaphore object belongs to the process that made it.  Destroying an
object that holds a lease releases it.  Curator's SharedCount as the
source of the number of leases is not supported: give the number.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe>, L<Net::ZooKeeper::Recipe::Lock>, Curator's
InterProcessSemaphoreV2, kazoo's C<kazoo.recipe.lock.Semaphore>.

=cut
