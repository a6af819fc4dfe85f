//! The seed examples, listed and called over stdio.

use serde_json::{Value, json};

use crate::harness::{Server, example, text};

fn seed_server() -> Server {
    let calculator = example("calculator-rust");
    let profile = example("profile-rust");
    let prompts = example("prompts-rust");
    Server::start(&[
        calculator.to_str().unwrap(),
        profile.to_str().unwrap(),
        prompts.to_str().unwrap(),
    ])
}

fn names(list: &Value, key: &str, field: &str) -> Vec<String> {
    list["result"][key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {list}"))
        .iter()
        .map(|item| item[field].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lists_every_seed_example() {
    let mut server = seed_server();
    let tools = server.request("tools/list", json!({}));
    let tool_names = names(&tools, "tools", "name");
    for expected in ["multiply", "divide", "add"] {
        assert!(tool_names.contains(&expected.to_owned()), "{tool_names:?}");
    }
    let multiply = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "multiply")
        .unwrap();
    assert_eq!(multiply["inputSchema"]["type"], "object");
    assert_eq!(multiply["inputSchema"]["properties"]["a"]["type"], "number");
    assert_eq!(multiply["inputSchema"]["required"], json!(["a", "b"]));
    assert!(
        multiply["description"]
            .as_str()
            .unwrap()
            .contains("Multiply")
    );

    let resources = server.request("resources/list", json!({}));
    assert_eq!(names(&resources, "resources", "uri"), ["data://config"]);
    let templates = server.request("resources/templates/list", json!({}));
    assert_eq!(
        names(&templates, "resourceTemplates", "uriTemplate"),
        ["users://{user_id}/profile"]
    );
    let prompts = server.request("prompts/list", json!({}));
    assert_eq!(names(&prompts, "prompts", "name"), ["analyze_data"]);
    let arguments = &prompts["result"]["prompts"][0]["arguments"];
    assert_eq!(arguments[0]["name"], "data_points");
    assert_eq!(arguments[0]["required"], true);
    server.shutdown();
}

#[test]
fn calls_tools_with_structured_results() {
    let mut server = seed_server();
    let product = server.call_tool("multiply", json!({"a": 6, "b": 7}));
    assert_eq!(product.get("isError"), None, "{product}");
    assert_eq!(text(&product).parse::<f64>().unwrap(), 42.0);
    assert_eq!(product["structuredContent"]["result"], 42.0);

    let sum = server.call_tool("add", json!({"a": 1.5, "b": 2}));
    assert_eq!(sum["structuredContent"]["result"], 3.5);

    let quotient = server.call_tool("divide", json!({"a": 1, "b": 4}));
    assert_eq!(quotient["structuredContent"]["result"], 0.25);
    server.shutdown();
}

#[test]
fn division_by_zero_is_a_tool_error_with_its_text() {
    let mut server = seed_server();
    let result = server.call_tool("divide", json!({"a": 1, "b": 0}));
    assert_eq!(result["isError"], true, "{result}");
    assert_eq!(text(&result), "Division by zero is not allowed");
}

#[test]
fn wrong_arguments_are_reported_to_the_model() {
    let mut server = seed_server();
    let cases = [
        (
            json!({"a": 6}),
            "invalid arguments: tool `multiply`:\n- /: \"b\" is a required property",
        ),
        (
            json!({"a": "six", "b": 7}),
            "invalid arguments: tool `multiply`:\n- /a: \"six\" is not of type \"number\"",
        ),
    ];
    for (arguments, expected) in cases {
        let result = server.call_tool("multiply", arguments);
        assert_eq!(result["isError"], true, "{result}");
        assert_eq!(text(&result), expected, "{result}");
    }
}

#[test]
fn unknown_tool_is_a_protocol_error() {
    let mut server = seed_server();
    let response = server.request("tools/call", json!({"name": "nope", "arguments": {}}));
    assert_eq!(response["error"]["code"], -32602, "{response}");
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nope")
    );
}

#[test]
fn reads_static_and_templated_resources() {
    let mut server = seed_server();
    let config = server.request("resources/read", json!({"uri": "data://config"}));
    let contents = &config["result"]["contents"][0];
    assert_eq!(contents["uri"], "data://config");
    let body: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"theme": "dark", "version": "1.0", "features": ["analytics", "reporting"]})
    );

    let profile = server.request("resources/read", json!({"uri": "users://42/profile"}));
    let contents = &profile["result"]["contents"][0];
    assert_eq!(contents["uri"], "users://42/profile");
    let body: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"id": 42, "name": "User 42", "status": "active"})
    );

    let missing = server.request("resources/read", json!({"uri": "data://nothing"}));
    assert!(missing.get("error").is_some(), "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("data://nothing")
    );
}

#[test]
fn renders_the_analyze_data_prompt() {
    let mut server = seed_server();
    let prompt = server.request(
        "prompts/get",
        json!({"name": "analyze_data", "arguments": {"data_points": "[1.5, 2.5, 3]"}}),
    );
    let messages = prompt["result"]["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{prompt}");
    assert_eq!(messages[0]["role"], "user");
    let text = messages[0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("Please analyze these data points"), "{text}");
    assert!(text.contains("1.5, 2.5, 3"), "{text}");

    let missing = server.request(
        "prompts/get",
        json!({"name": "analyze_data", "arguments": {}}),
    );
    assert_eq!(missing["error"]["code"], -32602, "{missing}");
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("data_points")
    );
}

#[test]
fn ping_and_malformed_input_do_not_end_the_session() {
    let mut server = seed_server();
    let pong = server.request("ping", json!({}));
    assert_eq!(pong["result"], json!({}), "{pong}");
    server.send_raw("{this is not json");
    server.send_raw(r#"{"jsonrpc":"2.0","id":99,"method":"no/such/method"}"#);
    let unknown = server.wait(99);
    assert!(unknown.get("error").is_some(), "{unknown}");
    let product = server.call_tool("multiply", json!({"a": 2, "b": 3}));
    assert_eq!(product["structuredContent"]["result"], 6.0);
    server.shutdown();
}
