//! Transactions and read batches: a list of operations sent to the server as one
//! request.
//!
//! A transaction (`multi()`, ZooKeeper 3.4) applies all its operations or none of
//! them. A read batch (`multi_read()`, ZooKeeper 3.6) reads its nodes as of one point
//! of the server's history, and each of its reads fails on its own. An operation is
//! made of its name, its fixed arguments (a path, and data for create and set) and its
//! options, which are read with the options builder (one [`NzkMethod`] per operation),
//! so that every operation is checked before anything is sent.
//!
//! For a failed transaction the server (3.8, as seen on the wire) answers ZOK for each
//! operation before the failing one, that one's code, and ZRUNTIMEINCONSISTENCY for
//! each one after it. The client crate reports the failing operation only; the others
//! get the codes the server sent. An empty transaction or batch, which the server
//! answers with success, is not sent (the call still needs the session, as every call
//! does).

use std::cmp::Ordering;

use zookeeper_client::{MultiReadResult, MultiWriteError, MultiWriteResult, MultiWriter};

use crate::error::{self, ZMARSHALLINGERROR, ZOK, ZRUNTIMEINCONSISTENCY};
use std::sync::Arc;

use zookeeper_client::Client;

use crate::calls::{read_len, CreateSpec, Request};
use crate::dispatch::Values;
use crate::handle::{CallResult, Handle};
use crate::message;
use crate::options::{NzkMethod, Options};
use crate::stat::Stat;

/// The call a batch of operations is for.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NzkMultiKind {
    /// `multi()`: create, delete, set and check, all or nothing.
    Write,
    /// `multi_read()`: get and `get_children`, each on its own.
    Read,
}

/// One kind of operation: its name, the call that takes it, the method of its options
/// and how many fixed arguments follow its name.
struct Kind {
    name: &'static str,
    call: NzkMultiKind,
    method: NzkMethod,
    args: usize,
}

const KINDS: &[Kind] = &[
    Kind { name: "create", call: NzkMultiKind::Write, method: NzkMethod::MultiCreate, args: 2 },
    Kind { name: "delete", call: NzkMultiKind::Write, method: NzkMethod::MultiDelete, args: 1 },
    Kind { name: "set", call: NzkMultiKind::Write, method: NzkMethod::MultiSet, args: 2 },
    Kind { name: "check", call: NzkMultiKind::Write, method: NzkMethod::MultiCheck, args: 1 },
    Kind { name: "get", call: NzkMultiKind::Read, method: NzkMethod::MultiGet, args: 1 },
    Kind { name: "get_children", call: NzkMultiKind::Read, method: NzkMethod::MultiGetChildren, args: 1 },
];

/// One operation, as given: path, data (empty for those without) and options.
pub struct Op {
    path: Vec<u8>,
    data: Vec<u8>,
    opts: Options,
}

impl Op {
    /// The operation's name (`create`, `get`...).
    pub fn name(&self) -> &'static str {
        KINDS.iter().find(|kind| kind.method == self.opts.method).map_or("", |kind| kind.name)
    }
}

/// The operations of one `multi()` or `multi_read()` call.
pub struct Multi {
    call: NzkMultiKind,
    ops: Vec<Op>,
}

// SAFETY: what makes options neither `Send` nor `Sync` is never set in an operation's
// options: no operation takes a stat, watch or callback option (see
// `options::option`), so a batch holds owned values only and can be sent and shared.
unsafe impl Send for Op {}
unsafe impl Sync for Op {}

impl Multi {
    pub fn new(call: NzkMultiKind) -> Multi {
        Multi { call, ops: Vec::new() }
    }

    /// The method of the options and the number of fixed arguments of the operation
    /// named `name` (matched regardless of case, as option names are).
    ///
    /// # Errors
    /// `invalid transaction operation: <name>` for a name this call does not take.
    pub fn operation(&self, name: &[u8]) -> Result<(NzkMethod, usize), Vec<u8>> {
        KINDS
            .iter()
            .find(|kind| kind.call == self.call && kind.name.as_bytes().eq_ignore_ascii_case(name))
            .map(|kind| (kind.method, kind.args))
            .ok_or_else(|| message::invalid_operation(name))
    }

    /// Adds an operation; its options' method says which.
    ///
    /// # Errors
    /// [`message::INVALID_OPERATION`] for options of a method that is not one of this
    /// call's operations.
    pub fn push(&mut self, path: &[u8], data: &[u8], opts: Options) -> Result<(), &'static str> {
        if !KINDS.iter().any(|kind| kind.call == self.call && kind.method == opts.method) {
            return Err(message::INVALID_OPERATION);
        }
        self.ops.push(Op { path: path.to_vec(), data: data.to_vec(), opts });
        Ok(())
    }

    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The operations, moved out (the batch is left empty).
    #[must_use]
    pub fn take(&mut self) -> Multi {
        Multi { call: self.call, ops: std::mem::take(&mut self.ops) }
    }

    /// Each operation's name and reply: when the call failed as a whole (no
    /// connection, timeout, session over) each reply has its code.
    pub fn replies(&self, replies: CallResult<Vec<Reply>>) -> Vec<(&'static str, Reply)> {
        let names = self.ops.iter().map(Op::name);
        match replies {
            Ok(replies) => names.zip(replies).collect(),
            Err(code) => names.map(|name| (name, Reply::Failed(code))).collect(),
        }
    }

    /// The batch as a call's request (the operations move into it; the call's
    /// result is ZOK or the code of the first failure: in a transaction, the
    /// failing operation's).
    pub fn into_request(self, handle: Arc<Handle>) -> Batch {
        Batch { multi: self, handle }
    }
}

/// What one operation gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    /// create: the path made (truncated to the path read length).
    Created(Vec<u8>),
    Deleted,
    /// set: the node's new stat.
    Set(Stat),
    Checked,
    /// get: the data (truncated to the data read length; `None` for null data) and
    /// the stat.
    Data(Option<Vec<u8>>, Stat),
    /// `get_children`: the names of the children.
    Children(Vec<String>),
    /// The operation did not take effect: the code it failed with, or, in a failed
    /// transaction, ZOK or ZRUNTIMEINCONSISTENCY for the operations before or after
    /// the failing one.
    Failed(i32),
}

impl Reply {
    pub fn code(&self) -> i32 {
        match self {
            Reply::Failed(code) => *code,
            _ => ZOK,
        }
    }
}

/// The code of the first failure among the replies, else ZOK.
fn first_failure<'a>(replies: impl IntoIterator<Item = &'a Reply>) -> i32 {
    replies.into_iter().map(Reply::code).find(|&code| code != ZOK).unwrap_or(ZOK)
}

/// A transaction's operation, checked as the C client checks it before anything is
/// sent.
enum Write<'a> {
    Create { path: String, data: &'a [u8], spec: CreateSpec },
    Delete { path: String, version: Option<i32> },
    Set { path: String, data: &'a [u8], version: Option<i32> },
    Check { path: String, version: i32 },
}

impl<'a> Write<'a> {
    /// # Errors
    /// ZBADARGUMENTS for a path the C client refuses, or a TTL that does not go with
    /// the create mode.
    fn new(op: &'a Op) -> CallResult<Write<'a>> {
        let opts = &op.opts;
        let path = |sequence| Handle::checked_path("zoo_multi", &op.path, sequence);
        let version = (opts.version >= 0).then_some(opts.version);
        Ok(match opts.method {
            NzkMethod::MultiCreate => {
                let spec = CreateSpec::new(opts)?;
                Write::Create { path: path(spec.sequence)?, data: &op.data, spec }
            }
            NzkMethod::MultiDelete => Write::Delete { path: path(false)?, version },
            NzkMethod::MultiSet => Write::Set { path: path(false)?, data: &op.data, version },
            // MultiCheck: `Multi::push` lets only a transaction's operations in. The
            // server takes -1 for any version.
            _ => Write::Check { path: path(false)?, version: opts.version },
        })
    }

    /// # Errors
    /// What the client refuses to send (an empty ACL, the root to delete...).
    fn add_to(&self, writer: &mut MultiWriter<'_>) -> Result<(), zookeeper_client::Error> {
        match self {
            Write::Create { path, data, spec } => writer.add_create(path, data, &spec.options()),
            Write::Delete { path, version } => writer.add_delete(path, *version),
            Write::Set { path, data, version } => writer.add_set_data(path, data, *version),
            Write::Check { path, version } => writer.add_check_version(path, *version),
        }
    }
}

/// How a transaction ended: committed, with one result per operation, or refused at
/// the operation of this index with this code.
type Outcome = Result<Vec<MultiWriteResult>, (usize, i32)>;

/// The request of a `multi()` or `multi_read()`.
pub struct Batch {
    multi: Multi,
    handle: Arc<Handle>,
}

impl Request for Batch {
    /// Each operation's name and reply.
    type Reply = Vec<(&'static str, Reply)>;
    const CALL: &'static str = "multi";

    async fn send(self, client: Arc<Client>) -> CallResult<Self::Reply> {
        let replies = self.handle.send_batch(client, &self.multi).await;
        Ok(self.multi.replies(replies))
    }

    fn name(&self) -> &'static str {
        match self.multi.call {
            NzkMultiKind::Write => "multi",
            NzkMultiKind::Read => "multi_read",
        }
    }

    fn code(reply: &Self::Reply) -> i32 {
        first_failure(reply.iter().map(|(_, reply)| reply))
    }

    fn values(reply: Self::Reply) -> Values {
        Values::Ops(reply)
    }
}

impl Handle {
    /// Sends a batch's operations as one request.
    async fn send_batch(&self, client: Arc<Client>, multi: &Multi) -> CallResult<Vec<Reply>> {
        match multi.call {
            NzkMultiKind::Write => self.multi(client, &multi.ops).await,
            NzkMultiKind::Read => self.multi_read(client, &multi.ops).await,
        }
    }

    /// Commits a transaction: all its operations, or none. One reply per operation.
    /// When an operation fails (refused by the client, as the C client would, or by
    /// the server), nothing is sent or nothing changed, and the replies are what the
    /// server answers: ZOK before the failing operation, its code,
    /// ZRUNTIMEINCONSISTENCY after it.
    ///
    /// # Errors
    /// The code of a failure of the call as a whole (see [`CallResult`]).
    async fn multi(&self, client: Arc<Client>, ops: &[Op]) -> CallResult<Vec<Reply>> {
        let checked: Result<Vec<Write>, (usize, i32)> =
            ops.iter().enumerate().map(|(index, op)| Write::new(op).map_err(|code| (index, code))).collect();
        let outcome: Outcome = match checked {
            Err(refused) => Err(refused),
            Ok(ops) => {
                async move {
                    let mut writer = client.new_multi_writer();
                    for (index, op) in ops.iter().enumerate() {
                        if let Err(err) = op.add_to(&mut writer) {
                            return Ok(Err((index, error::code_of(&err))));
                        }
                    }
                    match writer.commit().await {
                        Ok(results) => Ok(Ok(results)),
                        Err(MultiWriteError::OperationFailed { index, source }) => {
                            Ok(Err((index, error::code_of(&source))))
                        }
                        Err(MultiWriteError::RequestFailed { source }) => Err(error::code_of(&source)),
                    }
                }
                .await?
            }
        };
        Ok(match outcome {
            Err((failed, code)) => (0..ops.len())
                .map(|index| {
                    Reply::Failed(match index.cmp(&failed) {
                        Ordering::Less => ZOK,
                        Ordering::Equal => code,
                        Ordering::Greater => ZRUNTIMEINCONSISTENCY,
                    })
                })
                .collect(),
            Ok(results) => {
                let mut results = results.into_iter();
                ops.iter()
                    .map(|op| results.next().map_or(Reply::Failed(ZMARSHALLINGERROR), |r| self.written(op, r)))
                    .collect()
            }
        })
    }

    fn written(&self, op: &Op, result: MultiWriteResult) -> Reply {
        match result {
            MultiWriteResult::Create { path, .. } => {
                let mut path = path.into_bytes();
                path.truncate(read_len(op.opts.path_read_len, &self.path_read_len));
                Reply::Created(path)
            }
            MultiWriteResult::Delete => Reply::Deleted,
            MultiWriteResult::SetData { stat } => Reply::Set(Stat::from(&stat)),
            MultiWriteResult::Check => Reply::Checked,
            _ => Reply::Failed(ZMARSHALLINGERROR),
        }
    }

    /// Reads nodes as of one point of the server's history. One reply per operation:
    /// a path the C client would refuse gives ZBADARGUMENTS and is not sent (as with
    /// `get_many`), a node that cannot be read gives the server's code.
    ///
    /// # Errors
    /// The code of a failure of the call as a whole (see [`CallResult`]).
    async fn multi_read(&self, client: Arc<Client>, ops: &[Op]) -> CallResult<Vec<Reply>> {
        let checked: Vec<CallResult<String>> =
            ops.iter().map(|op| Self::checked_path("zoo_multi_read", &op.path, false)).collect();
        let valid: Vec<(&str, NzkMethod)> = ops
            .iter()
            .zip(&checked)
            .filter_map(|(op, path)| path.as_deref().ok().map(|path| (path, op.opts.method)))
            .collect();
        let read = async move {
            let mut reader = client.new_multi_reader();
            let added: Vec<CallResult<()>> = valid
                .iter()
                .map(|&(path, method)| match method {
                    NzkMethod::MultiGetChildren => reader.add_get_children(path),
                    _ => reader.add_get_data(path),
                })
                .map(|added| added.map_err(|err| error::code_of(&err)))
                .collect();
            Ok::<_, i32>((added, reader.commit().await.map_err(|err| error::code_of(&err))?))
        };
        let (added, results) = read.await?;
        let (mut added, mut results) = (added.into_iter(), results.into_iter());
        Ok(ops
            .iter()
            .zip(checked)
            .map(|(op, path)| match path.and_then(|_| added.next().unwrap_or(Err(ZMARSHALLINGERROR))) {
                Err(code) => Reply::Failed(code),
                Ok(()) => results.next().map_or(Reply::Failed(ZMARSHALLINGERROR), |r| self.read(op, r)),
            })
            .collect())
    }

    fn read(&self, op: &Op, result: MultiReadResult) -> Reply {
        match result {
            MultiReadResult::Data { mut data, stat, null } => {
                data.truncate(read_len(op.opts.data_read_len, &self.data_read_len));
                Reply::Data((!null).then_some(data), Stat::from(&stat))
            }
            MultiReadResult::Children { children } => Reply::Children(children),
            MultiReadResult::Error { err } => Reply::Failed(error::code_of(&err)),
            _ => Reply::Failed(ZMARSHALLINGERROR),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_takes_its_own_operations() {
        let write = Multi::new(NzkMultiKind::Write);
        assert_eq!(write.operation(b"CREATE"), Ok((NzkMethod::MultiCreate, 2)));
        assert_eq!(write.operation(b"check"), Ok((NzkMethod::MultiCheck, 1)));
        assert_eq!(write.operation(b"get").unwrap_err(), b"invalid transaction operation: get");
        let read = Multi::new(NzkMultiKind::Read);
        assert_eq!(read.operation(b"get_children"), Ok((NzkMethod::MultiGetChildren, 1)));
        assert_eq!(read.operation(b"set\0x").unwrap_err(), b"invalid transaction operation: set\0x");
    }

    #[test]
    fn options_of_another_call_are_refused() {
        let mut write = Multi::new(NzkMultiKind::Write);
        assert!(write.push(b"/a", b"", Options::new(NzkMethod::MultiGet)).is_err());
        assert!(write.push(b"/a", b"", Options::new(NzkMethod::Create)).is_err());
        assert!(write.push(b"/a", b"x", Options::new(NzkMethod::MultiSet)).is_ok());
        assert_eq!(write.ops()[0].name(), "set");
    }

    #[test]
    fn the_first_failure_is_the_result() {
        assert_eq!(first_failure(&[]), ZOK);
        assert_eq!(first_failure(&[Reply::Checked, Reply::Deleted]), ZOK);
        let failed = [Reply::Failed(ZOK), Reply::Failed(error::ZNONODE), Reply::Failed(ZRUNTIMEINCONSISTENCY)];
        assert_eq!(first_failure(&failed), error::ZNONODE);
    }
}
