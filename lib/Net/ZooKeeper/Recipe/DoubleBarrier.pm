package Net::ZooKeeper::Recipe::DoubleBarrier;

# A double barrier (enter until num_clients have entered, leave until all
# have left) in Curator's (DistributedDoubleBarrier) or kazoo's
# (DoubleBarrier) node layout.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Sys::Hostname ();
use Net::ZooKeeper qw(:errors :events :states :node_flags);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(layout num_clients identifier));
    my $layout = $self->{layout} //= 'curator';
    Carp::croak("$class->new: layout must be 'curator' or 'kazoo', not '$layout'")
        unless $layout eq 'curator' || $layout eq 'kazoo';
    my $n = $self->{num_clients};
    Carp::croak("$class->new: num_clients must be a positive integer")
        unless defined $n && $n =~ /\A[0-9]+\z/ && $n > 0;
    if ($layout eq 'kazoo') {
        # uuid4().hex, holding the identifier (default: fqdn-pid).
        ($self->{node} = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
        my $id = $self->{identifier} // fqdn() . "-$$";
        utf8::encode($id) if utf8::is_utf8($id);
        $self->{data} = $id;
    }
    else {
        # UUID.randomUUID().toString(), holding the client's default data.
        Carp::croak("$class->new: identifier is for the kazoo layout") if defined $self->{identifier};
        $self->{node} = Net::ZooKeeper::Recipe::uuid();
        $self->{data} = Net::ZooKeeper::Recipe::local_address();
    }
    $self->{ready} = "$self->{path}/ready";
    $self->{pid} = $$;
    return $self;
}

# socket.getfqdn(): the canonical name the host name resolves to.
sub fqdn {
    my $host = Sys::Hostname::hostname();
    my ($name) = gethostbyname($host);
    return $name && $name =~ /\./ ? $name : $host;
}

sub layout      { $_[0]{layout} }
sub num_clients { $_[0]{num_clients} }
sub node        { $_[0]{node} }
sub data        { $_[0]{data} }
sub error       { $_[0]{error} // ZOK }
sub entered     { $_[0]{entered} ? 1 : 0 }

# The participants' nodes (the children but "ready"), sorted as both
# libraries sort them on leaving.
sub members {
    my ($self) = @_;
    return sort grep { $_ ne 'ready' } $self->{handle}->get_children($self->{path});
}

sub _session_gone { }

# What enter() and leave() do first: check their arguments (@args, the
# object's first) and the process, clear error().  Returns the deadline.
sub _begin {
    my ($self, $what, @args) = @_;
    Carp::croak("$what: invalid number of arguments") if @args % 2 == 0;
    Carp::croak("$what: the barrier object belongs to another process") if $$ != $self->{pid};
    my (undef, %o) = @args;
    $self->{error} = ZOK;
    return defined $o{timeout} ? Net::ZooKeeper::Recipe::now() + $o{timeout} : undef;
}

sub enter {
    my ($self) = @_;
    my $deadline = $self->_begin(enter => @_);
    my $zkh = $self->{handle};
    my $curator = $self->{layout} eq 'curator';
    # Our ephemeral node (Curator: parents as containers; kazoo: ensure_path).
    # Its name is fixed, so a create whose outcome was lost is found again.
    $self->protected_create(dir => $self->{path}, prefix => $self->{node}, name => $self->{node},
        create => [ flags => ZOO_EPHEMERAL ], container => $curator, exists_ok => 1,
        deadline => $deadline) // return 0;
    $self->{joined} = 1;
    while (1) {
        # Watch "ready" first, then count: whoever completes the count makes
        # it, so a count short by one still hears it.  An existing "ready"
        # lets us in at once, as Curator's enter() does.
        my $w = $zkh->watch;
        return $self->{entered} = 1 if $zkh->exists($self->{ready}, watch => $w);
        my $rc = $zkh->get_error;
        if ($rc != ZNONODE) {
            next if $self->retryable($rc, $deadline);
            return 0;
        }
        # Both count every child (ours included).
        my $count = $zkh->get_children($self->{path});
        unless (defined $count) {
            next if $self->retryable($zkh->get_error, $deadline);
            return 0;
        }
        if ($count >= $self->{num_clients}) {
            # kazoo: ensure_path (empty data); Curator: a plain create with
            # the default data.  Someone else's "ready" is as good.
            return $self->{entered} = 1
                if $zkh->create($self->{ready}, $curator ? $self->{data} : '', acl => $self->{acl});
            $rc = $zkh->get_error;
            return $self->{entered} = 1 if $rc == ZNODEEXISTS;
            next if $self->retryable($rc, $deadline);
            return 0;
        }
        # A timeout leaves our node, as Curator's enter(timeout) does: a
        # later enter() goes on waiting, leave() withdraws.
        $self->wait_watch($w, $deadline) or return 0;
    }
}

sub leave {
    my ($self) = @_;
    my $deadline = $self->_begin(leave => @_);
    my $zkh = $self->{handle};
    my $curator = $self->{layout} eq 'curator';
    $self->{entered} = 0;
    # kazoo removes "ready" as it starts leaving, Curator once it has left.
    $self->_delete($self->{ready}, $deadline) or return 0 unless $curator;
    my $mine = $self->{node};
    my $path = $self->{path};
    while (1) {
        my @children = $zkh->get_children($path);
        my $rc = $zkh->get_error;
        if ($rc != ZOK && $rc != ZNONODE) {
            next if $self->retryable($rc, $deadline);
            return 0;
        }
        # A late "ready" is no participant (kazoo would wait for it).
        my @order = sort grep { $_ ne 'ready' } @children;
        last unless @order;
        if (@order == 1 && $order[0] eq $mine) {
            $self->_delete("$path/$mine", $deadline) or return 0;
            $self->{joined} = 0;
            last;
        }
        # The lowest node leaves last: it waits for the highest to go, the
        # others delete theirs and wait for the lowest.
        my $watched;
        if ($order[0] eq $mine) {
            $watched = $order[-1];
        }
        else {
            if ($self->{joined}) {
                $self->_delete("$path/$mine", $deadline) or return 0;
                $self->{joined} = 0;
            }
            $watched = $order[0];
        }
        my $w = $zkh->watch;
        next unless $zkh->exists("$path/$watched", watch => $w);
        $self->wait_watch($w, $deadline) or return 0;
    }
    $self->_delete($self->{ready}, $deadline) or return 0 if $curator;
    return 1;
}

# Deletes $node; a node already gone is fine.
sub _delete {
    my ($self, $node, $deadline) = @_;
    my $zkh = $self->{handle};
    while (1) {
        return 1 if $zkh->delete($node) || $zkh->get_error == ZNONODE;
        next if $self->retryable($zkh->get_error, $deadline);
        return 0;
    }
}

# Best effort, as kazoo's _best_effort_cleanup: a member that goes stops
# counting.
sub DESTROY { $_[0]->drop_member_node }

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::DoubleBarrier - a double barrier shared with Curator and kazoo

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::DoubleBarrier;

  my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
  my @pids;
  for my $worker (1 .. 3) {
      my $pid = fork // die "fork: $!";
      if ($pid == 0) {
          my $zkh = Net::ZooKeeper->new($hosts);
          my $barrier = Net::ZooKeeper::Recipe::DoubleBarrier->new(
              handle      => $zkh,
              path        => '/barriers/batch',
              num_clients => 3,
              layout      => 'curator',          # or 'kazoo'
          );
          $barrier->enter(timeout => 30) or exit 1;   # all 3 are in
          print "worker $worker computing\n";
          $barrier->leave(timeout => 30) or exit 1;   # all 3 are done
          exit 0;
      }
      push @pids, $pid;
  }
  waitpid($_, 0) for @pids;

=head1 DESCRIPTION

A double barrier synchronizes the start and the end of a computation:
enter() returns once C<num_clients> participants have entered, leave() once
every participant has left.  Each participant keeps an ephemeral node under
the barrier node; the last to enter creates the node C<ready>, which the
others watch.  On leaving, the participant with the lowest node name leaves
last: it waits for the highest to go, while every other one deletes its
node and waits for the lowest.  The layouts are those of the libraries, so
Perl processes share a barrier with Java or Python ones:

=over 4

=item C<< layout => 'curator' >> (default)

Curator's DistributedDoubleBarrier: participant nodes
C<E<lt>pathE<gt>/E<lt>uuidE<gt>> (C<UUID.randomUUID().toString()>, e.g.
C<2f1d4c0e-9b7a-4e57-a3c1-8f2b6d0e4a19>), EPHEMERAL, holding the client's
default data (the local address as text), the barrier node and its missing
parents created as containers; C<E<lt>pathE<gt>/ready> a persistent node
with the same data.  leave() deletes C<ready> once it has left.

=item C<< layout => 'kazoo' >>

kazoo's DoubleBarrier: participant nodes C<E<lt>pathE<gt>/E<lt>uuid hexE<gt>>
(C<uuid4().hex>), EPHEMERAL, holding C<identifier> (UTF-8; default, as
kazoo's, the host's fully qualified name, C<->, the process id); missing
nodes made persistent (C<ensure_path>), C<ready> persistent and empty.
leave() deletes C<ready> as it starts.

=back

Both libraries count every child of the barrier node (C<ready> too) against
C<num_clients>, and so does this module on entering; an existing C<ready>
lets a participant in at once, as Curator does.  On leaving, a C<ready> that
is still (or again) there is not taken for a participant.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, num_clients => $n, %options)

  my $b = Net::ZooKeeper::Recipe::DoubleBarrier->new(
      handle => $zkh, path => '/barriers/b', num_clients => 4, layout => 'kazoo',
      identifier => 'worker-7');

Options: C<layout> (C<'curator'> or C<'kazoo'>), C<identifier> (kazoo
layout), C<acl>.  Does not contact the server.

=item enter(timeout => $seconds)

  $b->enter(timeout => 60) or die "only some entered (error ", $b->error, ")\n";

Creates this participant's node and waits until C<num_clients> have
entered.  True once they have; false on timeout (error()
ZOPERATIONTIMEOUT) or error.  After a timeout the node stays, as with
Curator: enter() again keeps waiting, leave() withdraws.  Without a timeout
it waits for ever.

=item leave(timeout => $seconds)

  $b->leave(timeout => 60) or warn "not everyone left\n";

Deletes this participant's node (the lowest does so last) and waits until
every participant has left.  True once all have; false on timeout or
error (leave() again goes on).

=item entered(), members(), node(), data(), num_clients(), layout(), error()

  print "in, with: ", join(',', $b->members), "\n" if $b->entered;

Whether enter() succeeded (and leave() was not called since); the
participants' node names, sorted; our node's name; its data;
C<num_clients>; the layout; the last error code (ZOK if none).

=back

A participant object belongs to the process that made it.  Destroying it
deletes its node if it still has one (kazoo's best effort cleanup); a
session that ends takes the node with it.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::Barrier>, L<Net::ZooKeeper::Recipe>, Curator's
DistributedDoubleBarrier, kazoo's C<kazoo.recipe.barrier.DoubleBarrier>.

=cut
