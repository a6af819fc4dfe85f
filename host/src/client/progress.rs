//! Routing the server's progress notifications to the call they belong to,
//! by progress token. rmcp picks a request's token as it sends it and hands
//! notifications to spawned tasks, so a report can arrive before its
//! request's route exists: the last few such reports wait (bounded) and
//! are delivered when the route is made.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use rmcp::model::{NumberOrString, ProgressNotificationParam, ProgressToken};

use crate::provider::CallObserver;

/// Progress reports kept for a route that does not exist yet.
const EARLY_REPORTS: usize = 16;

/// Where each request's progress goes.
#[derive(Default)]
pub(super) struct ProgressRoutes {
    inner: Mutex<Routes>,
}

#[derive(Default)]
struct Routes {
    by_token: HashMap<String, Arc<dyn CallObserver>>,
    early: VecDeque<(String, ProgressNotificationParam)>,
}

impl ProgressRoutes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Send `token`'s progress to `observer` until the route is dropped;
    /// reports that came first are delivered now.
    pub(super) fn route(
        &self,
        token: &ProgressToken,
        observer: Arc<dyn CallObserver>,
    ) -> Route<'_> {
        let key = token_key(token);
        let early: Vec<ProgressNotificationParam> = {
            let mut routes = self.lock();
            routes.by_token.insert(key.clone(), observer.clone());
            let (mine, others) = std::mem::take(&mut routes.early)
                .into_iter()
                .partition(|(k, _)| *k == key);
            routes.early = others;
            mine.into_iter().map(|(_, p)| p).collect()
        };
        for report in early {
            observer.progress(report.progress, report.total, report.message.as_deref());
        }
        Route(self, key)
    }

    /// Deliver a progress notification, or keep it for its route.
    pub(super) fn deliver(&self, params: ProgressNotificationParam) {
        let key = token_key(&params.progress_token);
        let observer = {
            let mut routes = self.lock();
            match routes.by_token.get(&key) {
                Some(observer) => observer.clone(),
                None => {
                    if routes.early.len() >= EARLY_REPORTS {
                        routes.early.pop_front();
                    }
                    routes.early.push_back((key, params));
                    return;
                }
            }
        };
        observer.progress(params.progress, params.total, params.message.as_deref());
    }
}

/// A progress token as a map key.
fn token_key(token: &ProgressToken) -> String {
    match &token.0 {
        NumberOrString::String(s) => format!("s:{s}"),
        NumberOrString::Number(n) => format!("n:{n}"),
    }
}

/// A request's progress route, removed when the request ends.
pub(super) struct Route<'a>(&'a ProgressRoutes, String);

impl Drop for Route<'_> {
    fn drop(&mut self) {
        self.0.lock().by_token.remove(&self.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Seen(Mutex<Vec<f64>>);

    impl CallObserver for Seen {
        fn log(&self, _: crate::model::LogLevel, _: &str, _: &str) {}
        fn progress(&self, progress: f64, _: Option<f64>, _: Option<&str>) {
            self.0.lock().unwrap().push(progress);
        }
    }

    fn report(token: u32, progress: f64) -> ProgressNotificationParam {
        ProgressNotificationParam::new(
            ProgressToken(NumberOrString::Number(token.into())),
            progress,
        )
    }

    #[test]
    fn reports_before_their_route_are_delivered_in_order_and_bounded() {
        let routes = ProgressRoutes::default();
        routes.deliver(report(1, 0.0));
        routes.deliver(report(2, 7.0));
        let seen = Arc::new(Seen::default());
        let token = ProgressToken(NumberOrString::Number(1));
        let route = routes.route(&token, seen.clone());
        routes.deliver(report(1, 50.0));
        assert_eq!(*seen.0.lock().unwrap(), [0.0, 50.0]);
        drop(route);
        routes.deliver(report(1, 100.0));
        assert_eq!(seen.0.lock().unwrap().len(), 2, "no route, no delivery");
        for i in 0..100 {
            routes.deliver(report(9, f64::from(i)));
        }
        assert_eq!(routes.lock().early.len(), EARLY_REPORTS);
    }
}
