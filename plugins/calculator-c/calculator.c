// calculator-c: the seed's `multiply` in C, against Corral's WIT alone.
//
// No SDK: the bindings in bindings/ are what `wit-bindgen c` 0.63.0 generates
// for the world `corral:mcp/tool-provider` (frozen at 0.1.1, see wit/README.md):
//
//     wit-bindgen c wit --world corral:mcp/tool-provider --no-object-file \
//         --out-dir plugins/calculator-c/bindings
//
// `cargo xtask plugins` compiles this with clang for wasm32-wasi (a reactor),
// embeds the world with `wasm-tools component embed`, and makes the component
// with `wasm-tools component new` and the WASI preview1 reactor adapter.

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings/tool_provider.h"

// The bindings reference this symbol to link the world's type information
// (an object file wit-bindgen can write); `wasm-tools component embed`
// embeds that information here instead, so it is defined empty.
void __component_type_object_force_link_tool_provider(void) {}

static const char *INPUT_SCHEMA =
    "{\"type\":\"object\",\"additionalProperties\":false,"
    "\"properties\":{\"a\":{\"type\":\"number\",\"description\":\"The first factor\"},"
    "\"b\":{\"type\":\"number\",\"description\":\"The second factor\"}},"
    "\"required\":[\"a\",\"b\"]}";

static const char *OUTPUT_SCHEMA =
    "{\"type\":\"object\",\"properties\":{\"result\":{\"type\":\"number\"}},"
    "\"required\":[\"result\"],\"x-fastmcp-wrap-result\":true}";

static void some_string(tool_provider_option_string_t *out, const char *text) {
  out->is_some = true;
  tool_provider_string_dup(&out->val, text);
}

void exports_corral_mcp_tools_list_tools(exports_corral_mcp_tools_list_tool_t *ret) {
  exports_corral_mcp_tools_tool_t *tool = calloc(1, sizeof *tool);
  tool_provider_string_dup(&tool->name, "multiply");
  some_string(&tool->title, "Multiply");
  some_string(&tool->description, "Multiply two numbers.");
  tool_provider_string_dup(&tool->input_schema, INPUT_SCHEMA);
  tool->output_schema.is_some = true;
  tool_provider_string_dup(&tool->output_schema.val, OUTPUT_SCHEMA);
  tool->annotations.is_some = true;
  tool->annotations.val.read_only = (tool_provider_option_bool_t){true, true};
  tool->annotations.val.idempotent = (tool_provider_option_bool_t){true, true};
  ret->ptr = tool;
  ret->len = 1;
}

// The value of the number under `key` in the flat JSON object `json` (the
// host has checked the arguments against the input schema already).
static bool number_field(const char *json, size_t len, const char *key, double *out) {
  size_t key_len = strlen(key);
  for (size_t i = 0; i + key_len + 2 <= len; i++) {
    if (json[i] != '"' || strncmp(json + i + 1, key, key_len) != 0 || json[i + 1 + key_len] != '"') {
      continue;
    }
    size_t j = i + key_len + 2;
    while (j < len && (json[j] == ' ' || json[j] == '\t' || json[j] == '\n' || json[j] == '\r')) j++;
    if (j >= len || json[j] != ':') continue;
    char buffer[64];
    size_t n = 0;
    for (j++; j < len && n + 1 < sizeof buffer && strchr(" \t\n\r", json[j]); j++) {}
    while (j < len && n + 1 < sizeof buffer && strchr("+-0123456789.eE", json[j])) buffer[n++] = json[j++];
    buffer[n] = '\0';
    char *end;
    *out = strtod(buffer, &end);
    return n > 0 && *end == '\0' && isfinite(*out);
  }
  return false;
}

// The shortest text that reads back as `value` (as JSON numbers are written).
static void format_number(double value, char *out, size_t size) {
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(out, size, "%.*g", precision, value);
    if (strtod(out, NULL) == value) return;
  }
}

static void fail(exports_corral_mcp_tools_error_t *err, uint8_t tag, const char *message) {
  err->tag = tag;
  tool_provider_string_dup(&err->val.invalid_params, message);
}

bool exports_corral_mcp_tools_call_tool(tool_provider_string_t *name,
                                        exports_corral_mcp_tools_json_t *arguments,
                                        exports_corral_mcp_tools_input_t *maybe_input,
                                        exports_corral_mcp_tools_outcome_t *ret,
                                        exports_corral_mcp_tools_error_t *err) {
  (void)maybe_input;
  bool known = name->len == strlen("multiply") && memcmp(name->ptr, "multiply", name->len) == 0;
  tool_provider_string_free(name);
  if (!known) {
    tool_provider_string_free(arguments);
    fail(err, CORRAL_MCP_TYPES_ERROR_NOT_FOUND, "no such tool");
    return false;
  }
  double a, b;
  bool parsed = number_field((const char *)arguments->ptr, arguments->len, "a", &a) &&
                number_field((const char *)arguments->ptr, arguments->len, "b", &b);
  tool_provider_string_free(arguments);
  if (!parsed) {
    fail(err, CORRAL_MCP_TYPES_ERROR_INVALID_PARAMS, "multiply takes two numbers, a and b");
    return false;
  }
  char product[32];
  format_number(a * b, product, sizeof product);
  char structured[64];
  snprintf(structured, sizeof structured, "{\"result\":%s}", product);

  tool_provider_string_t message;
  char line[96];
  snprintf(line, sizeof line, "multiply %g by %g", a, b);
  tool_provider_string_set(&message, line);
  corral_mcp_context_log(CORRAL_MCP_CONTEXT_LOG_LEVEL_INFO, &message);

  corral_mcp_types_content_t *text = calloc(1, sizeof *text);
  text->tag = CORRAL_MCP_TYPES_CONTENT_TEXT;
  tool_provider_string_dup(&text->val.text, product);
  ret->tag = EXPORTS_CORRAL_MCP_TOOLS_OUTCOME_COMPLETE;
  ret->val.complete.content.ptr = text;
  ret->val.complete.content.len = 1;
  ret->val.complete.structured.is_some = true;
  tool_provider_string_dup(&ret->val.complete.structured.val, structured);
  ret->val.complete.is_error = false;
  return true;
}
