#!/usr/bin/perl
# A config watcher: keeps a hash of an application's config keys, one node
# each under /config/<app>/<key>, current with a TreeCache and prints each
# change.  For a few seconds a second handle changes the config (a timer of
# the same dispatch loop); then the program removes it and exits 0.  Hosts
# from ZK_TEST_HOSTS (default localhost:2181).
use strict;
use warnings;
use Time::HiRes ();
use Net::ZooKeeper qw(:acls);
use Net::ZooKeeper::Recipe::TreeCache;

my $hosts = $ENV{ZK_TEST_HOSTS} // 'localhost:2181';
my $app   = "example_$$";
my $dir   = "/config/$app";
my %config;    # key => value, as the cache keeps it

my $zkh   = Net::ZooKeeper->new($hosts);
my $cache = Net::ZooKeeper::Recipe::TreeCache->new(
    handle    => $zkh,
    path      => $dir,
    max_depth => 1,    # the keys; nothing below them
    on_event  => sub {
        my ($cache, $type, $path, $value) = @_;
        return unless defined $path && $path ne $dir;
        (my $key = $path) =~ s{.*/}{};
        if ($type eq 'NODE_REMOVED') {
            delete $config{$key};
            print "config: $key removed\n";
        }
        else {
            my $old = $config{$key};
            $config{$key} = $value // '';
            print defined $old ? "config: $key = $config{$key} (was $old)\n" : "config: $key = $config{$key}\n";
        }
    },
);

# The config as it is before we start.
my $admin = Net::ZooKeeper->new($hosts);
$admin->create($_, '', acl => ZOO_OPEN_ACL_UNSAFE) for '/config', $dir;
$admin->create("$dir/log_level", 'info', acl => ZOO_OPEN_ACL_UNSAFE)
    or die "cannot write the config (error ", $admin->get_error, ")\n";

$cache->start or die "cannot start the cache (error ", $cache->error, ")\n";
print "watching $dir with a ", $cache->watch_mode, " watch\n";

# What the admin does, one step every half second.
my @changes = (
    sub { $admin->create("$dir/workers", '4', acl => ZOO_OPEN_ACL_UNSAFE) },
    sub { $admin->set("$dir/log_level", 'debug') },
    sub { $admin->set("$dir/workers", '8') },
    sub { $admin->delete("$dir/log_level") },
);
my $next = Time::HiRes::time() + 0.5;
my $end  = Time::HiRes::time() + 4;
while (Time::HiRes::time() < $end) {
    if (@changes && Time::HiRes::time() >= $next) {
        (shift @changes)->() or die "a config change failed (error ", $admin->get_error, ")\n";
        $next += 0.5;
    }
    my $wait = (@changes ? $next : $end) - Time::HiRes::time();
    $cache->dispatch(timeout => $wait > 0 ? int($wait * 1000) + 1 : 0);    # the cache updates %config here
}
die "changes left undone\n" if @changes;
print "final config: ", join(', ', map { "$_=$config{$_}" } sort keys %config), "\n";
die "the config is not what was written\n" unless join(',', %config) eq 'workers,8';

$cache->close;
$admin->delete("$dir/workers");
$admin->delete($dir);
$admin->delete("/config");    # if nothing else is configured
exit 0;
