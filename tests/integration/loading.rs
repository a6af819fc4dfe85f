//! A plugin directory with broken files: each is reported with its file
//! name and reason, and the rest are served.

use serde_json::json;

use crate::harness::{Server, TempDir, eventually, example};

#[test]
fn broken_files_are_reported_and_skipped() {
    let dir = TempDir::new("broken-plugins");
    std::fs::copy(example("calculator-rust"), dir.0.join("calculator.wasm")).unwrap();
    std::fs::write(dir.0.join("garbage.wasm"), b"definitely not wasm").unwrap();
    // A valid, empty core module: not a component.
    std::fs::write(dir.0.join("core.wasm"), b"\0asm\x01\0\0\0").unwrap();
    // A valid, empty component: exports nothing Corral knows.
    std::fs::write(dir.0.join("empty.wasm"), b"\0asm\x0d\0\x01\0").unwrap();
    // A component cut short.
    let calculator = std::fs::read(example("calculator-rust")).unwrap();
    std::fs::write(
        dir.0.join("truncated.wasm"),
        &calculator[..calculator.len() / 2],
    )
    .unwrap();
    std::fs::write(dir.0.join("notes.txt"), b"ignored: not a .wasm file").unwrap();

    let mut server = Server::start(&[dir.0.to_str().unwrap()]);
    let tools = server.request("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"multiply"), "{names:?}");

    let stderr = eventually("the load report", || {
        let text = server.stderr_text();
        text.contains("plugin(s) loaded").then_some(text)
    });
    for (file, reason) in [
        ("garbage.wasm", "not a WebAssembly file"),
        ("core.wasm", "a core WebAssembly module, not a component"),
        ("empty.wasm", "exports none of"),
        ("truncated.wasm", "invalid component"),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(file) && l.contains(reason)),
            "expected {file}: {reason} in stderr:\n{stderr}"
        );
    }
    assert!(!stderr.contains("notes.txt"));
    assert!(stderr.contains("1 plugin(s) loaded"), "{stderr}");
    server.shutdown();
}

#[test]
fn a_colliding_plugin_is_refused_naming_both() {
    let dir = TempDir::new("colliding-plugins");
    std::fs::copy(example("calculator-rust"), dir.0.join("a-calculator.wasm")).unwrap();
    std::fs::copy(example("calculator-rust"), dir.0.join("b-calculator.wasm")).unwrap();
    let mut server = Server::start(&[dir.0.to_str().unwrap()]);
    let product = server.call_tool("multiply", json!({"a": 2, "b": 2}));
    assert_eq!(product["structuredContent"]["result"], 4.0);
    // The report travels on stderr, which can lag behind the answer.
    server.await_stderr("already served");
    let stderr = server.stderr_text();
    let line = stderr
        .lines()
        .find(|l| l.contains("already served"))
        .unwrap_or_else(|| panic!("no collision report in:\n{stderr}"));
    assert!(line.contains("b-calculator"), "{line}");
    assert!(line.contains("a-calculator"), "{line}");
    assert!(line.contains("tool `"), "{line}");
}
