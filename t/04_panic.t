#!/usr/bin/perl
# A panic inside the Rust core never unwinds into Perl or kills the process: every
# kind of result the core returns (a result code, a croak message, a text, a new
# object, an option lookup) comes back as the croak "internal error in the
# Net::ZooKeeper core", Rust's own panic note goes to stderr, and the module keeps
# working. The panics are made on purpose by an internal probe.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempfile);

use Net::ZooKeeper qw(:functions);

my $CROAK = qr/^internal error in the Net::ZooKeeper core at \Q$0\E line \d+\.?\n\z/;

for my $kind (qw(code message text object option)) {
    my ($fh, $file) = tempfile(UNLINK => 1);
    open(my $saved, '>&', \*STDERR) or die "dup STDERR: $!";
    open(STDERR, '>&', $fh) or die "redirect STDERR: $!";
    my $ok = eval { Net::ZooKeeper::_panic_probe($kind); 1 };
    my $err = $@;
    open(STDERR, '>&', $saved) or die "restore STDERR: $!";
    my $stderr = do { local $/; open(my $in, '<', $file) or die $!; <$in> };

    ok(!$ok, "$kind: the call croaks");
    like($err, $CROAK, "$kind: with the core's internal-error message");
    like($stderr, qr/Net::ZooKeeper panic probe/, "$kind: Rust's panic note is on stderr");
}

# The process and the core go on: a new handle, a stat, a text.
is(zerror(-101), 'no node', 'zerror works after the panics');
my $zkh = Net::ZooKeeper->new('127.0.0.1:9');
ok($zkh, 'a handle can be made after the panics');
ok($zkh && $zkh->stat, 'and used');

done_testing();
