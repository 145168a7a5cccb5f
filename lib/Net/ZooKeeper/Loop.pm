package Net::ZooKeeper::Loop;

# What the event-loop adapters (AnyEvent, IOAsync, Mojo) share: the fork-safe
# dispatcher for the handle's fd, one asynchronous call with done/fail hooks,
# and the method forms built from the core's list of asynchronous calls.
# Pure Perl, on the public API only; loads no event loop.

use strict;
use warnings;

use Carp ();
use Scalar::Util ();
use Net::ZooKeeper qw(ZOK);

our $VERSION = $Net::ZooKeeper::VERSION;

# Croaks from call() are reported at the line of the adapter's user, not at a
# line of an adapter.
our @CARP_NOT = qw(Net::ZooKeeper::AnyEvent Net::ZooKeeper::IOAsync Net::ZooKeeper::Mojo);

sub calls {
    return Net::ZooKeeper::_async_calls();
}

sub fd {
    my ($zkh, $who) = @_;
    my $fd = $zkh->fd;
    Carp::croak("$who: the handle has no fd: $!") unless defined $fd;
    return $fd;
}

sub dispatcher {
    my ($zkh, $stop) = @_;
    my $pid = $$;
    return sub {
        # In a child made by fork the handle croaks and its callbacks belong to
        # the parent: only the child's copy of the watcher goes.
        if ($$ != $pid) {
            $stop->();
            return;
        }
        $zkh->dispatch;
        return;
    };
}

# "get /a/b", or just "whoami" for a call whose first argument is no path
# (none, an operation of multi, an option name). Any path starts with "/", so
# the calls need not be known here.
sub describe {
    my ($method, @args) = @_;
    return @args && defined $args[0] && !ref $args[0] && $args[0] =~ m{\A/}
        ? "$method $args[0]"
        : $method;
}

sub call {
    my ($zkh, $method, $args, $on_done, $on_fail) = @_;
    my $what = describe($method, @$args);
    my $callback = sub {
        my ($rc, @values) = @_;
        if ($rc == ZOK) {
            $on_done->(@values);
        }
        else {
            $on_fail->("$what: " . Net::ZooKeeper::zerror($rc), $rc, @values);
        }
    };
    my $line = __LINE__ + 1;
    my $ok = eval { $zkh->$method(@$args, callback => $callback); 1 };
    unless ($ok) {
        # A bad argument croaks in the core with this file's line: croak again at
        # the caller's line. Other exceptions pass unchanged.
        my $err = $@;
        die $err if ref $err || $err !~ s/ at \Q${\__FILE__}\E line $line\.\n\z//;
        Carp::croak($err);
    }
    return;
}

# The adapters' base class: new() checks the handle, lets the adapter take its
# own options (_init: load the loop), and has it watch a duplicate of the
# handle's fd (_watch), so that a loop closing its file handle never closes the
# core's fd; stop() undoes it (_unwatch).
sub new {
    my ($class, %opt) = @_;
    my $zkh = $opt{handle};
    Carp::croak("$class->new: handle => a Net::ZooKeeper handle is required")
        unless Scalar::Util::blessed($zkh) && $zkh->isa('Net::ZooKeeper');
    my $self = bless { handle => $zkh }, $class;
    $self->_init(%opt);
    open(my $fh, '<&', fd($zkh, "$class->new")) or Carp::croak("$class->new: cannot duplicate the handle's fd: $!");
    # What watches the fd must not hold $self, or $self would never go.
    Scalar::Util::weaken(my $weak = $self);
    my $dispatch = dispatcher($zkh, sub { $weak->stop if $weak });
    $self->{fh}      = $fh;
    $self->{watcher} = $self->_watch($fh, $dispatch);
    return $self;
}

sub handle {
    my ($self) = @_;
    return $self->{handle};
}

sub active {
    my ($self) = @_;
    return defined $self->{watcher} ? 1 : '';
}

sub stop {
    my ($self) = @_;
    my $watcher = delete $self->{watcher} or return;
    $self->_unwatch($watcher);
    delete $self->{fh};
    return;
}

sub DESTROY {
    my ($self) = @_;
    # At global destruction the loop may be gone already.
    $self->stop unless ${^GLOBAL_PHASE} eq 'DESTRUCT';
    return;
}

sub install {
    my (%opt) = @_;
    my ($into, $suffix, $start) = @opt{qw(into suffix start)};
    $suffix = '' unless defined $suffix;
    for my $method (calls()) {
        my $name = $method . $suffix;
        # An adapter's own method of that name would silently lose.
        Carp::croak("${into}::$name exists already") if $into->can($name);
        my $sub = sub {
            my ($self, @args) = @_;
            my ($result, $on_done, $on_fail) = $start->($self);
            call($self->handle, $method, \@args, $on_done, $on_fail);
            return $result;
        };
        no strict 'refs';
        *{"${into}::$name"} = $sub;
    }
    return;
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Loop - what the event-loop adapters of Net::ZooKeeper share

=head1 SYNOPSIS

  use Net::ZooKeeper qw(:acls);
  use Net::ZooKeeper::Loop;

  my $zkh = Net::ZooKeeper->new('localhost:2181');

  # One asynchronous call with a pair of hooks.
  Net::ZooKeeper::Loop::call($zkh, get => ['/app/config'],
      sub { my ($data) = @_; print "config: $data\n" },
      sub { my ($message, $rc) = @_; warn "$message\n" });    # "get /app/config: no node"

  # Run the callbacks as the handle's fd becomes readable, here without any
  # event loop: wait for the fd, then dispatch.
  my $stop = 0;
  my $dispatch = Net::ZooKeeper::Loop::dispatcher($zkh, sub { $stop = 1 });
  while (!$stop && $zkh->pending_callbacks) {
      vec(my $rin = '', $zkh->fd, 1) = 1;
      select($rin, undef, undef, undef);
      $dispatch->();
  }

=head1 DESCRIPTION

The adapters L<Net::ZooKeeper::AnyEvent>, L<Net::ZooKeeper::IOAsync> and
L<Net::ZooKeeper::Mojo> connect a handle's asynchronous calls (the C<callback>
option, code-ref watchers, C<< $zkh->fd >> and C<< $zkh->dispatch >>; see
L<Net::ZooKeeper>) to an event loop.  This module holds what they share, and
loads no event loop.  Programs use the adapters; the functions below are for
writing an adapter to another loop.

=head1 THE BASE CLASS

Each adapter is a subclass: C<our @ISA = ('Net::ZooKeeper::Loop')>.  The base
class gives it these methods:

=over

=item new(handle => $zkh, %options)

  my $adapter = Net::ZooKeeper::AnyEvent->new(handle => $zkh);

Croaks unless C<$zkh> is a Net::ZooKeeper handle; calls the adapter's
C<< $self->_init(%options) >> (load the loop, take its own options); then
duplicates the handle's descriptor and calls
C<< $self->_watch($fh, $dispatch) >>, which makes the loop call C<$dispatch>
whenever C<$fh> is readable and returns what watches it.

=item handle()

  my $zkh = $adapter->handle;

The Net::ZooKeeper handle served.

=item active()

  print "watching\n" if $adapter->active;

True while the loop watches the handle's descriptor.

=item stop()

  $adapter->stop;

Stops watching (through the adapter's C<< $self->_unwatch($watcher) >>); the
handle's callbacks then run only when the program calls dispatch() itself.
Destroying the adapter stops it too.

=back

=head1 FUNCTIONS

All are called with their package name.

=over

=item calls()

The names of the handle's methods that take C<callback>, from the core's one
list of them (C<Net::ZooKeeper::_async_calls()>).

  print join(' ', Net::ZooKeeper::Loop::calls()), "\n";   # create delete exists get ...

=item fd($zkh, $who)

C<< $zkh->fd >>, or a croak C<"$who: the handle has no fd: $!"> (at the
caller's line) if the core could not make one.

  my $fd = Net::ZooKeeper::Loop::fd($zkh, 'My::Adapter->new');

=item dispatcher($zkh, $stop)

A code ref for the I/O callback of a watcher of C<< $zkh->fd >> (readable):
it calls C<< $zkh->dispatch >>, which runs the callbacks that are ready.  It
remembers the process it was made in: called in a child made by C<fork>, where
the handle cannot be used and its callbacks are the parent's, it calls
C<$stop> (which should stop that watcher) and does not dispatch.

  my $w; $w = AnyEvent->io(fh => $zkh->fd, poll => 'r',
      cb => Net::ZooKeeper::Loop::dispatcher($zkh, sub { undef $w }));

=item describe($method, @args)

The call as it is named in failure messages: C<"$method $path"> when the first
argument is a path (a string starting with C</>), else C<$method>.

  Net::ZooKeeper::Loop::describe(get => '/a', watch => $cb);   # "get /a"
  Net::ZooKeeper::Loop::describe('whoami');                    # "whoami"

=item call($zkh, $method, \@args, $on_done, $on_fail)

Calls C<< $zkh->$method(@args, callback => ...) >>.  When the call completes
(in a later C<dispatch>) with ZOK, C<$on_done> is called with the values the
call delivers (the created path, the data, the child names, ...; see
L<Net::ZooKeeper>); with any other code, C<$on_fail> is called with a message,
the code, and the values delivered with a failure (the per-operation results
of C<multi>):

  $on_fail->("get /a/b: no node", ZNONODE)

The message is C<describe(...)>, C<": "> and C<Net::ZooKeeper::zerror($rc)>.
Bad arguments croak at once, at the caller's line, as in the synchronous form;
nothing is sent then.  Returns nothing.

  Net::ZooKeeper::Loop::call($zkh, create => ['/a', 'data', acl => ZOO_OPEN_ACL_UNSAFE],
      sub { print "created $_[0]\n" }, sub { warn "$_[0]\n" });

=item install(into => $package, suffix => $suffix, start => $code)

Defines in C<$package>, for each name of C<calls()>, a method named
C<"$name$suffix">.  Each calls C<< $start->($self) >>, which returns
C<($result, $on_done, $on_fail)>, then C<call()> with C<< $self->handle >>,
the method's arguments and the two hooks, and returns C<$result> (a future, a
promise).  Croaks if C<$package> already has such a method.

  package My::Adapter;
  Net::ZooKeeper::Loop::install(into => __PACKAGE__, suffix => '_cb', start => sub {
      my ($self) = @_;
      return (undef, sub { print "done: @_\n" }, sub { warn "$_[0]\n" });
  });
  sub handle { $_[0]{handle} }

  # My::Adapter->new(...)->get_cb('/a') prints "done: DATA" once dispatched.

=back

=head1 SEE ALSO

L<Net::ZooKeeper>, L<Net::ZooKeeper::AnyEvent>, L<Net::ZooKeeper::IOAsync>,
L<Net::ZooKeeper::Mojo>

=cut
