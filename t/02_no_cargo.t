#!/usr/bin/perl
# Without cargo, perl Makefile.PL says what is missing and how to get it, exits 0
# and writes no Makefile, as CPAN testers expect for a missing external tool.

use strict;
use warnings;

use Test::More;
use FindBin ();
use File::Copy ();
use File::Temp ();

my $dir = File::Temp::tempdir(CLEANUP => 1);
File::Copy::copy("$FindBin::Bin/../Makefile.PL", "$dir/Makefile.PL") or BAIL_OUT("copy Makefile.PL: $!");
my $out = `cd '$dir' && CARGO=/nonexistent/cargo '$^X' Makefile.PL 2>&1`;
is($? >> 8, 0, 'perl Makefile.PL exits 0 without cargo');
like($out, qr/needs cargo \(Rust\)/, 'it says that cargo is needed') or diag($out);
like($out, qr{apt-get install cargo|rustup\.rs}, '... and how to get it');
ok(!-e "$dir/Makefile", '... and writes no Makefile');

done_testing();
