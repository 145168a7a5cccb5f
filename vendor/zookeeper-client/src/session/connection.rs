use std::io::{Error, ErrorKind, IoSlice, Result};
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::buf::BufMut;
use ignore_result::Ignore;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufStream, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::{select, time};
use tracing::{debug, trace};

#[cfg(feature = "tls")]
mod tls {
    pub use std::sync::Arc;

    pub use rustls::pki_types::ServerName;
    pub use rustls::ClientConfig;
    pub use tokio_rustls::client::TlsStream;
    pub use tokio_rustls::TlsConnector;
}
#[cfg(feature = "tls")]
use tls::*;

use crate::deadline::Deadline;
use crate::endpoint::{EndpointRef, IterableEndpoints};

/// Patched for Net::ZooKeeper: a TCP stream whose writes never raise SIGPIPE. A
/// write to a server that closed the connection gives EPIPE (`sendmsg` with
/// `MSG_NOSIGNAL`) on whichever thread drives the runtime, also a Perl thread that
/// did not ignore SIGPIPE; the thread's signal mask is left alone.
#[derive(Debug)]
pub struct NoSigPipe(TcpStream);

impl NoSigPipe {
    fn poll_send(&self, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<Result<usize>> {
        loop {
            std::task::ready!(self.0.poll_write_ready(cx))?;
            // `try_io` clears the readiness on WouldBlock: the next poll waits.
            match self.0.try_io(Interest::WRITABLE, || send_no_signal(self.0.as_raw_fd(), bufs)) {
                Err(err) if err.kind() == ErrorKind::WouldBlock => continue,
                result => return Poll::Ready(result),
            }
        }
    }
}

/// `sendmsg(fd, bufs, MSG_NOSIGNAL)`.
fn send_no_signal(fd: RawFd, bufs: &[IoSlice<'_>]) -> Result<usize> {
    // SAFETY: an `IoSlice` has the layout of an `iovec` on Unix; the header points at
    // `bufs` only for the duration of the call.
    let sent = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = bufs.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = bufs.len().min(libc::UIO_MAXIOV as usize) as _;
        libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL)
    };
    usize::try_from(sent).map_err(|_| Error::last_os_error())
}

impl AsyncRead for NoSigPipe {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for NoSigPipe {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        self.poll_send(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<Result<usize>> {
        self.poll_send(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

#[derive(Debug)]
pub enum Connection {
    // Patched for Net::ZooKeeper: `NoSigPipe` (was `TcpStream`), here and below.
    Raw(NoSigPipe),
    // Patched for Net::ZooKeeper (memory): boxed, so that a plain connection and the
    // futures holding one are not sized by the TLS stream (about 1.1 KB).
    #[cfg(feature = "tls")]
    Tls(Box<TlsStream<NoSigPipe>>),
}

pub trait AsyncReadToBuf: AsyncReadExt {
    async fn read_to_buf(&mut self, buf: &mut impl BufMut) -> Result<usize>
    where
        Self: Unpin, {
        let chunk = buf.chunk_mut();
        let read_to =
            unsafe { std::mem::transmute::<&mut [std::mem::MaybeUninit<u8>], &mut [u8]>(chunk.as_uninit_slice_mut()) };
        let n = self.read(read_to).await?;
        if n != 0 {
            unsafe {
                buf.advance_mut(n);
            }
        }
        Ok(n)
    }
}

impl<T> AsyncReadToBuf for T where T: AsyncReadExt {}

impl AsyncRead for Connection {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<Result<()>> {
        match self.get_mut() {
            Self::Raw(stream) => Pin::new(stream).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Connection {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        match self.get_mut() {
            Self::Raw(stream) => Pin::new(stream).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<Result<usize>> {
        match self.get_mut() {
            Self::Raw(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream).poll_write_vectored(cx, bufs),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match self.get_mut() {
            Self::Raw(stream) => Pin::new(stream).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        match self.get_mut() {
            Self::Raw(stream) => Pin::new(stream).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Self::Tls(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}

pub struct ConnReader<'a> {
    conn: &'a mut Connection,
}

impl AsyncRead for ConnReader<'_> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_read(cx, buf)
    }
}

pub struct ConnWriter<'a> {
    conn: &'a mut Connection,
}

impl AsyncWrite for ConnWriter<'_> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize>> {
        Pin::new(&mut self.get_mut().conn).poll_write(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[IoSlice<'_>]) -> Poll<Result<usize>> {
        Pin::new(&mut self.get_mut().conn).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        Pin::new(&mut self.get_mut().conn).poll_shutdown(cx)
    }
}

impl Connection {
    pub fn new_raw(stream: TcpStream) -> Self {
        Self::Raw(NoSigPipe(stream))
    }

    pub fn split(&mut self) -> (ConnReader<'_>, ConnWriter<'_>) {
        let reader = ConnReader { conn: self };
        let writer = ConnWriter { conn: unsafe { std::ptr::read(&reader.conn) } };
        (reader, writer)
    }

    #[cfg(feature = "tls")]
    pub fn new_tls(stream: TlsStream<NoSigPipe>) -> Self {
        // Patched for Net::ZooKeeper (memory): boxed, see `Connection::Tls`.
        Self::Tls(Box::new(stream))
    }

    pub async fn command(self, cmd: &str) -> Result<String> {
        let mut stream = BufStream::new(self);
        stream.write_all(cmd.as_bytes()).await?;
        stream.flush().await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        stream.shutdown().await.ignore();
        Ok(line)
    }

    pub async fn command_isro(self) -> Result<bool> {
        let r = self.command("isro").await?;
        if r == "rw" {
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

#[derive(Clone)]
pub struct Connector {
    #[cfg(feature = "tls")]
    tls: Option<TlsConnector>,
    timeout: Duration,
}

impl Connector {
    #[cfg(feature = "tls")]
    #[allow(dead_code)]
    pub fn new() -> Self {
        Self { tls: None, timeout: Duration::from_secs(10) }
    }

    #[cfg(not(feature = "tls"))]
    pub fn new() -> Self {
        Self { timeout: Duration::from_secs(10) }
    }

    #[cfg(feature = "tls")]
    pub fn with_tls(config: ClientConfig) -> Self {
        Self { tls: Some(TlsConnector::from(Arc::new(config))), timeout: Duration::from_secs(10) }
    }

    /// A connector with the default TLS options (well-known CA roots), whose
    /// config is made once per process and shared. (Patched for Net::ZooKeeper
    /// (memory): the crate made a config, about 22 KB, for every session.)
    #[cfg(feature = "tls")]
    pub fn with_default_tls() -> std::result::Result<Self, crate::Error> {
        static DEFAULT: std::sync::OnceLock<TlsConnector> = std::sync::OnceLock::new();
        let tls = match DEFAULT.get() {
            Some(tls) => tls.clone(),
            None => {
                let config = crate::tls::TlsOptions::default().into_config()?;
                DEFAULT.get_or_init(|| TlsConnector::from(Arc::new(config))).clone()
            },
        };
        Ok(Self { tls: Some(tls), timeout: Duration::from_secs(10) })
    }

    #[cfg(feature = "tls")]
    async fn connect_tls(&self, stream: TcpStream, host: &str) -> Result<Connection> {
        let domain = ServerName::try_from(host).unwrap().to_owned();
        let stream = self.tls.as_ref().unwrap().connect(domain, NoSigPipe(stream)).await?;
        Ok(Connection::new_tls(stream))
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    pub async fn connect(&self, endpoint: EndpointRef<'_>, deadline: &mut Deadline) -> Result<Connection> {
        if endpoint.tls {
            #[cfg(feature = "tls")]
            if self.tls.is_none() {
                return Err(Error::new(ErrorKind::Unsupported, "tls not supported"));
            }
            #[cfg(not(feature = "tls"))]
            return Err(Error::new(ErrorKind::Unsupported, "tls not supported"));
        }
        select! {
            _ = unsafe { Pin::new_unchecked(deadline) } => Err(Error::new(ErrorKind::TimedOut, "deadline exceed")),
            _ = time::sleep(self.timeout) => Err(Error::new(ErrorKind::TimedOut, format!("connection timeout{:?} exceed", self.timeout))),
            r = TcpStream::connect((endpoint.host, endpoint.port)) => {
                match r {
                    Err(err) => Err(err),
                    Ok(sock) => {
                        let connection = if endpoint.tls {
                            #[cfg(not(feature = "tls"))]
                            unreachable!("tls not supported");
                            #[cfg(feature = "tls")]
                            self.connect_tls(sock, endpoint.host).await?
                        } else {
                            Connection::new_raw(sock)
                        };
                        Ok(connection)
                    },
                }
            },
        }
    }

    pub async fn seek_for_writable(self, endpoints: &mut IterableEndpoints) -> Option<EndpointRef<'_>> {
        let n = endpoints.len();
        let max_timeout = Duration::from_secs(60);
        let mut i = 0;
        let mut timeout = Duration::from_millis(100);
        let mut deadline = Deadline::never();
        while let Some(endpoint) = endpoints.peek() {
            i += 1;
            match self.connect(endpoint, &mut deadline).await {
                Ok(conn) => match conn.command_isro().await {
                    // Safety: https://github.com/rust-lang/rust/issues/74068
                    Ok(true) => {
                        return Some(unsafe { std::mem::transmute::<EndpointRef<'_>, EndpointRef<'_>>(endpoint) })
                    },
                    Ok(false) => trace!("succeeds to contact readonly {}", endpoint),
                    Err(err) => trace!(%err, r#"fails to complete "isro" to {}"#, endpoint),
                },
                Err(err) => trace!(%err, "fails to contact {}", endpoint),
            }
            endpoints.step();
            if i % n == 0 {
                debug!(
                    sleep = timeout.as_millis(),
                    "fails to contact writable server from endpoints {:?}",
                    endpoints.endpoints()
                );
                time::sleep(timeout).await;
                timeout = max_timeout.min(timeout * 2);
            } else {
                time::sleep(Duration::from_millis(5)).await;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use super::Connector;
    use crate::deadline::Deadline;
    use crate::endpoint::EndpointRef;

    #[tokio::test]
    async fn raw() {
        let connector = Connector::new();
        let endpoint = EndpointRef::new("host1", 2181, true);
        let err = connector.connect(endpoint, &mut Deadline::never()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
    }
}
