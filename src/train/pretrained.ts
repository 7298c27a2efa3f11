// Fine-tuning: starting a run from pretrained weights instead of a random initialisation.
//   Where the weights come from: a weights file (.safetensors, .pt, .pth, .bin), a run directory (its best
//   checkpoint, else its last), or an http(s) URL, downloaded once into the data cache
//   (<cache>/pretrained/<hash of the URL>/<file name>) and reused after. A SHA-256 — given separately or as
//   the URL's '#sha256=HEX' fragment — is checked against whatever file is used, downloaded or not.
//   What is loaded: every weight, strictly (loadWeights: any missing, unexpected or misshapen key is one
//   clear error), except the classifier (the model's classifierName child): when its shape differs (another
//   class count) or the file has none — or always, when asked — it keeps the new model's fresh one.
//   The backbone (all but the classifier) may be frozen for the first epochs (BackboneFreeze) and learn at
//   a smaller rate (optimization.ts' parameter groups).
// The weights are loaded only when a run starts: a resumed run continues from its own checkpoint.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as torch from '../torch/index.js';
import type { Tensor } from '../torch/index.js';
import { loadWeights, type Model } from '../models/index.js';
import { readStateDict, WeightValueError } from '../models/weights.js';
import { toModelNames } from '../models/weight-sources.js';
import type { KeyMapRules } from '../models/key-map.js';
import { backboneBatchNorms, classifierKeys, classifierName, splitParameters } from '../models/classifier.js';
import { cacheKey, resolveCacheDir } from '../data/cache.js';
import { digestOfFile, downloadFile } from '../data/http-download.js';
import type { FetchLike } from '../data/http-get.js';
import { runWeightsFile } from './trained-model.js';
import type { PretrainedClassifier } from './config-schema.js';

const SHA256 = /^[0-9a-f]{64}$/i;
const URL_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Whether a string is a SHA-256 in hex (64 hex digits). */
export const isSha256 = (value: string): boolean => SHA256.test(value);

export interface PretrainedFile {
  /** How the weights were named: a weights file, a run directory, or a URL. */
  kind: 'file' | 'run' | 'url';
  /** The weights file on disk (for a URL: the cached download). */
  file: string;
  /** The SHA-256 it was checked against, if one was given. */
  sha256: string | null;
}

export interface ResolvePretrainedOptions {
  /** The expected SHA-256 (hex) of the weights file; a URL's '#sha256=HEX' gives it too. */
  sha256?: string | null;
  /** The data cache folder downloads go to (default: $SENET_DATA or ~/.cache/senet). */
  cacheDir?: string;
  /** The HTTP transport (default: node:http/https). */
  fetchImpl?: FetchLike;
  /** Download progress in bytes (total undefined when the server does not say). */
  onProgress?: (received: number, total: number | undefined) => void;
}

/** A URL split into the address to download and the SHA-256 its '#sha256=HEX' fragment names (null without one). */
export function splitChecksum(url: string): { url: string; sha256: string | null } {
  const at = url.indexOf('#');
  if (at < 0) return { url, sha256: null };
  const fragment = url.slice(at + 1);
  const match = /^sha256=(.*)$/i.exec(fragment);
  if (!match || !isSha256(match[1])) {
    throw new Error(
      `the pretrained URL ${url} ends in '#${fragment}'; the only fragment understood is '#sha256=' and 64 hex digits`,
    );
  }
  return { url: url.slice(0, at), sha256: match[1].toLowerCase() };
}

/** The SHA-256 to check: the one given and/or the URL's, which must agree. */
function expectedSha256(given: string | null | undefined, fromUrl: string | null, source: string): string | null {
  if (given != null && !isSha256(given))
    throw new Error(`the pretrained weights' SHA-256 '${given}' is not 64 hex digits`);
  const lower = given?.toLowerCase() ?? null;
  if (lower && fromUrl && lower !== fromUrl) {
    throw new Error(`two different SHA-256 checksums for ${source}: ${lower} given, ${fromUrl} in the URL; give one`);
  }
  return lower ?? fromUrl;
}

/**
 * The weights file that `source` names (see the file comment), downloading a URL on first use; checks it
 * against the SHA-256 when one is given. Throws one error naming what is wrong and what to do.
 */
export async function resolvePretrained(
  source: string,
  options: ResolvePretrainedOptions = {},
): Promise<PretrainedFile> {
  if (/^https?:\/\//i.test(source)) {
    const { url, sha256: fromUrl } = splitChecksum(source);
    const sha256 = expectedSha256(options.sha256, fromUrl, url);
    return { kind: 'url', file: await download(url, sha256, options), sha256 };
  }
  if (URL_SCHEME.test(source))
    throw new Error(`cannot fetch the pretrained weights ${source}: only http:// and https:// URLs are downloaded`);
  const sha256 = expectedSha256(options.sha256, null, source);
  if (!existsSync(source)) {
    throw new Error(
      `the pretrained weights ${source} do not exist: give a weights file (.safetensors, .pt, .pth, .bin), ` +
        'a run directory, or an http(s) URL',
    );
  }
  const isRun = statSync(source).isDirectory();
  const file = isRun ? runWeightsFile(source).file : source;
  if (sha256) await checkSha256(file, sha256, 'delete or replace it, or correct the checksum');
  return { kind: isRun ? 'run' : 'file', file, sha256 };
}

/** Downloads `url` into the cache once (checked when a checksum is known); returns the cached file. */
async function download(url: string, sha256: string | null, options: ResolvePretrainedOptions): Promise<string> {
  const name = basename(new URL(url).pathname) || 'weights';
  const folder = join(resolveCacheDir(options.cacheDir), 'pretrained', cacheKey(url));
  const file = join(folder, name);
  if (existsSync(file)) {
    if (sha256) await checkSha256(file, sha256, 'delete it to download it again, or correct the checksum');
    return file;
  }
  mkdirSync(folder, { recursive: true });
  try {
    await downloadFile(url, file, {
      ...(sha256 ? { sha256 } : {}),
      fetchImpl: options.fetchImpl,
      onProgress: options.onProgress,
    });
  } catch (error) {
    throw new Error(
      `could not download the pretrained weights from ${url}: ${(error as Error).message}. ` +
        `Without network access, download the file elsewhere and give its path (or put it at ${file}).`,
    );
  }
  return file;
}

async function checkSha256(file: string, expected: string, remedy: string): Promise<void> {
  const actual = await digestOfFile(file, 'sha256');
  if (actual !== expected)
    throw new Error(`the pretrained weights ${file} have SHA-256 ${actual}, expected ${expected}: ${remedy}`);
}

export interface PretrainedLoad {
  /** Tensors of the model's state dict copied from the file. */
  loaded: number;
  /** What was done with the classifier ('auto' resolved), as config.pretrainedClassifier records it. */
  decision: Exclude<PretrainedClassifier, 'auto'>;
  /** The classifier: its name, whether it was re-initialised, its classes in the file (null: none) and in the model. */
  classifier: { name: string; replaced: boolean; fileClasses: number | null; modelClasses: number };
  /** What happened to the classifier, in a few words. */
  summary: string;
  /** One line for the console. */
  message: string;
}

export interface LoadPretrainedOptions {
  /** Names the weights in messages (default: the file). */
  what?: string;
  /** When to replace the classifier: 'auto' (default) if its shape differs or the file lacks it; 'replace'; 'keep'. */
  classifier?: PretrainedClassifier;
  /** Load weights holding NaN or infinite values instead of refusing them (--allow-nonfinite). */
  allowNonfinite?: boolean;
  /** Rules renaming the file's keys to senet's, before the known naming schemes' (--key-map). */
  keyMap?: KeyMapRules;
}

/**
 * Loads the weights file into `model` (freshly built): everything strictly, except a classifier that is
 * replaced (see LoadPretrainedOptions.classifier), which keeps its fresh initialisation.
 */
export function loadPretrained(model: Model, file: string, options: LoadPretrainedOptions = {}): PretrainedLoad {
  const what = options.what ?? file;
  const mode = options.classifier ?? 'auto';
  const name = classifierName(model);
  const own = model.stateDict();
  const headKeys = classifierKeys(model);
  const source = readStateDict(file);
  try {
    // In the model's names first ('module.' dropped, the key map's and the known schemes' renaming), so
    // that the classifier is found whatever the file calls it.
    const named = toModelNames(new Set(Object.keys(own)), source, (t) => t.shape, {
      keyMap: options.keyMap,
      what,
    }).weights;
    const fileHead = headKeys.map((k) => named.get(k));
    const weightKey = headKeys.find((k) => k.endsWith('.weight')) ?? headKeys[0];
    const fileWeight = named.get(weightKey);
    const absent = fileHead.every((t) => t === undefined);
    const misfit = fileHead.some((t, i) => t !== undefined && !sameShape(t.shape, own[headKeys[i]].shape));
    const replaced = mode === 'replace' || (mode === 'auto' && (absent || misfit));
    // A replaced classifier is swapped for the model's own fresh tensors: loading copies them onto
    // themselves, and every other key goes through loadWeights' strict checks.
    const state = new Map(named);
    if (replaced) {
      for (const key of headKeys) state.set(key, own[key]);
    }
    try {
      loadWeights(model, state, { allowNonfinite: options.allowNonfinite });
    } catch (error) {
      if (error instanceof WeightValueError) {
        throw new Error(`the pretrained weights ${what}: ${error.message.replace(/^cannot load weights: /, '')}`);
      }
      const scope = replaced
        ? `beyond its classifier ${name}`
        : `(pretrainedClassifier '${mode}' loads its classifier ${name} too)`;
      throw new Error(
        `the pretrained weights ${what} do not fit '${model.constructor.name}' ${scope}: ${(error as Error).message}`,
      );
    }
    const modelClasses = own[weightKey].shape[0];
    const fileClasses = fileWeight ? fileWeight.shape[0] : null;
    const shapes = `the weights' ${name} has ${shapeText(fileWeight?.shape)}, this model's ${shapeText(own[weightKey].shape)}`;
    const summary = !replaced
      ? `kept (${modelClasses} classes)`
      : absent
        ? `new: the weights have no classifier ${name}; ${modelClasses} classes, freshly initialised`
        : misfit
          ? `replaced: ${shapes} (${fileClasses} → ${modelClasses} classes); freshly initialised`
          : `replaced as asked (${fileClasses} classes in the weights and this model); freshly initialised`;
    return {
      loaded: Object.keys(own).length - (replaced ? headKeys.length : 0),
      decision: replaced ? 'replace' : 'keep',
      classifier: { name, replaced, fileClasses, modelClasses },
      summary,
      message: `Pretrained weights from ${what}: classifier ${name} ${summary}`,
    };
  } finally {
    torch.dispose([...source.values()]);
  }
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);
const shapeText = (shape: readonly number[] | undefined) => (shape ? `[${shape.join(', ')}]` : 'no weight');

/**
 * Freezes and unfreezes a model's backbone. Frozen, its parameters take no gradient — so the optimizer
 * skips them: no update, no weight decay, no momentum — and its BatchNorm layers run in eval mode,
 * normalising with the pretrained running statistics and leaving them unchanged, as timm's freezing
 * (FrozenBatchNorm2d) and Keras' fine-tuning guide do: fixed weights over statistics that drift to the new
 * data would no longer be the pretrained features. Parameters that were not trainable when the freeze was
 * made (frozen BatchNorm scales, ...) stay untouched.
 */
export class BackboneFreeze {
  private readonly params: Tensor[];

  constructor(private readonly model: Model) {
    this.params = splitParameters(model).backbone.filter((p) => p.requiresGrad);
  }

  /** Freezes or unfreezes the backbone; call it after model.train() (which puts every BatchNorm back in training). */
  apply(frozen: boolean): void {
    for (const p of this.params) p.requiresGrad_(!frozen);
    if (frozen) for (const bn of backboneBatchNorms(this.model)) bn.eval();
  }
}
