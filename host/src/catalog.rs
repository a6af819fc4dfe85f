//! The catalog: every tool, resource, template and prompt being served, and
//! which provider serves it. Immutable once built; a reload builds a new one.
//!
//! Mounting is written once for every kind of component ([`Component`]):
//! the mount's prefix and tags are applied, disabled and filtered-out
//! components are left out (so they are exactly unknown), and a provider
//! whose served names or URIs are taken, or whose URIs could be answered by
//! another provider's template, is refused whole.

use std::sync::Arc;

use indexmap::IndexMap;

use crate::config::TagFilter;
use crate::error::LoadError;
use crate::model::{PromptDef, ResourceDef, TemplateDef, ToolDef};
use crate::provider::Provider;
use corral_uri_template::UriTemplate;

/// One served component and the provider behind it.
#[derive(Debug, Clone)]
pub struct Served<T> {
    /// As served: prefixed name or URI, tags merged with the mount's tags.
    pub def: T,
    /// The name (or URI) the provider itself knows it by.
    pub original: String,
    /// Who serves it.
    pub provider: Arc<dyn Provider>,
}

/// Where a resource URI leads.
#[derive(Debug, Clone)]
pub struct ResolvedResource<'a> {
    /// Who serves it.
    pub provider: &'a Arc<dyn Provider>,
    /// The URI as the provider knows it (without the mount prefix).
    pub uri: String,
    /// Template variables (empty for a concrete resource).
    pub params: Vec<(String, String)>,
    /// The resource's (or template's) tags, as served.
    pub tags: &'a [String],
    /// What matched, as served: the resource's URI, or the template (never
    /// the values a client put in it; what metrics and logs name).
    pub served: &'a str,
}

/// How one provider is mounted: from its config entry.
#[derive(Debug, Clone, Default)]
pub struct Mount {
    /// `weather` serves `get_forecast` as `weather_get_forecast` and
    /// `data://config` as `data://weather/config` (FastMCP's convention).
    pub prefix: Option<String>,
    /// Tags added to every component of the provider.
    pub tags: Vec<String>,
    /// Components (by the provider's own names or URIs) not served.
    pub disabled: Vec<String>,
}

impl Mount {
    /// The mount a config entry describes (`[plugins.*]`, `[upstreams.*]`,
    /// `[openapi.*]`: each has a prefix, tags and disabled components).
    pub fn new(prefix: Option<&str>, tags: &[String], disabled: &[String]) -> Self {
        Self {
            prefix: prefix.map(str::to_owned),
            tags: tags.to_vec(),
            disabled: disabled.to_vec(),
        }
    }

    /// `key` as served: a name gets `prefix_`, a URI gets the prefix after
    /// its scheme.
    fn key(&self, key: &str, is_uri: bool) -> String {
        match (&self.prefix, is_uri) {
            (None, _) => key.to_owned(),
            (Some(prefix), true) => prefix_uri(key, prefix),
            (Some(prefix), false) => format!("{prefix}_{key}"),
        }
    }

    fn tags(&self, own: &[String]) -> Vec<String> {
        let mut tags = own.to_vec();
        for tag in &self.tags {
            if !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
        tags
    }

    /// The provider's `items`, as served: disabled and filtered-out ones
    /// left out, the rest prefixed and tagged.
    fn apply<T: Component>(
        &self,
        items: &[T],
        filter: &TagFilter,
        provider: &Arc<dyn Provider>,
    ) -> Vec<Served<T>> {
        items
            .iter()
            .filter(|item| !self.disabled.iter().any(|d| d == item.key()))
            .filter_map(|item| {
                let tags = self.tags(item.tags());
                if !filter.allows(&tags) {
                    return None;
                }
                let mut def = item.clone();
                *def.key_mut() = self.key(item.key(), T::IS_URI);
                *def.tags_mut() = tags;
                Some(Served {
                    def,
                    original: item.key().to_owned(),
                    provider: provider.clone(),
                })
            })
            .collect()
    }
}

/// A kind of served component, as the catalog mounts it.
trait Component: Clone {
    /// What it is called in messages.
    const KIND: &'static str;
    /// Whether its key is a URI (prefixed after the scheme) or a name.
    const IS_URI: bool;
    /// Its name, or its URI or URI template.
    fn key(&self) -> &str;
    fn key_mut(&mut self) -> &mut String;
    fn tags(&self) -> &[String];
    fn tags_mut(&mut self) -> &mut Vec<String>;
}

macro_rules! component {
    ($type:ty, $kind:literal, $is_uri:literal, $key:ident) => {
        impl Component for $type {
            const KIND: &'static str = $kind;
            const IS_URI: bool = $is_uri;
            fn key(&self) -> &str {
                &self.$key
            }
            fn key_mut(&mut self) -> &mut String {
                &mut self.$key
            }
            fn tags(&self) -> &[String] {
                &self.tags
            }
            fn tags_mut(&mut self) -> &mut Vec<String> {
                &mut self.tags
            }
        }
    };
}

component!(ToolDef, "tool", false, name);
component!(ResourceDef, "resource", true, uri);
component!(TemplateDef, "resource template", true, uri_template);
component!(PromptDef, "prompt", false, name);

/// `data://config` mounted at `weather` is `data://weather/config`.
pub fn prefix_uri(uri: &str, prefix: &str) -> String {
    match uri.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{prefix}/{rest}"),
        None => format!("{prefix}/{uri}"),
    }
}

/// The inverse of [`prefix_uri`]: `None` if `uri` is not under `prefix`.
pub fn unprefix_uri(uri: &str, prefix: &str) -> Option<String> {
    match uri.split_once("://") {
        Some((scheme, rest)) => rest
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .map(|r| format!("{scheme}://{r}")),
        None => uri
            .strip_prefix(prefix)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_owned),
    }
}

/// A served template's matcher, beside its entry in `templates` (same index).
#[derive(Debug)]
struct Matcher {
    template: UriTemplate,
    /// The prefix its provider is mounted with, removed before a read.
    prefix: Option<String>,
}

/// Everything being served. Lists keep the order providers were added in.
#[derive(Debug, Default)]
pub struct Catalog {
    providers: Vec<Arc<dyn Provider>>,
    tools: IndexMap<String, Served<ToolDef>>,
    resources: IndexMap<String, Served<ResourceDef>>,
    templates: IndexMap<String, Served<TemplateDef>>,
    matchers: Vec<Matcher>,
    prompts: IndexMap<String, Served<PromptDef>>,
}

/// A provider's components as they would be served, before they join.
struct Offer {
    tools: Vec<Served<ToolDef>>,
    resources: Vec<Served<ResourceDef>>,
    templates: Vec<(Served<TemplateDef>, UriTemplate)>,
    prompts: Vec<Served<PromptDef>>,
}

impl Catalog {
    /// The providers, in the order they were added.
    pub fn providers(&self) -> &[Arc<dyn Provider>] {
        &self.providers
    }

    /// The served tools.
    pub fn tools(&self) -> impl Iterator<Item = &Served<ToolDef>> {
        self.tools.values()
    }

    /// The served concrete resources.
    pub fn resources(&self) -> impl Iterator<Item = &Served<ResourceDef>> {
        self.resources.values()
    }

    /// The served resource templates.
    pub fn templates(&self) -> impl Iterator<Item = &Served<TemplateDef>> {
        self.templates.values()
    }

    /// The served prompts.
    pub fn prompts(&self) -> impl Iterator<Item = &Served<PromptDef>> {
        self.prompts.values()
    }

    /// The tool served as `name`.
    pub fn tool(&self, name: &str) -> Option<&Served<ToolDef>> {
        self.tools.get(name)
    }

    /// The prompt served as `name`.
    pub fn prompt(&self, name: &str) -> Option<&Served<PromptDef>> {
        self.prompts.get(name)
    }

    /// The resource template served as `uri_template`.
    pub fn template(&self, uri_template: &str) -> Option<&Served<TemplateDef>> {
        self.templates.get(uri_template)
    }

    /// A concrete resource wins; otherwise the most specific matching template.
    pub fn resolve_resource(&self, uri: &str) -> Option<ResolvedResource<'_>> {
        if let Some((served_uri, served)) = self.resources.get_key_value(uri) {
            return Some(ResolvedResource {
                provider: &served.provider,
                uri: served.original.clone(),
                params: Vec::new(),
                tags: &served.def.tags,
                served: served_uri,
            });
        }
        let (index, matcher, params) = self
            .matchers
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.template.matches(uri).map(|params| (i, m, params)))
            .max_by_key(|(_, m, _)| m.template.specificity())?;
        let uri = match &matcher.prefix {
            Some(prefix) => unprefix_uri(uri, prefix)?,
            None => uri.to_owned(),
        };
        let (template, served) = self.templates.get_index(index)?;
        Some(ResolvedResource {
            provider: &served.provider,
            uri,
            params,
            tags: &served.def.tags,
            served: template,
        })
    }

    /// Add a provider's offer, mounted as `mount` says and filtered by
    /// `filter` (a filtered-out component is simply not served). Refused
    /// whole, with a message naming both providers, if any served name is
    /// already taken or any URI could reach another provider.
    pub fn add(
        &mut self,
        provider: Arc<dyn Provider>,
        mount: &Mount,
        filter: &TagFilter,
    ) -> Result<(), LoadError> {
        let listing = provider.listing();
        let mut templates = Vec::new();
        for served in mount.apply(&listing.templates, filter, &provider) {
            let template = UriTemplate::parse(&served.def.uri_template).map_err(|reason| {
                LoadError::BadListing {
                    path: provider.origin().into(),
                    reason: format!("resource template `{}`: {reason}", served.def.uri_template),
                }
            })?;
            templates.push((served, template));
        }
        let offer = Offer {
            tools: mount.apply(&listing.tools, filter, &provider),
            resources: mount.apply(&listing.resources, filter, &provider),
            templates,
            prompts: mount.apply(&listing.prompts, filter, &provider),
        };
        self.check(&provider, &offer)?;
        insert(&mut self.tools, offer.tools);
        insert(&mut self.resources, offer.resources);
        for (served, template) in offer.templates {
            self.matchers.push(Matcher {
                template,
                prefix: mount.prefix.clone(),
            });
            self.templates
                .insert(served.def.uri_template.clone(), served);
        }
        insert(&mut self.prompts, offer.prompts);
        self.providers.push(provider);
        Ok(())
    }

    /// Refuse `offer` if it takes a served key, or if a read could reach
    /// the wrong provider: a URI one serves must not match another's
    /// template, and two providers' templates must not both match any URI.
    fn check(&self, provider: &Arc<dyn Provider>, offer: &Offer) -> Result<(), LoadError> {
        let who = |p: &dyn Provider| format!("{} `{}` ({})", p.kind(), p.name(), p.origin());
        let refuse = |sentence: String| LoadError::Collision {
            path: provider.origin().into(),
            reason: format!(
                "{sentence}; {} `{}` is not loaded (give one of them a prefix)",
                provider.kind(),
                provider.name()
            ),
        };
        let taken = |(kind, key, other): (&str, &str, &Arc<dyn Provider>)| {
            Err(refuse(format!(
                "{kind} `{key}` is already served by {}",
                who(&**other)
            )))
        };
        let served_templates = offer.templates.iter().map(|(served, _)| served);
        taken_key(&self.tools, &offer.tools).map_or(Ok(()), taken)?;
        taken_key(&self.resources, &offer.resources).map_or(Ok(()), taken)?;
        taken_key(&self.templates, served_templates).map_or(Ok(()), taken)?;
        taken_key(&self.prompts, &offer.prompts).map_or(Ok(()), taken)?;
        for resource in &offer.resources {
            let uri = &resource.def.uri;
            if let Some((m, served)) = self.matching(|m| m.template.matches_raw(uri)) {
                return Err(refuse(format!(
                    "resource `{uri}` matches the resource template `{}`, which {} serves",
                    m.template.as_str(),
                    who(&*served.provider)
                )));
            }
        }
        for (served, template) in &offer.templates {
            let text = &served.def.uri_template;
            if let Some(other) = self
                .resources
                .values()
                .find(|s| template.matches_raw(&s.def.uri))
            {
                return Err(refuse(format!(
                    "resource template `{text}` matches the resource `{}`, which {} serves",
                    other.def.uri,
                    who(&*other.provider)
                )));
            }
            for (m, other) in self.matchers.iter().zip(self.templates.values()) {
                // Literal text before the first variable rules most pairs
                // out cheaply; the exact check explores both automata.
                let (a, b) = (literal_prefix(template), literal_prefix(&m.template));
                if !(a.starts_with(b) || b.starts_with(a)) {
                    continue;
                }
                if let Some(example) = template.overlap_example(&m.template) {
                    return Err(refuse(format!(
                        "resource template `{text}` overlaps the resource template `{}` (both match `{example}`), which {} serves",
                        m.template.as_str(),
                        who(&*other.provider)
                    )));
                }
            }
        }
        Ok(())
    }

    /// The first served template (and its entry) for which `test` holds.
    fn matching(
        &self,
        test: impl Fn(&Matcher) -> bool,
    ) -> Option<(&Matcher, &Served<TemplateDef>)> {
        self.matchers
            .iter()
            .zip(self.templates.values())
            .find(|(m, _)| test(m))
    }
}

/// The first of `new` whose key is already served: its kind, its key and
/// who serves it.
fn taken_key<'a, 'b, T: Component + 'b>(
    served: &'a IndexMap<String, Served<T>>,
    new: impl IntoIterator<Item = &'b Served<T>>,
) -> Option<(&'static str, &'b str, &'a Arc<dyn Provider>)> {
    new.into_iter().find_map(|item| {
        served
            .get(item.def.key())
            .map(|s| (T::KIND, item.def.key(), &s.provider))
    })
}

fn insert<T: Component>(map: &mut IndexMap<String, Served<T>>, items: Vec<Served<T>>) {
    for item in items {
        map.insert(item.def.key().to_owned(), item);
    }
}

/// The literal text every URI a template matches starts with.
fn literal_prefix(template: &UriTemplate) -> &str {
    let text = template.as_str();
    &text[..text.find('{').unwrap_or(text.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_go_after_the_scheme() {
        assert_eq!(
            prefix_uri("data://config", "weather"),
            "data://weather/config"
        );
        assert_eq!(
            unprefix_uri("data://weather/config", "weather").as_deref(),
            Some("data://config")
        );
        assert_eq!(unprefix_uri("data://other/config", "weather"), None);
        assert_eq!(prefix_uri("urn:x", "w"), "w/urn:x");
        assert_eq!(unprefix_uri("w/urn:x", "w").as_deref(), Some("urn:x"));
    }
}
