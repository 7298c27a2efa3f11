import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { loadCifar, classCounts } from '../../src/data/index.js';
import { BIN_SAMPLE as SAMPLE, CIFAR10_CLASSES, tempDir } from './support.js';

const SAMPLE_BATCH = join(SAMPLE, 'cifar-10-batches-bin', 'test_batch.bin');

/** A copy of the sample's folder whose test_batch.bin is replaced by `bytes`. */
function sampleWithBatch(t: { after(fn: () => void): void }, bytes: Uint8Array): string {
  const root = tempDir(t);
  cpSync(join(SAMPLE, 'cifar-10-batches-bin'), join(root, 'cifar-10-batches-bin'), { recursive: true });
  rmSync(join(root, 'cifar-10-batches-bin', 'test_batch.bin'));
  writeFileSync(join(root, 'cifar-10-batches-bin', 'test_batch.bin'), bytes);
  return root;
}

test('loadCifar reads the official CIFAR-10 test batch: labels, CHW pixels and class names', async () => {
  const ds = await loadCifar('cifar10', 'test', { root: SAMPLE });
  assert.equal(ds.name, 'cifar10-test');
  assert.equal(ds.length, 1000);
  assert.deepEqual([ds.channels, ds.height, ds.width], [3, 32, 32]);
  assert.deepEqual(ds.classes, CIFAR10_CLASSES);

  // An independent reading of the same bytes: record i = 1 label byte + 3072 pixel bytes.
  const raw = readFileSync(SAMPLE_BATCH);
  const histogram = new Array(10).fill(0);
  for (let i = 0; i < 1000; i++) histogram[raw[i * 3073]]++;
  assert.deepEqual(classCounts(ds), histogram);
  for (const i of [0, 1, 500, 999]) {
    assert.equal(ds.labels[i], raw[i * 3073], `label of record ${i}`);
    for (const [c, y, x] of [
      [0, 0, 0],
      [1, 5, 7],
      [2, 31, 31],
      [2, 16, 0],
    ]) {
      assert.equal(
        ds.images[i * 3072 + c * 1024 + y * 32 + x],
        raw[i * 3073 + 1 + c * 1024 + y * 32 + x],
        `record ${i} pixel (c=${c}, y=${y}, x=${x})`,
      );
    }
  }
  assert.deepEqual(ds.images.subarray(999 * 3072), new Uint8Array(raw.subarray(999 * 3073 + 1)));
});

test('loadCifar accepts the extracted folder itself as root', async () => {
  const ds = await loadCifar('cifar10', 'test', { root: join(SAMPLE, 'cifar-10-batches-bin') });
  assert.equal(ds.length, 1000);
});

test('loadCifar reads the CIFAR-100 layout: coarse then fine label byte, fine or coarse classes', async (t) => {
  const root = tempDir(t);
  const folder = join(root, 'cifar-100-binary');
  mkdirSync(folder);
  const fineNames = Array.from({ length: 100 }, (_, i) => `fine${i}`);
  const coarseNames = Array.from({ length: 20 }, (_, i) => `coarse${i}`);
  writeFileSync(join(folder, 'fine_label_names.txt'), `${fineNames.join('\n')}\n`);
  writeFileSync(join(folder, 'coarse_label_names.txt'), `${coarseNames.join('\n')}\n\n`);
  const records = [
    [3, 97],
    [19, 0],
    [0, 42],
  ];
  const file = new Uint8Array(records.length * 3074);
  records.forEach(([coarse, fine], i) => {
    file[i * 3074] = coarse;
    file[i * 3074 + 1] = fine;
    for (let p = 0; p < 3072; p++) file[i * 3074 + 2 + p] = (p * 7 + i * 31) % 256;
  });
  writeFileSync(join(folder, 'train.bin'), file);
  writeFileSync(join(folder, 'test.bin'), file.subarray(0, 3074));

  const fine = await loadCifar('cifar100', 'train', { root });
  assert.equal(fine.length, 3);
  assert.deepEqual(Array.from(fine.labels), [97, 0, 42]);
  assert.deepEqual(fine.classes, fineNames);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(fine.images.subarray(i * 3072, (i + 1) * 3072), file.subarray(i * 3074 + 2, (i + 1) * 3074));
  }
  const coarse = await loadCifar('cifar100', 'train', { root, fineLabels: false });
  assert.deepEqual(Array.from(coarse.labels), [3, 19, 0]);
  assert.deepEqual(coarse.classes, coarseNames);
  assert.equal(coarse.name, 'cifar100-coarse-train');
  assert.equal((await loadCifar('cifar100', 'test', { root })).length, 1);

  // A coarse label out of range is corruption even when the fine labels are used.
  const bad = Uint8Array.from(file);
  bad[3074] = 20;
  writeFileSync(join(folder, 'train.bin'), bad);
  await assert.rejects(
    loadCifar('cifar100', 'train', { root }),
    /CIFAR-100 batch file .*train\.bin: record 1 \(byte offset 3074\) has coarse label 20; expected 0\.\.19/,
  );
});

test('a truncated batch file is reported with its size and the record length', async (t) => {
  const raw = readFileSync(SAMPLE_BATCH);
  const root = sampleWithBatch(t, raw.subarray(0, raw.length - 100));
  await assert.rejects(loadCifar('cifar10', 'test', { root }), (error: Error) => {
    assert.match(error.message, /test_batch\.bin is 3072900 bytes, which is not a whole number of 3073-byte records/);
    assert.match(error.message, /999 records and 2973 bytes left over/);
    assert.match(error.message, /truncated or corrupt/);
    return true;
  });
});

test('a label out of range is reported with the record', async (t) => {
  const bytes = Uint8Array.from(readFileSync(SAMPLE_BATCH));
  bytes[5 * 3073] = 10;
  const root = sampleWithBatch(t, bytes);
  await assert.rejects(
    loadCifar('cifar10', 'test', { root }),
    /test_batch\.bin: record 5 \(byte offset 15365\) has label 10; expected 0\.\.9/,
  );
});

test('missing batch and class-name files are named', async (t) => {
  await assert.rejects(
    loadCifar('cifar10', 'train', { root: SAMPLE }),
    /data_batch_1\.bin cannot be read: the file is missing/,
  );
  const root = tempDir(t);
  cpSync(join(SAMPLE, 'cifar-10-batches-bin'), join(root, 'cifar-10-batches-bin'), { recursive: true });
  writeFileSync(join(root, 'cifar-10-batches-bin', 'batches.meta.txt'), 'cat\ndog\n');
  await assert.rejects(loadCifar('cifar10', 'test', { root }), /batches\.meta\.txt lists 2 names; expected 10/);
  rmSync(join(root, 'cifar-10-batches-bin', 'batches.meta.txt'));
  await assert.rejects(
    loadCifar('cifar10', 'test', { root }),
    /batches\.meta\.txt cannot be read: the file is missing/,
  );
  await assert.rejects(
    loadCifar('cifar10', 'test', { root: tempDir(t) }),
    /CIFAR-10 is not in .*: expected the folder .*cifar-10-batches-bin/,
  );
  await assert.rejects(loadCifar('mnist' as 'cifar10', 'test', { root }), /unknown CIFAR dataset 'mnist'/);
});
