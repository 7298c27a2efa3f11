import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { crc32c, maskedCrc32c, tfRecord, readTfRecords } from '../../src/report/tfrecord.js';
import { ProtoWriter } from '../../src/report/protobuf.js';
import { writeTensorboard } from '../../src/report/tensorboard.js';
import type { RunFiles, ExcitationAnalysis } from '../../src/report/index.js';
import { DEFAULT_CONFIG } from '../../src/train/config.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('CRC32C: the check value and the test vectors of RFC 3720 (B.4)', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  // TensorFlow's mask: rotate right by 15 bits, add 0xa282ead8 (mod 2^32).
  const crc = 0xe3069283;
  assert.equal(maskedCrc32c(Buffer.from('123456789')), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32);
});

test('protobuf wire format: the examples of the encoding guide and IEEE 754 fixed-width values', () => {
  assert.equal(hex(new ProtoWriter().int(1, 150).finish()), '089601');
  assert.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '120774657374696e67');
  assert.equal(hex(new ProtoWriter().message(3, new ProtoWriter().int(1, 150)).finish()), '1a03089601');
  assert.equal(hex(new ProtoWriter().double(1, 1).finish()), '09000000000000f03f');
  assert.equal(hex(new ProtoWriter().float(2, 1).finish()), '150000803f');
  assert.equal(hex(new ProtoWriter().int(2, -1).finish()), `10${'ff'.repeat(9)}01`);
  assert.equal(
    hex(new ProtoWriter().packedDoubles(6, [1, 2]).finish()),
    `3210${'000000000000f03f'}${'0000000000000040'}`,
  );
});

test('TFRecord framing: length, masked CRCs, data; read back and corruption detected', () => {
  const data = Buffer.from('hello event');
  const record = tfRecord(data);
  assert.equal(record.length, 8 + 4 + data.length + 4);
  assert.equal(record.readBigUInt64LE(0), BigInt(data.length));
  assert.equal(record.readUInt32LE(8), maskedCrc32c(record.subarray(0, 8)));
  assert.equal(record.readUInt32LE(12 + data.length), maskedCrc32c(data));
  const two = Buffer.concat([record, tfRecord(Buffer.from('second'))]);
  assert.deepEqual(
    readTfRecords(two).map((r) => Buffer.from(r).toString()),
    ['hello event', 'second'],
  );
  const corrupt = Buffer.from(two);
  corrupt[14] ^= 1;
  assert.throws(() => readTfRecords(corrupt), /bad data CRC at byte 0/);
});

// ---- a minimal protobuf reader, to check what was written ----

type Fields = Map<number, (bigint | Buffer)[]>;

function readVarint(b: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[at++];
    value |= BigInt(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [value, at];
    shift += 7n;
  }
}

function decode(bytes: Uint8Array): Fields {
  const b = Buffer.from(bytes);
  const fields: Fields = new Map();
  let at = 0;
  while (at < b.length) {
    let key: bigint;
    [key, at] = readVarint(b, at);
    const field = Number(key >> 3n);
    const type = Number(key & 7n);
    let value: bigint | Buffer;
    if (type === 0) [value, at] = readVarint(b, at);
    else if (type === 1) {
      value = b.subarray(at, at + 8);
      at += 8;
    } else if (type === 5) {
      value = b.subarray(at, at + 4);
      at += 4;
    } else if (type === 2) {
      let n: bigint;
      [n, at] = readVarint(b, at);
      value = b.subarray(at, at + Number(n));
      at += Number(n);
    } else throw new Error(`wire type ${type}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const one = (f: Fields, n: number) => f.get(n)?.[0];
const asBuffer = (v: bigint | Buffer | undefined) => v as Buffer;

test('event file: file_version first, then one Event per epoch with its scalars, then the final metrics and excitation histograms', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'senet-tb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run: RunFiles = {
    dir: '/runs/x',
    config: { ...DEFAULT_CONFIG },
    pipeline: null,
    steps: [],
    environment: null,
    augmentationSamples: null,
    metrics: [
      {
        epoch: 1,
        train_loss: 2,
        train_acc: 0.25,
        test_loss: 1.5,
        test_acc: 0.5,
        lr: 0.1,
        seconds: 3,
        images_per_s: 100,
      },
      {
        epoch: 2,
        train_loss: 1,
        train_acc: 0.5,
        test_loss: null,
        test_acc: null,
        lr: 0.05,
        seconds: 2,
        images_per_s: 120,
      },
    ],
    evaluation: {
      loss: 1.25,
      accuracy: 0.625,
      perClass: [0.5, 0.75],
      confusion: [
        [2, 2],
        [1, 3],
      ],
      classes: ['a', 'b'],
    },
  };
  const analysis: ExcitationAnalysis = {
    classes: ['a', 'b'],
    images: 8,
    imagesPerClass: [4, 4],
    units: [
      {
        name: 'se1',
        channels: 4,
        perClass: [
          [0.1, 0.2, 0.3, 0.4],
          [0.3, 0.2, 0.5, 0.4],
        ],
        overall: [0.2, 0.2, 0.4, 0.4],
        classSpecificity: 0.05,
      },
    ],
  };
  const now = new Date('2025-05-01T10:00:00Z');
  const path = writeTensorboard(dir, run, analysis, now);
  assert.match(basename(path), /^events\.out\.tfevents\.1746093600\./);
  const events = readTfRecords(readFileSync(path)).map(decode);
  assert.equal(events.length, 4);
  assert.equal(asBuffer(one(events[0], 3)).toString(), 'brain.Event:2');
  assert.equal(asBuffer(one(events[0], 1)).readDoubleLE(), now.getTime() / 1000);

  const scalars = (event: Fields) =>
    Object.fromEntries(
      (event.get(5) ? (decode(asBuffer(one(event, 5))).get(1) ?? []) : [])
        .map((v) => decode(v as Buffer))
        .filter((v) => v.has(2))
        .map((v) => [asBuffer(one(v, 1)).toString(), asBuffer(one(v, 2)).readFloatLE()]),
    );
  assert.equal(one(events[1], 2), 1n);
  assert.deepEqual(scalars(events[1]), {
    'loss/train': 2,
    'loss/test': 1.5,
    'accuracy/train': 0.25,
    'accuracy/test': 0.5,
    learning_rate: Math.fround(0.1),
    images_per_second: 100,
  });
  assert.equal(one(events[2], 2), 2n);
  assert.deepEqual(Object.keys(scalars(events[2])), [
    'loss/train',
    'accuracy/train',
    'learning_rate',
    'images_per_second',
  ]);
  // Epoch ends: without a training start time, the first epoch ends `seconds` after the report's time.
  assert.equal(asBuffer(one(events[2], 1)).readDoubleLE(), now.getTime() / 1000 + 5);

  const final = events[3];
  assert.equal(one(final, 2), 2n);
  assert.deepEqual(scalars(final), {
    'eval/accuracy': 0.625,
    'eval/loss': 1.25,
    'excitation/se1/class_specificity': Math.fround(0.05),
  });
  const histogramValue = (decode(asBuffer(one(final, 5))).get(1) ?? [])
    .map((v) => decode(v as Buffer))
    .find((v) => v.has(5))!;
  assert.equal(asBuffer(one(histogramValue, 1)).toString(), 'excitation/se1/mean_per_channel');
  const histogram = decode(asBuffer(one(histogramValue, 5)));
  const double = (n: number) => asBuffer(one(histogram, n)).readDoubleLE();
  assert.deepEqual([double(1), double(2), double(3)], [0.2, 0.4, 4]);
  assert.ok(Math.abs(double(4) - 1.2) < 1e-12 && Math.abs(double(5) - 0.4) < 1e-12, 'sum and sum of squares');
  const packed = (n: number) => {
    const b = asBuffer(one(histogram, n));
    return Array.from({ length: b.length / 8 }, (_, i) => b.readDoubleLE(8 * i));
  };
  const counts = packed(7);
  assert.equal(packed(6).length, counts.length);
  assert.equal(packed(6).at(-1), 0.4);
  assert.equal(
    counts.reduce((a, b) => a + b, 0),
    4,
  );
  assert.equal(counts[0], 2);
  assert.equal(counts.at(-1), 2);
});
