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

/** A value of the shape `schema` (a JSON Schema) describes, as far as its
 * defaults, constants, enums, types and lower bounds say: every property of
 * an object and one item of an array, so that validating it goes through
 * each part of the schema. It need not be valid (patterns and formats are
 * ignored); it is used before the snapshot, to compile validation. */
export function sampleOf(schema, depth = 0) {
  if (schema === null || typeof schema !== 'object' || depth > 16) return null;
  if ('default' in schema) return schema.default;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const first = [schema.anyOf, schema.oneOf, schema.allOf].find((list) => Array.isArray(list) && list.length > 0);
  if (first) return sampleOf(first[0], depth + 1);
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, part]) => [key, sampleOf(part, depth + 1)]));
    case 'array': {
      const count = Math.min(Math.max(schema.minItems ?? 1, 1), schema.maxItems ?? 8, 8);
      return Array.from({ length: count }, () => sampleOf(schema.items, depth + 1));
    }
    case 'string':
      return 'x'.repeat(Math.min(schema.minLength ?? 1, 64));
    case 'number':
    case 'integer': {
      const low = schema.minimum ?? (schema.exclusiveMinimum === undefined ? 0 : schema.exclusiveMinimum + 1);
      return type === 'integer' ? Math.ceil(low) : low;
    }
    case 'boolean':
      return false;
    default:
      return null;
  }
}
