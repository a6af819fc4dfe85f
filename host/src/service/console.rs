//! What the web console (`/ui`) shows: the catalog with each provider's
//! limits, grants and provenance, and a live feed of the calls that end and
//! of catalog reloads.
//!
//! The feed is a broadcast of JSON events, made only while a console
//! follows it (a call costs one atomic load otherwise). Each console sees
//! the calls of the components its token's view shows (`in_view`). A
//! console that falls more than [`CONSOLE_QUEUE`] events behind is told how
//! many it missed; at most [`MAX_CONSOLES`] follow at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::CallService;
use crate::config::TokenView;

/// Events kept for a console that reads slowly before it misses some.
pub const CONSOLE_QUEUE: usize = 256;
/// Consoles following the live feed at once.
pub const MAX_CONSOLES: usize = 8;

/// One event of the feed.
#[derive(Debug)]
pub(crate) struct Event {
    /// `call` or `reload`.
    pub kind: &'static str,
    /// The component a call was made to (its kind and name), which a
    /// console sees only if its view shows it.
    pub component: Option<(&'static str, String)>,
    /// The event's JSON.
    pub json: String,
}

/// An event as the feed carries it.
pub(crate) type ConsoleEvent = Arc<Event>;

/// The live feed.
pub(crate) struct Console {
    sender: broadcast::Sender<ConsoleEvent>,
    following: Arc<AtomicUsize>,
}

/// A console's place in the feed; leaving it makes room for another.
pub(crate) struct Following {
    pub events: broadcast::Receiver<ConsoleEvent>,
    following: Arc<AtomicUsize>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.following.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Console {
    pub(crate) fn new() -> Console {
        Console {
            sender: broadcast::channel(CONSOLE_QUEUE).0,
            following: Arc::default(),
        }
    }

    /// Whether any console follows (events are made only then).
    pub(crate) fn followed(&self) -> bool {
        self.following.load(Ordering::Relaxed) > 0
    }

    /// Send `data` as a `kind` event about `component` (if it is about
    /// one) to every console following.
    pub(crate) fn publish(
        &self,
        kind: &'static str,
        component: Option<(&'static str, &str)>,
        mut data: Value,
    ) {
        if !self.followed() {
            return;
        }
        data["at_ms"] = json!(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        );
        let _ = self.sender.send(Arc::new(Event {
            kind,
            component: component.map(|(kind, name)| (kind, name.to_owned())),
            json: data.to_string(),
        }));
    }

    /// Follow the feed, unless [`MAX_CONSOLES`] already do.
    pub(crate) fn follow(&self) -> Option<Following> {
        let taken = self
            .following
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < MAX_CONSOLES).then_some(n + 1)
            });
        taken.ok().map(|_| Following {
            events: self.sender.subscribe(),
            following: self.following.clone(),
        })
    }
}

impl CallService {
    /// Whether a token with `view` sees the component `kind` `name` (a
    /// completion: of a prompt or template it sees).
    pub(crate) fn in_view(&self, view: Option<&TokenView>, kind: &str, name: &str) -> bool {
        if view.is_none() {
            return true;
        }
        let lists = self.view.load().lists(view);
        let prompt = || lists.prompts.iter().any(|p| p.name == name);
        let template = || lists.templates.iter().any(|t| t.uri_template == name);
        match kind {
            "tool" => lists.tools.iter().any(|t| t.name == name),
            "prompt" => prompt(),
            "resource" => lists.resources.iter().any(|r| r.uri == name) || template(),
            "completion" => prompt() || template(),
            _ => false,
        }
    }

    /// The catalog as the console shows it to a token with `view`: every
    /// provider that serves something in the view (with its description)
    /// and the tools, resources, templates and prompts in the view, each
    /// with its provider.
    pub(crate) async fn console_catalog(&self, view: Option<&TokenView>) -> Value {
        let served = self.view().await;
        let lists = served.lists(view);
        let catalog = &served.catalog;
        let mut shown = std::collections::BTreeSet::new();
        let mut provided = |provider: Option<&str>| {
            if let Some(name) = provider {
                shown.insert(name.to_owned());
            }
            provider.map_or(Value::Null, |name| json!(name))
        };
        let tools: Vec<Value> = lists
            .tools
            .iter()
            .map(|tool| {
                let mut entry = json!(tool);
                entry["provider"] = provided(catalog.tool(&tool.name).map(|s| s.provider.name()));
                entry
            })
            .collect();
        let resources: Vec<Value> = lists
            .resources
            .iter()
            .map(|resource| {
                let mut entry = json!(resource);
                let provider = catalog
                    .resources()
                    .find(|s| s.def.uri == resource.uri)
                    .map(|s| s.provider.name());
                entry["provider"] = provided(provider);
                entry
            })
            .collect();
        let templates: Vec<Value> = lists
            .templates
            .iter()
            .map(|template| {
                let mut entry = json!(template);
                let provider = catalog.template(&template.uri_template);
                entry["provider"] = provided(provider.map(|s| s.provider.name()));
                entry
            })
            .collect();
        let prompts: Vec<Value> = lists
            .prompts
            .iter()
            .map(|prompt| {
                let mut entry = json!(prompt);
                entry["provider"] =
                    provided(catalog.prompt(&prompt.name).map(|s| s.provider.name()));
                entry
            })
            .collect();
        let providers: Vec<Value> = catalog
            .providers()
            .iter()
            .filter(|p| view.is_none() || shown.contains(p.name()))
            .map(|p| {
                json!({
                    "kind": p.kind(),
                    "name": p.name(),
                    "origin": p.origin(),
                    "details": p.describe(),
                })
            })
            .collect();
        json!({
            "providers": providers,
            "tools": tools,
            "resources": resources,
            "templates": templates,
            "prompts": prompts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feed_is_bounded_in_consoles_and_events() {
        let console = Console::new();
        console.publish("call", None, json!({"name": "unseen"}));
        let mut all: Vec<Following> = (0..MAX_CONSOLES)
            .map(|_| console.follow().expect("room"))
            .collect();
        assert!(console.follow().is_none(), "MAX_CONSOLES");
        drop(all.pop());
        let mut late = console.follow().expect("room again");
        for i in 0..CONSOLE_QUEUE + 3 {
            console.publish("call", Some(("tool", "t")), json!({"name": i}));
        }
        match late.events.try_recv() {
            Err(broadcast::error::TryRecvError::Lagged(missed)) => assert_eq!(missed, 3),
            other => panic!("expected a lag, got {other:?}"),
        }
        let event = late.events.try_recv().unwrap();
        assert_eq!(event.kind, "call");
        assert_eq!(event.component, Some(("tool", "t".to_owned())));
        let data: Value = serde_json::from_str(&event.json).unwrap();
        assert_eq!(data["name"], 3);
        assert!(data["at_ms"].as_u64().unwrap() > 0);
    }

    #[test]
    fn a_new_catalog_is_announced() {
        let service = CallService::new(crate::config::ServerSettings::default());
        let mut following = service.console().follow().unwrap();
        service.replace(crate::Catalog::default());
        let event = following.events.try_recv().unwrap();
        assert_eq!((event.kind, &event.component), ("reload", &None));
    }
}
