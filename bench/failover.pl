#!/usr/bin/perl

# Failover: a 3-member ensemble, one handle making about 100 calls a second (set
# on one node, so each call needs the leader). After 3 s the member the session is
# connected to is killed (SIGKILL); once it is back and serving, the leader is
# killed. Prints, for each kill and overall, the longest call and the longest outage
# (first failed call to the next call that succeeds), and the session id before and
# after (the session must survive). For whichever Net::ZooKeeper is first on @INC.
# See bench/README.md.
#
#   perl -Mblib bench/failover.pl [--session-timeout MS] [--rate N] [--phase S] [--verbose]
#
# --verbose prints every failed call (start, duration, error code) to STDERR.

use strict;
use warnings;

use FindBin ();
use Getopt::Long ();
use Time::HiRes qw(time sleep);

use lib "$FindBin::Bin/../t/lib";
use ZKTest::Ensemble;
use Net::ZooKeeper qw(:errors :acls);

$SIG{PIPE} = 'IGNORE';
my %opt = ('session-timeout' => 10000, rate => 100, phase => 5);
Getopt::Long::GetOptions(\%opt, 'session-timeout=i', 'rate=i', 'phase=f', 'verbose')
    or die "usage: perl -Mblib $0 [--session-timeout MS] [--rate N] [--phase S]\n";

my $e = ZKTest::Ensemble->start(size => 3) or die "no ensemble: $ZKTest::Ensemble::ERROR\n";
my $h = Net::ZooKeeper->new($e->hosts, session_timeout => $opt{'session-timeout'})
    or die "new: $!\n";
$h->create('/failover', '0', acl => ZOO_OPEN_ACL_UNSAFE) // $h->get_error == ZNODEEXISTS
    or die "create: " . $h->get_error . "\n";
my $session = $h->{session_id};

my $T0 = time;
my %phase;    # name => {calls, failed, longest_call, longest_outage}
my $outage_start;

sub calls_for {
    my ($name, $seconds) = @_;
    my $p = $phase{$name} //= { calls => 0, failed => 0, longest_call => 0, longest_outage => 0 };
    my $end = time + $seconds;
    my $n = 0;
    while (time < $end) {
        my $t = time;
        my $ok = $h->set('/failover', $n++);
        my $now = time;
        my $took = $now - $t;
        $p->{calls}++;
        $p->{longest_call} = $took if $took > $p->{longest_call};
        if (!$ok) {
            printf STDERR "  %s: call at %.3f took %.3f s: %d\n", $name, $t - $T0, $took, $h->get_error
                if $opt{verbose};
            $p->{failed}++;
            $outage_start //= $t;
        } elsif (defined $outage_start) {
            my $outage = $now - $outage_start;
            $p->{longest_outage} = $outage if $outage > $p->{longest_outage};
            undef $outage_start;
        }
        my $left = 1 / $opt{rate} - $took;
        sleep $left if $left > 0;
    }
}

calls_for('steady', 3);
my $connected = $e->member_of_session($session) // die "session not found on any member\n";
kill 'KILL', $e->member_pid($connected);
calls_for('connected member killed', $opt{phase});
$e->stop_member($connected);
$e->start_member($connected) or die "member $connected did not come back\n";
calls_for('member restarted', 2);
my $leader = $e->leader // die "no leader\n";
kill 'KILL', $e->member_pid($leader);
calls_for('leader killed', $opt{phase});

printf "members=3 session_timeout=%d rate=%d/s connected_member=%d leader=%d\n",
    $opt{'session-timeout'}, $opt{rate}, $connected, $leader;
my ($all_call, $all_outage) = (0, 0);
for my $name ('steady', 'connected member killed', 'member restarted', 'leader killed') {
    my $p = $phase{$name};
    printf "phase=%-24s calls=%d failed=%d longest_call_s=%.3f longest_outage_s=%.3f\n",
        "'$name'", @$p{qw(calls failed longest_call longest_outage)};
    $all_call   = $p->{longest_call}   if $p->{longest_call} > $all_call;
    $all_outage = $p->{longest_outage} if $p->{longest_outage} > $all_outage;
}
printf "overall longest_call_s=%.3f longest_outage_s=%.3f same_session=%s\n",
    $all_call, $all_outage, ($h->{session_id} eq $session ? 'yes' : 'no');
undef $h;
$e->stop;
