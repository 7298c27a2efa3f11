// Which folder (or shard prefix) holds a split: training reads `train`, evaluation `val` or `validation`
// when the data has one (a held-out set chosen on), else `test`; `senet eval --split` can ask for one
// split by its role.
export type SplitRole = 'train' | 'evaluation' | 'validation' | 'test';

/** The names each role answers to, in order of preference. */
export const SPLIT_NAMES: Readonly<Record<SplitRole, readonly string[]>> = {
  train: ['train'],
  evaluation: ['val', 'validation', 'test'],
  validation: ['val', 'validation'],
  test: ['test'],
};

/**
 * The first name of `role` that `exists` accepts; null when none does. (`exists` asks the file system,
 * or the list of shards.)
 */
export function findSplit(role: SplitRole, exists: (name: string) => boolean): string | null {
  return SPLIT_NAMES[role].find(exists) ?? null;
}
