# Test helper for t/68_recipe_barrier.t: kazoo's Barrier, DoubleBarrier,
# Party and ShallowParty, driven over a line protocol.  Prints "ready" once
# connected, then runs each command line "TAG COMMAND ARGS..." in a thread of
# its own and answers with lines starting with TAG, so that blocking commands
# run side by side.  A later line for the TAG of a running double barrier or
# party member goes to that member:
#   T set PATH                 -> "T set"               (Barrier.create)
#   T remove PATH              -> "T removed True|False"
#   T wait PATH SECS           -> "T waiting", then "T cleared gone|present" or "T timeout"
#   T double PATH N            -> own session; "T entering", "T entered K"
#                                 (K: participant nodes seen once in); then
#   T leave                    -> "T left K" (K: participant nodes left); session closed
#   T party PATH ID KIND       -> own session; KIND party|shallow; "T joined"; then
#   T members                  -> "T members ID,ID,..." (sorted)
#   T quit                     -> session closed; "T gone"
# Used by t/lib/ZKTest/Interop.pm.
import queue
import sys
import threading

from kazoo_common import say, connect, disconnect


def members_of(zk, path):
    return len([c for c in zk.get_children(path) if c != "ready"])


def run(hosts, shared, tag, cmd, args, inbox):
    try:
        if cmd == "set":
            shared.Barrier(args[0]).create()
            say("%s set" % tag)
        elif cmd == "remove":
            say("%s removed %s" % (tag, shared.Barrier(args[0]).remove()))
        elif cmd == "wait":
            b = shared.Barrier(args[0])
            say("%s waiting" % tag)
            if b.wait(float(args[1])):
                say("%s cleared %s" % (tag, "present" if shared.exists(args[0]) else "gone"))
            else:
                say("%s timeout" % tag)
        elif cmd == "double":
            zk = connect(hosts)
            b = zk.DoubleBarrier(args[0], int(args[1]), identifier=tag)
            say("%s entering" % tag)
            b.enter()
            say("%s entered %d" % (tag, members_of(zk, args[0])))
            line = inbox.get()
            if line != "leave":
                raise RuntimeError("expected leave, got %r" % line)
            b.leave()
            say("%s left %d" % (tag, members_of(zk, args[0])))
            disconnect(zk)
        elif cmd == "party":
            zk = connect(hosts)
            kind = zk.Party if args[2] == "party" else zk.ShallowParty
            p = kind(args[0], args[1])
            p.join()
            say("%s joined" % tag)
            while True:
                line = inbox.get()
                if line == "members":
                    say("%s members %s" % (tag, ",".join(sorted(p))))
                elif line == "quit":
                    disconnect(zk)
                    say("%s gone" % tag)
                    return
        else:
            raise RuntimeError("unknown command %r" % cmd)
    except Exception as e:
        say("%s error %s: %s" % (tag, type(e).__name__, e))


def main():
    hosts = sys.argv[1]
    shared = connect(hosts)
    say("ready")
    inboxes = {}
    threads = []
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        tag = words[0]
        if tag in inboxes and len(words) == 2:
            inboxes[tag].put(words[1])
            continue
        inbox = inboxes[tag] = queue.Queue()
        t = threading.Thread(target=run, args=(hosts, shared, tag, words[1], words[2:], inbox), daemon=True)
        t.start()
        threads.append(t)
    shared.stop()
    shared.close()


main()
