//! `corral call`, `list`, `read` and `prompt` against each kind of target
//! (a plugin directory in-process, a URL, a stdio command), and `corral new`
//! for each language, built and then called.

use std::process::Output;

use crate::harness::{TempDir, corral, example, root};
use crate::http::HttpServer;

fn run(args: &[&str]) -> Output {
    corral().args(args).output().unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "corral {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn call_list_read_and_prompt_a_plugin_directory() {
    let dir = root().join("plugins/dist");
    let dir = dir.to_str().unwrap();
    assert_eq!(
        stdout_of(&["call", dir, "multiply", "a=6", "b=7"]).trim(),
        "42.0"
    );
    // --json carries structured arguments; key=value pairs override it.
    assert_eq!(
        stdout_of(&["call", dir, "add", "--json", r#"{"a": 1, "b": 1}"#, "b=2"]).trim(),
        "3.0"
    );
    let listing = stdout_of(&["list", dir]);
    for item in [
        "multiply",
        "mean",
        "data://config",
        "users://{user_id}/profile",
        "analyze_data(data_points)",
    ] {
        assert!(listing.contains(item), "{item} in:\n{listing}");
    }
    let profile = stdout_of(&["read", dir, "users://7/profile"]);
    assert!(profile.contains(r#""id":7"#), "{profile}");
    let prompt = stdout_of(&["prompt", dir, "analyze_data", "data_points=[1,2]"]);
    assert!(prompt.contains("1, 2"), "{prompt}");
}

/// `--config` with no TARGET serves, in process, everything the config
/// names: here a plugin under a prefix and an upstream (Corral over stdio).
#[test]
fn a_config_alone_is_a_target_with_its_plugins_and_upstreams() {
    let dir = TempDir::new("client-config");
    let inner = dir.0.join("inner.toml");
    std::fs::write(&inner, "[server]\nname = \"inner\"\n").unwrap();
    let program = corral().get_program().to_str().unwrap().to_owned();
    let everything = crate::harness::test_plugin("everything");
    let file = dir.0.join("corral.toml");
    std::fs::write(
        &file,
        format!(
            "[plugins.calc]\npath = {:?}\nprefix = \"calc\"\n\n[upstreams.inner]\ncommand = [{program:?}, \"serve\", \"--config\", {:?}, {:?}]\nenv = [\"CORRAL_CACHE_DIR\"]\n",
            example("calculator-rust").to_str().unwrap(),
            inner.to_str().unwrap(),
            everything.to_str().unwrap(),
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    assert_eq!(
        stdout_of(&["call", "--config", file, "calc_multiply", "a=6", "b=7"]).trim(),
        "42.0"
    );
    assert_eq!(
        stdout_of(&["call", "--config", file, "greet", "name=Ann"]).trim(),
        "Hello, Ann!"
    );
    let listing = stdout_of(&["list", "--config", file]);
    for item in ["calc_multiply", "greet", "memo://readme", "review_code"] {
        assert!(listing.contains(item), "{item} in:\n{listing}");
    }
}

#[test]
fn failures_exit_non_zero_with_the_reason() {
    let calculator = example("calculator-rust");
    let calculator = calculator.to_str().unwrap();
    for (args, reason) in [
        (
            vec!["call", calculator, "divide", "a=1", "b=0"],
            "Division by zero",
        ),
        (vec!["call", calculator, "nosuch"], "no tool `nosuch`"),
        (vec!["call", calculator, "multiply", "a=x", "b=1"], "/a"),
        (vec!["call", calculator, "multiply", "a"], "not key=value"),
        (vec!["call", "/no/such/dir", "multiply"], "does not exist"),
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains(reason),
            "{args:?}: expected {reason:?} in {all}"
        );
    }
}

#[test]
fn call_a_url_and_a_stdio_command() {
    let server = HttpServer::start("http", &[example("calculator-rust").to_str().unwrap()]);
    let url = server.url("/mcp");
    assert_eq!(
        stdout_of(&["call", &url, "multiply", "a=3", "b=5"]).trim(),
        "15.0"
    );
    assert!(stdout_of(&["list", &url]).contains("divide"));

    let corral_bin = env!("CARGO_BIN_EXE_corral");
    let profile = example("profile-rust");
    let out = stdout_of(&[
        "read",
        "data://config",
        "--",
        corral_bin,
        "serve",
        profile.to_str().unwrap(),
    ]);
    assert!(out.contains("dark"), "{out}");
}

/// `corral new NAME --lang LANG`, the project's own build command, then
/// `corral call` on what it built (`out`: relative to the project, or absolute).
fn scaffold_builds_and_answers(lang: &str, build: &[&str], env: &[(&str, &str)], out: &str) {
    let scratch = TempDir::new(&format!("new-{lang}"));
    let project = scratch.0.join("demo-tools");
    let created = run(&[
        "new",
        "demo-tools",
        "--lang",
        lang,
        "--dir",
        project.to_str().unwrap(),
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    // A second `new` into the same place refuses to overwrite it.
    let again = run(&["new", "demo-tools", "--dir", project.to_str().unwrap()]);
    assert!(!again.status.success());

    let status = std::process::Command::new(build[0])
        .args(&build[1..])
        .envs(env.iter().copied())
        .current_dir(&project)
        .status()
        .unwrap_or_else(|e| panic!("running {build:?}: {e}"));
    assert!(
        status.success(),
        "{build:?} failed in {}",
        project.display()
    );
    let built = project.join(out);
    let built = built.to_str().unwrap();
    assert_eq!(
        stdout_of(&["call", built, "greet", "name=World"]).trim(),
        "Hello, World!"
    );
    let about = stdout_of(&["read", built, "demo-tools://about"]);
    assert!(about.contains("demo-tools is a Corral plugin"), "{about}");
    let review = stdout_of(&["prompt", built, "review", "code=x = 1"]);
    assert!(review.contains("x = 1"), "{review}");
}

#[test]
fn new_rust_plugin_builds_and_answers() {
    // A target dir of its own (the test binary's is busy), kept between runs.
    let target = root().join("target/scaffold-target");
    let built = target.join("wasm32-wasip2/release/demo_tools.wasm");
    scaffold_builds_and_answers(
        "rust",
        &["cargo", "build", "--release"],
        &[("CARGO_TARGET_DIR", target.to_str().unwrap())],
        built.to_str().unwrap(),
    );
}

#[test]
fn new_python_plugin_builds_and_answers() {
    let componentize = root().join("target/py-venv/bin/componentize-py");
    assert!(
        componentize.exists(),
        "run `cargo xtask test` to create target/py-venv"
    );
    scaffold_builds_and_answers(
        "python",
        &[
            env!("CARGO_BIN_EXE_corral"),
            "build",
            "app.py",
            "-o",
            "demo-tools.wasm",
        ],
        &[("COMPONENTIZE_PY", componentize.to_str().unwrap())],
        "demo-tools.wasm",
    );
}

#[test]
fn new_js_plugin_builds_and_answers() {
    // `npm run build` runs `corral build`: this binary, first on the PATH,
    // with the JavaScript build tools xtask installed in target/build-cache.
    let corral_dir = std::path::Path::new(env!("CARGO_BIN_EXE_corral"))
        .parent()
        .unwrap()
        .to_owned();
    let path = std::env::join_paths(
        std::iter::once(corral_dir)
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let cache = root().join("target/build-cache");
    scaffold_builds_and_answers(
        "js",
        &["npm", "run", "build"],
        &[
            ("PATH", path.to_str().unwrap()),
            ("XDG_CACHE_HOME", cache.to_str().unwrap()),
        ],
        "demo-tools.wasm",
    );
}
