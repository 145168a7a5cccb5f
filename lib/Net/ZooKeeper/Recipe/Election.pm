package Net::ZooKeeper::Recipe::Election;

# Leader election in Curator's (LeaderLatch) or kazoo's (Election) node
# layout.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(:errors :events :states :create_modes);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

my %LAYOUT = (
    # Curator's LeaderLatch: every child of the latch node is a participant,
    # sorted by what follows the last "latch-" in its name
    # (StandardLockInternalsDriver.standardFixForSorting with "latch-").
    curator => 'latch-',
    # kazoo's Election is a kazoo Lock: the children matching
    # (__lock__)(-?\d{10})$, sorted by that number.
    kazoo   => '__lock__',
);

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout identifier on_change on_lost on_state));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'") unless $LAYOUT{$layout};
    for my $cb (qw(on_change on_lost on_state)) {
        Carp::croak("$class->new: $cb must be a code reference")
            if defined $self->{$cb} && ref $self->{$cb} ne 'CODE';
    }
    # Both write the identifier as UTF-8, the empty string without one
    # (LeaderSelector.getIdBytes; kazoo's str(identifier or "")).
    my $id = $self->{identifier} // '';
    utf8::encode($id) if utf8::is_utf8($id);
    $self->{data} = $id;
    $self->{leader} = 0;
    $self->{gen} = 0;
    $self->{pid} = $$;
    return $self;
}

sub layout     { $_[0]{layout} }
sub node       { $_[0]{node} }
sub identifier { $_[0]{data} }
sub error      { $_[0]{error} // ZOK }

# True once the session expired: looks at the watch first (no dispatch needed).
sub lost {
    my ($self) = @_;
    $self->_poll;
    return $self->{lost} ? 1 : 0;
}

# The participants in election order (names of children of the path).
sub _sorted {
    my ($self, @children) = @_;
    return Net::ZooKeeper::Recipe::in_order($self->{layout}, 'latch-', qr/__lock__(-?\d{10})\z/, @children);
}

sub participant_nodes {
    my ($self) = @_;
    my @children = $self->{handle}->get_children($self->{path});
    return $self->_sorted(@children);
}

# The identifiers (node data) in election order, the leader first, as
# Curator's getParticipants() and kazoo's contenders() read them.  A node
# gone between the listing and the read is left out.
sub participants {
    my ($self) = @_;
    my $zkh = $self->{handle};
    my @ids;
    for my $node ($self->participant_nodes) {
        my $data = $zkh->get("$self->{path}/$node");
        push @ids, $data // '' if defined $data || $zkh->get_error == ZOK;
    }
    return @ids;
}

sub leader_id {
    my ($self) = @_;
    my ($first) = $self->participants;
    return $first;
}

# Joins the election: creates our node (not waiting to lead).  Returns
# true, or false with error() set.
sub start {
    my ($self) = @_;
    Carp::croak('start: the election object belongs to another process') if $$ != $self->{pid};
    Carp::croak('start: already started') if defined $self->{node};
    $self->{error} = ZOK;
    $self->{lost} = $self->{suspended} = 0;
    $self->{started} = 1;
    return 0 unless defined($self->{node} = $self->_create_node);
    $self->_check;
    return $self->{lost} ? 0 : 1;
}

# The name of our new participant node.  A create that fails with
# ZCONNECTIONLOSS may have been applied: look for a child with our prefix
# (Curator's protected mode, kazoo's _find_node) before creating again.
sub _create_node {
    my ($self) = @_;
    my $curator = $self->{layout} eq 'curator';
    my $prefix;
    if ($curator) {
        $prefix = '_c_' . Net::ZooKeeper::Recipe::uuid() . '-';
    }
    else {
        ($prefix = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
        $prefix .= '__lock__';
    }
    # Curator creates the latch path as containers, kazoo as persistent nodes.
    return $self->protected_create(
        dir => $self->{path}, prefix => $prefix, name => $prefix . ($curator ? 'latch-' : ''),
        create => [ mode => ZOO_EPHEMERAL_SEQUENTIAL ], container => $curator,
        deadline => Net::ZooKeeper::Recipe::now() + 30);
}

sub _session_gone { $_[0]->_session_lost }

# Looks at the participants and decides: the first is the leader; anyone
# else watches the one just ahead of it only (no herd when the leader
# goes), the leader watches its own node.  A node of ours that is gone
# (deleted by someone) is made again, as LeaderLatch.reset() does.
sub _check {
    my ($self) = @_;
    return unless defined $self->{node} && !$self->{lost};
    my $zkh = $self->{handle};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    while (1) {
        my @children = $zkh->get_children($self->{path});
        my $rc = $zkh->get_error;
        if ($rc != ZOK) {
            next if $self->retryable($rc, $deadline);
            return;
        }
        my @order = $self->_sorted(@children);
        my ($index) = grep { $order[$_] eq $self->{node} } 0 .. $#order;
        unless (defined $index) {
            $self->_set_leader(0);
            defined($self->{node} = $self->_create_node) or return;
            next;
        }
        my $watched = "$self->{path}/" . $order[$index ? $index - 1 : 0];
        # A new generation: watches armed by an earlier check do nothing.
        my $gen = ++$self->{gen};
        $self->{watch} = $zkh->watch;
        unless (defined $zkh->get($watched, watch => $self->{watch}, data_read_len => 0)) {
            $rc = $zkh->get_error;
            next if $rc == ZNONODE || $self->retryable($rc, $deadline);
            return;
        }
        $self->_arm_callback($watched, $gen) if $self->{on_change} || $self->{on_lost} || $self->{on_state};
        $self->_set_leader($index == 0);
        return;
    }
}

# For programs that dispatch: a code-ref watch on the same node, so that
# on_change runs from dispatch() without anyone polling.  It holds the
# election weakly: the core holds the only strong reference.
sub _arm_callback {
    my ($self, $watched, $gen) = @_;
    Scalar::Util::weaken(my $weak = $self);
    $self->{handle}->get($watched, data_read_len => 0, watch => sub {
        my ($event, $state) = @_;
        return unless $weak && $weak->{gen} == $gen;
        $weak->_poll($event, $state);
    });
}

# Acts on what the current watch has seen (it needs no dispatch: the
# background runtime updates it), or on the event a code-ref watch of the
# current generation was called with.
sub _poll {
    my ($self, $event, $state) = @_;
    return if !defined $self->{node} || $self->{lost};
    unless (defined $event) {
        my $w = $self->{watch} or return;
        ($event, $state) = ($w->{event} // 0, $w->{state} // 0);
    }
    if ($event == ZOO_SESSION_EVENT) {
        if ($state == ZOO_EXPIRED_SESSION_STATE || $state == ZOO_AUTH_FAILED_STATE) {
            $self->_session_lost;
        }
        elsif (Net::ZooKeeper::Recipe::suspends($event, $state)) {
            # Suspended: the session may be gone; never assume leadership
            # (LeaderLatch gives it up on SUSPENDED too).
            $self->_set_leader(0);
            $self->mark_suspended(1);
        }
        elsif ($state == ZOO_CONNECTED_STATE) {
            $self->mark_suspended(0);
            $self->_check;    # reconnected: look again
        }
    }
    elsif ($event) {
        $self->_check;        # the watched node was deleted or changed
    }
}

sub _session_lost {
    my ($self) = @_;
    return if $self->{lost};
    $self->{gen}++;
    $self->_set_leader(0);
    $self->mark_lost;
}

sub _set_leader {
    my ($self, $leader) = @_;
    $leader = $leader ? 1 : 0;
    return if $self->{leader} == $leader;
    $self->{leader} = $leader;
    if (my $cb = $self->{on_change}) {
        local $@;
        eval { $cb->($self, $leader); 1 } or warn "Net::ZooKeeper::Recipe::Election: on_change died: $@";
    }
}

sub is_leader {
    my ($self) = @_;
    $self->_poll;
    return $self->{leader} && !$self->{lost} && !$self->suspended ? 1 : 0;
}

# True while the connection is lost and the session may or may not live.
sub suspended {
    my ($self) = @_;
    return 0 if !defined $self->{node} || $self->{lost};
    return $self->watched_suspended;
}

# Waits (bounded) until we lead; true if we do.
sub await_leadership {
    my ($self, %o) = @_;
    Carp::croak('await_leadership: not started') unless defined $self->{node} || $self->{lost};
    my $deadline = Net::ZooKeeper::Recipe::now() + ($o{timeout} // 60);
    while (1) {
        return 1 if $self->is_leader;
        return 0 if $self->{lost} || !defined $self->{node};
        my $left = $deadline - Net::ZooKeeper::Recipe::now();
        if ($left <= 0) {
            $self->{error} = ZOPERATIONTIMEOUT;
            return 0;
        }
        my $w = $self->{watch};
        if ($w && !$w->{event}) { $w->wait(timeout => int($left * 1000) + 1) }
        elsif ($self->suspended) {
            # A call makes the handle reconnect (and hear an expiry).
            $self->{handle}->exists('/');
            $self->backoff($deadline);
            $self->_check if !$self->{lost} && $self->{handle}->get_error == ZOK;
        }
        else { $self->_check }
    }
}

# Leaves the election: deletes our node.  Returns true if we were leading.
sub stop {
    my ($self) = @_;
    my $node = delete $self->{node};
    return 0 unless defined $node;
    my $was = $self->{leader} && !$self->{lost};
    $self->{gen}++;
    # Stopping is not a loss to report: on_change is not called, as with
    # LeaderLatch's default CloseMode.SILENT.
    $self->{leader} = $self->{suspended} = 0;
    delete $self->{watch};
    my $zkh = $self->{handle};
    for (1 .. 20) {
        last if $zkh->delete("$self->{path}/$node");
        my $rc = $zkh->get_error;
        last if $rc == ZNONODE || !Net::ZooKeeper::Recipe::transient($rc);
        $self->backoff;
    }
    return $was ? 1 : 0;
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' || $$ != ($self->{pid} // 0);
    local ($@, $!, $?);
    eval { $self->stop } if defined $self->{node};
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Election - leader election shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Election;

  my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $election = Net::ZooKeeper::Recipe::Election->new(
      handle     => $zkh,
      path       => '/elections/scheduler',
      layout     => 'curator',             # or 'kazoo'
      identifier => "scheduler-$$",
      on_change  => sub {
          my ($election, $leader) = @_;
          print $leader ? "now leading\n" : "no longer leading\n";
      },
  );
  $election->start or die "cannot join: " . $election->error . "\n";

  if ($election->await_leadership(timeout => 30)) {
      print "leader: ", $election->leader_id, "\n";
      while ($election->is_leader) {
          # one scheduler run, as the only leader among Perl, Curator
          # (LeaderLatch) and, with layout => 'kazoo', kazoo (Election)
          # processes
          $zkh->dispatch(timeout => 1000);    # on_change runs here
      }
  }
  else {
      print "not leading; participants: ", join(', ', $election->participants), "\n";
  }
  $election->stop;

=head1 DESCRIPTION

Each participant creates an ephemeral sequential child of the election
node; the lowest sequence leads, and every other participant watches only
the participant just ahead of it, so that a leaving leader wakes one
participant.  The node names, data and order are those of the chosen
library, so Perl processes take part in the same election as Java and
Python ones:

=over 4

=item C<< layout => 'curator' >> (default)

Curator's LeaderLatch.  Participant nodes are
C<_c_E<lt>uuidE<gt>-latch-E<lt>seqE<gt>> (protected names: C<_c_>, a random
UUID, C<->, then C<latch-> and the 10-digit sequence), created
EPHEMERAL_SEQUENTIAL, the election node and its missing parents as
containers.  All children are participants, ordered by what follows the
last C<latch-> in their names; the data is the identifier (LeaderLatch's
C<id>, UTF-8; empty without one).

=item C<< layout => 'kazoo' >>

kazoo's Election, which is a kazoo Lock: the leader is the lock holder.
Participant nodes are C<E<lt>uuid hexE<gt>__lock__E<lt>seqE<gt>>, created
EPHEMERAL_SEQUENTIAL, missing path nodes persistent.  Participants are the
children matching C<(__lock__)(-?\d{10})$>, ordered by that number; the
data is the identifier (UTF-8), which kazoo's C<contenders()> reads.

=back

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

Options: C<layout>, C<identifier>, C<acl>, C<on_change> (a code reference
called as C<< $cb->($election, $is_leader) >> when leadership is gained or
lost), C<on_lost> and C<on_state> (code references, see L</"SESSIONS AND
CALLBACKS">).  Unknown options croak.  new() does not contact the server.

=item start()

Joins the election without waiting: creates the participant node and looks
whether it leads.  Returns true, or false with error() set.

=item await_leadership(timeout => $seconds)

Waits up to C<$seconds> (default 60) until this participant leads: true if
it does, false on timeout (error() ZOPERATIONTIMEOUT), a lost session or
after stop().

=item is_leader()

True while this participant leads: its node is the first, the session is
alive and connected.  It looks at a watch that the background runtime
updates, so it needs no dispatch.

=item leader_id(), participants(), participant_nodes()

The leader's identifier; all identifiers in election order (the leader
first), as Curator's getParticipants() and kazoo's contenders() read them;
the participant node names in that order.

=item stop()

Leaves the election (deletes the node).  Returns true if it was leading.
on_change is not called, as with LeaderLatch's default CloseMode.SILENT.
Destroying a started election object stops it.

=item suspended(), lost(), state()

  print "election: ", $election->state, "\n";   # idle, held, suspended or lost

suspended() is true while the connection is lost and the session is not
known to have expired; lost() once the session expired (until the next
start()); state() is C<'idle'> (not started, or stopped), C<'held'> (taking
part, connected: leading or not, see is_leader()), C<'suspended'> or
C<'lost'>.  None of them needs dispatch.

=item node(), identifier(), layout(), error()

The participant node's name while started; the identifier; the layout; the
last error code (ZOK if none).

=back

=head1 SESSIONS AND CALLBACKS

While the connection is lost (suspended) is_leader() is false, as
LeaderLatch gives up leadership on SUSPENDED; if the session survives,
leadership comes back once reconnected (with the same participant node:
unlike LeaderLatch, which makes a new one on RECONNECTED, and like kazoo's
Election).  After an expiry the participant has lost its node with the
session: is_leader() is false for good, lost() is true, on_change is called
with false and then C<on_lost> with the election; make a new handle and a
new election object to take part again.

C<on_state> is called with the election and C<'suspended'>,
C<'reconnected'> or C<'lost'> (Curator's ConnectionState names) once per
change, as for L<Net::ZooKeeper::Recipe::Lock>:

  my $election = Net::ZooKeeper::Recipe::Election->new(
      handle   => $zkh, path => '/elections/scheduler',
      on_state => sub { my ($election, $change) = @_; warn "election: $change\n" },
      on_lost  => sub { warn "session expired: leave\n" },
  );

on_change, on_state and on_lost run from is_leader(), await_leadership(),
lost(), suspended(), state() or, for programs that
dispatch (L<Net::ZooKeeper/"CALLBACKS AND EVENT LOOPS">), from dispatch()
through a code-ref watch on the watched node, so an event loop learns of
a change without polling.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe>, L<Net::ZooKeeper::Recipe::Lock>, Curator's
LeaderLatch, kazoo's C<kazoo.recipe.election.Election>.

=cut
