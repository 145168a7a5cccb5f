package Net::ZooKeeper;

# The Perl face of Net::ZooKeeper: constants, export tags and the XS loader.
# Everything else is in xs/ZooKeeper.xs and the Rust core; the manual is
# Net/ZooKeeper.pod.

use 5.008_008;
use strict;
use warnings;

use Carp qw(croak);
use Exporter;

our $VERSION = '0.50';
our @ISA = qw(Exporter);

require XSLoader;
XSLoader::load('Net::ZooKeeper', $VERSION);

# $zkh->transaction (Net::ZooKeeper::Transaction, a builder for multi()).
require Net::ZooKeeper::Transaction;

# The core's constants of a package, from its table (rust/constants.rs), as
# [tag, name, value, added] in the table's order: tag undef when the package does
# not export the constant, '' when it is exportable by name only; an ACL's value is
# an array of { perms, scheme, id } hashes; added true for a tag added since the
# original.
sub _constants_of {
    my ($package) = @_;
    return map { [ @$_[ 1 .. 4 ] ] } grep { $_->[0] eq $package } _constants();
}

# A package's export lists from its constants: its tags (each in the table's order)
# and the names exportable by name (those of the tags, then the others).
sub _exports {
    my (%tags, @ok);
    for (@_) {
        my ($tag, $name) = @$_;
        next unless defined $tag;
        push @ok, $name;
        push @{ $tags{$tag} }, $name if length $tag;
    }
    return (\%tags, \@ok);
}

my @constants = _constants_of(__PACKAGE__);
my ($tags, $exportable) = _exports(@constants);

# The tags, and :all with every constant of the original's tags (not of the tags
# added since, so that :all stays exactly as it was).
our %EXPORT_TAGS = %$tags;
$EXPORT_TAGS{all} = [ map { $_->[1] } grep { defined $_->[0] && length $_->[0] && !$_->[3] } @constants ];
# Functions added since the original: exportable by name or with their own tag, and
# in none of the original's tags (not even :all), so that those stay exactly as they were.
my @functions = qw(zerror);
our @EXPORT_OK = (@$exportable, @functions);
$EXPORT_TAGS{functions} = [@functions];
our @EXPORT = ();

sub _unknown { croak("unknown Net::ZooKeeper constant: $_[0]") }

# Constant subs keep the original's `;$` prototype and its argument quirks: a
# zero-valued constant accepts only the name of a zero-valued constant as argument;
# an ACL constant whose argument names a predefined ACL listed before it (or itself)
# returns that one. Constants added since the original (exported by no tag, like
# ZSSLCONNECTIONERROR, or in a tag added since) have the prototype but ignore their
# arguments.
{
    no strict 'refs';
    my %zero = map { $_->[1] => 1 } grep { !ref $_->[2] && $_->[2] == 0 && !$_->[3] } @constants;
    my (@acl_names, %acl);
    for (@constants) {
        my ($tag, $name, $value, $added) = @$_;
        my $usage = "Usage: Net::ZooKeeper::$name(alias=Nullch)";
        if (ref $value) {
            my @entries = @$value;
            $acl{$name} = sub { [ map { +{%$_} } @entries ] };
            push @acl_names, $name;
            my @earlier = @acl_names;
            *{$name} = sub (;$) {
                croak($usage) if @_ > 1;
                my $arg = @_ && defined $_[0] ? $_[0] : '';
                for my $earlier (@earlier) {
                    return $acl{$earlier}->() if $earlier eq $arg;
                }
                return $acl{$name}->();
            };
        }
        elsif (!defined $tag || $added) {
            *{$name} = sub (;$) { $value };
        }
        elsif ($value != 0) {
            *{$name} = sub (;$) { croak($usage) if @_ > 1; $value };
        }
        else {
            *{$name} = sub (;$) {
                croak($usage) if @_ > 1;
                _unknown($_[0]) if @_ && !(defined $_[0] && $zero{ $_[0] });
                0;
            };
        }
    }
}

package Net::ZooKeeper::Stat;    ## no critic (Modules::ProhibitMultiplePackages)
our $VERSION = $Net::ZooKeeper::VERSION;

package Net::ZooKeeper::Watch;    ## no critic (Modules::ProhibitMultiplePackages)
our $VERSION = $Net::ZooKeeper::VERSION;

package Net::ZooKeeper::PersistentWatch;    ## no critic (Modules::ProhibitMultiplePackages)
our $VERSION = $Net::ZooKeeper::VERSION;

1;
