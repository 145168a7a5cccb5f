package Net::ZooKeeper::AnyEvent;

# Runs a Net::ZooKeeper handle's callbacks from AnyEvent: an io watcher on the
# handle's fd calls dispatch. AnyEvent is loaded only when an adapter is made.

use strict;
use warnings;

use Net::ZooKeeper ();
use Net::ZooKeeper::Loop ();

our @ISA     = ('Net::ZooKeeper::Loop');
our $VERSION = $Net::ZooKeeper::VERSION;

sub _init {
    require AnyEvent;
    return;
}

# The io watcher lives as long as the adapter holds it.
sub _watch {
    my ($self, $fh, $dispatch) = @_;
    return AnyEvent->io(fh => $fh, poll => 'r', cb => $dispatch);
}

sub _unwatch { return }

1;

__END__

=head1 NAME

Net::ZooKeeper::AnyEvent - run Net::ZooKeeper callbacks from an AnyEvent loop

=head1 SYNOPSIS

  use strict;
  use warnings;
  use AnyEvent;
  use Net::ZooKeeper qw(:errors :acls :events);
  use Net::ZooKeeper::AnyEvent;

  my $zkh = Net::ZooKeeper->new('localhost:2181');
  my $w   = Net::ZooKeeper::AnyEvent->new(handle => $zkh);

  my $done = AnyEvent->condvar;

  # Calls with callback return at once; AnyEvent runs the callbacks.
  $zkh->create('/demo', 'hello', acl => ZOO_OPEN_ACL_UNSAFE, callback => sub {
      my ($rc, $path) = @_;
      $zkh->get('/demo',
          watch => sub {
              my ($event, $state, $node) = @_;
              return unless $event == ZOO_CHANGED_EVENT;    # not a session event
              print "$node changed\n";
              $zkh->delete('/demo', callback => sub { $done->send });
          },
          callback => sub {
              my ($rc, $data) = @_;
              print $rc == ZOK ? "data: $data\n" : "get failed: $rc\n";
              $zkh->set('/demo', 'world', callback => sub { });
          });
  });

  my $tick = AnyEvent->timer(after => 0, interval => 1, cb => sub { print "still responsive\n" });
  $done->recv;
  $w->stop;

=head1 DESCRIPTION

Net::ZooKeeper runs the callbacks of asynchronous calls (the C<callback>
option) and code-ref watchers only when the program dispatches them (see
L<Net::ZooKeeper>).  An object of this class watches the handle's fd with an
C<< AnyEvent->io >> watcher and calls C<< $zkh->dispatch >> whenever it is
readable, so the callbacks run from the AnyEvent loop (EV, AnyEvent's pure-Perl
loop, or any other model).  Nothing else changes: the calls are the handle's
own.

The watcher lives as long as the object (or until C<stop>): keep the object.

After C<fork>, the handle cannot be used in the child: a child that runs the
loop stops the watcher there, at its first readiness, without dispatching, and
the parent goes on as before.  Use the loop model's own fork handling in the
child (EV does it by itself).

Loading this module does not load AnyEvent; C<new> does.

=head1 METHODS

=over

=item new(handle => $zkh)

Starts watching the handle and returns the object.  Croaks without a
Net::ZooKeeper handle, or if the handle has no fd (see C<fd> in
L<Net::ZooKeeper>).

  my $w = Net::ZooKeeper::AnyEvent->new(handle => $zkh);

=item handle

The handle.

  $w->handle->get('/a', callback => sub { my ($rc, $data) = @_; ... });

=item active

True while the object watches the handle (until C<stop>, or a C<fork>'s child
stopped it).

  print "dispatching from AnyEvent\n" if $w->active;

=item stop

Stops watching; the callbacks then run only when something else calls
C<< $zkh->dispatch >>.

  $w->stop;
  $zkh->dispatch(timeout => 1000);    # by hand from now on

=back

=head1 SEE ALSO

L<Net::ZooKeeper>, L<AnyEvent>, L<Net::ZooKeeper::IOAsync>,
L<Net::ZooKeeper::Mojo>, L<Net::ZooKeeper::Loop>

=cut
