package Net::ZooKeeper::Recipe::NodeCache;

# A local copy of one node kept current, as Curator's NodeCache (and
# CuratorCache with SINGLE_NODE_CACHE).  A TreeCache of depth 0.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper::Recipe::TreeCache ();
use parent -norequire, 'Net::ZooKeeper::Recipe::TreeCache';

our $VERSION = '0.01';

sub _options { qw(on_change on_event watch_mode data_read_len) }

sub new {
    my ($class, %args) = @_;
    my $self = $class->SUPER::new(%args);
    $self->{max_depth} = 0;
    return $self;
}

# on_change for the node's changes after the first load (Curator's
# NodeCache.start(true) builds the first view without calling listeners).
sub _emit {
    my ($self, $type, $path, $node) = @_;
    $self->SUPER::_emit($type, $path, $node);
    my $cb = $self->{on_change} or return;
    return unless $self->{loaded} && defined $path;
    my @now = $type eq 'NODE_REMOVED' ? (undef, undef) : ($node->{data}, { %{ $node->{stat} } });
    local $@;
    eval { $cb->($self, @now); 1 } or warn ref($self) . ": on_change died: $@";
}

sub exists { defined $_[0]{nodes}{ $_[0]{path} } ? 1 : 0 }

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::NodeCache - a local copy of one node kept current, as Curator's NodeCache

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper qw(:acls);
  use Net::ZooKeeper::Recipe::NodeCache;

  my $zkh   = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $cache = Net::ZooKeeper::Recipe::NodeCache->new(
      handle    => $zkh,
      path      => '/config/feature-flags',
      on_change => sub {
          my ($cache, $data, $stat) = @_;
          if ($stat) { print "flags now: $data (version $stat->{version})\n" }
          else       { print "flags removed\n" }
      },
  );
  $cache->start or die "cannot start the cache: " . $cache->error . "\n";
  print "flags: ", $cache->exists ? $cache->data : '(no node)', "\n";

  # Another session writes the node: on_change runs from dispatch().
  my $other = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  $other->create('/config', '', acl => ZOO_OPEN_ACL_UNSAFE);
  $other->create('/config/feature-flags', 'dark-mode=off', acl => ZOO_OPEN_ACL_UNSAFE)
      or $other->set('/config/feature-flags', 'dark-mode=off');
  $other->set('/config/feature-flags', 'dark-mode=on');
  $cache->wait_for(sub { ($_[0]->data // '') eq 'dark-mode=on' }, timeout => 10)
      or die "the change was not seen\n";
  $other->delete('/config/feature-flags');
  $cache->wait_for(sub { !$_[0]->exists }, timeout => 10);
  $cache->close;

=head1 DESCRIPTION

Keeps the data and stat of one node, as Curator's NodeCache (and
CuratorCache with its SINGLE_NODE_CACHE option): data() and stat() read
the copy, undef while the node does not exist.  It is a
L<Net::ZooKeeper::Recipe::TreeCache> of depth 0 and works the same way: a
persistent watch on the node (ZooKeeper 3.6 and later), or one-shot
watches set again as they fire (C<< watch_mode => 'one_shot' >>, or a
server before 3.6); the copy is updated from callbacks, which run from
dispatch() or an event loop (see
L<Net::ZooKeeper::Recipe::TreeCache/"CALLBACKS AND DISPATCH">); sessions are
handled as there.  The TreeCache methods (get(), wait_for(), dispatch(),
close(), on_event ...) are all available.

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, %options)

Options: C<on_change> (a code reference called as C<< $cb->($cache, $data,
$stat) >> when the node is created, its data set, or it is deleted: the
new data and stat hash, both undef once the node is gone; not for the first
load, as Curator's C<start(true)>), C<on_event>, C<watch_mode>,
C<data_read_len>, C<acl> as for TreeCache.  Unknown options croak.

=item start(), close()

  $cache->start or die "start: " . $cache->error . "\n";

Reads the node and starts following it; stops following it.  See
L<Net::ZooKeeper::Recipe::TreeCache/"start(), start(handle =E<gt> $new_zkh)">.

=item data(), stat(), exists()

  printf "%s (version %d)\n", $cache->data, $cache->stat->{version} if $cache->exists;

The node's data (undef for null data or no node), its stat as a hash
(undef for no node), and whether it exists, from the copy.

=item wait_for($condition, timeout => $seconds), dispatch(timeout => $ms)

  $cache->wait_for(sub { $_[0]->exists }, timeout => 5);

As for TreeCache: dispatch until the condition holds, or once.

=back

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe::TreeCache>, L<Net::ZooKeeper::Recipe>, Curator's
NodeCache and CuratorCache.

=cut
