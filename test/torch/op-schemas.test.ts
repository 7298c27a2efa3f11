// Every libtorch operator src/torch calls, checked against the libtorch senet is built on: each module
// declares its operators when it loads ('aten::sum.dim_IntList(self, dim, keepdim, dtype)'), and here
// every declaration must resolve to an operator whose schema starts with the declared arguments, in that
// order, with defaults for the rest. A libtorch upgrade that renames an overload or moves, renames or adds
// a required argument therefore fails here, not at a user's first call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { native, type OpInfo } from '../../src/torch/native.js';
import { declaredOps, defineOp, type OpDeclaration } from '../../src/torch/ops/dispatch.js';
import * as torch from '../../src/torch/index.js';
import { ROOT } from '../helpers.js';

function filesUnder(dir: string, extension: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path, extension);
    return entry.name.endsWith(extension) ? [path] : [];
  });
}

const qualified = (d: Pick<OpDeclaration, 'name' | 'overload'>) => (d.overload ? `${d.name}.${d.overload}` : d.name);

/** What is wrong with a declaration against libtorch's schema, or null when it matches. */
function mismatch(d: OpDeclaration): string | null {
  let info: OpInfo;
  try {
    info = native.op(d.name, d.overload);
  } catch (error) {
    return `${qualified(d)}: ${(error as Error).message}`;
  }
  const schemaNames = info.args.map((a) => a.name);
  const passed = schemaNames.slice(0, d.args.length);
  if (d.args.length > schemaNames.length || passed.some((name, i) => name !== d.args[i])) {
    return `${qualified(d)}: declared (${d.args.join(', ')}), but libtorch has ${info.schema}`;
  }
  const required = info.args.slice(d.args.length).filter((a) => !a.hasDefault && !a.optional);
  if (required.length > 0) {
    return (
      `${qualified(d)}: declared (${d.args.join(', ')}), but libtorch also requires ` +
      `${required.map((a) => a.name).join(', ')}: ${info.schema}`
    );
  }
  return null;
}

// Every module of src/torch, so that every declaration has been made (most are made when a module loads).
const modules = filesUnder(join(ROOT, 'dist', 'src', 'torch'), '.js');
await Promise.all(modules.map((path) => import(pathToFileURL(path).href)));

test('every operator src/torch declares resolves in libtorch with the declared arguments', () => {
  const declared = declaredOps();
  assert.ok(declared.length > 150, `expected the whole API's operators, found ${declared.length} declarations`);
  const problems = declared.map(mismatch).filter((p) => p !== null);
  const version = torch.buildInfo().torchVersion;
  assert.deepEqual(problems, [], `operators that do not match libtorch ${version}:\n${problems.join('\n')}`);
});

test('each declaration written in src/torch is among those checked (all modules were loaded)', () => {
  const checked = new Set(declaredOps().map(qualified));
  const written = filesUnder(join(ROOT, 'src', 'torch'), '.ts').flatMap((path) =>
    [...readFileSync(path, 'utf8').matchAll(/define(?:Async)?Op\('([a-z_]+::[A-Za-z0-9_.]+)\(/g)].map((m) => m[1]),
  );
  assert.ok(written.length > 100, `found only ${written.length} literal declarations in src/torch`);
  assert.deepEqual(
    written.filter((name) => !checked.has(name)),
    [],
  );
});

test('no module outside src/torch calls libtorch operators directly', () => {
  const outside = filesUnder(join(ROOT, 'src'), '.ts').filter((path) => !path.startsWith(join(ROOT, 'src', 'torch')));
  // Operator names may appear outside (a profile names 'aten::conv2d'); defining or calling operators may not.
  const engine = /\b(defineOp|defineAsyncOp|callOp)\b|torch\/(ops\/dispatch|native)\.js/;
  const raw = outside.filter((path) => engine.test(readFileSync(path, 'utf8')));
  assert.deepEqual(
    raw.map((path) => path.slice(ROOT.length + 1)),
    [],
  );
  assert.equal('callOp' in torch, false, 'callOp is internal to src/torch');
  assert.equal('defineOp' in torch, false, 'defineOp is internal to src/torch');
});

test('the check catches a renamed argument, a missing overload and an undeclared required argument', () => {
  const wrongName = { name: 'aten::pow', overload: 'Tensor_Tensor', args: ['self', 'other'], async: false };
  assert.match(
    mismatch(wrongName) ?? '',
    /declared \(self, other\), but libtorch has aten::pow\.Tensor_Tensor\(Tensor self, Tensor exponent\)/,
  );
  const noOverload = { name: 'aten::sum', overload: 'no_such_overload', args: ['self'], async: false };
  assert.match(mismatch(noOverload) ?? '', /unknown libtorch operator 'aten::sum\.no_such_overload'/);
  const tooFew = { name: 'aten::index_select', overload: '', args: ['self', 'dim'], async: false };
  assert.match(mismatch(tooFew) ?? '', /also requires index/);
  assert.equal(
    mismatch({ name: 'aten::sum', overload: 'dim_IntList', args: ['self', 'dim'], async: false }),
    null,
    'trailing arguments with defaults may be left to libtorch',
  );
});

test('a declaration must be well formed, and a wrapper may not pass more arguments than it declared', () => {
  assert.throws(
    () => defineOp('aten::relu'),
    /operator declaration 'aten::relu' is not of the form 'aten::name\.overload\(arg, \.\.\.\)'/,
  );
  const neg = defineOp('aten::neg(self)');
  torch.tidy(() => {
    const x = torch.tensor([1, -2]);
    assert.deepEqual(new torch.Tensor(neg(x) as never).toArray(), [-1, 2]);
    assert.throws(() => neg(x, 1), /aten::neg: senet passed 2 arguments, but declared only \(self\)/);
  });
});
