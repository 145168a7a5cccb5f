#!/usr/bin/perl
# The built module: it exports its boot function only (a symbol of the Rust core
# could clash with another library loaded into the same perl or httpd), and it is
# small (no debug information, unused sections left out; see Makefile.PL).

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";
use Config;
use ZKTest ();

my ($so) = grep { -f } map { "$_/auto/Net/ZooKeeper/ZooKeeper.$Config{dlext}" } @INC;
ok($so, 'the built ZooKeeper module is found on @INC') or BAIL_OUT('no ZooKeeper.so');

SKIP: {
    skip('exports are set with a version script on Linux and the BSDs only', 2)
        unless $^O eq 'linux' || $^O =~ /bsd$/;
    my $nm = `nm -D --defined-only '$so' 2>/dev/null`;
    if ($?) {
        fail('nm is needed to list the exported symbols') if ZKTest::server_required();
        skip('nm (binutils) is not available', 2);
    }
    my @exported = map { (split ' ')[-1] } grep { /\s[A-TV-Z]\s/ } split /\n/, $nm;
    is_deeply(\@exported, ['boot_Net__ZooKeeper'], 'the module exports boot_Net__ZooKeeper and nothing else')
        or diag(scalar(@exported) . ' exported, e.g. ' . join(' ', grep { defined } @exported[0 .. 9]));
    my $size = -s $so;
    cmp_ok($size, '<=', 4 * 1024 * 1024, "the module is at most 4 MB ($size bytes)");
}

done_testing();
