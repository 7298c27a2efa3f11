// `senet serve` as a command: as a real child process, SIGTERM while a request is in flight stops new
// connections, still answers that request in full, and exits 0; a port already taken and bad flags are one
// clear error; the other commands do not load Fastify.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../data/support.js';
import { errorLine, runCli, senetInProcess } from '../cli/support.js';
import { ROOT } from '../helpers.js';
import { imageBody, send, SOURCE_JPEG, spawnServe, writeWeights } from './serve-support.js';

let weights: string;

before(() => {
  weights = writeWeights(tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-serve-cli-'));
});

test('SIGTERM during a request: the request is answered in full, new connections are refused, exit code 0', async () => {
  // A long batching wait keeps the request in flight (queued) long enough to signal the service meanwhile.
  const {
    child,
    url,
    exited,
    stderr: output,
  } = await spawnServe(['--weights', weights, '--port', '0', '--threads', '1', '--max-wait-ms', '1500']);
  const inFlight = send(`${url}/predict`, imageBody(readFileSync(SOURCE_JPEG), 'image/jpeg'));
  // Signal once the service holds the request (its image is waiting for a batch).
  for (let i = 0; i < 100; i++) {
    const health = await send(`${url}/health`, { headers: { connection: 'close' } });
    if (health.body.batching.waiting === 1) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill('SIGTERM');
  const signalled = performance.now();
  await new Promise((r) => setTimeout(r, 300));
  await assert.rejects(fetch(`${url}/health`), 'a stopping service accepts no new connection');
  const answer = await inFlight;
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.top.length, 5);
  const code = await exited;
  const stderr = output();
  assert.equal(code, 0, stderr);
  const stopSeconds = (performance.now() - signalled) / 1000;
  assert.ok(stopSeconds < 15, `the service took ${stopSeconds} s to stop (a kept-alive connection held it open?)`);
  assert.match(stderr, /stopping: answering the requests in flight/);
  assert.match(stderr, /senet serve: stopped/);
});

test('a port already in use is one clear error', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const result = await runCli(['serve', '--weights', weights, '--port', String(port), '--threads', '1']);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    new RegExp(`^senet: cannot listen on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*choose another --port`, 'm'),
  );
});

test('the CLI and the service module load Fastify only when a service is made', () => {
  const modules = ['dist/src/cli/main.js', 'dist/src/export/serve/index.js'].map(
    (m) => pathToFileURL(join(ROOT, m)).href,
  );
  // Fastify and its plugins are CommonJS: an import() of them lands in require.cache.
  const probe = `
    import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    for (const m of ${JSON.stringify(modules)}) await import(m);
    console.log(Object.keys(require.cache).filter((k) => /node_modules[\\/](fastify|@fastify)[\\/]/.test(k)).length);`;
  const loaded = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(loaded.trim(), '0');
});

test('bad flags and a missing model are one clear error line before anything listens', async () => {
  const cases: [string[], RegExp][] = [
    [['serve'], /^senet: name the trained model: a run directory \(--run DIR\) or a weights file \(--weights FILE\)$/],
    [['serve', '--weights', weights, '--max-batch', '0'], /--max-batch expects an integer in \[1, 1024\], got '0'$/],
    [['serve', '--weights', weights, '--port', '70000'], /--port expects an integer in \[0, 65535\], got '70000'$/],
    [['serve', '--weights', weights, '--body-limit', '0'], /--body-limit expects a number >= 0\.001, got '0'$/],
    [
      ['serve', '--weights', weights, '--max-files', '20', '--max-queue', '10', '--threads', '1'],
      /^senet: --max-files \(20\) is more than --max-queue \(10\): such a request could never be queued$/,
    ],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await senetInProcess(...args);
    assert.equal(code, 1, `${args.join(' ')}: ${stderr}`);
    assert.match(errorLine(stderr), pattern);
  }
});
