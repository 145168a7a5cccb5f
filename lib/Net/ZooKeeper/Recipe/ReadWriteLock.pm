package Net::ZooKeeper::Recipe::ReadWriteLock;

# A read/write lock in Curator's (InterProcessReadWriteLock) or kazoo's
# (ReadLock/WriteLock) node layout.  Its two sides are
# Net::ZooKeeper::Recipe::Lock objects that name their nodes otherwise and
# say which contenders ahead block them.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper::Recipe::Lock;
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout identifier on_lost on_state));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'")
        unless $layout eq 'curator' || $layout eq 'kazoo';
    for my $cb (qw(on_lost on_state)) {
        Carp::croak("$class->new: $cb must be a code reference")
            if defined $self->{$cb} && ref $self->{$cb} ne 'CODE';
    }
    # Both sides get the options (on_lost, on_state: called with the side).
    my %common = map { ($_ => $self->{$_}) } grep { exists $self->{$_} } qw(handle path layout identifier on_lost on_state acl);
    # kazoo's WriteLock counts readers' nodes as contenders
    # (_EXCLUDE_NAMES); the read side needs them in its order too, to find
    # its own node among the writers.
    $common{extra_lock_patterns} = ['__rlock__'] if $layout eq 'kazoo';
    $self->{write} = Net::ZooKeeper::Recipe::ReadWriteLock::WriteLock->new(%common);
    $self->{read}  = Net::ZooKeeper::Recipe::ReadWriteLock::ReadLock->new(%common);
    # Curator lets the holder of the write lock take the read lock.
    $self->{read}{writer} = $self->{write};
    return $self;
}

sub layout     { $_[0]{layout} }
sub read_lock  { $_[0]{read} }
sub write_lock { $_[0]{write} }

# Curator sorts every child by what follows the last "__READ__", then the
# last "__WRIT__" (InterProcessReadWriteLock's SortingLockInternalsDriver):
# the sequence number of either kind.
sub _curator_key {
    my ($name) = @_;
    for my $marker ('__READ__', '__WRIT__') {
        my $i = rindex($name, $marker);
        $name = substr($name, $i + length $marker) if $i >= 0;
    }
    return $name;
}

# Whether a contender node is a writer's.
sub _is_writer {
    my ($layout, $name) = @_;
    return $layout eq 'curator' ? index($name, '__WRIT__') >= 0 : $name =~ /__lock__-?\d{10}\z/;
}

package Net::ZooKeeper::Recipe::ReadWriteLock::Side;

# What both sides share: node names per kind and Curator's order.
use parent -norequire, 'Net::ZooKeeper::Recipe::Lock';

sub _sorted {
    my ($self, @children) = @_;
    return $self->SUPER::_sorted(@children) unless $self->{layout} eq 'curator';
    my %key = map { ($_ => Net::ZooKeeper::Recipe::ReadWriteLock::_curator_key($_)) } @children;
    return sort { $key{$a} cmp $key{$b} } @children;
}

sub _node_name {
    my ($self) = @_;
    return $self->NAMES->{ $self->{layout} };
}

package Net::ZooKeeper::Recipe::ReadWriteLock::WriteLock;

# A writer waits for every contender ahead, readers and writers alike: the
# one just ahead (Lock's rule), as Curator's WriteLock (maxLeases 1) and
# kazoo's WriteLock.
use parent -norequire, 'Net::ZooKeeper::Recipe::ReadWriteLock::Side';

use constant NAMES => { curator => '__WRIT__', kazoo => '__lock__' };

sub kind { 'write' }

package Net::ZooKeeper::Recipe::ReadWriteLock::ReadLock;

use parent -norequire, 'Net::ZooKeeper::Recipe::ReadWriteLock::Side';

use constant NAMES => { curator => '__READ__', kazoo => '__rlock__' };

sub kind { 'read' }

# A reader waits only for writers ahead of it: Curator's readLock driver
# watches the first of them, kazoo (since the fix of its issue 649) the
# last.  Curator: the holder of the write lock gets the read lock at once.
sub _blocker {
    my ($self, $order, $index) = @_;
    my $layout = $self->{layout};
    return undef if $layout eq 'curator' && $self->{writer}{count};
    my @writers = grep { Net::ZooKeeper::Recipe::ReadWriteLock::_is_writer($layout, $order->[$_]) } 0 .. $index - 1;
    return undef unless @writers;
    return $order->[ $layout eq 'curator' ? $writers[0] : $writers[-1] ];
}

# kazoo: a reader behind its own writer would wait for itself for ever.
sub _acquire {
    my ($self, @args) = @_;
    Carp::croak('acquire: the write lock of this kazoo-layout lock is held: the read lock would wait for it')
        if $self->{layout} eq 'kazoo' && $self->{writer}{count};
    return $self->SUPER::_acquire(@args);
}

package Net::ZooKeeper::Recipe::ReadWriteLock;

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::ReadWriteLock - a read/write lock shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::ReadWriteLock;

  my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $rw  = Net::ZooKeeper::Recipe::ReadWriteLock->new(
      handle  => $zkh,
      path    => '/locks/catalogue',
      layout  => 'curator',              # or 'kazoo'
      on_lost => sub { my ($lock) = @_; warn $lock->kind, " lock lost\n" },
  );

  # Many readers at once (Perl, Java and Python processes alike) ...
  {
      my $guard = $rw->read_lock->guard(timeout => 10) or do { print "no read lock within 10 s\n"; last };
      print "reading as ", $rw->read_lock->node, "\n";
  }   # released here, where $guard goes

  # ... or one writer, alone.
  my $w = $rw->write_lock;
  if ($w->acquire(timeout => 10)) {
      print "writing as ", $w->node, "\n";
      $w->release;
  }
  else {
      print "not acquired within 10 s (error ", $w->error, ")\n";
  }

=head1 DESCRIPTION

ZooKeeper's shared lock: readers and writers queue as ephemeral sequential
children of one lock node.  A writer holds the lock when no contender of
either kind is ahead of it; a reader holds it when no writer is ahead of
it, so readers share the lock, a writer waits for the readers before it,
and a waiting writer keeps later readers out (no writer starves).  Each
waiter watches one node only.  Node names, data and order are those of the
chosen library:

=over 4

=item C<< layout => 'curator' >> (default)

Curator's InterProcessReadWriteLock.  Nodes are
C<_c_E<lt>uuidE<gt>-__READ__E<lt>seqE<gt>> for readers and
C<_c_E<lt>uuidE<gt>-__WRIT__E<lt>seqE<gt>> for writers (protected names, a
new UUID per attempt), EPHEMERAL_SEQUENTIAL; the lock node and its missing
parents are made containers.  Every child is ordered by the sequence after
its last C<__READ__> or C<__WRIT__> (SortingLockInternalsDriver).  A
writer waits for the contender just ahead of it; a reader for the first
writer ahead of it.  The data is the local host's address, as
L<Net::ZooKeeper::Recipe::Lock> writes, or C<identifier>.  Both sides are
re-entrant per object, and, as Curator lets the thread that holds the write
lock take the read lock, the read lock of an object whose write lock is
held is granted at once (downgrade: take the read lock, then release the
write lock).  As in Curator 5.4, a writer queued before that read node
gets the lock once the write lock is released, even while the downgraded
read lock is held (CURATOR-621, changed after 5.4).

=item C<< layout => 'kazoo' >>

kazoo's ReadLock and WriteLock.  Nodes are
C<E<lt>uuid hexE<gt>__rlock__E<lt>seqE<gt>> for readers and
C<E<lt>uuid hexE<gt>__lock__E<lt>seqE<gt>> for writers (one UUID per side),
EPHEMERAL_SEQUENTIAL, under persistent parents.  Contenders are the
children ending in C<__lock__> or C<__rlock__> and ten digits, ordered by
that number.  A writer waits for the contender just ahead of it (kazoo's
WriteLock: C<_EXCLUDE_NAMES> C<__lock__>, C<__rlock__>); a reader for the
last writer ahead of it (ReadLock: C<__lock__> only).  That is the rule of
kazoo since the fix of its issue 649; kazoo 2.8's ReadLock also waits for
writers queued I<after> it and can deadlock with them, whatever the
writer's language: such a reader and writer stay stuck until one of them
times out.  The data is C<identifier> (UTF-8), empty without one.  Neither
side is re-entrant, and taking the read lock while the same object's write
lock is held croaks (kazoo would wait for itself).

=back

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

  my $rw = Net::ZooKeeper::Recipe::ReadWriteLock->new(handle => $zkh, path => '/rw', layout => 'kazoo',
      identifier => 'indexer-7');

Options: C<layout> (C<'curator'> or C<'kazoo'>), C<identifier> (the node
data), C<acl> (default ZOO_OPEN_ACL_UNSAFE), C<on_lost> and C<on_state> (code
references, as for L<Net::ZooKeeper::Recipe::Lock>, called with the side
concerned).  Unknown options croak.  new() does
not contact the server.

=item read_lock(), write_lock()

  my $r = $rw->read_lock;
  $r->acquire(timeout => 5) or die "no read lock: ", $r->error, "\n";

The two sides, the same object on every call.  Each is a
L<Net::ZooKeeper::Recipe::Lock> with all its methods:
C<< acquire(timeout => $s) >>, C<try_acquire>, C<release>,
C<< guard(timeout => $s) >>, C<is_acquired>, C<lost>, C<suspended>, C<node>, C<contenders> (both kinds, in lock order),
C<count>, C<error>; and C<kind>, C<'read'> or C<'write'>.  C<lost> and
C<on_lost> work as for the lock: a session that expired or a node deleted
by someone else.

=item layout()

  print $rw->layout, "\n";    # curator

The layout of both sides.

=back

As for the lock, the object belongs to the process that made it, and
destroying a held side releases it.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::Lock>, L<Net::ZooKeeper::Recipe>,
Curator's InterProcessReadWriteLock, kazoo's C<kazoo.recipe.lock.ReadLock>
and C<WriteLock>.

=cut
