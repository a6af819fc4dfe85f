// The JavaScript SDK under Node: schemas from zod, argument checking, results,
// errors, and the context's input rounds.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { z } from 'zod';

import { ArgumentError, FastMCP, NeedsInput, NotFoundError, Rounds, UserError, imageContent } from '../src/index.js';
import { inputSchemaOf, sampleOf, validate } from '../src/schema.js';

class Host {
  logs = [];
  progress_ = [];
  log(level, message) {
    this.logs.push([level, message]);
  }
  progress(done, total, message) {
    this.progress_.push([done, total, message]);
  }
  cancelled() {
    return false;
  }
}

const fresh = () => new Rounds([], undefined);

function server() {
  const s = new FastMCP({ name: 'test', version: '1.0.0' });
  s.addTool({
    name: 'multiply',
    description: 'Multiply two numbers.',
    parameters: z.object({ a: z.number().describe('The first factor'), b: z.number().default(2) }),
    outputSchema: z.number(),
    annotations: { readOnlyHint: true, title: 'Multiply' },
    execute: async ({ a, b }) => a * b,
  });
  s.addTool({
    name: 'describe',
    parameters: z.object({ n: z.number().int().min(1) }),
    outputSchema: z.object({ n: z.number(), even: z.boolean() }),
    execute: ({ n }) => ({ n, even: n % 2 === 0 }),
  });
  s.addTool({ name: 'refuse', execute: () => { throw new UserError('refused'); } });
  s.addTool({ name: 'text', execute: () => 'plain' });
  s.addTool({ name: 'picture', execute: () => imageContent({ buffer: new Uint8Array([0x89, 0x50, 0x4e, 0x47]) }) });
  s.addTool({
    name: 'introduce',
    execute: async (_args, ctx) => {
      ctx.log.info('asking');
      await ctx.reportProgress({ progress: 1, total: 2 });
      const name = await ctx.elicit('Your name?', z.object({ name: z.string() }));
      if (name.action !== 'accept') return `no name (${name.action})`;
      const age = await ctx.elicit('Your age?', z.object({ age: z.number() }));
      return `${name.content.name} is ${age.content.age}`;
    },
  });
  s.addResourceTemplate({
    uriTemplate: 'users://{user_id}/profile',
    arguments: [{ name: 'user_id', required: true }],
    load: async ({ user_id }) => ({ text: JSON.stringify({ id: Number(user_id) }) }),
  });
  s.addPrompt({
    name: 'review',
    arguments: [{ name: 'code', required: true }],
    load: async ({ code }) => [`Review: ${code}`, { role: 'assistant', content: 'Sure.' }],
  });
  return s;
}

test('schemas come from zod, with defaults and descriptions', () => {
  const tool = server().tools.get('multiply');
  assert.deepEqual(tool.inputSchema, {
    type: 'object',
    properties: { a: { type: 'number', description: 'The first factor' }, b: { type: 'number', default: 2 } },
    required: ['a'],
  });
  assert.deepEqual(tool.outputSchema, {
    type: 'object',
    properties: { result: { type: 'number' } },
    required: ['result'],
    'x-fastmcp-wrap-result': true,
  });
  assert.equal(tool.title, 'Multiply');
  assert.deepEqual(tool.annotations, { readOnly: true });
});

test('results: wrapped numbers, objects, text and images', async () => {
  const s = server();
  const host = new Host();
  assert.deepEqual(await s.callTool('multiply', '{"a": 6}', fresh(), host), {
    content: [{ type: 'text', text: '12' }],
    structured: { result: 12 },
  });
  assert.deepEqual((await s.callTool('describe', '{"n": 4}', fresh(), host)).structured, { n: 4, even: true });
  assert.deepEqual(await s.callTool('text', '{}', fresh(), host), { content: [{ type: 'text', text: 'plain' }], structured: undefined });
  const picture = await s.callTool('picture', '{}', fresh(), host);
  assert.deepEqual(picture.content, [{ type: 'image', data: 'iVBORw==', mimeType: 'image/png' }]);
});

test('errors keep their kind', async () => {
  const s = server();
  const cases = [
    ['multiply', '{"a": "x"}', ArgumentError, /a: /],
    ['describe', '{"n": 0}', ArgumentError, /n: /],
    ['multiply', 'not json', ArgumentError, /not JSON/],
    ['refuse', '{}', UserError, /refused/],
    ['nope', '{}', NotFoundError, /Unknown tool/],
  ];
  for (const [name, args, kind, message] of cases) {
    await assert.rejects(s.callTool(name, args, fresh(), new Host()), (e) => e instanceof kind && message.test(e.message));
  }
});

test('each question is asked once and answers accumulate in the state', async () => {
  const s = server();
  const host = new Host();
  let first;
  await assert.rejects(s.callTool('introduce', '{}', fresh(), host), (e) => (first = e) instanceof NeedsInput);
  assert.equal(first.requests[0][0], 'elicit-0');
  assert.equal(first.requests[0][2].requestedSchema.properties.name.type, 'string');
  assert.deepEqual(host.logs, [['info', 'asking']]);
  assert.deepEqual(host.progress_, [[1, 2, undefined]]);
  const name = JSON.stringify({ action: 'accept', content: { name: 'Ada' } });
  let second;
  await assert.rejects(s.callTool('introduce', '{}', new Rounds([['elicit-0', name]], first.state), host), (e) => (second = e) instanceof NeedsInput);
  assert.equal(second.requests[0][0], 'elicit-1');
  const age = JSON.stringify({ action: 'accept', content: { age: 36 } });
  const done = await s.callTool('introduce', '{}', new Rounds([['elicit-1', age]], second.state), host);
  assert.equal(done.content[0].text, 'Ada is 36');
  const declined = JSON.stringify({ action: 'decline' });
  const no = await s.callTool('introduce', '{}', new Rounds([['elicit-0', declined]], undefined), host);
  assert.equal(no.content[0].text, 'no name (decline)');
});

test('templates match their variables; prompts render strings and messages', async () => {
  const s = server();
  const read = await s.readResource('users://42/profile', [], fresh(), new Host());
  assert.deepEqual(read, [{ uri: 'users://42/profile', mimeType: 'text/plain', text: '{"id":42}' }]);
  const byParams = await s.readResource('users://7/profile', [['user_id', '7']], fresh(), new Host());
  assert.equal(byParams[0].text, '{"id":7}');
  await assert.rejects(s.readResource('users://x', [], fresh(), new Host()), NotFoundError);
  const prompt = await s.getPrompt('review', [['code', 'x = 1']], fresh(), new Host());
  assert.deepEqual(prompt.messages, [
    { role: 'user', content: { type: 'text', text: 'Review: x = 1' } },
    { role: 'assistant', content: { type: 'text', text: 'Sure.' } },
  ]);
  await assert.rejects(s.getPrompt('review', [], fresh(), new Host()), ArgumentError);
});

test('mistakes are refused when the module loads', () => {
  const s = new FastMCP({ name: 'bad' });
  assert.throws(() => s.addTool({ name: 'x' }), /execute must be a function/);
  assert.throws(() => s.addTool({ name: 'x', parameters: z.number(), execute() {} }), /must describe an object/);
  assert.throws(() => s.addTool({ name: 'x', task: 'sometimes', execute() {} }), /task must be/);
  assert.throws(
    () => s.addResourceTemplate({ uriTemplate: 'a://{id}', arguments: [{ name: 'other' }], load() {} }),
    /are not variables of the template/,
  );
});

const Tree = z.object({
  name: z.string(),
  get children() {
    return z.array(Tree);
  },
});

test('a sample made from a tool’s input schema passes its validation', async () => {
  const schemas = {
    numbers: z.object({ a: z.number(), b: z.number() }),
    nested: z.object({
      order: z.object({ item: z.string(), qty: z.number().int().min(1).max(99).default(1) }),
      speed: z.enum(['normal', 'express']).default('normal'),
    }),
    lists: z.object({ values: z.array(z.number()).min(2), tags: z.array(z.string()).max(3) }),
    choices: z.object({ id: z.union([z.string().min(3), z.number()]), flag: z.boolean(), note: z.string().optional() }),
    bounds: z.object({ positive: z.number().positive(), count: z.number().int().gte(5), nothing: z.null() }),
    empty: z.object({}),
    formats: z.object({ email: z.email(), id: z.uuid(), when: z.iso.datetime(), day: z.iso.date(), site: z.url() }),
    shared: z.object({ home: z.object({ street: z.string() }), pair: z.tuple([z.string(), z.number()]) }),
    recursive: Tree,
  };
  for (const [name, schema] of Object.entries(schemas)) {
    const sample = sampleOf(inputSchemaOf(schema, name));
    const checked = await validate(schema, sample, name);
    assert.equal(typeof checked, 'object', name);
  }
  assert.deepEqual(sampleOf(inputSchemaOf(schemas.lists, 'lists')), { values: [0, 0], tags: ['x'] });
});

test('a sample stays small however the schema nests and repeats', () => {
  const wide = { type: 'array', minItems: 8, items: { $ref: '#' } };
  const schema = { type: 'object', properties: Object.fromEntries([...'abcdefgh'].map((k) => [k, wide])) };
  const size = JSON.stringify(sampleOf(schema)).length;
  assert.ok(size < 20_000, `sample of ${size} bytes`);
});
