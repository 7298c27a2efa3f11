// Importing senet must not load the report's heavy renderers: Vega and Vega-Lite load on the first chart
// drawn, and Mermaid never (report.html's diagrams are drawn by senet as SVG). A child process records
// every module it resolves through a module-resolution hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../helpers.js';

const HOOKS = `
let port;
export async function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  port.postMessage(resolved.url);
  return resolved;
}`;

const PROBE = `
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const { port1, port2 } = new MessageChannel();
const seen = [];
port1.on('message', (url) => seen.push(url));
register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOKS)}), import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});
const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
const heavy = () => [...new Set(seen.filter((u) => /node_modules\\/(vega|vega-lite|mermaid)\\//.test(u)).map((u) => u.split('node_modules/')[1].split('/')[0]))].sort();
const senet = await import(process.argv[2]);
await settle();
const afterImport = heavy();
const total = seen.length;
await senet.report.renderSvg({ data: { values: [{ x: 1 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } });
await settle();
console.log(JSON.stringify({ total, afterImport, afterChart: heavy() }));
port1.close();
`;

test('import senet loads neither Vega, Vega-Lite nor Mermaid; the first chart loads Vega and Vega-Lite only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'senet-lazy-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const probe = join(dir, 'probe.mjs');
  writeFileSync(probe, PROBE);
  const entry = pathToFileURL(join(ROOT, 'dist', 'src', 'index.js')).href;
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [probe, entry], { cwd: ROOT, timeout: 60_000 }, (error, out, err) =>
      error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
    ),
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    total: number;
    afterImport: string[];
    afterChart: string[];
  };
  assert.ok(result.total > 50, `the hook saw senet's modules (${result.total})`);
  assert.deepEqual(result.afterImport, []);
  assert.deepEqual(result.afterChart, ['vega', 'vega-lite']);
});
