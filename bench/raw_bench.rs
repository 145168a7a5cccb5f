//! The ceiling for `Net::ZooKeeper`'s overhead: the same sequential workload as
//! `bench/bench.pl`, done with the raw zookeeper-client on a tokio runtime.
//!
//! ```text
//!   cargo build --release --example raw_bench
//!   target/release/examples/raw_bench --hosts 127.0.0.1:2181 [--n 2000]
//!       [--children 2000] [--children-n 200] [--watch-n 500] [--connect-n 200]
//!       [--batch 100] [--flavor current|multi] [--workers 2]
//!   target/release/examples/raw_bench --hosts H --scale 1,10,100,1000 [--flavor multi]
//!       (clients open, each used once: threads and RSS, like bench/scale.pl)
//!   target/release/examples/raw_bench --hosts H --loop exists|get|get_many|get_children|set [--n N] [--think US]
//!       [--spin US] (one op in a tight loop, for profilers; like bench/loop.pl)
//! ```
//!
//! Every request is awaited before the next one is sent, as the Perl side does
//! (`get_many` is the one pipelined op, as in Perl). Prints one line per op:
//!
//! ```text
//!   op=NAME n=N ops_per_sec=X p50_us=Y p99_us=Z
//! ```
//!
//! `--flavor current` (the default) runs everything on one `current_thread` runtime:
//! the benchmark loop and the client's session task share one thread, so a round
//! trip costs no cross-thread wake-up; that is the best a caller of this client can
//! do, so it is the ceiling. `--flavor multi` uses a `multi_thread` runtime with 2
//! workers like `Net::ZooKeeper`'s (`rust/runtime.rs`), the loop running in `block_on`
//! on the main thread and the session task on a worker: the same thread hand-offs
//! as the binding, without Perl and the XS/FFI layer.

use std::time::{Duration, Instant};

use zookeeper_client::{Acls, Client, CreateMode};

struct Args {
    hosts: String,
    n: usize,
    children: usize,
    children_n: usize,
    /// `--big BYTES`, `--big-n N`: `get` of a node holding BYTES bytes, N times.
    big: usize,
    big_n: usize,
    watch_n: usize,
    connect_n: usize,
    batch: usize,
    flavor: String,
    session_timeout_ms: u64,
    /// `--loop OP`: only OP (`exists`, `get`, `get_many` on `/zookeeper`;
    /// `get_children` on a node with `--children` children; `set` of 64 bytes on a
    /// node of its own), like bench/loop.pl.
    looped: Option<String>,
    /// `--spin US`: with `--loop` on the multi flavor, each call is driven by a
    /// `block_on` that spins (yielding) up to US microseconds before it parks: a
    /// prototype of a cheaper wait for `runtime::block_on_bounded`.
    spin_us: Option<u64>,
    /// `--think US`: with `--loop exists`, the caller computes US microseconds of
    /// CPU after each reply, as a Perl caller does between its calls: shows how
    /// a slower turnaround raises the kernel's cost of the next request.
    think_us: u64,
    /// Worker threads of the `multi` flavor (2, like rust/runtime.rs).
    workers: usize,
    /// `--scale 1,10,100,1000`: instead of the workload, open that many clients.
    scale: Option<Vec<usize>>,
}

fn parse_args() -> Args {
    let mut args = Args {
        hosts: std::env::var("ZK_TEST_HOSTS").unwrap_or_else(|_| "127.0.0.1:2181".into()),
        n: 2000,
        children: 2000,
        big: 1_000_000,
        big_n: 50,
        children_n: 200,
        watch_n: 500,
        connect_n: 200,
        batch: 100,
        flavor: "current".into(),
        session_timeout_ms: 10000,
        scale: None,
        workers: 2,
        looped: None,
        spin_us: None,
        think_us: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: String| v.parse::<usize>().unwrap_or_else(|_| usage(&format!("bad number {v}")));
        match flag.as_str() {
            "--hosts" => args.hosts = value(),
            "--n" => args.n = num(value()),
            "--children" => args.children = num(value()),
            "--big" => args.big = num(value()),
            "--big-n" => args.big_n = num(value()),
            "--children-n" => args.children_n = num(value()),
            "--watch-n" => args.watch_n = num(value()),
            "--connect-n" => args.connect_n = num(value()),
            "--batch" => args.batch = num(value()).max(1),
            "--flavor" => args.flavor = value(),
            "--loop" => args.looped = Some(value()),
            "--spin" => args.spin_us = Some(num(value()) as u64),
            "--think" => args.think_us = num(value()) as u64,
            "--workers" => args.workers = num(value()).max(1),
            "--session-timeout" => args.session_timeout_ms = num(value()) as u64,
            "--scale" => args.scale = Some(value().split(',').map(|v| num(v.to_string())).collect()),
            _ => usage(&format!("unknown argument {flag}")),
        }
    }
    args
}

fn usage(why: &str) -> ! {
    eprintln!("raw_bench: {why}");
    eprintln!(
        "usage: raw_bench --hosts H [--n N] [--children C] [--children-n N] [--watch-n N] \
         [--connect-n N] [--batch B] [--flavor current|multi] [--workers W] [--scale 1,10,100,1000] [--loop exists|get|get_many|get_children|set] [--think US]"
    );
    std::process::exit(2);
}

/// Prints the line of one op from its per-op latencies and the loop's wall time.
#[allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "op counts are far below 2^52, and ceil(n * p) for p in 0..=1 is a count from 0 to n"
)]
fn report(name: &str, lat: &mut [Duration], wall: Duration, cpu: Duration) {
    let n = lat.len();
    if n == 0 {
        return;
    }
    lat.sort_unstable();
    let pct = |p: f64| lat[(((n as f64) * p).ceil() as usize).clamp(1, n) - 1].as_secs_f64() * 1e6;
    println!(
        "op={name} n={n} ops_per_sec={:.0} p50_us={:.1} p99_us={:.1} cpu_us={:.1}",
        n as f64 / wall.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        cpu.as_secs_f64() * 1e6 / n as f64
    );
}

/// CPU time of the whole process, every thread, user and system (as getrusage's
/// `RUSAGE_SELF`, with nanoseconds): what a loop costs beyond its wall time.
/// Computes for `us` microseconds after each reply (`--think`): spins on the
/// monotonic clock, which the vDSO reads without a system call, so the time
/// counts as user time as a Perl caller's would.
fn think(us: u64) {
    if us == 0 {
        return;
    }
    let until = Instant::now() + Duration::from_micros(us);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

fn cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime fills a local timespec.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &raw mut ts) };
    #[allow(
        clippy::cast_sign_loss,
        clippy::cast_possible_truncation,
        reason = "a process's CPU time is not negative, and tv_nsec is below 10^9"
    )]
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// CPU time used since `start` (a [`cpu_now`] reading).
fn cpu_since(start: Duration) -> Duration {
    cpu_now().saturating_sub(start)
}

/// Times `n` runs of `op(i)`, each awaited before the next starts.
macro_rules! timed {
    ($name:expr, $n:expr, |$i:ident| $body:expr) => {{
        let n = $n;
        let mut lat = Vec::with_capacity(n);
        let cpu = cpu_now();
        let start = Instant::now();
        for $i in 0..n {
            let t = Instant::now();
            $body;
            lat.push(t.elapsed());
        }
        let wall = start.elapsed();
        report($name, &mut lat, wall, cpu_since(cpu));
    }};
}

async fn connect(args: &Args) -> Client {
    let mut connector = Client::connector();
    connector.session_timeout(Duration::from_millis(args.session_timeout_ms));
    connector.fail_eagerly();
    connector.connect(&args.hosts).await.expect("connect")
}

/// Closes a client the way `Net::ZooKeeper`'s `DESTROY` does: drop it and wait until
/// the server has confirmed the end of the session.
async fn close(client: Client) {
    let mut states = client.state_watcher();
    drop(client);
    while !states.peek_state().is_terminated() {
        states.changed().await;
    }
}

async fn run(args: Args) {
    let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
    let client = connect(&args).await;
    let root = format!("/nzk-bench-raw-{}", std::process::id());
    client.create(&root, b"", &persistent).await.expect("create root");
    let payload = vec![b'x'; 64];
    let node = |i: usize| format!("{root}/n{i:07}");
    let paths: Vec<String> = (0..args.n).map(node).collect();

    // Sequential ops, in the order of bench/bench.pl.
    timed!("create", args.n, |i| client.create(&paths[i], &payload, &persistent).await.expect("create"));
    timed!("exists", args.n, |i| assert!(client.check_stat(&paths[i]).await.expect("exists").is_some()));
    timed!("get", args.n, |i| {
        let (data, _) = client.get_data(&paths[i]).await.expect("get");
        assert_eq!(data.len(), payload.len());
    });
    // Pipelined: every request of a batch is sent before any reply is awaited.
    {
        let mut lat = Vec::new();
        let cpu = cpu_now();
        let start = Instant::now();
        for chunk in paths.chunks(args.batch) {
            let t = Instant::now();
            let pending: Vec<_> = chunk.iter().map(|p| client.get_data(p)).collect();
            for reply in pending {
                reply.await.expect("get_many");
            }
            #[allow(clippy::cast_possible_truncation, reason = "a batch is far below 2^32 paths")]
            let per_path = t.elapsed() / chunk.len() as u32;
            lat.extend(std::iter::repeat_n(per_path, chunk.len()));
        }
        report("get_many", &mut lat, start.elapsed(), cpu_since(cpu));
    }
    timed!("set", args.n, |i| client.set_data(&paths[i], &payload, None).await.expect("set"));

    // get_children on a node with `children` children (made pipelined, untimed).
    let kids = format!("{root}/kids");
    client.create(&kids, b"", &persistent).await.expect("create kids");
    let kid_paths: Vec<String> = (0..args.children).map(|i| format!("{kids}/c{i:07}")).collect();
    for chunk in kid_paths.chunks(500) {
        let pending: Vec<_> = chunk.iter().map(|p| client.create(p, b"", &persistent)).collect();
        for reply in pending {
            reply.await.expect("create child");
        }
    }
    timed!("get_children", args.children_n, |_i| {
        let children = client.list_children(&kids).await.expect("get_children");
        assert_eq!(children.len(), args.children);
    });

    timed!("delete", args.n, |i| client.delete(&paths[i], None).await.expect("delete"));

    // get of a large node (default 1,000,000 bytes: jute.maxbuffer is 1 MiB).
    let big = format!("{root}/big");
    client.create(&big, &vec![b'b'; args.big], &persistent).await.expect("create big");
    timed!("get_big", args.big_n, |_i| {
        let (data, _) = client.get_data(&big).await.expect("get big");
        assert_eq!(data.len(), args.big);
    });

    // Watch round trip: arm on one session, trigger from a second, wait for the event.
    let watch_path = format!("{root}/w");
    client.create(&watch_path, b"", &persistent).await.expect("create watched");
    let trigger = connect(&args).await;
    timed!("watch", args.watch_n, |_i| {
        let (_, watcher) = client.check_and_watch_stat(&watch_path).await.expect("arm");
        trigger.set_data(&watch_path, b"y", None).await.expect("trigger");
        watcher.changed().await;
    });
    close(trigger).await;

    // Connect plus first call, then close (each timed on its own).
    let mut conn_lat = Vec::with_capacity(args.connect_n);
    let mut close_lat = Vec::with_capacity(args.connect_n);
    let (mut conn_wall, mut close_wall) = (Duration::ZERO, Duration::ZERO);
    let (mut conn_cpu, mut close_cpu) = (Duration::ZERO, Duration::ZERO);
    for _ in 0..args.connect_n {
        let (t, cpu) = (Instant::now(), cpu_now());
        let c = connect(&args).await;
        c.check_stat("/").await.expect("first call");
        let d = t.elapsed();
        conn_cpu += cpu_since(cpu);
        conn_lat.push(d);
        conn_wall += d;
        let (t, cpu) = (Instant::now(), cpu_now());
        close(c).await;
        let d = t.elapsed();
        close_cpu += cpu_since(cpu);
        close_lat.push(d);
        close_wall += d;
    }
    report("connect", &mut conn_lat, conn_wall, conn_cpu);
    report("close", &mut close_lat, close_wall, close_cpu);

    // Clean up (untimed).
    for chunk in kid_paths.chunks(500) {
        let pending: Vec<_> = chunk.iter().map(|p| client.delete(p, None)).collect();
        for reply in pending {
            let _ = reply.await;
        }
    }
    for p in [&kids, &watch_path, &big, &root] {
        let _ = client.delete(p, None).await;
    }
    close(client).await;
}

/// `VmRSS` of this process in kB, and its number of threads.
fn rss_and_threads() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

/// Opens clients up to each level (each used once with exists("/")) and prints
/// the process's threads and RSS, like `bench/scale.pl`.
async fn scale(args: &Args, levels: &[usize], base: (u64, u64)) {
    let mut clients = Vec::new();
    let (mut prev_n, mut prev_rss) = (0usize, base.0);
    println!("handles=0 threads={} rss_kb={}", base.1, base.0);
    for &level in levels {
        while clients.len() < level {
            let client = connect(args).await;
            client.check_stat("/").await.expect("exists");
            clients.push(client);
        }
        let (rss, threads) = rss_and_threads();
        #[allow(clippy::cast_precision_loss, reason = "kB and handle counts are far below 2^52")]
        let per_handle = (rss as f64 - prev_rss as f64) / (level - prev_n) as f64;
        println!(
            "handles={level} threads={threads} runtime_threads={} rss_kb={rss} rss_per_handle_kb={per_handle:.1}",
            threads - 1
        );
        (prev_n, prev_rss) = (level, rss);
    }
    for client in clients {
        close(client).await;
    }
}

/// Wakes a `spin_block_on` caller: a flag it polls while spinning, and an unpark
/// (a futex call only if it has parked already).
struct SpinWaker {
    woken: std::sync::atomic::AtomicBool,
    thread: std::thread::Thread,
}

impl std::task::Wake for SpinWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.woken.store(true, std::sync::atomic::Ordering::Release);
        self.thread.unpark();
    }
}

/// Runs `future` on the calling thread (inside the runtime's context), waiting for
/// wake-ups by spinning with `sched_yield` for up to `spin`, then by parking.
fn spin_block_on<F: std::future::Future>(runtime: &tokio::runtime::Runtime, spin: Duration, future: F) -> F::Output {
    use std::sync::atomic::Ordering;
    let _context = runtime.enter();
    let state = std::sync::Arc::new(SpinWaker {
        woken: std::sync::atomic::AtomicBool::new(false),
        thread: std::thread::current(),
    });
    let waker = std::task::Waker::from(state.clone());
    let mut cx = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        let start = Instant::now();
        while !state.woken.swap(false, Ordering::Acquire) {
            if start.elapsed() >= spin {
                std::thread::park();
            } else {
                std::thread::yield_now();
            }
        }
    }
}

/// `--loop exists --spin US`: like `looped`, each call in its own `spin_block_on`.
fn looped_spin(args: &Args, runtime: &tokio::runtime::Runtime, spin: Duration) {
    let client = runtime.block_on(connect(args));
    let path = "/zookeeper";
    for _ in 0..200 {
        spin_block_on(runtime, spin, client.check_stat(path)).expect("warm-up");
    }
    timed!("exists", args.n, |_i| spin_block_on(runtime, spin, client.check_stat(path)).expect("exists"));
    runtime.block_on(close(client));
}

/// One op on /zookeeper in a tight loop (after 200 untimed), like bench/loop.pl.
async fn looped(args: &Args, op: &str) {
    let client = connect(args).await;
    let path = "/zookeeper";
    for _ in 0..200 {
        client.check_stat(path).await.expect("warm-up");
    }
    let parent = format!("/nzk-loop-raw-{}", std::process::id());
    let mut made = Vec::new();
    if op == "set" {
        let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
        made.push(parent.clone());
        client.create(&parent, b"", &persistent).await.expect("create");
    }
    if op == "get_children" {
        let persistent = CreateMode::Persistent.with_acls(Acls::anyone_all());
        made.push(parent.clone());
        made.extend((0..args.children).map(|i| format!("{parent}/c{i:07}")));
        for p in &made {
            client.create(p, b"", &persistent).await.expect("create");
        }
    }
    match op {
        "get_children" => timed!("get_children", args.n, |_i| {
            let children = client.list_children(&parent).await.expect("get_children");
            assert_eq!(children.len(), args.children);
        }),
        "exists" => timed!("exists", args.n, |_i| {
            client.check_stat(path).await.expect("exists");
            think(args.think_us);
        }),
        "get" => timed!("get", args.n, |_i| client.get_data(path).await.expect("get")),
        "set" => timed!("set", args.n, |_i| client.set_data(&parent, &[b'x'; 64], None).await.expect("set")),
        "get_many" => {
            let calls = (args.n / args.batch).max(1);
            let mut lat = Vec::new();
            let cpu = cpu_now();
            let start = Instant::now();
            for _ in 0..calls {
                let t = Instant::now();
                let pending: Vec<_> = (0..args.batch).map(|_| client.get_data(path)).collect();
                for reply in pending {
                    reply.await.expect("get_many");
                }
                #[allow(clippy::cast_possible_truncation, reason = "a batch is far below 2^32 paths")]
                let per_path = t.elapsed() / args.batch as u32;
                lat.extend(std::iter::repeat_n(per_path, args.batch));
            }
            report("get_many", &mut lat, start.elapsed(), cpu_since(cpu));
        }
        other => usage(&format!("unknown loop op {other}")),
    }
    for p in made.iter().rev() {
        let _ = client.delete(p, None).await;
    }
    close(client).await;
}

fn main() {
    let args = parse_args();
    let base = rss_and_threads();
    let runtime = match args.flavor.as_str() {
        "current" => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        "multi" => tokio::runtime::Builder::new_multi_thread().worker_threads(args.workers).enable_all().build(),
        other => usage(&format!("unknown flavor {other}")),
    }
    .expect("runtime");
    if let Some(levels) = args.scale.clone() {
        runtime.block_on(scale(&args, &levels, base));
    } else if let (Some(_), Some(us)) = (&args.looped, args.spin_us) {
        if args.flavor != "multi" {
            usage("--spin needs --flavor multi (a current_thread runtime is driven only by block_on)");
        }
        looped_spin(&args, &runtime, Duration::from_micros(us));
    } else if let Some(op) = args.looped.clone() {
        runtime.block_on(looped(&args, &op));
    } else {
        runtime.block_on(run(args));
    }
}
