//! Golden files: what a user reads when a config is wrong, and the MCP wire
//! shape of every kind of answer, each compared with a file under
//! `tests/golden/`. A change to either shows up in review as a diff.
//!
//! `CORRAL_BLESS=1 cargo test --release -p corral --test integration golden`
//! rewrites the files from what the binary does now.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, corral, example, root, test_plugin};

/// The one variable that refreshes every golden file.
const BLESS: &str = "CORRAL_BLESS";

/// Compare `actual` with the golden file `name` (or write it, when blessing).
fn golden(name: &str, actual: &str) {
    let path = root().join("tests/golden").join(name);
    if std::env::var_os(BLESS).is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing; run the test with {BLESS}=1 to write it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from what the binary does now ({BLESS}=1 rewrites it if the change is meant):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

/// Config mistakes, one per row: (golden name, corral.toml). `{plugin}` is
/// replaced by a real plugin file. Each error must name the file, the line
/// and the key, and say what is allowed.
const CONFIG_ERRORS: &[(&str, &str)] = &[
    ("unknown-top-level-key", "[serverr]\nname = \"x\"\n"),
    (
        "unknown-plugin-key",
        "[plugins.p]\npath = \"{plugin}\"\nprefx = \"p\"\n",
    ),
    ("not-toml", "[server\nname = \"x\"\n"),
    ("wrong-type", "[server]\npage_size = \"ten\"\n"),
    ("memory-unit", "[limits]\nmemory = \"64 parsecs\"\n"),
    ("memory-over-ceiling", "[limits]\nmemory = \"2GiB\"\n"),
    ("timeout-too-short", "[limits]\ntimeout = \"1ms\"\n"),
    (
        "task-timeout-without-unit",
        "[limits]\ntask_timeout = 600\n",
    ),
    (
        "task-after-not-a-duration",
        "[server]\ntask_after = \"soon\"\n",
    ),
    ("concurrency-zero", "[limits]\nconcurrency = 0\n"),
    (
        "missing-plugin-file",
        "[plugins.p]\npath = \"nowhere.wasm\"\n",
    ),
    ("plugin-without-path", "[plugins.p]\nprefix = \"p\"\n"),
    (
        "bad-prefix",
        "[plugins.p]\npath = \"{plugin}\"\nprefix = \"has space\"\n",
    ),
    (
        "bad-sha256",
        "[plugins.p]\npath = \"{plugin}\"\nsha256 = \"abc\"\n",
    ),
    (
        "allow-host-url",
        "[plugins.p]\npath = \"{plugin}\"\nallow_hosts = [\"https://api.example.com/v1\"]\n",
    ),
    (
        "dir-guest-relative",
        "[plugins.p]\npath = \"{plugin}\"\n[plugins.p.dirs]\n\"data\" = \"/tmp\"\n",
    ),
    (
        "http-host-wildcard",
        "[server.http]\nallowed_hosts = [\"*.example.com\"]\n",
    ),
    (
        "http-origin-without-scheme",
        "[server.http]\nallowed_origins = [\"localhost:3000\"]\n",
    ),
    ("empty-server-name", "[server]\nname = \" \"\n"),
    (
        "upstream-command-and-url",
        "[upstreams.u]\ncommand = [\"x\"]\nurl = \"http://127.0.0.1:1/mcp\"\n",
    ),
    ("upstream-neither", "[upstreams.u]\nprefix = \"u\"\n"),
    ("upstream-empty-command", "[upstreams.u]\ncommand = []\n"),
    (
        "upstream-not-a-url",
        "[upstreams.u]\nurl = \"ftp://example.com/mcp\"\n",
    ),
    (
        "upstream-unset-variable",
        "[upstreams.u]\nurl = \"https://example.com/mcp\"\nheaders = { Authorization = \"Bearer ${CORRAL_TEST_UNSET_TOKEN}\" }\n",
    ),
    (
        "upstream-headers-on-command",
        "[upstreams.u]\ncommand = [\"x\"]\nheaders = { X-Key = \"k\" }\n",
    ),
    (
        "upstream-name-taken",
        "[plugins.p]\npath = \"{plugin}\"\n[upstreams.p]\ncommand = [\"x\"]\n",
    ),
    (
        "upstream-unknown-key",
        "[upstreams.u]\ncommand = [\"x\"]\ncwd = \"/tmp\"\n",
    ),
    ("openapi-without-spec", "[openapi.api]\nprefix = \"api\"\n"),
    (
        "openapi-missing-spec-file",
        "[openapi.api]\nspec = \"no-such-spec.json\"\n",
    ),
    (
        "openapi-bad-base-url",
        "[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\nbase_url = \"api.example.com\"\n",
    ),
    (
        "openapi-route-map-type",
        "[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\n\n[[openapi.api.route_maps]]\nmethods = [\"GET\"]\nmcp_type = \"RESOURCE_TEMPLATES\"\n",
    ),
    (
        "openapi-route-map-pattern",
        "[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\n\n[[openapi.api.route_maps]]\npattern = \"^/pet/{petId\"\nmcp_type = \"exclude\"\n",
    ),
    (
        "openapi-route-map-method",
        "[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\n\n[[openapi.api.route_maps]]\nmethods = [\"FETCH\"]\nmcp_type = \"tool\"\n",
    ),
    (
        "openapi-name-taken",
        "[upstreams.api]\ncommand = [\"x\"]\n\n[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\n",
    ),
    (
        "openapi-unknown-key",
        "[openapi.api]\nspec = \"http://127.0.0.1:1/openapi.json\"\nroutes = []\n",
    ),
];

#[test]
fn config_errors_match_their_golden_files() {
    let dir = TempDir::new("golden-config");
    let plugin = example("calculator-rust");
    for (name, text) in CONFIG_ERRORS {
        let file = dir.0.join(format!("{name}.toml"));
        let text = text.replace("{plugin}", plugin.to_str().unwrap());
        std::fs::write(&file, &text).unwrap();
        let out = corral()
            .arg("serve")
            .arg("--config")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{name}: the config was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let shown = normalize(&stderr, &[(&dir.0, "<dir>"), (&plugin, "<plugin>")]);
        let shown_text = normalize(&text, &[(&plugin, "<plugin>")]);
        golden(
            &format!("config/{name}.txt"),
            &format!("{shown_text}---\n{shown}"),
        );
    }
}

/// Paths replaced by placeholders, so golden files hold no machine's paths.
fn normalize(text: &str, paths: &[(&Path, &str)]) -> String {
    let mut text = text.to_owned();
    for (path, placeholder) in paths {
        text = text.replace(path.to_str().unwrap(), placeholder);
    }
    text
}

/// One request and the golden file its answer goes to.
struct WireCase {
    name: &'static str,
    method: &'static str,
    params: Value,
}

fn case(name: &'static str, method: &'static str, params: Value) -> WireCase {
    WireCase {
        name,
        method,
        params,
    }
}

/// The answer as a client reads it, without what differs per run.
fn answer_shape(mut response: Value) -> String {
    if let Some(object) = response.as_object_mut() {
        object.remove("id");
    }
    if let Some(version) = response.pointer_mut("/result/serverInfo/version") {
        *version = json!("<version>");
    }
    let mut text = serde_json::to_string_pretty(&response).unwrap();
    text.push('\n');
    text
}

fn check_wire(server: &mut Server, prefix: &str, cases: Vec<WireCase>) {
    for WireCase {
        name,
        method,
        params,
    } in cases
    {
        let response = server.request(method, params);
        golden(
            &format!("wire/{prefix}-{name}.json"),
            &answer_shape(response),
        );
    }
}

/// Every kind of result and error, from the conformance fixture (content
/// of every type, binary resources, prompts with images and resources).
#[test]
fn answers_keep_their_wire_shape() {
    let fixture: PathBuf = test_plugin("conformance");
    let mut server = Server::start(&[fixture.to_str().unwrap()]);
    golden(
        "wire/initialize.json",
        &answer_shape(json!({ "result": server.initialize_result.clone() })),
    );
    let tool = |name: &str| json!({ "name": name, "arguments": {} });
    check_wire(
        &mut server,
        "conformance",
        vec![
            case("text", "tools/call", tool("test_simple_text")),
            case("image", "tools/call", tool("test_image_content")),
            case("audio", "tools/call", tool("test_audio_content")),
            case("embedded", "tools/call", tool("test_embedded_resource")),
            case(
                "multiple",
                "tools/call",
                tool("test_multiple_content_types"),
            ),
            case("tool-error", "tools/call", tool("test_error_handling")),
            case("unknown-tool", "tools/call", tool("no_such_tool")),
            // A tool that runs only as a task, called by a client without
            // the tasks extension.
            case("task-required", "tools/call", tool("failing_job")),
            case(
                "text-resource",
                "resources/read",
                json!({"uri": "test://static-text"}),
            ),
            case(
                "binary-resource",
                "resources/read",
                json!({"uri": "test://static-binary"}),
            ),
            case(
                "unknown-resource",
                "resources/read",
                json!({"uri": "test://no-such-thing"}),
            ),
            case(
                "prompt",
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a", "arg2": "b"}}),
            ),
            case(
                "prompt-image",
                "prompts/get",
                json!({"name": "test_prompt_with_image"}),
            ),
            case(
                "prompt-missing-argument",
                "prompts/get",
                json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "a"}}),
            ),
            case(
                "unknown-prompt",
                "prompts/get",
                json!({"name": "no_such_prompt"}),
            ),
        ],
    );
    server.shutdown();

    let everything = test_plugin("everything");
    let mut server = Server::start(&[everything.to_str().unwrap()]);
    check_wire(
        &mut server,
        "everything",
        vec![
            case("tools", "tools/list", json!({})),
            case("resources", "resources/list", json!({})),
            case("templates", "resources/templates/list", json!({})),
            case("prompts", "prompts/list", json!({})),
            case(
                "structured",
                "tools/call",
                json!({"name": "stats", "arguments": {"numbers": [1, 2, 3]}}),
            ),
            case(
                "invalid-arguments",
                "tools/call",
                json!({"name": "stats", "arguments": {"numbers": "many", "extra": 1}}),
            ),
            case(
                "template-read",
                "resources/read",
                json!({"uri": "docs://guide/intro?lang=fr&limit=3"}),
            ),
            case(
                "completion",
                "completion/complete",
                json!({"ref": {"type": "ref/prompt", "name": "review_code"}, "argument": {"name": "language", "value": "ru"}}),
            ),
        ],
    );
    server.shutdown();
}
