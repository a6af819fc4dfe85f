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

/** Strings of the formats zod and JSON Schema name, for samples that validate. */
const FORMATS = {
  email: 'user@example.com',
  uuid: '00000000-0000-4000-8000-000000000000',
  'date-time': '2000-01-01T00:00:00Z',
  date: '2000-01-01',
  time: '00:00:00',
  uri: 'https://example.com/',
  url: 'https://example.com/',
  ipv4: '127.0.0.1',
  ipv6: '::1',
};

/** How many values one sample may hold at most (schemas can nest and repeat). */
const SAMPLE_PARTS = 1000;

/** A value of the shape `schema` (a JSON Schema) describes, as far as its
 * defaults, constants, enums, types, formats and lower bounds say: every
 * property of an object and one item of an array (none once nested deep),
 * so that validating it goes through each part of the schema; at most
 * `SAMPLE_PARTS` values. It need not be valid (patterns are ignored); it is
 * used before the snapshot, to compile validation. `$ref`s to the root or
 * to its `$defs` are followed. */
export function sampleOf(schema) {
  let left = SAMPLE_PARTS;
  const sample = (part, depth) => {
    left -= 1;
    if (part === null || typeof part !== 'object' || depth > 16 || left < 0) return null;
    if (typeof part.$ref === 'string') return sample(resolve(schema, part.$ref), depth + 1);
    if ('default' in part) return part.default;
    if ('const' in part) return part.const;
    if (Array.isArray(part.enum) && part.enum.length > 0) return part.enum[0];
    const first = [part.anyOf, part.oneOf, part.allOf].find((list) => Array.isArray(list) && list.length > 0);
    if (first) return sample(first[0], depth + 1);
    const type = Array.isArray(part.type) ? (part.type.find((t) => t !== 'null') ?? 'null') : part.type;
    switch (type) {
      case 'object':
        return Object.fromEntries(Object.entries(part.properties ?? {}).map(([key, p]) => [key, sample(p, depth + 1)]));
      case 'array': {
        if (Array.isArray(part.prefixItems)) return part.prefixItems.map((p) => sample(p, depth + 1));
        const count = Math.min(Math.max(part.minItems ?? 0, depth > 4 ? 0 : 1), part.maxItems ?? 8, 8);
        return Array.from({ length: count }, () => sample(part.items, depth + 1));
      }
      case 'string':
        return FORMATS[part.format] ?? 'x'.repeat(Math.min(part.minLength ?? 1, 64));
      case 'number':
      case 'integer': {
        const low = part.minimum ?? (part.exclusiveMinimum === undefined ? 0 : part.exclusiveMinimum + 1);
        return type === 'integer' ? Math.ceil(low) : low;
      }
      case 'boolean':
        return false;
      default:
        return null;
    }
  };
  return sample(schema, 0);
}

/** The part of `root` a local `$ref` (`#`, `#/$defs/name`, `#/definitions/name`) names. */
function resolve(root, ref) {
  if (ref === '#') return root;
  const [, kind, name] = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(ref) ?? [];
  return kind ? root?.[kind]?.[decodeURIComponent(name)] : undefined;
}
