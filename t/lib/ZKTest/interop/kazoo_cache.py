# Test helper for t/73_recipe_cache.t: a kazoo client that writes the tree
# a Perl cache follows, and keeps kazoo's own TreeCache of it.  Prints
# "ready" once connected and its TreeCache started, then reads commands,
# one a line, and answers each with one line:
#   create PATH [DATA]  -> "ok" (parents made as needed) or "error ..."
#   set PATH DATA       -> "ok"
#   delete PATH         -> "ok" (recursive)
#   dump                -> "tree PATH=DATA PATH=DATA ..." kazoo's TreeCache
#                          view (sorted, parents before children), or
#                          "tree" when empty
#   quit                -> exits
# Usage: kazoo_cache.py HOSTS CACHE_ROOT.  Used by t/lib/ZKTest/Interop.pm.
import sys

from kazoo.recipe.cache import TreeCache, TreeEvent
from kazoo_common import say, connect, disconnect


def walk(cache, path, out):
    node = cache.get_data(path)
    if node is None:
        return
    out.append("%s=%s" % (path, (node.data or b"").decode("utf-8")))
    for child in sorted(cache.get_children(path) or []):
        walk(cache, path + "/" + child, out)


def main():
    hosts, root = sys.argv[1], sys.argv[2]
    zk = connect(hosts)
    cache = TreeCache(zk, root)
    import threading
    initialized = threading.Event()

    def listener(event):
        if event.event_type == TreeEvent.INITIALIZED:
            initialized.set()

    cache.listen(listener)
    cache.start()
    if not initialized.wait(30):
        raise RuntimeError("kazoo's TreeCache did not initialize")
    say("ready")
    try:
        for line in sys.stdin:
            words = line.split()
            if not words:
                continue
            cmd, args = words[0], words[1:]
            try:
                if cmd == "create":
                    data = args[1] if len(args) > 1 else ""
                    zk.create(args[0], data.encode("utf-8"), makepath=True)
                elif cmd == "set":
                    zk.set(args[0], args[1].encode("utf-8"))
                elif cmd == "delete":
                    zk.delete(args[0], recursive=True)
                elif cmd == "dump":
                    out = []
                    walk(cache, root, out)
                    say(" ".join(["tree"] + out))
                    continue
                elif cmd == "quit":
                    break
                else:
                    raise ValueError("unknown command %r" % cmd)
                say("ok")
            except Exception as e:
                say("error %s: %s" % (type(e).__name__, e))
    finally:
        cache.close()
        disconnect(zk)


main()
