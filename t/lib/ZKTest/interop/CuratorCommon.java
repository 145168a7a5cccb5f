// What the Curator test helpers share (each of them extends this class): the
// line protocol (one line a message on stdout, commands on stdin) and the
// client.  Compiled with them by t/lib/ZKTest/Interop.pm.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.ExponentialBackoffRetry;

class CuratorCommon {
    static final BufferedReader in = new BufferedReader(new InputStreamReader(System.in));

    // One line to stdout, whole even when several threads say things.
    static synchronized void say(String s) { System.out.println(s); System.out.flush(); }

    // Reads a line from stdin; throws unless it is the word.
    static void await(String word) throws Exception {
        String line = in.readLine();
        if (line == null || !line.trim().equals(word)) throw new IllegalStateException("expected " + word + ", got " + line);
    }

    // A started client, connected (at most 30 s), with a session of sessionMs.
    static CuratorFramework connect(String hosts, int sessionMs) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(hosts, sessionMs, 10000, new ExponentialBackoffRetry(100, 10));
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("cannot connect to " + hosts);
        return c;
    }

    static CuratorFramework connect(String hosts) throws Exception { return connect(hosts, 10000); }
}
