import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import type { Tensor, DType } from '../../src/torch/index.js';
import { assertClose, loadFixture, ROOT, type FixtureTensor } from '../helpers.js';
import { PersistentId, PyDict, PyGlobal, PyReduce, tuple, isTuple } from '../../src/torch/io/python-values.js';
import { decodeLong, unpickle } from '../../src/torch/io/unpickle.js';
import { pickle, encodeLong } from '../../src/torch/io/pickle.js';
import { writeAlignedZip } from '../../src/torch/io/zip.js';

const { io } = torch;
type Entries = [string, FixtureTensor][];
interface IoFixture {
  state_dict: { entries: Entries; metadata: Record<string, { version: number }> };
  dtypes: Entries;
  views: { entries: Entries; strides: Record<string, number[]> };
  checkpoint: {
    model: Entries;
    momentum_buffers: [string, FixtureTensor][];
    param_groups: Record<string, unknown>[];
    param: FixtureTensor;
    plain: Record<string, unknown>;
    big: string;
    neg: number;
  };
  protocol4: { w: FixtureTensor; names: string[]; pair: number[] };
  safetensors_metadata: Record<string, string>;
  npy: Record<string, FixtureTensor>;
}

const cases = loadFixture<IoFixture>('io');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'io');
const fixture = (name: string) => join(FIXTURES, name);
const bytesOf = (name: string) => new Uint8Array(readFileSync(fixture(name)));
const scratch = () => mkdtempSync(join(tmpdir(), 'senet-io-'));

/** The tensor equals PyTorch's exactly: dtype, shape and every element. */
function assertExact(actual: Tensor, expected: FixtureTensor, what: string): void {
  assert.equal(actual.dtype, expected.dtype, `${what}: dtype`);
  assertClose(actual, expected, { rtol: 0, atol: 0 }, what);
}

function assertEntries(actual: Record<string, Tensor> | Map<unknown, unknown>, expected: Entries, what: string): void {
  const map = actual instanceof Map ? actual : new Map(Object.entries(actual));
  assert.deepEqual(
    [...map.keys()],
    expected.map(([k]) => k),
    `${what}: keys in order`,
  );
  for (const [key, t] of expected) assertExact(map.get(key) as Tensor, t, `${what}[${key}]`);
}

/** PyDicts as plain objects, frozen arrays as arrays: the shape JSON fixtures have. */
function plain(value: unknown): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), plain(v)]));
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

/** Runs fn and checks that every tensor it made is freed again. */
function withoutLeaks(fn: () => void): void {
  const before = torch.memory().tensors;
  fn();
  assert.equal(torch.memory().tensors, before, 'native tensors leaked');
}

// ---------------------------------------------------------------- files written by PyTorch

test('torch.save(model.state_dict()) loads with PyTorch keys, order, dtypes and values, incl. num_batches_tracked', () => {
  const state = torch.load(fixture('state_dict.pt'));
  assertEntries(state, cases.state_dict.entries, 'state_dict.pt');
  assert.equal(state['bn.num_batches_tracked'].dtype, 'int64');
  assert.deepEqual(state['bn.num_batches_tracked'].shape, []);
  torch.dispose(state);

  const raw = io.loadPt(fixture('state_dict.pt'));
  assert.ok(raw instanceof PyDict && raw.ordered, 'an OrderedDict');
  assert.deepEqual(plain(raw.attributes.get('_metadata')), cases.state_dict.metadata);
  torch.dispose(raw);
});

test('tensors of every dtype, 0-d and empty ones load exactly', () => {
  const state = torch.load(fixture('dtypes.pt'));
  assertEntries(state, cases.dtypes, 'dtypes.pt');
  const dtypes = new Set(Object.values(state).map((t) => t.dtype));
  assert.deepEqual([...dtypes].sort(), [...torch.DTYPES].sort());
  torch.dispose(state);
});

test('views keep their offsets and strides and share one storage, as in PyTorch', () => {
  const v = torch.load(fixture('views.pt'));
  assertEntries(v, cases.views.entries, 'views.pt');
  for (const [key, strides] of Object.entries(cases.views.strides))
    assert.deepEqual(v[key].stride(), strides, `${key} stride`);
  // Writing through the base shows in every view of the same storage, at the view's own offset.
  v.base.add_(1000);
  assert.deepEqual(v.row.toArray(), [1012, 1013, 1014, 1015, 1016, 1017]);
  assert.deepEqual((v.cols.toArray() as number[][])[3], [1019, 1021, 1023]);
  assert.deepEqual(v.tail.toArray(), [1005, 1006, 1007, 1008, 1009, 1010]);
  assert.equal((v.transposed.toArray() as number[][])[5][3], 1023);
  assert.deepEqual(v.alone.toArray(), [3, 4, 5, 6]);
  torch.dispose(v);
});

test('a nested training checkpoint loads as dicts, lists, tuples, numbers and tensors', () => {
  const before = torch.memory().tensors;
  const ckpt = io.loadPt(fixture('checkpoint.pt')) as PyDict<string, unknown>;
  const c = cases.checkpoint;
  assert.ok(ckpt instanceof PyDict && !ckpt.ordered, 'a plain dict');
  assertEntries(ckpt.get('model') as PyDict, c.model, 'model');
  const optimizer = ckpt.get('optimizer') as PyDict<string, unknown>;
  const state = optimizer.get('state') as PyDict<number, PyDict<string, Tensor>>;
  // Optimizer state is keyed by parameter index: Python ints stay numbers.
  assert.deepEqual(
    [...state.keys()],
    c.momentum_buffers.map(([k]) => Number(k)),
  );
  for (const [k, buf] of c.momentum_buffers)
    assertExact(state.get(Number(k))!.get('momentum_buffer')!, buf, `buffer ${k}`);
  assert.deepEqual(plain(optimizer.get('param_groups')), c.param_groups);
  for (const [key, value] of Object.entries(c.plain)) assert.deepEqual(plain(ckpt.get(key)), value, key);
  assert.ok(isTuple(ckpt.get('shape')), 'a tuple comes back frozen');
  assert.equal(ckpt.get('big'), BigInt(c.big));
  assert.equal(ckpt.get('neg'), c.neg);
  const param = ckpt.get('param') as Tensor;
  assertExact(param, c.param, 'param');
  assert.equal(param.requiresGrad, true, 'nn.Parameter keeps requires_grad');
  torch.dispose(ckpt);
  assert.equal(torch.memory().tensors, before, 'disposing the checkpoint frees every tensor (and storage) it loaded');
});

test('protocol-4 pickles (FRAME, MEMOIZE, SHORT_BINUNICODE) load too', () => {
  const obj = io.loadPt(fixture('protocol4.pt')) as PyDict<string, unknown>;
  assertExact(obj.get('w') as Tensor, cases.protocol4.w, 'w');
  assert.deepEqual(obj.get('names'), cases.protocol4.names);
  assert.deepEqual(obj.get('pair'), cases.protocol4.pair);
  torch.dispose(obj);
});

test('a pickled nn.Module is refused by naming the global, without running anything', () => {
  withoutLeaks(() => {
    assert.throws(
      () => io.loadPt(fixture('whole_model.pt')),
      /Python global 'torch\.nn\.modules\.linear\.Linear'.*never runs code/,
    );
  });
});

test('a safetensors file written from the spec loads with its metadata, and senet writes the same bytes', () => {
  const { tensors, metadata } = io.loadSafetensors(fixture('dtypes.safetensors'));
  assertEntries(tensors, cases.dtypes, 'dtypes.safetensors');
  assert.deepEqual(metadata, cases.safetensors_metadata);
  assert.deepEqual(io.serializeSafetensors(Object.entries(tensors), metadata), bytesOf('dtypes.safetensors'));
  torch.dispose(tensors);
});

test('.npy files written by numpy load exactly: v1 and v2, Fortran order, big-endian, 0-d', () => {
  for (const [name, expected] of Object.entries(cases.npy)) {
    const t = io.loadNpy(fixture(`${name}.npy`));
    assertExact(t, expected, name);
    t.dispose();
  }
});

test('senet writes .npy files byte for byte as numpy.save does', () => {
  const cOrder = Object.keys(cases.npy).filter((n) => !/fortran|bigendian|version2/.test(n));
  assert.ok(cOrder.length >= 9);
  for (const name of cOrder) {
    const t = io.loadNpy(fixture(`${name}.npy`));
    assert.deepEqual(io.serializeNpy(t), bytesOf(`${name}.npy`), name);
    t.dispose();
  }
});

test('senet writes exactly the .pt bytes that torch.load was verified to read', () => {
  const dir = scratch();
  try {
    for (const name of ['state_dict', 'dtypes', 'views']) {
      const state = torch.load(fixture(`${name}.pt`));
      torch.save(state, join(dir, `senet_${name}.pt`));
      assert.deepEqual(new Uint8Array(readFileSync(join(dir, `senet_${name}.pt`))), bytesOf(`senet_${name}.pt`), name);
      torch.dispose(state);
    }
    const ckpt = io.loadPt(fixture('checkpoint.pt'));
    io.savePt(ckpt, join(dir, 'senet_checkpoint.pt'));
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'senet_checkpoint.pt'))), bytesOf('senet_checkpoint.pt'));
    torch.dispose(ckpt);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------- round trips

function sampleOf(dtype: DType): Tensor {
  return torch.tidy(() => {
    const g = new torch.Generator(7);
    switch (dtype) {
      case 'bool':
        return torch.rand([3, 4], { generator: g }).gt(0.5);
      case 'uint8':
        return torch.randint(0, 256, [3, 4], { generator: g, dtype });
      case 'int8':
        return torch.randint(-128, 128, [3, 4], { generator: g, dtype });
      case 'int16':
        return torch.randint(-32768, 32768, [3, 4], { generator: g, dtype });
      case 'int32':
      case 'int64':
        return torch.randint(-1e9, 1e9, [3, 4], { generator: g, dtype });
      default:
        return torch.randn([3, 4], { generator: g, dtype });
    }
  });
}

test('round trips senet -> file -> senet keep dtype, shape and bits for every format and dtype', () => {
  const dir = scratch();
  try {
    const tensors: Record<string, Tensor> = {};
    for (const dtype of torch.DTYPES) tensors[`layer.${dtype}`] = sampleOf(dtype);
    tensors.strided = tensors['layer.float32'].t(); // saved as its (contiguous) values
    tensors.scalar = torch.tensor(-3.25);
    tensors.empty = torch.zeros([2, 0]);
    for (const file of ['w.pt', 'w.pth', 'w.bin', 'w.safetensors']) {
      torch.save(tensors, join(dir, file));
      const back = torch.load(join(dir, file));
      assert.deepEqual(Object.keys(back), Object.keys(tensors), file);
      for (const [key, t] of Object.entries(tensors)) {
        assert.equal(back[key].dtype, t.dtype, `${file} ${key}`);
        assert.ok(back[key].equal(t), `${file} ${key}: values`);
      }
      torch.dispose(back);
    }
    for (const dtype of torch.DTYPES.filter((d) => d !== 'bfloat16')) {
      io.saveNpy(tensors[`layer.${dtype}`], join(dir, `${dtype}.npy`));
      const back = io.loadNpy(join(dir, `${dtype}.npy`));
      assert.ok(back.dtype === dtype && back.equal(tensors[`layer.${dtype}`]), `${dtype}.npy`);
      back.dispose();
    }
    assert.throws(() => io.saveNpy(tensors['layer.bfloat16'], join(dir, 'x.npy')), /NumPy has no such dtype/);
    torch.dispose(tensors);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('savePt/loadPt round-trip nested Python values; a tensor saved twice comes back as one', () => {
  const shared = torch.arange(0, 4);
  const obj = {
    model: new PyDict<string, Tensor>([['w', shared]], true),
    again: shared,
    ints: [0, 255, 256, 65535, 65536, -1, -(2 ** 31), 2 ** 31, -(2 ** 40), Number.MAX_SAFE_INTEGER],
    floats: [0.5, -1e-300, 1e300, Infinity],
    huge: -(2n ** 100n),
    text: 'Squeeze–Excitation ✓',
    flags: tuple(true, false, null),
    byIndex: new Map<unknown, unknown>([
      [0, 'zero'],
      [1, tuple()],
    ]),
    long: Array.from({ length: 1500 }, (_, i) => i),
  };
  const back = io.parsePt(io.serializePt(obj), 'memory') as PyDict<string, unknown>;
  assert.deepEqual([...back.keys()], Object.keys(obj));
  const model = back.get('model') as PyDict<string, Tensor>;
  assert.ok(model.ordered);
  assert.equal(back.get('again'), model.get('w'), 'one tensor, not two');
  assert.deepEqual(model.get('w')!.toArray(), [0, 1, 2, 3]);
  for (const key of ['ints', 'floats', 'huge', 'text', 'long'] as const) assert.deepEqual(back.get(key), obj[key], key);
  assert.ok(isTuple(back.get('flags')));
  assert.deepEqual(back.get('flags'), [true, false, null]);
  assert.deepEqual([...(back.get('byIndex') as Map<unknown, unknown>).keys()], [0, 1]);
  torch.dispose([back, shared]);
});

test("pickle longs use Python's two's-complement encoding", () => {
  // Examples from Python's pickletools.encode_long documentation.
  const examples: [bigint, number[]][] = [
    [0n, []],
    [255n, [0xff, 0x00]],
    [32767n, [0xff, 0x7f]],
    [-256n, [0x00, 0xff]],
    [-32768n, [0x00, 0x80]],
    [-128n, [0x80]],
    [127n, [0x7f]],
    [-1n, [0xff]],
    [-129n, [0x7f, 0xff]],
  ];
  for (const [value, bytes] of examples) {
    assert.deepEqual([...encodeLong(value)], bytes, String(value));
    assert.equal(BigInt(decodeLong(Uint8Array.from(bytes))), value, String(value));
  }
  assert.equal(decodeLong(encodeLong(2n ** 70n)), 2n ** 70n);
});

// ---------------------------------------------------------------- bad input

/** A torch.save-style zip with data.pkl and storages data/<key> under 'archive/'. */
function checkpointZip(pkl: Uint8Array, storages: Record<string, Uint8Array> = {}, byteorder = 'little'): Uint8Array {
  return writeAlignedZip([
    ['archive/data.pkl', pkl],
    ['archive/byteorder', new TextEncoder().encode(byteorder)],
    ...Object.entries(storages).map(([key, data]) => [`archive/data/${key}`, data] as const),
    ['archive/version', new TextEncoder().encode('3\n')],
  ]);
}

/** The pickle torch.save writes for one float32 tensor viewing storage '0' of `numel` elements. */
function tensorPickle(numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const storage = tuple<unknown>('storage', new PyGlobal('torch', 'FloatStorage'), '0', 'cpu', numel);
  return pickle(
    new PyReduce(new PyGlobal('torch._utils', '_rebuild_tensor_v2'), [
      new PersistentId(storage),
      offset,
      tuple(...size),
      tuple(...stride),
      false,
      new PyReduce(new PyGlobal('collections', 'OrderedDict'), []),
    ]),
  );
}

test('corrupt .pt files give one clear error and leak no tensors', () => {
  const good = bytesOf('state_dict.pt');
  const floats = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);
  const bad = (data: number[]) => checkpointZip(Uint8Array.from(data));
  withoutLeaks(() => {
    assert.throws(
      () => io.parsePt(good.subarray(0, good.length >> 1), 'cut.pt'),
      /^Error: cut\.pt: not a readable zip archive .*truncated or corrupt$/,
    );
    assert.throws(
      () => io.parsePt(bad([0x80, 2, 0xff]), 'op.pt'),
      /op\.pt \(data\.pkl\): corrupt pickle at byte 2: unsupported or invalid pickle opcode 0xff/,
    );
    assert.throws(() => io.parsePt(bad([0x80, 2, 0x4b]), 'short.pt'), /needs 1 more byte.*truncated/);
    assert.throws(
      () => io.parsePt(bad([0x80, 2, 0x68, 5, 0x2e]), 'memo.pt'),
      /memo entry 5 is read before it is written/,
    );
    const evil = [0x80, 2, 0x63, ...new TextEncoder().encode('os\nsystem\n'), 0x2e];
    assert.throws(() => io.parsePt(bad(evil), 'evil.pt'), /Python global 'os\.system', which senet does not load/);
    assert.throws(
      () => io.parsePt(Uint8Array.of(0x80, 2, 0x8a, 0x0a), 'old.pt'),
      /legacy \(pre-1\.6\) checkpoint format/,
    );
    assert.throws(() => io.parsePt(Uint8Array.of(1, 2, 3), 'junk.pt'), /junk\.pt: not a PyTorch checkpoint/);
    assert.throws(
      () => io.parsePt(writeAlignedZip([['m/constants.pkl', Uint8Array.of(0x80)]]), 'ts.pt'),
      /TorchScript archive/,
    );
    // Storage bytes and views that do not fit.
    assert.throws(
      () => io.parsePt(checkpointZip(tensorPickle(4, 0, [4], [1]), { 0: floats(2) }), 'size.pt'),
      /size\.pt: storage data\/0 has 8 bytes, but 4 elements of float32 need 16/,
    );
    assert.throws(
      () => io.parsePt(checkpointZip(tensorPickle(4, 0, [4], [1])), 'missing.pt'),
      /storage data\/0 is missing/,
    );
    assert.throws(
      () => io.parsePt(checkpointZip(tensorPickle(4, 2, [3], [1]), { 0: floats(4) }), 'view.pt'),
      /view\.pt: a tensor .* of size \[3\], stride \[1\] and offset 2 reaches element 4 of a storage of 4 elements/,
    );
    // A pickle that fails after rebuilding a tensor (no STOP) frees that tensor and its storage.
    const unfinished = tensorPickle(4, 0, [4], [1]).slice(0, -1);
    assert.throws(
      () => io.parsePt(checkpointZip(unfinished, { 0: floats(4) }), 'stop.pt'),
      /ends before the STOP opcode/,
    );
  });
  // The same pickle, finished, is fine: the helpers above build what torch.save builds.
  const ok = io.parsePt(
    checkpointZip(tensorPickle(4, 1, [2], [2]), { 0: new Uint8Array(Float32Array.of(0, 1, 2, 3).buffer) }),
    'ok.pt',
  );
  assert.deepEqual((ok as Tensor).toArray(), [1, 3]);
  (ok as Tensor).dispose();
});

test('a checkpoint whose byteorder record says big-endian is byte-swapped on load', () => {
  const data = new Uint8Array(12);
  [1.5, -2, 1e30].forEach((v, i) => new DataView(data.buffer).setFloat32(4 * i, v, false));
  const t = io.parsePt(checkpointZip(tensorPickle(3, 0, [3], [1]), { 0: data }, 'big'), 'be.pt') as Tensor;
  assert.deepEqual(t.toArray(), [1.5, -2, Math.fround(1e30)]);
  t.dispose();
  assert.throws(
    () => io.parsePt(checkpointZip(tensorPickle(3, 0, [3], [1]), { 0: data }, 'middle'), 'x.pt'),
    /unknown byteorder 'middle'/,
  );
});

test('pickle reader alone: STOP returns the value; BUILD and REDUCE need what they act on', () => {
  const hooks = {
    findGlobal: () => {
      throw new Error('no globals');
    },
  };
  assert.deepEqual(unpickle(Uint8Array.of(0x80, 2, 0x5d, 0x4b, 7, 0x61, 0x2e), hooks, 'x'), [7]);
  assert.throws(
    () => unpickle(Uint8Array.of(0x80, 2, 0x4e, 0x29, 0x52, 0x2e), hooks, 'x'),
    /REDUCE applies a value that is not a callable/,
  );
  assert.throws(
    () => unpickle(Uint8Array.of(0x80, 2, 0x5d, 0x7d, 0x62, 0x2e), hooks, 'x'),
    /BUILD sets state on an object that takes none/,
  );
  assert.throws(() => unpickle(Uint8Array.of(0x80, 2, 0x51, 0x2e), hooks, 'x'), /stack is empty/);
});

/** A safetensors file with this header and data section, built by hand from the spec. */
function safetensorsFile(header: unknown, data: Uint8Array, declaredLength?: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test('invalid safetensors files give one clear error naming the file and the problem', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({
    dtype: 'F32',
    shape,
    data_offsets: [begin, end],
  });
  const data = new Uint8Array(16);
  const check = (header: unknown, pattern: RegExp, bytes = data, declared?: number) =>
    assert.throws(() => io.parseSafetensors(safetensorsFile(header, bytes, declared), 'w.safetensors'), pattern);
  withoutLeaks(() => {
    check(
      { a: f32(0, 16) },
      /w\.safetensors: invalid safetensors file: the header length 1000000 runs past the end of the file/,
      data,
      1e6,
    );
    check({ a: f32(0, 8), b: f32(4, 16, [3]) }, /tensor 'b' overlaps tensor 'a'/);
    check({ a: f32(0, 4), b: f32(8, 16) }, /hole of 4 bytes before tensor 'b'/);
    check({ a: f32(0, 8) }, /8 trailing bytes that no tensor uses/);
    check({ a: f32(0, 32) }, /tensor 'a' ends at byte 32 of the data, but the data has only 16 bytes/);
    check(
      { a: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } },
      /tensor 'a' spans 16 bytes, but F32 of shape \[3\] needs 12/,
    );
    check(
      { a: { dtype: 'C64', shape: [2], data_offsets: [0, 16] } },
      /tensor 'a' has dtype "C64"; senet reads F32, F64/,
    );
    check({ a: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, /shape \[-4\], not a list of sizes/);
    check({ a: { dtype: 'F32', shape: [4], data_offsets: [16, 0] } }, /data_offsets \[16,0\]/);
    check({ __metadata__: { epoch: 3 }, a: f32(0, 16) }, /"__metadata__" entry 'epoch' is a number, not a string/);
    check([1, 2], /the header does not start with "\{"/);
    assert.throws(
      () => io.parseSafetensors(Uint8Array.of(1, 2), 'tiny.safetensors'),
      /too few for the 8-byte header length/,
    );
    assert.throws(() => io.parseSafetensors(safetensorsFile('x', data), 'w.safetensors'), /does not start with/);
  });
  // The same helper with a consistent header is accepted (so the errors above come from the defects).
  const good = io.parseSafetensors(safetensorsFile({ a: f32(0, 8), b: f32(8, 16) }, data), 'w.safetensors');
  assert.deepEqual([...good.tensors.keys()], ['a', 'b']);
  torch.dispose(good.tensors);
});

test('invalid .npy files give one clear error', () => {
  const good = bytesOf('np_float32.npy');
  const withHeader = (header: string) => {
    const zeros = torch.zeros(2);
    const bytes = io.serializeNpy(zeros);
    zeros.dispose();
    const text = new TextDecoder('latin1').decode(bytes);
    return new Uint8Array(
      Buffer.from(
        text.replace(/\{.*\}/, (h) => header.padEnd(h.length)),
        'latin1',
      ),
    );
  };
  withoutLeaks(() => {
    const wrongMagic = good.slice();
    wrongMagic[1] = 0x58;
    assert.throws(
      () => io.parseNpy(wrongMagic, 'a.npy'),
      /a\.npy: invalid \.npy file: it does not start with the magic string/,
    );
    assert.throws(
      () => io.parseNpy(good.subarray(0, good.length - 4), 'b.npy'),
      /holds 20 bytes, but '<f4' of shape \(2, 3\) needs 24 \(truncated\?\)/,
    );
    assert.throws(() => io.parseNpy(good.subarray(0, 40), 'c.npy'), /runs past the end of the file/);
    assert.throws(
      () => io.parseNpy(withHeader("{'descr': '<u2', 'fortran_order': False, 'shape': (4,), }"), 'd.npy'),
      /dtype '<u2' is not supported/,
    );
    assert.throws(
      () => io.parseNpy(withHeader("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,), }"), 'e.npy'),
      /structured dtypes are not supported/,
    );
    assert.throws(
      () => io.parseNpy(withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) "), 'f.npy'),
      /not a Python dict literal/,
    );
  });
});

test('load/save name what is wrong with paths and contents', () => {
  const dir = scratch();
  try {
    assert.throws(
      () => torch.save({ w: torch.ones(1) }, join(dir, 'w.ckpt')),
      /cannot save '.*w\.ckpt': the extension .* expected \.safetensors, \.pt, \.pth, \.bin/,
    );
    assert.throws(() => torch.load(join(dir, 'w.npy')), /for a single tensor use saveNpy\/loadNpy/);
    assert.throws(
      () => torch.save({ w: 3 as unknown as Tensor }, join(dir, 'w.pt')),
      /state dict entry 'w' is not a Tensor/,
    );
    assert.throws(
      () => torch.load(fixture('checkpoint.pt')),
      /not a plain state dict: its entry "model" is not a tensor.*io\.loadPt/,
    );
    assert.throws(() => torch.load(join(dir, 'absent.pt')), /ENOENT.*absent\.pt/);
    assert.throws(
      () => io.savePt({ f: () => 1 }, join(dir, 'f.pt')),
      /cannot pickle the object\["f"\]: a value of type function/,
    );
    assert.deepEqual(readdirSync(dir), [], 'failed saves leave nothing behind');
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('writes are atomic: an existing file survives a failed save and no temporary file is left', () => {
  const dir = scratch();
  try {
    const path = join(dir, 'model.safetensors');
    const w = torch.ones(2);
    torch.save({ w }, path);
    const before = readFileSync(path);
    const disposed = torch.zeros(1);
    disposed.dispose();
    assert.throws(() => torch.save({ w, disposed }, path), /disposed/);
    assert.deepEqual(readFileSync(path), before);
    // The rename fails (a directory is in the way): the error surfaces and the temporary file is removed.
    mkdirSync(join(dir, 'taken.pt'));
    assert.throws(() => torch.save({ w }, join(dir, 'taken.pt')), /EISDIR|EEXIST|ENOTEMPTY|EPERM/);
    assert.deepEqual(readdirSync(dir).sort(), ['model.safetensors', 'taken.pt']);
    writeFileSync(join(dir, 'note.txt'), 'x');
    io.writeFileAtomic(join(dir, 'note.txt'), new TextEncoder().encode('y'));
    assert.equal(readFileSync(join(dir, 'note.txt'), 'utf8'), 'y');
    w.dispose();
  } finally {
    rmSync(dir, { recursive: true });
  }
});
