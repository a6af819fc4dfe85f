use serde_json::json;

use super::*;

fn petstore(file: &str) -> Value {
    let path = format!(
        "{}/../tests/data/openapi/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    parse_document(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn find<'a>(operations: &'a [Operation], name: &str) -> &'a Operation {
    operations
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("no operation {name}"))
}

#[test]
fn json_and_yaml_read_alike() {
    assert!(
        operations(&petstore("petstore.json"))
            .unwrap()
            .skipped
            .is_empty()
    );
    let json = operations(&petstore("petstore.json")).unwrap().served;
    let yaml = operations(&petstore("petstore.yaml")).unwrap().served;
    assert_eq!(json.len(), 20);
    let names = |ops: &[Operation]| ops.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&json), names(&yaml));
    let schemas = |ops: &[Operation]| {
        ops.iter()
            .map(|o| o.input_schema.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(schemas(&json), schemas(&yaml));
    assert_eq!(
        server_url(&petstore("petstore.json")).as_deref(),
        Some("http://petstore.swagger.io/v2")
    );
}

#[test]
fn parameters_become_arguments() {
    let ops = operations(&petstore("petstore.json")).unwrap().served;
    let get = find(&ops, "getPetById");
    assert_eq!(
        (get.method.as_str(), get.path.as_str()),
        ("GET", "/pet/{petId}")
    );
    assert_eq!(get.input_schema["required"], json!(["petId"]));
    assert_eq!(get.input_schema["properties"]["petId"]["type"], "integer");
    assert_eq!(get.response_type.as_deref(), Some("application/json"));
    let find_by_status = find(&ops, "findPetsByStatus");
    let status = &find_by_status.params[0];
    assert_eq!(
        (status.location, status.required, status.explode),
        (Location::Query, true, true)
    );
    assert_eq!(
        find_by_status.input_schema["properties"]["status"]["description"],
        "Status values that need to be considered for filter"
    );
    let delete = find(&ops, "deletePet");
    assert!(
        delete
            .params
            .iter()
            .any(|p| p.name == "api_key" && p.location == Location::Header && !p.required)
    );
}

#[test]
fn a_json_body_is_flattened_with_component_schemas_in_defs() {
    let ops = operations(&petstore("petstore.json")).unwrap().served;
    let add = find(&ops, "addPet");
    let Some(Body {
        media_type,
        shape: BodyShape::JsonFields(fields),
    }) = &add.body
    else {
        panic!("a JSON body of fields: {:?}", add.body);
    };
    assert_eq!(media_type, "application/json");
    assert_eq!(
        fields,
        &["category", "id", "name", "photoUrls", "status", "tags"]
    );
    let schema = &add.input_schema;
    assert_eq!(schema["required"], json!(["name", "photoUrls"]));
    assert_eq!(
        schema["properties"]["category"],
        json!({ "$ref": "#/$defs/Category" })
    );
    assert_eq!(schema["$defs"]["Category"]["type"], "object");
    // OpenAPI-only keywords are gone.
    assert!(schema["properties"]["photoUrls"].get("xml").is_none());
    assert!(schema["properties"]["id"].get("example").is_none());
    // The schema compiles and checks arguments.
    let validator = jsonschema::validator_for(&Value::Object(schema.clone())).unwrap();
    assert!(validator.is_valid(
        &json!({ "name": "Rex", "photoUrls": [], "category": { "id": 1, "name": "dogs" } })
    ));
    assert!(
        !validator
            .is_valid(&json!({ "name": "Rex", "photoUrls": [], "category": { "id": "one" } }))
    );
    let form = find(&ops, "updatePetWithForm");
    assert!(
        matches!(&form.body, Some(Body { shape: BodyShape::FormFields(f), .. }) if f == &["name", "status"])
    );
    let array = find(&ops, "createUsersWithArrayInput");
    assert!(matches!(
        &array.body,
        Some(Body {
            shape: BodyShape::JsonWhole,
            ..
        })
    ));
    assert_eq!(array.input_schema["required"], json!(["body"]));
    let upload = find(&ops, "uploadFile");
    let Some(Body {
        shape: BodyShape::MultipartFields(fields),
        ..
    }) = &upload.body
    else {
        panic!("a multipart body: {:?}", upload.body);
    };
    assert_eq!(
        fields,
        &[
            ("additionalMetadata".to_owned(), false),
            ("file".to_owned(), true)
        ]
    );
}

fn spec_with(paths: Value, schemas: Value) -> Value {
    json!({ "openapi": "3.0.3", "info": { "title": "t", "version": "1" }, "paths": paths, "components": { "schemas": schemas } })
}

#[test]
fn recursive_schemas_and_openapi_3_0_dialect() {
    let doc = spec_with(
        json!({ "/nodes": { "post": { "requestBody": { "required": true, "content": { "application/json": {
            "schema": { "$ref": "#/components/schemas/Node" } } } } } } }),
        json!({ "Node": { "type": "object", "properties": {
            "label": { "type": "string", "nullable": true },
            "weight": { "type": "number", "minimum": 0, "exclusiveMinimum": true },
            "children": { "type": "array", "items": { "$ref": "#/components/schemas/Node" } } } } }),
    );
    let ops = operations(&doc).unwrap().served;
    let op = &ops[0];
    assert_eq!(op.name, "post_nodes");
    let schema = &op.input_schema;
    assert_eq!(
        schema["properties"]["label"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(
        schema["properties"]["weight"],
        json!({ "type": "number", "exclusiveMinimum": 0 })
    );
    assert_eq!(
        schema["$defs"]["Node"]["properties"]["children"]["items"],
        json!({ "$ref": "#/$defs/Node" })
    );
    let validator = jsonschema::validator_for(&Value::Object(schema.clone())).unwrap();
    assert!(validator.is_valid(&json!({ "label": null, "children": [{ "children": [] }] })));
    assert!(!validator.is_valid(&json!({ "weight": 0 })));
}

#[test]
fn a_parameter_named_like_a_body_field_is_renamed() {
    let doc = spec_with(
        json!({ "/items/{id}": { "put": {
            "operationId": "update item!",
            "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
            "requestBody": { "content": { "application/json": { "schema": {
                "type": "object", "properties": { "id": { "type": "string" }, "note": { "type": "string" } } } } } } } } }),
        json!({}),
    );
    let ops = operations(&doc).unwrap().served;
    let op = &ops[0];
    assert_eq!(op.name, "update_item");
    assert_eq!(op.params[0].argument, "id__path");
    assert_eq!(op.input_schema["required"], json!(["id__path"]));
    let properties = op.input_schema["properties"].as_object().unwrap();
    assert_eq!(
        properties.keys().collect::<Vec<_>>(),
        ["id", "id__path", "note"]
    );
}

#[test]
fn bad_documents_are_refused_with_the_reason() {
    let cases = [
        ("{\"swagger\": \"2.0\"}", "Swagger 2.0"),
        ("{\"openapi\": \"4.0.0\"}", "OpenAPI 4.0.0 is not supported"),
        ("openapi: [", "not valid YAML"),
        ("{\"info\": {}}", "no `openapi` version"),
    ];
    for (text, expected) in cases {
        let error = parse_document(text).unwrap_err();
        assert!(error.contains(expected), "{text}: {error}");
    }
    let remote = spec_with(
        json!({ "/x": { "get": { "parameters": [{ "$ref": "https://example.com/p.json" }] } } }),
        json!({}),
    );
    let skipped = operations(&remote).unwrap().skipped;
    assert!(
        skipped[0].starts_with("GET /x: ") && skipped[0].contains("only local references"),
        "{skipped:?}"
    );
    let looping = spec_with(
        json!({ "/x": { "get": { "parameters": [{ "$ref": "#/components/parameters/A" }] } } }),
        json!({}),
    );
    let mut looping = looping;
    looping["components"]["parameters"] = json!({ "A": { "$ref": "#/components/parameters/B" }, "B": { "$ref": "#/components/parameters/A" } });
    let skipped = operations(&looping).unwrap().skipped;
    assert!(skipped[0].contains("`$ref`s in a chain"), "{skipped:?}");
}

#[test]
fn names_are_sanitized_and_unique() {
    assert_eq!(sanitize("get /pets/{id}"), "get_pets_id");
    assert_eq!(sanitize("¿?"), "operation");
    assert_eq!(sanitize(&"x".repeat(200)).len(), MAX_NAME);
    let doc = spec_with(
        json!({ "/a": { "get": { "operationId": "same" } }, "/b": { "get": { "operationId": "same" } } }),
        json!({}),
    );
    let names: Vec<String> = operations(&doc)
        .unwrap()
        .served
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["same", "same_2"]);
}

#[test]
fn openapi_3_1_schemas_pass_through() {
    let doc = json!({
        "openapi": "3.1.0",
        "info": { "title": "t", "version": "1" },
        "webhooks": { "ping": { "post": { "operationId": "webhook" } } },
        "paths": { "/notes": { "get": {
            "operationId": "listNotes",
            "parameters": [{ "name": "tag", "in": "query", "schema": { "type": ["string", "null"], "examples": ["a"] } }],
            "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "type": "array" } } } } }
        } } }
    });
    let ops = operations(&doc).unwrap();
    // Webhooks are requests the API makes, not operations to call.
    assert_eq!(ops.served.len(), 1);
    let op = &ops.served[0];
    assert_eq!(op.name, "listNotes");
    assert_eq!(
        op.input_schema["properties"]["tag"],
        json!({ "type": ["string", "null"], "examples": ["a"] })
    );
    assert!(op.input_schema.get("required").is_none());
}
