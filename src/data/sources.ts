// The streaming source for one split of `--data DIR`: WebDataset-style tar shards when the folder has
// `<split>-NNNNNN.tar` files, else an image folder `DIR/<split>/<class>/*.jpg`. Evaluation reads `val` or
// `validation` when present, else `test` (splits.ts).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { imageFolderSource } from './folder-source.js';
import { findSplit, SPLIT_NAMES, type SplitRole } from './splits.js';
import type { SampleSource } from './streaming-loader.js';
import { shardFiles, tarShardSource } from './tar-shards.js';

/** Opens the split of `data` that `role` reads; one error naming the folder and the layouts accepted. */
export async function openStreamingSource(data: string, role: SplitRole): Promise<SampleSource> {
  const root = resolve(data);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new Error(
      `data '${data}' is not a folder; expected ${data}/train/<class>/*.jpg or ${data}/train-000000.tar shards`,
    );
  }
  const files = readdirSync(root);
  const shards = findSplit(role, (name) => shardFiles(root, name, files).length > 0);
  if (shards) return tarShardSource(root, shards, shardFiles(root, shards, files));
  const folder = findSplit(role, (name) => existsSync(join(root, name)) && statSync(join(root, name)).isDirectory());
  if (!folder) {
    const names = SPLIT_NAMES[role].join(' or ');
    throw new Error(
      `the data folder ${root} has no ${names} split: expected ${root}/${SPLIT_NAMES[role][0]}/<class>/*.jpg ` +
        `or shards ${root}/${SPLIT_NAMES[role][0]}-000000.tar, ...`,
    );
  }
  return imageFolderSource(root, folder);
}
