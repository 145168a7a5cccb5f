#!/usr/bin/perl
# The ZKCluster directive of Apache2::ZooKeeper (its POD, "CONFIGURATION";
# mod_zookeeper's "Configuration"): ZKCluster NAME HOSTS [RECV_TIMEOUT_MS],
# names unique within the configuration, main server only.  A duplicate name,
# a missing argument, a bad timeout or an invalid host list stops httpd from
# starting, with the reason in its startup output / error log.  No ZooKeeper
# server is needed: connections are made by the first acquire in a child.

use strict;
use warnings;

use Test::More;
use FindBin ();
use lib "$FindBin::Bin/lib";

use ZKTest::Httpd;

ZKTest::Httpd->require_httpd('prefork');

my $H = '127.0.0.1:2181';    # never contacted: nothing acquires in this test

# Starts httpd with the lines; returns its output if it refused to start.
sub refuses {
    my (@lines) = @_;
    return ZKTest::Httpd->start_fails_with(config => \@lines, mpm_config => { StartServers => 1 });
}

# The line number of the first line of the generated configuration matching $re.
sub line_of {
    my ($conf, $re) = @_;
    my $n = 0;
    for (split /\n/, $conf) {
        $n++;
        return $n if /$re/;
    }
    return undef;
}

## a good configuration starts

{
    my $httpd = ZKTest::Httpd->start(
        mpm_config => { StartServers => 1 },
        config     => [ "ZKCluster main $H", "ZKCluster other $H,127.0.0.1:2182/some/chroot 1000",
                        "ZKCluster edge1 $H 1", "ZKCluster edge2 $H 1073741823" ],
    );
    ok($httpd->is_running,
       'httpd starts with valid ZKCluster lines (two arguments, three, a chroot, timeouts 1 and 1073741823)');
    my @look = $httpd->rows('/zk/lookup?cluster=main&cluster=other&cluster=edge1&cluster=edge2');
    is_deeply([ map { $_->{lookup} } @look ], [ 1, 1, 1, 1 ], '... and lookup knows each configured name')
        or diag(explain(\@look));
    ok($httpd->stop, '... and stops');
}

## duplicate name

{
    my $out = refuses("ZKCluster main $H", "ZKCluster other $H", "ZKCluster main 127.0.0.1:2182 1000");
    ok(defined $out, 'a duplicate cluster name makes httpd refuse to start');
    like($out // '', qr/ZKCluster main: duplicate cluster name/,
         '... with "ZKCluster main: duplicate cluster name"');
    my $conf = ZKTest::Httpd->new(config => [ "ZKCluster main $H", "ZKCluster other $H",
                                              "ZKCluster main 127.0.0.1:2182 1000" ])->config_text;
    my $line = line_of($conf, qr/^ZKCluster main 127\.0\.0\.1:2182/);
    like($out // '', qr/Syntax error on line $line of /, "... pointing at the second line (line $line)");
}

## missing or extra arguments

for my $case ([ 'a missing HOSTS argument', 'ZKCluster lonely' ],
              [ 'no arguments at all',      'ZKCluster' ],
              [ 'a fourth argument',        "ZKCluster main $H 1000 extra" ]) {
    my ($what, $line) = @$case;
    my $out = refuses($line);
    ok(defined $out, "$what makes httpd refuse to start");
    like($out // '', qr/ZKCluster takes two or three arguments/,
         "... with httpd's message that ZKCluster takes two or three arguments");
    like($out // '', qr/ZKCluster NAME HOSTS \[RECV_TIMEOUT_MS\]/, '... and the usage ZKCluster NAME HOSTS [RECV_TIMEOUT_MS]');
}

## bad receive timeouts

for my $t ('0', 'abc', '-5', '1073741824', '1000ms', '1.5') {
    my $out = refuses("ZKCluster main $H $t");
    ok(defined $out, "receive timeout '$t' makes httpd refuse to start");
    like($out // '', qr/ZKCluster main: invalid receive timeout '\Q$t\E'/,
         "... with \"ZKCluster main: invalid receive timeout '$t'\"");
}

## bad host lists

for my $hosts ('127.0.0.1:0', '127.0.0.1', "$H,127.0.0.1:notaport") {
    my $out = refuses("ZKCluster main $hosts");
    ok(defined $out, "host list '$hosts' makes httpd refuse to start");
    like($out // '', qr/ZKCluster main: invalid host list '\Q$hosts\E'/,
         "... with \"ZKCluster main: invalid host list '$hosts'\"");
}

## main server only

{
    my $port = ZKTest::Httpd::free_port();
    my $out = refuses("Listen 127.0.0.1:$port", "<VirtualHost 127.0.0.1:$port>",
                      "ZKCluster vhost $H", '</VirtualHost>');
    ok(defined $out, 'ZKCluster inside <VirtualHost> makes httpd refuse to start');
    like($out // '', qr/ZKCluster vhost: not allowed inside <VirtualHost>/,
         '... with "ZKCluster vhost: not allowed inside <VirtualHost>"');
}

## the syntax check (apache2 -t) applies the same rules

{
    my ($ok, $out) = ZKTest::Httpd->config_test(config => [ "ZKCluster main $H 4000" ]);
    ok($ok, 'apache2 -t accepts a valid ZKCluster line') or diag($out);
    ($ok, $out) = ZKTest::Httpd->config_test(config => [ "ZKCluster main $H", "ZKCluster main $H" ]);
    ok(!$ok, 'apache2 -t rejects a duplicate name');
    like($out, qr/ZKCluster main: duplicate cluster name/, '... with the same message');
}

done_testing();
