// What each stage of `senet run` depends on, as a fingerprint (a short digest) recorded in its summary:
// on a re-run, a stage whose fingerprint is unchanged has nothing new to compute. Fingerprints are
// chained — each covers the one before it — so a change reaches every later stage:
//   data-preparation       the data's identity (see dataIdentity), imageSize and dataMode
//   data-augmentation      + augment, colorJitter, mean, std
//   se-module-design       + model, attention, sePlacement, seed, whiten, identityInit, freezeBnScale, and
//                            pretrained, pretrainedSha256, pretrainedClassifier when fine-tuning (the
//                            weights are known by name and checksum: give one for a file that may change)
//   cnn-model-design       (the same inputs: the network is the model the design stage built)
//   hyperparameter-tuning  + the config the trials start from (configHash: the training config with the
//                            trials' epochs) and the study: space, sampler, pruner, trials and epoch
//                            budget (not the time limit); without a study, the training config
//   model-training         + the config actually trained (configHash: the tuned one)
//   evaluation             (the trained weights, i.e. the same as model-training)
// Where a run writes (out) and how many threads compute it are left out, as configHash leaves them out.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveCacheDir } from '../data/cache.js';
import { NAMED_DATASETS, configHash, type TrainConfig } from '../train/config.js';
import type { StageName } from '../train/stages.js';
import { spaceToJson } from '../tune/index.js';
import { studyBaseConfig, type TuneSpec } from './run-spec.js';
import { canonicalJson } from '../util/json-files.js';

/** A short digest of the values, in order. */
export function digest(...values: unknown[]): string {
  return createHash('sha256').update(canonicalJson(values)).digest('hex').slice(0, 16);
}

/**
 * The identity of the data a config names, without decoding it. A named dataset (the official CIFAR
 * files, checked by MD5 when downloaded) is its name and the cache folder that holds it. An image folder
 * is what the decode cache keys on: every image's path, size and modification time, so adding, removing
 * or rewriting an image changes it. A folder that does not exist has the identity 'missing' (data
 * preparation then fails with its own message).
 */
export function dataIdentity(data: string, cacheDir?: string): string {
  if ((NAMED_DATASETS as readonly string[]).includes(data)) return digest('named', data, resolveCacheDir(cacheDir));
  if (!existsSync(data)) return digest('missing', data);
  const hash = createHash('sha256').update(data);
  for (const split of ['train', 'test']) {
    const splitDir = join(data, split);
    if (!existsSync(splitDir)) continue;
    for (const cls of readdirSync(splitDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()) {
      for (const file of readdirSync(join(splitDir, cls)).sort()) {
        const stat = statSync(join(splitDir, cls, file));
        hash.update(`\n${split}/${cls}/${file}\0${stat.size}\0${stat.mtimeMs}`);
      }
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** The stages' fingerprints up to tuning (from the training config before tuning). */
export type DesignFingerprints = Record<Exclude<StageName, 'model-training' | 'evaluation'>, string>;

export function designFingerprints(train: TrainConfig, tune: TuneSpec | null, dataId: string): DesignFingerprints {
  const data = digest('data-preparation', dataId, train.imageSize, train.dataMode);
  const augmentation = digest('data-augmentation', data, train.augment, train.colorJitter, train.mean, train.std);
  // Pretrained weights join the digest only when given, so that the other runs' fingerprints stay as they were.
  const pretrained =
    train.pretrained === null
      ? []
      : [
          train.pretrained,
          train.pretrainedSha256,
          train.pretrainedClassifier,
          ...(train.pretrainedKeyMap === null ? [] : [train.pretrainedKeyMap]),
        ];
  const se = digest(
    'se-module-design',
    augmentation,
    train.model,
    train.attention,
    train.sePlacement,
    train.seed,
    train.whiten,
    train.identityInit,
    train.freezeBnScale,
    ...pretrained,
  );
  const cnn = digest('cnn-model-design', se);
  // With a study, what the trials start from: a change of the final training's epochs alone (when the
  // study fixes its own) leaves the study as it is.
  const searched = tune ? configHash(studyBaseConfig(train, tune.epochs)) : configHash(train);
  const study = tune && {
    space: spaceToJson(tune.space),
    sampler: tune.sampler,
    pruner: tune.pruner,
    trials: tune.trials,
    maxEpochsTotal: tune.maxEpochsTotal,
  };
  return {
    'data-preparation': data,
    'data-augmentation': augmentation,
    'se-module-design': se,
    'cnn-model-design': cnn,
    'hyperparameter-tuning': digest('hyperparameter-tuning', cnn, searched, study),
  };
}

/** The training stage's fingerprint: everything before it and the config it trains. */
export function trainingFingerprint(design: DesignFingerprints, trained: TrainConfig): string {
  return digest('model-training', design['hyperparameter-tuning'], configHash(trained));
}

export function evaluationFingerprint(training: string): string {
  return digest('evaluation', training);
}

/** Every stage's fingerprint once the trained config is known. */
export function stageFingerprint(design: DesignFingerprints, stage: StageName, trained: TrainConfig): string {
  if (stage === 'model-training') return trainingFingerprint(design, trained);
  if (stage === 'evaluation') return evaluationFingerprint(trainingFingerprint(design, trained));
  return design[stage];
}
