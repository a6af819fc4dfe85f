//! What the Rust SDK promises, observed through the host: schemas from
//! signatures, defaults, structured output, images, templates, prompts.

use serde_json::{Value, json};

use crate::harness::{Server, test_plugin, text};

fn everything() -> Server {
    let plugin = test_plugin("everything");
    Server::start(&[plugin.to_str().unwrap()])
}

fn tool<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name} in {list}"))
}

#[test]
fn schemas_come_from_signatures_and_docs() {
    let mut server = everything();
    let list = server.request("tools/list", json!({}));
    let greet = tool(&list, "greet");
    let schema = &greet["inputSchema"];
    assert_eq!(schema["required"], json!(["name"]), "{schema}");
    assert_eq!(schema["properties"]["greeting"]["default"], "Hello");
    assert_eq!(schema["properties"]["name"]["description"], "Who to greet");
    assert_eq!(greet["description"], "Greets someone.");

    let stats = tool(&list, "stats");
    assert_eq!(stats["outputSchema"]["type"], "object", "{stats}");
    assert_eq!(stats["annotations"]["readOnlyHint"], true);
    assert_eq!(tool(&list, "red_pixel")["title"], "Red pixel");
}

#[test]
fn defaults_apply_and_unknown_arguments_are_refused() {
    let mut server = everything();
    let default = server.call_tool("greet", json!({"name": "Ada"}));
    assert_eq!(text(&default), "Hello, Ada!");
    let explicit = server.call_tool("greet", json!({"name": "Ada", "greeting": "Hi"}));
    assert_eq!(text(&explicit), "Hi, Ada!");
    let unknown = server.call_tool("greet", json!({"name": "Ada", "shout": true}));
    assert_eq!(unknown["isError"], true, "{unknown}");
    assert!(text(&unknown).contains("shout"), "{unknown}");
}

#[test]
fn structs_are_structured_content_and_images_are_base64() {
    let mut server = everything();
    let stats = server.call_tool("stats", json!({"numbers": [1, 2, 3]}));
    assert_eq!(
        stats["structuredContent"],
        json!({"count": 3, "sum": 6.0, "mean": 2.0})
    );
    let pixel = server.call_tool("red_pixel", json!({}));
    let image = &pixel["content"][0];
    assert_eq!(image["type"], "image");
    assert_eq!(image["mimeType"], "image/png");
    assert!(
        image["data"].as_str().unwrap().starts_with("iVBORw0KGgo"),
        "{image}"
    );
    assert_eq!(pixel["content"][1]["text"], "a 1x1 red pixel");
}

#[test]
fn templates_decode_their_variables() {
    let mut server = everything();
    let readme = server.request("resources/read", json!({"uri": "memo://readme"}));
    assert!(
        readme["result"]["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("exports tools")
    );
    let file = server.request("resources/read", json!({"uri": "files://a%20b.txt"}));
    let contents = &file["result"]["contents"][0];
    assert_eq!(contents["text"], "contents of a b.txt", "{file}");
    assert_eq!(contents["mimeType"], "text/plain");
    let missing = server.request("resources/read", json!({"uri": "files://missing"}));
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no such file"),
        "{missing}"
    );
}

#[test]
fn multi_segment_and_query_templates_bind_their_variables() {
    let mut server = everything();
    let templates = server.request("resources/templates/list", json!({}));
    assert!(
        templates["result"]["resourceTemplates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["uriTemplate"] == "docs://{+path}{?lang,limit}"),
        "{templates}"
    );
    let cases = [
        ("docs://guide/intro.md", "guide/intro.md [en]"),
        ("docs://guide/intro.md?lang=fr", "guide/intro.md [fr]"),
        ("docs://a/b/c?limit=3&lang=de", "a/b/c [de] first 3 lines"),
        // Unknown query parameters are ignored, escapes decoded.
        ("docs://a%20b?x=1", "a b [en]"),
    ];
    for (uri, want) in cases {
        let read = server.request("resources/read", json!({"uri": uri}));
        assert_eq!(read["result"]["contents"][0]["text"], want, "{uri}: {read}");
        assert_eq!(read["result"]["contents"][0]["uri"], uri, "{read}");
    }
    let bad = server.request("resources/read", json!({"uri": "docs://a?limit=many"}));
    let message = bad["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("limit"), "{bad}");
}

#[test]
fn prompts_take_optional_arguments_and_return_several_messages() {
    let mut server = everything();
    let list = server.request("prompts/list", json!({}));
    let arguments = &list["result"]["prompts"][0]["arguments"];
    assert_eq!(arguments[0]["required"], true);
    assert_eq!(arguments[1]["required"], false);
    let without = server.request(
        "prompts/get",
        json!({"name": "review_code", "arguments": {"code": "fn main() {}"}}),
    );
    let messages = without["result"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert!(
        messages[0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("unknown language")
    );
    let with = server.request(
        "prompts/get",
        json!({"name": "review_code", "arguments": {"code": "x", "language": "Rust"}}),
    );
    assert!(
        with["result"]["messages"][0]["content"]["text"]
            .as_str()
            .unwrap()
            .contains("Rust code")
    );
}
