#!/usr/bin/perl
# Perl code run while a call's options are converted (a tied value's FETCH) may die.
# Whatever the options held by then (an ACL, SASL and TLS settings, references to
# stat and watch objects) is freed: the process does not grow over 100,000 such
# calls. No ZooKeeper server is needed: every call dies before it is sent.

use strict;
use warnings;

use Test::More;

use Net::ZooKeeper qw(:acls :acl_perms);

plan skip_all => 'RSS is read from /proc/self/status (Linux only)' unless -r '/proc/self/status';

package Dies {
    sub TIESCALAR { my ($class) = @_; return bless {}, $class }
    sub FETCH     { die "FETCH died\n" }
}

tie my $dies, 'Dies';
# An ACL entry whose perms element is read (and dies) only when the call converts it.
my %bad_entry = (scheme => 'world', id => 'anyone');
tie $bad_entry{perms}, 'Dies';

sub rss_kb {
    open(my $fh, '<', '/proc/self/status') or die "/proc/self/status: $!";
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)\s+kB/ }
    die 'no VmRSS in /proc/self/status';
}

# Nothing listens on port 9: the handle keeps trying in the background, and no
# call here gets as far as the server.
my $zkh = Net::ZooKeeper->new('127.0.0.1:9');
ok($zkh, 'a handle to use');
my $stat  = $zkh->stat;
my $watch = $zkh->watch;

my %case = (
    'create: acl given, then flags die' => sub {
        $zkh->create('/x', 'data', acl => ZOO_OPEN_ACL_UNSAFE, flags => $dies);
    },
    'create: an acl entry whose perms die after another entry' => sub {
        $zkh->create('/x', 'data', acl => [ { perms => ZOO_PERM_ALL, scheme => 'world', id => 'anyone' }, \%bad_entry ]);
    },
    'set_acl: the version dies after the acl' => sub {
        $zkh->set_acl('/x', ZOO_OPEN_ACL_UNSAFE, version => $dies);
    },
    'get: stat and watch given, then data_read_len dies' => sub {
        $zkh->get('/x', stat => $stat, watch => $watch, data_read_len => $dies);
    },
    'new: sasl and tls settings given, then session_timeout dies' => sub {
        Net::ZooKeeper->new('127.0.0.1:9', sasl_options => { user => 'u', mechlist => 'DIGEST-MD5' },
                            tls_ca_file => '/nonexistent/ca.pem', session_timeout => $dies);
    },
);

for my $name (sort keys %case) {
    my $call = $case{$name};
    my $died = 0;
    for (1 .. 10_000) { $died++ unless eval { $call->(); 1 } }    # warm up the allocator
    my $before = rss_kb();
    for (1 .. 100_000) { $died++ unless eval { $call->(); 1 } }
    my $grown = rss_kb() - $before;
    is($died, 110_000, "$name: every call dies with the FETCH");
    is($@, "FETCH died\n", "$name: the die reaches the caller unchanged");
    cmp_ok($grown, '<', 2048, "$name: RSS grew ${grown} kB over 100,000 calls (less than 2 MB)");
}

# The objects the options referred to are still the caller's, and work.
is($stat->{version}, 0, 'the stat object is intact');
is($watch->{event}, 0, 'the watch object is intact');
ok($zkh->DESTROY, 'the handle closes');

done_testing();
