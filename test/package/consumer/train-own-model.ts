// A project that depends on senet, as test/package/pack-install.test.ts installs it from the packed tarball:
// its own SE model built from senet's torch.nn and se.SEBlock, trained on random tensors a few steps with a
// plain loop, then by senet's trainer (train.fit on a data.TensorDataset) in a run directory; its weights are
// saved, loaded into a fresh model and run through models.InferenceModel. It prints one JSON line
// (Outcome) that the test checks. Compiled by the consumer's own tsc with skipLibCheck: false.
// Usage: node train-own-model.js OUT_DIR
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { data, models, se, torch, train } from 'senet';
import { F, nn, type Tensor } from 'senet/torch';
import type { InferenceOptions, Model } from 'senet/models';

// @ts-expect-error: senet's internals (here its operator declarations) are not among its exports
export type Internals = typeof import('senet/dist/src/torch/ops/dispatch.js');

const CLASSES = 3;
const INPUT: [number, number, number] = [3, 8, 8];

/** conv → BN → ReLU → SE → global average pool → linear: a small SE classifier of the user's own. */
class TinySENet extends nn.Module {
  readonly inputShape = INPUT;
  readonly classifierName = 'fc';
  conv = new nn.Conv2d(INPUT[0], 32, 3, { padding: 1, bias: false });
  bn = new nn.BatchNorm2d(32);
  se = new se.SEBlock(32, 4);
  fc = new nn.Linear(32, CLASSES);

  forward(x: Tensor): Tensor {
    const features = this.se.call(F.relu(this.bn.call(this.conv.call(x))));
    return this.fc.call(features.mean([2, 3]));
  }
}

/** Random images labelled by their brightest channel (of CLASSES = 3): a rule a few steps can learn. */
function randomBatch(size: number): { x: Tensor; y: Tensor } {
  const x = torch.randn(size, ...INPUT);
  return { x, y: torch.tidy(() => x.mean([2, 3]).argmax(1)) };
}

/** A plain PyTorch-style loop; returns the loss of each step. */
function trainLoop(model: TinySENet, x: Tensor, y: Tensor, steps: number): number[] {
  const optimizer = new torch.optim.Adam(model.parameters(), { lr: 0.03 });
  const losses: number[] = [];
  model.train();
  for (let step = 0; step < steps; step++) {
    losses.push(
      torch.tidy(() => {
        const loss = F.crossEntropy(model.call(x), y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return loss.item();
      }),
    );
  }
  return losses;
}

/** senet's trainer over the same batch as a TensorDataset: run directory, checkpoints, metrics, evaluation. */
function trainWithFit(model: TinySENet, x: Tensor, y: Tensor, runDir: string): Promise<train.FitResult> {
  const optimizer = new torch.optim.Adam(model.parameters(), { lr: 0.03 });
  return train.fit({
    model,
    train: new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 16, shuffle: true, seed: 1 }),
    validation: new data.DataLoader(new data.TensorDataset(x, y), { batchSize: 32 }),
    loss: (output, target) => F.crossEntropy(output, target),
    optimizer,
    epochs: 10,
    runDir,
  });
}

/** The largest absolute difference between two tensors' values. */
function maxDifference(a: Tensor, b: Tensor): number {
  return torch.tidy(() => a.sub(b).abs().max().item());
}

export interface Outcome {
  /** The plain loop's loss at each step. */
  losses: number[];
  /** train.fit's final evaluation on the batch it trained on. */
  fitAccuracy: number | null;
  fitStatus: string;
  /** Whether the run directory holds fit's metrics and best checkpoint (which loads into the model). */
  runFiles: boolean;
  /** Eval-mode logits of the loaded model against the trained one's (0: the weights round-tripped). */
  loadedDifference: number;
  /** InferenceModel's logits (BatchNorm folded) against the trained model's. */
  inferenceDifference: number;
  foldedBatchNorms: number;
  /** Training-batch accuracy of InferenceModel's predictions. */
  accuracy: number;
  /** The registry's model, built by name (typed as models.ModelName). */
  registryParameters: number;
  /** What createModel says to a JavaScript caller with a wrong name. */
  unknownModelError: string;
  /** How Node answers an import of senet's internals (their error code). */
  internalsImport: string;
}

const out = process.argv[2];
if (!out) throw new Error('usage: node train-own-model.js OUT_DIR');
torch.manualSeed(0);
const { x, y } = randomBatch(32);
const losses = trainLoop(new TinySENet(), x, y, 30);

const model = new TinySENet();
const runDir = join(out, 'run');
const fitted = await trainWithFit(model, x, y, runDir);
const best = join(runDir, 'checkpoints', 'best', 'model.safetensors');
const runFiles = existsSync(join(runDir, 'metrics.jsonl')) && existsSync(best);
models.loadWeights(new TinySENet(), best); // strict: throws unless the checkpoint fits the model

const file = join(out, 'tiny-senet.safetensors');
models.saveWeights(model, file);
const loaded = new TinySENet();
models.loadWeights(loaded, file);
model.eval();
loaded.eval();
const expected = torch.noGrad(() => model.call(x));
const loadedLogits = torch.noGrad(() => loaded.call(x));

const options: InferenceOptions = { memoryFormat: 'auto', sampleBatch: 8 };
const inference = new models.InferenceModel(loaded satisfies Model, options);
const logits = inference.forward(x);
const accuracy = torch.tidy(() => logits.argmax(1).eq(y).float().mean().item());

const registryModel = models.createModel('se-resnet20', { device: 'meta' });
let unknownModelError = '';
try {
  models.createModel('se-resnet21' as models.ModelName);
} catch (error) {
  unknownModelError = (error as Error).message;
}

const internals = 'senet/dist/src/torch/ops/dispatch.js';
const internalsImport = await import(internals).then(
  () => 'imported',
  (error: NodeJS.ErrnoException) => error.code ?? error.message,
);

const outcome: Outcome = {
  losses,
  fitAccuracy: fitted.evaluation?.accuracy ?? null,
  fitStatus: fitted.status,
  runFiles,
  loadedDifference: maxDifference(loadedLogits, expected),
  inferenceDifference: maxDifference(logits, expected),
  foldedBatchNorms: inference.foldedBatchNorms,
  accuracy,
  registryParameters: registryModel.numParameters(),
  unknownModelError,
  internalsImport,
};
console.log(JSON.stringify(outcome));
