// JSON Schemas from Standard Schema libraries (zod 4, valibot, arktype) or
// plain JSON Schema objects, and argument validation through them.

/** The JSON Schema of `schema`: a Standard JSON Schema (`~standard.jsonSchema`,
 * as zod 4 provides), a schema with `toJSONSchema()`, or a plain JSON Schema
 * object (used as it is). `io` is `input` (arguments) or `output` (results). */
export function jsonSchemaOf(schema, io = 'input', what = 'schema') {
  if (schema === undefined || schema === null) return undefined;
  const standard = schema['~standard'];
  let out;
  if (standard?.jsonSchema?.[io]) {
    out = standard.jsonSchema[io]({ target: 'draft-2020-12' });
  } else if (typeof schema.toJSONSchema === 'function') {
    out = schema.toJSONSchema();
  } else if (!standard && typeof schema === 'object') {
    out = schema;
  } else {
    throw new TypeError(
      `${what}: cannot derive a JSON Schema from this ${standard?.vendor ?? 'value'} schema; ` +
        'use zod 4 (or another Standard JSON Schema library) or give a JSON Schema object',
    );
  }
  const { $schema: _ignored, ...rest } = out;
  return rest;
}

/** The input schema of a tool: an object schema, `{type: "object"}` at least. */
export function inputSchemaOf(parameters, what) {
  const schema = jsonSchemaOf(parameters, 'input', what) ?? { type: 'object', properties: {} };
  if (schema.type !== 'object') {
    throw new TypeError(`${what}: parameters must describe an object (z.object({...})), not ${JSON.stringify(schema.type)}`);
  }
  return schema;
}

/** The output schema of a tool: objects as they are; anything else wrapped
 * as `{result: ...}` and marked `x-fastmcp-wrap-result`, as FastMCP does. */
export function outputSchemaOf(schema, what) {
  const out = jsonSchemaOf(schema, 'output', what);
  if (out === undefined) return undefined;
  if (out.type === 'object') return { schema: out, wrap: false };
  return {
    schema: { type: 'object', properties: { result: out }, required: ['result'], 'x-fastmcp-wrap-result': true },
    wrap: true,
  };
}

/** Validate `value` with a Standard Schema; returns the parsed value (with
 * defaults and coercions applied) or throws `ArgumentError`. A plain JSON
 * Schema is not checked here: the host checks arguments before the call. */
export async function validate(schema, value, what) {
  const standard = schema?.['~standard'];
  if (!standard?.validate) return value;
  const result = await standard.validate(value);
  if (result.issues) {
    const details = result.issues
      .map((issue) => {
        const path = (issue.path ?? []).map((p) => (typeof p === 'object' ? p.key : p)).join('.');
        return path ? `${path}: ${issue.message}` : issue.message;
      })
      .join('; ');
    throw new ArgumentError(`${what}: ${details}`);
  }
  return result.value;
}

/** Arguments that do not fit (MCP: invalid params). */
export class ArgumentError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ArgumentError';
  }
}
