//! OpenAPI specs as providers (`[openapi.NAME]`): the Swagger Petstore 3.0
//! spec (tests/data/openapi), fetched from a small Petstore that the test
//! runs on 127.0.0.1, served through Corral with a prefix, route maps and
//! an API key from the environment.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use serde_json::{Value, json};

use crate::harness::{Server, TempDir, corral, root, text};

/// The key the Petstore wants in `X-Api-Key`.
const KEY: &str = "petstore-test-key";

/// A Petstore on 127.0.0.1 that serves the spec at `/openapi.json` and a
/// few operations under `/api`, and records every request it gets
/// (`METHOD path?query body`).
struct Petstore {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Petstore {
    fn start() -> Petstore {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(move |request: Request<Body>| {
                    let log = log.clone();
                    async move { answer(request, &log).await }
                });
                axum::serve(listener, app).await.unwrap();
            });
        });
        Petstore {
            addr: rx.recv().unwrap(),
            seen,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn answer(request: Request<Body>, log: &Mutex<Vec<String>>) -> Response<Body> {
    let method = request.method().to_string();
    let uri = request.uri().clone();
    let key_ok = request.headers().get("x-api-key").is_some_and(|k| k == KEY);
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = String::from_utf8_lossy(&body).into_owned();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    log.lock().unwrap().push(
        format!("{method} {path_and_query} {body}")
            .trim_end()
            .to_owned(),
    );
    let path = uri.path();
    if path == "/openapi.json" {
        let spec =
            std::fs::read_to_string(root().join("tests/data/openapi/petstore.json")).unwrap();
        return Response::new(Body::from(spec));
    }
    if !path.starts_with("/api/") {
        return json_response(StatusCode::NOT_FOUND, json!({"message": "no such file"}));
    }
    if !key_ok {
        return json_response(StatusCode::UNAUTHORIZED, json!({"message": "no API key"}));
    }
    let pet = |id: u64, status: &str| json!({"id": id, "name": format!("pet{id}"), "photoUrls": [], "status": status});
    match (method.as_str(), path) {
        ("GET", "/api/pet/1") => json_response(StatusCode::OK, pet(1, "available")),
        ("GET", "/api/pet/findByStatus") => {
            let statuses: Vec<&str> = uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter_map(|pair| pair.strip_prefix("status="))
                .collect();
            let pets: Vec<Value> = statuses
                .iter()
                .enumerate()
                .map(|(i, s)| pet(i as u64 + 10, s))
                .collect();
            json_response(StatusCode::OK, Value::Array(pets))
        }
        ("POST", "/api/pet") => {
            let mut pet: Value = serde_json::from_str(&body).unwrap_or(json!({}));
            pet["id"] = json!(7);
            json_response(StatusCode::OK, pet)
        }
        ("GET", "/api/store/inventory") => {
            json_response(StatusCode::OK, json!({"available": 3, "sold": 1}))
        }
        ("GET" | "PUT", user) if user.starts_with("/api/user/") && user != "/api/user/logout" => {
            // The username as it arrived, still percent-encoded.
            let raw = &user["/api/user/".len()..];
            json_response(StatusCode::OK, json!({"username": raw}))
        }
        ("GET", "/api/user/logout") => Response::new(Body::from("x".repeat(100 * 1024))),
        _ => json_response(
            StatusCode::NOT_FOUND,
            json!({"code": 404, "message": "Pet not found"}),
        ),
    }
}

/// A config serving the Petstore's spec (fetched from it) with route maps.
fn petstore_config(dir: &TempDir, petstore: &Petstore) -> String {
    let text = format!(
        r#"[openapi.petstore]
spec = "{spec}"
base_url = "{base}"
prefix = "pets"
tags = ["rest"]
max_output = "64KiB"
headers = {{ X-Api-Key = "${{CORRAL_TEST_PETSTORE_KEY}}" }}

[[openapi.petstore.route_maps]]
methods = ["DELETE"]
mcp_type = "exclude"

[[openapi.petstore.route_maps]]
methods = ["GET"]
pattern = "^/store/inventory$"
mcp_type = "resource"
mcp_tags = ["inventory"]

[[openapi.petstore.route_maps]]
methods = ["GET"]
pattern = "^/user/\\{{username\\}}$"
mcp_type = "resource_template"
"#,
        spec = petstore.url("/openapi.json"),
        base = petstore.url("/api"),
    );
    let path = dir.0.join("corral.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

fn names(list: &Value, kind: &str, key: &str) -> Vec<String> {
    list["result"][kind]
        .as_array()
        .unwrap_or_else(|| panic!("no {kind} in {list}"))
        .iter()
        .map(|t| t[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn petstore_operations_are_served_as_tools_resources_and_templates() {
    let petstore = Petstore::start();
    let dir = TempDir::new("openapi-petstore");
    let file = petstore_config(&dir, &petstore);
    let mut server = Server::start_with(&["--config", &file], &[("CORRAL_TEST_PETSTORE_KEY", KEY)]);

    // Every operation is a tool, except those the route maps make
    // something else: DELETEs are excluded, one GET is a resource, one a
    // template.
    let tools = server.request("tools/list", json!({}));
    let tool_names = names(&tools, "tools", "name");
    assert!(
        tool_names.contains(&"pets_getPetById".to_owned()),
        "{tools}"
    );
    assert!(tool_names.contains(&"pets_addPet".to_owned()), "{tools}");
    assert!(!tool_names.iter().any(|n| n.contains("delete")), "{tools}");
    assert!(
        !tool_names.contains(&"pets_getInventory".to_owned()),
        "{tools}"
    );
    assert_eq!(tool_names.len(), 20 - 3 - 2, "{tools}");
    let get = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "pets_getPetById")
        .unwrap();
    assert_eq!(get["inputSchema"]["required"], json!(["petId"]), "{get}");
    assert_eq!(get["annotations"]["readOnlyHint"], true, "{get}");
    assert_eq!(
        get["description"], "Find pet by ID\n\nReturns a single pet",
        "{get}"
    );
    let resources = server.request("resources/list", json!({}));
    assert_eq!(
        names(&resources, "resources", "uri"),
        ["resource://pets/getInventory"],
        "{resources}"
    );
    let templates = server.request("resources/templates/list", json!({}));
    assert_eq!(
        names(&templates, "resourceTemplates", "uriTemplate"),
        ["resource://pets/getUserByName/{username}"],
        "{templates}"
    );

    // GET with a path parameter; the answer's JSON is structured content.
    let found = server.call_tool("pets_getPetById", json!({"petId": 1}));
    assert_ne!(found["isError"], true, "{found}");
    assert_eq!(found["structuredContent"]["name"], "pet1", "{found}");
    // GET with an exploded array query parameter: an array answer is wrapped.
    let by_status = server.call_tool(
        "pets_findPetsByStatus",
        json!({"status": ["available", "sold"]}),
    );
    let pets = &by_status["structuredContent"]["result"];
    assert_eq!(pets.as_array().map(Vec::len), Some(2), "{by_status}");
    assert_eq!(pets[1]["status"], "sold", "{by_status}");
    // POST with a JSON body made of the tool's arguments.
    let added = server.call_tool(
        "pets_addPet",
        json!({"name": "Rex", "photoUrls": ["https://example.com/rex.png"], "category": {"id": 1, "name": "dogs"}}),
    );
    assert_eq!(added["structuredContent"]["id"], 7, "{added}");
    assert_eq!(
        added["structuredContent"]["category"]["name"], "dogs",
        "{added}"
    );
    // A 404 is an error result with the status and the body.
    let missing = server.call_tool("pets_getPetById", json!({"petId": 2}));
    assert_eq!(missing["isError"], true, "{missing}");
    assert!(
        text(&missing).starts_with("HTTP 404 Not Found: ")
            && text(&missing).contains("Pet not found"),
        "{missing}"
    );
    // Arguments are checked against the schema before any request.
    let wrong = server.request(
        "tools/call",
        json!({"name": "pets_getPetById", "arguments": {"petId": "one"}}),
    );
    assert!(
        wrong.get("error").is_some() || wrong["result"]["isError"] == true,
        "{wrong}"
    );

    // The resource and the template read through the same requests.
    let inventory = server.request(
        "resources/read",
        json!({"uri": "resource://pets/getInventory"}),
    );
    let contents = &inventory["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "application/json", "{inventory}");
    assert_eq!(
        serde_json::from_str::<Value>(contents["text"].as_str().unwrap()).unwrap()["available"],
        3
    );
    let user = server.request(
        "resources/read",
        json!({"uri": "resource://pets/getUserByName/ann"}),
    );
    assert!(
        user["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("\"ann\""),
        "{user}"
    );

    // Excluded operations are unknown, and reach nothing.
    let excluded = server.request(
        "tools/call",
        json!({"name": "pets_deletePet", "arguments": {"petId": 1}}),
    );
    assert!(
        excluded.get("error").is_some() || excluded["result"]["isError"] == true,
        "{excluded}"
    );

    // An answer past max_output is refused, naming the limit.
    let big = server.call_tool("pets_logoutUser", json!({}));
    assert!(text(&big).contains("output limit of 64 KiB"), "{big}");

    let seen = petstore.seen();
    assert!(
        seen.contains(&"GET /api/pet/findByStatus?status=available&status=sold".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|r| r.starts_with("POST /api/pet {") && r.contains("\"name\":\"Rex\"")),
        "{seen:?}"
    );
    assert!(!seen.iter().any(|r| r.starts_with("DELETE")), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|r| r.contains("petId=one") || r.ends_with("/pet/one")),
        "{seen:?}"
    );
    server.shutdown();
}

/// A path parameter stays one path segment: it cannot climb out of its
/// operation's path (`..`) or add a query (`?`).
#[test]
fn path_parameters_cannot_escape_their_segment() {
    let petstore = Petstore::start();
    let dir = TempDir::new("openapi-escape");
    let file = petstore_config(&dir, &petstore);
    let mut server = Server::start_with(&["--config", &file], &[("CORRAL_TEST_PETSTORE_KEY", KEY)]);
    let dots = server.call_tool(
        "pets_updateUser",
        json!({"username__path": "..", "username": "ann"}),
    );
    assert!(
        dots["isError"] == true && text(&dots).contains("may not be \"..\""),
        "{dots}"
    );
    let sneaky = server.call_tool(
        "pets_updateUser",
        json!({"username__path": "a/../../pet/1?x=1", "username": "ann"}),
    );
    assert_eq!(
        sneaky["structuredContent"]["username"], "a%2F..%2F..%2Fpet%2F1%3Fx%3D1",
        "{sneaky}"
    );
    // The same holds for a template's variables.
    let read = server.request(
        "resources/read",
        json!({"uri": "resource://pets/getUserByName/.."}),
    );
    assert!(
        read["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("may not be")),
        "{read}"
    );
    let seen = petstore.seen();
    assert!(
        !seen.iter().any(|r| r.starts_with("GET /api/pet/1")),
        "{seen:?}"
    );
    let api: Vec<&String> = seen.iter().filter(|r| r.contains(" /api/")).collect();
    assert_eq!(api.len(), 1, "{seen:?}");
    assert!(api[0].starts_with("PUT /api/user/a%2F"), "{seen:?}");
    server.shutdown();
}

/// A spec that cannot be read stops `corral serve`, naming it and why; a
/// YAML spec from a file is served, with route maps by path and by tag.
#[test]
fn a_spec_that_cannot_be_read_is_refused_and_yaml_specs_are_read() {
    let petstore = Petstore::start();
    let dir = TempDir::new("openapi-specs");
    let gone = dir.0.join("gone.toml");
    std::fs::write(
        &gone,
        format!(
            "[openapi.gone]\nspec = \"{}\"\n",
            petstore.url("/no-such-spec.json")
        ),
    )
    .unwrap();
    let out = corral()
        .args(["serve", "--config", gone.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("OpenAPI spec `gone`")
            && stderr.contains("cannot fetch: HTTP 404"),
        "{stderr}"
    );
    let file = dir.0.join("corral.toml");
    std::fs::write(
        &file,
        format!(
            "[openapi.local]\nspec = \"{}\"\nbase_url = \"{}\"\n\n[[openapi.local.route_maps]]\npattern = \"^/pet\"\nmcp_type = \"exclude\"\n\n[[openapi.local.route_maps]]\ntags = [\"user\"]\nmcp_type = \"exclude\"\n",
            root().join("tests/data/openapi/petstore.yaml").display(),
            petstore.url("/api"),
        ),
    )
    .unwrap();
    let mut server = Server::start(&["--config", file.to_str().unwrap()]);
    let tools = server.request("tools/list", json!({}));
    assert_eq!(
        names(&tools, "tools", "name"),
        ["getInventory", "placeOrder", "getOrderById", "deleteOrder"],
        "{tools}"
    );
    // No API key is configured: the Petstore's 401 is the tool's error.
    let denied = server.call_tool("getInventory", json!({}));
    assert!(
        denied["isError"] == true && text(&denied).starts_with("HTTP 401 Unauthorized"),
        "{denied}"
    );
    server.shutdown();
    // `corral call --config` alone serves the spec in process, too.
    let out = corral()
        .args([
            "call",
            "--config",
            file.to_str().unwrap(),
            "getOrderById",
            "orderId=3",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("HTTP 401 Unauthorized"),
        "{stderr}"
    );
}
