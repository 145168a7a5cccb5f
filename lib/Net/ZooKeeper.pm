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

my @errors = (
    ZOK => 0, ZSYSTEMERROR => -1, ZRUNTIMEINCONSISTENCY => -2, ZDATAINCONSISTENCY => -3,
    ZCONNECTIONLOSS => -4, ZMARSHALLINGERROR => -5, ZUNIMPLEMENTED => -6,
    ZOPERATIONTIMEOUT => -7, ZBADARGUMENTS => -8, ZINVALIDSTATE => -9,
    ZAPIERROR => -100, ZNONODE => -101, ZNOAUTH => -102, ZBADVERSION => -103,
    ZNOCHILDRENFOREPHEMERALS => -108, ZNODEEXISTS => -110, ZNOTEMPTY => -111,
    ZSESSIONEXPIRED => -112, ZINVALIDCALLBACK => -113, ZINVALIDACL => -114,
    ZAUTHFAILED => -115, ZCLOSING => -116, ZNOTHING => -117,
);
my @node_flags = (ZOO_EPHEMERAL => 1, ZOO_SEQUENCE => 2);
my @acl_perms = (
    ZOO_PERM_READ => 1, ZOO_PERM_WRITE => 2, ZOO_PERM_CREATE => 4,
    ZOO_PERM_DELETE => 8, ZOO_PERM_ADMIN => 16, ZOO_PERM_ALL => 31,
);
my @events = (
    ZOO_CREATED_EVENT => 1, ZOO_DELETED_EVENT => 2, ZOO_CHANGED_EVENT => 3,
    ZOO_CHILD_EVENT => 4, ZOO_SESSION_EVENT => -1, ZOO_NOTWATCHING_EVENT => -2,
);
my @states = (
    ZOO_EXPIRED_SESSION_STATE => -112, ZOO_AUTH_FAILED_STATE => -113,
    ZOO_CONNECTING_STATE => 1, ZOO_ASSOCIATING_STATE => 2, ZOO_CONNECTED_STATE => 3,
);
my @log_levels = (
    ZOO_LOG_LEVEL_OFF => 0, ZOO_LOG_LEVEL_ERROR => 1, ZOO_LOG_LEVEL_WARN => 2,
    ZOO_LOG_LEVEL_INFO => 3, ZOO_LOG_LEVEL_DEBUG => 4,
);

# The predefined ACLs, in the order the original matched a constant's argument.
my @acls = (
    ZOO_OPEN_ACL_UNSAFE => sub { [ { perms => 31, scheme => 'world', id => 'anyone' } ] },
    ZOO_READ_ACL_UNSAFE => sub { [ { perms => 1, scheme => 'world', id => 'anyone' } ] },
    ZOO_CREATOR_ALL_ACL => sub { [ { perms => 31, scheme => 'auth', id => '' } ] },
);

sub _names { my @pairs = @_; return @pairs[ grep { $_ % 2 == 0 } 0 .. $#pairs ] }

our %EXPORT_TAGS = (
    errors     => [ _names(@errors) ],
    node_flags => [ _names(@node_flags) ],
    acl_perms  => [ _names(@acl_perms) ],
    acls       => [ _names(@acls) ],
    events     => [ _names(@events) ],
    states     => [ _names(@states) ],
    log_levels => [ _names(@log_levels) ],
);
{
    my %seen;
    $EXPORT_TAGS{all} = [ grep { !$seen{$_}++ } map { @$_ } values %EXPORT_TAGS ];
}
# Functions added since the original: exportable by name or with their own tag, and
# in none of the original's tags (not even :all), so that those stay exactly as they were.
my @functions = qw(zerror);
our @EXPORT_OK = (@{ $EXPORT_TAGS{all} }, @functions);
$EXPORT_TAGS{functions} = [@functions];
our @EXPORT = ();

sub _unknown { croak("unknown Net::ZooKeeper constant: $_[0]") }

# Constant subs keep the original's `;$` prototype and its argument quirks: a
# zero-valued constant accepts only the name of a zero-valued constant as argument.
{
    no strict 'refs';
    my %value = (@errors, @node_flags, @acl_perms, @events, @states, @log_levels);
    while (my ($name, $value) = each %value) {
        my $usage = "Usage: Net::ZooKeeper::$name(alias=Nullch)";
        *{$name} = $value != 0
            ? sub (;$) { croak($usage) if @_ > 1; $value }
            : sub (;$) {
                croak($usage) if @_ > 1;
                _unknown($_[0]) if @_ && !(defined $_[0] && ($_[0] eq 'ZOK' || $_[0] eq 'ZOO_LOG_LEVEL_OFF'));
                0;
            };
    }
    my @acl_names = _names(@acls);
    my %acl = @acls;
    for my $i (0 .. $#acl_names) {
        my $name = $acl_names[$i];
        my $usage = "Usage: Net::ZooKeeper::$name(alias=Nullch)";
        *{$name} = sub (;$) {
            croak($usage) if @_ > 1;
            my $arg = @_ && defined $_[0] ? $_[0] : '';
            for my $earlier (@acl_names[ 0 .. $i ]) {
                return $acl{$earlier}->() if $earlier eq $arg;
            }
            return $acl{$name}->();
        };
    }
}

# A TLS handshake failed (a code of the C client from 3.6 on). Not in any export
# tag, so that the original's tags stay exactly as they were.
sub ZSSLCONNECTIONERROR (;$) { -17 }

require XSLoader;
XSLoader::load('Net::ZooKeeper', $VERSION);

package Net::ZooKeeper::Stat;    ## no critic (Modules::ProhibitMultiplePackages)
our $VERSION = $Net::ZooKeeper::VERSION;

package Net::ZooKeeper::Watch;    ## no critic (Modules::ProhibitMultiplePackages)
our $VERSION = $Net::ZooKeeper::VERSION;

1;
