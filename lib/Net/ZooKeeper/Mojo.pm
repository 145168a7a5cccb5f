package Net::ZooKeeper::Mojo;

# Runs a Net::ZooKeeper handle's callbacks from a Mojo::IOLoop (its reactor
# watches the handle's fd and calls dispatch) and offers the handle's
# asynchronous calls as methods with a _p suffix returning Mojo::Promises.
# Mojolicious is loaded only when an adapter is made.

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
    require Mojo::IOLoop;
    require Mojo::Promise;
    my $loop = $opt{ioloop};
    if (defined $loop) {
        Carp::croak(ref($self) . "->new: ioloop => a Mojo::IOLoop is required")
            unless Scalar::Util::blessed($loop) && $loop->isa('Mojo::IOLoop');
    }
    else {
        $loop = Mojo::IOLoop->singleton;
    }
    $self->{ioloop} = $loop;
    return;
}

sub _watch {
    my ($self, $fh, $dispatch) = @_;
    $self->{ioloop}->reactor->io($fh => sub { $dispatch->() })->watch($fh, 1, 0);
    return $fh;
}

sub _unwatch {
    my ($self, $fh) = @_;
    $self->{ioloop}->reactor->remove($fh);
    return;
}

sub ioloop {
    my ($self) = @_;
    return $self->{ioloop};
}

# The promise forms: $zk->get_p($path, %opts) and so on, one per asynchronous call.
Net::ZooKeeper::Loop::install(
    into   => __PACKAGE__,
    suffix => '_p',
    start  => sub {
        my ($self) = @_;
        my $p = Mojo::Promise->new->ioloop($self->{ioloop});
        return ($p, sub { $p->resolve(@_) }, sub { $p->reject(@_) });
    },
);

1;

__END__

=head1 NAME

Net::ZooKeeper::Mojo - Net::ZooKeeper calls as Mojo::Promises in a Mojo::IOLoop

=head1 SYNOPSIS

  use strict;
  use warnings;
  use Mojolicious::Lite;
  use Net::ZooKeeper qw(:errors :acls :events);
  use Net::ZooKeeper::Mojo;

  # A web app that serves the current value of a ZooKeeper node.
  my $zkh = Net::ZooKeeper->new('localhost:2181');
  my $zk  = Net::ZooKeeper::Mojo->new(handle => $zkh);    # Mojo::IOLoop->singleton

  my $node = '/demo_config';
  $zkh->create($node, 'initial', acl => ZOO_OPEN_ACL_UNSAFE);
  my $value;

  # Read the node and watch it; each change reads it and watches again.
  sub follow {
      $zk->get_p($node, watch => sub {
          my ($event) = @_;
          follow() unless $event == ZOO_SESSION_EVENT;    # still armed after a session event
      })->then(
          sub { $value = shift },
          sub { my ($message, $rc) = @_; app->log->error($message) },
      );
  }
  follow();

  get '/config' => sub {
      my $c = shift;
      $c->render(text => $value // '(not read yet)');
  };

  # Writes as promises too.
  post '/config' => sub {
      my $c = shift;
      $c->render_later;
      $zk->set_p($node, $c->req->body)->then(
          sub { $c->render(text => "set\n") },
          sub { my ($message, $rc) = @_; $c->render(status => 500, text => "$message\n") },
      );
  };

  app->start;    # perl demo.pl daemon; curl -d new http://127.0.0.1:3000/config

=head1 DESCRIPTION

Net::ZooKeeper runs the callbacks of asynchronous calls (the C<callback>
option) and code-ref watchers only when the program dispatches them (see
L<Net::ZooKeeper>).  An object of this class makes the reactor of a
L<Mojo::IOLoop> watch the handle's fd and call C<< $zkh->dispatch >> when it
is readable, so that callbacks run from the loop, and it offers each of the
handle's asynchronous calls as a method with a C<_p> suffix and the same
arguments that returns a L<Mojo::Promise> instead of taking a C<callback>:

  $zk->get_p($path, %options)         # a promise resolved with ($data)

The promise is resolved with what the call delivers on success (see the
C<callback> option in L<Net::ZooKeeper>: the created path, the data, the
child names, the ACL, nothing for set or delete ...), or rejected with

  ("get /a/b: no node", ZNONODE)

a message (the call, its path if it has one, and C<Net::ZooKeeper::zerror> of
the code) and the ZooKeeper code, followed for C<multi_p> and C<multi_read_p>
by the per-operation results.  Any call with a code other than ZOK rejects
its promise, C<exists_p> of a missing node included (ZNONODE).  Options such
as C<stat> and C<watch> (a Watch object or a code ref) are passed on.  Bad
arguments croak at once, as in the synchronous form.

The handle's own methods still work alongside, with or without C<callback>.

The methods are made from the core's list of asynchronous calls
(L<Net::ZooKeeper::Loop/calls>): create_p, delete_p, exists_p, get_p, set_p,
get_children_p, get_acl_p, set_acl_p, sync_p, get_ephemerals_p,
get_all_children_number_p, whoami_p, get_config_p, multi_p, multi_read_p, add_watch_p,
remove_watches_p and remove_all_watches_p.

After C<fork>, the handle cannot be used in the child: a child that runs the
loop stops watching the fd there, at its first readiness, without
dispatching.

Loading this module does not load Mojolicious; C<new> does.

=head1 METHODS

=over

=item new(handle => $zkh, ioloop => $loop)

Starts watching the handle with C<< $loop->reactor >> and returns the object.
Without C<ioloop>, the loop is C<< Mojo::IOLoop->singleton >>.  Croaks without
a Net::ZooKeeper handle, with an C<ioloop> that is no Mojo::IOLoop, or if the
handle has no fd (see C<fd> in L<Net::ZooKeeper>).  The
fd is watched as long as the object lives (or until C<stop>): keep the
object.

  my $zk = Net::ZooKeeper::Mojo->new(handle => $zkh, ioloop => Mojo::IOLoop->new);

=item create_p, delete_p, exists_p, get_p, set_p, get_children_p, get_acl_p, set_acl_p, sync_p, get_ephemerals_p, get_all_children_number_p, whoami_p, get_config_p, multi_p, multi_read_p, add_watch_p, remove_watches_p, remove_all_watches_p

The handle's call without the C<_p>, with the same arguments, returning a
promise as described above.

  $zk->get_children_p('/app')->then(sub { print "children: @_\n" })->wait;
  Mojo::Promise->all(map { $zk->get_p("/app/$_") } qw(a b c))
      ->then(sub { print join(',', map { $_->[0] } @_), "\n" })
      ->catch(sub { my ($message, $rc) = @_; warn "$message\n" })
      ->wait;

=item handle

The handle.

  $zk->handle->get_error;

=item ioloop

The loop.

  $zk->ioloop->start;

=item active

True while the fd is watched (until C<stop>, or a C<fork>'s child stopped
it).

  print "dispatching from Mojo::IOLoop\n" if $zk->active;

=item stop

Stops watching the fd.  Callbacks (and promises) then complete only when
something else calls C<< $zkh->dispatch >>.

  $zk->stop;

=back

=head1 SEE ALSO

L<Net::ZooKeeper>, L<Mojo::IOLoop>, L<Mojo::Promise>, L<Mojolicious::Lite>,
L<Net::ZooKeeper::AnyEvent>, L<Net::ZooKeeper::IOAsync>,
L<Net::ZooKeeper::Loop>

=cut
