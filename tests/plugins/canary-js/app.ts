// canary-js: a test plugin that tries to leave state for the next call (the
// JavaScript counterpart of tests/plugins/canary-python).
//
// `leave` hides a marker made from the canary everywhere a JavaScript program
// can keep state between calls of one instance: a module variable, an array of
// strings, megabytes of typed-array heap, a property of `globalThis`, a class's
// static field, a closure kept in a Map and `Object.prototype`. `look` searches
// those places and says where it found the canary. In a fresh instance per call
// it must find nothing; with `instance_reuse` it finds it everywhere (which
// shows the search works).
import { FastMCP } from 'corral-sdk';

const server = new FastMCP({ name: 'canary-js', version: '0.1.0' });

const parameters = {
  type: 'object',
  properties: { canary: { type: 'string', minLength: 8 } },
  required: ['canary'],
  additionalProperties: false,
};
const outputSchema = {
  type: 'object',
  properties: { places: { type: 'array', items: { type: 'string' } } },
  required: ['places'],
};

/** What `leave` hides: text no call's arguments contain. */
const marker = (canary: string): string => `left:${canary}`;

let left: string | undefined;
const kept: string[] = [];
const heap: Uint8Array[] = [];
const closures = new Map<string, () => string>();

class Holder {
  static secret: string | undefined;
}

// Where `leave` puts the marker on objects every call shares.
const GLOBAL_KEY = 'corralCanary';
const PROTO_KEY = '__corralCanary';

function leave(canary: string): string[] {
  const hidden = marker(canary);
  left = hidden;
  kept.push(hidden, ...Array.from({ length: 2000 }, (_, i) => hidden + i));
  // Many pages of heap, each holding the marker.
  const bytes = new TextEncoder().encode(hidden);
  const blob = new Uint8Array(2 * 1024 * 1024);
  for (let at = 0; at + bytes.length <= blob.length; at += bytes.length) blob.set(bytes, at);
  heap.push(blob);
  (globalThis as Record<string, unknown>)[GLOBAL_KEY] = hidden;
  Holder.secret = hidden;
  closures.set('canary', () => hidden);
  (Object.prototype as Record<string, unknown>)[PROTO_KEY] = hidden;
  return ['left'];
}

function look(canary: string): string[] {
  const needle = marker(canary);
  const found: string[] = [];
  if (left === needle || kept.includes(needle)) found.push('module variable');
  const bytes = new TextEncoder().encode(needle);
  if (heap.some((blob) => bytes.every((b, i) => blob[i] === b))) found.push('typed-array heap');
  if ((globalThis as Record<string, unknown>)[GLOBAL_KEY] === needle) found.push('globalThis');
  if (Holder.secret === needle) found.push('class static');
  if (closures.get('canary')?.() === needle) found.push('closure');
  if (({} as Record<string, unknown>)[PROTO_KEY] === needle) found.push('Object.prototype');
  return found;
}

server.addTool({
  name: 'leave',
  description: "Hide the canary in this instance's state",
  parameters,
  outputSchema,
  execute: ({ canary }: { canary: string }) => ({ places: leave(canary) }),
});

server.addTool({
  name: 'look',
  description: "Where the canary is found in this instance's state",
  parameters,
  outputSchema,
  execute: ({ canary }: { canary: string }) => ({ places: look(canary) }),
});

server.start({ transportType: 'stdio' });
