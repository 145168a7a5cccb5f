package Net::ZooKeeper::Recipe::Party;

# Group membership in kazoo's node layouts: Party (identifiers in the node
# data) and ShallowParty (identifiers in the node names).  Public
# Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(:errors :events :states :node_flags);
use Net::ZooKeeper::Recipe::Queue ();
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(type identifier));
    my $type = $self->{type} //= 'party';
    Carp::croak("$class->new: type must be 'party' or 'shallow', not '$type'")
        unless $type eq 'party' || $type eq 'shallow';
    # str(identifier or "").encode('utf-8')
    my $id = $self->{identifier} // '';
    utf8::encode($id) if utf8::is_utf8($id);
    (my $hex = Net::ZooKeeper::Recipe::uuid()) =~ tr/-//d;
    if ($type eq 'party') {
        # <uuid4().hex>__party__, holding the identifier.
        $self->{data} = $id;
        $self->{node} = "${hex}__party__";
    }
    else {
        # <uuid4().hex>-<identifier>, empty data.
        Carp::croak("$class->new: identifier must not contain '/' (it is part of a node name)") if $id =~ m{/};
        $self->{data} = '';
        $self->{node} = "$hex-$id";
    }
    $self->{gen} = 0;
    $self->{pid} = $$;
    return $self;
}

sub type       { $_[0]{type} }
sub node       { $_[0]{node} }
sub identifier { $_[0]{identifier} // '' }
sub joined     { $_[0]{joined} ? 1 : 0 }
sub error      { $_[0]{error} // ZOK }

sub _session_gone { }

# kazoo's _ensure_parent: the party node, persistent, once.
sub _ensure {
    my ($self, $deadline) = @_;
    return 1 if $self->{ensured};
    until ($self->ensure_path($self->{path})) {
        return 0 unless $self->retryable($self->{handle}->get_error, $deadline);
    }
    return $self->{ensured} = 1;
}

sub join {
    my ($self) = @_;
    $self->{error} = ZOK;
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    $self->_ensure($deadline) or return 0;
    # An existing node is ours (a create whose answer was lost), as kazoo.
    $self->protected_create(dir => $self->{path}, prefix => $self->{node}, name => $self->{node},
        create => [ flags => ZOO_EPHEMERAL ], exists_ok => 1, deadline => $deadline) // return 0;
    return $self->{joined} = 1;
}

# Deletes our node: true if it was there.
sub leave {
    my ($self) = @_;
    $self->{error} = ZOK;
    $self->{joined} = 0;
    my $zkh = $self->{handle};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    while (1) {
        return 1 if $zkh->delete("$self->{path}/$self->{node}");
        my $rc = $zkh->get_error;
        $self->{error} = $rc;
        return 0 if $rc == ZNONODE;
        next if $self->retryable($rc, $deadline);
        return 0;
    }
}

# The member nodes: kazoo's Party counts the children with "__party__" in
# their names, ShallowParty all of them.  () with the error set on failure.
sub _children {
    my ($self, $watch) = @_;
    my $zkh = $self->{handle};
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    $self->_ensure($deadline) or return;
    while (1) {
        my @children = $zkh->get_children($self->{path}, $watch ? (watch => $watch) : ());
        my $rc = $zkh->get_error;
        if ($rc == ZOK) {
            return $self->{type} eq 'party' ? grep { index($_, '__party__') >= 0 } @children : @children;
        }
        next if $self->retryable($rc, $deadline);
        return;
    }
}

# The members' identifiers (UTF-8 bytes, as stored), in no order.
sub members {
    my ($self) = @_;
    $self->{error} = ZOK;
    my @children = $self->_children;
    return map { substr($_, index($_, '-') + 1) } @children if $self->{type} eq 'shallow';
    my $zkh = $self->{handle};
    my @ids;
    for my $child (@children) {
        my $id = Net::ZooKeeper::Recipe::read_data($zkh, "$self->{path}/$child");
        push @ids, $id if defined $id;    # a member gone meanwhile is left out
    }
    return @ids;
}

sub count {
    my ($self) = @_;
    $self->{error} = ZOK;
    my @children = $self->_children;
    return $self->{error} == ZOK ? scalar @children : undef;
}

# For programs that dispatch: $cb->($party, @members) on every change of
# the membership, from a children watch that re-arms itself.  unwatch()
# (or a new watch()) ends it.
sub watch {
    my ($self, $cb) = @_;
    Carp::croak('watch: callback must be a code reference') unless ref $cb eq 'CODE';
    my $gen = ++$self->{gen};
    Scalar::Util::weaken(my $weak = $self);
    # The code ref re-arms itself through a weak copy: the core holds the
    # only strong reference.
    my ($watcher, $again);
    $watcher = sub {
        my ($event) = @_;
        return unless $weak && $weak->{gen} == $gen;
        # Connection events leave the watch armed (an expiry ends it).
        return if $event == ZOO_SESSION_EVENT;
        $weak->_children($again);
        local $@;
        eval { $cb->($weak, $weak->members); 1 } or warn "Net::ZooKeeper::Recipe::Party: watch callback died: $@";
    };
    Scalar::Util::weaken($again = $watcher);
    $self->_children($watcher);
    return $self->{error} == ZOK ? 1 : 0;
}

sub unwatch { $_[0]{gen}++; return 1 }

sub DESTROY { $_[0]->drop_member_node }

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Party - group membership shared with kazoo (Party, ShallowParty)

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Party;

  my $zkh   = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $party = Net::ZooKeeper::Recipe::Party->new(
      handle     => $zkh,
      path       => '/parties/workers',
      identifier => "perl-worker-$$",
      type       => 'party',              # or 'shallow'
  );

  $party->join or die "join: error ", $party->error, "\n";
  printf "%d members: %s\n", $party->count, join(', ', sort $party->members);

  # told of every change from dispatch()
  $party->watch(sub {
      my ($party, @members) = @_;
      print "now: @members\n";
  });
  $zkh->dispatch(timeout => 100);

  $party->leave;

=head1 DESCRIPTION

A party is a set of members, each an ephemeral node under the party node:
a member whose session ends leaves.  The layouts are kazoo's, so Perl and
Python processes (C<kazoo.recipe.party>) are members of the same party:

=over 4

=item C<< type => 'party' >> (default)

kazoo's C<Party>: member nodes C<E<lt>uuid hexE<gt>__party__> holding the
identifier (UTF-8, empty by default).  Members are the children whose name
contains C<__party__>; members() reads each one's data.

=item C<< type => 'shallow' >>

kazoo's C<ShallowParty>: member nodes C<E<lt>uuid hexE<gt>-E<lt>identifierE<gt>>
with empty data, so that members() is a single call: the identifier is what
follows the first C<->.  The identifier must be a valid node name (no
C</>).  Every child counts.

=back

The party node is made (persistent, as kazoo's C<ensure_path>) by the first
call that needs it.  Curator has no recipe with these layouts.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, identifier => $id, type => 'party'|'shallow', acl => $acl)

  my $party = Net::ZooKeeper::Recipe::Party->new(handle => $zkh, path => '/p', identifier => 'a');

Does not contact the server.  Unknown options croak.

=item join()

  $party->join or warn "not joined\n";

Creates this member's node (an existing one is fine).  True on success.

=item leave()

  $party->leave;

Deletes this member's node: true if it was there.

=item members()

  my @ids = $party->members;

The identifiers of all members, this one included once joined, in no
particular order, as stored (UTF-8 bytes; C<utf8::decode> them for
text).  An empty list on error (error() says which).

=item count()

  printf "%d members\n", $party->count;

The number of members (undef on error).

=item watch($callback), unwatch()

  $party->watch(sub { my ($party, @ids) = @_; print "members: @ids\n" });
  $zkh->dispatch(timeout => 1000) for 1 .. 10;

Calls C<< $callback->($party, @members) >> after every change of the
membership, from L<Net::ZooKeeper/dispatch()> (or an event loop adapter):
a code-ref watch on the party node's children that re-arms itself.
unwatch() (or another watch()) stops the calls.  Returns true if the watch
is set.

=item joined(), node(), identifier(), type(), error()

Whether join() succeeded (and leave() was not called); our node's name; the
identifier; the type; the last error code (ZOK if none).

=back

A member object belongs to the process that made it; destroying a joined
member deletes its node.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe>, kazoo's C<kazoo.recipe.party.Party> and
C<ShallowParty>.

=cut
