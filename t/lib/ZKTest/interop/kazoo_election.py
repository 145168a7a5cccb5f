# Test helper for t/59_recipe_election_interop.t: one kazoo Election
# participant.  Usage: kazoo_election.py HOSTS PATH ID [SESSION_MS].  Runs
# Election.run() in a thread and prints "leader" once the leadership
# function runs (it holds leadership until told to stop); on a line
# "leader?" prints "is leader" or "is follower" and the first of
# contenders() ("sees ID"); on "stop" cancels or leaves, closes the session,
# prints "stopped" and exits.  Used by t/lib/ZKTest/Interop.pm.
import sys
import threading

from kazoo_common import say, connect, disconnect


def main():
    hosts, path, ident = sys.argv[1:4]
    # A short session, so that a killed participant's node goes soon.
    session = int(sys.argv[4]) / 1000.0 if len(sys.argv) > 4 else 10.0
    zk = connect(hosts, timeout=session)
    election = zk.Election(path, ident)
    leading = threading.Event()
    leave = threading.Event()

    def lead():
        leading.set()
        say("leader")
        leave.wait()

    runner = threading.Thread(target=election.run, args=(lead,), daemon=True)
    runner.start()
    # The contender node is made by the thread: wait (bounded) for it.
    for _ in range(3000):
        if election.lock.node is not None:
            break
        threading.Event().wait(0.01)
    say("joined " + str(election.lock.node))
    for line in sys.stdin:
        line = line.strip()
        if line == "leader?":
            say("is leader" if leading.is_set() else "is follower")
            contenders = election.contenders()
            say("sees " + (contenders[0] if contenders else ""))
        elif line == "stop":
            leave.set()
            election.cancel()
            runner.join(10)
            # The session closed, so the node is gone once "stopped" is printed.
            disconnect(zk)
            say("stopped")
            return
    disconnect(zk)


main()
