// Test helper for t/59_recipe_election_interop.t: one Apache Curator
// LeaderLatch participant.  Usage: CuratorLeader HOSTS PATH ID [SESSION_MS].  Prints
// "joined NODE" once its latch node exists, "leader" when it gains
// leadership and "follower" when it loses it (LeaderLatchListener, called in
// order on one thread); on a line "leader?" prints "is leader" or "is follower"
// and the leader's id as it sees it ("sees ID"); on "stop" closes the latch and
// the session, prints "stopped" and exits.  Used by t/lib/ZKTest/Interop.pm.
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;

public class CuratorLeader extends CuratorCommon {
    public static void main(String[] args) throws Exception {
        String hosts = args[0], path = args[1], id = args[2];
        // A short session, so that a killed participant's node goes soon.
        int session = args.length > 3 ? Integer.parseInt(args[3]) : 10000;
        CuratorFramework client = connect(hosts, session);
        LeaderLatch latch = new LeaderLatch(client, path, id);
        latch.addListener(new LeaderLatchListener() {
            public void isLeader() { say("leader"); }
            public void notLeader() { say("follower"); }
        });
        latch.start();
        // The node is made in the background: wait (bounded) until it exists.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (latch.getOurPath() == null && System.nanoTime() < end) Thread.sleep(10);
        say("joined " + latch.getOurPath().substring(path.length() + 1));
        String line;
        while ((line = in.readLine()) != null) {
            line = line.trim();
            if (line.equals("leader?")) {
                say(latch.hasLeadership() ? "is leader" : "is follower");
                say("sees " + latch.getLeader().getId());
            } else if (line.equals("stop")) {
                // The latch deletes its node in the background; closing the session
                // too means the node is gone once "stopped" is printed.
                latch.close();
                client.close();
                say("stopped");
                return;
            }
        }
        client.close();
    }
}
