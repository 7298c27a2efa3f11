// A model's state-dict layout (names and shapes, in order) and its digest, as make_models.py computes it.
import { createHash } from 'node:crypto';
import type { nn } from '../../src/torch/index.js';

export type Layout = [string, number[]][];

export function layoutOf(model: nn.Module): Layout {
  return Object.entries(model.stateDict()).map(([k, v]) => [k, v.shape]);
}

/** SHA-256 of one 'name:d0,d1,...' line per state-dict entry. */
export function layoutDigest(model: nn.Module): string {
  const text = layoutOf(model)
    .map(([k, shape]) => `${k}:${shape.join(',')}\n`)
    .join('');
  return createHash('sha256').update(text).digest('hex');
}
