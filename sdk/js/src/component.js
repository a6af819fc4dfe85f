// The WIT side: Corral's `corral:mcp/full` exports, served from `FastMCP`.
//
// ComponentizeJS binds each exported interface to the exported object of the
// same name; the entry module `corral build` writes imports the plugin (which
// registers its tools on a `FastMCP`) and re-exports these. Only this module
// touches the WIT: records are objects with camelCase fields, variants
// `{ tag, val }`, an error result is a thrown variant.

import { cancelled, log, progress } from 'corral:mcp/context@0.1.1';

import { ArgumentError, NeedsInput, NotFoundError, Rounds, UserError, base64ToBytes, runTool, serving } from './index.js';
import { sampleOf } from './schema.js';

const host = {
  log: (level, message) => log(level, message),
  progress: (done, total, message) => progress(done, total, message),
  cancelled: () => cancelled(),
};

function rounds(input) {
  return [input?.responses ?? [], input?.state];
}

function witError(e, what) {
  if (e instanceof NotFoundError) return { tag: 'not-found', val: e.message };
  if (e instanceof ArgumentError) return { tag: 'invalid-params', val: e.message };
  if (e instanceof UserError) return { tag: 'tool-error', val: e.message };
  return { tag: 'internal', val: `Error calling ${what}: ${e?.name ?? 'Error'}: ${e?.message ?? e}` };
}

function bytesOf(data) {
  return typeof data === 'string' ? base64ToBytes(data) : new Uint8Array(data);
}

function witContents(item) {
  const body = item.blob !== undefined ? { tag: 'blob', val: bytesOf(item.blob) } : { tag: 'text', val: item.text };
  return { uri: item.uri, mimeType: item.mimeType, body };
}

function witContent(block) {
  switch (block.type) {
    case 'text':
      return { tag: 'text', val: String(block.text) };
    case 'image':
    case 'audio':
      return { tag: block.type, val: { data: bytesOf(block.data), mimeType: block.mimeType } };
    case 'resource':
      return { tag: 'embedded', val: witContents(block.resource) };
    case 'resource_link':
      return { tag: 'link', val: { uri: block.uri, name: block.name, description: block.description, mimeType: block.mimeType } };
    default:
      throw new UserError(`unsupported content block ${JSON.stringify(block.type)}`);
  }
}

function witMessage(m) {
  return { role: m.role, content: witContent(m.content) };
}

function witRequest(kind, payload) {
  if (kind === 'elicit') {
    return { tag: 'elicit', val: { message: payload.message, requestedSchema: JSON.stringify(payload.requestedSchema) } };
  }
  if (kind === 'sample') {
    return {
      tag: 'sample',
      val: { messages: payload.messages.map(witMessage), maxTokens: payload.maxTokens, systemPrompt: payload.systemPrompt },
    };
  }
  return { tag: 'roots' };
}

function needs(e) {
  return { requests: e.requests.map(([key, kind, payload]) => [key, witRequest(kind, payload)]), state: e.state };
}

async function run(what, work, complete) {
  try {
    return { tag: 'complete', val: complete(await work()) };
  } catch (e) {
    if (e instanceof NeedsInput) return { tag: 'needs-input', val: needs(e) };
    throw witError(e, what);
  }
}

const json = (value) => (value === undefined ? undefined : JSON.stringify(value));

const toolResult = (done) => ({ content: done.content.map(witContent), structured: json(done.structured), isError: false });

export const tools = {
  listTools() {
    return [...serving().tools.values()].map((t) => ({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: JSON.stringify(t.inputSchema),
      outputSchema: json(t.outputSchema),
      annotations: t.annotations,
      tags: t.tags,
      icons: [],
    }));
  },
  async callTool(name, argumentsJson, input) {
    return run(
      `tool '${name}'`,
      () => serving().callTool(name, argumentsJson, new Rounds(...rounds(input)), host),
      toolResult,
    );
  },
};

export const resources = {
  listResources() {
    return [...serving().resources.values()].map((r) => ({
      uri: r.uri,
      name: r.name,
      title: r.title,
      description: r.description,
      mimeType: r.mimeType,
      size: undefined,
      tags: [...(r.tags ?? [])],
      icons: [],
    }));
  },
  listTemplates() {
    return [...serving().templates.values()].map((t) => ({
      uriTemplate: t.uriTemplate,
      name: t.name,
      title: t.title,
      description: t.description,
      mimeType: t.mimeType,
      tags: [...(t.tags ?? [])],
      icons: [],
    }));
  },
  async readResource(uri, params, input) {
    return run(
      `resource '${uri}'`,
      () => serving().readResource(uri, params, new Rounds(...rounds(input)), host),
      (list) => list.map(witContents),
    );
  },
};

export const prompts = {
  listPrompts() {
    return [...serving().prompts.values()].map((p) => ({
      name: p.name,
      title: p.title,
      description: p.description,
      arguments: p.arguments.map((a) => ({ name: a.name, description: a.description, required: Boolean(a.required) })),
      tags: [...(p.tags ?? [])],
      icons: [],
    }));
  },
  async getPrompt(name, args, input) {
    return run(
      `prompt '${name}'`,
      () => serving().getPrompt(name, args, new Rounds(...rounds(input)), host),
      (done) => ({ description: done.description, messages: done.messages.map(witMessage) }),
    );
  },
};

export const completions = {
  complete() {
    return [];
  },
};

export const tasks = {
  listTaskSupport() {
    return [...serving().tools.values()]
      .filter((t) => t.task !== undefined)
      .map((t) => ({ tool: t.name, support: t.task }));
  },
};

// Compiled before the snapshot. `corral build` snapshots the engine after
// this module's top level has run, and every call gets a fresh instance of
// that snapshot. SpiderMonkey compiles a function to bytecode on its first
// call, so whatever no call had run before the snapshot would be compiled
// again on every call: the SDK's call path and the schema library's
// validation cost more than the tool. So each tool's call path runs here
// once, but never the tool: its arguments are a sample made from its input
// schema (validated, so zod `refine`/`transform` callbacks run on it once,
// at build time), and a stand-in for `execute` returns a sample of its
// output schema. Nothing of this is kept but the compiled code: the results
// are dropped, and no host function is called.
const silent = { log() {}, progress() {}, cancelled: () => false };

async function compileCallPaths() {
  let server;
  try {
    server = serving();
  } catch {
    return; // no FastMCP: the build reports it
  }
  for (const tool of server.tools.values()) {
    const output = tool.wrap ? tool.outputSchema.properties.result : tool.outputSchema;
    const standIn = { ...tool, execute: async () => (output === undefined ? 'sample' : sampleOf(output)) };
    const args = JSON.stringify(sampleOf(tool.inputSchema));
    try {
      await run(`tool '${tool.name}'`, () => runTool(standIn, args, new Rounds([], undefined), silent), toolResult);
    } catch {
      // A sample that does not validate still compiled most of the path.
    }
  }
}

await compileCallPaths();
