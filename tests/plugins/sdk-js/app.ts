// sdk-js: the JavaScript SDK's features through the host, for the tests (the
// same tools as tests/plugins/sdk-python, checked by tests/interop/sdk_client.py).
// Written in TypeScript, which `corral build` bundles as it is.
import { FastMCP, UserError, imageContent, type Context } from 'corral-sdk';
import { z } from 'zod';

const server = new FastMCP({ name: 'sdk-js', version: '0.1.0' });

server.addTool({
  name: 'introduce',
  description: "Ask the user's name, then their age.",
  parameters: z.object({}),
  execute: async (_args: Record<string, never>, context: Context): Promise<string> => {
    context.log.info('asking for a name');
    await context.reportProgress({ progress: 1, total: 2, message: 'name' });
    const name = await context.elicit('What is your name?', z.object({ value: z.string() }));
    if (name.action !== 'accept') return `no introduction (${name.action})`;
    const age = await context.elicit(`How old are you, ${name.content.value}?`, z.object({ value: z.number() }));
    if (age.action !== 'accept') return `${name.content.value} keeps their age to themselves`;
    return `${name.content.value} is ${age.content.value}`;
  },
});

server.addTool({
  name: 'order',
  description: 'Place an order.',
  parameters: z.object({
    order: z.object({ item: z.string(), qty: z.number().int().min(1).max(99).default(1) }),
    speed: z.enum(['normal', 'express']).default('normal'),
  }),
  outputSchema: z.object({ item: z.string(), qty: z.number(), speed: z.string() }),
  execute: async ({ order, speed }) => ({ item: order.item, qty: order.qty, speed }),
});

server.addTool({
  name: 'pixel',
  description: 'A one-pixel PNG.',
  execute: () => imageContent({ buffer: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) }),
});

server.addTool({
  name: 'refuse',
  description: 'Always fails, with the reason.',
  parameters: z.object({ reason: z.string() }),
  execute: ({ reason }) => {
    throw new UserError(`refused: ${reason}`);
  },
});

server.addTool({
  name: 'crash',
  description: 'Fails with an unexpected exception.',
  execute: () => {
    const missing: { deep?: { value: number } } = {};
    return String(missing.deep!.value);
  },
});

server.addTool({
  name: 'slow_sum',
  description: 'A tool that may run as a task.',
  parameters: z.object({ values: z.array(z.number()) }),
  outputSchema: z.number(),
  task: true,
  execute: ({ values }) => values.reduce((a, b) => a + b, 0),
});

// Module state: each call gets a fresh instance of the build's snapshot, so
// this answers 1 every time unless something before the snapshot (the SDK
// compiling its call path) ran the tool.
let runs = 0;
server.addTool({
  name: 'runs',
  description: 'How many times this instance has run this tool.',
  parameters: z.object({ step: z.number().int().min(1).default(1) }),
  execute: async ({ step }) => {
    runs += step;
    return runs;
  },
});

server.start({ transportType: 'stdio' });
