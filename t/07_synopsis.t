#!/usr/bin/perl
# The manual's SYNOPSIS and examples/synopsis.pl are the same code apart from
# the host string (the script takes ZK_TEST_HOSTS).  No server is needed.

use strict;
use warnings;

use Test::More tests => 3;
use FindBin ();

sub slurp {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    return scalar <$fh>;
}

my $pod = slurp("$FindBin::Bin/../lib/Net/ZooKeeper.pod");
my ($synopsis) = $pod =~ /^=head1 SYNOPSIS\n\n(.*?)\n^(?=\S)/ms;
ok(defined $synopsis, 'the manual has a SYNOPSIS');
$synopsis =~ s/^  //mg;

my $script = slurp("$FindBin::Bin/../examples/synopsis.pl");
$script =~ s/\A.*?^use warnings;\n\n//ms;
like($script, qr/^my \$hosts = \$ENV\{ZK_TEST_HOSTS\} \|\| 'localhost:7000';$/m,
     'the script takes the host string from ZK_TEST_HOSTS');
$script =~ s/\$ENV\{ZK_TEST_HOSTS\} \|\| //;

is($synopsis, $script, 'the SYNOPSIS is the code of examples/synopsis.pl');
