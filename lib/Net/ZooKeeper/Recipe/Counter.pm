package Net::ZooKeeper::Recipe::Counter;

# A shared integer counter in kazoo's (Counter) or Curator's (SharedCount,
# DistributedAtomicLong) data format.  Public Net::ZooKeeper API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper qw(:errors :create_modes);
use parent 'Net::ZooKeeper::Recipe';

our $VERSION = '0.01';

my %FORMAT = (
    # kazoo.recipe.counter.Counter: repr(int) in ASCII; the node is made by
    # ensure_path (empty data, read as the default).
    kazoo => {
        encode => sub { my ($v) = @_; "$v" },
        decode => sub {
            my ($d) = @_;
            return undef unless $d =~ /\A\s*([-+]?\d+)\s*\z/;
            return $1 + 0;
        },
        min => -(2**53), max => 2**53,
    },
    # Curator SharedCount: a 4-byte big-endian signed int (ByteBuffer.putInt),
    # the node created at start() with the seed value.
    shared_count => {
        encode => sub { pack('l>', $_[0]) },
        decode => sub { length $_[0] == 4 ? unpack('l>', $_[0]) : undef },
        min => -(2**31), max => 2**31 - 1,
    },
    # Curator DistributedAtomicLong: an 8-byte big-endian signed long
    # (ByteBuffer.putLong); a missing or empty node reads as 0 and is created
    # by the first change.
    atomic_long => {
        encode => sub { pack('q>', $_[0]) },
        decode => sub { length $_[0] == 0 ? 0 : length $_[0] == 8 ? unpack('q>', $_[0]) : undef },
        min => -(2**63), max => 2**63 - 1,
    },
);

sub new {
    my ($class, %args) = @_;
    my $self = $class->Net::ZooKeeper::Recipe::_init(\%args, qw(format default retries));
    my $format = $self->{format} //= 'kazoo';
    Carp::croak("$class->new: format must be 'kazoo', 'shared_count' or 'atomic_long', not '$format'")
        unless $FORMAT{$format};
    Carp::croak("$class->new: pack of 64-bit integers is needed for atomic_long")
        if $format eq 'atomic_long' && !eval { my $q = pack('q>', 0); 1 };
    $self->{default} //= 0;
    Carp::croak("$class->new: default must be an integer for $format") unless _int_ok($self, $self->{default});
    Carp::croak("$class->new: DistributedAtomicLong has no default (a missing node reads as 0)")
        if $format eq 'atomic_long' && $self->{default} != 0;
    $self->{retries} //= 1000;
    $self->{f} = $FORMAT{$format};
    return $self;
}

sub format { $_[0]{format} }

sub _int_ok {
    my ($self, $v) = @_;
    return defined $v && $v =~ /\A[-+]?\d+\z/ && $v >= $FORMAT{$self->{format}}{min} && $v <= $FORMAT{$self->{format}}{max};
}

sub _fail {
    my ($self, $what) = @_;
    my $rc = $self->{handle}->get_error;
    Carp::croak("Net::ZooKeeper::Recipe::Counter: $what $self->{path}: " . Net::ZooKeeper::zerror($rc) . " ($rc)");
}

# Makes the node as the library does (kazoo: ensure_path; SharedCount: the
# seed value, parents as containers).  atomic_long makes it on first change.
sub _create {
    my ($self) = @_;
    my $zkh = $self->{handle};
    if ($self->{format} eq 'kazoo') {
        return $self->ensure_path($self->{path}) || $self->_fail('create');
    }
    my $data = $self->{f}{encode}->($self->{default});
    (my $parent = $self->{path}) =~ s{/[^/]*\z}{};
    for (1 .. 2) {
        return 1 if $zkh->create($self->{path}, $data, acl => $self->{acl});
        my $rc = $zkh->get_error;
        return 1 if $rc == ZNODEEXISTS;
        $self->_fail('create') unless $rc == ZNONODE && length $parent;
        $self->ensure_path($parent, container => 1) or $self->_fail('create');
    }
    $self->_fail('create');
}

# (value, version); version -1 when the node does not exist (atomic_long).
sub _read {
    my ($self) = @_;
    my $zkh = $self->{handle};
    my $stat = $zkh->stat;
    for (1 .. 3) {
        my $data = $zkh->get($self->{path}, stat => $stat, data_read_len => 64);
        if (defined $data || $zkh->get_error == ZOK) {
            $data //= '';
            # Empty data (a node made by kazoo's ensure_path) reads as the
            # default, as in kazoo (also with support_curator).
            my $v = length $data ? $self->{f}{decode}->($data) : $self->{default};
            Carp::croak("Net::ZooKeeper::Recipe::Counter: $self->{path} holds no $self->{format} value: "
                        . unpack('H*', $data)) unless defined $v;
            return ($v, $stat->{version});
        }
        $self->_fail('read') unless $zkh->get_error == ZNONODE;
        return (0, -1) if $self->{format} eq 'atomic_long';
        $self->_create;
    }
    $self->_fail('read');
}

sub value { ($_[0]->_read)[0] }

# Writes $new if the node is still at $version; true, or false if someone
# else wrote first.  Croaks on other errors.
sub _cas {
    my ($self, $version, $new) = @_;
    Carp::croak("Net::ZooKeeper::Recipe::Counter: $new is out of range for $self->{format}")
        unless _int_ok($self, $new);
    my $zkh = $self->{handle};
    my $data = $self->{f}{encode}->($new);
    if ($version < 0) {
        return 1 if $zkh->create($self->{path}, $data, acl => $self->{acl});
        my $rc = $zkh->get_error;
        return 0 if $rc == ZNODEEXISTS;
        $self->_fail('create') unless $rc == ZNONODE;
        (my $parent = $self->{path}) =~ s{/[^/]*\z}{};
        $self->ensure_path($parent, container => 1) or $self->_fail('create');
        return 0;
    }
    return 1 if $zkh->set($self->{path}, $data, version => $version);
    my $rc = $zkh->get_error;
    return 0 if $rc == ZBADVERSION || $rc == ZNONODE;
    $self->_fail('write');
}

sub add {
    my ($self, $n) = @_;
    Carp::croak('add: an integer is needed') unless defined $n && $n =~ /\A[-+]?\d+\z/;
    for (1 .. $self->{retries}) {
        my ($v, $version) = $self->_read;
        my $new = $v + $n;
        return $new if $self->_cas($version, $new);
    }
    Carp::croak("Net::ZooKeeper::Recipe::Counter: add to $self->{path}: still contended after $self->{retries} tries");
}

sub increment { $_[0]->add(1) }
sub decrement { $_[0]->add(-1) }

sub set {
    my ($self, $v) = @_;
    Carp::croak("set: $v is not an integer in range for $self->{format}") unless _int_ok($self, $v);
    for (1 .. $self->{retries}) {
        my (undef, $version) = $self->_read;
        # Any version will do: set() overwrites, as SharedCount.setCount does.
        return $v if $self->_cas($version, $v);
    }
    Carp::croak("Net::ZooKeeper::Recipe::Counter: set $self->{path}: still contended after $self->{retries} tries");
}

sub versioned_value {
    my ($self) = @_;
    my ($v, $version) = $self->_read;
    return wantarray ? ($v, $version) : { value => $v, version => $version };
}

sub try_set {
    my ($self, $expected, $new) = @_;
    Carp::croak('try_set: expected and new values are needed') unless @_ == 3;
    # A versioned value (from versioned_value) is SharedCount.trySetCount:
    # it succeeds only if nobody wrote since it was read.
    return $self->_cas($expected->{version}, $new) ? 1 : 0 if ref $expected eq 'HASH';
    my ($v, $version) = $self->_read;
    return 0 unless $v == $expected;
    return $self->_cas($version, $new) ? 1 : 0;
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Recipe::Counter - a shared counter in kazoo's or Curator's format

=head1 SYNOPSIS

  use strict; use warnings;
  use Net::ZooKeeper;
  use Net::ZooKeeper::Recipe::Counter;

  my $zkh = Net::ZooKeeper->new($ENV{ZK_TEST_HOSTS} // 'localhost:2181');
  my $hits = Net::ZooKeeper::Recipe::Counter->new(
      handle => $zkh, path => '/stats/hits', format => 'shared_count');

  my $now = $hits->increment;            # compare-and-set, retried
  $hits->add(10);
  print "hits: ", $hits->value, "\n";

  # SharedCount.trySetCount: only if nobody wrote since we read
  my $seen = $hits->versioned_value;     # { value => ..., version => ... }
  print "reset\n" if $hits->try_set($seen, 0);

=head1 DESCRIPTION

An integer in one node, changed by compare-and-set: read the value and its
version, write the new value with that version, and on ZBADVERSION (someone
wrote first) read again and retry.  The formats are the libraries':

=over 4

=item C<< format => 'kazoo' >> (default)

kazoo's Counter: the value as decimal ASCII (C<repr(int)>).  A missing
node is created with empty data (kazoo's C<ensure_path>, parents
persistent), and empty data reads as C<default>.

=item C<< format => 'shared_count' >>

Curator's SharedCount: a 4-byte big-endian signed int.  A missing node is
created with C<default> (the seed), its missing parents as containers,
as C<SharedCount.start()> does.

=item C<< format => 'atomic_long' >>

Curator's DistributedAtomicLong: an 8-byte big-endian signed long.  A
missing or empty node reads as 0 and is created (parents as containers) by
the first change, as Curator does; C<default> must be 0.

=back

Other data croaks when read (it is not a counter of that format).

=head1 METHODS

=over 4

=item new(handle => $zkh, path => $path, format => ..., default => 0, retries => 1000, acl => ...)

Does not contact the server.  Unknown options croak.

=item value()

The current value (creating the node as above if it is missing).

=item add($n), increment(), decrement()

Adds by compare-and-set, retried up to C<retries> times; returns the new
value.  Croaks on errors other than a lost race, and if the result is out
of the format's range.

=item set($v)

Writes C<$v> whatever the value was (SharedCount.setCount); returns it.

=item versioned_value()

C<< { value => $v, version => $version } >> (a list in list context); the
version is -1 for a missing atomic_long node.

=item try_set($expected, $new)

With a versioned value: writes C<$new> only if the node's version is still
the one read (SharedCount.trySetCount).  With a plain number: only if the
value is C<$expected> now (read and compare-and-set).  True on success.

=back

=head1 SEE ALSO

L<Net::ZooKeeper::Recipe>, kazoo's C<kazoo.recipe.counter.Counter>,
Curator's SharedCount and DistributedAtomicLong.

=cut
