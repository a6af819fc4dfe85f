//! Mounting plugins: prefixes, config tags, tag filters, disabled components.

use std::process::Stdio;

use serde_json::{Value, json};

use crate::harness::{Server, TempDir, corral, example, test_plugin, text};

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list["result"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {list}"))
        .iter()
        .map(|i| i[field].as_str().unwrap().to_owned())
        .collect()
}

fn config(dir: &TempDir, text: &str) -> String {
    let path = dir.0.join("corral.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn prefixes_name_tools_prompts_and_resources() {
    let dir = TempDir::new("mount-prefix");
    let path = config(
        &dir,
        &format!(
            r#"
[plugins.calc]
path = "{}"
prefix = "calc"
[plugins.profile]
path = "{}"
prefix = "prof"
[plugins.prompts]
path = "{}"
prefix = "p"
"#,
            example("calculator-rust").display(),
            example("profile-rust").display(),
            example("prompts-rust").display()
        ),
    );
    let mut server = Server::start(&["--config", &path]);
    let tools = names(&server.request("tools/list", json!({})), "tools", "name");
    assert_eq!(tools, ["calc_add", "calc_multiply", "calc_divide"]);
    let product = server.call_tool("calc_multiply", json!({"a": 2, "b": 21}));
    assert_eq!(product["structuredContent"]["result"], 42.0);
    let unknown = server.request("tools/call", json!({"name": "multiply", "arguments": {}}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    let resources = names(
        &server.request("resources/list", json!({})),
        "resources",
        "uri",
    );
    assert_eq!(resources, ["data://prof/config"]);
    let config = server.request("resources/read", json!({"uri": "data://prof/config"}));
    assert!(
        config["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("dark")
    );
    let templates = names(
        &server.request("resources/templates/list", json!({})),
        "resourceTemplates",
        "uriTemplate",
    );
    assert_eq!(templates, ["users://prof/{user_id}/profile"]);
    let profile = server.request("resources/read", json!({"uri": "users://prof/7/profile"}));
    let contents = &profile["result"]["contents"][0];
    assert!(
        contents["text"].as_str().unwrap().contains("User 7"),
        "{profile}"
    );
    let unprefixed = server.request("resources/read", json!({"uri": "data://config"}));
    assert!(unprefixed.get("error").is_some(), "{unprefixed}");

    let prompts = names(
        &server.request("prompts/list", json!({})),
        "prompts",
        "name",
    );
    assert_eq!(prompts, ["p_analyze_data"]);
    let prompt = server.request(
        "prompts/get",
        json!({"name": "p_analyze_data", "arguments": {"data_points": "[1]"}}),
    );
    assert!(
        prompt["result"]["messages"][0]["content"]["text"].is_string(),
        "{prompt}"
    );
}

#[test]
fn same_names_collide_without_prefixes_and_coexist_with_them() {
    let dir = TempDir::new("mount-collide");
    // The same file twice is one plugin path; a copy makes two.
    let (one, two) = (dir.0.join("one.wasm"), dir.0.join("two.wasm"));
    std::fs::copy(example("calculator-rust"), &one).unwrap();
    std::fs::copy(example("calculator-rust"), &two).unwrap();
    let write = |prefixes: [&str; 2]| {
        config(
            &dir,
            &format!(
                "[plugins.one]\npath = \"{}\"\n{}\n[plugins.two]\npath = \"{}\"\n{}\n",
                one.display(),
                prefixes[0],
                two.display(),
                prefixes[1]
            ),
        )
    };

    // Without prefixes the second plugin's tools are the first's: it is
    // refused, naming both plugins and the tool, and since the config names
    // it, the server stops.
    let path = write(["", ""]);
    let out = corral()
        .args(["serve", "--config", &path])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let refusal = format!(
        "error: plugin `two` of {path} did not load: {}: tool `add` is already served by plugin `one` ({}); plugin `two` is not loaded (give one of them a prefix)",
        two.display(),
        one.display()
    );
    assert!(
        stderr.contains(&refusal),
        "expected {refusal:?} in:\n{stderr}"
    );

    // With prefixes they coexist.
    let path = write(["prefix = \"one\"", "prefix = \"two\""]);
    let mut server = Server::start(&["--config", &path]);
    let tools = names(&server.request("tools/list", json!({})), "tools", "name");
    assert_eq!(
        tools,
        [
            "one_add",
            "one_multiply",
            "one_divide",
            "two_add",
            "two_multiply",
            "two_divide"
        ]
    );
    let product = server.call_tool("two_multiply", json!({"a": 6, "b": 7}));
    assert_eq!(product["structuredContent"]["result"], 42.0);
}

#[test]
fn tag_filters_hide_components_as_if_unknown() {
    let calculator = example("calculator-rust");
    // `divide` carries the tag `math`.
    let mut server = Server::start(&[calculator.to_str().unwrap(), "--exclude-tag", "math"]);
    let tools = names(&server.request("tools/list", json!({})), "tools", "name");
    assert_eq!(tools, ["add", "multiply"]);
    let hidden = server.request(
        "tools/call",
        json!({"name": "divide", "arguments": {"a": 1, "b": 1}}),
    );
    assert_eq!(hidden["error"]["code"], -32602, "{hidden}");

    let mut server = Server::start(&[calculator.to_str().unwrap(), "--include-tag", "math"]);
    let tools = names(&server.request("tools/list", json!({})), "tools", "name");
    assert_eq!(tools, ["divide"]);

    // Exclude wins over include.
    let mut server = Server::start(&[
        calculator.to_str().unwrap(),
        "--include-tag",
        "math",
        "--exclude-tag",
        "math",
    ]);
    let tools = names(&server.request("tools/list", json!({})), "tools", "name");
    assert!(tools.is_empty(), "{tools:?}");
}

#[test]
fn config_tags_and_disabled_components_apply() {
    let dir = TempDir::new("mount-tags");
    let path = config(
        &dir,
        &format!(
            r#"
[server]
include_tags = ["public"]

[plugins.everything]
path = "{}"
tags = ["public"]
disabled_components = ["red_pixel", "memo://readme"]

[plugins.calc]
path = "{}"
"#,
            test_plugin("everything").display(),
            example("calculator-rust").display()
        ),
    );
    let mut server = Server::start(&["--config", &path]);
    let list = server.request("tools/list", json!({}));
    let tools = names(&list, "tools", "name");
    // Calculator's tools are not tagged `public`; red_pixel is disabled.
    assert_eq!(tools, ["greet", "stats"]);
    assert_eq!(
        list["result"]["tools"][0]["_meta"]["corral"]["tags"],
        json!(["public"])
    );
    let resources = names(
        &server.request("resources/list", json!({})),
        "resources",
        "uri",
    );
    assert!(resources.is_empty(), "{resources:?}");
    let greet = server.call_tool("greet", json!({"name": "Ada"}));
    assert_eq!(text(&greet), "Hello, Ada!");
}

#[test]
fn server_identity_and_instructions_come_from_the_config() {
    let dir = TempDir::new("server-identity");
    let path = config(
        &dir,
        &format!(
            r#"
[server]
name = "MyAssistantServer"
title = "My Assistant"
version = "2.1.0"
website_url = "https://example.com"
instructions = "Use the calculator for arithmetic."
icons = [{{ src = "https://example.com/icon.png", mime_type = "image/png", sizes = ["48x48"] }}]

[plugins.calc]
path = "{}"
"#,
            example("calculator-rust").display()
        ),
    );
    let mut server = Server::start(&["--config", &path]);
    let init = server.initialize_result.clone();
    let info = &init["serverInfo"];
    assert_eq!(info["name"], "MyAssistantServer", "{init}");
    assert_eq!(info["title"], "My Assistant");
    assert_eq!(info["version"], "2.1.0");
    assert_eq!(info["websiteUrl"], "https://example.com");
    assert_eq!(info["icons"][0]["sizes"], json!(["48x48"]));
    assert_eq!(init["instructions"], "Use the calculator for arithmetic.");
    let product = server.call_tool("multiply", json!({"a": 3, "b": 3}));
    assert_eq!(product["structuredContent"]["result"], 9.0);
}
