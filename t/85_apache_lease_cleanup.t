#!/usr/bin/perl
# Apache2::ZooKeeper under a real httpd (a single child, so that every request
# reaches the same process): a lease that a handler keeps past its request
# (stored in a global and never released) is released by a cleanup of that
# request, with a warning in the error log naming the cluster and where the
# lease was acquired (Apache2::ZooKeeper's POD, "LEASES AND REQUESTS").
#
#  - The request is known when $r is passed to acquire() in place of $s, or,
#    with $r->server, when mod_perl keeps the current request
#    (PerlOptions +GlobalRequest).
#  - Later requests of that child are not blocked by the kept lease (nothing
#    touches it before this check): after
#    error(ZCONNECTIONLOSS) marks the connection failed and its holder releases
#    it, acquire() makes a new connection at once (instead of waiting for the
#    kept lease and giving EBUSY) and tryacquire() succeeds.
#  - The kept connection object stays sane: released is true, releasing it
#    again gives EINVAL, calls through its handle once its connection was
#    replaced fail with ZINVALIDSTATE, and error() with that code gives
#    ECONNABORTED without marking the new connection failed.
#  - Leases released by the handler, or destroyed with the handler's scope, give
#    no warning.
# Run under prefork, and under the event MPM (one child, two threads, one Perl
# interpreter) where it is available.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest;
use ZKTest::Httpd;
use ZKTest::Util qw(wait_until);
use Net::ZooKeeper qw(:errors);

use constant {
    SUCCESS      => 0,
    EBUSY        => 70025,
    ECONNABORTED => 103,
    EINVAL       => 22,
};

ZKTest::Httpd->require_httpd('prefork');
my $hosts = ZKTest::server_hosts();

my %MPM = (
    prefork => { StartServers => 1, MinSpareServers => 1, MaxSpareServers => 1,
                 ServerLimit => 1, MaxRequestWorkers => 1 },
    event   => { StartServers => 1, ServerLimit => 1, ThreadLimit => 2, ThreadsPerChild => 2,
                 MinSpareThreads => 1, MaxSpareThreads => 2, MaxRequestWorkers => 2 },
);

# The warning of the request cleanup, for a lease acquired at $file line $line.
sub warning_re {
    my ($cluster, $file, $line) = @_;
    return qr/\QApache2::ZooKeeper: lease of cluster '$cluster' acquired at $file line $line\E
              \Q was still held when the request ended; released\E/x;
}

sub count_of {
    my ($text, $re) = @_;
    my $n = () = $text =~ /$re/g;
    return $n;
}

my $ANY_WARNING = qr/Apache2::ZooKeeper: lease of cluster '[^']*' acquired at .*? was still held when the request ended/;

for my $mpm (qw(prefork event)) {
    subtest "$mpm MPM" => sub {
        if (my $why = ZKTest::Httpd->missing($mpm)) {
            plan skip_all => "no $mpm MPM: $why";
        }
        run($mpm);
    };
}

done_testing();

sub run {
    my ($mpm) = @_;
    my $httpd = ZKTest::Httpd->start(
        mpm        => $mpm,
        mpm_config => $MPM{$mpm},
        config     => [
            "ZKCluster main $hosts 2000",
            # one interpreter, so that the object kept in a global is seen by the
            # next request (it is, always, under prefork)
            ($mpm eq 'prefork' ? () : ('PerlInterpStart 1', 'PerlInterpMax 1',
                                       'PerlInterpMinSpare 1', 'PerlInterpMaxSpare 1')),
            '<Location /zk/g>',
            '    PerlOptions +GlobalRequest',
            '</Location>',
        ],
    );
    note("httpd ($mpm) pid ", $httpd->pid, ' on ', $httpd->url('/'), "; ZooKeeper $hosts");
    my $req = sub { return scalar $httpd->rows(@_) };
    my $log_has = sub {
        my ($re, $count) = @_;
        wait_until(sub { count_of($httpd->error_log, $re) >= $count }, 30, 0.05);
        return count_of($httpd->error_log, $re);
    };

    my $first = $req->('/zk/session?cluster=main');
    is($first->{rc}, SUCCESS, 'acquire succeeds') or diag(explain($first));
    is($first->{exists}, 1, '... and the connection works');
    my $child = $first->{pid};
    ok($child, 'the single httpd child is ' . ($child // '?'));
    unless (($first->{rc} // '') eq SUCCESS && ($first->{exists} // '') eq 1) {
        diag($httpd->error_log);
        $httpd->stop;
        return;
    }

    ## leases released by their handler, or destroyed with its scope: no warning
    ## (under /zk/g mod_perl keeps the global request, so these leases are bound
    ## to their requests too)

    my $die = $httpd->get('/zk/g/die?cluster=main');
    is($die->{status}, 500, 'a handler that dies while holding a lease gives 500');
    my $plain = $req->('/zk/g/session?cluster=main');
    is($plain->{release}, SUCCESS, 'a handler that releases its lease: release succeeds');
    is($plain->{generation}, $first->{generation}, '... on the same connection as before');

    ## a lease kept past its request, acquired with $r

    my $keep = $req->('/zk/keep?cluster=main&via=r');
    is($keep->{rc}, SUCCESS, 'a handler acquires with $r and keeps the lease in a global')
        or diag(explain($keep));
    is($keep->{global}, 0, '(mod_perl keeps no global request there: only $r tells the request)');
    is($keep->{released}, 0, '... it is held while the request runs');
    is($keep->{pid}, $child, '(same child)');
    my $re_r = warning_re('main', $keep->{file}, $keep->{line});
    is($log_has->($re_r, 1), 1,
       "when the request ends, the error log says the lease of 'main' acquired at "
       . "$keep->{file} line $keep->{line} was still held and is released")
        or diag($httpd->error_log);
    like($httpd->error_log, qr/\[perl:warn\][^\n]*$re_r/, '... as a warning');

    my $kept = $req->('/zk/kept?cluster=main&release=0');
    is($kept->{found}, 1, 'the next request finds the kept connection object') or diag(explain($kept));
    is($kept->{released}, 1, '... which is released');
    is($kept->{exists}, 1, '... its connection was not replaced, so calls through its handle still work');
    is($kept->{pid}, $child, '(same child)');

    ## the kept lease does not block a reconnect

    my $busy = $req->('/zk/busy?cluster=main');
    is($busy->{acquire1}, SUCCESS, 'acquire succeeds') or diag(explain($busy));
    is($busy->{error}, ECONNABORTED, 'error() with ZCONNECTIONLOSS marks the connection failed (ECONNABORTED)');
    is($busy->{tryacquire}, EBUSY, 'tryacquire gives EBUSY while its holder still holds it');
    is($busy->{release1}, SUCCESS, 'the holder releases it');
    is($busy->{acquire2}, SUCCESS,
       'acquire then succeeds: it is not left waiting for the kept lease (no EBUSY)');
    is($busy->{generation2}, $busy->{generation1} + 1, '... with a new connection (generation + 1)');
    is($busy->{exists2}, 1, '... which works');
    is($busy->{pid}, $child, '(same child)');

    my $try = $req->('/zk/try?cluster=main');
    is($try->{rc}, SUCCESS, 'tryacquire in a later request succeeds (no EBUSY)');
    is($try->{generation}, $busy->{generation2}, '... on the new connection');

    ## the kept object once its connection was replaced

    my $stale = $req->('/zk/kept?cluster=main&drop=1');
    is($stale->{found}, 1, 'the kept object is still there') or diag(explain($stale));
    is($stale->{generation}, $keep->{generation}, '... from the replaced connection');
    is($stale->{released}, 1, '... released');
    is($stale->{release_again}, EINVAL, '... releasing it gives EINVAL');
    is($stale->{exists}, 0, 'a call through its handle fails');
    is($stale->{zkerr}, ZINVALIDSTATE, '... with ZINVALIDSTATE (its connection was closed)');
    is($stale->{error_rc}, ECONNABORTED, '... and error() with that code gives ECONNABORTED');
    my $after = $req->('/zk/try?cluster=main');
    is($after->{rc}, SUCCESS, 'tryacquire still succeeds');
    is($after->{generation}, $try->{generation},
       '... on the same connection: error() through the old lease did not mark the new one failed');

    ## a lease kept past its request, acquired with $r->server under GlobalRequest

    my $keepg = $req->('/zk/g/keep?cluster=main');
    is($keepg->{rc}, SUCCESS, 'a handler acquires with $r->server and keeps the lease in a global')
        or diag(explain($keepg));
    is($keepg->{global}, 1, '(with PerlOptions +GlobalRequest mod_perl knows the request)');
    isnt($keepg->{line}, $keep->{line}, '(the acquire is on another line)');
    my $re_s = warning_re('main', $keepg->{file}, $keepg->{line});
    is($log_has->($re_s, 1), 1,
       "when the request ends, the error log names 'main' and $keepg->{file} line $keepg->{line}")
        or diag($httpd->error_log);

    my $busy2 = $req->('/zk/busy?cluster=main');
    is($busy2->{acquire2}, SUCCESS, 'a reconnect after it is not blocked either (no EBUSY)')
        or diag(explain($busy2));
    is($busy2->{generation2}, $busy2->{generation1} + 1, '... (generation + 1)');

    my $k2 = $req->('/zk/kept?cluster=main&drop=1');
    is($k2->{released}, 1, 'the kept object is released') or diag(explain($k2));
    is($k2->{release_again}, EINVAL, '... releasing it again gives EINVAL');
    is($k2->{zkerr}, ZINVALIDSTATE, '... calls through its handle give ZINVALIDSTATE (connection replaced)');

    ## nothing else was warned about

    $req->('/zk/session?cluster=main');    # after every earlier request's cleanup (same child)
    is(count_of($httpd->error_log, $ANY_WARNING), 2,
       'exactly the two kept leases were warned about (not the released or destroyed ones)')
        or diag($httpd->error_log);
    my @pids = map { $_->{pid} } $kept, $busy, $try, $stale, $after, $keepg, $k2, $busy2;
    is(scalar(grep { ($_ // '') ne $child } @pids), 0, 'every request was served by the same child');

    unlike($httpd->error_log, qr/Segmentation|exit signal|cleanup died|\[core:(?:error|crit|alert|emerg)\]/,
           'no httpd child crashed and no cleanup died')
        or diag($httpd->error_log);
    ok($httpd->stop, 'httpd stops');
}
