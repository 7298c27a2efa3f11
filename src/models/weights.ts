// Model weights from and to files: PyTorch checkpoints (.pt/.pth/.bin, including Python's
// torch.save(model.state_dict())) and .safetensors, through src/torch/io. Loading maps the known naming
// schemes to senet's (./weight-sources.ts: timm, torchvision, moskomule/senet.pytorch; Cadene-layout
// files are pointed to the legacy_* models), applies the caller's key map first (./key-map.ts), and
// forgives the layout differences that carry no information:
//   - a leading 'module.' on every key (checkpoints saved from DataParallel / DistributedDataParallel);
//   - Linear versus 1×1-convolution weights ([rd, C] ↔ [rd, C, 1, 1], e.g. SE units saved by timm);
//   - checkpoints that wrap the state dict as { state_dict: ... } or { model: ... };
//   - a missing BatchNorm num_batches_tracked (older checkpoints), which PyTorch also fills with 0.
// Anything else that does not fit is reported, in strict mode as one error listing every problem and
// naming the registry model the weights fit, if one does. Two things that would load silently are refused
// unless asked for: NaN or infinite values (a diverged or corrupted checkpoint), and a tensor whose kind of
// dtype (floating point versus integer/bool) differs from the model's (bytes relabelled, not converted).
import { io, type nn, dispose, isFloatingPoint, tidy, Tensor, zeros } from '../torch/index.js';
import type { KeyMapRules } from './key-map.js';
import { fitHint, sameShape, toModelNames, withoutTrailingOnes } from './weight-sources.js';

type StateDict = nn.StateDict;

export interface LoadWeightsOptions {
  /** Require every key to match (default true); otherwise load what matches and report the rest. */
  strict?: boolean;
  /** Rules renaming the file's keys to senet's, applied before the known schemes' (see key-map.ts). */
  keyMap?: KeyMapRules;
  /** Load NaN and infinite values instead of refusing them (the CLI's --allow-nonfinite). */
  allowNonfinite?: boolean;
  /**
   * Convert tensors whose dtype is integer or bool where the model's is floating point, or the reverse,
   * instead of refusing them (the CLI's --cast-dtypes). Floating-point dtypes always convert (a float16
   * checkpoint loads into a float32 model).
   */
  castDtypes?: boolean;
}

/** Weights that fit the model but hold values it refuses (non-finite, or of another kind of dtype). */
export class WeightValueError extends Error {}

/** How many offending keys an error names before saying "and N more". */
const LISTED_KEYS = 5;

function listSome(items: string[]): string {
  const shown = items.slice(0, LISTED_KEYS).join(', ');
  return items.length > LISTED_KEYS ? `${shown} and ${items.length - LISTED_KEYS} more` : shown;
}

/**
 * Refuses weights with NaN or infinite values and weights whose dtype is of another kind than the model's,
 * unless the options allow them: one error naming the keys and the option that loads them anyway. `where`
 * (" from FILE" or empty) completes "cannot load weights".
 */
export function checkWeightValues(model: nn.Module, state: Weights, options: LoadWeightsOptions, where: string): void {
  const mismatched: string[] = [];
  const nonfinite: string[] = [];
  for (const [key, target] of Object.entries(model.stateDict())) {
    const tensor = state.get(key);
    if (!tensor || tensor === target) continue;
    if (isFloatingPoint(tensor.dtype) !== isFloatingPoint(target.dtype)) {
      mismatched.push(`'${key}' (${tensor.dtype}, the model's ${target.dtype})`);
    }
    if (!options.allowNonfinite && isFloatingPoint(tensor.dtype) && tidy(() => !tensor.isfinite().all().item())) {
      nonfinite.push(`'${key}'`);
    }
  }
  if (mismatched.length > 0 && !options.castDtypes) {
    throw new WeightValueError(
      `cannot load weights${where}: ${mismatched.length} tensor${mismatched.length === 1 ? ' has' : 's have'} ` +
        `a dtype of another kind than the model's: ${listSome(mismatched)}; ` +
        'the file is corrupt or its dtypes were relabelled; to convert them anyway, pass --cast-dtypes (castDtypes)',
    );
  }
  if (nonfinite.length > 0) {
    throw new WeightValueError(
      `cannot load weights${where}: ${nonfinite.length} tensor${nonfinite.length === 1 ? ' holds' : 's hold'} ` +
        `NaN or infinite values: ${listSome(nonfinite)}; the checkpoint is from a diverged run or corrupt; ` +
        'to load it anyway, pass --allow-nonfinite (allowNonfinite)',
    );
  }
}

const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict'];

type Weights = Map<string, Tensor>;

/** Reads a state dict from a checkpoint file; the caller disposes its tensors. */
export function readStateDict(path: string): Weights {
  if (io.isSafetensorsFile(path)) return new Map(Object.entries(io.loadSafetensors(path).tensors));
  const contents = io.loadPt(path);
  const asStateDict = (value: unknown): Weights | null => {
    if (!(value instanceof Map) || ![...value].every(([k, v]) => typeof k === 'string' && v instanceof Tensor))
      return null;
    return value as Weights;
  };
  const direct = asStateDict(contents);
  if (direct) return direct;
  if (contents instanceof Map) {
    for (const key of WRAPPER_KEYS) {
      const inner = asStateDict(contents.get(key));
      if (!inner) continue;
      // Free everything else the checkpoint held (optimizer state, ...).
      for (const [k, v] of contents) if (k !== key) dispose(v);
      return inner;
    }
  }
  dispose(contents);
  throw new Error(
    `${path} holds no state dict: expected a dict of tensors (torch.save(model.state_dict())) ` +
      `or a checkpoint with one under ${WRAPPER_KEYS.map((k) => `'${k}'`).join(', ')}`,
  );
}

/**
 * `state` (already in the model's names) reshaped to fit `model`: Linear/1×1-conv weights reshaped to the
 * model's form, and absent num_batches_tracked filled with 0. Returns the new mapping and the tensors
 * created for it (to be disposed after loading).
 */
function adapt(model: nn.Module, named: Weights): { state: Weights; created: Tensor[] } {
  const state: Weights = new Map(named);
  const created: Tensor[] = [];
  for (const [key, target] of Object.entries(model.stateDict())) {
    const tensor = state.get(key);
    if (!tensor) {
      if (key.endsWith('.num_batches_tracked')) {
        const zero = zeros([], { dtype: 'int64' });
        created.push(zero);
        state.set(key, zero);
      }
      continue;
    }
    const want = target.shape;
    const have = tensor.shape;
    if (!sameShape(want, have) && sameShape(withoutTrailingOnes(want), withoutTrailingOnes(have))) {
      const reshaped = tensor.reshape(want);
      created.push(reshaped);
      state.set(key, reshaped);
    }
  }
  return { state, created };
}

/**
 * Copies weights into `model` from a checkpoint file (.pt, .pth, .bin or .safetensors) or from a state
 * dict in memory (which stays the caller's). Returns the keys that were missing or unexpected (always
 * empty in strict mode, which throws instead).
 */
export function loadWeights(
  model: nn.Module,
  fileOrStateDict: string | StateDict | Weights,
  options: LoadWeightsOptions = {},
): nn.LoadResult {
  const fromFile = typeof fileOrStateDict === 'string';
  const source = fromFile
    ? readStateDict(fileOrStateDict)
    : fileOrStateDict instanceof Map
      ? fileOrStateDict
      : new Map(Object.entries(fileOrStateDict));
  const where = fromFile ? ` from ${fileOrStateDict}` : '';
  let created: Tensor[] = [];
  try {
    const modelKeys = new Set(Object.keys(model.stateDict()));
    const what = fromFile ? fileOrStateDict : 'the state dict';
    const named = toModelNames(modelKeys, source, (t) => t.shape, { keyMap: options.keyMap, what });
    const adapted = adapt(model, named.weights);
    created = adapted.created;
    checkWeightValues(model, adapted.state, options, where);
    try {
      return model.loadStateDict(adapted.state, options.strict ?? true);
    } catch (error) {
      const hint = fitHint(new Map([...named.weights].map(([k, t]) => [k, t.shape])), named.source);
      throw new Error(`cannot load weights${where}: ${(error as Error).message.replace(/\.?\s*$/, '')}; ${hint}`);
    }
  } finally {
    dispose(created);
    if (fromFile) dispose(source);
  }
}

/** Writes the model's state dict to `path`: .safetensors, or torch.save's format for .pt/.pth/.bin (atomically). */
export function saveWeights(model: nn.Module, path: string): void {
  io.save(model.stateDict(), path);
}
