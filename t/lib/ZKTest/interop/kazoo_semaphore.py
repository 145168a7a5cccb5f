# Test helper for t/63_recipe_semaphore_interop.t: one holder of kazoo's
# Semaphore.  "hold" mode: prints "ready" once connected, waits for "go",
# then N rounds: take a lease, keep an ephemeral marker node while holding
# it and count the markers (every holder, Perl or Python, keeps one), give
# the lease back; prints "done N most M over V" (the most markers seen while
# holding, and how often more than MAX).  "one" mode: take one lease, print
# "holding", wait for "release", give it back and print "released".  "check"
# mode: acquire once and
# print "acquired" or "mismatch MESSAGE" (kazoo's max_leases check).  Used
# by t/lib/ZKTest/Interop.pm.
import sys
import time

from kazoo_common import say, connect, disconnect


def main():
    # hold HOSTS PATH MAX N MARKERS ID | one HOSTS PATH MAX | check HOSTS PATH MAX
    mode, hosts, path, max_leases = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    zk = connect(hosts)
    try:
        if mode == "one":
            sem = zk.Semaphore(path, "kazoo-one", max_leases=max_leases)
            if not sem.acquire(timeout=30):
                raise RuntimeError("lease timeout")
            say("holding")
            line = sys.stdin.readline()
            if line.strip() != "release":
                raise RuntimeError("expected release, got %r" % line)
            sem.release()
            say("released")
            return
        if mode == "check":
            sem = zk.Semaphore(path, "kazoo-check", max_leases=max_leases)
            try:
                ok = sem.acquire(timeout=10)
                say("acquired" if ok else "timeout")
                sem.release()
            except ValueError as e:
                say("mismatch %s" % e)
            return
        n, markers, ident = int(sys.argv[5]), sys.argv[6], sys.argv[7]
        sem = zk.Semaphore(path, ident, max_leases=max_leases)
        say("ready")
        line = sys.stdin.readline()
        if line.strip() != "go":
            raise RuntimeError("expected go, got %r" % line)
        most = over = 0
        for i in range(n):
            if not sem.acquire(timeout=30):
                raise RuntimeError("lease timeout in round %d" % (i + 1))
            try:
                zk.create(markers + "/" + ident, b"", ephemeral=True)
                # Hold for a while (a few round trips) so that holds overlap.
                for _ in range(3):
                    seen = len(zk.get_children(markers))
                    most = max(most, seen)
                    if seen > max_leases:
                        over += 1
                    time.sleep(0.005)
                zk.delete(markers + "/" + ident)
            finally:
                sem.release()
        say("done %d most %d over %d" % (n, most, over))
    finally:
        disconnect(zk)


main()
