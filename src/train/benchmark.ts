// Synthetic throughput of a model: the same workload as ../shared/reference/pytorch_bench.py (random
// inputs, an SGD step with momentum on cross-entropy, then no-grad inference), so the two engines can be
// compared side by side. Results use that script's JSON keys.
import * as torch from '../torch/index.js';
import { createModel, modelName } from '../models/index.js';
import { InferenceModel } from '../models/inference.js';
import { CifarResNet } from '../models/cifar-resnet.js';
import { Int8CifarResNet, calibrate } from '../models/int8-cifar-resnet.js';

export interface BenchmarkOptions {
  batch?: number;
  /** Input height and width (default 32; 224 for ImageNet models). */
  size?: number;
  threads?: number;
  /** Timed steps after two warm-up steps (pytorch_bench.py's default is 5). */
  steps?: number;
  /** Memory format of the inputs and weights ('contiguous' = NCHW, as PyTorch's default). */
  memoryFormat?: torch.MemoryFormat;
  /**
   * Time the int8 path instead (infer_img_s; the float32 one moves to infer_float32_img_s): the model
   * quantized on its engine after calibrating on two random batches (CIFAR (SE-)ResNets only).
   */
  int8?: boolean;
  /** The quantized engine for int8 (default onednn). */
  engine?: string;
}

export interface BenchmarkResult {
  engine: 'senet';
  torch: string;
  model: string;
  batch: number;
  size: number;
  threads: number;
  train_img_s: number;
  /** senet's inference path: BatchNorm folded, no autograd, the faster memory format (InferenceModel). */
  infer_img_s: number;
  /** Plain eval-mode forward under noGrad, as PyTorch eager's inference is measured. */
  infer_eager_img_s: number;
  infer_memory_format: string;
  /** The inference path under CPU bfloat16 autocast (different numerics: an option, not the default). */
  infer_bf16_img_s: number;
  /** With int8: the quantized engine, and the float32 inference path's rate (infer_img_s is int8's). */
  int8_engine?: string;
  infer_float32_img_s?: number;
}

/** The int8 model of `model` (a copy: the float model is left as it is), calibrated on random batches. */
function int8Copy(name: string, model: torch.nn.Module, size: number, batch: number): Int8CifarResNet {
  const copy = createModel(modelName(name), { inputSize: size }) as CifarResNet;
  copy.loadStateDict(model.stateDict());
  // A fresh model starts each block's last BatchNorm at zero (its branch silent), which no trained model
  // has and which qnnpack's add refuses (input/output scale ratio): the timed copy has every BN scale 1.
  torch.noGrad(() => {
    for (const m of copy.modules()) if (m instanceof torch.nn.BatchNorm2d) m.weight?.fill_(1);
  });
  copy.eval();
  const int8 = new Int8CifarResNet(copy);
  copy.dispose();
  const batches = [torch.randn(batch, 3, size, size), torch.randn(batch, 3, size, size)];
  calibrate(int8, batches);
  torch.dispose(batches);
  int8.convert();
  return int8;
}

function timeSteps(steps: number, step: () => void): number {
  for (let i = 0; i < 2; i++) step();
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) step();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export function benchmarkModel(name: string, options: BenchmarkOptions = {}): BenchmarkResult {
  const batch = options.batch ?? 128;
  const size = options.size ?? 32;
  const threads = options.threads ?? 2;
  const steps = options.steps ?? 5;
  torch.setNumThreads(threads);
  torch.manualSeed(0);
  const model = createModel(modelName(name), { inputSize: size });
  if (options.int8 && !(model instanceof CifarResNet)) {
    model.dispose();
    throw new Error(`senet bench --int8 covers the CIFAR ResNets and SE-ResNets (se-resnet20, ...), not ${name}`);
  }
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = torch.keep(torch.randn(batch, 3, size, size));
  const y = torch.keep(torch.randint(0, 10, [batch]));
  try {
    model.train();
    const trainSeconds = timeSteps(steps, () =>
      torch.tidy(() => {
        optimizer.zeroGrad();
        torch.F.crossEntropy(model.call(x), y).backward();
        optimizer.step();
      }),
    );
    model.eval();
    let int8Seconds = 0;
    if (options.int8) {
      torch.quantization.setEngine(options.engine ?? 'onednn');
      const int8 = int8Copy(name, model, size, batch);
      try {
        int8Seconds = torch.noGrad(() => timeSteps(steps, () => torch.tidy(() => void int8.call(x))));
      } finally {
        int8.dispose();
      }
    }
    const eagerSeconds = torch.noGrad(() =>
      timeSteps(steps, () =>
        torch.tidy(() => {
          model.call(x);
        }),
      ),
    );
    const fast = new InferenceModel(model, { sampleBatch: batch });
    const inferSeconds = timeSteps(steps, () => fast.forward(x).dispose());
    const bf16 = new InferenceModel(model, { sampleBatch: batch, mixedPrecision: 'bf16', foldBatchNorm: false });
    const bf16Seconds = timeSteps(steps, () => bf16.forward(x).dispose());
    const rate = (seconds: number) => Math.round(((batch * steps) / seconds) * 10) / 10;
    return {
      engine: 'senet',
      torch: torch.buildInfo().torchVersion,
      model: name,
      batch,
      size,
      threads,
      train_img_s: rate(trainSeconds),
      infer_img_s: rate(options.int8 ? int8Seconds : inferSeconds),
      infer_eager_img_s: rate(eagerSeconds),
      infer_memory_format: fast.memoryFormat,
      infer_bf16_img_s: rate(bf16Seconds),
      ...(options.int8 ? { int8_engine: torch.quantization.engine(), infer_float32_img_s: rate(inferSeconds) } : {}),
    };
  } finally {
    optimizer.dispose();
    model.dispose();
    torch.dispose([x, y]);
  }
}
