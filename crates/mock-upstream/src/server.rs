//! The accept loop, hand-rolled on hyper instead of `axum::serve` because two fault modes
//! need the raw socket: `reset` must drop the TCP connection with an RST (SO_LINGER 0) and
//! `close` with a FIN, both without writing a byte, and the benchmark counts connection
//! attempts. Each connection gets a `ConnectionHandle` (in the request extensions) through
//! which a handler can kill it; the connection task races hyper against that signal and
//! against server shutdown.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::app::ConnectionCounts;

/// Lets a handler end its own connection abruptly.
#[derive(Debug, Clone)]
pub struct ConnectionHandle(Arc<ConnectionControl>);

#[derive(Debug, Default)]
struct ConnectionControl {
    kill: Notify,
    reset: AtomicBool,
}

impl ConnectionHandle {
    /// Drop the connection with a TCP reset.
    pub fn reset(&self) {
        self.0.reset.store(true, Ordering::SeqCst);
        self.0.kill.notify_one();
    }

    /// Drop the connection with an orderly close.
    pub fn close(&self) {
        self.0.kill.notify_one();
    }
}

/// The socket, with a drop that turns the close into a reset when asked.
struct ConnectionIo {
    stream: TcpStream,
    control: Arc<ConnectionControl>,
}

impl Drop for ConnectionIo {
    fn drop(&mut self) {
        if self.control.reset.load(Ordering::SeqCst) {
            // SO_LINGER with a zero timeout makes close() send RST and discard unsent data.
            let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
        }
    }
}

impl AsyncRead for ConnectionIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnectionIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }
    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

/// Accepts until `cancel` fires, serving each connection with `app`.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    app: Router,
    connections: Arc<ConnectionCounts>,
    cancel: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        connections.accepted.fetch_add(1, Ordering::Relaxed);
        connections.open.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let (app, cancel, connections) = (app.clone(), cancel.clone(), connections.clone());
        tokio::spawn(async move {
            serve_connection(stream, app, cancel).await;
            connections.open.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

async fn serve_connection(stream: TcpStream, app: Router, cancel: CancellationToken) {
    let control = Arc::new(ConnectionControl::default());
    let io = TokioIo::new(ConnectionIo {
        stream,
        control: control.clone(),
    });
    let handle = ConnectionHandle(control.clone());
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(handle.clone());
        let app = app.clone();
        async move {
            let response = app.oneshot(request).await;
            Ok::<_, Infallible>(match response {
                Ok(r) => r,
                Err(never) => match never {},
            })
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .serve_connection(io, service);
    tokio::select! {
        _ = connection => {}
        _ = control.kill.notified() => {}
        _ = cancel.cancelled() => {}
    }
}
