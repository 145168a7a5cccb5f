package Net::ZooKeeper::Recipe;

# What the recipes share: argument checks, random ids, parent creation, the
# retry of calls whose outcome is unknown, the protected create of a
# contender node, and guards.  Public API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Time::HiRes ();
use Net::ZooKeeper qw(:errors :acls :create_modes :events :states);

our $VERSION = '0.01';

# Common constructor checks: a live handle and a valid absolute path.
sub _init {
    my ($class, $args, @known) = @_;
    my %a = %$args;
    my $zkh = delete $a{handle};
    Carp::croak("$class->new: handle must be a Net::ZooKeeper handle")
        unless Scalar::Util::blessed($zkh) && $zkh->isa('Net::ZooKeeper');
    my $path = delete $a{path};
    Carp::croak("$class->new: path must be an absolute node path")
        unless defined $path && $path =~ m{^/} && $path ne '/' && $path !~ m{/\z} && $path !~ m{//};
    my %self = (handle => $zkh, path => $path, acl => delete($a{acl}) // ZOO_OPEN_ACL_UNSAFE);
    for my $k (@known) { $self{$k} = delete $a{$k} if exists $a{$k} }
    Carp::croak("$class->new: unknown option" . (keys %a > 1 ? 's' : '') . ': ' . join(', ', sort keys %a))
        if %a;
    return bless \%self, $class;
}

sub handle { $_[0]{handle} }
sub path   { $_[0]{path} }

# A random (version 4) UUID, as Java's UUID.randomUUID().toString() and
# Python's uuid.uuid4() make them.
sub uuid {
    my $bytes = '';
    if (open(my $fh, '<:raw', '/dev/urandom')) {
        read($fh, $bytes, 16);
        close $fh;
    }
    $bytes = pack('N4', map { int(rand(2**32)) } 1 .. 4) if length($bytes) != 16;
    my @b = unpack('C16', $bytes);
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    return sprintf('%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x', @b);
}

# Result codes after which the session can not be used again.
sub session_gone {
    my ($rc) = @_;
    return $rc == ZSESSIONEXPIRED || $rc == ZINVALIDSTATE || $rc == ZAUTHFAILED;
}

# Result codes whose outcome is unknown and which are worth a retry.
sub transient {
    my ($rc) = @_;
    return $rc == ZCONNECTIONLOSS || $rc == ZOPERATIONTIMEOUT;
}

# Creates the missing nodes of $path (all of them: it and its ancestors),
# as containers (Curator's creatingParentContainersIfNeeded) or persistent
# nodes (kazoo's ensure_path).  A server without containers (before 3.5)
# gets persistent nodes, as Curator falls back.  Returns true, or false with
# the handle's error set.
sub ensure_path {
    my ($self, $path, %o) = @_;
    my $zkh = $self->{handle};
    my $p = '';
    for my $part (grep { length } split m{/}, $path) {
        $p .= "/$part";
        next if $zkh->exists($p);
        return 0 if $zkh->get_error != ZNONODE;
        my $mode = $o{container} && !$self->{_no_containers} ? ZOO_CONTAINER : ZOO_PERSISTENT;
        next if $zkh->create($p, $o{data} // '', mode => $mode, acl => $self->{acl});
        my $rc = $zkh->get_error;
        if ($rc == ZUNIMPLEMENTED && $mode == ZOO_CONTAINER) {
            $self->{_no_containers} = 1;
            redo;
        }
        return 0 unless $rc == ZNODEEXISTS;
    }
    return 1;
}

sub now { Time::HiRes::time() }

# After a failed call: true (after a pause) if it is worth another try
# before the deadline (none: no limit).  A lost session is reported to the
# recipe's _session_gone.
sub retryable {
    my ($self, $rc, $deadline) = @_;
    $self->{error} = $rc;
    if (session_gone($rc)) {
        $self->_session_gone;
        return 0;
    }
    return 0 unless transient($rc);
    return 0 if defined $deadline && now() >= $deadline;
    $self->backoff($deadline);
    return 1;
}

# Creates a contender node "$dir/$name" (%create: mode or flags), whose name
# starts with $prefix (Curator's protected _c_<uuid>- prefix, or a kazoo
# object's own).  After an outcome left unknown (connection lost) it first
# looks for a child with that prefix, so that no orphan node is left, as
# Curator's protection mode does.  A missing $dir is made (containers with
# container => 1).  Returns the node's name, or undef with the error set.
sub protected_create {
    my ($self, %o) = @_;
    my ($dir, $prefix, $deadline) = @o{qw(dir prefix deadline)};
    my $zkh = $self->{handle};
    my $unknown = 0;
    while (1) {
        if ($unknown) {
            my @children = $zkh->get_children($dir);
            my $rc = $zkh->get_error;
            if ($rc == ZOK) {
                my ($mine) = grep { index($_, $prefix) == 0 } @children;
                return $mine if defined $mine;
                $unknown = 0;
            }
            elsif ($self->retryable($rc, $deadline)) { next }
            else { return undef }
        }
        my $made = $zkh->create("$dir/$o{name}", $self->{data}, @{ $o{create} }, acl => $self->{acl});
        if (defined $made) {
            (my $name = $made) =~ s{.*/}{};
            return $name;
        }
        my $rc = $zkh->get_error;
        return $o{name} if $rc == ZNODEEXISTS && $o{exists_ok};
        if ($rc == ZNONODE) {
            $self->ensure_path($dir, container => $o{container})
                or $self->retryable($zkh->get_error, $deadline)
                or return undef;
            next;
        }
        return undef unless $self->retryable($rc, $deadline);
        $unknown = 1;
    }
}

# Whether a watch's (event, state) says the node held is lost: deleted, or
# its session gone.
sub ends_hold {
    my ($event, $state) = @_;
    return $event == ZOO_DELETED_EVENT
        || ($event == ZOO_SESSION_EVENT && ($state == ZOO_EXPIRED_SESSION_STATE || $state == ZOO_AUTH_FAILED_STATE));
}

# Watches the node held ($path, the recipe's node): a Watch object for lost()
# without dispatch, and with on_lost a code-ref watch for programs that
# dispatch.  The recipe's _holds($node) says whether that node is still held.
sub watch_held {
    my ($self, $path) = @_;
    my $zkh = $self->{handle};
    $self->{watch} = $zkh->watch;
    $zkh->exists($path, watch => $self->{watch}) or $self->mark_lost;
    return unless $self->{on_lost};
    Scalar::Util::weaken(my $weak = $self);
    my $node = $self->{node};
    # The code ref re-arms itself through a weak copy: the core holds the only
    # strong reference (a sub holding itself would never be freed).
    my ($cb, $again);
    $cb = sub {
        my ($event, $state) = @_;
        return unless $weak && $weak->_holds($node);
        if (ends_hold($event, $state)) {
            $weak->mark_lost;
        }
        elsif ($event == ZOO_CHANGED_EVENT && $again) {
            $weak->{handle}->exists($path, watch => $again) or $weak->mark_lost;
        }
    };
    Scalar::Util::weaken($again = $cb);
    $zkh->exists($path, watch => $cb) or $self->mark_lost;
}

# What is held is lost: once, with on_lost called.
sub mark_lost {
    my ($self) = @_;
    return if $self->{lost};
    $self->{lost} = 1;
    if (my $cb = $self->{on_lost}) {
        local $@;
        eval { $cb->($self); 1 } or warn ref($self) . ": on_lost died: $@";
    }
}

# Contender nodes in their library's order: Curator sorts every child by
# what follows the last $marker ("lock-", "latch-"; the whole name without
# one: StandardLockInternalsDriver.standardFixForSorting); kazoo keeps the
# children matching $re and sorts them by its captured sequence number.
sub in_order {
    my ($layout, $marker, $re, @children) = @_;
    my %key;
    if ($layout eq 'curator') {
        %key = map {
            my $i = rindex($_, $marker);
            ($_ => $i >= 0 ? substr($_, $i + length $marker) : $_)
        } @children;
    }
    else {
        %key = map { $_ =~ $re ? ($_ => $1) : () } @children;
    }
    return sort { $key{$a} cmp $key{$b} } keys %key;
}

# A guard: releases what it holds when it goes (scope exit), or at release().
sub guard_for {
    my ($self) = @_;
    return bless { held => $self }, 'Net::ZooKeeper::Recipe::Guard';
}

# A pause before retrying a call that failed with ZCONNECTIONLOSS: a call
# fails at once while the servers refuse connections, so without it the
# retry would spin.
sub backoff {
    my ($self, $deadline) = @_;
    my $pause = 0.05;
    $pause = $deadline - now() if defined $deadline && $deadline - now() < $pause;
    select(undef, undef, undef, $pause) if $pause > 0;
}

package Net::ZooKeeper::Recipe::Guard;

# What the guard holds (a lock, a semaphore).
sub held { $_[0]{held} }

sub release {
    my ($self) = @_;
    my $held = delete $self->{held} or return 0;
    return $held->release;
}

sub DESTROY {
    my ($self) = @_;
    return unless $self->{held};
    local ($@, $!, $?);
    eval { $self->release };
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe - what the Net::ZooKeeper recipes share

=head1 SYNOPSIS

  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Lock;
  use Net::ZooKeeper::Recipe::Counter;

  my $zkh  = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $lock = Net::ZooKeeper::Recipe::Lock->new(handle => $zkh, path => '/locks/report');
  if (my $guard = $lock->guard(timeout => 10)) {
      my $runs = Net::ZooKeeper::Recipe::Counter->new(
          handle => $zkh, path => '/counters/report', format => 'shared_count');
      printf "run number %d\n", $runs->increment;
  }

=head1 DESCRIPTION

The recipes are distributed-coordination algorithms built on the public
Net::ZooKeeper API, which use the node layouts of Apache Curator and
kazoo, so that Perl processes take part in the same locks, counters and
elections as Java and Python processes:

=over 4

=item L<Net::ZooKeeper::Recipe::Lock>

Curator's InterProcessMutex (C<< layout => 'curator' >>) and kazoo's Lock
(C<< layout => 'kazoo' >>).

=item L<Net::ZooKeeper::Recipe::Counter>

kazoo's Counter (C<< format => 'kazoo' >>), Curator's SharedCount
(C<'shared_count'>) and DistributedAtomicLong (C<'atomic_long'>).

=item L<Net::ZooKeeper::Recipe::Election>

Curator's LeaderLatch (C<< layout => 'curator' >>) and kazoo's Election
(C<< layout => 'kazoo' >>).

=item L<Net::ZooKeeper::Recipe::Semaphore>

Curator's InterProcessSemaphoreV2 (C<< layout => 'curator' >>) and kazoo's
Semaphore (C<< layout => 'kazoo' >>).

=back

This module is the recipes' base class; programs use the recipes.  Every
recipe takes C<handle> (a L<Net::ZooKeeper> handle), C<path> and an
optional C<acl> (default ZOO_OPEN_ACL_UNSAFE, the default of both Curator
and kazoo) and croaks on unknown options.  The methods below are common
to all of them.

=over 4

=item handle(), path()

The handle and path the recipe was made with.

=item Net::ZooKeeper::Recipe::uuid()

A random version 4 UUID in its usual text form
(C<2f1d4c0e-9b7a-4e57-a3c1-8f2b6d0e4a19>).

=back

For writing a recipe, the base class also has:

=over 4

=item protected_create(dir => $dir, prefix => $prefix, name => $name, create => [...], container => 0|1, exists_ok => 0|1, deadline => $t)

  my $node = $self->protected_create(dir => $self->path, prefix => $prefix,
      name => "${prefix}lock-", create => [ mode => ZOO_EPHEMERAL_SEQUENTIAL ]);

Creates the contender node C<"$dir/$name"> with the recipe's data and ACL;
after a connection loss it first looks for a child starting with C<$prefix>
(Curator's protected names), so that a create that did reach the server
leaves no orphan.  A missing C<$dir> is made (containers with
C<< container => 1 >>).  Returns the node's name, or undef with the error in
C<< $self->{error} >>.

=item retryable($rc, $deadline)

  next if $self->retryable($zkh->get_error, $deadline);

True, after a short pause, when a call that failed with C<$rc> is worth
trying again before C<$deadline> (connection loss, timeout); a lost session
calls the recipe's C<_session_gone> and gives false.

=item watch_held($path), mark_lost(), Net::ZooKeeper::Recipe::ends_hold($event, $state)

  $self->watch_held($self->path . '/' . $self->node);   # once acquired
  $self->mark_lost if Net::ZooKeeper::Recipe::ends_hold($w->{event}, $w->{state});

watch_held() watches the node the recipe holds: with a Watch object (kept in
C<< $self->{watch} >>, for a C<lost> method that needs no dispatch) and,
given C<on_lost>, a code-ref watch that re-arms itself and calls mark_lost()
from dispatch().  The recipe's C<< _holds($node) >> says whether that node is
still held.  mark_lost() records the loss once and calls C<on_lost>;
ends_hold() is true for a deletion, an expiry or an authentication failure.

=item Net::ZooKeeper::Recipe::in_order($layout, $marker, $re, @children)

  my @queue = Net::ZooKeeper::Recipe::in_order('curator', 'lock-', undef, @children);

The contender nodes in their library's order: for C<'curator'> every child,
sorted by what follows the last C<$marker> (Curator's
standardFixForSorting); for C<'kazoo'> the children matching C<$re>, sorted
by its captured sequence number.

=item guard_for()

  return $self->guard_for;   # in a recipe's guard() once acquired

A Net::ZooKeeper::Recipe::Guard: its C<release> (or its going out of scope)
releases what the recipe holds; C<held> returns the recipe.

=back

=head1 SESSIONS

A recipe never keeps its own session: it uses the handle's.  What a
session loss means for each recipe is in its manual; as with Curator, a
lock whose session expired is reported lost and never assumed held.

=head1 SEE ALSO

L<Net::ZooKeeper>, L<https://curator.apache.org/>,
L<https://kazoo.readthedocs.io/>.

=cut
