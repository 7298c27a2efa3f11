// senet as a dependency: `npm pack` the checkout, install the tarball into a new project, and use it there as a
// user would. The install is offline (`npm ci --offline`): the project's package-lock.json is senet's own lock
// with senet itself replaced by the tarball, so npm takes every package from its cache (filled by the
// checkout's own `npm ci`) without registry metadata. Install scripts do not run (`--ignore-scripts`, as under
// npm 11 without allowScripts): the test first checks what `senet` says then, and afterwards copies this
// checkout's built engine (build/Release/senet_native.node) into the installed package instead of compiling
// it again — the `npm rebuild senet` step. The project's own TypeScript program (test/package/consumer/) is
// compiled by the project's tsc with skipLibCheck: false, together with the README's TypeScript examples,
// and run. The tarball is packed as `npm pack` packs it, prepack build included (JavaScript without comments,
// typings with them), from a copy of the package's sources: run in the checkout, prepack would rebuild dist/src
// under the other tests' feet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from '../helpers.js';

/** What `npm pack --json` reports about the tarball. */
interface PackReport {
  filename: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

interface LockEntry {
  dev?: boolean;
  dependencies?: Record<string, string>;
  [field: string]: unknown;
}

// The ceiling guards against tests, fixtures and results slipping into the tarball (7.3 MB before `files`).
// 1.5 MB until the deployment, distributed and int8 layers landed (1.61 MB with them, JavaScript without
// comments); the paths check below is what keeps anything but the library out.
const MAX_UNPACKED_BYTES = 2 * 1024 * 1024;
/** Packages that only some commands need: importing senet must not load them. */
const HEAVY_PACKAGES = ['better-sqlite3', 'vega', 'vega-lite', 'mermaid', 'sharp', 'tar', 'protobufjs', 'fastify'];
/** The consumer's own tools, installed from senet's lock next to senet. */
const CONSUMER_DEV_PACKAGES = ['typescript', '@types/node'];

const work = mkdtempSync(join(tmpdir(), 'senet-package-'));
const project = join(work, 'project');
const installed = join(project, 'node_modules', 'senet');
let pack: PackReport;
let installSeconds = 0;

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', [...args, '--no-audit', '--no-fund', '--no-update-notifier'], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs node in the project; the status and both streams, for the test to judge. */
function node(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, args, { cwd: project, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The lock entries `names` need, with their dependencies: each dependency resolved as npm does, in the
 * requiring package's own node_modules first, then up to the top level.
 */
function lockClosure(packages: Record<string, LockEntry>, names: string[]): Record<string, LockEntry> {
  const picked: Record<string, LockEntry> = {};
  const visit = (from: string, name: string) => {
    for (let dir = from; ; dir = dir.slice(0, dir.lastIndexOf('/node_modules/'))) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (packages[path]) {
        if (picked[path]) return;
        picked[path] = packages[path];
        for (const dependency of Object.keys(packages[path].dependencies ?? {})) visit(path, dependency);
        return;
      }
      if (!dir) throw new Error(`senet's package-lock.json has no entry for ${name} (needed by ${from || 'the root'})`);
    }
  };
  for (const name of names) visit('', name);
  return picked;
}

/** package.json and package-lock.json of a project that depends on the tarball and on its own dev tools. */
function writeProject(tarball: string): void {
  const senet = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const spec = `file:${tarball}`;
  const devPackages = lockClosure(lock.packages, CONSUMER_DEV_PACKAGES);
  const devDependencies = Object.fromEntries(
    CONSUMER_DEV_PACKAGES.map((name) => [name, lock.packages[`node_modules/${name}`].version as string]),
  );
  const manifest = { name: 'consumer', private: true, type: 'module', dependencies: { senet: spec }, devDependencies };
  const packages: Record<string, LockEntry> = {
    '': { name: 'consumer', dependencies: { senet: spec }, devDependencies },
    'node_modules/senet': {
      version: senet.version,
      resolved: spec,
      license: senet.license,
      hasInstallScript: true,
      dependencies: senet.dependencies,
      optionalDependencies: senet.optionalDependencies,
      bin: senet.bin,
      engines: senet.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path !== '' && !entry.dev) packages[path] = entry;
  }
  for (const [path, entry] of Object.entries(devPackages)) packages[path] = { ...entry, dev: true };
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
}

/** The README's TypeScript examples that import senet, one file each. */
function readmeExamples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => /from 'senet/.test(code));
}

/** What the prepack build reads: the package's files and its TypeScript configurations. */
const PACKAGE_SOURCES = ['package.json', 'README.md', 'bin', 'binding.gyp', 'native', 'src'];
const BUILD_CONFIGS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.build-types.json'];

before(() => {
  const staging = join(work, 'staging');
  for (const entry of [...PACKAGE_SOURCES, ...BUILD_CONFIGS]) {
    cpSync(join(ROOT, entry), join(staging, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(staging, 'node_modules'));
  const packed = npm(['pack', '--json', '--pack-destination', work], staging);
  pack = (JSON.parse(packed) as PackReport[])[0];
  writeProject(join(work, pack.filename));
  const started = process.hrtime.bigint();
  npm(['ci', '--offline', '--ignore-scripts'], project);
  installSeconds = Number(process.hrtime.bigint() - started) / 1e9;
});

after(() => rmSync(work, { recursive: true, force: true }));

test('the tarball holds the built library, the engine sources and the README, and nothing else', (t) => {
  const paths = pack.files.map((f) => f.path);
  const outside = paths.filter(
    (p) =>
      !/^dist\/src\/.+\.(js|d\.ts)$/.test(p) &&
      !/^native\/[\w-]+\.(cc|h|cjs)$/.test(p) &&
      !['package.json', 'README.md', 'LICENSE', 'bin/senet.js', 'binding.gyp'].includes(p),
  );
  assert.deepEqual(outside, [], 'only the library, the engine sources, the command and the docs');
  assert.ok(pack.unpackedSize <= MAX_UNPACKED_BYTES, `${pack.unpackedSize} bytes unpacked, at most 2 MB`);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { types: string; default: string }>;
  };
  for (const target of Object.values(manifest.exports).flatMap((t) =>
    typeof t === 'string' ? [t] : [t.types, t.default],
  )) {
    assert.ok(paths.includes(target.replace(/^\.\//, '')), `the export ${target} is in the tarball`);
  }
  for (const source of readdirSync(join(ROOT, 'native')).filter((f) => /\.(cc|h|cjs)$/.test(f))) {
    assert.ok(paths.includes(`native/${source}`), `native/${source} ships, for the install script's build`);
  }
  t.diagnostic(`${pack.entryCount} files, ${pack.size} bytes packed, ${pack.unpackedSize} unpacked`);
  t.diagnostic(`installed into a new project (offline, no install scripts) in ${installSeconds.toFixed(1)} s`);
});

test('without its engine built, or with one that does not load, `senet` says in one line how to build it', () => {
  const senet = () => {
    const result = node([join('node_modules', '.bin', 'senet'), '--help']);
    assert.equal(result.status, 1);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line, no stack trace:\n${result.stderr}`);
    return lines[0];
  };
  assert.match(senet(), /^senet: the native engine is not built .*`npm rebuild senet`.*libtorch-dev/);

  const addon = join(installed, 'build', 'Release', 'senet_native.node');
  mkdirSync(dirname(addon), { recursive: true });
  writeFileSync(addon, 'not a shared library');
  assert.match(senet(), /^senet: the native engine .* does not load \(.*\)\. .*libtorch-dev.*`npm rebuild senet`/);
  rmSync(dirname(addon), { recursive: true });
});

describe('with the engine built (copied from this checkout)', () => {
  before(() => {
    mkdirSync(join(installed, 'build', 'Release'), { recursive: true });
    copyFileSync(
      join(ROOT, 'build', 'Release', 'senet_native.node'),
      join(installed, 'build', 'Release', 'senet_native.node'),
    );
  });

  test("import('senet') loads none of the packages only some commands need", (t) => {
    // ESM imports are seen by a resolve hook, CommonJS requires in the require cache.
    writeFileSync(
      join(project, 'hooks.mjs'),
      `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (resolved.url.includes('/node_modules/')) process.stderr.write('RESOLVED ' + resolved.url + '\\n');
  return resolved;
}\n`,
    );
    writeFileSync(
      join(project, 'import-senet.mjs'),
      `import { register, createRequire } from 'node:module';
register('./hooks.mjs', import.meta.url);
const started = performance.now();
const senet = await import('senet');
const ms = performance.now() - started;
for (const file of Object.keys(createRequire(import.meta.url).cache)) process.stderr.write('RESOLVED ' + file + '\\n');
console.log(JSON.stringify({ ms, namespaces: Object.keys(senet).sort() }));\n`,
    );
    const result = node(['import-senet.mjs']);
    assert.equal(result.status, 0, result.stderr);
    const loaded = new Set(
      [...result.stderr.matchAll(/^RESOLVED .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((m) => m[1]),
    );
    assert.ok(loaded.has('senet'), `the resolve hook sees the package itself: ${[...loaded].join(', ')}`);
    assert.deepEqual(
      HEAVY_PACKAGES.filter((name) => loaded.has(name)),
      [],
      'loaded on first use only',
    );
    const { ms, namespaces } = JSON.parse(result.stdout) as { ms: number; namespaces: string[] };
    assert.deepEqual(namespaces, ['data', 'deploy', 'models', 'pipeline', 'report', 'se', 'torch', 'train', 'tune']);
    t.diagnostic(`import('senet') took ${ms.toFixed(0)} ms; packages loaded: ${[...loaded].sort().join(', ')}`);
  });

  test('a TypeScript project compiles against senet (skipLibCheck: false), trains its own SE model and infers', () => {
    const source = join(ROOT, 'test', 'package', 'consumer');
    for (const file of readdirSync(source)) copyFileSync(join(source, file), join(project, file));
    const examples = readmeExamples();
    assert.ok(examples.length >= 2, 'the README shows senet used from a project');
    examples.forEach((code, i) => writeFileSync(join(project, `readme-example-${i + 1}.ts`), code));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          skipLibCheck: false,
          outDir: 'out',
        },
        include: ['*.ts'],
      }),
    );
    const compiled = spawnSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], {
      cwd: project,
      encoding: 'utf8',
    });
    assert.equal(compiled.status, 0, `tsc:\n${compiled.stdout}${compiled.stderr}`);

    const outDir = join(work, 'weights');
    mkdirSync(outDir);
    const result = node([join('out', 'train-own-model.js'), outDir]);
    assert.equal(result.status, 0, result.stderr);
    const outcome = JSON.parse(result.stdout);
    const { losses } = outcome as { losses: number[] };
    assert.equal(losses.length, 30);
    assert.ok(losses.every(Number.isFinite));
    assert.ok(
      losses.at(-1)! < losses[0] / 2,
      `the loss falls on the batch it trains on: ${losses[0]} → ${losses.at(-1)}`,
    );
    assert.equal(outcome.fitStatus, 'completed');
    assert.ok(outcome.fitAccuracy > 0.75, `train.fit learns the batch: ${outcome.fitAccuracy}`);
    assert.ok(outcome.runFiles, "fit's run directory holds metrics.jsonl and the best checkpoint");
    assert.equal(outcome.loadedDifference, 0, 'the saved weights load back exactly');
    assert.ok(outcome.inferenceDifference < 1e-4, `InferenceModel agrees: ${outcome.inferenceDifference}`);
    assert.equal(outcome.foldedBatchNorms, 1, "the model's conv→BN pair is folded");
    assert.ok(outcome.accuracy > 0.75, `the fitted batch is mostly right: ${outcome.accuracy}`);
    assert.ok(outcome.registryParameters > 200_000, `se-resnet20 by name: ${outcome.registryParameters} parameters`);
    assert.match(outcome.unknownModelError, /^unknown model 'se-resnet21'; known models: simple-cnn, /);
    assert.equal(outcome.internalsImport, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'internals stay private');
  });

  test('senet tune names better-sqlite3 and the command to run when it is not built, then not installed', () => {
    const study = join(work, 'study');
    mkdirSync(study);
    writeFileSync(join(study, 'study.db'), '');
    const tune = () => node([join('node_modules', '.bin', 'senet'), 'tune', '--study', study, '--show']);

    const unbuilt = tune(); // installed with --ignore-scripts: its addon was never compiled
    assert.equal(unbuilt.status, 1);
    assert.match(
      unbuilt.stderr.trim(),
      /better-sqlite3.*is installed but its native addon is not built: run `npm rebuild better-sqlite3`/,
    );
    assert.equal(unbuilt.stderr.trim().split('\n').length, 1, unbuilt.stderr);

    rmSync(join(project, 'node_modules', 'better-sqlite3'), { recursive: true }); // as npm leaves a failed optional build
    const missing = tune();
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr.trim(),
      /optional package better-sqlite3, which is not installed: run `npm install better-sqlite3`/,
    );
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
  });

  test('charts name vega and vega-lite and the command to run when they are not installed', () => {
    const draw = () =>
      node([
        '--input-type=module',
        '-e',
        "const { renderSvg } = await import('senet/report'); " +
          "const svg = await renderSvg({ $schema: 'https://vega.github.io/schema/vega-lite/v5.json', " +
          "data: { values: [{ x: 1, y: 2 }] }, mark: 'point', encoding: { x: { field: 'x' }, y: { field: 'y' } } }); " +
          "console.log(svg.startsWith('<svg') ? 'svg' : svg.slice(0, 20));",
      ]);
    const drawn = draw();
    assert.equal(drawn.stdout.trim(), 'svg', drawn.stderr);
    rmSync(join(project, 'node_modules', 'vega-lite'), { recursive: true }); // npm install --omit=optional
    const missing = draw();
    assert.equal(missing.status, 1);
    assert.match(
      missing.stderr,
      /the optional packages vega and vega-lite, which are not installed: run `npm install vega vega-lite`/,
    );
  });
});
