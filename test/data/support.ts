// Shared pieces of the data tests: where the real datasets are, and temporary folders that clean up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SHARED } from '../helpers.js';

/** The project's real data (see DESIGN.md "Data available here"). */
export const DATASETS = join(SHARED, 'datasets');
export const BIN_SAMPLE = join(DATASETS, 'cifar10-bin-sample');
export const JPEG_FOLDER = join(DATASETS, 'cifar10-jpeg');

/** The class names of the CIFAR-10 specification (https://www.cs.toronto.edu/~kriz/cifar.html). */
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** A fresh temporary folder, deleted when the test ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'senet-data-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
