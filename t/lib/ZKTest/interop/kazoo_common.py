# What the kazoo test helpers share: the line protocol (one line a message
# on stdout, commands on stdin) and the client.  The helpers run as
# /usr/bin/python3 t/lib/ZKTest/interop/kazoo_X.py, so this directory is
# first on sys.path and "import kazoo_common" finds this file.
import sys
import threading

from kazoo.client import KazooClient

_out_lock = threading.Lock()


def say(s):
    """One line to stdout, whole even when several threads say things."""
    with _out_lock:
        sys.stdout.write(s + "\n")
        sys.stdout.flush()


def await_line(word):
    """Reads a line from stdin; raises unless it is WORD."""
    line = sys.stdin.readline()
    if line.strip() != word:
        raise RuntimeError("expected %s, got %r" % (word, line))


def hold(lock, waiting=False):
    """The helpers' hold and acquire modes: says "waiting" first if WAITING,
    takes LOCK (30 s at the most), says "held NODE", releases it on a line
    "release" and says "released"."""
    if waiting:
        say("waiting")
    if not lock.acquire(timeout=30):
        raise RuntimeError("lock timeout")
    say("held " + lock.node)
    await_line("release")
    lock.release()
    say("released")


def connect(hosts, timeout=10.0, **options):
    """A started KazooClient (session timeout TIMEOUT seconds)."""
    zk = KazooClient(hosts=hosts, timeout=timeout, **options)
    zk.start(timeout=30)
    return zk


def disconnect(zk):
    zk.stop()
    zk.close()
