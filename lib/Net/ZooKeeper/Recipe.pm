package Net::ZooKeeper::Recipe;

# What the recipes share: argument checks, random ids, parent creation, the
# retry of calls whose outcome is unknown, the protected create of a
# contender node, and guards.  Public API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Socket ();
use Sys::Hostname ();
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

# InetAddress.getLocalHost().getHostAddress(): the address the host name
# resolves to, or empty if it does not resolve.
sub local_address {
    my $packed = gethostbyname(Sys::Hostname::hostname());
    return defined $packed && length $packed == 4 ? Socket::inet_ntoa($packed) : '';
}

# Waits on watch $w until it fires or $deadline (undef: none) passes.  True
# if it may have fired, false once the deadline has passed (error set to
# ZOPERATIONTIMEOUT).
sub wait_watch {
    my ($self, $w, $deadline, $slice) = @_;
    my $left = defined $deadline ? $deadline - now() : 60;
    if ($left <= 0) {
        $self->{error} = ZOPERATIONTIMEOUT;
        return 0;
    }
    $left = $slice if defined $slice && $slice < $left;
    $w->wait(timeout => int($left * 1000) + 1);
    return 1;
}

# The whole data of $path, whatever its length (get() stops at the handle's
# data_read_len): undef with the handle's error if it can not be read.  Null
# data reads as the empty string.
sub read_data {
    my ($zkh, $path) = @_;
    my $stat = $zkh->stat;
    my $data = $zkh->get($path, stat => $stat, data_read_len => 4096);
    return undef if $zkh->get_error != ZOK;
    $data = $zkh->get($path, data_read_len => $stat->{data_len}) if $stat->{data_len} > 4096;
    return undef if $zkh->get_error != ZOK;
    return $data // '';
}


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

# Whether a watch's (event, state) says the connection is lost while the
# session may live: Curator's SUSPENDED, kazoo's KazooState.SUSPENDED.
sub suspends {
    my ($event, $state) = @_;
    return ($event // 0) == ZOO_SESSION_EVENT
        && (($state // 0) == ZOO_CONNECTING_STATE || ($state // 0) == ZOO_ASSOCIATING_STATE) ? 1 : 0;
}

# Watches the node held ($path, the recipe's node): a Watch object for lost()
# and suspended() without dispatch, and with on_lost or on_state a code-ref
# watch for programs that dispatch.  The recipe's _holds($node) says whether
# that node is still held.
sub watch_held {
    my ($self, $path) = @_;
    my $zkh = $self->{handle};
    $self->{watch} = $zkh->watch;
    $zkh->exists($path, watch => $self->{watch}) or $self->mark_lost;
    return unless $self->{on_lost} || $self->{on_state};
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
        elsif ($event == ZOO_SESSION_EVENT) {
            # Connection lost, or back with the same session.
            $weak->mark_suspended(suspends($event, $state));
        }
        elsif ($event == ZOO_CHANGED_EVENT && $again) {
            $weak->{handle}->exists($path, watch => $again) or $weak->mark_lost;
        }
    };
    Scalar::Util::weaken($again = $cb);
    $zkh->exists($path, watch => $cb) or $self->mark_lost;
}

# Calls the recipe's callback $name (on_lost, on_state) with the recipe and
# @args; one that dies is reported with warn.
sub _notify {
    my ($self, $name, @args) = @_;
    my $cb = $self->{$name} or return;
    local $@;
    eval { $cb->($self, @args); 1 } or warn ref($self) . ": $name died: $@";
}

# What is held is lost: once, with on_state('lost') and on_lost called.
sub mark_lost {
    my ($self) = @_;
    return if $self->{lost};
    $self->{lost} = 1;
    $self->{suspended} = 0;
    $self->_notify(on_state => 'lost');
    $self->_notify('on_lost');
}

# The connection of the session holding it was lost (true) or is back with
# that session (false): each change is reported once to on_state, as
# 'suspended' or 'reconnected'.  Returns the flag.
sub mark_suspended {
    my ($self, $suspended) = @_;
    $suspended = $suspended ? 1 : 0;
    return 0 if $self->{lost};
    return $suspended if ($self->{suspended} // 0) == $suspended;
    $self->{suspended} = $suspended;
    $self->_notify(on_state => $suspended ? 'suspended' : 'reconnected');
    return $suspended;
}

# suspended() of a recipe that holds something watched by $self->{watch}:
# what that watch saw last, reported through mark_suspended().
sub watched_suspended {
    my ($self) = @_;
    my $w = $self->{watch} or return 0;
    return $self->mark_suspended(suspends($w->{event}, $w->{state}));
}

# The state of what the recipe holds ($self->{node}): 'idle' (nothing held),
# 'held', 'suspended' (the connection is lost, the session may live) or
# 'lost' (the session expired, or the node was deleted).
sub state {
    my ($self) = @_;
    return 'idle' unless defined $self->{node};
    return 'lost' if $self->lost;
    return $self->suspended ? 'suspended' : 'held';
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

# DESTROY of a recipe whose member node "$path/$node" stays while it is
# joined: deletes it, best effort, in the process that made it.
sub drop_member_node {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' || $$ != ($self->{pid} // 0) || !$self->{joined};
    local ($@, $!, $?);
    eval { $self->{handle}->delete("$self->{path}/$self->{node}") };
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

=item L<Net::ZooKeeper::Recipe::ReadWriteLock>

Curator's InterProcessReadWriteLock (C<< layout => 'curator' >>) and
kazoo's ReadLock/WriteLock (C<< layout => 'kazoo' >>).

=item L<Net::ZooKeeper::Recipe::Barrier>

Curator's DistributedBarrier (C<< layout => 'curator' >>) and kazoo's
Barrier (C<< layout => 'kazoo' >>).

=item L<Net::ZooKeeper::Recipe::DoubleBarrier>

Curator's DistributedDoubleBarrier (C<< layout => 'curator' >>) and kazoo's
DoubleBarrier (C<< layout => 'kazoo' >>).

=item L<Net::ZooKeeper::Recipe::Party>

kazoo's Party (C<< type => 'party' >>) and ShallowParty
(C<< type => 'shallow' >>).

=item L<Net::ZooKeeper::Recipe::Queue>, L<Net::ZooKeeper::Recipe::LockingQueue>

kazoo's Queue and LockingQueue.

=item L<Net::ZooKeeper::Recipe::TreeCache>, L<Net::ZooKeeper::Recipe::NodeCache>

A local copy of a subtree (Curator's TreeCache and CuratorCache, kazoo's
TreeCache) or of one node (Curator's NodeCache), kept current by a
persistent watch or by one-shot watches, from dispatch() or an event loop.

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

=item watch_held($path), mark_lost(), mark_suspended($flag), watched_suspended(), Net::ZooKeeper::Recipe::ends_hold($event, $state), Net::ZooKeeper::Recipe::suspends($event, $state)

  $self->watch_held($self->path . '/' . $self->node);   # once acquired
  sub suspended { my $s = shift; $s->{node} && !$s->lost ? $s->watched_suspended : 0 }

watch_held() watches the node the recipe holds: with a Watch object (kept in
C<< $self->{watch} >>, for lost() and suspended() without dispatch) and,
given C<on_lost> or C<on_state>, a code-ref watch that re-arms itself and
reports from dispatch().  The recipe's C<< _holds($node) >> says whether
that node is still held.  mark_lost() records the loss once and calls
C<on_state> with C<'lost'>, then C<on_lost>; mark_suspended() records a
change of the connection and calls C<on_state> with C<'suspended'> or
C<'reconnected'>; watched_suspended() does so from what the watch saw.
ends_hold() is true for a deletion, an expiry or an authentication failure;
suspends() for a connection lost while the session may live.

=item state()

  print $recipe->state;   # idle, held, suspended, lost

From C<< $self->{node} >>, lost() and suspended().

=item wait_watch($watch, $deadline, $slice)

  $self->wait_watch($w, $deadline) or return 0;   # timed out

Waits on a Watch object until it fires, C<$deadline> passes (undef: 60
seconds at most per call) or C<$slice> seconds pass.  False, with the error
ZOPERATIONTIMEOUT, once the deadline has passed.

=item Net::ZooKeeper::Recipe::read_data($zkh, $path)

  my $value = Net::ZooKeeper::Recipe::read_data($zkh, "$dir/$entry");

The whole data of C<$path>, whatever its length (get() stops at the
handle's C<data_read_len>); undef with the handle's error if it can not be
read; null data reads as the empty string.

=item Net::ZooKeeper::Recipe::local_address()

  my $data = Net::ZooKeeper::Recipe::local_address();   # "192.0.2.7"

What Curator writes into the nodes it creates by default
(C<InetAddress.getLocalHost().getHostAddress()>): the address the host
name resolves to, or the empty string.

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

=item drop_member_node()

  sub DESTROY { $_[0]->drop_member_node }

For a recipe whose member node C<"$self->{path}/$self->{node}"> stays
while C<< $self->{joined} >> is true (a double barrier's or a party's):
deletes that node, best effort (as kazoo's C<_best_effort_cleanup>), when
the object goes in the process that made it (C<< $self->{pid} >>), so that
a member that goes stops counting at once.  Nothing during global
destruction; C<$@>, C<$!> and C<$?> are left as they were.

=back

=head1 SESSIONS

A recipe never keeps its own session: it uses the handle's, and reports
what the session means for what it holds, as Curator does (a
ConnectionStateListener's SUSPENDED, RECONNECTED and LOST; kazoo's
KazooState):

=over 4

=item suspended

The connection is lost and the session is not known to have expired: what
is held may be lost already.  suspended() is true; state() is
C<'suspended'>; an election does not lead.  Only the cluster expires a
session: an outage, however long, is suspended until a server answers.

=item reconnected

The same session is back: the node is still there and held again (state()
C<'held'>).

=item lost

The cluster expired the session (or it failed to authenticate), or someone
deleted the node: lost() is true, state() C<'lost'>, and it is never
reported held again; release() (stop() for an election) resets the object.

=back

Lock, ReadWriteLock, Election and Semaphore take
C<< on_state => sub { my ($recipe, $change) = @_ } >>, called once per
change with C<'suspended'>, C<'reconnected'> or C<'lost'>, and C<on_lost>,
called once at a loss.  They run when suspended(), lost() or state() first
sees the change, or, for programs that dispatch, from dispatch().  None of
these methods needs dispatch: they look at a watch that the background
runtime updates.  C<t/75_recipe_sessions.t> stops, freezes and wipes a real
server under them.

=head1 SEE ALSO

L<Net::ZooKeeper>, L<https://curator.apache.org/>,
L<https://kazoo.readthedocs.io/>.

=cut
