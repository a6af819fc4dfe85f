// Corral's console: plain DOM, no framework, no CDN. Everything a plugin
// or a client wrote (names, descriptions, results) is shown as text, never
// parsed as HTML.
'use strict';

const API = new URL('api/', document.baseURI);
const state = { token: null, catalog: null, calls: [], maxCalls: 200, reloads: [], events: null, id: 0 };

// --- small DOM helpers -------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function json(value) { return el('pre', {}, JSON.stringify(value, null, 2)); }
function setStatus(text) { document.getElementById('status').textContent = text; }
function show(...children) {
  const page = document.getElementById('page');
  page.replaceChildren(...children.flat(2).filter((c) => c !== null && c !== undefined));
}
function bytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}
function micros(us) {
  if (us === undefined || us === null) return '';
  return us >= 10000 ? `${(us / 1000).toFixed(1)} ms` : `${us} µs`;
}

// --- talking to the server ---------------------------------------------------

function headers(extra) {
  const h = Object.assign({}, extra);
  if (state.token) h.Authorization = `Bearer ${state.token}`;
  return h;
}

async function api(path) {
  const response = await fetch(new URL(path, API), { headers: headers({ Accept: 'application/json' }) });
  if (response.status === 401) { askForToken(); throw new Error('a bearer token is needed'); }
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function askForToken() {
  const form = document.getElementById('token-form');
  form.hidden = false;
  setStatus('needs a token');
}

// One 2026-07-28 request to the MCP endpoint (stateless: no session).
async function mcp(method, params, name) {
  const id = ++state.id;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'corral-console', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const body = { jsonrpc: '2.0', id, method, params: Object.assign({}, params, { _meta: meta }) };
  const h = headers({
    'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream',
    'Mcp-Protocol-Version': '2026-07-28',
    'Mcp-Method': method,
  });
  if (name) h['Mcp-Name'] = name;
  const response = await fetch(state.catalog.mcp_path, { method: 'POST', headers: h, body: JSON.stringify(body) });
  const text = await response.text();
  if (response.status === 401) { askForToken(); throw new Error('a bearer token is needed'); }
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
  const messages = (response.headers.get('content-type') || '').startsWith('text/event-stream')
    ? text.split('\n').filter((l) => l.startsWith('data:')).map((l) => { try { return JSON.parse(l.slice(5)); } catch { return null; } })
    : [JSON.parse(text)];
  const answer = messages.find((m) => m && m.id === id);
  if (!answer) throw new Error(`no answer (HTTP ${response.status}): ${text.slice(0, 500)}`);
  return answer;
}

// The live event stream (fetch, so that it can carry the token).
async function follow() {
  if (state.events) return;
  const controller = new AbortController();
  state.events = controller;
  try {
    const response = await fetch(new URL('events', API), { headers: headers({ Accept: 'text/event-stream' }), signal: controller.signal });
    if (response.status === 401) { askForToken(); throw new Error('a bearer token is needed'); }
    if (!response.ok) throw new Error(`events: ${response.status}`);
    setStatus('live');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const raw = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let kind = 'message'; let data = '';
        for (const line of raw.split('\n')) {
          if (line.startsWith('event:')) kind = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trim();
        }
        if (data) onEvent(kind, JSON.parse(data));
      }
    }
    setStatus('event stream ended; reload the page to follow again');
  } catch (e) {
    setStatus(`event stream: ${e.message}`);
  } finally {
    state.events = null;
  }
}

function onEvent(kind, data) {
  if (kind === 'call') {
    state.calls.unshift(data);
    state.calls.length = Math.min(state.calls.length, state.maxCalls);
  } else if (kind === 'reload') {
    loadCatalog().then(() => {
      const c = state.catalog;
      const summary = `${c.tools.length} tools, ${c.resources.length} resources, ${c.templates.length} templates, ${c.prompts.length} prompts`;
      state.reloads.unshift({ at_ms: data.at_ms, summary });
      state.reloads.length = Math.min(state.reloads.length, 50);
      route();
    }).catch((e) => setStatus(`reload: ${e.message}`));
    return;
  } else if (kind === 'lagged') {
    state.calls.unshift({ lagged: data.missed });
  }
  if (location.hash === '#log') renderLog();
}

async function loadCatalog() {
  state.catalog = await api('catalog');
  const s = state.catalog.server;
  document.getElementById('server').textContent = `${s.name} ${s.version}`;
}

// --- pages -------------------------------------------------------------------

function details(provider) {
  const d = provider.details || {};
  const rows = [];
  const add = (key, value) => { if (value !== undefined && value !== null && value !== '') rows.push(el('dt', {}, key), el('dd', {}, value)); };
  add('digest', d.digest);
  add('from', d.reference);
  add('signer', d.signer || (provider.kind === 'plugin' ? 'unsigned' : undefined));
  if (d.limits) {
    const l = d.limits;
    add('limits', `fuel ${l.fuel ?? '—'}, memory ${bytes(l.memory)}, timeout ${l.timeout_ms} ms, output ${bytes(l.max_output)}, concurrency ${l.concurrency}, queue ${l.queue}`);
  }
  if (d.grants) add('grants', d.grants.length ? d.grants.join('; ') : 'none');
  return el('dl', { class: 'grid' }, rows);
}

function renderPlugins() {
  const c = state.catalog;
  const count = (list, p) => list.filter((x) => x.provider === p.name).length;
  show(
    el('h2', {}, `Plugins and providers (${c.providers.length})`),
    c.providers.map((p) => el('div', { class: 'card provider', 'data-name': p.name },
      el('h3', {}, `${p.name} `, el('span', { class: 'muted' }, p.kind)),
      el('div', { class: 'muted' }, p.origin),
      el('div', {}, `${count(c.tools, p)} tools, ${count(c.resources, p) + count(c.templates, p)} resources, ${count(c.prompts, p)} prompts`),
      details(p))),
  );
}

function renderTools() {
  const c = state.catalog;
  show(
    el('h2', {}, `Tools (${c.tools.length})`),
    el('table', { id: 'tools' },
      el('tr', {}, el('th', {}, 'Tool'), el('th', {}, 'Provider'), el('th', {}, 'Description')),
      c.tools.map((t) => el('tr', {},
        el('td', {}, el('a', { href: `#tool/${encodeURIComponent(t.name)}` }, t.name)),
        el('td', {}, t.provider),
        el('td', {}, t.description || '')))),
  );
}

// An input for one property of an input schema.
function field(name, schema, required) {
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  const label = `${name}${required ? ' *' : ''}${schema.description ? ` — ${schema.description}` : ''}`;
  let input;
  if (Array.isArray(schema.enum)) {
    input = el('select', { name }, schema.enum.map((v) => el('option', { value: JSON.stringify(v) }, String(v))));
    input.dataset.kind = 'enum';
  } else if (type === 'boolean') {
    input = el('input', { type: 'checkbox', name });
    input.dataset.kind = 'boolean';
  } else if (type === 'integer' || type === 'number') {
    input = el('input', { type: 'number', name, step: type === 'integer' ? '1' : 'any', required });
    input.dataset.kind = type;
  } else if (type === 'string') {
    input = el('input', { type: 'text', name, required });
    input.dataset.kind = 'string';
  } else {
    input = el('textarea', { name, placeholder: 'JSON' });
    input.dataset.kind = 'json';
  }
  return el('label', {}, el('div', {}, label), input);
}

function readArguments(form) {
  const args = {};
  for (const input of form.querySelectorAll('[name]')) {
    const kind = input.dataset.kind;
    if (kind === 'boolean') { args[input.name] = input.checked; continue; }
    if (input.value === '') continue;
    if (kind === 'integer') args[input.name] = parseInt(input.value, 10);
    else if (kind === 'number') args[input.name] = Number(input.value);
    else if (kind === 'enum' || kind === 'json') args[input.name] = JSON.parse(input.value);
    else args[input.name] = input.value;
  }
  return args;
}

function renderResult(answer) {
  if (answer.error) return el('div', { class: 'bad', id: 'result' }, `error ${answer.error.code}: ${answer.error.message}`);
  const r = answer.result || {};
  const parts = (r.content || []).map((c) => (c.type === 'text' ? el('pre', { class: 'text' }, c.text) : json(c)));
  return el('div', { id: 'result', class: r.isError ? 'bad' : 'ok' },
    el('div', {}, r.isError ? 'the tool reported an error' : 'result'),
    parts,
    r.structuredContent !== undefined ? [el('div', { class: 'muted' }, 'structured content'), json(r.structuredContent)] : null);
}

function renderTool(name) {
  const tool = state.catalog.tools.find((t) => t.name === name);
  if (!tool) { show(el('p', {}, `No tool named ${name}.`)); return; }
  const schema = tool.inputSchema || {};
  const required = new Set(schema.required || []);
  const out = el('div', { id: 'call-output' });
  let form = null;
  if (state.catalog.calls) {
    form = el('form', { class: 'call card' },
      Object.entries(schema.properties || {}).map(([k, s]) => field(k, s, required.has(k))),
      el('button', { type: 'submit', id: 'call' }, `Call ${name}`));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      out.replaceChildren(el('span', { class: 'muted' }, 'calling…'));
      try {
        const answer = await mcp('tools/call', { name, arguments: readArguments(form) }, name);
        out.replaceChildren(renderResult(answer));
      } catch (e) {
        out.replaceChildren(el('div', { class: 'bad', id: 'result' }, e.message));
      }
    });
  }
  show(
    el('h2', {}, `${tool.name} `, el('span', { class: 'muted' }, `from ${tool.provider}`)),
    el('p', {}, tool.description || ''),
    form || el('p', { class: 'muted' }, 'Read-only console: calling tools from here is off (`[server.http] ui_calls`).'),
    out,
    el('h3', {}, 'Input schema'), json(schema),
    tool.outputSchema ? [el('h3', {}, 'Output schema'), json(tool.outputSchema)] : null,
  );
}

function renderResources() {
  const c = state.catalog;
  show(
    el('h2', {}, `Resources (${c.resources.length}) and templates (${c.templates.length})`),
    el('table', { id: 'resources' },
      el('tr', {}, el('th', {}, 'URI'), el('th', {}, 'Name'), el('th', {}, 'Provider'), el('th', {}, 'Type'), el('th', {}, 'Description')),
      c.resources.map((r) => el('tr', {}, el('td', {}, el('code', {}, r.uri)), el('td', {}, r.name), el('td', {}, r.provider), el('td', {}, r.mimeType || ''), el('td', {}, r.description || ''))),
      c.templates.map((r) => el('tr', {}, el('td', {}, el('code', {}, r.uriTemplate)), el('td', {}, r.name), el('td', {}, r.provider), el('td', {}, r.mimeType || ''), el('td', {}, r.description || '')))),
  );
}

function renderPrompts() {
  const c = state.catalog;
  show(
    el('h2', {}, `Prompts (${c.prompts.length})`),
    el('table', { id: 'prompts' },
      el('tr', {}, el('th', {}, 'Prompt'), el('th', {}, 'Provider'), el('th', {}, 'Arguments'), el('th', {}, 'Description')),
      c.prompts.map((p) => el('tr', {}, el('td', {}, p.name), el('td', {}, p.provider),
        el('td', {}, (p.arguments || []).map((a) => `${a.name}${a.required ? ' *' : ''}`).join(', ')),
        el('td', {}, p.description || '')))),
  );
}

// Bars of the latest calls' durations, newest on the right, coloured by outcome.
function chart(calls) {
  const shown = calls.filter((c) => c.duration_us !== undefined).slice(0, 60).reverse();
  const box = svg('svg', { class: 'chart', viewBox: '0 0 600 120', preserveAspectRatio: 'none', role: 'img' });
  const max = Math.max(1, ...shown.map((c) => c.duration_us));
  shown.forEach((c, i) => {
    const h = Math.max(1, (c.duration_us / max) * 110);
    const colour = c.outcome === 'ok' ? '#1a7f37' : c.outcome === 'limit' ? '#9a6700' : '#cf222e';
    const bar = svg('rect', { x: i * 10 + 1, y: 120 - h, width: 8, height: h, fill: colour });
    const title = svg('title', {});
    title.textContent = `${c.name}: ${micros(c.duration_us)}`;
    bar.append(title);
    box.append(bar);
  });
  return box;
}

function renderLog() {
  const rows = state.calls.map((c) => (c.lagged
    ? el('tr', {}, el('td', { colspan: 8, class: 'warn' }, `${c.lagged} calls were missed (the console fell behind)`))
    : el('tr', { class: 'call', 'data-name': c.name },
      el('td', {}, new Date(c.at_ms).toLocaleTimeString()),
      el('td', {}, c.kind), el('td', {}, c.plugin), el('td', {}, c.name),
      el('td', { class: c.outcome === 'ok' ? 'ok' : 'bad' }, c.limit ? `${c.outcome} (${c.limit})` : c.outcome),
      el('td', { class: 'num' }, micros(c.duration_us)),
      el('td', { class: 'num fuel' }, c.fuel ?? ''),
      el('td', { class: 'num' }, bytes(c.memory_peak)))));
  show(
    el('h2', {}, 'Live call log'),
    chart(state.calls),
    el('table', { id: 'log' },
      el('tr', {}, ['Time', 'Kind', 'Provider', 'Name', 'Outcome', 'Latency', 'Fuel', 'Memory peak'].map((h) => el('th', {}, h))),
      rows.length ? rows : el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No calls yet; they appear here as they end.'))),
    state.reloads.length ? [el('h3', {}, 'Catalog reloads'), el('ul', { id: 'reloads' }, state.reloads.map((r) => el('li', {}, `${new Date(r.at_ms).toLocaleTimeString()}: ${r.summary}`)))] : null,
  );
}

function route() {
  if (!state.catalog) return;
  const hash = location.hash || '#plugins';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('current', hash.startsWith(a.getAttribute('href')));
  if (hash.startsWith('#tool/')) renderTool(decodeURIComponent(hash.slice(6)));
  else if (hash === '#tools') renderTools();
  else if (hash === '#resources') renderResources();
  else if (hash === '#prompts') renderPrompts();
  else if (hash === '#log') renderLog();
  else renderPlugins();
}

async function start() {
  try {
    await loadCatalog();
    document.getElementById('token-form').hidden = true;
    route();
    follow();
  } catch (e) {
    show(el('p', { class: 'bad' }, e.message));
  }
}

document.getElementById('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  state.token = document.getElementById('token').value.trim() || null;
  start();
});
window.addEventListener('hashchange', route);
start();
