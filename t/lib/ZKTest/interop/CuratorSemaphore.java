// Test helper for t/63_recipe_semaphore_interop.t: one holder of Curator's
// InterProcessSemaphoreV2.  Prints "ready" once connected, waits for "go",
// then N rounds: take a lease, keep an ephemeral marker node while holding
// it and count the markers (every holder, Perl or Java, keeps one), give the
// lease back.  Prints "done N most M over V": the most markers seen while
// holding, and how often more than MAX were seen.  With only HOSTS PATH MAX:
// take one lease, print "holding", wait for "release", give it back and print
// "released".  Used by t/lib/ZKTest/Interop.pm.
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessSemaphoreV2;
import org.apache.curator.framework.recipes.locks.Lease;
import org.apache.zookeeper.CreateMode;

public class CuratorSemaphore extends CuratorCommon {
    public static void main(String[] args) throws Exception {
        // HOSTS PATH MAX [N MARKERS ID]
        String hosts = args[0], path = args[1];
        int max = Integer.parseInt(args[2]);
        CuratorFramework client = connect(hosts);
        try {
            InterProcessSemaphoreV2 sem = new InterProcessSemaphoreV2(client, path, max);
            if (args.length == 3) {
                Lease lease = sem.acquire(30, TimeUnit.SECONDS);
                if (lease == null) throw new IllegalStateException("lease timeout");
                say("holding");
                await("release");
                sem.returnLease(lease);
                say("released");
                return;
            }
            String markers = args[4], id = args[5];
            int n = Integer.parseInt(args[3]);
            say("ready");
            await("go");
            int most = 0, over = 0;
            for (int i = 0; i < n; i++) {
                Lease lease = sem.acquire(30, TimeUnit.SECONDS);
                if (lease == null) throw new IllegalStateException("lease timeout in round " + (i + 1));
                try {
                    client.create().withMode(CreateMode.EPHEMERAL).forPath(markers + "/" + id);
                    // Hold for a while (a few round trips) so that holds overlap.
                    for (int k = 0; k < 3; k++) {
                        int seen = client.getChildren().forPath(markers).size();
                        if (seen > most) most = seen;
                        if (seen > max) over++;
                        Thread.sleep(5);
                    }
                    client.delete().forPath(markers + "/" + id);
                } finally {
                    sem.returnLease(lease);
                }
            }
            say("done " + n + " most " + most + " over " + over);
        } finally {
            client.close();
        }
    }
}
