# Test helper for t/57_recipe_interop.t: kazoo's recipes, driven from the
# command line.  Prints "ready" once connected, then waits for a line "go"
# on stdin so that every contender starts together; prints its results as
# "key value" lines.  Used by t/lib/ZKTest/Interop.pm.
import sys

from kazoo_common import say, await_line, connect, disconnect, hold


def main():
    mode, hosts, path = sys.argv[1:4]
    # The Counter retries a lost compare-and-set through the client's command
    # retry policy, which tries only once by default: retry without limit.
    zk = connect(hosts, command_retry=dict(max_tries=-1, delay=0.01, max_delay=0.2, max_jitter=0.05))
    try:
        if mode == "lock":
            # lock HOSTS LOCKPATH N COUNTERPATH: N times take the lock and add
            # one to the decimal counter node (read-modify-write).
            n, counter = int(sys.argv[4]), sys.argv[5]
            lock = zk.Lock(path, "kazoo-helper")
            say("ready")
            await_line("go")
            for _ in range(n):
                if not lock.acquire(timeout=30):
                    raise RuntimeError("lock timeout")
                try:
                    data, _stat = zk.get(counter)
                    zk.set(counter, str(int(data) + 1).encode("ascii"))
                finally:
                    lock.release()
            say("done %d" % n)
        elif mode in ("hold", "acquire"):
            # hold: take the lock, say "held"; acquire: say "waiting" first,
            # then block for it.  Both release on a line "release".
            lock = zk.Lock(path, sys.argv[4] if len(sys.argv) > 4 else "kazoo-helper")
            hold(lock, waiting=mode == "acquire")
        elif mode == "counter":
            # counter HOSTS PATH N: N increments of kazoo's Counter; then the value.
            n = int(sys.argv[4])
            c = zk.Counter(path)
            say("ready")
            await_line("go")
            for _ in range(n):
                c += 1
            say("done %d" % n)
            await_line("read")
            zk.sync(path)
            say("value %d" % zk.Counter(path).value)
        else:
            raise RuntimeError("unknown mode " + mode)
    finally:
        disconnect(zk)


main()
