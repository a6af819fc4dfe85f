//! End of input without losing answers: a transport wrapper that holds the
//! end of the client's input back until every request already read has
//! been answered.
//!
//! rmcp ends a session when its transport's input ends and then gives
//! handlers a few seconds to finish; a request still waiting for plugins to
//! load, or a call longer than that, would be cancelled unanswered. Piping
//! requests into `corral serve` and closing stdin is a normal way to use a
//! stdio server, so here the end of input is reported to rmcp only once no
//! request is pending. Each request stays bounded by its own limits (calls
//! by their timeout). A request the server sends to the client after its
//! input ended (elicitation, sampling, roots) can never be answered: it is
//! failed at once, so the call that asked fails rather than waits.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use rmcp::model::{ClientNotification, ErrorData, JsonRpcMessage, RequestId};
use rmcp::service::{RoleServer, RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use tokio::sync::Notify;

#[derive(Default)]
struct Pending {
    /// Client requests read and not yet answered.
    requests: HashSet<RequestId>,
    /// Requests sent to the client and not yet answered by it.
    asked: HashSet<RequestId>,
    input_ended: bool,
}

/// Wraps the transport of one stdio session.
pub(super) struct Draining<T> {
    inner: T,
    pending: Arc<Mutex<Pending>>,
    changed: Arc<Notify>,
}

impl<T> Draining<T> {
    pub(super) fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Arc::default(),
            changed: Arc::new(Notify::new()),
        }
    }

    fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What to hand rmcp after the input ended: a failure for a request the
    /// client can no longer answer, or the end once nothing is pending.
    fn after_input(&self) -> Option<Option<RxJsonRpcMessage<RoleServer>>> {
        let mut pending = self.pending();
        if let Some(id) = pending.asked.iter().next().cloned() {
            pending.asked.remove(&id);
            return Some(Some(JsonRpcMessage::error(
                ErrorData::internal_error("the client closed its input", None),
                Some(id),
            )));
        }
        pending.requests.is_empty().then_some(None)
    }
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for Draining<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        {
            let mut pending = self.pending();
            match &item {
                JsonRpcMessage::Response(r) => {
                    pending.requests.remove(&r.id);
                }
                JsonRpcMessage::Error(e) => {
                    if let Some(id) = &e.id {
                        pending.requests.remove(id);
                    }
                }
                JsonRpcMessage::Request(r) => {
                    pending.asked.insert(r.id.clone());
                }
                JsonRpcMessage::Notification(_) => {}
            }
        }
        self.changed.notify_one();
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        if !self.pending().input_ended {
            match self.inner.receive().await {
                Some(message) => {
                    let mut pending = self.pending();
                    match &message {
                        JsonRpcMessage::Request(r) => {
                            pending.requests.insert(r.id.clone());
                        }
                        JsonRpcMessage::Response(r) => {
                            pending.asked.remove(&r.id);
                        }
                        JsonRpcMessage::Error(e) => {
                            if let Some(id) = &e.id {
                                pending.asked.remove(id);
                            }
                        }
                        // A cancelled request is not answered (MCP).
                        JsonRpcMessage::Notification(n) => {
                            if let ClientNotification::CancelledNotification(c) = &n.notification
                                && let Some(id) = &c.params.request_id
                            {
                                pending.requests.remove(id);
                            }
                        }
                    }
                    return Some(message);
                }
                None => self.pending().input_ended = true,
            }
        }
        loop {
            let changed = self.changed.notified();
            if let Some(next) = self.after_input() {
                return next;
            }
            changed.await;
        }
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}
