// Test helper for t/57_recipe_interop.t: Apache Curator's recipes, driven
// from the command line.  Prints "ready" once connected, then waits for a
// line "go" on stdin so that every contender starts together; prints its
// results as "key value" lines.  Used by t/lib/ZKTest/Interop.pm.
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.atomic.AtomicValue;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.framework.recipes.shared.SharedCount;
import org.apache.curator.framework.recipes.shared.VersionedValue;
import org.apache.curator.retry.RetryNTimes;

public class CuratorHelper extends CuratorCommon {
    public static void main(String[] args) throws Exception {
        String mode = args[0], hosts = args[1], path = args[2];
        CuratorFramework client = connect(hosts);
        try {
            if (mode.equals("lock")) {
                // lock HOSTS LOCKPATH N COUNTERPATH: N times take the lock and
                // add one to the decimal counter node (read-modify-write).
                int n = Integer.parseInt(args[3]);
                String counter = args[4];
                InterProcessMutex mutex = new InterProcessMutex(client, path);
                say("ready");
                await("go");
                for (int i = 0; i < n; i++) {
                    if (!mutex.acquire(30, TimeUnit.SECONDS)) throw new IllegalStateException("lock timeout");
                    try {
                        long v = Long.parseLong(new String(client.getData().forPath(counter), StandardCharsets.US_ASCII));
                        client.setData().forPath(counter, Long.toString(v + 1).getBytes(StandardCharsets.US_ASCII));
                    } finally {
                        mutex.release();
                    }
                }
                say("done " + n);
            } else if (mode.equals("hold")) {
                // hold HOSTS LOCKPATH: take the lock, say "held", release on "release".
                InterProcessMutex mutex = new InterProcessMutex(client, path);
                if (!mutex.acquire(30, TimeUnit.SECONDS)) throw new IllegalStateException("lock timeout");
                say("held");
                await("release");
                mutex.release();
                say("released");
            } else if (mode.equals("acquire")) {
                // acquire HOSTS LOCKPATH: say "waiting", block for the lock, say "held", release on "release".
                InterProcessMutex mutex = new InterProcessMutex(client, path);
                say("waiting");
                if (!mutex.acquire(30, TimeUnit.SECONDS)) throw new IllegalStateException("lock timeout");
                say("held");
                await("release");
                mutex.release();
                say("released");
            } else if (mode.equals("shared_count")) {
                // shared_count HOSTS PATH N: N increments by trySetCount; then the value read.
                int n = Integer.parseInt(args[3]);
                SharedCount sc = new SharedCount(client, path, 0);
                sc.start();
                say("ready");
                await("go");
                int retries = 0;
                for (int i = 0; i < n; i++) {
                    while (true) {
                        VersionedValue<Integer> v = sc.getVersionedValue();
                        if (sc.trySetCount(v, v.getValue() + 1)) break;
                        retries++;
                    }
                }
                say("done " + n + " retries " + retries);
                await("read");
                client.sync().forPath(path);
                say("value " + new SharedCount(client, path, 0) {{ start(); }}.getCount());
                sc.close();
            } else if (mode.equals("atomic_long")) {
                // atomic_long HOSTS PATH N: N increments; then the value read.
                int n = Integer.parseInt(args[3]);
                DistributedAtomicLong dal = new DistributedAtomicLong(client, path, new RetryNTimes(1000, 1));
                say("ready");
                await("go");
                int retries = 0;
                for (int i = 0; i < n; i++) {
                    AtomicValue<Long> r;
                    // succeeded() is false once the retry policy gives up: try again
                    while (!(r = dal.increment()).succeeded()) retries++;
                }
                say("done " + n + " retries " + retries);
                await("read");
                say("value " + dal.get().postValue());
            } else {
                throw new IllegalArgumentException("unknown mode " + mode);
            }
        } finally {
            client.close();
        }
    }
}
