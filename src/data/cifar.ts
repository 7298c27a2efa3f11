// The official CIFAR-10 and CIFAR-100 binary formats (https://www.cs.toronto.edu/~kriz/cifar.html).
// A batch file is a run of fixed-size records: the label byte(s), then 32×32×3 pixel bytes as three
// 1024-byte planes (red, green, blue), each row-major: already the C×H×W layout an ImageDataset stores.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDataset, type ImageDataset } from './dataset.js';
import { resolveCacheDir } from './cache.js';
import { checkRegularFile } from '../util/files.js';

export type CifarName = 'cifar10' | 'cifar100';
export type Split = 'train' | 'test';

export const CIFAR_IMAGE = { channels: 3, height: 32, width: 32 } as const;
const PIXEL_BYTES = CIFAR_IMAGE.channels * CIFAR_IMAGE.height * CIFAR_IMAGE.width;

/** Where each variant's files live once extracted, and how its records are laid out. */
export interface CifarLayout {
  /** 'CIFAR-10', for messages. */
  readonly title: string;
  /** The folder the official archive extracts to. */
  readonly folder: string;
  readonly files: Readonly<Record<Split, readonly string[]>>;
  /** Label bytes before the pixels: CIFAR-10 has one; CIFAR-100 has the coarse then the fine label. */
  readonly labelBytes: number;
  /** The labels each record carries; the first is the default. */
  readonly labelSets: readonly LabelSet[];
}

/** One kind of label in a record: which byte holds it, how many classes, and the file naming them. */
export interface LabelSet {
  /** 'label', 'fine label', 'coarse label', for messages. */
  readonly kind: string;
  readonly byte: number;
  readonly classes: number;
  readonly file: string;
}

export const CIFAR_LAYOUTS: Readonly<Record<CifarName, CifarLayout>> = {
  cifar10: {
    title: 'CIFAR-10',
    folder: 'cifar-10-batches-bin',
    files: { train: [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`), test: ['test_batch.bin'] },
    labelBytes: 1,
    labelSets: [{ kind: 'label', byte: 0, classes: 10, file: 'batches.meta.txt' }],
  },
  cifar100: {
    title: 'CIFAR-100',
    folder: 'cifar-100-binary',
    files: { train: ['train.bin'], test: ['test.bin'] },
    labelBytes: 2,
    labelSets: [
      { kind: 'fine label', byte: 1, classes: 100, file: 'fine_label_names.txt' },
      { kind: 'coarse label', byte: 0, classes: 20, file: 'coarse_label_names.txt' },
    ],
  },
};

export function cifarLayout(name: string): CifarLayout {
  const layout = CIFAR_LAYOUTS[name as CifarName];
  if (!layout) throw new Error(`unknown CIFAR dataset '${name}': expected 'cifar10' or 'cifar100'`);
  return layout;
}

export interface LoadCifarOptions {
  /**
   * The folder holding the extracted `cifar-10-batches-bin/` (or `cifar-100-binary/`), as ensureCifar
   * leaves it: the data cache by default. That folder itself is accepted too.
   */
  root?: string;
  /** CIFAR-100: the 100 fine classes (default) or the 20 coarse superclasses. */
  fineLabels?: boolean;
}

/** Reads one split of CIFAR-10 or CIFAR-100 from the official binary files. */
export async function loadCifar(name: CifarName, split: Split, options: LoadCifarOptions = {}): Promise<ImageDataset> {
  const layout = cifarLayout(name);
  if (split !== 'train' && split !== 'test') throw new Error(`unknown split '${split}': expected 'train' or 'test'`);
  const folder = cifarFolder(layout, resolveCacheDir(options.root));
  const labelSet = layout.labelSets[name === 'cifar100' && options.fineLabels === false ? 1 : 0];
  const classes = await readClassNames(join(folder, labelSet.file), labelSet.classes, layout.title);

  // One file after another, so the first missing or broken file is the one reported, every time.
  const batches = [];
  for (const file of layout.files[split]) {
    const path = join(folder, file);
    batches.push(parseCifarRecords(await readBatchFile(path, layout.title), layout, labelSet, path));
  }
  const length = batches.reduce((n, b) => n + b.labels.length, 0);
  const images = new Uint8Array(length * PIXEL_BYTES);
  const labels = new Int32Array(length);
  let offset = 0;
  for (const batch of batches) {
    images.set(batch.images, offset * PIXEL_BYTES);
    labels.set(batch.labels, offset);
    offset += batch.labels.length;
  }
  const suffix = name === 'cifar100' && options.fineLabels === false ? '-coarse' : '';
  return makeDataset({ name: `${name}${suffix}-${split}`, images, labels, classes, ...CIFAR_IMAGE });
}

/** The extracted folder: `root/<folder>`, or `root` itself when the files sit directly in it. */
function cifarFolder(layout: CifarLayout, root: string): string {
  const nested = join(root, layout.folder);
  if (existsSync(nested)) return nested;
  if (existsSync(join(root, layout.labelSets[0].file))) return root;
  throw new Error(
    `${layout.title} is not in ${root}: expected the folder ${nested} with ` +
      `${[...layout.files.train, ...layout.files.test, layout.labelSets[0].file].join(', ')} ` +
      '(ensureCifar downloads and extracts it there)',
  );
}

async function readBatchFile(path: string, title: string): Promise<Uint8Array> {
  if (existsSync(path)) checkRegularFile(path, `the ${title} batch file`); // a folder, device or FIFO: one clear error
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'the file is missing' : (error as Error).message;
    throw new Error(
      `${title} batch file ${path} cannot be read: ${why}; expected one of the official binary batch files`,
    );
  }
}

/** Class names from a label-names file: one per line, blank lines ignored; the count must match. */
export async function readClassNames(path: string, expected: number, title: string): Promise<string[]> {
  let text: string;
  if (existsSync(path)) checkRegularFile(path, `the ${title} class-name file`);
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `${title} class-name file ${path} cannot be read: ${code === 'ENOENT' ? 'the file is missing' : (error as Error).message}`,
    );
  }
  const names = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  if (names.length !== expected) {
    throw new Error(`${title} class-name file ${path} lists ${names.length} names; expected ${expected}, one per line`);
  }
  return names;
}

/**
 * Splits a batch file's bytes into pixels and labels, checking that it holds whole records and that
 * every label is in range. `path` only names the file in errors.
 */
export function parseCifarRecords(
  bytes: Uint8Array,
  layout: CifarLayout,
  labelSet: { byte: number },
  path: string,
): { images: Uint8Array; labels: Int32Array } {
  const recordBytes = layout.labelBytes + PIXEL_BYTES;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    const whole = Math.floor(bytes.length / recordBytes);
    throw new Error(
      `${layout.title} batch file ${path} is ${bytes.length} bytes, which is not a whole number of ` +
        `${recordBytes}-byte records (${layout.labelBytes} label byte${layout.labelBytes > 1 ? 's' : ''} + ${PIXEL_BYTES} pixel bytes): ` +
        `${whole} records and ${bytes.length - whole * recordBytes} bytes left over. The file is truncated or corrupt.`,
    );
  }
  const count = bytes.length / recordBytes;
  const images = new Uint8Array(count * PIXEL_BYTES);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const record = i * recordBytes;
    for (const set of layout.labelSets) {
      // every label byte, also the one not used, to catch corruption
      const value = bytes[record + set.byte];
      if (value >= set.classes) {
        throw new Error(
          `${layout.title} batch file ${path}: record ${i} (byte offset ${record + set.byte}) has ${set.kind} ${value}; ` +
            `expected 0..${set.classes - 1}. The file is corrupt or not a ${layout.title} batch.`,
        );
      }
    }
    labels[i] = bytes[record + labelSet.byte];
    images.set(bytes.subarray(record + layout.labelBytes, record + recordBytes), i * PIXEL_BYTES);
  }
  return { images, labels };
}
