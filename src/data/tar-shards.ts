// WebDataset-style sharded tar archives as a streaming source: `DIR/<split>-000000.tar`, ... each holding
// samples as consecutive members `key.jpg` (or .jpeg/.png/.webp) + `key.cls` (the class index as text).
// Opening a split walks the member headers only (seeking past the data), which gives the sample count
// and labels without reading the images. An epoch reads the shards in a seeded random order, each front
// to back, through a shuffle buffer (each sample leaves the buffer at a random position as the next one
// enters), so reads stay sequential and memory holds at most the buffer's images. Class names come from
// `DIR/classes.txt` (one per line, line i = class i) when present, else they are "0", "1", ...
import { existsSync, readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_EXTENSIONS } from './image-folder.js';
import { deriveSeed, seededUniform, STREAM } from './seeds.js';
import type { SampleSource, StreamingSample } from './streaming-loader.js';

/** Samples held back for shuffling (WebDataset's usual buffer). */
export const SHUFFLE_BUFFER = 1000;
const BLOCK = 512;

interface ShardSample {
  shard: number;
  key: string;
  offset: number;
  size: number;
  label: number;
}

export interface TarShardSource extends SampleSource {
  readonly shards: readonly string[];
}

/** The shard files of `split` among `files` (names in `root`), in name order. */
export function shardFiles(root: string, split: string, files: readonly string[]): string[] {
  const pattern = new RegExp(`^${split.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+\\.tar$`);
  return files
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(root, f));
}

/** Indexes the shards of one split (headers only) and returns its source. */
export async function tarShardSource(
  root: string,
  split: string,
  shards: readonly string[],
  bufferSize = SHUFFLE_BUFFER,
): Promise<TarShardSource> {
  const samples: ShardSample[] = [];
  for (const [i, shard] of shards.entries()) samples.push(...(await indexShard(shard, i)));
  if (samples.length === 0) throw new Error(`the shards ${split}-*.tar in ${root} hold no key.jpg + key.cls samples`);
  const maxLabel = samples.reduce((m, s) => Math.max(m, s.label), 0);
  const classesFile = join(root, 'classes.txt');
  const classes = existsSync(classesFile)
    ? readFileSync(classesFile, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '')
    : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= classes.length) {
    throw new Error(
      `a sample of ${split} has class ${maxLabel} but ${classesFile} names only ${classes.length} classes`,
    );
  }
  const byShard = shards.map((_, i) => samples.filter((s) => s.shard === i));
  return {
    name: `${root.split('/').pop()}/${split}`,
    classes,
    length: samples.length,
    labels: Int32Array.from(samples, (s) => s.label),
    shards,
    samples: (epoch, shuffle, seed) =>
      readShards(shards, byShard, shuffle ? seededUniform(deriveSeed(seed, epoch, STREAM.shards)) : null, bufferSize),
  };
}

/** One epoch's samples: shards in (shuffled) order, each read in order, through the shuffle buffer. */
async function* readShards(
  shards: readonly string[],
  byShard: ShardSample[][],
  uniform: (() => number) | null,
  bufferSize: number,
): AsyncGenerator<StreamingSample> {
  const order = shards.map((_, i) => i);
  if (uniform) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
  }
  const buffer: StreamingSample[] = [];
  for (const i of order) {
    const handle = await open(shards[i]);
    try {
      for (const s of byShard[i]) {
        const bytes = Buffer.allocUnsafe(s.size);
        await handle.read(bytes, 0, s.size, s.offset);
        const sample = { input: bytes, label: s.label, name: `${shards[i].split('/').pop()}:${s.key}` };
        if (!uniform) {
          yield sample;
        } else if (buffer.length < bufferSize) {
          buffer.push(sample);
        } else {
          const k = Math.floor(uniform() * buffer.length);
          const out = buffer[k];
          buffer[k] = sample;
          yield out;
        }
      }
    } finally {
      await handle.close();
    }
  }
  while (buffer.length > 0) {
    const k = Math.floor(uniform!() * buffer.length);
    const out = buffer[k];
    buffer[k] = buffer[buffer.length - 1];
    buffer.pop();
    yield out;
  }
}

/** The image members of one shard paired with their .cls labels, from a walk over the member headers. */
async function indexShard(path: string, shard: number): Promise<ShardSample[]> {
  const handle = await open(path);
  try {
    const images = new Map<string, { offset: number; size: number }>();
    const labels = new Map<string, number>();
    const { size: fileSize } = await handle.stat();
    const header = Buffer.alloc(BLOCK);
    let offset = 0;
    let longName: string | null = null;
    while (offset + BLOCK <= fileSize) {
      await handle.read(header, 0, BLOCK, offset);
      if (header.every((b) => b === 0)) break; // the end-of-archive blocks
      const size = parseOctal(header.subarray(124, 136), path);
      const type = String.fromCharCode(header[156] || 48);
      const dataOffset = offset + BLOCK;
      let name = longName ?? memberName(header);
      longName = null;
      if (type === 'x' || type === 'L') {
        longName = await readLongName(handle, dataOffset, size, type);
      } else if (type === '0' || type === '7') {
        name = name.replace(/^\.\//, '');
        const dot = name.lastIndexOf('.');
        const key = dot > 0 ? name.slice(0, dot) : name;
        const extension = dot > 0 ? name.slice(dot).toLowerCase() : '';
        if (extension === '.cls') {
          labels.set(key, await readLabel(handle, dataOffset, size, `${path}:${name}`));
        } else if (IMAGE_EXTENSIONS.includes(extension)) {
          images.set(key, { offset: dataOffset, size });
        }
      }
      offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
    }
    const samples: ShardSample[] = [];
    for (const [key, image] of images) {
      const label = labels.get(key);
      if (label === undefined) throw new Error(`${path}: ${key} has an image but no ${key}.cls label`);
      samples.push({ shard, key, ...image, label });
    }
    return samples;
  } finally {
    await handle.close();
  }
}

/** ustar's name: the prefix field (if any), '/', then the name field. */
function memberName(header: Buffer): string {
  const field = (start: number, length: number) => header.toString('utf8', start, start + length).replace(/\0.*$/s, '');
  const prefix = header.toString('latin1', 257, 262) === 'ustar' ? field(345, 155) : '';
  return prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
}

function parseOctal(field: Buffer, path: string): number {
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim();
  const value = parseInt(text, 8);
  if (!Number.isFinite(value))
    throw new Error(`${path} is not a tar archive (or is damaged): a member size reads '${text}'`);
  return value;
}

/** The name a pax ('x': "N path=...") or GNU ('L') long-name member gives the next member. */
async function readLongName(handle: FileHandle, offset: number, size: number, type: string): Promise<string | null> {
  const bytes = Buffer.alloc(size);
  await handle.read(bytes, 0, size, offset);
  if (type === 'L') return bytes.toString('utf8').replace(/\0.*$/s, '');
  const match = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(bytes.toString('utf8'));
  return match ? match[1] : null;
}

async function readLabel(handle: FileHandle, offset: number, size: number, where: string): Promise<number> {
  const bytes = Buffer.alloc(Math.min(size, 32));
  await handle.read(bytes, 0, bytes.length, offset);
  const label = Number(bytes.toString('utf8').trim());
  if (!Number.isInteger(label) || label < 0)
    throw new Error(`${where} should hold a class index (0, 1, ...), got '${bytes.toString('utf8').trim()}'`);
  return label;
}
