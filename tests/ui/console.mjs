// Drives Corral's /ui console in headless Chromium and writes a screenshot
// of each page. Usage:
//   node console.mjs --url http://127.0.0.1:PORT --out DIR [--chromium PATH]
// The server serves the calculator with `ui = true` and `ui_calls = true`.
// Prints one line per check; exits 1 at the first failure.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values } = parseArgs({
  options: { url: { type: 'string' }, out: { type: 'string' }, chromium: { type: 'string', default: '/usr/bin/chromium' } },
});
mkdirSync(values.out, { recursive: true });
let passed = 0;
function check(ok, what) {
  if (!ok) throw new Error(what);
  passed += 1;
  console.log(`ok ${what}`);
}

const browser = await chromium.launch({
  executablePath: values.chromium,
  headless: true,
  // Root in a container has no user namespaces for Chromium's sandbox.
  args: ['--no-sandbox'],
});
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  const shot = (name) => page.screenshot({ path: join(values.out, `${name}.png`), fullPage: true });

  await page.goto(`${values.url}/ui/`);
  // Following the live feed before any call is made.
  await page.locator('#status', { hasText: 'live' }).waitFor();
  const plugin = page.locator('.provider[data-name="calculator-rust"]');
  await plugin.waitFor();
  const card = await plugin.innerText();
  check(card.includes('calculator-rust') && card.includes('plugin'), 'the plugins page lists the calculator');
  check(/digest\s*sha256:[0-9a-f]{64}/.test(card), 'with its digest');
  check(/limits\s*fuel/.test(card), 'and its limits');
  await shot('plugins');

  await page.click('#nav-tools');
  await page.locator('#tools a', { hasText: 'multiply' }).waitFor();
  const hostile = page.locator('#tools tr', { hasText: 'hostile_markup' });
  check((await hostile.innerText()).includes('<img src=x onerror='), 'markup in a description shows as text');
  check(await page.locator('#page img, #page b').count() === 0, 'and makes no element');
  check(await page.evaluate(() => window.__xss) === undefined, 'and runs nothing');
  await shot('tools');
  await page.click('#tools a:text-is("multiply")');
  await page.locator('form.call').waitFor();
  check((await page.locator('pre').first().innerText()).includes('"a"'), 'the tool page shows its input schema');
  await page.fill('input[name="a"]', '6');
  await page.fill('input[name="b"]', '7');
  await page.click('#call');
  const result = page.locator('#result');
  await result.waitFor();
  const text = await result.innerText();
  check(text.includes('42'), `the form calls multiply with 6 and 7 and shows 42 (${JSON.stringify(text)})`);
  await shot('tool-multiply');

  await page.click('#nav-log');
  const row = page.locator('#log tr.call[data-name="multiply"]').first();
  await row.waitFor();
  const fuel = Number((await row.locator('td.fuel').innerText()).trim());
  check(fuel > 0, `the call is in the live log with its fuel (${fuel})`);
  check((await row.innerText()).includes('ok'), 'and its outcome');
  check(await page.locator('svg.chart rect').count() >= 1, 'the chart has a bar for it');
  check(!/\bnull\b|undefined/.test(await page.locator('#page').innerText()), 'nothing shows as null or undefined');
  await shot('log');

  await page.click('#nav-resources');
  await page.locator('#resources').waitFor();
  await shot('resources');
  await page.click('#nav-prompts');
  await page.locator('#prompts').waitFor();
  await shot('prompts');

  check(problems.length === 0, `no script errors or refused content (${problems.join('; ')})`);
} catch (e) {
  console.log(`FAIL ${e.message}${problems.length ? ` [${problems.join('; ')}]` : ''}`);
  console.log(`${passed} passed, 1 failed`);
  await browser.close();
  process.exit(1);
}
await browser.close();
console.log(`${passed} passed, 0 failed`);
