// int8 inference side by side (bench/results/int8.md): senet's float32 inference path (InferenceModel)
// and its int8 model (onednn and qnnpack engines), in this process, against PyTorch eager float32 and
// PyTorch's own int8 (FX graph-mode PTQ, bench/pytorch_int8.py, onednn), each run as shipped and with
// the malloc settings PyTorch is fastest with. Rounds alternate the engines so drift hits all alike; the
// table gives median images/s and the median of the per-round ratios to PyTorch's best float32.
// Usage: node dist/bench/int8-bench.js [--rounds 3] [--models se-resnet20,se-resnet56] [--steps 5]
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/torch/index.js';
import { createModel, modelName } from '../src/models/index.js';
import { InferenceModel } from '../src/models/inference.js';
import type { CifarResNet } from '../src/models/cifar-resnet.js';
import { Int8CifarResNet, calibrate } from '../src/models/int8-cifar-resnet.js';
import { PYTORCH_BEST_ENV } from './pytorch-best-env.js';
import { median } from '../src/util/statistics.js';
import { arg } from './args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const rounds = Number(arg('rounds', '3'));
const models = arg('models', 'se-resnet20,se-resnet56').split(',');
const steps = Number(arg('steps', '5'));
const BATCH = 128;
torch.setNumThreads(2);

function rate(forward: () => void): number {
  for (let i = 0; i < 2; i++) forward();
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) forward();
  return (BATCH * steps) / (Number(process.hrtime.bigint() - start) / 1e9);
}

function senetRates(name: string): Record<string, number> {
  torch.manualSeed(0);
  const float = createModel(modelName(name)) as CifarResNet;
  // A fresh model starts each block's last BatchNorm at zero (its branch silent), which no trained model
  // has and which qnnpack's add refuses (input/output scale ratio): give every BN scale 1.
  torch.noGrad(() => {
    for (const m of float.modules()) if (m instanceof torch.nn.BatchNorm2d) m.weight?.fill_(1);
  });
  const copy = createModel(modelName(name)) as CifarResNet;
  copy.loadStateDict(float.stateDict());
  float.eval();
  copy.eval();
  const x = torch.keep(torch.randn(BATCH, 3, 32, 32));
  const out: Record<string, number> = {};
  for (const engine of ['onednn', 'qnnpack']) {
    torch.quantization.setEngine(engine);
    const again = createModel(modelName(name)) as CifarResNet;
    again.loadStateDict(copy.stateDict());
    again.eval();
    const int8 = new Int8CifarResNet(again);
    again.dispose();
    calibrate(int8, [x]);
    int8.convert();
    out[`senet int8 ${engine}`] = rate(() => torch.noGrad(() => torch.tidy(() => void int8.call(x))));
    int8.dispose();
  }
  const fast = new InferenceModel(float, { sampleBatch: BATCH });
  out['senet float32'] = rate(() => fast.forward(x).dispose());
  torch.dispose(x);
  float.dispose();
  copy.dispose();
  return out;
}

function pytorchRates(name: string, env: Record<string, string>, label: string): Record<string, number> {
  const script = join(ROOT, 'bench', 'pytorch_int8.py');
  const stdout = execFileSync('/usr/bin/python3', [script, name, '--steps', String(steps), '--calibration', '128'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!);
  return { [`PyTorch float32${label}`]: r.infer_img_s, [`PyTorch FX int8${label}`]: r.infer_int8_img_s };
}

if (!existsSync(resolve(ROOT, 'bench', 'pytorch_int8.py'))) throw new Error('bench/pytorch_int8.py is missing');
console.log(`int8 inference, batch ${BATCH}, 32×32, 2 threads, ${rounds} alternating rounds, ${steps} timed steps`);
for (const name of models) {
  const runs: Record<string, number>[] = [];
  for (let r = 0; r < rounds; r++) {
    const row = {
      ...senetRates(name),
      ...pytorchRates(name, {}, ''),
      ...pytorchRates(name, PYTORCH_BEST_ENV, ' (best env)'),
    };
    console.error(JSON.stringify({ model: name, round: r, ...row }));
    runs.push(row);
  }
  console.log(`\n${name}\n\n| engine | images/s (median) | ÷ PyTorch float32, best env (median of ratios) |`);
  console.log('| --- | ---: | ---: |');
  for (const key of Object.keys(runs[0])) {
    const ratio = median(runs.map((r) => r[key] / r['PyTorch float32 (best env)']));
    console.log(`| ${key} | ${median(runs.map((r) => r[key])).toFixed(1)} | ${ratio.toFixed(2)}× |`);
  }
}
