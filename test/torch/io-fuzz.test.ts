// Fuzzing the file readers (safetensors, torch.save zip + pickle, .npy, CIFAR binary batches) with
// fast-check: valid files cut short, bit-flipped, overwritten and with mutated headers. Each reader must
// give a clear Error naming the file, or a correct value (for .pt, whose entries carry CRC-32s, the
// original tensors exactly), never a crash, a hang or a burst of memory. The runs are bounded in number
// and time. Hostile files found or built this way are kept in test/fixtures/hostile/ with the first line
// of the error each must give (SENET_WRITE_HOSTILE=1 rewrites them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import * as torch from '../../src/torch/index.js';
import { PyDict } from '../../src/torch/io/python-values.js';
import { CIFAR_LAYOUTS, parseCifarRecords } from '../../src/data/cifar.js';
import { ROOT } from '../helpers.js';
import { mutate, mutation } from '../fuzz-mutations.js';

const { io } = torch;
const CORPUS = join(ROOT, 'test', 'fixtures', 'hostile');
/** Runs per format; a fixed seed keeps CI reproducible, SENET_FUZZ_SEED explores others. */
const RUNS = 1000;
const SEED = Number(process.env.SENET_FUZZ_SEED ?? 12);
/** No single parse may take longer than this, nor the process grow by more than MAX_GROWTH_MIB over the runs. */
const MAX_PARSE_MS = 1000;
const MAX_GROWTH_MIB = 200;

type Reader = (bytes: Uint8Array, source: string) => unknown;

const VALUES = [0.5, -1.25, 3, 0.125, 7.75, -0, 42, 9.5]; // exact in float32

function validFiles(): Record<string, Uint8Array> {
  const w = torch.tidy(() => torch.tensor(VALUES).reshape([2, 4])); // the flat tensor is freed, not left to the GC
  const b = torch.tensor([1, 2, 3], { dtype: 'int64' });
  const files = {
    safetensors: io.serializeSafetensors(
      [
        ['w', w],
        ['b', b],
      ],
      { note: 'fuzz' },
    ),
    pt: io.serializePt(
      new PyDict(
        [
          ['w', w],
          ['b', b],
          ['epoch', 3],
        ] as [string, unknown][],
        true,
      ),
    ),
    npy: io.serializeNpy(w),
    cifar: Uint8Array.from({ length: 2 * 3073 }, (_, i) => (i % 3073 === 0 ? (i / 3073) * 7 : (i * 31) % 256)),
  };
  torch.dispose([w, b]);
  return files;
}

const cifarReader: Reader = (bytes, source) =>
  parseCifarRecords(bytes, CIFAR_LAYOUTS.cifar10, CIFAR_LAYOUTS.cifar10.labelSets[0], source);

const READERS: Record<string, Reader> = {
  safetensors: (bytes, source) => io.parseSafetensors(bytes, source),
  pt: (bytes, source) => io.parsePt(bytes, source),
  npy: (bytes, source) => io.parseNpy(bytes, source),
  cifar: cifarReader,
};

/** The tensors of a parsed value, to check and free. */
function tensorsIn(value: unknown): torch.Tensor[] {
  if (value instanceof torch.Tensor) return [value];
  if (value instanceof Map) return [...value.values()].flatMap(tensorsIn);
  if (Array.isArray(value)) return value.flatMap(tensorsIn);
  if (value && typeof value === 'object') return Object.values(value).flatMap(tensorsIn);
  return [];
}

/**
 * Parses a mutated file: a thrown error must be an Error whose message names the file (so it comes from a
 * check, not from deep inside a parser); a value must be well formed, and for .pt equal to the original.
 */
function checkOutcome(format: string, bytes: Uint8Array): void {
  const source = `fuzz.${format}`;
  const started = performance.now();
  let value: unknown;
  try {
    value = READERS[format](bytes, source);
  } catch (error) {
    assert.ok(error instanceof Error, `${format}: threw a non-Error ${String(error)}`);
    assert.ok(error.message.includes(source), `${format}: an error that does not name the file: ${error.stack}`);
    return;
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < MAX_PARSE_MS, `${format}: one parse took ${ms.toFixed(0)} ms`);
  }
  const tensors = tensorsIn(value);
  try {
    for (const t of tensors)
      assert.ok(t.numel() * 8 <= bytes.length * 8 + 64, `${format}: a tensor larger than the file`);
    if (format === 'pt') {
      const dict = value as Map<string, unknown>;
      assert.deepEqual(
        [...(dict.get('w') as torch.Tensor).data()],
        VALUES,
        'a .pt that loads holds the original values',
      );
      assert.deepEqual([...(dict.get('b') as torch.Tensor).data()].map(Number), [1, 2, 3]);
    }
    if (format === 'cifar') {
      const { images, labels } = value as { images: Uint8Array; labels: Int32Array };
      assert.equal(images.length, labels.length * 3072);
      assert.ok(labels.every((l) => l >= 0 && l < 10));
    }
  } finally {
    torch.dispose(tensors);
  }
}

test('fuzzed safetensors, .pt, .npy and CIFAR files give a clear error or a correct value', () => {
  const files = validFiles();
  const rssBefore = process.memoryUsage().rss;
  const live = torch.memory().tensors;
  for (const [format, original] of Object.entries(files)) {
    checkOutcome(format, original); // the valid file itself reads
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        checkOutcome(format, mutate(original, mutations));
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
  }
  assert.equal(torch.memory().tensors, live, 'no tensor is leaked');
  const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grownMiB < MAX_GROWTH_MIB, `memory grew by ${grownMiB.toFixed(0)} MiB`);
});

// ---------------------------------------------------------------- the regression corpus

/** A zip of one deflated entry whose central directory claims `size` bytes (used for bombs). */
function oneEntryZip(name: string, data: Uint8Array, size: number): Uint8Array {
  const nameBytes = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nameBytes.length, 12);
  end.writeUInt32LE(30 + nameBytes.length + data.length, 16);
  return Buffer.concat([local, nameBytes, data, central, nameBytes, end]);
}

/** The hostile files of the corpus, built from the valid ones. */
function hostileFiles(): Record<string, Uint8Array> {
  const files = validFiles();
  const at = Buffer.from(files.pt).indexOf(Buffer.from(new Float32Array(VALUES).buffer));
  const zeros = deflateRawSync(Buffer.alloc(2 ** 20));
  const cifarBadLabel = Uint8Array.from(files.cifar);
  cifarBadLabel[3073] = 200;
  // The same header length, the shape asking for 400 GB: the padding spaces make room for the digits.
  const npyHuge = Buffer.from(
    Buffer.from(files.npy)
      .toString('latin1')
      .replace('(2, 4)', '(99999999999, 4)')
      .replace(/ {10}\n/, '\n'),
    'latin1',
  );
  return {
    'crc-flipped.pt': mutate(files.pt, [{ kind: 'flip', at: at + 5, bit: 3 }]),
    'truncated.pt': files.pt.slice(0, files.pt.length >> 1),
    'bomb-declared.pt': oneEntryZip('archive/data.pkl', zeros, 3 * 2 ** 30),
    'bomb-lying.pt': oneEntryZip('archive/data.pkl', zeros, 1000),
    'truncated.safetensors': files.safetensors.slice(0, files.safetensors.length - 5),
    'header-too-long.safetensors': mutate(files.safetensors, [{ kind: 'set', at: 3, value: 0x7f }]),
    'huge-shape.npy': npyHuge,
    'bad-label.bin': cifarBadLabel,
  };
}

const READER_OF_EXTENSION: Record<string, Reader> = {
  '.pt': READERS.pt,
  '.safetensors': READERS.safetensors,
  '.npy': READERS.npy,
  '.bin': cifarReader,
};

function firstErrorLine(name: string, bytes: Uint8Array): string {
  const reader = READER_OF_EXTENSION[name.slice(name.lastIndexOf('.'))];
  try {
    torch.dispose(tensorsIn(reader(bytes, name)));
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
  return '(no error)';
}

test('the hostile corpus gives its recorded errors', () => {
  if (process.env.SENET_WRITE_HOSTILE === '1') {
    mkdirSync(CORPUS, { recursive: true });
    const expected: Record<string, string> = {};
    for (const [name, bytes] of Object.entries(hostileFiles())) {
      assert.ok(bytes.length < 50_000, `${name} is small`);
      writeFileSync(join(CORPUS, name), bytes);
      expected[name] = firstErrorLine(name, bytes);
    }
    writeFileSync(join(CORPUS, 'expected-errors.json'), `${JSON.stringify(expected, null, 2)}\n`);
  }
  const expected = JSON.parse(readFileSync(join(CORPUS, 'expected-errors.json'), 'utf8')) as Record<string, string>;
  assert.ok(Object.keys(expected).length >= 8);
  for (const [name, line] of Object.entries(expected)) {
    assert.notEqual(line, '(no error)', `${name} must be refused`);
    assert.equal(firstErrorLine(name, readFileSync(join(CORPUS, name))), line, name);
  }
});
