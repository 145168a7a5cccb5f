package Net::ZooKeeper::Recipe::TreeCache;

# A local copy of a subtree kept current, as Curator's TreeCache /
# CuratorCache and kazoo's TreeCache.  Public Net::ZooKeeper API only.
# Net::ZooKeeper::Recipe::NodeCache is this with a depth of 0.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(:errors :events :states :states_ext :watch_modes);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

# The event types, as Curator's TreeCacheEvent.Type and kazoo's TreeEvent
# name them.
use constant {
    NODE_ADDED             => 'NODE_ADDED',
    NODE_UPDATED           => 'NODE_UPDATED',
    NODE_REMOVED           => 'NODE_REMOVED',
    INITIALIZED            => 'INITIALIZED',
    CONNECTION_SUSPENDED   => 'CONNECTION_SUSPENDED',
    CONNECTION_RECONNECTED => 'CONNECTION_RECONNECTED',
    CONNECTION_LOST        => 'CONNECTION_LOST',
};

# ZooKeeper's default limit of a node's data (jute.maxbuffer, 1 MiB): the
# handle's default data_read_len (1023 bytes) would cut data short.
my $MAX_DATA = 1024 * 1024;

my %MODES = map { $_ => 1 } qw(auto persistent one_shot);

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, $class->_options);
    $self->_check_options($class);
    return $self;
}

sub _options { qw(on_event max_depth watch_mode data_read_len) }

sub _check_options {
    my ($self, $class) = @_;
    for my $cb (qw(on_event on_change)) {
        Carp::croak("$class->new: $cb must be a code reference")
            if defined $self->{$cb} && ref $self->{$cb} ne 'CODE';
    }
    my $mode = $self->{watch_mode} //= 'auto';
    Carp::croak("$class->new: watch_mode must be 'auto', 'persistent' or 'one_shot', not '$mode'")
        unless $MODES{$mode};
    Carp::croak("$class->new: max_depth must be a number >= 0")
        if defined $self->{max_depth} && $self->{max_depth} !~ /\A\d+\z/;
    Carp::croak("$class->new: data_read_len must be a number >= 0")
        if defined $self->{data_read_len} && $self->{data_read_len} !~ /\A\d+\z/;
    $self->{data_read_len} //= $MAX_DATA;
    $self->{nodes} = {};
    $self->{gen} = 0;
    $self->{pid} = $$;
}

sub error       { $_[0]{error} // ZOK }
sub lost        { $_[0]{lost} ? 1 : 0 }
sub suspended   { $_[0]{suspended} ? 1 : 0 }
sub initialized { $_[0]{initialized} ? 1 : 0 }
sub started     { $_[0]{started} ? 1 : 0 }
sub max_depth   { $_[0]{max_depth} }

# The mode in use once started: 'persistent' or 'one_shot'.
sub watch_mode { $_[0]{mode} // $_[0]{watch_mode} }

# Starts (or, after a lost session or close(), restarts with the same or a
# new handle): sets the watch, loads the tree, reports INITIALIZED.
sub start {
    my ($self, %o) = @_;
    my $class = ref $self;
    Carp::croak('start: invalid number of arguments') if @_ % 2 == 0;
    Carp::croak('start: the cache belongs to another process') if $$ != $self->{pid};
    Carp::croak('start: already started') if $self->{started};
    if (defined(my $zkh = delete $o{handle})) {
        Carp::croak("$class->start: handle must be a Net::ZooKeeper handle")
            unless Scalar::Util::blessed($zkh) && $zkh->isa('Net::ZooKeeper');
        $self->{handle} = $zkh;
    }
    Carp::croak("$class->start: unknown option" . (keys %o > 1 ? 's' : '') . ': ' . join(', ', sort keys %o)) if %o;
    $self->{error} = ZOK;
    $self->{gen}++;
    @$self{qw(lost suspended dirty initialized)} = (0, 0, 0, 0);
    $self->{armed} = { data => {}, child => {} };
    $self->{started} = 1;
    unless ($self->_set_watch) {
        $self->{started} = 0;
        return 0;
    }
    # The first load reports every node as added; a restart reports what
    # differs from the copy kept.
    my $ok = $self->_resync;
    return 0 unless $self->{started};    # the session is gone
    $self->{initialized} = $self->{loaded} = 1;
    $self->_emit(INITIALIZED, undef);
    return $ok ? 1 : 0;
}

# The persistent watch (recursive, or on the node alone for a depth of 0),
# or, in one-shot mode or from a server before 3.6, nothing here: one-shot
# watches are set as the nodes are read.
sub _set_watch {
    my ($self) = @_;
    my $zkh = $self->{handle};
    my $mode = $self->{watch_mode};
    if ($mode eq 'one_shot') {
        $self->{mode} = 'one_shot';
        return 1;
    }
    my $gen = $self->{gen};
    Scalar::Util::weaken(my $weak = $self);
    my $deadline = Net::ZooKeeper::Recipe::now() + 30;
    while (1) {
        my $pw = $zkh->add_watch($self->{path},
            mode  => ($self->{max_depth} // 1) == 0 ? ZOO_WATCH_PERSISTENT : ZOO_WATCH_PERSISTENT_RECURSIVE,
            watch => sub {
                my ($event, $state, $path) = @_;
                return unless $weak && $weak->{gen} == $gen && $weak->{started};
                $weak->_event($event, $state, $path);
            });
        if ($pw) {
            $self->{mode} = 'persistent';
            $self->{pw} = $pw;
            return 1;
        }
        my $rc = $zkh->get_error;
        if ($rc == ZUNIMPLEMENTED && $mode eq 'auto') {
            $self->{mode} = 'one_shot';    # a server before 3.6
            return 1;
        }
        next if $self->retryable($rc, $deadline);
        return 0;
    }
}

# Stops following the tree; the copy stays readable.
sub close {
    my ($self) = @_;
    return 0 unless $self->{started};
    $self->{started} = 0;
    $self->{gen}++;    # one-shot watches still armed do nothing
    if (my $pw = delete $self->{pw}) {
        $pw->remove if $$ == $self->{pid} && !$self->{lost};
    }
    return 1;
}

sub DESTROY {
    my ($self) = @_;
    return if ${^GLOBAL_PHASE} eq 'DESTRUCT' || $$ != ($self->{pid} // 0);
    local ($@, $!, $?);
    eval { $self->close };
}

# A watch event (persistent, or one-shot with its kind), from dispatch().
sub _event {
    my ($self, $event, $state, $path, $kind) = @_;
    if ($event == ZOO_SESSION_EVENT) {
        $self->_session_event($state);
        return;
    }
    delete $self->{armed}{$kind}{$path} if $kind;
    return if $event == ZOO_NOTWATCHING_EVENT || !defined $path;
    return unless $self->_within($path);
    $self->_resync if $self->{dirty} && !$self->{suspended};
    if ($event == ZOO_DELETED_EVENT) {
        $self->_remove($path);
        # One-shot mode: a missing root is watched for its creation.
        $self->_refresh($path) if $kind && $path eq $self->{path};
    }
    elsif ($event == ZOO_CHILD_EVENT) {
        $self->_load_children($path, 0) if $kind && $self->{nodes}{$path};
    }
    elsif ($event == ZOO_CREATED_EVENT || $event == ZOO_CHANGED_EVENT) {
        $self->_refresh($path, 0);
    }
}

# Connection lost, back or the session gone.  In one-shot mode every armed
# watch hears it: only a change of state counts.
sub _session_event {
    my ($self, $state) = @_;
    return if $self->{lost};
    if ($state == ZOO_EXPIRED_SESSION_STATE || $state == ZOO_AUTH_FAILED_STATE) {
        $self->_session_gone;
    }
    elsif ($state == ZOO_CONNECTING_STATE || $state == ZOO_ASSOCIATING_STATE) {
        return if $self->{suspended};
        $self->{suspended} = 1;
        $self->_emit(CONNECTION_SUSPENDED, undef);
    }
    elsif ($state == ZOO_CONNECTED_STATE || $state == ZOO_READONLY_STATE) {
        return unless $self->{suspended};
        $self->{suspended} = 0;
        $self->_emit(CONNECTION_RECONNECTED, undef);
        # Changes made while disconnected may not be reported
        # (ZOOKEEPER-4698): read the tree again.
        $self->_resync;
    }
}

# Called by retryable() and on an expiry event: the watches are over;
# start(handle => $new) follows the tree again.
sub _session_gone {
    my ($self) = @_;
    return if $self->{lost};
    $self->{lost} = 1;
    $self->{started} = 0;
    $self->{gen}++;
    delete $self->{pw};
    $self->_emit(CONNECTION_LOST, undef);
}

# Whether $path is the root or below it, within max_depth.
sub _within {
    my ($self, $path) = @_;
    my $root = $self->{path};
    return 1 if $path eq $root;
    return 0 unless index($path, "$root/") == 0;
    return 1 unless defined $self->{max_depth};
    my $depth = () = substr($path, length $root) =~ m{/}g;
    return $depth <= $self->{max_depth};
}

sub _depth_ok {
    my ($self, $path) = @_;
    return 1 unless defined $self->{max_depth};
    my $depth = () = substr($path, length $self->{path}) =~ m{/}g;
    return $depth < $self->{max_depth};
}

# One-shot mode: a code-ref watch of this generation, unless one of that
# kind is armed on the node already.
sub _watch_for {
    my ($self, $kind, $path) = @_;
    return () unless $self->{mode} eq 'one_shot' && !$self->{armed}{$kind}{$path};
    my $gen = $self->{gen};
    Scalar::Util::weaken(my $weak = $self);
    return (watch => sub {
        my ($event, $state) = @_;
        return unless $weak && $weak->{gen} == $gen && $weak->{started};
        $weak->_event($event, $state, $path, $kind);
    });
}

# After a failed read: a lost session is reported; anything else leaves the
# copy to be read again (at the reconnection, or the next event or
# wait_for()).
sub _failed {
    my ($self, $rc) = @_;
    $self->{error} = $rc;
    if (Net::ZooKeeper::Recipe::session_gone($rc)) { $self->_session_gone }
    else { $self->{dirty} = 1 }
    return 0;
}

# Reads the node (data and stat) and records it: added, updated (its data
# changed: a new mzxid, as Curator compares) or removed.  A node new to the
# copy (or every node, $deep) has its children read too.  False on a
# failed read.
sub _refresh {
    my ($self, $path, $deep) = @_;
    return 1 unless $self->{started};
    my $zkh = $self->{handle};
    my $nodes = $self->{nodes};
    my $root = $path eq $self->{path};
    # An event for a node whose parent is not in the copy yet: reading the
    # parent reads it.
    unless ($root) {
        (my $parent = $path) =~ s{/[^/]+\z}{};
        return $self->_refresh($parent, 0) unless $nodes->{$parent};
    }
    my $stat = $zkh->stat;
    my @watch = $self->_watch_for(data => $path);
    if ($root && @watch && !$nodes->{$path}) {
        # exists() arms its watch on a missing node too (get() does not):
        # the root's creation is seen.
        unless ($zkh->exists($path, @watch)) {
            my $rc = $zkh->get_error;
            return $self->_failed($rc) unless $rc == ZNONODE;
            $self->{armed}{data}{$path} = 1;
            return 1;
        }
        $self->{armed}{data}{$path} = 1;
        @watch = ();
    }
    my $data = $zkh->get($path, stat => $stat, data_read_len => $self->{data_read_len}, @watch);
    unless (defined $data) {
        my $rc = $zkh->get_error;
        if ($rc == ZNONODE) {
            $self->_remove($path);
            return 1;
        }
        return $self->_failed($rc) unless $rc == ZOK;    # null data
        $data = undef;
    }
    $self->{armed}{data}{$path} = 1 if @watch;
    my %stat = %$stat;
    my $node = $nodes->{$path};
    my $new = !$node;
    if ($new) {
        $node = $nodes->{$path} = { data => $data, stat => \%stat, children => {} };
        unless ($root) {
            (my $parent = $path) =~ s{/([^/]+)\z}{};
            $nodes->{$parent}{children}{$1} = 1;
        }
        $self->_emit(NODE_ADDED, $path, $node);
    }
    elsif ($node->{stat}{mzxid} != $stat{mzxid} || $node->{stat}{czxid} != $stat{czxid}) {
        @$node{qw(data stat)} = ($data, \%stat);
        $self->_emit(NODE_UPDATED, $path, $node);
    }
    else {
        $node->{stat} = \%stat;    # children changed only: no event
    }
    return 1 unless ($new || $deep) && $self->_depth_ok($path);
    return $self->_load_children($path, $deep);
}

# Reads the children of a node in the copy: those gone are removed, new
# ones read (with their subtrees); $deep reads every child again.
sub _load_children {
    my ($self, $path, $deep) = @_;
    my $zkh = $self->{handle};
    my $node = $self->{nodes}{$path} or return 1;
    my @watch = $self->_watch_for(child => $path);
    my @names = $zkh->get_children($path, @watch);
    my $rc = $zkh->get_error;
    if ($rc == ZNONODE) {
        $self->_remove($path);
        return 1;
    }
    return $self->_failed($rc) if $rc != ZOK;
    $self->{armed}{child}{$path} = 1 if @watch;
    my %now = map { $_ => 1 } @names;
    for my $gone (sort grep { !$now{$_} } keys %{ $node->{children} }) {
        $self->_remove("$path/$gone");
    }
    my $ok = 1;
    for my $name (sort @names) {
        next if $node->{children}{$name} && !$deep;
        $self->_refresh("$path/$name", $deep) or $ok = 0;
        last unless $self->{started};
    }
    return $ok;
}

# Removes a node and what is below it from the copy, the deepest first, as
# ZooKeeper deletes them.
sub _remove {
    my ($self, $path) = @_;
    my $nodes = $self->{nodes};
    my $node = $nodes->{$path} or return;
    $self->_remove("$path/$_") for sort keys %{ $node->{children} };
    delete $nodes->{$path};
    if ($path ne $self->{path}) {
        (my $parent = $path) =~ s{/([^/]+)\z}{};
        delete $nodes->{$parent}{children}{$1} if $nodes->{$parent};
    }
    $self->_emit(NODE_REMOVED, $path, $node);
}

# Reads the whole tree again and reports what differs from the copy.
sub _resync {
    my ($self) = @_;
    $self->{dirty} = 0;
    return $self->_refresh($self->{path}, 1);
}

sub _emit {
    my ($self, $type, $path, $node) = @_;
    my $cb = $self->{on_event} or return;
    local $@;
    eval { $cb->($self, $type, $path, $node ? ($node->{data}, { %{ $node->{stat} } }) : ()); 1 }
        or warn ref($self) . ": on_event died: $@";
}

# The copy.

sub get {
    my ($self, $path) = @_;
    my $node = $self->{nodes}{ $path // $self->{path} } or return undef;
    return { path => $path // $self->{path}, data => $node->{data}, stat => { %{ $node->{stat} } } };
}

sub data {
    my ($self, $path) = @_;
    my $node = $self->{nodes}{ $path // $self->{path} } or return undef;
    return $node->{data};
}

sub stat {
    my ($self, $path) = @_;
    my $node = $self->{nodes}{ $path // $self->{path} } or return undef;
    return { %{ $node->{stat} } };
}

sub children {
    my ($self, $path) = @_;
    my $node = $self->{nodes}{ $path // $self->{path} } or return;
    return wantarray ? sort(keys %{ $node->{children} }) : scalar(keys %{ $node->{children} });
}

sub nodes {
    my ($self) = @_;
    return wantarray ? sort(keys %{ $self->{nodes} }) : scalar(keys %{ $self->{nodes} });
}

# Dispatching, for programs without an event loop.

sub dispatch {
    my ($self, %o) = @_;
    Carp::croak('dispatch: invalid number of arguments') if @_ % 2 == 0;
    my $ran = $self->{handle}->dispatch(%o);
    $self->_retry_dirty;
    return $ran;
}

# A read that failed without a disconnection (a timeout) is made again.
sub _retry_dirty {
    my ($self) = @_;
    $self->_resync if $self->{dirty} && $self->{started} && !$self->{suspended};
}

sub wait_for {
    my ($self, $cond, %o) = @_;
    Carp::croak('wait_for: condition must be a code reference') unless ref $cond eq 'CODE';
    my $deadline = Net::ZooKeeper::Recipe::now() + ($o{timeout} // 10);
    while (1) {
        $self->_retry_dirty;
        return 1 if $cond->($self);
        my $left = $deadline - Net::ZooKeeper::Recipe::now();
        return 0 if $left <= 0;
        # Bounded slices, so that a retry is not held up by a quiet handle.
        my $ms = int($left * 1000) + 1;
        $self->{handle}->dispatch(timeout => $ms > 200 ? 200 : $ms);
    }
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::TreeCache - a local copy of a subtree kept current, as Curator's and kazoo's TreeCache

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper qw(:acls);
  use Net::ZooKeeper::Recipe::TreeCache;

  my $zkh   = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $cache = Net::ZooKeeper::Recipe::TreeCache->new(
      handle   => $zkh,
      path     => '/services',
      on_event => sub {
          my ($cache, $type, $path, $data, $stat) = @_;
          if ($type =~ /^NODE_/) {
              printf "%-12s %s = %s\n", $type, $path, $data // '(null)';
          }
          else {
              print "$type\n";    # INITIALIZED, CONNECTION_SUSPENDED, ...
          }
      },
  );
  $cache->start or die "cannot start the cache: " . $cache->error . "\n";

  for my $service ($cache->children('/services')) {
      my $node = $cache->get("/services/$service");
      print "$service: $node->{data} (version $node->{stat}{version})\n";
  }

  # Another session adds a node: the cache hears of it from dispatch().
  my $other = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  $other->create('/services', '', acl => ZOO_OPEN_ACL_UNSAFE);
  $other->create('/services/mail', 'smtp:25', acl => ZOO_OPEN_ACL_UNSAFE);
  $cache->wait_for(sub { defined $_[0]->get('/services/mail') }, timeout => 10)
      or die "the cache did not see /services/mail\n";
  print "mail: ", $cache->data('/services/mail'), "\n";

  $other->delete('/services/mail');
  $cache->wait_for(sub { !$_[0]->get('/services/mail') }, timeout => 10);
  $cache->close;

=head1 DESCRIPTION

Keeps a copy of every node under C<path> (the node itself included): its
data, its stat and its children, as Curator's TreeCache (and CuratorCache)
and kazoo's TreeCache do.  Reading the copy (get(), children(), nodes())
asks no server.  The copy follows any writer: Perl, Java, Python, the
command line.

How it hears of changes (C<watch_mode>):

=over 4

=item persistent (ZooKeeper 3.6 and later)

One persistent recursive watch on C<path> (add_watch() with
ZOO_WATCH_PERSISTENT_RECURSIVE, as CuratorCache), which reports the
creation, change and deletion of every node below; each event makes the
cache read that node (and, for a node new to it, its subtree).  It survives
reconnections.  With C<< max_depth => 0 >> the watch is on the node alone
(ZOO_WATCH_PERSISTENT).

=item one_shot

A data watch and a child watch on every node (get() and get_children()
with a watch, as Curator's TreeCache and kazoo's TreeCache), each set again
when it fires; the root is watched with exists() while it is missing.

=back

The default, C<auto>, takes a persistent watch, and one-shot watches from a
server before 3.6 (add_watch() fails with ZUNIMPLEMENTED).
C<< watch_mode => 'one_shot' >> forces one-shot watches.  Servers before 3.9
keep one watch per node and session (ZOOKEEPER-4466): in persistent mode,
do not set one-shot watches on cached nodes through the same handle (such
as a one-shot cache of the same nodes): give them a handle of their own.

Events are reported as Curator's TreeCacheEvent.Type and kazoo's
TreeEvent name them: C<NODE_ADDED>, C<NODE_UPDATED> (the node's data was
set: a new mzxid, as Curator compares; a change of its children alone is
no update), C<NODE_REMOVED> (a removed subtree is reported deepest first),
C<INITIALIZED> (after the first load), C<CONNECTION_SUSPENDED> (the
connection is lost; the session may live), C<CONNECTION_RECONNECTED> (back
within the session: the cache then reads the whole tree again, since
changes made meanwhile may not be reported, ZOOKEEPER-4698, and reports
what differs), C<CONNECTION_LOST> (the session expired: see
L</SESSIONS>).  The constants of those names (C<<
Net::ZooKeeper::Recipe::TreeCache::NODE_ADDED >> ...) hold these strings.
Each change is reported with the node's data and stat as read after it: two
quick changes may be reported as one, with the later data, but the copy
always ends up as the tree is.

=head1 CALLBACKS AND DISPATCH

The cache is updated from watch callbacks, which run only when the program
dispatches them (L<Net::ZooKeeper/"CALLBACKS AND EVENT LOOPS">):

=over 4

=item *

in an event loop, by the loop's adapter (L<Net::ZooKeeper::AnyEvent>,
L<Net::ZooKeeper::IOAsync>, L<Net::ZooKeeper::Mojo>): the copy keeps current
on its own;

=item *

in a plain program, by C<< $zkh->dispatch >>, or C<< $cache->dispatch >>
or C<< $cache->wait_for >> below.

=back

Without dispatch the copy stays as it was.  C<on_event> runs from there
too, and from start() for the first load.  The cache reads with the
handle's synchronous calls from inside the callbacks: each event costs a
round trip to the server.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

  my $cache = Net::ZooKeeper::Recipe::TreeCache->new(
      handle => $zkh, path => '/config/myapp',
      max_depth => 1, watch_mode => 'auto',
      on_event => sub { my ($cache, $type, $path, $data, $stat) = @_; ... });

Options: C<on_event> (a code reference called as C<< $cb->($cache, $type,
$path, $data, $stat) >>: for the C<NODE_*> types the node's path, data
(undef for null data) and stat (a hash of the L<Net::ZooKeeper/"Net::ZooKeeper::Stat">
fields); only C<$cache> and C<$type>, C<$path> undef, for the others),
C<max_depth> (how deep below C<path> to cache: 0 the node alone, 1 its
children too; default: everything, as Curator's setMaxDepth), C<watch_mode>
(C<'auto'>, C<'persistent'> or C<'one_shot'>), C<data_read_len> (the most
data read of a node, default 1 MiB, ZooKeeper's own limit).  Unknown options
croak.  new() does not contact the server.

=item start(), start(handle => $new_zkh)

  $cache->start or die "start: " . $cache->error . "\n";

Sets the watch, reads the tree (reporting each node as C<NODE_ADDED>,
parents first) and reports C<INITIALIZED>.  Returns true, or false with
error() set (a node that could not be read is read again later).  The path
need not exist: the cache is then empty until it is created.  After
close() or a lost session, start() follows the tree again (on a new handle
if given) and reports only what differs from the copy kept.

=item close()

  $cache->close;

Stops following the tree (removes the persistent watch; one-shot watches
still armed do nothing when they fire).  The copy stays readable.
Destroying the cache closes it.

=item get($path), data($path), stat($path)

  my $node = $cache->get('/config/myapp/db');   # { path, data, stat } or undef
  my $data = $cache->data('/config/myapp/db');
  print "version $node->{stat}{version}\n" if $node;

The copy of the node at C<$path> (default: C<path>): a hash with C<path>,
C<data> and C<stat> (a hash of the stat fields: C<version>, C<mzxid>,
C<num_children>, ...), or undef if the node is not in the copy.  data() and
stat() return one part.  undef data is null data (or a missing node).

=item children($path), nodes()

  my @names = $cache->children('/config/myapp');   # sorted names
  my @paths = $cache->nodes;                        # every cached path, sorted
  my $count = $cache->nodes;                        # how many

The names of the children of the node at C<$path> (default: C<path>) in
the copy, and the paths of every node in the copy; their number in scalar
context (children() of a node not in the copy: the empty list, or undef).

=item dispatch(timeout => $ms)

  $cache->dispatch(timeout => 1000) while $running;

C<< $zkh->dispatch >> (runs every callback of the handle that is due,
waiting up to C<$ms> for one), then a reading again that a timeout had
left undone.  Returns how many callbacks ran.

=item wait_for($condition, timeout => $seconds)

  $cache->wait_for(sub { $_[0]->data('/config/myapp/db') eq 'db2' }, timeout => 10)
      or warn "not seen within 10 s\n";

Dispatches until C<< $condition->($cache) >> is true (true) or
C<$seconds> (default 10) have passed (false): the way to wait for a change
in a plain program and in tests.

=item initialized(), started(), suspended(), lost(), watch_mode(), max_depth(), error()

True after the first load; while following the tree; while the connection
is lost (between C<CONNECTION_SUSPENDED> and C<CONNECTION_RECONNECTED>);
once the session is gone.  watch_mode() is C<'persistent'> or
C<'one_shot'> once started.  error() is the last error (ZOK if none).

=back

=head1 SESSIONS

A lost connection is reported as C<CONNECTION_SUSPENDED>: the copy is
kept, but may miss changes until C<CONNECTION_RECONNECTED>, after which the
cache reads the tree again and reports the differences.  A persistent watch
survives the reconnection (the runtime sets it again), as do the one-shot
watches.  When the session expires the watches are over: the cache reports
C<CONNECTION_LOST>, keeps the last copy and lost() is true.  A handle whose
session expired can not be used again; make a new one and call
C<< $cache->start(handle => $new) >>: the cache sets its watch again, reads
the tree and reports what changed meanwhile.

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::NodeCache>, L<Net::ZooKeeper::Recipe>,
L<Net::ZooKeeper>, Curator's TreeCache and CuratorCache, kazoo's
C<kazoo.recipe.cache.TreeCache>.

=cut
