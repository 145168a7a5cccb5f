// Test helper for t/68_recipe_barrier.t: Curator's DistributedBarrier and
// DistributedDoubleBarrier, driven over a line protocol.  Prints "ready" once
// connected, then runs each command line "TAG COMMAND ARGS..." in a thread of
// its own and answers with lines starting with TAG, so that blocking commands
// run side by side.  A later line for the TAG of a running double barrier
// participant goes to that participant:
//   T set PATH          -> "T set"                       (setBarrier)
//   T remove PATH       -> "T removed"                   (removeBarrier)
//   T wait PATH SECS    -> "T waiting", then "T cleared gone|present" or "T timeout"
//   T double PATH N     -> own session; "T entering", "T entered K" (K:
//                          participant nodes seen once in; enter(30 s)); then
//   T leave             -> "T left K" (leave(30 s); K: participant nodes left)
// Used by t/lib/ZKTest/Interop.pm.
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.barriers.DistributedBarrier;
import org.apache.curator.framework.recipes.barriers.DistributedDoubleBarrier;

public class CuratorBarrier extends CuratorCommon {
    static int members(CuratorFramework c, String path) throws Exception {
        int n = 0;
        for (String child : c.getChildren().forPath(path)) if (!child.equals("ready")) n++;
        return n;
    }

    static void run(String hosts, CuratorFramework shared, String tag, String[] w, BlockingQueue<String> inbox) {
        try {
            String cmd = w[1], path = w[2];
            if (cmd.equals("set")) {
                new DistributedBarrier(shared, path).setBarrier();
                say(tag + " set");
            } else if (cmd.equals("remove")) {
                new DistributedBarrier(shared, path).removeBarrier();
                say(tag + " removed");
            } else if (cmd.equals("wait")) {
                DistributedBarrier b = new DistributedBarrier(shared, path);
                say(tag + " waiting");
                long ms = (long) (Double.parseDouble(w[3]) * 1000);
                if (b.waitOnBarrier(ms, TimeUnit.MILLISECONDS))
                    say(tag + " cleared " + (shared.checkExists().forPath(path) == null ? "gone" : "present"));
                else
                    say(tag + " timeout");
            } else if (cmd.equals("double")) {
                CuratorFramework c = connect(hosts);
                try {
                    DistributedDoubleBarrier b = new DistributedDoubleBarrier(c, path, Integer.parseInt(w[3]));
                    say(tag + " entering");
                    if (!b.enter(30, TimeUnit.SECONDS)) { say(tag + " timeout"); return; }
                    say(tag + " entered " + members(c, path));
                    String line = inbox.take();
                    if (!line.equals("leave")) throw new IllegalStateException("expected leave, got " + line);
                    if (!b.leave(30, TimeUnit.SECONDS)) { say(tag + " timeout"); return; }
                    say(tag + " left " + members(c, path));
                } finally {
                    c.close();
                }
            } else {
                throw new IllegalArgumentException("unknown command " + cmd);
            }
        } catch (Exception e) {
            say(tag + " error " + e);
        }
    }

    public static void main(String[] args) throws Exception {
        String hosts = args[0];
        CuratorFramework shared = connect(hosts);
        Map<String, BlockingQueue<String>> inboxes = new ConcurrentHashMap<>();
        say("ready");
        String line;
        while ((line = in.readLine()) != null) {
            String[] w = line.trim().split("\\s+");
            if (w.length < 2) continue;
            String tag = w[0];
            if (w.length == 2 && inboxes.containsKey(tag)) { inboxes.get(tag).add(w[1]); continue; }
            BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
            inboxes.put(tag, inbox);
            Thread t = new Thread(() -> run(hosts, shared, tag, w, inbox));
            t.setDaemon(true);
            t.start();
        }
        shared.close();
        System.exit(0);
    }
}
