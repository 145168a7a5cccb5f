package Net::ZooKeeper::Recipe;

# What the recipes share: argument checks, random ids, parent creation and
# the retry of calls whose outcome is unknown.  Public API only.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Time::HiRes ();
use Net::ZooKeeper qw(:errors :acls :create_modes);

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

# A pause before retrying a call that failed with ZCONNECTIONLOSS: a call
# fails at once while the servers refuse connections, so without it the
# retry would spin.
sub backoff {
    my ($self, $deadline) = @_;
    my $pause = 0.05;
    $pause = $deadline - now() if defined $deadline && $deadline - now() < $pause;
    select(undef, undef, undef, $pause) if $pause > 0;
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

=head1 SESSIONS

A recipe never keeps its own session: it uses the handle's.  What a
session loss means for each recipe is in its manual; as with Curator, a
lock whose session expired is reported lost and never assumed held.

=head1 SEE ALSO

L<Net::ZooKeeper>, L<https://curator.apache.org/>,
L<https://kazoo.readthedocs.io/>.

=cut
