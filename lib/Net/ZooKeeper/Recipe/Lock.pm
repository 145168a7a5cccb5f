package Net::ZooKeeper::Recipe::Lock;

# An exclusive lock in Curator's (InterProcessMutex) or kazoo's (Lock) node
# layout.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(:errors :events :states :create_modes);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

my %LAYOUT = (
    # Curator: every child of the lock node is a contender, sorted by what
    # follows the last "lock-" in its name (StandardLockInternalsDriver).
    curator => { name => 'lock-' },
    # kazoo: the children matching (__lock__)(-?\d{10})$, sorted by that
    # number (kazoo.recipe.lock.Lock._get_predecessor).
    kazoo   => { name => '__lock__' },
);

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout identifier on_lost on_state extra_lock_patterns));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'") unless $LAYOUT{$layout};
    for my $cb (qw(on_lost on_state)) {
        Carp::croak("$class->new: $cb must be a code reference")
            if defined $self->{$cb} && ref $self->{$cb} ne 'CODE';
    }
    if ($layout eq 'kazoo') {
        # kazoo writes the identifier (UTF-8), the empty string without one.
        my $id = $self->{identifier} // '';
        utf8::encode($id) if utf8::is_utf8($id);
        $self->{data} = $id;
        my @extra = @{ $self->{extra_lock_patterns} // [] };
        my $alt = join '|', map { quotemeta } '__lock__', @extra;
        $self->{contender_re} = qr/(?:$alt)(-?\d{10})\z/;
        # One prefix per object, as kazoo makes one per Lock.
        ($self->{prefix} = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
        $self->{prefix} .= $self->_node_name;
    }
    else {
        Carp::croak("$class->new: extra_lock_patterns is for the kazoo layout") if $self->{extra_lock_patterns};
        # Curator writes the client's default data: the local host's address
        # as text (CuratorFrameworkFactory.getLocalAddress()).
        $self->{data} = $self->{identifier} // Net::ZooKeeper::Recipe::local_address();
    }
    $self->{count} = 0;
    $self->{pid} = $$;
    return $self;
}


# The contender node's name after the prefix (Curator's lockName, kazoo's
# _NODE_NAME).  Subclasses (Recipe::ReadWriteLock) name theirs otherwise.
sub _node_name { $LAYOUT{ $_[0]{layout} }{name} }

# The contender our node (at $index of @$order) waits for; undef when the
# lock is ours.  Here the one just ahead; a read lock (Recipe::ReadWriteLock)
# waits for writers only.
sub _blocker {
    my ($self, $order, $index) = @_;
    return $index == 0 ? undef : $order->[$index - 1];
}

sub layout { $_[0]{layout} }
sub node   { $_[0]{node} }
sub data   { $_[0]{data} }

# The contenders in lock order (names of children of the lock node).
sub _sorted {
    my ($self, @children) = @_;
    return Net::ZooKeeper::Recipe::in_order($self->{layout}, 'lock-', $self->{contender_re}, @children);
}

sub contenders {
    my ($self) = @_;
    my @children = $self->{handle}->get_children($self->{path});
    return $self->_sorted(@children);
}

# The name (not path) of our contender node, created if need be.  A create
# that fails with ZCONNECTIONLOSS may have been applied: before creating
# again look for a child with our prefix, as Curator's protected mode and
# kazoo do, so that no orphan node is left.
sub _create_node {
    my ($self, $deadline) = @_;
    my $curator = $self->{layout} eq 'curator';
    my $prefix = $curator ? '_c_' . ($self->{uuid} = Net::ZooKeeper::Recipe::uuid()) . '-' : $self->{prefix};
    # The lock node is made if missing: Curator makes it (and its parents)
    # containers, kazoo persistent nodes.
    return $self->protected_create(
        dir => $self->{path}, prefix => $prefix, name => $prefix . ($curator ? $self->_node_name : ''),
        create => [ mode => ZOO_EPHEMERAL_SEQUENTIAL ], container => $curator, deadline => $deadline);
}

# A session gone while the lock is held: it is lost.
sub _session_gone {
    my ($self) = @_;
    $self->mark_lost if $self->{count};
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
    Carp::croak('acquire: the lock object belongs to another process') if $$ != $self->{pid};
    $self->{error} = ZOK;
    if ($self->{count}) {
        # Curator's InterProcessMutex is re-entrant (per thread; here per
        # object); kazoo's Lock is not, and would wait for itself forever.
        Carp::croak('acquire: a kazoo-layout lock is not re-entrant and is already held')
            if $self->{layout} eq 'kazoo';
        return 0 if $self->lost;
        $self->{count}++;
        return 1;
    }
    my $zkh = $self->{handle};
    my $deadline = defined $timeout ? Net::ZooKeeper::Recipe::now() + $timeout : undef;
    my $node = $self->_create_node($deadline);
    return 0 unless defined $node;
    my $parent = $self->{path};
    while (1) {
        my @children = $zkh->get_children($parent);
        my $rc = $zkh->get_error;
        if ($rc != ZOK) {
            next if $self->retryable($rc, $deadline);
            return $self->_give_up($node);
        }
        my @order = $self->_sorted(@children);
        my ($index) = grep { $order[$_] eq $node } 0 .. $#order;
        unless (defined $index) {
            # Our node is gone (deleted by someone, or by an expiry we have
            # not heard of yet): start over with a new one.
            $node = $self->_create_node($deadline);
            return 0 unless defined $node;
            next;
        }
        my $ahead = $self->_blocker(\@order, $index);
        unless (defined $ahead) {
            $self->{node} = $node;
            $self->{count} = 1;
            $self->{lost} = $self->{suspended} = 0;
            $self->_watch_node;
            return 1;
        }
        return $self->_give_up($node) if $no_wait;
        # Wait for the one contender that blocks us only, so that a release
        # wakes one waiter (no herd).  get() arms no watch on a node that is
        # already gone.
        my $w = $zkh->watch;
        unless (defined $zkh->get("$parent/$ahead", watch => $w, data_read_len => 0)) {
            $rc = $zkh->get_error;
            next if $rc == ZNONODE || $self->retryable($rc, $deadline);
            return $self->_give_up($node);
        }
        my $left = defined $deadline ? $deadline - Net::ZooKeeper::Recipe::now() : 60;
        return $self->_give_up($node, ZOPERATIONTIMEOUT) if $left <= 0;
        $w->wait(timeout => int($left * 1000) + 1);
    }
}

# Not acquired: remove our contender node (the timeout, try_acquire or an
# error) so that nobody waits behind it.
sub _give_up {
    my ($self, $node, $rc) = @_;
    $self->{error} = $rc if defined $rc;
    my $zkh = $self->{handle};
    for (1 .. 3) {
        last if $zkh->delete("$self->{path}/$node") || $zkh->get_error == ZNONODE;
        last unless Net::ZooKeeper::Recipe::transient($zkh->get_error);
        $self->backoff;
    }
    return 0;
}

# Watch our node: deleted, or the session gone, means it is lost.
sub _watch_node {
    my ($self) = @_;
    $self->watch_held("$self->{path}/$self->{node}");
}

sub _holds {
    my ($self, $node) = @_;
    return $self->{count} && defined $self->{node} && $self->{node} eq $node;
}

sub lost {
    my ($self) = @_;
    return 1 if $self->{lost};
    return 0 unless $self->{count};
    my $w = $self->{watch};
    my ($event, $state) = ($w->{event}, $w->{state});
    if (Net::ZooKeeper::Recipe::ends_hold($event, $state)) {
        $self->mark_lost;
        return 1;
    }
    # Someone wrote our node's data: still ours, watch again.
    $self->_watch_node if $event == ZOO_CHANGED_EVENT;
    return $self->{lost} ? 1 : 0;
}

# True while the connection is lost and the session may or may not live:
# the lock can not be assumed held until it is back (Curator's SUSPENDED).
sub suspended {
    my ($self) = @_;
    return 0 unless $self->{count} && !$self->lost;
    return $self->watched_suspended;
}

sub is_acquired {
    my ($self) = @_;
    return $self->{count} && !$self->lost ? 1 : 0;
}

sub count { $_[0]{count} }

sub error { $_[0]{error} // ZOK }

sub release {
    my ($self) = @_;
    return 0 unless $self->{count};
    return 1 if --$self->{count};
    my $node = delete $self->{node};
    my $was_lost = $self->lost;
    delete $self->{watch};
    my $zkh = $self->{handle};
    # Deleting is retried while the outcome is unknown; a session that is
    # gone has taken the ephemeral node with it.
    for (1 .. 20) {
        last if $zkh->delete("$self->{path}/$node");
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
    if ($self->{count}) {
        $self->{count} = 1;
        local ($@, $!, $?);
        eval { $self->release };
    }
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Lock - an exclusive lock shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Lock;

  my $zkh  = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $lock = Net::ZooKeeper::Recipe::Lock->new(
      handle  => $zkh,
      path    => '/locks/nightly-report',
      layout  => 'curator',              # or 'kazoo'
      on_lost => sub { warn "lock lost: stop writing\n" },
  );

  {
      my $guard = $lock->guard(timeout => 30) or do { print "busy: not acquired within 30 s\n"; last };
      # exclusive against Perl, Curator (InterProcessMutex) and, with
      # layout => 'kazoo', kazoo (Lock) processes
      die "lost the lock\n" if $lock->lost;
      print "working as ", $lock->node, "\n";
  }   # released here, where $guard goes

=head1 DESCRIPTION

The usual ZooKeeper lock: each contender creates an ephemeral sequential
child of the lock node; the lowest sequence holds the lock, and every other
contender watches only the contender just ahead of it (no herd effect when
the lock is released).  The node names, their data and the order are
those of the chosen library, so Perl processes contend for the same lock
as Java and Python ones:

=over 4

=item C<< layout => 'curator' >> (default)

Curator's InterProcessMutex.  Contender nodes are C<_c_E<lt>uuidE<gt>-lock-E<lt>seqE<gt>>
(Curator's "protected" names, C<withProtection()>: C<_c_>, a random UUID
in text form, C<->, then C<lock-> and the server's 10-digit sequence),
created EPHEMERAL_SEQUENTIAL; the lock node and its missing parents are
created as containers (C<creatingParentContainersIfNeeded>), so the server
removes them once unused.  All children are contenders, ordered by what
follows the last C<lock-> in their names (StandardLockInternalsDriver).
The data is the local host's address as text, as the Curator client's
default data (C<InetAddress.getLocalHost().getHostAddress()>; this module
resolves the host name with C<gethostbyname>), or C<identifier> if given.
Re-entrant per object: acquire() while held counts, release() counts down.

=item C<< layout => 'kazoo' >>

kazoo's Lock.  Contender nodes are C<E<lt>uuid hexE<gt>__lock__E<lt>seqE<gt>>
(one UUID per lock object), created EPHEMERAL_SEQUENTIAL; missing nodes of
the path are created as persistent nodes (C<ensure_path>).  Contenders are
the children matching C<(__lock__)(-?\d{10})$>, ordered by that number;
kazoo's WriteLock also counts C<__rlock__> nodes, which
C<< extra_lock_patterns => ['__rlock__'] >> gives here (kazoo's option of
the same name).  The data is C<identifier> (UTF-8), empty without one.  Not
re-entrant, as kazoo's: acquire() on a held kazoo-layout lock croaks.

=back

A create that fails with ZCONNECTIONLOSS may still have been applied.  As
Curator's protected mode and kazoo do, the next attempt first looks for a
child whose name starts with this attempt's prefix (the UUID) and uses it
instead of creating another, so no orphan contender is left behind to block
everyone else.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

Options: C<layout> (C<'curator'> or C<'kazoo'>), C<identifier> (the node
data), C<acl> (default ZOO_OPEN_ACL_UNSAFE), C<on_lost> (a code reference,
see lost()), C<on_state> (a code reference, see state()),
C<extra_lock_patterns> (kazoo layout).  Unknown options croak.
new() does not contact the server.

=item acquire(timeout => $seconds)

Waits up to C<$seconds> (a fraction is fine; without a timeout, for ever)
for the lock.  Returns true once held, false on timeout or error, after
removing its contender node.  error() tells which: ZOPERATIONTIMEOUT for the
timeout, else the ZooKeeper code.  ZCONNECTIONLOSS is retried until the
deadline.

=item try_acquire()

acquire() without waiting: true if the lock was free, else false (the
contender node is removed again).

=item release()

Releases one hold (Curator layout: the last one deletes the node).  Returns
true if the lock was held until then, false if it was not held or had been
lost meanwhile (the node is deleted all the same if it still exists).

=item is_acquired()

True while held and not lost().

=item guard(timeout => $seconds)

acquire(), returning an object that calls release() when it goes out of
scope (or on C<< $guard->release >>), or undef if the lock was not acquired.

=item lost()

True once the lock can no longer be held: the session expired (or failed to
authenticate), or the contender node was deleted by someone else.  The
lock is then never reported held; call release() to reset the object.
lost() looks at a watch on the contender node, which the background
runtime updates: it needs no dispatch.  C<on_lost> is called once, with the
lock, when lost() first sees the loss or, for programs that dispatch
(L<Net::ZooKeeper/"CALLBACKS AND EVENT LOOPS">), when the event is
dispatched.

=item suspended()

  if ($lock->suspended) { pause_writing() }   # the lock may be gone

True while the connection is lost and the session is not known to have
expired (Curator's SUSPENDED, kazoo's KazooState.SUSPENDED): the lock may
already be lost, so do not act on it until it reconnects; is_acquired()
stays true meanwhile (the node is there unless the session expires).

=item state()

  my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => '/locks/job',
      on_state => sub { my ($lock, $change) = @_; warn "lock: $change\n" });
  print $lock->state, "\n";    # idle, held, suspended or lost

C<'idle'> (not held), C<'held'>, C<'suspended'> (see suspended()) or
C<'lost'> (see lost(); until release()).  Like lost() it needs no dispatch.
Each change is reported once to C<on_state>, called with the lock and
C<'suspended'>, C<'reconnected'> (the same session is back: held again)
or C<'lost'> (before C<on_lost>) - Curator's ConnectionState names - when
suspended(), lost() or state() first sees it or, for programs that
dispatch, when the event is dispatched.  Acquiring and releasing are not
reported.

=item node(), contenders(), count(), layout(), data(), error()

The contender node's name while held; all contenders in lock order; the
hold count; the layout; the node data; the last error code (ZOK if none).

=back

A lock object belongs to the process that made it; after fork() the child
must make its own handle and lock.  Destroying a held lock object releases
it.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe>, L<Net::ZooKeeper>, Curator's InterProcessMutex,
kazoo's C<kazoo.recipe.lock.Lock>.

=cut
