# Test helper for t/69_recipe_queue.t: kazoo's Queue and LockingQueue,
# driven over a line protocol.  Values travel in hex ("-" for the empty
# value), so that any bytes survive.  Prints "ready" once connected, then
# answers one command line at a time (KIND is simple or locking):
#   put PATH KIND PRIO HEX         -> "ok"
#   putall PATH PRIO HEX HEX ...   -> "ok"            (LockingQueue.put_all)
#   get PATH KIND                  -> "value HEX" or "empty"
#                                     (locking: get(timeout=5), then consume)
#   take PATH SECS                 -> "taken HEX" or "empty"  (locking, not consumed)
#   consume PATH KIND              -> "got HEX" per entry until the queue is
#                                     empty, then "done N"
#   len PATH KIND                  -> "len N"
#   quit                           -> closes the session without consuming
# Used by t/lib/ZKTest/Interop.pm.
import binascii
import sys

from kazoo_common import say, connect, disconnect


def enc(v):
    return binascii.hexlify(v).decode() or "-"


def dec(h):
    return b"" if h == "-" else binascii.unhexlify(h)


def main():
    zk = connect(sys.argv[1])
    queues = {}

    def q(path, kind):
        key = (path, kind)
        if key not in queues:
            queues[key] = zk.LockingQueue(path) if kind == "locking" else zk.Queue(path)
        return queues[key]

    say("ready")
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        cmd = w[0]
        if cmd == "put":
            q(w[1], w[2]).put(dec(w[4]), priority=int(w[3]))
            say("ok")
        elif cmd == "putall":
            q(w[1], "locking").put_all([dec(h) for h in w[3:]], priority=int(w[2]))
            say("ok")
        elif cmd == "get":
            qq = q(w[1], w[2])
            if w[2] == "locking":
                v = qq.get(timeout=5)
                if v is not None and not qq.consume():
                    raise RuntimeError("consume failed")
            else:
                v = qq.get()
            say("empty" if v is None else "value " + enc(v))
        elif cmd == "take":
            v = q(w[1], "locking").get(timeout=float(w[2]))
            say("empty" if v is None else "taken " + enc(v))
        elif cmd == "consume":
            qq = q(w[1], w[2])
            n = 0
            while True:
                if w[2] == "locking":
                    v = qq.get(timeout=1)
                    if v is not None and not qq.consume():
                        raise RuntimeError("consume failed")
                else:
                    v = qq.get()
                if v is None:
                    if len(qq) == 0:
                        break
                    continue
                n += 1
                say("got " + enc(v))
            say("done %d" % n)
        elif cmd == "len":
            say("len %d" % len(q(w[1], w[2])))
        elif cmd == "quit":
            break
        else:
            raise RuntimeError("unknown command %r" % cmd)
    disconnect(zk)


main()
