package Net::ZooKeeper::IOAsync;

# Runs a Net::ZooKeeper handle's callbacks from an IO::Async loop (an
# IO::Async::Handle on the handle's fd calls dispatch) and offers the handle's
# asynchronous calls as methods returning Futures. IO::Async is loaded only
# when an adapter is made.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper ();
use Net::ZooKeeper::Loop ();

our @ISA     = ('Net::ZooKeeper::Loop');
our $VERSION = $Net::ZooKeeper::VERSION;

sub _init {
    my ($self, %opt) = @_;
    my $loop = $opt{loop};
    Carp::croak(ref($self) . "->new: loop => an IO::Async::Loop is required")
        unless Scalar::Util::blessed($loop) && $loop->isa('IO::Async::Loop');
    require IO::Async::Handle;
    $self->{loop} = $loop;
    return;
}

sub _watch {
    my ($self, $fh, $dispatch) = @_;
    my $notifier = IO::Async::Handle->new(read_handle => $fh, on_read_ready => $dispatch);
    $self->{loop}->add($notifier);
    return $notifier;
}

sub _unwatch {
    my ($self, $notifier) = @_;
    $notifier->loop->remove($notifier) if $notifier->loop;
    return;
}

sub loop {
    my ($self) = @_;
    return $self->{loop};
}

# The Future forms: $zk->get($path, %opts) and so on, one per asynchronous call.
# A future cancelled meanwhile keeps its state (the request cannot be taken back).
Net::ZooKeeper::Loop::install(
    into  => __PACKAGE__,
    start => sub {
        my ($self) = @_;
        my $f = $self->{loop}->new_future;
        return (
            $f,
            sub { $f->done(@_) unless $f->is_ready },
            sub {
                my ($message, $rc, @values) = @_;
                $f->fail($message, zookeeper => $rc, @values) unless $f->is_ready;
            },
        );
    },
);

1;

__END__

=head1 NAME

Net::ZooKeeper::IOAsync - Net::ZooKeeper calls as Futures in an IO::Async loop

=head1 SYNOPSIS

  use strict;
  use warnings;
  use IO::Async::Loop;
  use Net::ZooKeeper qw(:errors :acls :events);
  use Net::ZooKeeper::IOAsync;

  my $loop = IO::Async::Loop->new;
  my $zkh  = Net::ZooKeeper->new('localhost:2181');
  my $zk   = Net::ZooKeeper::IOAsync->new(handle => $zkh, loop => $loop);

  my $changed = $loop->new_future;
  my $f = $zk->create('/demo', 'hello', acl => ZOO_OPEN_ACL_UNSAFE)
      ->then(sub { $zk->get('/demo', watch => sub { $changed->done(@_) unless $changed->is_ready }) })
      ->then(sub {
          my ($data) = @_;
          print "data: $data\n";
          Future->needs_all($zk->set('/demo', 'world'), $changed);
      })
      ->then(sub { $zk->get_children('/') })
      ->then(sub {
          print "children of /: @_\n";
          $zk->delete('/demo');
      })
      ->then(sub { $zk->get('/demo') })
      ->else(sub {
          my ($message, $category, $rc) = @_;
          print "as expected: $message\n" if $rc == ZNONODE;    # get /demo: no node
          Future->done;
      });
  $loop->await($f);
  $zk->stop;

=head1 DESCRIPTION

Net::ZooKeeper runs the callbacks of asynchronous calls (the C<callback>
option) and code-ref watchers only when the program dispatches them (see
L<Net::ZooKeeper>).  An object of this class adds an L<IO::Async::Handle> to
the loop that reads the handle's fd and calls C<< $zkh->dispatch >> when it is
readable, so that callbacks run from the loop, and it offers each of the
handle's asynchronous calls as a method of the same name and arguments that
returns a L<Future> (made with C<< $loop->new_future >>) instead of taking a
C<callback>:

  $zk->get($path, %options)           # a Future done with ($data)

The future is done with what the call delivers on success (see the C<callback>
option in L<Net::ZooKeeper>: the created path, the data, the child names, the
ACL, nothing for set or delete ...), or failed with

  ("get /a/b: no node", "zookeeper", ZNONODE)

a message (the call, its path if it has one, and C<Net::ZooKeeper::zerror> of
the code), the category C<zookeeper> and the ZooKeeper code, followed for
C<multi> and C<multi_read> by the per-operation results.  Any call with a code
other than ZOK fails its future, C<exists> of a missing node included
(ZNONODE).  Options such as C<stat> and C<watch> (a Watch object or a code ref)
are passed on.  Bad arguments croak at once, as in the synchronous form.
Cancelling a future does not take back its request.

The handle's own methods still work alongside, with or without C<callback>.

The methods are made from the core's list of asynchronous calls
(L<Net::ZooKeeper::Loop/calls>): create, delete, exists, get, set,
get_children, get_acl, set_acl, sync, get_ephemerals,
get_all_children_number, whoami, get_config, multi, multi_read, add_watch,
remove_watches and remove_all_watches.

After C<fork>, the handle cannot be used in the child: a child that runs the
loop removes the notifier there, at its first readiness, without dispatching.
Call C<< $loop->post_fork >> in the child as IO::Async asks (or fork with
C<< $loop->fork >>).

Loading this module does not load IO::Async; C<new> does.

=head1 METHODS

=over

=item new(handle => $zkh, loop => $loop)

Adds the notifier to the loop and returns the object.  Croaks without a
Net::ZooKeeper handle or an L<IO::Async::Loop>, or if the handle has no fd
(see C<fd> in L<Net::ZooKeeper>).  The notifier stays in the
loop as long as the object lives (or until C<stop>): keep the object.

  my $zk = Net::ZooKeeper::IOAsync->new(handle => $zkh, loop => IO::Async::Loop->new);

=item create, delete, exists, get, set, get_children, get_acl, set_acl, sync, get_ephemerals, get_all_children_number, whoami, get_config, multi, multi_read, add_watch, remove_watches, remove_all_watches

The handle's call with the same arguments, returning a Future as described
above.

  my ($data) = $zk->get('/a', stat => $stat)->get;    # runs the loop until done
  $zk->multi([ create => '/b', '', acl => ZOO_OPEN_ACL_UNSAFE ], [ delete => '/c' ])
     ->on_done(sub { print "transaction committed\n" })
     ->on_fail(sub { my ($message, undef, $rc, @results) = @_; warn "$message\n" });

=item handle

The handle.

  $zk->handle->get_error;

=item loop

The loop.

  $zk->loop->run;

=item active

True while the notifier is in the loop (until C<stop>, or a C<fork>'s child
removed it).

  print "dispatching from IO::Async\n" if $zk->active;

=item stop

Removes the notifier from the loop.  Callbacks (and futures) then complete
only when something else calls C<< $zkh->dispatch >>.

  $zk->stop;

=back

=head1 SEE ALSO

L<Net::ZooKeeper>, L<IO::Async>, L<Future>, L<Net::ZooKeeper::AnyEvent>,
L<Net::ZooKeeper::Mojo>, L<Net::ZooKeeper::Loop>

=cut
