//! Trusted distribution against a real OCI registry (Debian's
//! `docker-registry`, started on 127.0.0.1 by each test): publish, add,
//! update and inspect by reference, signatures checked, digests locked.
//!
//! Without `docker-registry` installed these tests are skipped, unless
//! `CORRAL_REQUIRE_REGISTRY=1` (CI sets it), which turns that into a failure.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::harness::{TempDir, corral, eventually, example, python_client, test_plugin};

const PASSWORD: &str = "correct horse";

/// An HTTP answer: status, headers (names lowercased), body.
type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A registry on 127.0.0.1, storing into a temporary directory.
struct Registry {
    child: Child,
    dir: TempDir,
    port: u16,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    fn start(name: &str) -> Option<Registry> {
        Registry::start_with(name, None)
    }

    /// A registry that asks for a login: `htpasswd` is a `user:bcrypt` line.
    fn start_with(name: &str, htpasswd: Option<&str>) -> Option<Registry> {
        let program = Path::new("/usr/bin/docker-registry");
        if !program.exists() {
            assert!(
                std::env::var_os("CORRAL_REQUIRE_REGISTRY").is_none(),
                "CORRAL_REQUIRE_REGISTRY is set but docker-registry is not installed (apt install docker-registry)"
            );
            eprintln!("skipped: docker-registry is not installed");
            return None;
        }
        let dir = TempDir::new(&format!("registry-{name}"));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let config = dir.0.join("config.yml");
        let mut text = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.0.join("data").display()
        );
        if let Some(line) = htpasswd {
            let file = dir.0.join("htpasswd");
            std::fs::write(&file, format!("{line}\n")).unwrap();
            text.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: corral-tests\n    path: {}\n",
                file.display()
            ));
        }
        std::fs::write(&config, text).unwrap();
        let child = Command::new(program)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let registry = Registry { child, dir, port };
        eventually("the registry to answer /v2/", || {
            let (status, _, _) = registry.http("GET", "/v2/", &[]).ok()?;
            matches!(status, 200 | 401).then_some(())
        });
        Some(registry)
    }

    fn reference(&self, repository: &str) -> String {
        format!("oci://127.0.0.1:{}/{repository}", self.port)
    }

    /// One plain HTTP/1.1 request; the status, headers and body.
    fn http(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<Answer> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
            self.port
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let mut parsed_headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut parsed_headers);
        let Ok(httparse::Status::Complete(at)) = response.parse(&raw) else {
            return Err(std::io::Error::other("incomplete response"));
        };
        let headers = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_ascii_lowercase(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        Ok((response.code.unwrap_or(0), headers, raw[at..].to_vec()))
    }

    /// Delete the manifest `repository:tag` (e.g. a signature).
    fn delete_manifest(&self, repository: &str, tag: &str) {
        let accept = [("Accept", "application/vnd.oci.image.manifest.v1+json")];
        let (status, headers, _) = self
            .http(
                "HEAD",
                &format!("/v2/{repository}/manifests/{tag}"),
                &accept,
            )
            .unwrap();
        assert_eq!(status, 200, "{repository}:{tag} exists");
        let digest = headers
            .iter()
            .find(|(name, _)| name == "docker-content-digest")
            .map(|(_, v)| v.clone())
            .unwrap();
        let (status, _, _) = self
            .http(
                "DELETE",
                &format!("/v2/{repository}/manifests/{digest}"),
                &[],
            )
            .unwrap();
        assert_eq!(status, 202, "deleting {repository}@{digest}");
    }

    /// The file the registry serves the blob `sha256:<hex>` from.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .0
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

/// A working directory with a key pair, where `corral` commands run.
struct Project {
    dir: TempDir,
}

impl Project {
    fn new(name: &str) -> Project {
        let project = Project {
            dir: TempDir::new(&format!("project-{name}")),
        };
        project.ok(&["keys", "generate", "--out", "keys"]);
        project
    }

    fn path(&self, rest: &str) -> PathBuf {
        self.dir.0.join(rest)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        corral()
            .current_dir(&self.dir.0)
            .env("CORRAL_KEY_PASSWORD", PASSWORD)
            .env("DOCKER_CONFIG", self.dir.0.join("no-docker-config"))
            .envs(env.iter().copied())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Run a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "corral {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Run a command that must fail; its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "corral {args:?} succeeded:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn publish(&self, file: &Path, reference: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "publish",
            file.to_str().unwrap(),
            reference,
            "--key",
            "keys/corral.key",
        ];
        args.extend(extra);
        let out = self.ok(&args);
        out.lines()
            .find_map(|l| l.strip_prefix("Digest: "))
            .expect("publish prints the digest")
            .to_owned()
    }

    /// The plugin directory holds nothing and no lock was written.
    fn assert_nothing_written(&self, why: &str) {
        let plugins: Vec<_> = std::fs::read_dir(self.path("plugins"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(plugins.is_empty(), "{why}: wrote {plugins:?}");
        assert!(
            !self.path("corral.lock").exists(),
            "{why}: wrote corral.lock"
        );
    }
}

fn sha256_hex(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The calculator published with a key, then added with the public key:
/// the component, the lock and the grant request arrive, and the official
/// Python client calls `multiply` through `corral serve`, with
/// `require_signatures` on. A plugin beside it that is not in the lock is
/// refused by name.
#[test]
fn a_signed_plugin_is_published_added_locked_and_served() {
    let Some(registry) = Registry::start("happy") else {
        return;
    };
    let project = Project::new("happy");
    std::fs::write(
        project.path("corral-grants.toml"),
        "[hosts.\"api.example.com\"]\nreason = \"exchange rates\"\n",
    )
    .unwrap();
    let reference = registry.reference("corral/calculator:1.0");
    let digest = project.publish(
        &example("calculator-rust"),
        &reference,
        &["--grants", "corral-grants.toml"],
    );

    let inspected = project.ok(&["inspect", &reference, "--key", "keys/corral.pub"]);
    assert!(
        inspected.contains(&format!("manifest  {digest}")),
        "{inspected}"
    );
    assert!(
        inspected.contains("signature verified: key:sha256:"),
        "{inspected}"
    );
    assert!(
        inspected.contains("outgoing HTTP to api.example.com: exchange rates"),
        "{inspected}"
    );
    assert!(inspected.contains("multiply"), "{inspected}");

    let added = project.ok(&["add", &reference, "--key", "keys/corral.pub"]);
    assert!(added.contains("signed by key:sha256:"), "{added}");
    assert!(
        added.contains("outgoing HTTP to api.example.com: exchange rates"),
        "{added}"
    );
    assert!(added.contains("Not granted"), "{added}");
    let file = project.path("plugins/calculator.wasm");
    assert_eq!(sha256_hex(&file), sha256_hex(&example("calculator-rust")));
    let lock = std::fs::read_to_string(project.path("corral.lock")).unwrap();
    for expected in [
        "[plugins.calculator]".to_owned(),
        format!("reference = \"{reference}\""),
        format!("digest = \"{digest}\""),
        "path = \"plugins/calculator.wasm\"".to_owned(),
        format!("sha256 = \"{}\"", sha256_hex(&file)),
        "signer = \"key:sha256:".to_owned(),
    ] {
        assert!(lock.contains(&expected), "{expected} not in\n{lock}");
    }

    let config = project.path("corral.toml");
    std::fs::write(
        &config,
        "[server]\nrequire_signatures = true\nplugin_dirs = [\"plugins\"]\n",
    )
    .unwrap();
    let corral_bin = corral().get_program().to_str().unwrap().to_owned();
    python_client(
        "mcp_client.py",
        &[
            "--mode",
            "legacy",
            "--only",
            "tools",
            "--tools",
            "multiply,divide",
            "--",
            &corral_bin,
            "serve",
            "--config",
            config.to_str().unwrap(),
        ],
    );

    std::fs::copy(
        example("calculator-rust"),
        project.path("plugins/stray.wasm"),
    )
    .unwrap();
    let out = project.run(&["list", "--config", "corral.toml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("plugin `stray`") && stderr.contains("require_signatures = true"),
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("multiply"),
        "the locked plugin is still served: {}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Each of these is refused with a message that says why, and nothing is
/// written into the plugin directory or the lock.
#[test]
fn unverifiable_artifacts_are_refused_and_nothing_is_written() {
    let Some(registry) = Registry::start("refusals") else {
        return;
    };
    let publisher = Project::new("publisher");
    let calculator = example("calculator-rust");
    let signed = registry.reference("corral/signed:1");
    publisher.publish(&calculator, &signed, &[]);
    let unsigned = registry.reference("corral/unsigned:1");
    let unsigned_digest = publisher.publish(&calculator, &unsigned, &[]);
    registry.delete_manifest(
        "corral/unsigned",
        &format!("{}.sig", unsigned_digest.replace(':', "-")),
    );
    let tampered = registry.reference("corral/tampered:1");
    publisher.publish(&test_plugin("grants"), &tampered, &[]);
    // The registry's storage is changed under it: the component blob now
    // holds other bytes than its digest names.
    let wasm_digest = format!("sha256:{}", sha256_hex(&test_plugin("grants")));
    std::fs::copy(&calculator, registry.blob_file(&wasm_digest)).unwrap();

    let missing = format!("{signed}0");
    let publisher_key = publisher.path("keys/corral.pub");
    let publisher_key = publisher_key.to_str().unwrap();
    let cases: [(&str, Vec<&str>, &str); 5] = [
        (
            "the wrong key",
            vec!["add", &signed, "--key", "keys/corral.pub"],
            "none of its 1 signature(s) verifies with the key",
        ),
        (
            "no signature",
            vec!["add", &unsigned, "--key", publisher_key],
            "has no signature",
        ),
        (
            "a blob that does not match its digest",
            vec!["add", &tampered, "--key", publisher_key],
            &*format!(
                "component has digest sha256:{}, not the {wasm_digest}",
                sha256_hex(&calculator)
            ),
        ),
        (
            "no key",
            vec!["add", &signed],
            "give the publisher's public key with --key",
        ),
        (
            "a tag that does not exist",
            vec!["add", &missing, "--key", publisher_key],
            "not found in the registry",
        ),
    ];
    for (why, args, expected) in cases {
        let operator = Project::new("operator");
        let stderr = operator.fails(&args);
        assert!(stderr.contains(expected), "{why}: {stderr}");
        operator.assert_nothing_written(why);
    }
}

/// After locking: the tag moves to other content. `add` refuses the moved
/// tag, `update` shows the change and waits for `--yes`, and a file that
/// no longer has the locked digest (the new content, or one byte changed)
/// is refused by name by `serve` and `list`; `update --yes` takes it.
#[test]
fn a_moved_tag_and_a_modified_file_are_refused_until_updated() {
    let Some(registry) = Registry::start("moved") else {
        return;
    };
    let project = Project::new("moved");
    let reference = registry.reference("corral/calc:stable");
    let first = project.publish(&example("calculator-rust"), &reference, &[]);
    project.ok(&["add", &reference, "--key", "keys/corral.pub"]);
    let file = project.path("plugins/calc.wasm");
    let locked = sha256_hex(&file);
    let second = project.publish(&test_plugin("grants"), &reference, &[]);
    assert_ne!(first, second);

    let stderr = project.fails(&["add", &reference, "--key", "keys/corral.pub"]);
    assert!(
        stderr.contains(&format!("now resolves to {second}"))
            && stderr.contains("corral update calc"),
        "{stderr}"
    );
    let out = project.run(&["update", "--key", "keys/corral.pub"]);
    assert!(!out.status.success());
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains(&format!("digest {first} -> {second}")),
        "{shown}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(
        sha256_hex(&file),
        locked,
        "update without --yes changed nothing"
    );

    // The new content put in place by hand, then a one-byte change.
    std::fs::copy(test_plugin("grants"), &file).unwrap();
    let stderr = project.fails(&["list", "plugins"]);
    assert!(
        stderr.contains("plugin `calc`")
            && stderr.contains(&format!("corral.lock locks it to {locked}")),
        "{stderr}"
    );
    let mut server = crate::harness::Server::start_in(&project.dir.0, &["plugins"]);
    server.await_stderr("corral.lock locks it to");
    let tools = server.request("tools/list", serde_json::json!({}));
    assert_eq!(
        tools["result"]["tools"],
        serde_json::json!([]),
        "nothing served"
    );
    drop(server);
    std::fs::write(&file, std::fs::read(example("calculator-rust")).unwrap()).unwrap();
    project.ok(&["list", "plugins"]);
    let mut modified = std::fs::read(example("calculator-rust")).unwrap();
    *modified.last_mut().unwrap() ^= 0xff;
    std::fs::write(&file, &modified).unwrap();
    let stderr = project.fails(&["list", "plugins"]);
    assert!(stderr.contains("corral.lock locks it to"), "{stderr}");

    let updated = project.ok(&["update", "calc", "--key", "keys/corral.pub", "--yes"]);
    assert!(updated.contains("updated"), "{updated}");
    assert_eq!(sha256_hex(&file), sha256_hex(&test_plugin("grants")));
    let listed = project.ok(&["list", "plugins"]);
    assert!(listed.contains("read_env"), "{listed}");
}

/// A grant request is published, shown by `add`, written into corral.toml
/// only with `--grant`, and then enforced as any grant is.
#[test]
fn the_grant_request_round_trips() {
    let Some(registry) = Registry::start("grants") else {
        return;
    };
    let project = Project::new("grants");
    std::fs::write(
        project.path("corral-grants.toml"),
        "[env.GREETING]\nreason = \"how to greet\"\n",
    )
    .unwrap();
    let reference = registry.reference("corral/greeter:1");
    project.publish(
        &test_plugin("grants"),
        &reference,
        &["--grants", "corral-grants.toml"],
    );
    let call = |project: &Project| {
        let out = corral()
            .current_dir(&project.dir.0)
            .env("GREETING", "hello from the host")
            .args([
                "call",
                "--config",
                "corral.toml",
                "read_env",
                "name=GREETING",
            ])
            .output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };

    let added = project.ok(&["add", &reference, "--key", "keys/corral.pub"]);
    assert!(
        added.contains("env GREETING: how to greet") && added.contains("Not granted"),
        "{added}"
    );
    std::fs::write(
        project.path("corral.toml"),
        "[server]\nplugin_dirs = [\"plugins\"]\n",
    )
    .unwrap();
    assert!(
        call(&project).contains("env GREETING: not set"),
        "{}",
        call(&project)
    );

    let granted = project.ok(&["add", &reference, "--key", "keys/corral.pub", "--grant"]);
    assert!(granted.contains("Granted in"), "{granted}");
    let config = std::fs::read_to_string(project.path("corral.toml")).unwrap();
    assert!(
        config.contains("[plugins.greeter]") && config.contains("env = [\"GREETING\"]"),
        "{config}"
    );
    assert!(
        call(&project).contains("hello from the host"),
        "{}",
        call(&project)
    );
}

/// A registry that asks for a login: the Docker config's `auths` and a
/// credential helper (`docker-credential-NAME get`) both log in; no
/// credentials, or wrong ones, are refused with a message that says how to
/// log in.
#[test]
fn registry_logins_come_from_the_docker_config_and_credential_helpers() {
    // bcrypt (cost 4) of "secret-pass".
    let htpasswd = "tester:$2b$04$uudikRwYLqvTkJOMsh/77OG7hG7KB2BQdTS/vd0X0Y6UzDPO1hDtK";
    let Some(registry) = Registry::start_with("login", Some(htpasswd)) else {
        return;
    };
    let project = Project::new("login");
    let host = format!("127.0.0.1:{}", registry.port);
    let reference = registry.reference("corral/calculator:1");
    let calculator = example("calculator-rust");
    let publish = |env: &[(&str, &str)]| {
        let file = calculator.to_str().unwrap();
        project.run_with(
            &["publish", file, &reference, "--key", "keys/corral.key"],
            env,
        )
    };
    let stderr = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();

    let out = publish(&[]);
    assert!(
        !out.status.success() && stderr(&out).contains(&format!("docker login {host}")),
        "{}",
        stderr(&out)
    );

    let auths = project.path("auths");
    std::fs::create_dir_all(&auths).unwrap();
    let config = auths.join("config.json");
    let wrong = "dGVzdGVyOndyb25n"; // tester:wrong
    std::fs::write(
        &config,
        format!(r#"{{"auths": {{"{host}": {{"auth": "{wrong}"}}}}}}"#),
    )
    .unwrap();
    let out = publish(&[("DOCKER_CONFIG", auths.to_str().unwrap())]);
    assert!(
        !out.status.success() && stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );

    let right = "dGVzdGVyOnNlY3JldC1wYXNz"; // tester:secret-pass
    let entry = format!(r#"{{"auths": {{"https://{host}": {{"auth": "{right}"}}}}}}"#);
    std::fs::write(&config, entry).unwrap();
    let out = publish(&[("DOCKER_CONFIG", auths.to_str().unwrap())]);
    assert!(out.status.success(), "{}", stderr(&out));

    // A credential helper on PATH answers for the registry.
    let helpers = project.path("helpers");
    std::fs::create_dir_all(&helpers).unwrap();
    let helper = helpers.join("docker-credential-corraltest");
    let answer = format!(r#"{{"ServerURL":"{host}","Username":"tester","Secret":"secret-pass"}}"#);
    let script = format!(
        "#!/bin/sh\nread server\n[ \"$server\" = \"{host}\" ] || exit 1\necho '{answer}'\n"
    );
    std::fs::write(&helper, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let via_helper = project.path("via-helper");
    std::fs::create_dir_all(&via_helper).unwrap();
    let entry = format!(r#"{{"credHelpers": {{"{host}": "corraltest"}}}}"#);
    std::fs::write(via_helper.join("config.json"), entry).unwrap();
    let path = format!(
        "{}:{}",
        helpers.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("DOCKER_CONFIG", via_helper.to_str().unwrap()),
        ("PATH", &*path),
    ];
    let out = project.run_with(&["add", &reference, "--key", "keys/corral.pub"], &env);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        sha256_hex(&project.path("plugins/calculator.wasm")),
        sha256_hex(&calculator)
    );
}
