// The context an `execute` or `load` receives: logging, progress, and asking
// the client, statelessly.
//
// Asking (`await context.elicit(...)`) works without a connection held open:
// the first ask with no answer yet ends the call with a request; the host
// asks the client and runs the handler again from the start, and this time
// the same `await` returns the answer. Requests are keyed by the order they
// are made in; the answers of earlier rounds travel in the call's state. So a
// handler asks in the same order on every run, and what it does before an ask
// happens once per round.

import { jsonSchemaOf } from './schema.js';

/** Thrown inside a handler to end the round with requests for the client. */
export class NeedsInput extends Error {
  constructor(requests, state) {
    super('the call needs input from the client');
    this.name = 'NeedsInput';
    this.requests = requests;
    this.state = state;
  }
}

/** The answers so far, and the key of the next request. */
export class Rounds {
  constructor(responses, state) {
    this.answers = {};
    if (state) {
      try {
        const carried = JSON.parse(state);
        if (carried && typeof carried.answers === 'object') Object.assign(this.answers, carried.answers);
      } catch {
        // not ours: start afresh
      }
    }
    for (const [key, json] of responses ?? []) this.answers[key] = json;
    this.next = 0;
  }

  /** The decoded answer to the next request, or `NeedsInput` for it. */
  ask(kind, payload) {
    const key = `${kind}-${this.next++}`;
    if (key in this.answers) return JSON.parse(this.answers[key]);
    throw new NeedsInput([[key, kind, payload]], JSON.stringify({ answers: this.answers }));
  }
}

const LEVELS = { debug: 'debug', info: 'info', warn: 'warning', error: 'error' };

export class Context {
  constructor(host, rounds) {
    this.log = {};
    for (const [name, level] of Object.entries(LEVELS)) {
      this.log[name] = (message, data) =>
        host.log(level, data === undefined ? String(message) : `${message} ${JSON.stringify(data)}`);
    }
    this.session = undefined;
    this.#host = host;
    this.#rounds = rounds;
  }

  #host;
  #rounds;

  /** Report progress: `{ progress, total }` (FastMCP's shape). */
  async reportProgress({ progress, total, message } = {}) {
    this.#host.progress(Number(progress), total === undefined ? undefined : Number(total), message);
  }

  /** Whether the client cancelled this call; long loops should stop. */
  isCancelled() {
    return this.#host.cancelled();
  }

  /** Ask the user: `await context.elicit('Your name?', z.object({ name: z.string() }))`
   * (or a JSON Schema object). Returns `{ action: 'accept', content }`,
   * `{ action: 'decline' }` or `{ action: 'cancel' }`. */
  async elicit(message, schema) {
    const requestedSchema = jsonSchemaOf(schema, 'input', 'elicit()') ?? { type: 'object', properties: {} };
    const answer = this.#rounds.ask('elicit', { message, requestedSchema });
    return { action: answer?.action, content: answer?.content };
  }

  /** Ask the client's model: `await context.sample('Summarize ...', { maxTokens })`.
   * Returns `{ text, model }`. */
  async sample(prompt, { systemPrompt, maxTokens = 512 } = {}) {
    const messages = (Array.isArray(prompt) ? prompt : [prompt]).map((m) =>
      typeof m === 'string' ? { role: 'user', content: { type: 'text', text: m } } : m,
    );
    const answer = this.#rounds.ask('sample', { messages, maxTokens, systemPrompt });
    const blocks = Array.isArray(answer?.content) ? answer.content : [answer?.content];
    return { text: blocks.find((b) => b?.type === 'text')?.text, model: answer?.model };
  }

  /** The client's roots: `[{ uri, name }]`. */
  async listRoots() {
    return this.#rounds.ask('roots', undefined)?.roots ?? [];
  }
}
