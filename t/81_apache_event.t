#!/usr/bin/perl
# Apache2::ZooKeeper (mod_zookeeper for mod_perl) under a real httpd with the
# threaded event MPM (2 children with 4 threads each, requests sent
# concurrently): all threads and Perl interpreters of a child share one
# ZooKeeper session per cluster named with ZKCluster; two clusters side by side
# each get their own session; lookup() knows the configured names only and
# acquire() of an unknown name gives NOTFOUND.  Apache2::ZooKeeper's POD,
# "DESCRIPTION" ("shared by every Perl interpreter and thread of the process
# ... the same under the prefork, worker and event MPMs").

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest::ApacheSessions;

ZKTest::ApacheSessions::run(
    mpm        => 'event',
    clients    => 6,
    requests   => 200,
    hold_ms    => 20,    # keep the connection held a little, so requests overlap in a child
    mpm_config => { StartServers => 2, ServerLimit => 2, ThreadLimit => 4, ThreadsPerChild => 4,
                    MinSpareThreads => 1, MaxSpareThreads => 8, MaxRequestWorkers => 8 },
);
