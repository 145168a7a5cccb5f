package Net::ZooKeeper::Transaction;

# A builder for Net::ZooKeeper's multi(): collects operations, then commits them
# in one transaction. Pure Perl, on the public API only.

use strict;
use warnings;

use Carp ();
use Net::ZooKeeper ();

our $VERSION = $Net::ZooKeeper::VERSION;

# $zkh->transaction: a new, empty transaction on the handle.
sub Net::ZooKeeper::transaction {
    my ($zkh) = @_;
    return bless { zkh => $zkh, ops => [] }, __PACKAGE__;
}

# Each adds one operation with the arguments of its array form in multi().
sub create { my $self = shift; return $self->_add(create => @_) }
sub delete { my $self = shift; return $self->_add(delete => @_) }    ## no critic (Subroutines::ProhibitBuiltinHomonyms)
sub set    { my $self = shift; return $self->_add(set => @_) }
sub check  { my $self = shift; return $self->_add(check => @_) }

sub _add {
    my ($self, @op) = @_;
    push @{ $self->{ops} }, \@op;
    return $self;
}

sub ops {
    my ($self) = @_;
    return @{ $self->{ops} };
}

# The handle's multi() with the operations (and commit's options: callback), in the
# caller's context. Its croaks are reported at the caller's line, as multi()'s own
# are; other exceptions (from Perl code a conversion ran) pass unchanged.
sub commit {
    my ($self, @opts) = @_;
    my ($zkh, @ops) = ($self->{zkh}, @{ $self->{ops} }, @opts);
    my $list = wantarray;
    my @results;
    my $line = __LINE__ + 1;
    unless (eval { @results = $list ? $zkh->multi(@ops) : scalar $zkh->multi(@ops); 1 }) {
        my $err = $@;
        die $err if ref $err || $err !~ s/ at \Q${\__FILE__}\E line $line\.\n\z//;
        Carp::croak($err);
    }
    return $list ? @results : $results[0];
}

1;

__END__

=head1 NAME

Net::ZooKeeper::Transaction - build a ZooKeeper transaction step by step

=head1 SYNOPSIS

  use Net::ZooKeeper qw(:acls);

  my $zkh = Net::ZooKeeper->new('localhost:7000');

  my $txn = $zkh->transaction;
  $txn->create('/app/config', 'v2', acl => ZOO_OPEN_ACL_UNSAFE)
      ->set('/app/current', '/app/config', version => 4)
      ->delete('/app/old')
      ->check('/app');

  if ($txn->commit) {
      print "all four operations took effect\n";
  }
  else {
      print "none did: error ", $zkh->get_error, "\n";
  }

  my @results = $txn->commit;    # one hash per operation, see multi()

=head1 DESCRIPTION

A Net::ZooKeeper::Transaction collects operations for the multi() method of
L<Net::ZooKeeper> and commits them together: all of them take effect, or
none.  It is made by the handle's transaction() method, which this module
adds to Net::ZooKeeper (Net::ZooKeeper loads it).  Nothing is checked or sent
before commit(); then the operations are checked and sent as multi() does.

Transactions, their results and their errors are described in
L<Net::ZooKeeper/Transactions>.

=head1 METHODS

=over 4

=item transaction()

  my $txn = $zkh->transaction;

A method of Net::ZooKeeper handles: returns a new, empty transaction for the
handle.

=item create()

=item delete()

=item set()

=item check()

  $txn->create($path, $data, %options);
  $txn->delete($path, %options);
  $txn->set($path, $data, %options);
  $txn->check($path, %options);

Each adds one operation, with the arguments it takes in multi() (for example
C<< $txn->set($path, $data, version => 3) >> adds
C<< [set => $path, $data, version => 3] >>), and returns the transaction, so
that calls can be chained.

=item commit()

  $ok = $txn->commit;
  @results = $txn->commit;
  $txn->commit(callback => sub { my ($rc, @results) = @_; ... });

Calls C<< $zkh->multi($txn->ops) >> and returns what it returns, in the
caller's context: in scalar context whether the transaction committed, in
list context one hash per operation.  The operations are kept: a transaction
can be committed again.  With C<< callback => CODE >> the transaction is
committed asynchronously, as C<< $zkh->multi(@ops, callback => CODE) >> is
(see L<Net::ZooKeeper/CALLBACKS AND EVENT LOOPS>).

=item ops()

  @ops = $txn->ops;

The operations added so far, as the array references multi() takes.

=back

=head1 SEE ALSO

L<Net::ZooKeeper>

=cut
