// The SE paper's "role of excitation" study (Hu et al., §7.2, Fig. 6-7) on a trained run: test images go
// through the model, and for the last SE unit of each stage the gate of every channel is averaged per
// class. The paper finds early units class-agnostic (every class's profile alike: they recalibrate
// generic features) and late units class-specific (profiles apart). One number per unit summarises it:
//   class-specificity = mean over channels c of the standard deviation across classes k of mean_k[c]
// (population std, over the classes that have images): 0 when every class gets the same gates.
import * as torch from '../torch/index.js';
import type { nn } from '../torch/index.js';
import { DataLoader, subsetOf, type ImageDataset, type TransformConfig } from '../data/index.js';
import { excitationUnits, probeExcitation, type ExcitationUnit } from '../se/probe.js';

export interface UnitExcitation {
  /** The unit's dotted name in the model ('layer3.2.se', 'se1'). */
  name: string;
  channels: number;
  /** perClass[k][c]: channel c's mean gate over the analysed images of class k; null for a class with none. */
  perClass: (number[] | null)[];
  /** overall[c]: channel c's mean gate over all analysed images. */
  overall: number[];
  classSpecificity: number;
}

export interface ExcitationAnalysis {
  classes: string[];
  /** Images analysed, and how many of each class. */
  images: number;
  imagesPerClass: number[];
  units: UnitExcitation[];
}

type Classifier = nn.Module & { forward(x: torch.Tensor): torch.Tensor };

/**
 * The units to study: the last SE unit of each stage, a stage being the model's top-level child that
 * holds it (CIFAR ResNets: layer1..3 → 'layerN.<last>.se'; SimpleCNN: 'se1').
 */
export function lastUnitPerStage(model: nn.Module): [string, ExcitationUnit][] {
  const byStage = new Map<string, [string, ExcitationUnit]>();
  for (const entry of excitationUnits(model)) byStage.set(entry[0].split('.')[0], entry);
  return [...byStage.values()];
}

/**
 * Up to `max` image indices with the classes as evenly represented as the data allows (class by class in
 * turn, each class's images in dataset order), sorted. Image folders list their test images class after
 * class, so the first `max` images would miss most classes.
 */
export function balancedSubset(labels: Int32Array, numClasses: number, max: number): number[] {
  if (max >= labels.length) return Array.from(labels, (_, i) => i);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((label, i) => byClass[label].push(i));
  const picked: number[] = [];
  for (let round = 0; picked.length < max; round++) {
    for (const members of byClass) {
      if (round < members.length && picked.length < max) picked.push(members[round]);
    }
  }
  return picked.sort((a, b) => a - b);
}

export interface AnalyseExcitationOptions {
  /** How test images become model input: the run's normalisation (augmentation is never applied). */
  transform: TransformConfig;
  /** Analyse at most this many images, balanced across classes (default: all). */
  maxImages?: number;
  batchSize?: number;
  /** The units to probe (default: lastUnitPerStage(model)). */
  units?: [string, ExcitationUnit][];
  onBatch?: (done: number, total: number) => void;
}

/** Per-class mean excitations of the chosen SE units over (a balanced part of) `dataset`. */
export async function analyseExcitation(
  model: Classifier,
  dataset: ImageDataset,
  options: AnalyseExcitationOptions,
): Promise<ExcitationAnalysis> {
  const units = options.units ?? lastUnitPerStage(model);
  if (units.length === 0)
    throw new Error('SE analysis: the model has no SE unit to probe (SEBlock, SqueezeExcite or ECA)');
  const maxImages = options.maxImages ?? dataset.length;
  if (!Number.isInteger(maxImages) || maxImages < 1)
    throw new Error(`SE analysis: maxImages must be a positive integer, got ${maxImages}`);
  const numClasses = dataset.classes.length;
  const data = subsetOf(dataset, balancedSubset(dataset.labels, numClasses, maxImages));

  // sums[u][k * C + c]: the sum of unit u's gate for channel c over the images of class k (float64).
  const sums: Float64Array[] = [];
  const channelsOf: number[] = [];
  let labels: ArrayLike<number> = [];
  const handles = units.map(([name, unit], u) =>
    probeExcitation(unit, ({ batch, channels, values }) => {
      if (!sums[u]) {
        sums[u] = new Float64Array(numClasses * channels);
        channelsOf[u] = channels;
      }
      if (batch !== labels.length)
        throw new Error(`SE analysis: ${name} saw ${batch} images in a batch of ${labels.length}`);
      const sum = sums[u];
      for (let i = 0; i < batch; i++) {
        const row = labels[i] * channels;
        for (let c = 0; c < channels; c++) sum[row + c] += values[i * channels + c];
      }
    }),
  );

  const loader = new DataLoader(data, {
    batchSize: options.batchSize ?? 200,
    transform: { ...options.transform, augment: 'none' },
  });
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    let done = 0;
    for await (const batch of loader.epoch(0)) {
      try {
        labels = Array.from(batch.y.data() as BigInt64Array, Number);
        torch.noGrad(() =>
          torch.tidy(() => {
            model.call(batch.x);
          }),
        );
      } finally {
        torch.dispose(batch);
      }
      options.onBatch?.(++done, loader.length);
    }
  } finally {
    for (const h of handles) h.remove();
    for (const [m, training] of modes) m.training = training;
    loader.dispose();
  }

  const imagesPerClass = new Array<number>(numClasses).fill(0);
  for (const label of data.labels) imagesPerClass[label]++;
  return {
    classes: [...dataset.classes],
    images: data.length,
    imagesPerClass,
    units: units.map(([name], u) => {
      // A unit on a path the forward never takes (e.g. an SE placement the block does not use).
      if (!sums[u]) throw new Error(`SE analysis: ${name} was never called by the model's forward`);
      return unitStatistics(name, sums[u], channelsOf[u], imagesPerClass);
    }),
  };
}

/** Means per class and overall, and the class-specificity, from the per-class sums of one unit. */
export function unitStatistics(
  name: string,
  sums: Float64Array,
  channels: number,
  imagesPerClass: readonly number[],
): UnitExcitation {
  const perClass = imagesPerClass.map((n, k) =>
    n === 0 ? null : Array.from({ length: channels }, (_, c) => sums[k * channels + c] / n),
  );
  const total = imagesPerClass.reduce((a, b) => a + b, 0);
  const overall = Array.from(
    { length: channels },
    (_, c) => imagesPerClass.reduce((s, _n, k) => s + sums[k * channels + c], 0) / total,
  );
  const present = perClass.filter((m): m is number[] => m !== null);
  let specificity = 0;
  for (let c = 0; c < channels; c++) {
    const mean = present.reduce((s, m) => s + m[c], 0) / present.length;
    specificity += Math.sqrt(present.reduce((s, m) => s + (m[c] - mean) ** 2, 0) / present.length);
  }
  return { name, channels, perClass, overall, classSpecificity: specificity / channels };
}
