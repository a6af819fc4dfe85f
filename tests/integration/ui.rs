//! The web console (`/ui`): its API and live feed over loopback HTTP, its
//! bounds and its place behind the guard and auth, and the page itself
//! driven in a real headless Chromium (tests/ui/console.mjs, playwright-core
//! with Debian's `chromium`), which writes a screenshot of each page to
//! `target/ui-screenshots/`.
//!
//! Without `/usr/bin/chromium` the browser test is skipped, unless
//! `CORRAL_REQUIRE_UI=1` (CI sets it), which makes that a failure.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{TempDir, example, root, target_dir, text};
use crate::http::{HttpServer, Started, request, start_request, tool_call_2026};

fn calculator() -> String {
    example("calculator-rust").to_str().unwrap().to_owned()
}

fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> crate::http::Response {
    request(addr, "GET", path, headers, b"")
}

fn follow(addr: &str, headers: &[(&str, &str)]) -> Started {
    let mut all = vec![("Accept", "text/event-stream")];
    all.extend_from_slice(headers);
    start_request(addr, "GET", "/ui/api/events", &all, b"")
}

/// The next event of a console feed that is not a comment: (kind, data).
fn next_event(feed: &mut Started) -> (String, Value) {
    let event = feed.next_event().expect("the feed goes on");
    (event.kind.expect("a kind"), event.data.expect("data"))
}

/// The next `call` event of a feed (a reload of the catalog may come first:
/// the first load is announced too).
fn next_call(feed: &mut Started) -> Value {
    loop {
        match next_event(feed) {
            (kind, data) if kind == "call" => return data,
            (kind, data) => assert_eq!(kind, "reload", "{data}"),
        }
    }
}

#[test]
fn the_console_is_off_by_default_and_read_only_unless_calls_are_enabled() {
    let off = HttpServer::start("http", &[&calculator()]);
    assert_eq!(get(&off.addr, "/ui/", &[]).status, 404);
    assert_eq!(get(&off.addr, "/ui/api/catalog", &[]).status, 404);

    let on = HttpServer::start("http", &[&calculator(), "--ui"]);
    let page = get(&on.addr, "/ui/", &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Corral console"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(get(&on.addr, "/ui", &[]).status, 308);
    let script = get(&on.addr, "/ui/app.js", &[]);
    assert!(
        script
            .header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );

    let catalog: Value = serde_json::from_str(&get(&on.addr, "/ui/api/catalog", &[]).body).unwrap();
    assert_eq!(catalog["calls"], false, "read-only without ui_calls");
    assert_eq!(catalog["mcp_path"], "/mcp");
    let provider = &catalog["providers"][0];
    assert_eq!(provider["name"], "calculator-rust");
    assert_eq!(provider["kind"], "plugin");
    let digest = provider["details"]["digest"].as_str().unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(provider["details"]["limits"]["fuel"], 2_000_000_000u64);
    assert_eq!(provider["details"]["grants"], json!([]));
    let multiply = catalog["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "multiply")
        .expect("multiply is listed");
    assert_eq!(multiply["provider"], "calculator-rust");
    assert!(multiply["inputSchema"]["properties"]["a"].is_object());

    // Another origin is refused here as on /mcp.
    let foreign = get(
        &on.addr,
        "/ui/api/catalog",
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(foreign.status, 403);

    // Over stdio there is no listener to serve it on.
    let stdio = crate::harness::corral()
        .args(["serve", &calculator(), "--ui"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!stdio.status.success());
    let said = String::from_utf8_lossy(&stdio.stderr);
    assert!(
        said.contains("--ui serves the console on the HTTP listener"),
        "{said}"
    );

    let calls = HttpServer::start("http", &[&calculator(), "--ui", "--ui-calls"]);
    let catalog: Value =
        serde_json::from_str(&get(&calls.addr, "/ui/api/catalog", &[]).body).unwrap();
    assert_eq!(catalog["calls"], true);
}

/// Calls appear in the feed as they end, with what they used; at most
/// `MAX_CONSOLES` (8) follow at once, and a ninth is told so.
#[test]
fn the_live_feed_reports_calls_and_is_bounded() {
    let server = HttpServer::start("http", &[&calculator(), "--ui"]);
    let mut feed = follow(&server.addr, &[]);
    assert_eq!(feed.status, 200);
    assert!(
        feed.header("content-type")
            .unwrap()
            .starts_with("text/event-stream")
    );
    let answer = tool_call_2026(
        &server.addr,
        "multiply",
        json!({"arguments": {"a": 6, "b": 7}}),
    );
    assert!(answer["result"].is_object(), "{answer}");
    let call = next_call(&mut feed);
    assert_eq!(call["name"], "multiply", "{call}");
    assert_eq!(call["plugin"], "calculator-rust");
    assert_eq!(call["outcome"], "ok");
    assert!(call["fuel"].as_u64().unwrap() > 0, "{call}");
    assert!(call["memory_peak"].as_u64().unwrap() > 0, "{call}");
    assert!(call["duration_us"].is_u64(), "{call}");

    let mut others: Vec<Started> = (0..7).map(|_| follow(&server.addr, &[])).collect();
    assert!(others.iter().all(|f| f.status == 200));
    let refused = follow(&server.addr, &[]).finish();
    assert_eq!(refused.status, 503);
    assert!(refused.body.contains("(MAX_CONSOLES)"), "{}", refused.body);
    others.pop();
    drop(feed);
    let again = eventually_following(&server.addr);
    assert_eq!(again.status, 200);
}

/// A console that left makes room: retried until the server has seen it go.
fn eventually_following(addr: &str) -> Started {
    crate::harness::eventually("a console's place to be free", || {
        let feed = follow(addr, &[]);
        (feed.status == 200).then_some(feed)
    })
}

/// With `[server.auth]`, the page loads without a token (it holds no data);
/// the API needs one and shows what the token's view shows.
#[test]
fn the_console_api_is_behind_auth_and_follows_token_views() {
    let dir = TempDir::new("ui-auth");
    // The calculator once more, served to everyone under another name.
    let public = dir.0.join("public.wasm");
    std::fs::copy(calculator(), &public).unwrap();
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[server.http]\nui = true\n\n[server.auth]\n\
             [[server.auth.tokens]]\nenv = \"CORRAL_TEST_ADMIN\"\nsubject = \"admin\"\nscopes = [\"admin\"]\n\
             [[server.auth.tokens]]\nenv = \"CORRAL_TEST_READER\"\nsubject = \"reader\"\n\
             [[server.auth.views]]\nscope = \"admin\"\n\
             [[server.auth.views]]\nexclude_tags = [\"admin\"]\n\n\
             [plugins.calc]\npath = \"{calc}\"\ntags = [\"admin\"]\n\n[plugins.profile]\npath = \"{profile}\"\n\n\
             [plugins.public]\npath = \"{public}\"\nprefix = \"pub\"\n",
            calc = calculator(),
            public = public.display(),
            profile = example("profile-rust").display(),
        ),
    )
    .unwrap();
    let admin = "admin-token-0123456789abcdef";
    let reader = "reader-token-0123456789abcdef";
    let server = HttpServer::start_env(
        "http",
        &["--config", config.to_str().unwrap()],
        0,
        &[("CORRAL_TEST_ADMIN", admin), ("CORRAL_TEST_READER", reader)],
    );
    assert_eq!(get(&server.addr, "/ui/", &[]).status, 200);
    let anonymous = get(&server.addr, "/ui/api/catalog", &[]);
    assert_eq!(anonymous.status, 401);
    assert_eq!(follow(&server.addr, &[]).status, 401);
    let catalog_for = |token: &str| -> Value {
        let bearer = format!("Bearer {token}");
        let answer = get(
            &server.addr,
            "/ui/api/catalog",
            &[("Authorization", &bearer)],
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        serde_json::from_str(&answer.body).unwrap()
    };
    let names = |catalog: &Value, list: &str, key: &str| -> Vec<String> {
        catalog[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x[key].as_str().unwrap().to_owned())
            .collect()
    };
    let full = catalog_for(admin);
    assert!(names(&full, "tools", "name").contains(&"multiply".to_owned()));
    assert_eq!(
        names(&full, "providers", "name"),
        ["calc", "profile", "public"]
    );
    let limited = catalog_for(reader);
    assert!(!names(&limited, "tools", "name").contains(&"multiply".to_owned()));
    assert_eq!(names(&limited, "providers", "name"), ["profile", "public"]);

    // The live feed too: the reader's console does not see the admin's
    // call to `multiply`; it sees its own call to `pub_multiply`.
    let bearer = |token: &str| format!("Bearer {token}");
    let reader_auth = bearer(reader);
    let mut feed = follow(&server.addr, &[("Authorization", &reader_auth)]);
    assert_eq!(feed.status, 200);
    for (token, tool) in [(admin, "multiply"), (reader, "pub_multiply")] {
        let auth = bearer(token);
        let answer = call_2026(&server.addr, tool, &[("Authorization", &auth)]);
        assert!(text(&answer["result"]).starts_with("42"), "{answer}");
    }
    let seen = next_call(&mut feed);
    assert_eq!(seen["name"], "pub_multiply", "{seen}");
    assert!(seen.get("trace_id").is_none());
}

/// `name` called with 6 and 7 as a 2026-07-28 client sending `headers`:
/// the JSON-RPC answer.
fn call_2026(addr: &str, name: &str, headers: &[(&str, &str)]) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
    "name": name, "arguments": {"a": 6, "b": 7},
    "_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {}
    }}});
    let mut all = vec![
        ("Accept", "application/json, text/event-stream"),
        ("Content-Type", "application/json"),
        ("Mcp-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", name),
    ];
    all.extend_from_slice(headers);
    let response = request(addr, "POST", "/mcp", &all, body.to_string().as_bytes());
    response
        .messages()
        .into_iter()
        .find(|m| m["id"] == 1)
        .unwrap_or_else(|| json!({"status": response.status, "body": response.body}))
}

/// Whether Chromium is installed; if not, skip (or fail under
/// `CORRAL_REQUIRE_UI`).
fn chromium() -> Option<&'static str> {
    let program = "/usr/bin/chromium";
    if Path::new(program).exists() {
        return Some(program);
    }
    assert!(
        std::env::var_os("CORRAL_REQUIRE_UI").is_none(),
        "CORRAL_REQUIRE_UI is set but {program} is not installed (apt install chromium)"
    );
    eprintln!("skipped: {program} is not installed");
    None
}

/// The console in headless Chromium: the plugins page lists the
/// calculator, the form calls `multiply` with 6 and 7 and shows 42, and the
/// call appears in the live log with its fuel; markup in a description is
/// shown as text (its script never runs); no script error and nothing the
/// page's policy refused. Screenshots in `target/ui-screenshots/`.
#[test]
fn the_console_works_in_headless_chromium() {
    let Some(chromium) = chromium() else { return };
    let script = root().join("tests/ui/console.mjs");
    assert!(
        root()
            .join("tests/ui/node_modules/playwright-core")
            .exists(),
        "tests/ui/node_modules is missing: run `cargo xtask test`, which installs it"
    );
    // Beside the calculator, an OpenAPI operation whose description is
    // markup with a script in it: the page must show it as text.
    let dir = TempDir::new("ui-browser");
    let spec = dir.0.join("hostile.json");
    std::fs::write(
        &spec,
        json!({"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/x": {"get": {"operationId": "hostile_markup",
                "description": "<img src=x onerror=\"window.__xss=1\"><b>bold</b>",
                "responses": {"200": {"description": "ok"}}}}}})
        .to_string(),
    )
    .unwrap();
    let config = dir.0.join("corral.toml");
    std::fs::write(
        &config,
        format!(
            "[plugins.calculator-rust]\npath = \"{}\"\n\n[openapi.markup]\nspec = \"{}\"\nbase_url = \"http://127.0.0.1:9\"\n",
            calculator(),
            spec.display()
        ),
    )
    .unwrap();
    let server = HttpServer::start(
        "http",
        &["--config", config.to_str().unwrap(), "--ui", "--ui-calls"],
    );
    let out_dir = target_dir().join("ui-screenshots");
    // Screenshots of an earlier run must not pass for this one's.
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = Command::new("node")
        .arg(&script)
        .args(["--url", &format!("http://{}", server.addr)])
        .arg("--out")
        .arg(&out_dir)
        .args(["--chromium", chromium])
        .output()
        .expect("running node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains(" passed, 0 failed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for page in [
        "plugins",
        "tools",
        "tool-multiply",
        "log",
        "resources",
        "prompts",
    ] {
        let shot = out_dir.join(format!("{page}.png"));
        let size = std::fs::metadata(&shot).map(|m| m.len()).unwrap_or(0);
        assert!(size > 1000, "{} was not written", shot.display());
    }
}
