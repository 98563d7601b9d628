//! The HTTP/1.1 accept loop. Each connection carries a [`ConnectionControl`] in its requests'
//! extensions so a handler can drop the connection without answering (the dropped-connection
//! fault), which a plain `axum::serve` cannot do.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tower::ServiceExt;

/// Lets a handler close the connection its request came on.
#[derive(Debug, Clone, Default)]
pub struct ConnectionControl(Arc<Notify>);

impl ConnectionControl {
    /// Closes the connection without an answer.
    pub fn drop_connection(&self) {
        self.0.notify_one();
    }
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, app: Router, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let control = ConnectionControl::default();
            let signal = control.0.clone();
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(control.clone());
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(e) = result {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                }
                () = signal.notified() => {
                    tracing::debug!(%peer, "connection dropped on purpose");
                }
            }
        });
    }
}
