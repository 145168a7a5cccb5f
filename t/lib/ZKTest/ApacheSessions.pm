package ZKTest::ApacheSessions;

# The scenario shared by t/80_apache_prefork.t and t/81_apache_event.t: a real
# httpd with two ZKCluster lines (two ZooKeeper servers, or one server and a
# chroot if a second cannot be started), many requests sent concurrently, and
# the rule of mod_zookeeper that each httpd child process keeps exactly one
# connection (one session) per configured cluster, shared by all its threads
# and Perl interpreters.

use strict;
use warnings;

use File::Temp ();
use HTTP::Tiny ();
use POSIX ();
use Test::More;
use Time::HiRes ();

use Net::ZooKeeper qw(:errors :acls :node_flags);
use ZKTest;
use ZKTest::Httpd;
use ZKTest::Server;

use constant {
    SUCCESS  => 0,
    NOTFOUND => 70015,    # APR_NOTFOUND, Apache2::ZooKeeper::NOTFOUND
};

sub _delete_tree {
    my ($h, $path) = @_;
    _delete_tree($h, "$path/$_") for $h->get_children($path);
    return $h->delete($path);
}

# Runs $count GETs of $path spread over $clients forked processes, each with a
# new connection per request.  Returns a list of { status, content } hashes.
sub _concurrent_gets {
    my ($httpd, $path, $count, $clients) = @_;
    my $dir = File::Temp->newdir('zkclients-XXXXXX', TMPDIR => 1);
    my @pids;
    for my $c (0 .. $clients - 1) {
        my $n = int($count / $clients) + ($c < $count % $clients ? 1 : 0);
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if (!$pid) {
            my $http = HTTP::Tiny->new(timeout => 60, keep_alive => 0);
            open my $out, '>', "$dir/$c" or POSIX::_exit(2);
            for (1 .. $n) {
                my $res = $http->get($httpd->url($path));
                (my $content = $res->{content}) =~ s/\n(?=.)/\n\t/g;
                $content =~ s/\n\z//;
                print {$out} "$res->{status}\t$content\n";
            }
            close $out;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    my $deadline = Time::HiRes::time() + 300;
    for my $pid (@pids) {
        while (waitpid($pid, POSIX::WNOHANG()) == 0) {
            if (Time::HiRes::time() > $deadline) {
                kill 'KILL', $pid;
                waitpid $pid, 0;
                last;
            }
            Time::HiRes::sleep(0.05);
        }
    }
    my @res;
    for my $c (0 .. $clients - 1) {
        open my $in, '<', "$dir/$c" or next;
        local $/;
        my $text = <$in>;
        for my $rec (split /\n(?!\t)/, $text) {
            my ($status, $content) = split /\t/, $rec, 2;
            $content = '' unless defined $content;
            $content =~ s/\n\t/\n/g;
            push @res, { status => $status, content => "$content\n" };
        }
    }
    return @res;
}

# run(mpm => 'prefork' | 'event' | 'worker', mpm_config => {...}, clients => N,
#     requests => N, hold_ms => N)
sub run {
    my (%o) = @_;
    my $mpm      = $o{mpm};
    my $requests = $o{requests} || 200;
    my $clients  = $o{clients}  || 4;

    ZKTest::Httpd->require_httpd($mpm);
    my $hosts_a = ZKTest::server_hosts();
    my $root    = ZKTest::test_root();

    # The second cluster: a second ZooKeeper server if one can be run here,
    # else a chroot on the first one.
    my ($server_b, $hosts_b, $b_chroot);
    $server_b = eval { ZKTest::Server->start };
    if ($server_b) {
        $hosts_b = $server_b->hosts;
    }
    else {
        my $why = $@ || $ZKTest::Server::ERROR || 'unknown';
        $why =~ s/\s+\z//;
        diag("no second ZooKeeper server ($why); cluster beta is a chroot on the first");
        $b_chroot = "$root-beta";
    }

    my $ha = Net::ZooKeeper->new($hosts_a);
    $ha->create($root, 'x', acl => ZOO_OPEN_ACL_UNSAFE)
        or BAIL_OUT("cannot create $root: " . $ha->get_error);
    if ($b_chroot) {
        $ha->create($b_chroot, 'x', acl => ZOO_OPEN_ACL_UNSAFE)
            or BAIL_OUT("cannot create $b_chroot: " . $ha->get_error);
        $hosts_b = "$hosts_a$b_chroot";
    }
    my $hb = Net::ZooKeeper->new($hosts_b);
    my $marker_a = "$root/alpha-marker";
    my $marker_b = "/_zk_beta_marker_$$";
    $ha->create($marker_a, 'a', acl => ZOO_OPEN_ACL_UNSAFE)
        or BAIL_OUT("cannot create $marker_a: " . $ha->get_error);
    $hb->create($marker_b, 'b', acl => ZOO_OPEN_ACL_UNSAFE)
        or BAIL_OUT("cannot create $marker_b on beta: " . $hb->get_error);

    my $httpd = ZKTest::Httpd->start(
        mpm        => $mpm,
        mpm_config => $o{mpm_config} || {},
        config     => [
            "ZKCluster alpha $hosts_a 3000",
            "ZKCluster beta $hosts_b",
        ],
    );
    note("httpd ($mpm) pid ", $httpd->pid, ' on ', $httpd->url('/'), "; alpha $hosts_a, beta $hosts_b");

    ## lookup and unknown names

    my @look = $httpd->rows('/zk/lookup?cluster=alpha&cluster=beta&cluster=gamma');
    my %look = map { $_->{cluster} => $_->{lookup} } @look;
    is($look{alpha}, 1, 'lookup is true for a cluster configured with ZKCluster (alpha)');
    is($look{beta}, 1, 'lookup is true for the second configured cluster (beta)');
    is($look{gamma}, 0, 'lookup is false for a name that is not configured');

    my $unknown = $httpd->rows('/zk/session?cluster=gamma');
    is($unknown->{rc}, $unknown->{NOTFOUND}, 'acquire of an unknown cluster name returns Apache2::ZooKeeper::NOTFOUND');
    is($unknown->{NOTFOUND}, NOTFOUND, '... which is APR_NOTFOUND (70015)');
    is($unknown->{zk}, 'undef', '... and no connection object');

    ## settings of the connection objects

    my ($sa, $sb) = $httpd->rows('/zk/session?cluster=alpha&cluster=beta');
    is($sa->{rc}, SUCCESS, 'acquire of alpha succeeds') or diag(explain($sa));
    is($sb->{rc}, SUCCESS, 'acquire of beta succeeds') or diag(explain($sb));
    is($sa->{hosts}, $hosts_a, "alpha's connection has the configured hosts");
    is($sb->{hosts}, $hosts_b, "beta's connection has the configured hosts");
    is($sa->{recv_timeout}, 3000, "alpha's connection has the configured receive timeout (3000)");
    is($sb->{recv_timeout}, 4000, 'a ZKCluster line without a timeout gets the default 4000 ms');

    ## each cluster reaches its own server (or chroot)

    my @m = $httpd->rows("/zk/session?cluster=alpha&cluster=beta&path=$marker_a");
    is($m[0]{exists}, 1, "alpha's connection sees the node made on alpha's server");
    is($m[1]{exists}, 0, "beta's connection does not see it");
    is($m[1]{zkerr}, ZNONODE, '... (ZNONODE)');
    @m = $httpd->rows("/zk/session?cluster=alpha&cluster=beta&path=$marker_b");
    is($m[1]{exists}, 1, "beta's connection sees the node made on beta's server");
    is($m[0]{exists}, 0, "alpha's connection does not see it");

    ## the ephemeral node of a handler belongs to its child's session

    my $eph = $httpd->rows("/zk/ephemeral?cluster=alpha&path=$root/eph");
    is($eph->{created}, "$root/eph", 'a handler creates an ephemeral node through the shared connection')
        or diag(explain($eph));
    my $stat = $ha->stat;
    ok($ha->exists("$root/eph", stat => $stat), '... which another client sees');
    {
        no warnings 'portable';
        # Net::ZooKeeper gives 64-bit stat fields rounded to a double, as the original did
        is($stat->{ephemeral_owner}, sprintf('%.0f', hex $eph->{session}),
           "... owned by the session the handler reported for its child (ephemeral_owner)");
    }
    my $dump = ZKTest::Server::four_letter_word($hosts_a, 'dump');
    SKIP: {
        skip('the alpha server does not answer the dump command', 1)
            unless defined $dump && $dump =~ /ephemeral/i;
        like($dump, qr/^0x0*\Q$eph->{session}\E:\s*\n(?:\s+\S+\n)*?\s+\Q$root\E\/eph$/mi,
             "... and the server lists it under exactly that session");
    }

    ## many concurrent requests: one session per child per cluster

    my $path = '/zk/session?cluster=alpha&cluster=beta' . ($o{hold_ms} ? "&hold=$o{hold_ms}" : '');
    my @res = _concurrent_gets($httpd, $path, $requests, $clients);
    is(scalar @res, $requests, "all $requests concurrent requests were answered");
    my @bad = grep { $_->{status} != 200 } @res;
    is(scalar @bad, 0, 'every request got 200 OK') or diag(explain($bad[0]));

    my (%sessions, %interps, %gens, @failed);
    for my $res (@res) {
        for my $row (ZKTest::Httpd::parse($res->{content})) {
            if ($row->{rc} != SUCCESS || $row->{exists} != 1 || $row->{release} != SUCCESS) {
                push @failed, $row;
                next;
            }
            $sessions{ $row->{cluster} }{ $row->{pid} }{ $row->{session} }++;
            $gens{ $row->{cluster} }{ $row->{pid} }{ $row->{generation} }++;
            $interps{ $row->{pid} }{ $row->{interp} }++ if $row->{cluster} eq 'alpha';
        }
    }
    is(scalar @failed, 0, 'every acquire/exists("/")/release in those requests succeeded')
        or diag(explain($failed[0]));

    my @pids = sort { $a <=> $b } keys %interps;
    cmp_ok(scalar @pids, '>=', 1, 'at least one httpd child served the requests');
    note("requests per child: ", join ', ', map {
        my $p = $_; my $n = 0; $n += $_ for values %{ $interps{$p} };
        "$p: $n (" . scalar(keys %{ $interps{$p} }) . ' interpreter(s))' } @pids);
    my $shared = grep { keys %{ $interps{$_} } > 1 } @pids;
    if ($mpm eq 'prefork') {
        note($shared
            ? "$shared child(ren) served requests from more than one Perl interpreter"
            : 'every child served all its requests from one Perl interpreter');
    }
    else {
        # with several clients and the connection held a while, requests overlap in
        # a child, so several of its threads (interpreters) use the connection at once
        cmp_ok($shared, '>=', 1, 'requests ran concurrently in a child, in several Perl interpreters,'
               . ' so the rules below cover threads sharing the connection');
    }

    for my $cluster (qw(alpha beta)) {
        my $per_pid = $sessions{$cluster} || {};
        is_deeply([ sort { $a <=> $b } keys %$per_pid ], \@pids,
                  "every child that served requests used cluster $cluster");
        my @multi = grep { keys %{ $per_pid->{$_} } != 1 } keys %$per_pid;
        is(scalar @multi, 0, "each httpd child used exactly one ZooKeeper session for cluster $cluster")
            or diag(explain({ map { $_ => $per_pid->{$_} } @multi }));
        my @gmulti = grep { keys %{ $gens{$cluster}{$_} } != 1 } keys %{ $gens{$cluster} };
        is(scalar @gmulti, 0, "... and one connection generation for $cluster (no reconnects)");
        my %owner;
        my @shared_sessions;
        for my $pid (keys %$per_pid) {
            for my $sid (keys %{ $per_pid->{$pid} }) {
                push @shared_sessions, $sid if exists $owner{$sid} && $owner{$sid} != $pid;
                $owner{$sid} = $pid;
            }
        }
        is(scalar @shared_sessions, 0, "no two children share a session of cluster $cluster")
            or diag("shared: @shared_sessions");
    }
    my @same = grep {
        my $p = $_;
        my ($a) = keys %{ $sessions{alpha}{$p} || {} };
        my ($b) = keys %{ $sessions{beta}{$p}  || {} };
        defined $a && defined $b && $a eq $b;
    } @pids;
    is(scalar @same, 0, 'in each child the two clusters have sessions of their own');

    ## the connection made before is the one the concurrent requests used

    if (exists $sessions{alpha}{ $sa->{pid} }) {
        is_deeply([ keys %{ $sessions{alpha}{ $sa->{pid} } } ], [ $sa->{session} ],
                  "child $sa->{pid} kept the alpha session it had before the concurrent requests");
    }
    else {
        pass("child $sa->{pid} served none of the concurrent requests (nothing to compare)");
    }

    my $log = $httpd->error_log;
    unlike($log, qr/\[(?:perl)?:error\]|segfault|Segmentation|exit signal/i,
           'the error log shows no errors and no crashed children')
        or diag($log);

    ok($httpd->stop, 'httpd stops');
    $ha->delete("$root/eph");    # gone with the child's session anyway
    _delete_tree($ha, $root);
    $hb->delete($marker_b);
    $server_b->stop if $server_b;
    done_testing();
}

1;

__END__

=head1 NAME

ZKTest::ApacheSessions - the session-per-child scenario of t/80 and t/81

=head1 SYNOPSIS

    use ZKTest::ApacheSessions;
    ZKTest::ApacheSessions::run(mpm => 'event', clients => 6,
        mpm_config => { StartServers => 2, ThreadsPerChild => 4 });

=cut
