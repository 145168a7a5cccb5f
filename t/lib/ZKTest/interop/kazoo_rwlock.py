# Test helper for t/67_recipe_rwlock_interop.t: one side of kazoo's
# read/write lock (zk.ReadLock / zk.WriteLock).  Modes (KIND is "read" or
# "write"):
#   hold HOSTS PATH KIND ID     take it, say "held NODE", release on
#                               "release", say "released"
#   acquire HOSTS PATH KIND ID  say "waiting" first, then as hold
#   rounds HOSTS PATH KIND ID N MARKERS COUNTER
#     say "ready", wait for "go", then N rounds: take the lock, keep an
#     ephemeral marker MARKERS/<r|w>-ID while holding it and look at the
#     markers (every holder, Perl or Python, keeps one): a writer must see
#     only its own, a reader no writer's.  A writer also adds one to the
#     decimal COUNTER node.  Says "done N over V most M retries R": V the
#     rounds that saw a holder they must not, M the most readers seen at
#     once, R the timed-out attempts of a reader (below).
# kazoo 2.8's ReadLock also waits for writers queued after it, and
# such a reader and writer wait for each other (kazoo issue 649): a reader
# here gives up after a short while and queues again, which breaks that.
# Used by t/lib/ZKTest/Interop.pm.
import sys
import time

from kazoo.exceptions import LockTimeout
from kazoo_common import say, await_line, connect, disconnect, hold


def main():
    mode, hosts, path, kind, ident = sys.argv[1:6]
    writer = kind == "write"
    zk = connect(hosts)
    try:
        lock = zk.WriteLock(path, ident) if writer else zk.ReadLock(path, ident)
        if mode in ("hold", "acquire"):
            hold(lock, waiting=mode == "acquire")
            return
        n, markers, counter = int(sys.argv[6]), sys.argv[7], sys.argv[8]
        marker = markers + "/" + ("w-" if writer else "r-") + ident
        say("ready")
        await_line("go")
        over = most = retries = 0
        deadline = time.time() + 60
        for i in range(n):
            while True:
                try:
                    if lock.acquire(timeout=30 if writer else 0.1):
                        break
                except LockTimeout:
                    pass
                if writer or time.time() > deadline:
                    raise RuntimeError("lock timeout in round %d" % (i + 1))
                retries += 1
            try:
                zk.create(marker, b"", ephemeral=True)
                bad = False
                # Hold for a while (a few round trips) so that holds overlap.
                for _ in range(3):
                    seen = zk.get_children(markers)
                    writers = len([s for s in seen if s.startswith("w-")])
                    most = max(most, len(seen) - writers)
                    if (len(seen) > 1) if writer else writers > 0:
                        bad = True
                    time.sleep(0.005)
                if writer:
                    data, _stat = zk.get(counter)
                    zk.set(counter, str(int(data) + 1).encode("ascii"))
                zk.delete(marker)
                if bad:
                    over += 1
            finally:
                lock.release()
        say("done %d over %d most %d retries %d" % (n, over, most, retries))
    finally:
        disconnect(zk)


main()
