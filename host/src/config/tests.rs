use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

const MIB: u64 = 1024 * 1024;
const WEATHER_SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// A fresh directory under target/ holding `files` (with a few bytes each)
/// and `dirs`; returns its canonical path.
fn scratch(test: &str, files: &[&str], dirs: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/config-tests")
        .join(test);
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    for dir in dirs {
        std::fs::create_dir_all(root.join(dir)).unwrap();
    }
    for file in files {
        let path = root.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"\0asm").unwrap();
    }
    root.canonicalize().unwrap()
}

/// Parse `text` as `<test dir>/corral.toml`, with `p.wasm`, `q.wasm` and
/// `data/` present there.
pub(super) fn parse_in(test: &str, text: &str) -> Result<Config, ConfigError> {
    let dir = scratch(test, &["p.wasm", "q.wasm"], &["data"]);
    Config::parse(text, &dir.join("corral.toml"))
}

/// Expect an `Invalid` error at `key` whose message names the file, the key
/// and each of `needles`.
pub(super) fn expect_invalid(test: &str, text: &str, key: &str, needles: &[&str]) {
    let error = parse_in(test, text).expect_err(text);
    let shown = error.to_string();
    match &error {
        ConfigError::Invalid { key: k, .. } => assert_eq!(k, key, "{shown}"),
        other => panic!("expected Invalid at {key}, got {other:?}"),
    }
    assert!(shown.contains("corral.toml"), "{shown}");
    assert!(shown.contains(key), "{shown}");
    for needle in needles {
        assert!(shown.contains(needle), "{shown:?} lacks {needle:?}");
    }
}

#[test]
fn full_example_parses_and_resolves() {
    let dir = scratch("full", &["plugins/weather.wasm"], &["data"]);
    let text = format!(
        r#"
[server]
name = "MyAssistantServer"
instructions = "Ask about the weather."
mask_error_details = true
include_tags = ["public"]
exclude_tags = ["deprecated"]
plugin_dirs = ["plugins"]
page_size = 50

[server.http]
host = "127.0.0.1"
port = 8000
path = "/mcp"
allowed_hosts = ["localhost", "127.0.0.1"]
allowed_origins = ["http://localhost:*"]
max_body = "4MiB"
session_idle_timeout = "5m"
max_sessions = 1000

[limits]
fuel = 2_000_000_000
memory = "64MiB"
timeout = "10s"
max_output = "1MiB"
concurrency = 32
queue = 256

[plugins.weather]
path = "plugins/weather.wasm"
prefix = "weather"
tags = ["public"]
enabled = true
disabled_components = ["debug_tool"]
allow_hosts = ["api.weather.gov", "*.example.com", "localhost:8080"]
env = ["WEATHER_API_KEY"]
dirs = {{ "/data" = {{ host = "./data", mode = "ro" }} }}
limits = {{ timeout = "30s" }}
sha256 = "{WEATHER_SHA}"
"#
    );
    let config = Config::parse(&text, &dir.join("corral.toml")).unwrap();
    assert_eq!(
        config.server,
        ServerSettings {
            name: "MyAssistantServer".into(),
            instructions: Some("Ask about the weather.".into()),
            mask_error_details: true,
            tags: TagFilter {
                include: vec!["public".into()],
                exclude: vec!["deprecated".into()],
            },
            page_size: Some(50),
            ..ServerSettings::default()
        }
    );
    let http = &config.http;
    assert_eq!(
        (http.host.as_str(), http.port, http.path.as_str()),
        ("127.0.0.1", 8000, "/mcp")
    );
    let hosts: Vec<String> = http.allowed_hosts.iter().map(|h| h.to_string()).collect();
    assert_eq!(hosts, ["localhost", "127.0.0.1"]);
    assert_eq!(http.allowed_origins, ["http://localhost:*"]);
    assert_eq!(http.max_body, 4 * 1024 * 1024);
    assert_eq!(http.session_idle, Duration::from_secs(300));
    assert_eq!(http.max_sessions, 1000);
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.plugin_dirs, [dir.join("plugins")]);
    let [weather] = &config.plugins[..] else {
        panic!("one plugin expected: {:?}", config.plugins)
    };
    assert_eq!(weather.name, "weather");
    assert_eq!(weather.path, dir.join("plugins/weather.wasm"));
    assert_eq!(weather.prefix.as_deref(), Some("weather"));
    assert_eq!(weather.tags, ["public"]);
    assert!(weather.enabled);
    assert_eq!(weather.disabled_components, ["debug_tool"]);
    assert_eq!(
        weather.limits,
        Limits {
            timeout: Duration::from_secs(30),
            ..Limits::default()
        }
    );
    let grants = &weather.grants;
    assert_eq!(
        grants.dirs,
        [DirGrant {
            guest: "/data".into(),
            host: dir.join("data"),
            read_only: true
        }]
    );
    assert_eq!(grants.env, ["WEATHER_API_KEY"]);
    let hosts: Vec<String> = grants.allow_hosts.iter().map(|h| h.to_string()).collect();
    assert_eq!(
        hosts,
        ["api.weather.gov", "*.example.com", "localhost:8080"]
    );
    assert_eq!(
        weather.sha256.map(|d| hex(&d)).as_deref(),
        Some(WEATHER_SHA)
    );
}

#[test]
fn empty_file_is_the_default() {
    let config = Config::parse("", Path::new("corral.toml")).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.http.port, 8000);
    assert_eq!(config.http.path, "/mcp");
    assert_eq!(config.limits, Limits::default());
    assert!(config.plugins.is_empty() && config.plugin_dirs.is_empty());
}

#[test]
fn limits_cascade_defaults_then_table_then_plugin() {
    let text = r#"
[limits]
memory = "32MiB"
timeout = "5s"
queue = 0
rate = "600/m"
[plugins.p]
path = "p.wasm"
limits = { timeout = "30s", memory = 1048576, concurrency = 2, burst = 5 }
[plugins.q]
path = "q.wasm"
enabled = false
"#;
    let config = parse_in("cascade", text).unwrap();
    assert_eq!(config.total_memory, None);
    let table = Limits {
        memory: 32 * MIB,
        timeout: Duration::from_secs(5),
        queue: 0,
        rate: Some(Rate {
            count: 600,
            per: Duration::from_secs(60),
            burst: 600,
        }),
        ..Limits::default()
    };
    assert_eq!(config.limits, table);
    // `burst` alone resizes the inherited rate's bucket.
    let p_rate = config.plugins[0].limits.rate.unwrap();
    assert_eq!((p_rate.count, p_rate.burst), (600, 5));
    let p = &config.plugins[0];
    assert_eq!(p.limits.timeout, Duration::from_secs(30));
    assert_eq!(p.limits.memory, MIB);
    assert_eq!(p.limits.concurrency, 2);
    assert_eq!((p.limits.fuel, p.limits.queue), (Limits::default().fuel, 0));
    let q = &config.plugins[1];
    assert_eq!(q.limits, table);
    assert!(!q.enabled && p.enabled);
    assert_eq!(q.grants, Grants::default());
}

#[test]
fn relative_paths_resolve_against_the_config_dir() {
    let dir = scratch(
        "relative",
        &["a.wasm", "conf/b.wasm"],
        &["shared", "conf/plugins"],
    );
    let abs = dir.join("a.wasm");
    let text = format!(
        r#"
[server]
plugin_dirs = ["plugins", "../shared"]
[plugins.a]
path = "../a.wasm"
dirs = {{ "/rw" = {{ host = "plugins", mode = "rw" }} }}
[plugins.b]
path = "./b.wasm"
[plugins.abs]
path = {:?}
"#,
        dir.join("shared/../a.wasm").display()
    );
    let error = Config::parse(&text, &dir.join("conf/corral.toml")).unwrap_err();
    // `abs` names the same file as `a` through another spelling.
    assert!(matches!(&error, ConfigError::Invalid { key, .. } if key == "plugins.abs.path"));
    assert!(
        error.to_string().contains("already served by `plugins.a`"),
        "{error}"
    );

    let text = text.split("[plugins.abs]").next().unwrap();
    std::fs::write(dir.join("conf/corral.toml"), text).unwrap();
    let config = Config::load(&dir.join("conf/corral.toml")).unwrap();
    assert_eq!(
        config.plugin_dirs,
        [dir.join("conf/plugins"), dir.join("shared")]
    );
    assert_eq!(config.plugins[0].path, abs);
    assert_eq!(config.plugins[1].path, dir.join("conf/b.wasm"));
    assert_eq!(
        config.plugins[0].grants.dirs[0].host,
        dir.join("conf/plugins")
    );
    assert!(!config.plugins[0].grants.dirs[0].read_only);
}

#[test]
fn plugins_keep_file_order() {
    let text = "[plugins.zeta]\npath = \"q.wasm\"\n[plugins.alpha]\npath = \"p.wasm\"\n";
    let names: Vec<_> = parse_in("order", text)
        .unwrap()
        .plugins
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["zeta", "alpha"]);
}

#[test]
fn unknown_keys_are_refused_at_every_level() {
    let cases = [
        ("colour = 1\n", "colour", "`server`, `limits`"),
        ("[server]\ncolour = 1\n", "server.colour", "`instructions`"),
        (
            "[server.http]\nport = 1\ncolour = 1\n",
            "server.http.colour",
            "`allowed_origins`",
        ),
        ("[limits]\nmemroy = \"1MiB\"\n", "limits.memroy", "`memory`"),
        (
            "[plugins.p]\npath = \"p.wasm\"\npaht = 1\n",
            "plugins.p.paht",
            "`allow_hosts`",
        ),
        (
            "[plugins.p]\npath = \"p.wasm\"\nlimits = { fule = 1 }\n",
            "plugins.p.limits.fule",
            "`fuel`",
        ),
        (
            "[plugins.p]\npath = \"p.wasm\"\n[plugins.p.dirs.\"/d\"]\nhost = \"data\"\nread_only = true\n",
            "plugins.p.dirs.\"/d\".read_only",
            "`mode`",
        ),
    ];
    for (text, key, allowed) in cases {
        let error = parse_in("unknown", text).unwrap_err();
        let shown = error.to_string();
        let ConfigError::Parse {
            line,
            column,
            key: Some(k),
            ..
        } = &error
        else {
            panic!("expected a Parse error with a key for {text:?}, got {error:?}");
        };
        assert_eq!(k, key, "{shown}");
        let last = text.trim_end().lines().last().unwrap();
        let name = key.rsplit('.').next().unwrap();
        let at = (
            text.trim_end().lines().count(),
            1 + last.find(name).unwrap(),
        );
        assert_eq!((*line, *column), at, "{shown}");
        assert!(shown.contains("corral.toml:"), "{shown}");
        assert!(shown.contains("unknown field"), "{shown}");
        assert!(shown.contains(allowed), "{shown} lacks {allowed}");
    }
}

#[test]
fn syntax_and_type_errors_have_line_and_column() {
    let error = parse_in("syntax", "[server]\nname = \"x\"\nport 8000\n").unwrap_err();
    let shown = error.to_string();
    assert!(
        matches!(
            error,
            ConfigError::Parse {
                line: 3,
                key: None,
                ..
            }
        ),
        "{shown}"
    );
    assert!(
        shown.contains("/syntax/corral.toml:3:6: invalid TOML"),
        "{shown}"
    );

    let error = parse_in("types", "[server]\nmask_error_details = \"yes\"\n").unwrap_err();
    let shown = error.to_string();
    assert!(
        matches!(&error, ConfigError::Parse { line: 2, key: Some(k), .. } if k == "server.mask_error_details"),
        "{shown}"
    );
    assert!(shown.contains("expected a boolean"), "{shown}");

    let error = parse_in("types", "# é\n[plugins]\np = 3\n").unwrap_err();
    let shown = error.to_string();
    assert!(
        matches!(&error, ConfigError::Parse { line: 3, column: 5, key: Some(k), .. } if k == "plugins.p"),
        "{shown}"
    );
    assert!(
        shown.ends_with("invalid type: integer `3`, expected a table"),
        "{shown}"
    );
}

#[test]
fn bad_limits_name_key_and_fix() {
    let t = "limits";
    expect_invalid(
        t,
        "[plugins.p]\npath = \"p.wasm\"\nlimits = { total_memory = \"1GiB\" }\n",
        "plugins.p.limits.total_memory",
        &["setting of the whole process", "top-level [limits]"],
    );
    expect_invalid(
        t,
        "[plugins.p]\npath = \"p.wasm\"\nlimits = { rate = \"5/d\" }\n",
        "plugins.p.limits.rate",
        &["not s, m or h"],
    );
    let config = parse_in(t, "[limits]\ntotal_memory = \"3GiB\"\n").unwrap();
    assert_eq!(config.total_memory, Some(3 << 30));
    let ceiling = crate::units::human_size(MAX_MEMORY_CEILING);
    expect_invalid(
        t,
        "[limits]\nmemory = \"2GiB\"\n",
        "limits.memory",
        &[":2:", &ceiling, "at most \"1GiB\""],
    );
    expect_invalid(
        t,
        "[limits]\nmemory = \"64 parsecs\"\n",
        "limits.memory",
        &["unknown size unit", "MiB"],
    );
    expect_invalid(
        t,
        "[limits]\nmemory = -1\n",
        "limits.memory",
        &["negative", "64MiB"],
    );
    expect_invalid(
        t,
        "[limits]\nmax_output = 0\n",
        "limits.max_output",
        &["too small"],
    );
    expect_invalid(
        t,
        "[limits]\ntimeout = 10\n",
        "limits.timeout",
        &["no unit", "\"10s\""],
    );
    expect_invalid(
        t,
        "[limits]\ntimeout = \"10 days\"\n",
        "limits.timeout",
        &["unknown duration unit", "ms, s, m or h"],
    );
    expect_invalid(
        t,
        "[limits]\ntimeout = \"1ms\"\n",
        "limits.timeout",
        &["at least 5ms"],
    );
    expect_invalid(
        t,
        "[limits]\nconcurrency = 0\n",
        "limits.concurrency",
        &["at least 1"],
    );
    expect_invalid(
        t,
        "[limits]\nfuel = \"lots\"\n",
        "limits.fuel",
        &["is a string", "whole number"],
    );
    expect_invalid(
        t,
        "[limits]\nqueue = 1.5\n",
        "limits.queue",
        &["not whole", "at least 0"],
    );
    expect_invalid(
        t,
        "[plugins.p]\npath = \"p.wasm\"\n\n[plugins.p.limits]\nmemory = \"4GiB\"\n",
        "plugins.p.limits.memory",
        &[":5:", "at most"],
    );
}

#[test]
fn auth_tables_resolve_and_refuse_what_cannot_work() {
    let t = "auth";
    let dir = scratch(t, &["jwks.json"], &[]);
    let config = Config::parse(
        "[server.auth]\nissuer = \"https://auth.example.com\"\naudience = \"https://mcp.example.com/mcp\"\njwks = \"jwks.json\"\nrequired_scopes = [\"mcp\"]\nleeway = \"5s\"\n\n[[server.auth.tokens]]\nenv = \"CI_TOKEN\"\nscopes = [\"mcp\", \"admin\"]\n",
        &dir.join("corral.toml"),
    )
    .unwrap();
    let auth = config.http.auth.unwrap();
    assert_eq!(
        auth.jwt,
        Some(JwtKeys::Jwks(JwksSource::File(
            dir.join("jwks.json").canonicalize().unwrap()
        )))
    );
    assert_eq!(auth.authorization_servers, ["https://auth.example.com"]);
    assert_eq!(auth.leeway, Duration::from_secs(5));
    assert_eq!(auth.tokens[0].subject, "CI_TOKEN");
    let a = |s: &str| format!("[server.auth]\n{s}\n");
    let jwt = "issuer = \"https://i.example\"\naudience = \"https://m.example/mcp\"\n";
    let cases = [
        (a(""), "server.auth", vec!["accepts no token"]),
        (
            a("jwks = \"https://i.example/jwks\"\naudience = \"https://m.example/mcp\""),
            "server.auth",
            vec!["needs `issuer`"],
        ),
        (
            a("jwks = \"https://i.example/jwks\"\nissuer = \"https://i.example\""),
            "server.auth",
            vec!["needs `audience`"],
        ),
        (
            a(&format!("{jwt}jwks = \"http://i.example/jwks\"")),
            "server.auth.jwks",
            vec!["plain http", "https"],
        ),
        (
            a(&format!("{jwt}jwks = \"missing.json\"")),
            "server.auth.jwks",
            vec!["does not exist"],
        ),
        (
            a(&format!(
                "{jwt}jwks = \"https://i.example/j\"\nhs256_secret_env = \"S\""
            )),
            "server.auth.hs256_secret_env",
            vec!["not both"],
        ),
        (
            a(&format!("{jwt}hs256_secret_env = \"not a name\"")),
            "server.auth.hs256_secret_env",
            vec!["not an environment variable"],
        ),
        (
            a(&format!(
                "{jwt}hs256_secret_env = \"S\"\nrequired_scopes = [\"a b\"]"
            )),
            "server.auth.required_scopes",
            vec!["\"a b\" is not a scope"],
        ),
        (
            a(&format!("{jwt}hs256_secret_env = \"S\"\nleeway = 30")),
            "server.auth.leeway",
            vec!["no unit"],
        ),
        (
            a("audience = \"not a uri\"\n[[server.auth.tokens]]\nenv = \"T\""),
            "server.auth.audience",
            vec!["not a URI"],
        ),
        (
            a("[[server.auth.tokens]]\nscopes = [\"mcp\"]"),
            "server.auth.tokens",
            vec!["has no `env`"],
        ),
    ];
    for (text, key, needles) in cases {
        expect_invalid(t, &text, key, &needles);
    }
}

#[test]
fn views_and_client_limits_resolve() {
    let t = "views";
    let config = parse_in(
        t,
        "[server.http]\nrate = \"600/m\"\nburst = 20\nconcurrency = 8\nmetrics = true\nmetrics_addr = \"127.0.0.1:9464\"\n\n[server.auth]\n[[server.auth.tokens]]\nenv = \"T\"\n\n[[server.auth.views]]\nscope = \"admin\"\nrate = \"100/s\"\n\n[[server.auth.views]]\nclaim = \"groups\"\nvalue = \"staff\"\nplugins = [\"calc\"]\nexclude_tags = [\"admin\"]\n",
    )
    .unwrap();
    let http = &config.http;
    let rate = http.client_limits.rate.unwrap();
    assert_eq!(
        (rate.count, rate.per, rate.burst),
        (600, Duration::from_secs(60), 20)
    );
    assert_eq!(http.client_limits.concurrency, Some(8));
    assert!(http.metrics && !HttpOptions::default().metrics);
    assert_eq!(http.metrics_addr, Some(([127, 0, 0, 1], 9464).into()));
    let views = &http.auth.as_ref().unwrap().views;
    assert_eq!(views[0].limits.rate.unwrap().burst, 100);
    assert_eq!(views[1].index, 1);
    assert_eq!(views[1].claim, Some(("groups".into(), "staff".into())));
    assert!(views[1].shows(&[], "calc"));
    assert!(!views[1].shows(&["admin".into()], "calc"));
    assert!(!views[1].shows(&[], "other"));
    assert!(!TokenView::nothing(2).shows(&[], "calc"));
    let h = |s: &str| format!("[server.http]\n{s}\n");
    expect_invalid(
        t,
        &h("rate = 10"),
        "server.http.rate",
        &["not a rate", "10/s"],
    );
    expect_invalid(
        t,
        &h("rate = \"10/d\""),
        "server.http.rate",
        &["not s, m or h"],
    );
    expect_invalid(t, &h("rate = \"0/s\""), "server.http.rate", &["at least 1"]);
    expect_invalid(
        t,
        &h("burst = 5"),
        "server.http.burst",
        &["without a `rate`"],
    );
    expect_invalid(
        t,
        &h("concurrency = 0"),
        "server.http.concurrency",
        &["at least 1"],
    );
    let v = |s: &str| {
        format!("[server.auth]\n[[server.auth.tokens]]\nenv = \"T\"\n[[server.auth.views]]\n{s}\n")
    };
    expect_invalid(
        t,
        &v("claim = \"groups\""),
        "server.auth.views",
        &["`claim` and `value` together"],
    );
    expect_invalid(
        t,
        &v("scope = \"a b\""),
        "server.auth.views",
        &["not a scope"],
    );
    expect_invalid(
        t,
        &v("rate = \"x\""),
        "server.auth.views",
        &["rate:", "not a rate"],
    );
}

#[test]
fn bad_server_and_http_settings_name_key_and_fix() {
    let t = "server";
    expect_invalid(
        t,
        "[server]\npage_size = 0\n",
        "server.page_size",
        &["at least 1"],
    );
    expect_invalid(
        t,
        "[server]\nname = \"\"\n",
        "server.name",
        &["give the server a name"],
    );
    expect_invalid(
        t,
        "[server]\ninclude_tags = [\"a\", \" b\"]\n",
        "server.include_tags",
        &["\" b\"", "trim"],
    );
    expect_invalid(
        t,
        "[server]\nplugin_dirs = [\"nope\"]\n",
        "server.plugin_dirs",
        &["nope", "config file's directory"],
    );
    expect_invalid(
        t,
        "[server]\nplugin_dirs = [\"p.wasm\"]\n",
        "server.plugin_dirs",
        &["not a directory"],
    );
    let h = |s: &str| format!("[server.http]\n{s}\n");
    expect_invalid(t, &h("port = 70000"), "server.http.port", &["0 to 65535"]);
    expect_invalid(t, &h("port = -1"), "server.http.port", &["at least 0"]);
    expect_invalid(
        t,
        &h("host = \"not a host!\""),
        "server.http.host",
        &["neither an IP", "\"0.0.0.0\""],
    );
    expect_invalid(
        t,
        &h("path = \"mcp\""),
        "server.http.path",
        &["start with `/`", "\"/mcp\""],
    );
    expect_invalid(
        t,
        &h("allowed_hosts = [\"*.example.com\"]"),
        "server.http.allowed_hosts",
        &["wildcards are not supported"],
    );
    expect_invalid(
        t,
        &h("allowed_hosts = [\"http://x\"]"),
        "server.http.allowed_hosts",
        &["scheme"],
    );
    expect_invalid(
        t,
        &h("allowed_origins = [\"localhost:3000\"]"),
        "server.http.allowed_origins",
        &["no scheme", "http://localhost:*"],
    );
    expect_invalid(
        t,
        &h("allowed_origins = [\"http://a.com/x\"]"),
        "server.http.allowed_origins",
        &["has a path"],
    );
    expect_invalid(
        t,
        &h("max_body = \"0\""),
        "server.http.max_body",
        &["too small"],
    );
    expect_invalid(
        t,
        &h("session_idle_timeout = \"0s\""),
        "server.http.session_idle_timeout",
        &["at least 1s"],
    );
    expect_invalid(
        t,
        &h("max_sessions = 0"),
        "server.http.max_sessions",
        &["at least 1"],
    );
    let metrics_addr = h("metrics_addr = \"localhost\"");
    expect_invalid(
        t,
        &metrics_addr,
        "server.http.metrics_addr",
        &["127.0.0.1:9464"],
    );

    let ok = parse_in(t, &h("host = \"0.0.0.0\"\nport = 0\nallowed_hosts = [\"::1\", \"[::1]:8000\", \"example.com:443\"]\nallowed_origins = [\"null\", \"https://[::1]:*\"]\nmax_body = 1024")).unwrap();
    assert_eq!(
        (ok.http.host.as_str(), ok.http.port, ok.http.max_body),
        ("0.0.0.0", 0, 1024)
    );
}

#[test]
fn bad_plugins_name_key_and_fix() {
    let t = "plugins";
    let p = |s: &str| format!("[plugins.p]\npath = \"p.wasm\"\n{s}\n");
    expect_invalid(
        t,
        "[plugins.p]\nprefix = \"p\"\n",
        "plugins.p",
        &["has no `path`", "path = "],
    );
    expect_invalid(
        t,
        "[plugins.p]\npath = \"gone.wasm\"\n",
        "plugins.p.path",
        &["gone.wasm", "config file's directory"],
    );
    expect_invalid(
        t,
        "[plugins.p]\npath = \"data\"\n",
        "plugins.p.path",
        &["not a file", "plugin_dirs"],
    );
    expect_invalid(
        t,
        "[plugins.\"a.b\"]\npath = \"p.wasm\"\n",
        "plugins.\"a.b\"",
        &["letters, digits"],
    );
    expect_invalid(
        t,
        &p("prefix = \"we ather\""),
        "plugins.p.prefix",
        &["letters, digits, `_` and `-`"],
    );
    expect_invalid(
        t,
        &p("sha256 = \"abc\""),
        "plugins.p.sha256",
        &["64 hex", "sha256sum"],
    );
    expect_invalid(
        t,
        &p("env = [\"OK\", \"1BAD\"]"),
        "plugins.p.env",
        &[":3:", "\"1BAD\"", "WEATHER_API_KEY"],
    );
    expect_invalid(
        t,
        &p("env = [\"A-B\"]"),
        "plugins.p.env",
        &["not an environment variable name"],
    );
    expect_invalid(
        t,
        &p("disabled_components = [\"\"]"),
        "plugins.p.disabled_components",
        &["empty"],
    );
    let hosts = [
        ("https://api.x.com", "write the host alone, as `api.x.com`"),
        ("api.x.com/v1", "has a path"),
        ("a.*.com", "whole first label"),
        ("*", "whole first label"),
        ("x.com:99999", "1 to 65535"),
        ("x.com:0", "1 to 65535"),
        ("::1", "in brackets"),
        ("*.1.2.3.4", "not an IP address"),
        ("bad_host", "not a host name"),
        ("", "empty"),
    ];
    for (host, needle) in hosts {
        let text = p(&format!("allow_hosts = [\"ok.com\", {host:?}]"));
        expect_invalid(t, &text, "plugins.p.allow_hosts", &[":3:", needle]);
    }
    let d = |s: &str| p(&format!("dirs = {{ {s} }}"));
    expect_invalid(
        t,
        &d("\"data\" = { host = \"data\" }"),
        "plugins.p.dirs.data",
        &["starting with `/`", "\"/data\""],
    );
    expect_invalid(
        t,
        &d("\"/a/../b\" = { host = \"data\" }"),
        "plugins.p.dirs.\"/a/../b\"",
        &["`..`"],
    );
    expect_invalid(
        t,
        &d("\"/d\" = { host = \"missing\" }"),
        "plugins.p.dirs.\"/d\".host",
        &["missing"],
    );
    expect_invalid(
        t,
        &d("\"/d\" = { host = \"p.wasm\" }"),
        "plugins.p.dirs.\"/d\".host",
        &["not a directory"],
    );
    expect_invalid(
        t,
        &d("\"/d\" = { mode = \"ro\" }"),
        "plugins.p.dirs.\"/d\"",
        &["has no `host`"],
    );
    expect_invalid(
        t,
        &d("\"/d\" = { host = \"data\", mode = \"rx\" }"),
        "plugins.p.dirs.\"/d\".mode",
        &["\"ro\"", "\"rw\""],
    );
    expect_invalid(
        t,
        "[plugins.p]\npath = \"p.wasm\"\n[plugins.q]\npath = \"./p.wasm\"\n",
        "plugins.q.path",
        &["already served by `plugins.p`", "serve each file once"],
    );
}

#[test]
fn dir_grants_normalise_and_default_to_read_only() {
    let text = "[plugins.p]\npath = \"p.wasm\"\ndirs = { \"/b/\" = { host = \"data\" }, \"/a\" = { host = \"./data/\", mode = \"rw\" } }\n";
    let config = parse_in("dirs", text).unwrap();
    let dirs = &config.plugins[0].grants.dirs;
    assert_eq!(
        dirs.iter()
            .map(|d| (d.guest.as_str(), d.read_only))
            .collect::<Vec<_>>(),
        [("/a", false), ("/b", true)]
    );
    assert!(dirs.iter().all(|d| d.host.ends_with("dirs/data")));
}

#[test]
fn host_patterns_match() {
    let p = |s: &str| HostPattern::parse(s).unwrap();
    assert!(p("api.weather.gov").matches("api.weather.gov", Some(443)));
    assert!(p("API.Weather.gov").matches("api.WEATHER.gov.", None));
    assert!(!p("api.weather.gov").matches("weather.gov", None));
    assert!(p("*.example.com").matches("sub.example.com", Some(80)));
    assert!(p("*.example.com").matches("a.b.example.com", None));
    assert!(!p("*.example.com").matches("example.com", None));
    assert!(!p("*.example.com").matches("badexample.com", None));
    assert!(p("localhost:8080").matches("localhost", Some(8080)));
    assert!(!p("localhost:8080").matches("localhost", Some(8081)));
    assert!(!p("localhost:8080").matches("localhost", None));
    assert!(p("[::1]:443").matches("[::1]", Some(443)));
    assert!(p("[0:0::1]").matches("::1", None));
    assert!(p("10.0.0.1").matches("10.0.0.1", Some(1)));
    assert_eq!(p("[::1]:443").to_string(), "[::1]:443");
    assert_eq!(
        (
            p("*.x.io:9").host(),
            p("*.x.io:9").is_wildcard(),
            p("*.x.io:9").port()
        ),
        ("x.io", true, Some(9))
    );
    assert!("x.io/".parse::<HostPattern>().is_err());
}

#[test]
fn sha256_pin_is_checked() {
    let text = format!(
        "[plugins.p]\npath = \"p.wasm\"\nsha256 = \"{}\"\n",
        WEATHER_SHA.to_uppercase()
    );
    let config = parse_in("sha", &text).unwrap();
    let plugin = &config.plugins[0];
    plugin.verify_sha256(b"test").unwrap(); // sha256("test") = WEATHER_SHA
    let error = plugin.verify_sha256(b"other").unwrap_err();
    let shown = error.to_string();
    let ConfigError::Digest { actual, .. } = &error else {
        panic!("{error:?}")
    };
    for needle in [
        "plugin `p`",
        WEATHER_SHA,
        actual.as_str(),
        &format!("plugins.p.sha256 = \"{actual}\""),
    ] {
        assert!(shown.contains(needle), "{shown} lacks {needle}");
    }
    let unpinned = PluginConfig {
        sha256: None,
        ..plugin.clone()
    };
    unpinned.verify_sha256(b"anything").unwrap();
}

#[test]
fn discover_and_load_errors() {
    let dir = scratch("discover", &[], &["empty"]);
    assert_eq!(Config::discover(&dir.join("empty")), None);
    std::fs::write(dir.join("corral.toml"), "[server]\nname = \"x\"\n").unwrap();
    let found = Config::discover(&dir).unwrap();
    assert_eq!(found, dir.join("corral.toml"));
    assert_eq!(Config::load(&found).unwrap().server.name, "x");
    let error = Config::load(&dir.join("missing.toml")).unwrap_err();
    assert!(matches!(error, ConfigError::Read { .. }));
    assert!(
        error
            .to_string()
            .contains("missing.toml: cannot read the config file"),
        "{error}"
    );
}

#[test]
fn upstream_headers_take_variables_and_are_never_printed() {
    let dir = scratch("upstream-headers", &[], &[]);
    let home = std::env::var("HOME").expect("HOME is set in tests");
    let text = "[upstreams.search]\nurl = \"https://example.com/mcp\"\nprefix = \"s\"\ntimeout = \"2s\"\nheaders = { Authorization = \"Bearer ${HOME}!\" }\n\n[upstreams.local]\ncommand = [\"python\", \"server.py\"]\nenv = [\"PATH\"]\n";
    let config = Config::parse(text, &dir.join("corral.toml")).unwrap();
    let [search, local] = &config.upstreams[..] else {
        panic!("two upstreams expected: {:?}", config.upstreams);
    };
    assert_eq!(search.timeout, Duration::from_secs(2));
    assert_eq!(search.prefix.as_deref(), Some("s"));
    let UpstreamTarget::Url { headers, .. } = &search.target else {
        panic!("a URL upstream: {search:?}");
    };
    assert_eq!(
        headers,
        &[("Authorization".to_owned(), format!("Bearer {home}!"))]
    );
    assert!(
        !format!("{config:?}").contains(&home),
        "a header value was printed"
    );
    let UpstreamTarget::Command {
        program,
        args,
        env,
        dir: cwd,
    } = &local.target
    else {
        panic!("a command upstream: {local:?}");
    };
    assert_eq!(
        (program.as_str(), args.as_slice(), env.as_slice()),
        (
            "python",
            &["server.py".to_owned()][..],
            &["PATH".to_owned()][..]
        )
    );
    assert_eq!(cwd, &dir);
    // Unset: the defaults of [limits].
    assert_eq!(local.timeout, Limits::default().timeout);
}

#[test]
fn openapi_tables_resolve_with_route_maps_in_order() {
    let dir = scratch("openapi", &["petstore.json"], &[]);
    let home = std::env::var("HOME").expect("HOME is set in tests");
    let text = "[openapi.pets]\nspec = \"petstore.json\"\nbase_url = \"http://127.0.0.1:8080/api\"\nprefix = \"p\"\nheaders = { X-Api-Key = \"${HOME}\" }\n\n[[openapi.pets.route_maps]]\nmethods = [\"get\"]\npattern = \"\\\\{\"\nmcp_type = \"RESOURCE_TEMPLATE\"\n\n[[openapi.pets.route_maps]]\nmethods = [\"*\"]\ntags = [\"admin\"]\nmcp_type = \"exclude\"\n\n[openapi.remote]\nspec = \"https://api.example.com/openapi.yaml\"\nenabled = false\n";
    let config = Config::parse(text, &dir.join("corral.toml")).unwrap();
    let [pets, remote] = &config.openapi[..] else {
        panic!("two specs expected: {:?}", config.openapi);
    };
    assert_eq!(pets.spec, SpecSource::File(dir.join("petstore.json")));
    assert_eq!(
        remote.spec,
        SpecSource::Url("https://api.example.com/openapi.yaml".into())
    );
    assert!(!remote.enabled);
    let [template, exclude] = &pets.route_maps[..] else {
        panic!("two route maps: {:?}", pets.route_maps);
    };
    assert_eq!(template.mcp_type, RouteKind::ResourceTemplate);
    assert!(template.matches("GET", "/pet/{petId}", &[]));
    assert!(!template.matches("POST", "/pet/{petId}", &[]));
    assert!(!template.matches("GET", "/pet", &[]));
    // `*` is any method; the operation needs every tag of the map.
    assert!(exclude.methods.is_empty());
    assert!(exclude.matches("DELETE", "/user", &["admin".into(), "user".into()]));
    assert!(!exclude.matches("DELETE", "/user", &["user".into()]));
    assert_eq!(pets.headers, [("X-Api-Key".to_owned(), home.clone())]);
    assert!(
        !format!("{config:?}").contains(&home),
        "a header value was printed"
    );
    assert_eq!(pets.timeout, Limits::default().timeout);
}
