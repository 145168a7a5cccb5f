#!/usr/bin/perl
# The vendored zookeeper-client says how it differs from the release: every file
# of 0.8.1 (vendor/zookeeper-client/PRISTINE.sha256) that is missing or changed,
# and every file that the release does not have, is named in its PATCHES.md (as
# `path`, relative to vendor/zookeeper-client), and a changed .rs file carries the
# marker "Patched for Net::ZooKeeper" at its changes. Needs no server, no network
# and no built module.

use strict;
use warnings;

use Test::More;
use FindBin ();
use Digest::SHA ();
use File::Find ();

my $dir = "$FindBin::Bin/../vendor/zookeeper-client";
my $marker = 'Patched for Net::ZooKeeper';
my %own = map { $_ => 1 } qw(PATCHES.md PRISTINE.sha256);

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return undef;
    binmode $fh;
    local $/;
    my $text = <$fh>;
    close $fh;
    return $text;
}

my $patches = slurp("$dir/PATCHES.md");
ok(defined $patches, 'vendor/zookeeper-client/PATCHES.md is there') or BAIL_OUT("$dir/PATCHES.md: $!");

# sha256sum format: "<64 hex>  <path>" (or " *<path>" for binary mode).
my (%pristine, @order, @bad);
open my $sums, '<', "$dir/PRISTINE.sha256" or BAIL_OUT("$dir/PRISTINE.sha256: $!");
while (my $line = <$sums>) {
    $line =~ s/\r?\n\z//;
    next if $line eq '';
    if ($line =~ /\A([0-9a-f]{64}) [ *](.+)\z/) {
        push @order, $2 unless exists $pristine{$2};
        $pristine{$2} = $1;
    } else {
        push @bad, $line;
    }
}
close $sums;
ok(@order && !@bad, 'PRISTINE.sha256 lists the files of the release, one "<sha256>  <path>" a line')
    or diag(@order ? map { "unparsed line: $_" } @bad : 'no file listed');

sub listed { index($patches, "`$_[0]`") >= 0 }

for my $path (@order) {
    my $file = "$dir/$path";
    if (!-f $file) {
        ok(listed($path), "$path (removed from the release) is listed in PATCHES.md")
            or diag("$path is missing from vendor/zookeeper-client but PATCHES.md does not name `$path`");
        next;
    }
    my $sha = Digest::SHA->new(256)->addfile($file, 'b')->hexdigest;
    if ($sha eq $pristine{$path}) {
        pass("$path is as released");
        next;
    }
    my @missing;
    push @missing, "PATCHES.md does not name `$path`" unless listed($path);
    if ($path =~ /\.rs\z/) {
        my $text = slurp($file);
        push @missing, "it has no \"$marker\" comment" unless defined $text && index($text, $marker) >= 0;
    }
    ok(!@missing, "$path (changed from the release) is listed in PATCHES.md"
        . ($path =~ /\.rs\z/ ? " and marked \"$marker\"" : ''))
        or diag("$path differs from zookeeper-client 0.8.1: " . join('; ', @missing));
}

my @added;
File::Find::find({
    no_chdir => 1,
    wanted   => sub {
        return unless -f $_;
        (my $path = $File::Find::name) =~ s{\A\Q$dir\E/}{};
        push @added, $path unless exists $pristine{$path} || $own{$path};
    },
}, $dir);
for my $path (sort @added) {
    ok(listed($path), "$path (not in the release) is listed in PATCHES.md")
        or diag("$path is not a file of zookeeper-client 0.8.1 and PATCHES.md does not name `$path`");
}

done_testing();
