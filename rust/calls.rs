//! The node calls of a handle. Each is a [`Request`]: the checked arguments of one
//! call, which send its request to the server and make the reply. Both forms of a
//! call use it: the synchronous form waits for it in the calling thread, the
//! asynchronous one (`callback => CODE`) sends it and returns, and the reply goes to
//! the handle object's callbacks (see [`crate::dispatch`]).

use std::future::Future;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use zookeeper_client::{Acl, Acls, Client, CreateMode, CreateOptions, OneshotSink, OneshotWatcher};

use crate::dispatch::Values;
use crate::error::{self, IntoCode};
use crate::handle::{CallResult, Handle};
use crate::log::DEBUG;
use crate::names::Names;
use crate::options::{NzkMethod, Options, FLAG_EPHEMERAL, FLAG_SEQUENCE};
use crate::stat::Stat;
use crate::watch::{self, Record};
use crate::{validate, zlog};

/// The calls that take a `callback` option, by their Perl names (also what
/// `Net::ZooKeeper::_async_calls` lists for the event-loop adapters).
pub const ASYNC_CALLS: &[(&str, NzkMethod)] = &[
    ("create", NzkMethod::Create),
    ("delete", NzkMethod::Delete),
    ("exists", NzkMethod::Exists),
    ("get", NzkMethod::Get),
    ("set", NzkMethod::Set),
    ("get_children", NzkMethod::GetChildren),
    ("get_acl", NzkMethod::GetAcl),
    ("set_acl", NzkMethod::SetAcl),
    ("sync", NzkMethod::Sync),
    ("get_ephemerals", NzkMethod::GetEphemerals),
    ("get_all_children_number", NzkMethod::GetAllChildrenNumber),
    ("whoami", NzkMethod::Whoami),
    ("get_config", NzkMethod::GetConfig),
    ("multi", NzkMethod::Multi),
    ("multi_read", NzkMethod::Multi),
    ("add_watch", NzkMethod::AddWatch),
    ("remove_watches", NzkMethod::RemoveWatches),
    ("remove_all_watches", NzkMethod::RemoveAllWatches),
];

/// One call's request, ready to send.
pub trait Request: Send + 'static {
    type Reply: Send + 'static;
    /// The call's Perl name (one of [`ASYNC_CALLS`]), for messages.
    const CALL: &'static str;

    /// The call's name, for messages.
    fn name(&self) -> &'static str {
        Self::CALL
    }

    /// Sends the request (on the first poll) and makes the reply.
    fn send(self, client: Arc<Client>) -> impl Future<Output = CallResult<Self::Reply>> + Send;

    /// The call's result code for a reply (a batch's is its first failure).
    fn code(_reply: &Self::Reply) -> i32 {
        error::ZOK
    }

    /// The node's stat in the reply, for the `stat` option.
    fn stat(_reply: &Self::Reply) -> Option<Stat> {
        None
    }

    /// What a callback gets after the result code.
    fn values(reply: Self::Reply) -> Values;
}

/// Where the watch of a call goes once the server accepted it.
pub struct Arming {
    record: Arc<Record>,
    armed: bool,
}

impl Arming {
    /// For a record already in its handle's list (`Watches::add_pending`).
    pub fn new(record: Arc<Record>) -> Arming {
        Arming { record, armed: false }
    }

    /// Where the notification of the watch a call on `path` sets goes.
    fn sink(&self, path: &str) -> Arc<dyn OneshotSink> {
        self.record.sink(path)
    }

    /// The server accepted the watch (`kind`: `WATCHTYPE_DATA` or
    /// `WATCHTYPE_CHILD`): its notifications now reach the record, and
    /// `remove_watches` can remove it.
    fn arm(mut self, watcher: OneshotWatcher, kind: i32) {
        self.armed = true;
        self.record.arm(kind, watcher);
    }
}

impl Drop for Arming {
    fn drop(&mut self) {
        if !self.armed {
            self.record.abandon();
        }
    }
}

fn version(opts: &Options) -> Option<i32> {
    (opts.version >= 0).then_some(opts.version)
}

/// The checked path of a call, logged as the C client logs it.
fn path_of(function: &str, path: &[u8]) -> CallResult<String> {
    Handle::checked_path(function, path, false)
}

pub struct CreateRequest {
    path: String,
    data: Vec<u8>,
    spec: CreateSpec,
    /// A sequential create of "/" under a chroot: the C client returns the bare number.
    bare_number: bool,
    limit: usize,
}

impl Request for CreateRequest {
    type Reply = (Vec<u8>, Stat);
    const CALL: &'static str = "create";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let (stat, sequence) =
            client.create(&self.path, &self.data, &self.spec.options()).await.map_err(IntoCode::code)?;
        let mut created = if self.bare_number { Vec::new() } else { self.path.into_bytes() };
        if self.spec.sequence {
            created.extend_from_slice(sequence.to_string().as_bytes());
        }
        created.truncate(self.limit);
        Ok((created, Stat::from(&stat)))
    }

    fn stat(reply: &Self::Reply) -> Option<Stat> {
        Some(reply.1)
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Bytes(Some(reply.0))
    }
}

pub struct DeleteRequest {
    path: String,
    version: Option<i32>,
}

impl Request for DeleteRequest {
    type Reply = ();
    const CALL: &'static str = "delete";

    async fn send(self, client: Arc<Client>) -> CallResult<()> {
        client.delete(&self.path, self.version).await.map_err(IntoCode::code)
    }

    fn values((): ()) -> Values {
        Values::None
    }
}

pub struct ExistsRequest {
    path: String,
    arming: Option<Arming>,
}

impl Request for ExistsRequest {
    type Reply = Stat;
    const CALL: &'static str = "exists";

    async fn send(self, client: Arc<Client>) -> CallResult<Stat> {
        let found = match self.arming {
            None => client.check_stat(&self.path).await.map_err(IntoCode::code)?,
            Some(arming) => {
                let (found, watcher) = client
                    .check_and_watch_stat_into(&self.path, arming.sink(&self.path))
                    .await
                    .map_err(IntoCode::code)?;
                arming.arm(watcher, watch::WATCHTYPE_DATA);
                found
            }
        };
        found.map(|found| Stat::from(&found)).ok_or(error::ZNONODE)
    }

    fn stat(reply: &Stat) -> Option<Stat> {
        Some(*reply)
    }

    fn values(_: Stat) -> Values {
        Values::None
    }
}

pub struct GetRequest {
    path: String,
    limit: usize,
    arming: Option<Arming>,
}

impl Request for GetRequest {
    type Reply = (Option<Vec<u8>>, Stat);
    const CALL: &'static str = "get";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let (mut data, found) = match self.arming {
            None => client.get_nullable_data(&self.path).await.map_err(IntoCode::code)?,
            Some(arming) => {
                let (data, found, watcher) = client
                    .get_and_watch_nullable_data_into(&self.path, arming.sink(&self.path))
                    .await
                    .map_err(IntoCode::code)?;
                arming.arm(watcher, watch::WATCHTYPE_DATA);
                (data, found)
            }
        };
        if let Some(data) = &mut data {
            data.truncate(self.limit);
        }
        Ok((data, Stat::from(&found)))
    }

    fn stat(reply: &Self::Reply) -> Option<Stat> {
        Some(reply.1)
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Bytes(reply.0)
    }
}

pub struct SetRequest {
    path: String,
    data: Vec<u8>,
    version: Option<i32>,
}

impl Request for SetRequest {
    type Reply = Stat;
    const CALL: &'static str = "set";

    async fn send(self, client: Arc<Client>) -> CallResult<Stat> {
        let found = client.set_data(&self.path, &self.data, self.version).await.map_err(IntoCode::code)?;
        Ok(Stat::from(&found))
    }

    fn stat(reply: &Stat) -> Option<Stat> {
        Some(*reply)
    }

    fn values(_: Stat) -> Values {
        Values::None
    }
}

pub struct ChildrenRequest {
    path: String,
    arming: Option<Arming>,
}

impl Request for ChildrenRequest {
    type Reply = Names;
    const CALL: &'static str = "get_children";

    async fn send(self, client: Arc<Client>) -> CallResult<Names> {
        match self.arming {
            None => Names::wire(client.list_children_wire(&self.path).await.map_err(IntoCode::code)?),
            Some(arming) => {
                let (children, watcher) = client
                    .list_and_watch_children_wire_into(&self.path, arming.sink(&self.path))
                    .await
                    .map_err(IntoCode::code)?;
                arming.arm(watcher, watch::WATCHTYPE_CHILD);
                Names::wire(children)
            }
        }
    }

    fn values(reply: Names) -> Values {
        Values::Names(reply)
    }
}

pub struct GetAclRequest {
    path: String,
}

impl Request for GetAclRequest {
    type Reply = (Vec<Acl>, Stat);
    const CALL: &'static str = "get_acl";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let (acl, found) = client.get_acl(&self.path).await.map_err(IntoCode::code)?;
        Ok((acl, Stat::from(&found)))
    }

    fn stat(reply: &Self::Reply) -> Option<Stat> {
        Some(reply.1)
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Acl(reply.0)
    }
}

pub struct SetAclRequest {
    path: String,
    acl: Vec<Acl>,
    version: Option<i32>,
}

impl Request for SetAclRequest {
    type Reply = ();
    const CALL: &'static str = "set_acl";

    async fn send(self, client: Arc<Client>) -> CallResult<()> {
        client.set_acl(&self.path, &self.acl, self.version).await.map(|_| ()).map_err(IntoCode::code)
    }

    fn values((): ()) -> Values {
        Values::None
    }
}

pub struct SyncRequest {
    path: String,
}

impl Request for SyncRequest {
    type Reply = ();
    const CALL: &'static str = "sync";

    async fn send(self, client: Arc<Client>) -> CallResult<()> {
        client.sync(&self.path).await.map_err(IntoCode::code)
    }

    fn values((): ()) -> Values {
        Values::None
    }
}

pub struct EphemeralsRequest {
    prefix: String,
}

impl Request for EphemeralsRequest {
    type Reply = Names;
    const CALL: &'static str = "get_ephemerals";

    async fn send(self, client: Arc<Client>) -> CallResult<Names> {
        client.list_ephemerals(&self.prefix).await.map(Names::List).map_err(IntoCode::code)
    }

    fn values(reply: Names) -> Values {
        Values::Names(reply)
    }
}

pub struct CountRequest {
    path: String,
}

impl Request for CountRequest {
    type Reply = u64;
    const CALL: &'static str = "get_all_children_number";

    async fn send(self, client: Arc<Client>) -> CallResult<u64> {
        let count = client.count_descendants_number(&self.path).await.map_err(IntoCode::code)?;
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }

    fn values(reply: u64) -> Values {
        Values::Count(reply)
    }
}

pub struct WhoamiRequest;

impl Request for WhoamiRequest {
    type Reply = Vec<(String, String)>;
    const CALL: &'static str = "whoami";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let users = client.list_auth_users().await.map_err(IntoCode::code)?;
        Ok(users.iter().map(|u| (u.scheme().to_owned(), u.user().to_owned())).collect())
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Identities(reply)
    }
}

/// The node whose data is the ensemble's configuration.
const CONFIG_NODE: &str = "/zookeeper/config";

pub struct ConfigRequest {
    arming: Option<Arming>,
}

impl Request for ConfigRequest {
    type Reply = (Vec<u8>, Stat);
    const CALL: &'static str = "get_config";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let (data, found) = match self.arming {
            None => client.get_config().await.map_err(IntoCode::code)?,
            Some(arming) => {
                let (data, found, watcher) =
                    client.get_and_watch_config_into(arming.sink(CONFIG_NODE)).await.map_err(IntoCode::code)?;
                arming.arm(watcher, watch::WATCHTYPE_DATA);
                (data, found)
            }
        };
        Ok((data, Stat::from(&found)))
    }

    fn stat(reply: &Self::Reply) -> Option<Stat> {
        Some(reply.1)
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Bytes(Some(reply.0))
    }
}

impl Handle {
    /// `create`: the path made (with its sequence number, if any), truncated to the
    /// path read length.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path or mode the C client would refuse.
    pub fn create_request(&self, path: &[u8], data: &[u8], opts: &Options) -> CallResult<CreateRequest> {
        let spec = CreateSpec::new(opts)?;
        let path = Self::checked_path("zoo_create", path, spec.sequence)?;
        // Under a chroot a sequential "/" gives the chroot's path plus the number, which
        // the C client returns with the chroot cut off: the bare number.
        let chroot = self.connect_string().split_once('/').is_some_and(|(_, root)| !root.is_empty());
        let bare_number = spec.sequence && chroot && path == "/";
        let limit = read_len(opts.path_read_len, &self.path_read_len);
        Ok(CreateRequest { path, data: data.to_vec(), spec, bare_number, limit })
    }

    /// `delete`.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn delete_request(path: &[u8], opts: &Options) -> CallResult<DeleteRequest> {
        Ok(DeleteRequest { path: path_of("zoo_delete", path)?, version: version(opts) })
    }

    /// `exists`: the node's stat, or ZNONODE (a watch is armed either way).
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn exists_request(path: &[u8], arming: Option<Arming>) -> CallResult<ExistsRequest> {
        Ok(ExistsRequest { path: path_of("zoo_exists", path)?, arming })
    }

    /// `get`: the node's data (truncated to the data read length; `None` for null
    /// data) and stat.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn get_request(&self, path: &[u8], opts: &Options, arming: Option<Arming>) -> CallResult<GetRequest> {
        let limit = read_len(opts.data_read_len, &self.data_read_len);
        Ok(GetRequest { path: path_of("zoo_get", path)?, limit, arming })
    }

    /// `set`: the node's new stat.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn set_request(path: &[u8], data: &[u8], opts: &Options) -> CallResult<SetRequest> {
        Ok(SetRequest { path: path_of("zoo_set", path)?, data: data.to_vec(), version: version(opts) })
    }

    /// `get_children`: the names of the node's children.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn children_request(path: &[u8], arming: Option<Arming>) -> CallResult<ChildrenRequest> {
        Ok(ChildrenRequest { path: path_of("zoo_get_children", path)?, arming })
    }

    /// `get_acl`: the node's ACL and stat.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn get_acl_request(path: &[u8]) -> CallResult<GetAclRequest> {
        Ok(GetAclRequest { path: path_of("zoo_get_acl", path)? })
    }

    /// `set_acl`: replaces the node's ACL with the options' ACL.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn set_acl_request(path: &[u8], opts: &Options) -> CallResult<SetAclRequest> {
        Ok(SetAclRequest { path: path_of("zoo_set_acl", path)?, acl: opts.acl().to_vec(), version: version(opts) })
    }

    /// `sync`: waits until the server this handle is connected to has caught up with
    /// the leader (for `path`), so that a read after it sees every write committed
    /// before it.
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn sync_request(path: &[u8]) -> CallResult<SyncRequest> {
        Ok(SyncRequest { path: path_of("zoo_async", path)? })
    }

    /// `get_ephemerals`: the paths of this session's ephemeral nodes under `prefix`
    /// (ZooKeeper 3.6+).
    ///
    /// # Errors
    /// ZBADARGUMENTS for a prefix the C client would refuse.
    pub fn ephemerals_request(prefix: &[u8]) -> CallResult<EphemeralsRequest> {
        Ok(EphemeralsRequest { prefix: path_of("zoo_get_ephemerals", prefix)? })
    }

    /// `get_all_children_number`: the number of nodes below `path`, at any depth
    /// (ZooKeeper 3.6+).
    ///
    /// # Errors
    /// ZBADARGUMENTS for a path the C client would refuse.
    pub fn count_request(path: &[u8]) -> CallResult<CountRequest> {
        Ok(CountRequest { path: path_of("zoo_get_all_children_number", path)? })
    }

    /// `whoami`: the identities the server knows this session by, as (scheme, id)
    /// (ZooKeeper 3.7+).
    ///
    /// # Errors
    /// Never: the call has no argument to check.
    pub fn whoami_request() -> CallResult<WhoamiRequest> {
        zlog!(DEBUG, "zoo_whoami", "Sending whoami request");
        Ok(WhoamiRequest)
    }

    /// `get_config`: the ensemble's configuration (the data of `/zookeeper/config`,
    /// ZooKeeper 3.5+) and its stat.
    ///
    /// # Errors
    /// Never: the call has no argument to check.
    pub fn config_request(arming: Option<Arming>) -> CallResult<ConfigRequest> {
        zlog!(DEBUG, "zoo_getconfig", "Sending request for path [/zookeeper/config]");
        Ok(ConfigRequest { arming })
    }

    /// Reads many nodes at once: every request is sent before any reply is awaited,
    /// so the whole batch costs about one round trip. Each entry is the node's data
    /// (truncated to `data_read_len`; `None` for null data) or the code its read failed
    /// with.
    ///
    /// # Panics
    /// Never: one reply is collected per valid path.
    pub fn get_many(&self, paths: &[&[u8]]) -> Vec<CallResult<Option<Vec<u8>>>> {
        let checked: Vec<CallResult<String>> =
            paths.iter().map(|path| Self::checked_path("zoo_get_many", path, false)).collect();
        let valid: Vec<&str> = checked.iter().filter_map(|p| p.as_deref().ok()).collect();
        let limit = usize::try_from(self.data_read_len.load(Ordering::Relaxed)).unwrap_or(0);
        let replies = self.call(|client| async move {
            let pending: Vec<_> = valid.iter().map(|path| client.get_nullable_data(path)).collect();
            let mut replies = Vec::with_capacity(pending.len());
            for reply in pending {
                replies.push(reply.await.map(|(mut data, _)| {
                    if let Some(data) = &mut data {
                        data.truncate(limit);
                    }
                    data
                }));
            }
            Ok::<_, i32>(replies)
        });
        let mut replies = match replies {
            Ok(replies) => replies.into_iter(),
            Err(code) => return checked.iter().map(|_| Err(code)).collect(),
        };
        checked
            .into_iter()
            .map(|path| match path {
                Err(code) => Err(code),
                Ok(_) => replies.next().expect("one reply per valid path").map_err(|err| error::code_of(&err)),
            })
            .collect()
    }

    /// Adds authentication credentials to the session.
    ///
    /// # Errors
    /// The ZooKeeper code the call failed with (see [`CallResult`]); `ZAUTHFAILED`
    /// when the server refuses the credentials (the session is then over).
    pub fn add_auth(&self, scheme: &[u8], cert: &[u8]) -> CallResult<()> {
        let scheme = String::from_utf8_lossy(validate::c_string(scheme)).into_owned();
        zlog!(DEBUG, "zoo_add_auth", "Sending auth info request for scheme [{}]", scheme);
        let result = self.call(|client| async move { client.auth(scheme, cert.to_vec()).await });
        if result == Err(error::ZAUTHFAILED) {
            // The server closes the session after a failed authentication.
            self.mark_dead();
        }
        result
    }

    /// The path as a string if the C client would accept it; else ZBADARGUMENTS, as
    /// the server is never asked.
    pub(crate) fn checked_path(function: &str, path: &[u8], sequence: bool) -> CallResult<String> {
        let path = validate::c_string(path);
        if !validate::path(path, sequence) {
            return Err(error::ZBADARGUMENTS);
        }
        // The server decodes path bytes as UTF-8 with replacement characters; doing the
        // same here sends what it would have seen (and it rejects such paths on writes).
        let text = match std::str::from_utf8(path) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(path).into_owned(),
        };
        zlog!(DEBUG, function, "Sending request for path [{}]", text);
        Ok(text)
    }
}

/// A read length option (`path_read_len`, `data_read_len`; -1 when not given, then
/// the handle's attribute of the same name) as a byte count.
pub(crate) fn read_len(option: i32, attribute: &AtomicI32) -> usize {
    let limit = if option >= 0 { option } else { attribute.load(Ordering::Relaxed) };
    usize::try_from(limit).unwrap_or(0)
}

/// How a node is made, from create's options (`flags` or `mode`, `ttl`, `acl`).
pub(crate) struct CreateSpec {
    mode: CreateMode,
    ttl: Option<Duration>,
    acl: Vec<Acl>,
    /// The node's name gets a sequence number.
    pub sequence: bool,
}

impl CreateSpec {
    /// # Errors
    /// ZBADARGUMENTS for a TTL without a TTL mode or the reverse (see `create_mode`).
    pub(crate) fn new(opts: &Options) -> CallResult<CreateSpec> {
        let (mode, ttl) = create_mode(opts.flags, opts.ttl)?;
        let sequence = matches!(mode, CreateMode::PersistentSequential | CreateMode::EphemeralSequential);
        Ok(CreateSpec { mode, ttl, acl: opts.acl().to_vec(), sequence })
    }

    /// The client's options.
    pub(crate) fn options(&self) -> CreateOptions<'_> {
        let options = self.mode.with_acls(Acls::new(&self.acl));
        match self.ttl {
            Some(ttl) => options.with_ttl(ttl),
            None => options,
        }
    }
}

/// The client's create mode for create's `flags`/`mode` (0 to 6, checked when the
/// option was read) and `ttl`: a TTL mode needs a TTL and no other mode takes one
/// (ZBADARGUMENTS, as the C client says).
fn create_mode(mode: i32, ttl: Option<i64>) -> CallResult<(CreateMode, Option<Duration>)> {
    use crate::options::{MODE_CONTAINER, MODE_PERSISTENT_SEQUENTIAL_WITH_TTL, MODE_PERSISTENT_WITH_TTL};
    let ttl = ttl.map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    let with_ttl = matches!(mode, MODE_PERSISTENT_WITH_TTL | MODE_PERSISTENT_SEQUENTIAL_WITH_TTL);
    if with_ttl != ttl.is_some() {
        return Err(error::ZBADARGUMENTS);
    }
    let mode = match mode {
        MODE_CONTAINER => CreateMode::Container,
        MODE_PERSISTENT_WITH_TTL => CreateMode::Persistent,
        MODE_PERSISTENT_SEQUENTIAL_WITH_TTL => CreateMode::PersistentSequential,
        flags => match (flags & FLAG_EPHEMERAL != 0, flags & FLAG_SEQUENCE != 0) {
            (false, false) => CreateMode::Persistent,
            (false, true) => CreateMode::PersistentSequential,
            (true, false) => CreateMode::Ephemeral,
            (true, true) => CreateMode::EphemeralSequential,
        },
    };
    Ok((mode, ttl))
}
