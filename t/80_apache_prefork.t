#!/usr/bin/perl
# Apache2::ZooKeeper (mod_zookeeper for mod_perl) under a real httpd with the
# prefork MPM: each child process keeps exactly one ZooKeeper session per
# cluster named with ZKCluster, made by the child itself; two clusters side by
# side (two ZooKeeper servers) each get their own session; lookup() knows the
# configured names only and acquire() of an unknown name gives NOTFOUND.
# Apache2::ZooKeeper's POD, "DESCRIPTION" and "FUNCTIONS".

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest::ApacheSessions;

ZKTest::ApacheSessions::run(
    mpm        => 'prefork',
    clients    => 4,
    requests   => 200,
    mpm_config => { StartServers => 3, MinSpareServers => 2, MaxSpareServers => 4,
                    ServerLimit => 4, MaxRequestWorkers => 4 },
);
