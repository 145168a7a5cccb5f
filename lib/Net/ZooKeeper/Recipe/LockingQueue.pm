package Net::ZooKeeper::Recipe::LockingQueue;

# kazoo's LockingQueue: entries are taken under an ephemeral lock and only
# removed once consumed, so that an entry whose consumer goes is given
# back.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper qw(:errors :node_flags);
use parent 'Net::ZooKeeper::Recipe::Queue';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->SUPER::new(%args);
    # kazoo: <path>/entries holds the entries, <path>/taken their locks
    # (ephemeral, named as the entry, holding the consumer's uuid4().hex).
    $self->{entries} = "$self->{path}/entries";
    $self->{taken} = "$self->{path}/taken";
    $self->{structure} = [ $self->{taken}, $self->{entries} ];
    ($self->{id} = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
    return $self;
}

sub id { $_[0]{id} }

# The name of the entry taken and not yet consumed or released.
sub taken_entry { $_[0]{processing} ? $_[0]{processing}[0] : undef }

# Takes the first entry that nobody has taken, waiting up to $timeout
# seconds (none: for ever) for one.  An entry taken and not yet consumed or
# released is returned again.
sub get {
    my ($self, %o) = @_;
    Carp::croak('get: invalid number of arguments') if @_ % 2 == 0;
    $self->{error} = ZOK;
    return $self->{processing}[1] if $self->{processing};
    $self->_ensure_paths or return undef;
    my $zkh = $self->{handle};
    my $deadline = defined $o{timeout} ? Net::ZooKeeper::Recipe::now() + $o{timeout} : undef;
    while (1) {
        # Both lists are watched, as kazoo does: a new entry, or a lock
        # given back, may make one available.
        my ($we, $wt) = ($zkh->watch, $zkh->watch);
        my @entries = $zkh->get_children($self->{entries}, watch => $we);
        my $rc = $zkh->get_error;
        my @taken = $rc == ZOK ? $zkh->get_children($self->{taken}, watch => $wt) : ();
        $rc = $zkh->get_error if $rc == ZOK;
        if ($rc != ZOK) {
            next if $self->retryable($rc, $deadline);
            return undef;
        }
        my %taken = map { $_ => 1 } @taken;
        for my $entry (sort grep { !$taken{$_} } @entries) {
            my $value = $self->_take($entry, $deadline);
            if (defined $value) {
                $self->{processing} = [ $entry, $value ];
                return $value;
            }
            return undef if $self->{error} != ZOK;
        }
        # One watch can be waited on at a time: wait on the entries in short
        # slices and look at the other one's event in between.
        until ($we->{event} || $wt->{event}) {
            $self->wait_watch($we, $deadline, 0.1) or return undef;
        }
    }
}

# Locks $entry and reads it: its value, or undef if someone else has it
# (error ZOK) or on error.
sub _take {
    my ($self, $entry, $deadline) = @_;
    my $zkh = $self->{handle};
    my $lock = "$self->{taken}/$entry";
    my $retried = 0;
    until ($zkh->create($lock, $self->{id}, flags => ZOO_EPHEMERAL, acl => $self->{acl})) {
        my $rc = $zkh->get_error;
        if ($rc == ZNODEEXISTS) {
            # Ours, if a create whose answer was lost did reach the server.
            return undef unless $retried && ($zkh->get($lock) // '') eq $self->{id};
            last;
        }
        return undef if $rc == ZNONODE;    # the taken node went meanwhile
        return undef unless $self->retryable($rc, $deadline);
        $retried = 1;
    }
    while (1) {
        my $value = Net::ZooKeeper::Recipe::read_data($zkh, "$self->{entries}/$entry");
        return $value if defined $value;
        my $rc = $zkh->get_error;
        next if $rc != ZNONODE && $self->retryable($rc, $deadline);
        # Consumed meanwhile (or an error): give the lock back.
        $self->{error} = $rc == ZNONODE ? ZOK : $rc;
        $zkh->delete($lock);
        return undef;
    }
}

# kazoo's holds_lock: the lock node still holds our id (read after a sync,
# so that it is current).
sub holds_lock {
    my ($self) = @_;
    my $p = $self->{processing} or return 0;
    my $zkh = $self->{handle};
    my $lock = "$self->{taken}/$p->[0]";
    $zkh->sync($lock);
    my $data = $zkh->get($lock);
    $self->{error} = $zkh->get_error;
    return defined $data && $data eq $self->{id} ? 1 : 0;
}

# Removes the entry taken (and its lock) in one transaction.
sub consume {
    my ($self) = @_;
    return $self->_finish([ delete => "$self->{entries}/" . ($self->taken_entry // '') ]);
}

# Gives the entry taken back (deletes the lock only).
sub release {
    my ($self) = @_;
    return $self->_finish();
}

sub _finish {
    my ($self, @ops) = @_;
    $self->{error} = ZOK;
    my $p = $self->{processing} or return 0;
    # A lock that is gone (the session ended) can not be used: the entry
    # may be someone else's by now.  Forget it, unlike kazoo, which would
    # return it from get() for ever.
    unless ($self->holds_lock) {
        my $rc = $self->{error};
        delete $self->{processing} unless Net::ZooKeeper::Recipe::transient($rc);
        $self->{error} = ZNONODE if $rc == ZOK;
        return 0;
    }
    my $zkh = $self->{handle};
    push @ops, [ delete => "$self->{taken}/$p->[0]" ];
    if ($zkh->multi(@ops)) {
        delete $self->{processing};
        return 1;
    }
    $self->{error} = $zkh->get_error;
    return 0;
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::LockingQueue - kazoo's LockingQueue: entries consumed only once processed

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::LockingQueue;

  my $zkh   = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $queue = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => '/queues/jobs');

  $queue->put("job 1");
  $queue->put_all(["job 2", "job 3"], priority => 10);

  while (defined(my $job = $queue->get(timeout => 1))) {
      print "working on $job\n";
      if ($queue->holds_lock) {
          $queue->consume;                  # done: remove it
      }
      else {
          $queue->release;                  # (lock lost: nothing to do)
      }
  }

=head1 DESCRIPTION

kazoo's C<LockingQueue>, a separate class from
L<Net::ZooKeeper::Recipe::Queue> (which it extends) because its get() does
not remove the entry.  get() takes an entry under a lock; consume()
removes it once processed, release() gives it back.  If the consumer's
session ends first, the lock (an ephemeral node) goes with it and the entry
is given to another consumer.  Perl and Python
(C<kazoo.recipe.queue.LockingQueue>) producers and consumers share a queue.

The nodes are kazoo's:

  <path>/entries/entry-<priority %03d>-<sequence>   the entries (persistent sequential)
  <path>/taken/entry-<priority %03d>-<sequence>     the lock of a taken entry:
                                                    ephemeral, holding the consumer's
                                                    id (uuid4().hex)

An entry is available while it has no lock; get() takes the first
available one in name order (lower priority numbers first, then the
oldest), creating its lock.  put() and put_all() are those of
L<Net::ZooKeeper::Recipe::Queue> (the same names under C<entries>).

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, acl => $acl)

  my $queue = Net::ZooKeeper::Recipe::LockingQueue->new(handle => $zkh, path => '/queues/q');

Does not contact the server; the first use makes C<taken> and C<entries>.

=item put($value, priority => $n), put_all(\@values, priority => $n)

  $queue->put($bytes, priority => 5);

As in L<Net::ZooKeeper::Recipe::Queue>: byte strings, priorities 0 to
999 (default 100); put_all() is one transaction.

=item get(timeout => $seconds)

  my $value = $queue->get(timeout => 5);

Takes the first available entry and returns its value, waiting up to
C<$seconds> (without a timeout, for ever) for one; undef on timeout (error()
ZOPERATIONTIMEOUT) or error.  While an entry is taken (not yet consumed or
released), get() returns it again, as kazoo's.  It waits on watches of
both C<entries> and C<taken> (a new entry, or a lock given back).

=item consume()

  $queue->consume or warn "entry not removed: ", $queue->error;

Removes the taken entry and its lock in one transaction.  True on success;
false if nothing was taken or the lock is no longer ours (error()
ZNONODE: the session ended and the entry may be someone else's; the entry
is then forgotten, so that get() takes a new one).

=item release()

  $queue->release;

Gives the taken entry back (deletes its lock) for another get().  True on
success, false as for consume().

=item holds_lock()

  $queue->consume if $queue->holds_lock;

True if an entry is taken and its lock still holds our id (read after a
sync, as kazoo does).

=item length()

  printf "%d entries, taken or not\n", $queue->length;

The number of entries, taken ones included.

=item taken_entry(), id(), error()

The name of the entry taken (undef if none); this consumer's id (the lock
data); the last error code (ZOK if none).

=back

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::Queue>, L<Net::ZooKeeper::Recipe>, kazoo's
C<kazoo.recipe.queue.LockingQueue>.

=cut
