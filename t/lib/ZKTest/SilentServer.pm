package ZKTest::SilentServer;

# A TCP listener on 127.0.0.1, run in a child process, that accepts connections
# and never answers (a hung server) - or, with forward_to, a proxy in front of a
# real server that can be cut off (a network partition) and healed again.
# Core Perl only.  See the POD at the end.

use strict;
use warnings;

use Carp ();
use Errno ();
use IO::Handle ();
use IO::Select ();
use IO::Socket::INET ();
use POSIX ();
use Scalar::Util ();
use Time::HiRes ();

our $VERSION = '1.00';

# refaddr => weakened object, for END.  The hash is an object of a
# CLONE_SKIP class, so a new ithread gets no copy of the weak references in
# it (perl panics with "del_backref, svp=0" when a thread frees its copy of a
# weak reference to a CLONE_SKIP object).
my $LIVE = bless {}, 'ZKTest::SilentServer::Live';
{ package ZKTest::SilentServer::Live; sub CLONE_SKIP { 1 } }
sub _live { return ref $LIVE eq 'ZKTest::SilentServer::Live' ? $LIVE : {} }   # in a thread: nothing

sub start {
    my ($class, %opt) = @_;
    my $listener = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1', LocalPort => $opt{port} || 0, Proto => 'tcp',
        Listen => 128, ReuseAddr => 1,
    ) or Carp::croak("cannot listen on 127.0.0.1: $!");
    my $port = $listener->sockport;
    my $target;
    if (defined $opt{forward_to}) {
        my ($h, $p) = $opt{forward_to} =~ /^([^,:\/]+):(\d+)/
            or Carp::croak("forward_to must be host:port, not '$opt{forward_to}'");
        $target = [ $h, $p ];
    }
    pipe(my $cmd_r, my $cmd_w) or Carp::croak("pipe: $!");
    pipe(my $ack_r, my $ack_w) or Carp::croak("pipe: $!");
    my $parent = $$;
    my $pid = fork;
    Carp::croak("fork: $!") unless defined $pid;
    if (!$pid) {
        close $cmd_w;
        close $ack_r;
        my $status = 0;
        eval {
            $SIG{PIPE} = 'IGNORE';
            $SIG{$_} = 'DEFAULT' for qw(ALRM TERM INT HUP);
            alarm 0;
            _serve($listener, $target, $cmd_r, $ack_w, $parent);
            1;
        } or $status = 1;
        POSIX::_exit($status);
    }
    close $listener;
    close $cmd_r;
    close $ack_w;
    $cmd_w->autoflush(1);
    my $self = bless {
        owner  => $$,
        pid    => $pid,
        port   => $port,
        cmd    => $cmd_w,
        ack    => $ack_r,
        target => $target,
        mode   => 'forward',
    }, ref($class) || $class;
    _live()->{ Scalar::Util::refaddr($self) } = $self;
    Scalar::Util::weaken(_live()->{ Scalar::Util::refaddr($self) });
    return $self;
}

# ---------------------------------------------------------------------------
# the child

sub _serve {
    my ($listener, $target, $cmd, $ack, $parent) = @_;
    my $sel = IO::Select->new($listener, $cmd);
    my $cut = 0;
    # Per accepted client socket: { peer => upstream socket or undef,
    # held => data buffered while cut off (no upstream yet), dead => pair cut off }.
    my (%conn, %up_of);   # fileno(client) => state; fileno(upstream) => client fileno
    my $close_pair = sub {
        my ($cfn) = @_;
        my $c = delete $conn{$cfn} or return;
        for my $s ($c->{sock}, $c->{peer}) {
            next unless $s;
            delete $up_of{ fileno $s } if $s == ($c->{peer} // 0);
            $sel->remove($s);
            close $s;
        }
    };
    my $connect_up = sub {
        my ($cfn) = @_;
        my $c = $conn{$cfn};
        my $up = IO::Socket::INET->new(PeerAddr => $target->[0], PeerPort => $target->[1],
                                       Proto => 'tcp', Timeout => 5);
        unless ($up) { $close_pair->($cfn); return }
        $c->{peer} = $up;
        $up_of{ fileno $up } = $cfn;
        $sel->add($up);
        if (length $c->{held}) {
            _write_all($up, $c->{held}) or $close_pair->($cfn);
            $c->{held} = '';
        }
    };
    while (1) {
        POSIX::_exit(0) if getppid() != $parent;
        my @ready = $sel->can_read(1);
        for my $fh (@ready) {
            next unless defined fileno($fh) && $sel->exists($fh);   # closed earlier in this round
            if ($fh == $listener) {
                my $s = $listener->accept or next;
                $conn{ fileno $s } = { sock => $s, peer => undef, held => '', dead => 0 };
                $sel->add($s);
                $connect_up->(fileno $s) if $target && !$cut;
                next;
            }
            if ($fh == $cmd) {
                my $n = sysread $cmd, my $c, 1;
                POSIX::_exit(0) unless $n;          # the parent is gone
                if ($c eq 'c') {                     # cut off: existing pairs go silent
                    $cut = 1;
                    $_->{dead} = 1 for values %conn;
                }
                elsif ($c eq 'h') {                  # heal: dead pairs are closed, held ones forwarded
                    $cut = 0;
                    for my $cfn (keys %conn) {
                        my $st = $conn{$cfn} or next;
                        if ($st->{dead}) { $close_pair->($cfn) }
                        elsif ($target && !$st->{peer}) { $connect_up->($cfn) }
                    }
                }
                syswrite $ack, 'k';
                next;
            }
            my $fn = fileno $fh;
            my ($cfn, $from_client) = exists $conn{$fn} && $conn{$fn}{sock} == $fh
                ? ($fn, 1) : ($up_of{$fn}, 0);
            my $st = defined $cfn ? $conn{$cfn} : undef;
            my $n = sysread $fh, my $buf, 65536;
            next if !defined $n && ($!{EINTR} || $!{EAGAIN});
            unless ($st) { $sel->remove($fh); close $fh; next }
            if (!$n) {                               # EOF or error on one side
                if ($st->{dead} && !$from_client) {   # cut off: the client must not notice
                    delete $up_of{$fn};
                    $sel->remove($fh);
                    close $fh;
                    $st->{peer} = undef;
                }
                else {
                    $close_pair->($cfn);
                }
                next;
            }
            next if $st->{dead} || !$target;         # silent, or cut off: data is dropped
            if ($from_client) {
                if ($st->{peer}) { _write_all($st->{peer}, $buf) or $close_pair->($cfn) }
                else             { $st->{held} .= $buf }
            }
            else {
                _write_all($st->{sock}, $buf) or $close_pair->($cfn);
            }
        }
    }
}

sub _write_all {
    my ($sock, $buf) = @_;
    while (length $buf) {
        my $n = syswrite $sock, $buf;
        if (!defined $n) {
            next if $!{EINTR} || $!{EAGAIN};
            return 0;
        }
        return 0 unless $n;
        substr($buf, 0, $n, '');
    }
    return 1;
}

# ---------------------------------------------------------------------------
# the parent

sub _command {
    my ($self, $c) = @_;
    Carp::croak('not the process that started the listener') unless $self->_owned;
    syswrite($self->{cmd}, $c) == 1 or Carp::croak("cannot talk to the listener: $!");
    my $sel = IO::Select->new($self->{ack});
    $sel->can_read(10) or Carp::croak('the listener did not acknowledge');
    sysread($self->{ack}, my $k, 1) == 1 or Carp::croak('the listener is gone');
    return 1;
}

# cut(): a partition.  Open connections stay open but nothing passes any more
# (both directions are dropped); new connections are accepted and held, their
# data buffered.  heal(): the cut-off connections are closed, held ones are
# connected to the target with their buffered data, and new ones forwarded.
sub cut  { my $s = shift; $s->{mode} = 'cut';     $s->_command('c') }
sub heal { my $s = shift; $s->{mode} = 'forward'; $s->_command('h') }

sub _owned { $_[0]{owner} && $_[0]{owner} == $$ }

sub stop {
    my ($self) = @_;
    local ($?, $!, $@);
    return 0 unless $self->_owned;
    delete _live()->{ Scalar::Util::refaddr($self) };
    close $self->{cmd};
    close $self->{ack};
    kill 'KILL', $self->{pid};
    my $deadline = Time::HiRes::time() + 10;
    while (Time::HiRes::time() < $deadline) {
        my $r = waitpid $self->{pid}, POSIX::WNOHANG();
        last if $r == $self->{pid} || $r == -1;
        Time::HiRes::sleep(0.01);
    }
    $self->{owner} = 0;
    return 1;
}

sub CLONE_SKIP { 1 }

sub DESTROY { $_[0]->stop if $_[0]->_owned }

END {
    for my $s (grep { defined } values %{ _live() }) {
        $s->stop if $s->_owned;
    }
}

sub hosts { "127.0.0.1:$_[0]{port}" }
sub port  { $_[0]{port} }
sub pid   { $_[0]{pid} }
sub mode  { $_[0]{target} ? $_[0]{mode} : 'silent' }

1;

__END__

=head1 NAME

ZKTest::SilentServer - a server that accepts and never answers, or a proxy that can be cut off

=head1 SYNOPSIS

    use ZKTest::SilentServer;

    my $silent = ZKTest::SilentServer->start;                  # accepts, reads, never answers
    my $zkh = Net::ZooKeeper->new($silent->hosts, session_timeout => 2000);

    my $proxy = ZKTest::SilentServer->start(forward_to => $server->hosts);
    my $zkh2  = Net::ZooKeeper->new($proxy->hosts);
    $proxy->cut;     # partition: connections stay open, nothing passes
    $proxy->heal;    # connections made while cut off reach the server now

=head1 DESCRIPTION

The listener runs in a child process of the caller (127.0.0.1, a free port
unless C<port> is given) and is killed by C<stop>, C<DESTROY> or C<END> in the
process that started it; the child also exits when that process is gone.

Without C<forward_to> every accepted connection is read from and never written
to or closed.  With C<< forward_to => 'host:port' >> each accepted connection
is relayed to that address.  C<cut> and C<heal> return once the child has
applied them.

=cut
