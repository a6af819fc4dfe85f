// __NAME__: a Corral plugin in JavaScript, written with FastMCP's TypeScript
// API (`import { FastMCP } from 'fastmcp'` becomes 'corral-sdk').
//
// `npm run build` (or `corral build app.js -o __NAME__.wasm`) makes the
// component; every call runs in a fresh sandbox, so keep no state between calls.
import { FastMCP } from 'corral-sdk';
import { z } from 'zod';

const server = new FastMCP({ name: '__NAME__', version: '0.1.0' });

server.addTool({
  name: 'greet',
  description: 'Say hello to someone.',
  parameters: z.object({ name: z.string().describe('Who to greet.') }),
  annotations: { readOnlyHint: true, idempotentHint: true },
  execute: async ({ name }, { log }) => {
    log.info(`greeting ${name}`);
    return `Hello, ${name}!`;
  },
});

server.addResource({
  uri: '__NAME__://about',
  name: 'about',
  description: 'What this plugin is.',
  mimeType: 'text/plain',
  load: async () => ({ text: '__NAME__ is a Corral plugin written in JavaScript.' }),
});

server.addPrompt({
  name: 'review',
  description: 'Ask the model to review a piece of code.',
  arguments: [{ name: 'code', description: 'The code to review.', required: true }],
  load: async ({ code }) => `Please review this code:\n\n${code}`,
});

server.start({ transportType: 'stdio' });
