// The web site writer on its own (the page in a browser is web-page.test.ts): which files it writes, which
// folders it refuses to write into, and the descriptions and installations it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  runtimeFiles,
  RUNTIME_FILES,
  SITE_FILES,
  writeWebSite,
  type WebModelInfo,
} from '../../src/export/web/index.js';
import { tempDir } from '../data/support.js';

const INFO: WebModelInfo = {
  version: '0.1.0',
  model: 'simple-cnn',
  classes: ['cat', 'dog'],
  inputShape: [3, 32, 32],
  mean: [0.5, 0.5, 0.5],
  std: [0.25, 0.5, 0.5],
  input: 'input',
  logits: 'logits',
  seGates: 'se_gates',
};
const ONNX = new Uint8Array([8, 8, 18, 5, 115, 101, 110, 101, 116]); // the writer copies bytes; it does not parse them

test('writes the page, the model, its description and the three runtime files, and can write over its own export', (t) => {
  const dir = tempDir(t, 'senet-web-site-');
  const output = join(dir, 'nested', 'site');
  const site = writeWebSite({ output, onnx: ONNX, info: INFO });
  assert.equal(site.folder, output);
  assert.deepEqual([...site.files].sort(), [...SITE_FILES].sort());
  for (const name of SITE_FILES) assert.ok(existsSync(join(output, name)), name);
  assert.deepEqual(JSON.parse(readFileSync(join(output, 'model.json'), 'utf8')), INFO);
  assert.deepEqual(new Uint8Array(readFileSync(join(output, 'model.onnx'))), ONNX);
  const installed = runtimeFiles();
  assert.deepEqual(
    installed.map((f) => f.split('/').at(-1)),
    [...RUNTIME_FILES],
  );
  for (const file of installed) {
    const name = file.split('/').at(-1)!;
    assert.ok(readFileSync(join(output, name)).equals(readFileSync(file)), `${name} is the package's file`);
  }
  assert.ok(site.bytes > 10e6 && site.bytes < 20e6, `the WebAssembly build alone (${site.bytes} bytes)`);
  const html = readFileSync(join(output, 'index.html'), 'utf8');
  assert.match(html, /<script type="module" src="app.js"><\/script>/);
  assert.match(html, /Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval';/);
  assert.match(readFileSync(join(output, 'app.js'), 'utf8'), /^import \* as ort from '\.\/ort\.wasm\.min\.mjs';$/m);

  const again = writeWebSite({ output, onnx: new Uint8Array([1, 2, 3]), info: { ...INFO, seGates: null } });
  assert.equal(again.folder, output);
  assert.deepEqual([...readFileSync(join(output, 'model.onnx'))], [1, 2, 3], 'an earlier export is replaced');
  assert.equal(JSON.parse(readFileSync(join(output, 'model.json'), 'utf8')).seGates, null);
});

test('refuses a folder holding anything else, and a file, leaving them as they were', (t) => {
  const dir = tempDir(t, 'senet-web-site-');
  const mine = join(dir, 'mine');
  mkdirSync(mine);
  writeFileSync(join(mine, 'notes.txt'), 'keep me');
  assert.throws(
    () => writeWebSite({ output: mine, onnx: ONNX, info: INFO }),
    /the output folder .*mine holds files that are not part of a senet web export \(notes\.txt\); name a new or empty folder/,
  );
  assert.equal(readFileSync(join(mine, 'notes.txt'), 'utf8'), 'keep me');
  assert.ok(!existsSync(join(mine, 'index.html')), 'nothing written');
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  assert.throws(
    () => writeWebSite({ output: file, onnx: ONNX, info: INFO }),
    /the output .*file is a file, not a folder/,
  );
  assert.equal(statSync(file).size, 1);
});

test('refuses a description the page could not use, before writing anything', (t) => {
  const dir = tempDir(t, 'senet-web-site-');
  const cases: [Partial<WebModelInfo>, RegExp][] = [
    [{ inputShape: [4, 32, 32], mean: [0, 0, 0, 0], std: [1, 1, 1, 1] }, /takes 4 input channels; the page feeds 1/],
    [{ mean: [0.5, 0.5] }, /the mean \[0\.5,0\.5\] is not one finite number per input channel/],
    [{ std: [0.5, 0, 0.5] }, /the std has a zero/],
    [{ classes: [] }, /the classes are not a list of names/],
    [{ inputShape: [3, 0, 32] }, /the input shape \[3,0,32\] is not \[channels, height, width\]/],
  ];
  for (const [change, error] of cases) {
    const output = join(dir, 'site');
    assert.throws(
      () => writeWebSite({ output, onnx: ONNX, info: { ...INFO, ...change } }),
      (e: Error) => error.test(e.message) && e.message.startsWith('cannot write the web page for simple-cnn: '),
    );
    assert.ok(!existsSync(output), `nothing written for ${JSON.stringify(change)}`);
  }
});

test('without onnxruntime-web, or with an incomplete one, one error says which package to install', (t) => {
  const dir = tempDir(t, 'senet-web-site-');
  // Node resolves packages from the folder of `from` upwards (and caches each package.json it reads, hence
  // two projects): one whose onnxruntime-web does not provide the runtime, one whose installation lost files.
  const project = (name: string, exports: Record<string, string>) => {
    const pkg = join(dir, name, 'node_modules', 'onnxruntime-web');
    mkdirSync(join(pkg, 'dist'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'onnxruntime-web', exports }));
    writeFileSync(join(pkg, 'dist', 'ort-wasm-simd-threaded.wasm'), '');
    return join(dir, name, 'main.js');
  };
  assert.throws(
    () => runtimeFiles(project('a', { '.': './x.js' })),
    /^Error: the browser page needs the optional package onnxruntime-web \(its WebAssembly runtime is copied into the site\), but it is not installed where senet can find it; install it with `npm install onnxruntime-web@1\.30` and export again$/,
  );
  assert.throws(
    () => runtimeFiles(project('b', { './ort-wasm-simd-threaded.wasm': './dist/ort-wasm-simd-threaded.wasm' })),
    /but its installation lacks .*dist\/ort\.wasm\.min\.mjs, .*dist\/ort-wasm-simd-threaded\.mjs; install it with/,
  );
});
