// Test helper for t/67_recipe_rwlock_interop.t: one side of Curator's
// InterProcessReadWriteLock.  Modes (KIND is "read" or "write"):
//   hold HOSTS PATH KIND     take it, say "held", release on "release", say "released"
//   acquire HOSTS PATH KIND  say "waiting" first, then as hold
//   rounds HOSTS PATH KIND N MARKERS ID COUNTER
//     say "ready", wait for "go", then N rounds: take the lock, keep an
//     ephemeral marker MARKERS/<r|w>-ID while holding it and look at the
//     markers (every holder, Perl or Java, keeps one): a writer must see
//     only its own, a reader no writer's.  A writer also adds one to the
//     decimal COUNTER node.  Says "done N over V most M": V the rounds
//     that saw a holder they must not, M the most readers seen at once.
// Used by t/lib/ZKTest/Interop.pm.
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.locks.InterProcessReadWriteLock;
import org.apache.zookeeper.CreateMode;

public class CuratorRWLock extends CuratorCommon {
    public static void main(String[] args) throws Exception {
        String mode = args[0], hosts = args[1], path = args[2], kind = args[3];
        CuratorFramework client = connect(hosts);
        try {
            InterProcessReadWriteLock rw = new InterProcessReadWriteLock(client, path);
            boolean writer = kind.equals("write");
            InterProcessMutex lock = writer ? rw.writeLock() : rw.readLock();
            if (mode.equals("rounds")) {
                int n = Integer.parseInt(args[4]);
                String markers = args[5], marker = markers + "/" + (writer ? "w-" : "r-") + args[6], counter = args[7];
                say("ready");
                await("go");
                int over = 0, most = 0;
                for (int i = 0; i < n; i++) {
                    if (!lock.acquire(30, TimeUnit.SECONDS)) throw new IllegalStateException("lock timeout in round " + (i + 1));
                    try {
                        client.create().withMode(CreateMode.EPHEMERAL).forPath(marker);
                        boolean bad = false;
                        // Hold for a while (a few round trips) so that holds overlap.
                        for (int k = 0; k < 3; k++) {
                            List<String> seen = client.getChildren().forPath(markers);
                            int readers = 0, writers = 0;
                            for (String s : seen) { if (s.startsWith("w-")) writers++; else readers++; }
                            if (readers > most) most = readers;
                            if (writer ? seen.size() > 1 : writers > 0) bad = true;
                            Thread.sleep(5);
                        }
                        if (writer) {
                            long v = Long.parseLong(new String(client.getData().forPath(counter), StandardCharsets.US_ASCII));
                            client.setData().forPath(counter, Long.toString(v + 1).getBytes(StandardCharsets.US_ASCII));
                        }
                        client.delete().forPath(marker);
                        if (bad) over++;
                    } finally {
                        lock.release();
                    }
                }
                say("done " + n + " over " + over + " most " + most);
            } else {
                if (mode.equals("acquire")) say("waiting");
                if (!lock.acquire(30, TimeUnit.SECONDS)) throw new IllegalStateException("lock timeout");
                say("held");
                await("release");
                lock.release();
                say("released");
            }
        } finally {
            client.close();
        }
    }
}
