package Net::ZooKeeper::Recipe::Queue;

# A distributed queue with priorities in kazoo's node layout (Queue).
# Net::ZooKeeper::Recipe::LockingQueue (kazoo's LockingQueue) builds on it.
# Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper qw(:errors :node_flags);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args);
    # Where the entries live, and the nodes made before the first use
    # (kazoo's _entries_path and structure_paths).
    $self->{entries} = $self->{path};
    $self->{structure} = [ $self->{path} ];
    # kazoo's Queue prefix is "entry-", LockingQueue's "entry" + "-": the
    # same names, "entry-<priority %03d>-<sequence>".
    $self->{prefix} = 'entry-';
    $self->{children} = [];
    return $self;
}

sub error { $_[0]{error} // ZOK }

sub _session_gone { }

# kazoo's _ensure_paths: once per object, persistent nodes.
sub _ensure_paths {
    my ($self) = @_;
    return 1 if $self->{ensured};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    for my $p (@{ $self->{structure} }) {
        until ($self->ensure_path($p)) {
            return 0 unless $self->retryable($self->{handle}->get_error, $deadline);
        }
    }
    return $self->{ensured} = 1;
}

# kazoo's _check_put_arguments: bytes, and a priority of 0 to 999.
sub _check_priority {
    my ($what, $priority) = @_;
    $priority //= 100;
    Carp::croak("$what: priority must be an integer from 0 to 999")
        unless $priority =~ /\A[0-9]{1,3}\z/;
    return sprintf('%03d', $priority);
}

sub _check_value {
    my ($what, $value) = @_;
    Carp::croak("$what: value must be defined") unless defined $value;
    Carp::croak("$what: value must be a string, not a reference") if ref $value;
    return $value unless utf8::is_utf8($value);
    my $bytes = $value;
    utf8::downgrade($bytes, 1) or Carp::croak("$what: value must be a byte string (encode text first)");
    return $bytes;
}

sub put {
    my ($self, $value, %o) = @_;
    Carp::croak('put: invalid number of arguments') if @_ % 2 != 0;
    my $name = $self->{prefix} . _check_priority('put', $o{priority}) . '-';
    $value = _check_value('put', $value);
    $self->{error} = ZOK;
    $self->_ensure_paths or return 0;
    my $zkh = $self->{handle};
    # Not retried, as kazoo does not: after a lost connection the entry may
    # or may not be there, and a second one would be a duplicate.
    return 1 if defined $zkh->create("$self->{entries}/$name", $value, flags => ZOO_SEQUENCE, acl => $self->{acl});
    $self->{error} = $zkh->get_error;
    return 0;
}

# All entries or none, in one transaction (kazoo's LockingQueue.put_all).
sub put_all {
    my ($self, $values, %o) = @_;
    Carp::croak('put_all: values must be an array reference') unless ref $values eq 'ARRAY';
    Carp::croak('put_all: invalid number of arguments') if @_ % 2 != 0;
    my $name = "$self->{entries}/$self->{prefix}" . _check_priority('put_all', $o{priority}) . '-';
    my @ops = map { [ create => $name, _check_value('put_all', $_), flags => ZOO_SEQUENCE, acl => $self->{acl} ] } @$values;
    $self->{error} = ZOK;
    $self->_ensure_paths or return 0;
    return 1 unless @ops;
    my $zkh = $self->{handle};
    return 1 if $zkh->multi(@ops);
    $self->{error} = $zkh->get_error;
    return 0;
}

# The number of entries (kazoo's len(): the children count of the entries
# node).
sub length {
    my ($self) = @_;
    $self->{error} = ZOK;
    $self->_ensure_paths or return undef;
    my $zkh = $self->{handle};
    my $stat = $zkh->stat;
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    until ($zkh->exists($self->{entries}, stat => $stat)) {
        return undef unless $self->retryable($zkh->get_error, $deadline);
    }
    return $stat->{num_children};
}

# Removes and returns the first entry (lowest priority number, then oldest),
# or undef when the queue is empty (error ZOK) or on error.
sub get {
    my ($self) = @_;
    $self->{error} = ZOK;
    $self->_ensure_paths or return undef;
    my $zkh = $self->{handle};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    my $kids = $self->{children};
    while (1) {
        # Like kazoo, the sorted names are kept between calls and read again
        # only when used up.
        unless (@$kids) {
            my @children = $zkh->get_children($self->{entries});
            my $rc = $zkh->get_error;
            if ($rc != ZOK) {
                next if $self->retryable($rc, $deadline);
                return undef;
            }
            @$kids = sort @children;
            return undef unless @$kids;
        }
        my $node = "$self->{entries}/$kids->[0]";
        my $data = Net::ZooKeeper::Recipe::read_data($zkh, $node);
        if (defined $data) {
            # The entry is ours only if our delete removed it: a concurrent
            # consumer that read it too gets ZNONODE and moves on.
            until ($zkh->delete($node)) {
                my $rc = $zkh->get_error;
                last if $rc == ZNONODE;
                next if $self->retryable($rc, $deadline);
                return undef;
            }
            if ($zkh->get_error == ZOK) {
                shift @$kids;
                return $data;
            }
        }
        elsif ($zkh->get_error != ZNONODE) {
            next if $self->retryable($zkh->get_error, $deadline);
            return undef;
        }
        shift @$kids;    # taken by someone else
    }
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Queue - a priority queue shared with kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Queue;

  my $zkh   = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $queue = Net::ZooKeeper::Recipe::Queue->new(handle => $zkh, path => '/queues/mail');

  $queue->put("hello");                          # priority 100
  $queue->put("urgent", priority => 1);          # lower numbers come first
  $queue->put_all(["a", "b", "c"], priority => 50) or die "put_all: ", $queue->error, "\n";
  printf "%d entries\n", $queue->length;

  while (defined(my $entry = $queue->get)) {
      print "got $entry\n";                      # urgent, a, b, c, hello
  }

=head1 DESCRIPTION

kazoo's C<Queue>: each entry is a persistent sequential node
C<E<lt>pathE<gt>/entry-E<lt>priorityE<gt>-E<lt>sequenceE<gt>> (the priority
written with three digits, C<entry-100-0000000007>) holding the value.
Consumers take the first name in sorted order, so lower priorities come
first, and entries of one priority in the order they were put.  Perl and
Python (C<kazoo.recipe.queue.Queue>) producers and consumers share a queue;
every entry is received by one consumer only (the one whose delete removes
it).

As with kazoo, an entry is removed before it is processed: a consumer that
dies meanwhile loses it.  L<Net::ZooKeeper::Recipe::LockingQueue> (kazoo's
LockingQueue) keeps an entry until it is consumed.

Values are byte strings, kept intact (any bytes, also NUL); a string with
characters above 255 croaks: encode text first.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, acl => $acl)

  my $queue = Net::ZooKeeper::Recipe::Queue->new(handle => $zkh, path => '/queues/q');

Does not contact the server; the first use makes the missing nodes of
C<$path> (persistent, as kazoo's C<ensure_path>).

=item put($value, priority => $n)

  $queue->put($bytes, priority => 10) or warn "put: error ", $queue->error;

Adds an entry; C<priority> is an integer from 0 to 999 (default 100, as
kazoo's).  True on success.  A put is not retried (neither is kazoo's):
after a lost connection (error ZCONNECTIONLOSS) the entry may or may not
have been added.

=item put_all(\@values, priority => $n)

  $queue->put_all([ 'a', 'b' ]);

Adds all the entries, in order, in one transaction: all of them or none
(kazoo has it for LockingQueue only; the names are the same).

=item get()

  my $value = $queue->get;
  print defined $value ? "got $value\n" : "empty\n";

Removes the first entry and returns its value, or undef if the queue is
empty (error() ZOK) or on error (error() says which).  It does not wait.

=item length()

  printf "%d waiting\n", $queue->length;

The number of entries (the entry node's number of children), undef on
error.

=item error()

The last error code (ZOK if none).

=back

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::LockingQueue>, L<Net::ZooKeeper::Recipe>,
kazoo's C<kazoo.recipe.queue.Queue>.

=cut
