use std::sync::Arc;

use hashbrown::HashMap;
use ignore_result::Ignore;
use tokio::sync::{mpsc, oneshot};

use super::depot::Depot;
use super::event::WatcherEvent;
use super::request::{Operation, SessionOperation, StateReceiver, StateResponser};
use super::types::{EventType, SessionState, WatchMode, WatchedEvent};
use crate::error::Error;
use crate::proto::{ErrorCode, OpCode, SetWatchesRequest};
use crate::util::{Ref, ToRef};

const SET_WATCHES_MAX_BYTES: usize = 128 * 1024;

#[derive(Debug, Copy, Clone, PartialEq, Eq, Hash)]
pub struct WatcherId(u64);

/// Patched for Net::ZooKeeper (memory per watch): where a one-shot watch's event goes
/// when the caller names it with the request (`Client::check_and_watch_stat_into` and
/// the like), instead of a channel per watch (about 100 bytes). `deliver` is called
/// once, in the session's task, with the event's type and the session's state; the
/// sink must not block.
pub trait OneshotSink: Send + Sync + std::fmt::Debug {
    fn deliver(&self, event_type: EventType, session_state: SessionState);
}

/// Patched for Net::ZooKeeper (memory per watch): a receiver names its path when it
/// asks for its removal, so the manager keeps no table from watcher to path (about
/// 40 bytes a watch), and the receiver shares the watch table's key.
pub type Unwatch = (WatcherId, Arc<str>, StateResponser);

impl WatcherId {
    pub fn new(id: u64) -> Self {
        WatcherId(id)
    }
}

#[derive(Debug)]
pub enum WatchReceiver {
    None,
    Oneshot(OneshotReceiver),
    Persistent(PersistentReceiver),
}

impl WatchReceiver {
    pub fn is_none(&self) -> bool {
        matches!(self, WatchReceiver::None)
    }
}

#[derive(Debug)]
pub struct OneshotReceiver {
    id: WatcherId,
    path: Arc<str>,
    unwatch: mpsc::UnboundedSender<Unwatch>,
    receiver: Option<oneshot::Receiver<WatchedEvent>>,
}

impl OneshotReceiver {
    pub fn new(
        id: WatcherId,
        path: Arc<str>,
        receiver: Option<oneshot::Receiver<WatchedEvent>>,
        unwatch: mpsc::UnboundedSender<Unwatch>,
    ) -> Self {
        OneshotReceiver { id, path, receiver, unwatch }
    }

    /// Patched for Net::ZooKeeper: the watched path (with the chroot).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Patched for Net::ZooKeeper: lets go of a watcher whose event went to its sink
    /// (the manager has forgotten it), without asking the session to remove it.
    pub fn delivered(self) {
        drop(unsafe { self.into_unwatch() });
    }

    unsafe fn into_unwatch(self) -> (mpsc::UnboundedSender<Unwatch>, Arc<str>) {
        let unwatch = std::ptr::read(&self.unwatch);
        let path = std::ptr::read(&self.path);
        std::ptr::read(&self.receiver);
        std::mem::forget(self);
        (unwatch, path)
    }

    pub async fn recv(mut self) -> WatchedEvent {
        // Patched for Net::ZooKeeper: a watch whose event goes to a sink never
        // receives here.
        let Some(receiver) = self.receiver.take() else { return std::future::pending().await };
        let event = receiver.await.unwrap();
        unsafe { self.into_unwatch() };
        event
    }

    pub async fn remove(self) -> Result<(), Error> {
        let id = self.id;
        let (unwatch, path) = unsafe { self.into_unwatch() };
        let (sender, receiver) = oneshot::channel();
        unwatch.send((id, path, StateResponser::new(sender))).ignore();
        let receiver = StateReceiver::new(OpCode::RemoveWatches, receiver);
        receiver.await?;
        Ok(())
    }
}

impl Drop for OneshotReceiver {
    fn drop(&mut self) {
        self.unwatch.send((self.id, self.path.clone(), Default::default())).ignore();
    }
}

#[derive(Debug)]
pub struct PersistentReceiver {
    id: WatcherId,
    path: Arc<str>,
    unwatch: mpsc::UnboundedSender<Unwatch>,
    receiver: mpsc::UnboundedReceiver<WatchedEvent>,
}

impl PersistentReceiver {
    pub fn new(
        id: WatcherId,
        path: Arc<str>,
        receiver: mpsc::UnboundedReceiver<WatchedEvent>,
        unwatch: mpsc::UnboundedSender<Unwatch>,
    ) -> Self {
        PersistentReceiver { id, path, receiver, unwatch }
    }

    unsafe fn into_unwatch(self) -> (mpsc::UnboundedSender<Unwatch>, Arc<str>) {
        let unwatch = std::ptr::read(&self.unwatch);
        let path = std::ptr::read(&self.path);
        std::ptr::read(&self.receiver);
        std::mem::forget(self);
        (unwatch, path)
    }

    pub async fn recv(&mut self) -> WatchedEvent {
        self.receiver.recv().await.unwrap()
    }

    pub async fn remove(self) -> Result<(), Error> {
        let id = self.id;
        let (unwatch, path) = unsafe { self.into_unwatch() };
        let (sender, receiver) = oneshot::channel();
        unwatch.send((id, path, StateResponser::new(sender))).ignore();
        let receiver = StateReceiver::new(OpCode::RemoveWatches, receiver);
        receiver.await?;
        Ok(())
    }
}

impl Drop for PersistentReceiver {
    fn drop(&mut self) {
        self.unwatch.send((self.id, self.path.clone(), Default::default())).ignore();
    }
}

enum WatchSender {
    Oneshot(oneshot::Sender<WatchedEvent>),
    /// Patched for Net::ZooKeeper: a one-shot watch delivering to a sink.
    Sink(Arc<dyn OneshotSink>),
    Persistent(mpsc::UnboundedSender<WatchedEvent>),
}

impl WatchSender {
    fn get_persistent(&self) -> &mpsc::UnboundedSender<WatchedEvent> {
        if let WatchSender::Persistent(sender) = self {
            sender
        } else {
            unreachable!("not persistent sender")
        }
    }
}

struct Watch {
    watchers: Vec<Watcher>,
}

impl Watch {
    fn new() -> Self {
        // Patched for Net::ZooKeeper (memory per watch): room for one watcher (was 5,
        // 128 bytes more for each watched path); a second one grows it to 4.
        Watch { watchers: Vec::with_capacity(1) }
    }

    fn is_empty(&self) -> bool {
        self.watchers.is_empty()
    }

    fn should_cache(&self) -> bool {
        self.watchers.capacity() <= 0x10
    }

    fn iter(&self) -> std::slice::Iter<'_, Watcher> {
        self.watchers.iter()
    }

    fn has_mode(&self, mode: WatchMode) -> bool {
        self.watchers.iter().any(|watch| watch.kind.into_remove_mode() == mode)
    }

    fn remove_watcher(&mut self, id: WatcherId) -> Option<Watcher> {
        if let Some(i) = self.watchers.iter().position(|watch| watch.id == id) {
            Some(self.watchers.swap_remove(i))
        } else {
            None
        }
    }

    fn send(&mut self, event: &WatcherEvent) {
        for i in (0..self.watchers.len()).rev() {
            let watcher = &self.watchers[i];
            if !watcher.interest(event) {
                continue;
            }
            if let WatchSender::Persistent(sender) = &watcher.sender {
                sender.send(event.to_value()).ignore();
                continue;
            }
            // Patched for Net::ZooKeeper: a one-shot watch delivers to its channel or
            // its sink.
            match self.watchers.swap_remove(i).sender {
                WatchSender::Oneshot(sender) => sender.send(event.to_value()).ignore(),
                WatchSender::Sink(sink) => sink.deliver(event.event_type, event.session_state),
                WatchSender::Persistent(_) => unreachable!("persistent sender"),
            }
        }
    }

    fn add(&mut self, watcher: Watcher) {
        self.watchers.push(watcher);
    }
}

// Patched for Net::ZooKeeper (memory per watch): the paths are shared with the
// receivers (`Arc<str>`), there is no table from watcher to path (`Unwatch`), and
// no cache of path strings (a cached path could still be a receiver's).
pub struct WatchManager {
    next_watcher_id: u64,
    watches: HashMap<Arc<str>, Watch>,

    // Usually, oneshot watches are repeated on same paths.
    cached_watches: Vec<Watch>,

    unwatch_sender: mpsc::UnboundedSender<Unwatch>,
}

impl WatchManager {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Unwatch>) {
        let (unwatch_sender, unwatch_receiver) = mpsc::unbounded_channel();
        // Patched for Net::ZooKeeper (memory; the crate pre-sized them, about 22 KB):
        // the tables are allocated on first use.
        let manager =
            WatchManager { cached_watches: Vec::new(), next_watcher_id: 1, watches: HashMap::new(), unwatch_sender };
        (manager, unwatch_receiver)
    }

    fn new_watcher_id(&mut self) -> WatcherId {
        let id = self.next_watcher_id;
        self.next_watcher_id = id + 1;
        WatcherId::new(id)
    }

    /// Adds the watcher to the path's watch; the path as the table keeps it.
    fn add_watch(&mut self, path: &str, watcher: Watcher) -> Arc<str> {
        if let Some((path, watch)) = self.watches.get_key_value_mut(path) {
            watch.add(watcher);
            return path.clone();
        }
        let path: Arc<str> = Arc::from(path);
        let mut watch = self.cached_watches.pop().unwrap_or_else(Watch::new);
        watch.add(watcher);
        self.watches.insert(path.clone(), watch);
        path
    }

    fn add_oneshot_watch(
        &mut self,
        path: &str,
        kind: WatcherKind,
        sink: Option<Arc<dyn OneshotSink>>,
    ) -> OneshotReceiver {
        let id = self.new_watcher_id();
        // Patched for Net::ZooKeeper: no channel for a watch with a sink.
        let (sender, receiver) = match sink {
            Some(sink) => (WatchSender::Sink(sink), None),
            None => {
                let (sender, receiver) = oneshot::channel();
                (WatchSender::Oneshot(sender), Some(receiver))
            },
        };
        let watcher = Watcher { id, kind, sender };
        let path = self.add_watch(path, watcher);
        OneshotReceiver::new(id, path, receiver, self.unwatch_sender.clone())
    }

    fn add_persistent_watch(&mut self, path: &str, kind: WatcherKind) -> PersistentReceiver {
        let id = self.new_watcher_id();
        let (sender, receiver) = mpsc::unbounded_channel();
        let watcher = Watcher { id, kind, sender: WatchSender::Persistent(sender) };
        let path = self.add_watch(path, watcher);
        PersistentReceiver::new(id, path, receiver, self.unwatch_sender.clone())
    }

    // Patched for Net::ZooKeeper: `sink`, the one-shot watch's sink if its request
    // named one (see `OneshotSink`).
    pub fn create_watcher(
        &mut self,
        path: &str,
        watch_mode: WatchMode,
        op_code: OpCode,
        rc: ErrorCode,
        sink: Option<Arc<dyn OneshotSink>>,
    ) -> WatchReceiver {
        if rc != ErrorCode::Ok {
            if rc == ErrorCode::NoNode && op_code == OpCode::Exists {
                return WatchReceiver::Oneshot(self.add_oneshot_watch(path, WatcherKind::Exist, sink));
            }
            return WatchReceiver::None;
        }
        if op_code == OpCode::GetData || op_code == OpCode::Exists {
            return WatchReceiver::Oneshot(self.add_oneshot_watch(path, WatcherKind::Data, sink));
        } else if op_code == OpCode::GetChildren || op_code == OpCode::GetChildren2 {
            return WatchReceiver::Oneshot(self.add_oneshot_watch(path, WatcherKind::Child, sink));
        }
        if watch_mode == WatchMode::PersistentNode {
            return WatchReceiver::Persistent(self.add_persistent_watch(path, WatcherKind::PersistentNode));
        }
        assert!(watch_mode == WatchMode::PersistentRecursive);
        WatchReceiver::Persistent(self.add_persistent_watch(path, WatcherKind::PersistentRecursive))
    }

    fn remove_watches(&mut self, path: &str) {
        let watch = self.watches.remove(path).unwrap();
        if watch.should_cache() {
            self.cached_watches.push(watch);
        }
    }

    pub fn dispatch_session_state(&mut self, state: SessionState) {
        let _event = WatchedEvent::new_session(state);
        let event = _event.to_ref();
        self.watches.values_mut().for_each(|watch| {
            watch.send(&event);
        });
        if event.session_state.is_terminated() {
            self.watches.clear();
        }
    }

    pub fn dispatch_server_event(&mut self, event: WatcherEvent, depot: &mut Depot) {
        use EventType::*;
        match event.event_type {
            NodeCreated | NodeDeleted | NodeDataChanged | NodeChildrenChanged => self.dispatch_path_event(event, depot),
            _ => unreachable!("unexpected server watch event {:?}", event),
        }
    }

    fn dispatch_path_event(&mut self, event: WatcherEvent, depot: &mut Depot) {
        let mut path = event.path;
        let mut has_watch = false;
        if let Some(watch) = self.watches.get_mut(path) {
            watch.send(&event);
            if watch.is_empty() {
                self.remove_watches(path);
            }
            has_watch = true;
        }
        let is_children_event = event.event_type == EventType::NodeChildrenChanged;
        while !is_children_event && path.len() > 1 {
            let i = path.rfind('/').unwrap_or(0).max(1);
            path = unsafe { path.get_unchecked(..i) };
            if let Some(watch) = self.watches.get_mut(path) {
                for watcher in watch.iter().filter(|watcher| watcher.kind == WatcherKind::PersistentRecursive) {
                    watcher.sender.get_persistent().send(event.to_value()).ignore();
                    has_watch = true;
                }
            }
        }
        if !has_watch {
            // Probably a dangling persistent watcher.
            depot.push_remove_watch(event.path, WatchMode::Any, StateResponser::none());
        }
    }

    fn try_remove_watcher(&mut self, watcher_id: WatcherId, path: &str, depot: &Depot) -> Option<WatchMode> {
        let watch = self.watches.get_mut(path)?;
        let watcher = watch.remove_watcher(watcher_id)?;
        let mut mode = watcher.kind.into_remove_mode();
        if watch.is_empty() {
            self.remove_watches(path);
            if mode != WatchMode::Any && !depot.has_watching_requests(path) {
                mode = WatchMode::Any;
            }
        } else if mode == WatchMode::Any || watch.has_mode(mode) {
            return None;
        }
        Some(mode)
    }

    pub fn remove_watcher(&mut self, (watcher_id, path, responser): Unwatch, depot: &mut Depot) {
        if let Some(mode) = self.try_remove_watcher(watcher_id, &path, depot) {
            depot.push_remove_watch(&path, mode, responser);
        } else {
            responser.send_empty();
        }
    }

    fn send_and_clear_watches(&self, last_zxid: i64, paths: &mut [Vec<&str>; 5], i: usize, depot: &mut Depot) {
        let (n, op_code) = if i <= 2 { (3, OpCode::SetWatches) } else { (5, OpCode::SetWatches2) };
        let request = SetWatchesRequest { relative_zxid: last_zxid, paths: &paths[..n] };
        let operation = SessionOperation::new(op_code, &request);
        depot.push_operation(Operation::Session(operation));
        paths[..=i].iter_mut().for_each(|v| v.clear());
    }

    pub fn resend_watches(&self, last_zxid: i64, depot: &mut Depot) {
        if self.watches.is_empty() {
            return;
        }
        let mut paths = [vec![], vec![], vec![], vec![], vec![]];
        let mut index = 0;
        let mut bytes = 0;
        for (path, watch) in self.watches.iter() {
            let mut contains = [false; 5];
            for watcher in watch.iter() {
                let i = watcher.kind.set_watches_index();
                if !contains[i] {
                    contains[i] = true;
                    paths[i].push(&**path);
                    // Patched for Net::ZooKeeper: was `index.max(index)`, so the request
                    // stayed SetWatches (three lists) and persistent watches were not set
                    // again after a reconnection.
                    index = index.max(i);
                    bytes += path.len();
                    if bytes > SET_WATCHES_MAX_BYTES {
                        self.send_and_clear_watches(last_zxid, &mut paths, index, depot);
                        index = 0;
                        bytes = 0;
                    }
                }
            }
        }
        if bytes != 0 {
            self.send_and_clear_watches(last_zxid, &mut paths, index, depot);
        }
    }
}

struct Watcher {
    id: WatcherId,
    kind: WatcherKind,
    sender: WatchSender,
}

impl Watcher {
    fn interest(&self, event: &WatcherEvent) -> bool {
        use EventType::*;
        match event.event_type {
            NodeCreated | NodeDataChanged => self.kind != WatcherKind::Child,
            NodeChildrenChanged => self.kind == WatcherKind::Child || self.kind == WatcherKind::PersistentNode,
            NodeDeleted => true,
            Session => event.session_state.is_terminated() || self.kind.is_persistent(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatcherKind {
    Data,
    Exist,
    Child,
    PersistentNode,
    PersistentRecursive,
}

impl From<WatcherKind> for WatchMode {
    fn from(kind: WatcherKind) -> Self {
        match kind {
            WatcherKind::Data | WatcherKind::Exist => WatchMode::Data,
            WatcherKind::Child => WatchMode::Child,
            WatcherKind::PersistentNode => WatchMode::PersistentNode,
            WatcherKind::PersistentRecursive => WatchMode::PersistentRecursive,
        }
    }
}

impl WatcherKind {
    fn is_persistent(self) -> bool {
        use WatcherKind::*;
        matches!(self, PersistentNode | PersistentRecursive)
    }

    fn set_watches_index(self) -> usize {
        use WatcherKind::*;
        match self {
            Data => 0,
            Exist => 1,
            Child => 2,
            PersistentNode => 3,
            PersistentRecursive => 4,
        }
    }

    fn into_remove_mode(self) -> WatchMode {
        use WatcherKind::*;
        match self {
            Data | Exist => WatchMode::Data,
            Child => WatchMode::Child,
            PersistentNode | PersistentRecursive => WatchMode::Any,
        }
    }
}
