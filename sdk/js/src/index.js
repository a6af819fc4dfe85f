// corral-sdk: FastMCP's TypeScript API (punkpeye/fastmcp) for Corral plugins.
//
//   import { FastMCP } from 'corral-sdk';   // was: from 'fastmcp'
//   import { z } from 'zod';
//   const server = new FastMCP({ name: 'Demo', version: '1.0.0' });
//   server.addTool({ name: 'add', parameters: z.object({ a: z.number(), b: z.number() }),
//                    execute: async ({ a, b }) => String(a + b) });
//   server.start({ transportType: 'stdio' });   // a no-op in the component
//
// `corral build app.js -o app.wasm` bundles the plugin with this SDK and makes
// the component; the SDK's WIT side is `component.js`. Nothing here touches
// the WIT, so this module runs, and is tested, under Node.

import { ArgumentError, inputSchemaOf, outputSchemaOf, validate } from './schema.js';
import { Context, NeedsInput, Rounds } from './context.js';

export { ArgumentError } from './schema.js';
export { NeedsInput, Rounds } from './context.js';

/** A failure the client should see, with its message (FastMCP's `UserError`). */
export class UserError extends Error {
  constructor(message, extras) {
    super(message);
    this.name = 'UserError';
    this.extras = extras;
  }
}

/** No such tool, resource or prompt. */
export class NotFoundError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Every server created, in order; the component serves the last one. */
export const SERVERS = [];

/** The server a component serves: the last one created. */
export function serving() {
  if (SERVERS.length === 0) {
    throw new Error("no FastMCP server was created: a plugin makes one with `new FastMCP({ name: '...' })`");
  }
  return SERVERS[SERVERS.length - 1];
}

const HINTS = {
  readOnlyHint: 'readOnly',
  destructiveHint: 'destructive',
  idempotentHint: 'idempotent',
  openWorldHint: 'openWorld',
};
const TASK_MODES = new Map([
  [true, 'optional'],
  [false, 'forbidden'],
  ['optional', 'optional'],
  ['required', 'required'],
  ['forbidden', 'forbidden'],
]);
const VARIABLE = /\{[+#./;?&]?([A-Za-z_][A-Za-z0-9_]*)\*?\}/g;

function need(value, what) {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${what} needs a name (a non-empty string)`);
  }
  return value;
}

export class FastMCP {
  /** `new FastMCP({ name, version, instructions })`; other options (auth,
   * health, ping, roots) are accepted and ignored: the host decides them. */
  constructor(options = {}) {
    this.name = options.name ?? 'corral';
    this.version = options.version;
    this.instructions = options.instructions;
    this.tools = new Map();
    this.resources = new Map();
    this.templates = new Map();
    this.prompts = new Map();
    SERVERS.push(this);
  }

  /** `{ name, description, parameters, execute, annotations, outputSchema, tags, task }`. */
  addTool(tool) {
    const name = need(tool?.name, 'addTool()');
    if (typeof tool.execute !== 'function') throw new TypeError(`tool '${name}': execute must be a function`);
    const what = `tool '${name}'`;
    const output = outputSchemaOf(tool.outputSchema, what);
    const annotations = {};
    for (const [hint, wit] of Object.entries(HINTS)) {
      if (tool.annotations?.[hint] !== undefined) annotations[wit] = Boolean(tool.annotations[hint]);
    }
    if (!TASK_MODES.has(tool.task ?? false)) {
      throw new TypeError(`${what}: task must be true, false, 'optional', 'required' or 'forbidden'`);
    }
    this.tools.set(name, {
      name,
      title: tool.title ?? tool.annotations?.title,
      description: tool.description,
      parameters: tool.parameters,
      inputSchema: inputSchemaOf(tool.parameters, what),
      outputSchema: output?.schema,
      wrap: output?.wrap ?? false,
      annotations: Object.keys(annotations).length ? annotations : undefined,
      tags: [...(tool.tags ?? [])].sort(),
      task: tool.task === undefined ? undefined : TASK_MODES.get(tool.task),
      execute: tool.execute,
    });
  }

  /** `{ uri, name, description, mimeType, load }`; `load()` returns
   * `{ text }`, `{ blob }` (base64), a string, or a list of them. */
  addResource(resource) {
    const uri = need(resource?.uri, 'addResource()');
    if (typeof resource.load !== 'function') throw new TypeError(`resource '${uri}': load must be a function`);
    this.resources.set(uri, { ...resource, name: resource.name ?? uri });
  }

  /** `{ uriTemplate, name, description, mimeType, arguments, load }`;
   * `load(args)` gets the template's variables by name. */
  addResourceTemplate(template) {
    const uriTemplate = need(template?.uriTemplate, 'addResourceTemplate()');
    if (typeof template.load !== 'function') throw new TypeError(`template '${uriTemplate}': load must be a function`);
    const variables = [...uriTemplate.matchAll(VARIABLE)].map((m) => m[1]);
    const declared = (template.arguments ?? []).map((a) => a.name);
    const missing = declared.filter((a) => !variables.includes(a));
    if (missing.length) {
      throw new TypeError(`template '${uriTemplate}': arguments ${JSON.stringify(missing)} are not variables of the template`);
    }
    this.templates.set(uriTemplate, { ...template, name: template.name ?? uriTemplate, variables });
  }

  /** `{ name, description, arguments: [{ name, description, required }], load }`;
   * `load(args)` returns a string, a message, or a list of them. */
  addPrompt(prompt) {
    const name = need(prompt?.name, 'addPrompt()');
    if (typeof prompt.load !== 'function') throw new TypeError(`prompt '${name}': load must be a function`);
    this.prompts.set(name, { ...prompt, arguments: prompt.arguments ?? [] });
  }

  /** Harmless in a component (the host serves the plugin). */
  async start() {}

  async stop() {}

  // --- serving ------------------------------------------------------------

  /** Run a tool: `{ content, structured }`; throws `NeedsInput`, `UserError`,
   * `ArgumentError`, `NotFoundError`. */
  async callTool(name, argumentsJson, rounds, host) {
    const tool = this.tools.get(name);
    if (!tool) throw new NotFoundError(`Unknown tool: '${name}'`);
    return runTool(tool, argumentsJson, rounds, host);
  }

  /** Read a resource or a template instance: MCP-shaped contents. */
  async readResource(uri, params, rounds, host) {
    const context = new Context(host, rounds);
    const resource = this.resources.get(uri);
    if (resource) return contents(await resource.load(context), uri, resource.mimeType);
    for (const template of this.templates.values()) {
      const values = params.length ? Object.fromEntries(params) : matchTemplate(template.uriTemplate, uri);
      if (!values || !template.variables.every((v) => v in values)) continue;
      if (params.length && !sameKeys(values, template.variables)) continue;
      return contents(await template.load(values, context), uri, template.mimeType);
    }
    throw new NotFoundError(`Unknown resource: '${uri}'`);
  }

  /** Render a prompt: `{ description, messages: [{ role, content }] }`. */
  async getPrompt(name, args, rounds, host) {
    const prompt = this.prompts.get(name);
    if (!prompt) throw new NotFoundError(`Unknown prompt: '${name}'`);
    const values = Object.fromEntries(args);
    for (const argument of prompt.arguments) {
      if (argument.required && !(argument.name in values)) {
        throw new ArgumentError(`prompt '${name}': missing required argument '${argument.name}'`);
      }
    }
    const value = await prompt.load(values, new Context(host, rounds));
    const list = Array.isArray(value) ? value : value?.messages ?? [value];
    return { description: value?.description ?? prompt.description, messages: list.map((m) => message(m, name)) };
  }
}

/** Run `tool` (a tool as `addTool` keeps it): `{ content, structured }`;
 * throws `NeedsInput`, `UserError`, `ArgumentError`. */
export async function runTool(tool, argumentsJson, rounds, host) {
  let args;
  try {
    args = argumentsJson.trim() ? JSON.parse(argumentsJson) : {};
  } catch (e) {
    throw new ArgumentError(`the arguments are not JSON: ${e.message}`);
  }
  const parsed = await validate(tool.parameters, args, `tool '${tool.name}'`);
  const value = await tool.execute(parsed, new Context(host, rounds));
  let structured;
  if (tool.outputSchema !== undefined && !isContent(value)) {
    const plain = value === undefined ? null : value;
    structured = tool.wrap ? { result: plain } : plain;
  }
  return { content: toContent(value), structured };
}

function sameKeys(values, variables) {
  const keys = Object.keys(values);
  return keys.length === variables.length && variables.every((v) => keys.includes(v));
}

function matchTemplate(template, uri) {
  let pattern = '';
  let last = 0;
  const names = [];
  for (const m of template.matchAll(VARIABLE)) {
    pattern += template.slice(last, m.index).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    pattern += m[0].endsWith('*}') ? '(.+)' : '([^/]+)';
    names.push(m[1]);
    last = m.index + m[0].length;
  }
  pattern += template.slice(last).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`^${pattern}$`).exec(uri);
  if (!found) return undefined;
  return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(found[i + 1])]));
}

function isContent(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    (Array.isArray(value.content) || ['text', 'image', 'audio', 'resource', 'resource_link'].includes(value.type))
  );
}

/** The content blocks of what `execute` returned, as FastMCP converts it. */
export function toContent(value) {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [{ type: 'text', text: value }];
  if (isContent(value)) return Array.isArray(value.content) ? value.content : [value];
  return [{ type: 'text', text: JSON.stringify(value) }];
}

function contents(value, uri, mimeType) {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) => {
    if (typeof item === 'string') return { uri, mimeType: mimeType ?? 'text/plain', text: item };
    if (item && typeof item === 'object' && ('text' in item || 'blob' in item)) {
      const body = 'blob' in item ? { blob: base64ToBytes(item.blob) } : { text: String(item.text) };
      return { uri: item.uri ?? uri, mimeType: item.mimeType ?? mimeType ?? 'text/plain', ...body };
    }
    throw new UserError(`resource '${uri}': load() returned ${typeof item}; return { text }, { blob } or a string`);
  });
}

function message(value, prompt) {
  if (typeof value === 'string') return { role: 'user', content: { type: 'text', text: value } };
  if (value && typeof value === 'object' && (value.role === 'user' || value.role === 'assistant')) {
    const content = typeof value.content === 'string' ? { type: 'text', text: value.content } : value.content;
    return { role: value.role, content };
  }
  throw new UserError(`prompt '${prompt}' returned ${typeof value}; a prompt returns a string, a message, or a list of them`);
}

const MAGIC = [
  [[0x89, 0x50, 0x4e, 0x47], 'image/png'],
  [[0xff, 0xd8, 0xff], 'image/jpeg'],
  [[0x47, 0x49, 0x46], 'image/gif'],
  [[0x52, 0x49, 0x46, 0x46], 'image/webp'],
];

function bytesToBase64(bytes) {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function media(kind, input, fallback) {
  if (input?.url !== undefined || input?.path !== undefined) {
    throw new UserError(`${kind}Content: a plugin has no network or files by default; pass { buffer } (bytes) or { data } (base64)`);
  }
  const bytes = input?.buffer !== undefined ? new Uint8Array(input.buffer) : input?.data !== undefined ? base64ToBytes(input.data) : undefined;
  if (!bytes) throw new TypeError(`${kind}Content needs { buffer } or { data }`);
  const sniffed = MAGIC.find(([magic]) => magic.every((b, i) => bytes[i] === b))?.[1];
  return { type: kind, data: bytesToBase64(bytes), mimeType: input.mimeType ?? sniffed ?? fallback };
}

/** An image result: `await imageContent({ buffer: pngBytes })`. */
export const imageContent = (input) => media('image', input, 'image/png');

/** An audio result: `await audioContent({ buffer: wavBytes, mimeType: 'audio/wav' })`. */
export const audioContent = (input) => media('audio', input, 'audio/wav');

export { Context } from './context.js';
