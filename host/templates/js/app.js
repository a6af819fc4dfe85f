// __NAME__: a Corral plugin written in JavaScript.
//
// It targets the `corral:mcp/mcp-component` world (see wit/mcp.wit) and offers
// one tool (`greet`), one resource (`__NAME__://about`) and one prompt
// (`review`). Each exported WIT interface is an exported object of the same
// name (camelCase): `tools`, `resources`, `prompts` and `completions`.
//
// How WIT values look here: records are objects with camelCase fields,
// variants are `{ tag: 'kebab-name', val }`, enums are strings, an `option`
// is the value or `undefined`, a `u64` is a BigInt. To return the error case
// of a `result`, throw the error variant, e.g. `{ tag: 'not-found', val: '...' }`.
//
// Every call runs in a fresh instance: keep no state between calls.

import { log } from 'corral:mcp/context@0.1.1';

const ABOUT_URI = '__NAME__://about';

const GREET_SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string', description: 'Who to greet.' } },
  required: ['name'],
};

const invalidParams = (message) => ({ tag: 'invalid-params', val: message });
const notFound = (message) => ({ tag: 'not-found', val: message });

export const tools = {
  listTools() {
    return [
      {
        name: 'greet',
        title: 'Greet',
        description: 'Say hello to someone.',
        inputSchema: JSON.stringify(GREET_SCHEMA),
        outputSchema: undefined,
        annotations: { readOnly: true, destructive: false, idempotent: true, openWorld: false },
        tags: [],
        icons: [],
      },
    ];
  },

  callTool(name, argumentsJson, _input) {
    if (name !== 'greet') throw notFound(`unknown tool '${name}'`);
    let args;
    try {
      args = JSON.parse(argumentsJson || '{}');
    } catch (e) {
      throw invalidParams(`arguments are not valid JSON: ${e}`);
    }
    const who = args === null || typeof args !== 'object' ? undefined : args.name;
    if (typeof who !== 'string') throw invalidParams("argument 'name' must be a string");

    log('info', `greeting ${who}`);
    return {
      tag: 'complete',
      val: {
        content: [{ tag: 'text', val: `Hello, ${who}!` }],
        structured: undefined,
        isError: false,
      },
    };
  },
};

export const resources = {
  listResources() {
    return [
      {
        uri: ABOUT_URI,
        name: 'about',
        title: 'About __NAME__',
        description: 'What this plugin is.',
        mimeType: 'text/plain',
        size: undefined,
        tags: [],
        icons: [],
      },
    ];
  },

  listTemplates() {
    return [];
  },

  readResource(uri, _params, _input) {
    if (uri !== ABOUT_URI) throw notFound(`unknown resource '${uri}'`);
    return {
      tag: 'complete',
      val: [
        {
          uri,
          mimeType: 'text/plain',
          body: { tag: 'text', val: '__NAME__ is a Corral plugin written in JavaScript.' },
        },
      ],
    };
  },
};

export const prompts = {
  listPrompts() {
    return [
      {
        name: 'review',
        title: 'Code review',
        description: 'Ask the model to review a piece of code.',
        arguments: [{ name: 'code', description: 'The code to review.', required: true }],
        tags: [],
        icons: [],
      },
    ];
  },

  getPrompt(name, args, _input) {
    if (name !== 'review') throw notFound(`unknown prompt '${name}'`);
    const code = new Map(args).get('code');
    if (code === undefined) throw invalidParams("missing required argument 'code'");
    return {
      tag: 'complete',
      val: {
        description: 'A code review request',
        messages: [
          { role: 'user', content: { tag: 'text', val: `Please review this code:\n\n${code}` } },
        ],
      },
    };
  },
};

export const completions = {
  complete(_reference, _argument, _value) {
    return [];
  },
};
