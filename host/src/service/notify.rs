//! The relay of one call's log and progress reports to its client.
#![allow(deprecated)] // rmcp marks logging as deprecated (SEP-2577); 2025-11-25 clients use it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{LoggingMessageNotificationParam, ProgressNotificationParam, ProgressToken};
use rmcp::{Peer, RoleServer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::Exchange;
use crate::model::LogLevel;
use crate::protocol;
use crate::provider::{CallContext, CallObserver};

/// Notifications one call may have queued for the client before more are dropped.
pub const MAX_QUEUED_NOTIFICATIONS: usize = 256;

enum Notification {
    Log(LoggingMessageNotificationParam),
    Progress(ProgressNotificationParam),
}

/// Relays one call's log and progress reports to the client, in order, through
/// a bounded queue (reports past [`MAX_QUEUED_NOTIFICATIONS`] are dropped).
/// The relay task starts on the first report.
pub(super) struct Notifier {
    peer: Peer<RoleServer>,
    progress_token: Option<ProgressToken>,
    min_level: u8,
    queue: Mutex<Option<(mpsc::Sender<Notification>, JoinHandle<()>)>>,
    /// Reports dropped because the queue was full.
    dropped: AtomicUsize,
}

impl Notifier {
    /// A relay for one call of `exchange`, and the call's context with it
    /// as the observer.
    pub(super) fn attach(exchange: &Exchange) -> (CallContext, Arc<Notifier>) {
        let notifier = Arc::new(Notifier {
            peer: exchange.peer.clone(),
            progress_token: exchange.progress_token.clone(),
            min_level: exchange.min_level,
            queue: Mutex::new(None),
            dropped: AtomicUsize::new(0),
        });
        let ctx = CallContext {
            cancel: exchange.cancel.clone(),
            observer: Some(notifier.clone()),
            asker: super::input::asker(exchange),
            as_task: false,
            usage: Arc::default(),
        };
        (ctx, notifier)
    }

    fn send(&self, notification: Notification) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        let (sender, _) = queue.get_or_insert_with(|| {
            let (sender, mut receiver) = mpsc::channel(MAX_QUEUED_NOTIFICATIONS);
            let peer = self.peer.clone();
            let relay = tokio::spawn(async move {
                while let Some(notification) = receiver.recv().await {
                    let sent = match notification {
                        Notification::Log(n) => peer.notify_logging_message(n).await,
                        Notification::Progress(n) => peer.notify_progress(n).await,
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
            (sender, relay)
        });
        if sender.try_send(notification).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!("notification queue full; a plugin report was dropped");
        }
    }

    /// Wait until every queued report has been handed to the transport, so
    /// they reach the client before the call's result.
    pub(super) async fn flush(&self) {
        let dropped = self.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            tracing::warn!(
                "{dropped} notifications for a slow client were dropped (the queue holds {MAX_QUEUED_NOTIFICATIONS} per call)"
            );
        }
        let queued = self.queue.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((sender, relay)) = queued {
            drop(sender);
            let _ = relay.await;
        }
    }
}

impl CallObserver for Notifier {
    fn log(&self, level: LogLevel, provider: &str, message: &str) {
        if (level as u8) < self.min_level {
            return;
        }
        let mut param =
            LoggingMessageNotificationParam::new(protocol::logging_level(level), message.into());
        param.logger = Some(provider.to_owned());
        self.send(Notification::Log(param));
    }

    fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let Some(token) = &self.progress_token else {
            return;
        };
        let mut param = ProgressNotificationParam::new(token.clone(), progress);
        param.total = total;
        param.message = message.map(str::to_owned);
        self.send(Notification::Progress(param));
    }
}
