// bfloat16 mixed precision: under torch.autocast every convolution and linear layer of a model really
// runs in bfloat16 (forward hooks see bfloat16 outputs) while the weights stay float32; the logits stay
// close to float32's; a training step's loss and gradients are float32 and close to float32's; a training
// run and InferenceModel work with it.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { createModel } from '../../src/models/index.js';
import { InferenceModel } from '../../src/models/inference.js';
import { resolveConfig } from '../../src/train/config.js';
import { trainRun } from '../../src/train/trainer.js';
import { tempDir } from '../data/support.js';
import { makeTinyCifar } from '../cli/support.js';

/** The dtype of every Conv2d and Linear output during fn, by module name. */
function outputDtypes(model: nn.Module, fn: () => void): Map<string, string> {
  const seen = new Map<string, string>();
  const hooks = model
    .namedModules()
    .filter(([, m]) => m instanceof nn.Conv2d || m instanceof nn.Linear)
    .map(([name, m]) =>
      m.registerForwardHook((_m, _i, out) => {
        seen.set(name, (out as Tensor).dtype);
      }),
    );
  try {
    fn();
  } finally {
    for (const h of hooks) h.remove();
  }
  return seen;
}

const relativeToScale = (a: Tensor, b: Tensor) =>
  torch.tidy(() => a.float().sub(b.float()).abs().max().item() / b.abs().max().item());

test('under autocast every convolution and linear layer runs in bfloat16, the weights stay float32, and the logits stay close', () => {
  torch.manualSeed(0);
  const model = createModel('se-resnet20');
  model.eval();
  torch.noGrad(() =>
    torch.tidy(() => {
      const x = torch.randn(8, 3, 32, 32);
      let full!: Tensor;
      let half!: Tensor;
      const fp32 = outputDtypes(model, () => {
        full = model.forward(x);
      });
      const bf16 = outputDtypes(model, () => {
        half = torch.autocast(() => model.forward(x));
      });
      assert.ok(bf16.size >= 20, `${bf16.size} conv/linear layers ran`);
      assert.deepEqual([...new Set(fp32.values())], ['float32']);
      assert.deepEqual([...new Set(bf16.values())], ['bfloat16'], 'every conv and linear output is bfloat16');
      assert.ok(
        model.parameters().every((p) => p.dtype === 'float32'),
        'the parameters are not converted',
      );
      assert.equal(half.dtype, 'bfloat16');
      const error = relativeToScale(half, full);
      assert.ok(error < 0.05, `bf16 logits within 5% of the largest logit (got ${error})`);
      assert.ok(error > 0, 'and not bit-identical: bfloat16 really was used');
      assert.equal(torch.isAutocastEnabled(), false, 'autocast is off again afterwards');
    }),
  );
  model.dispose();
});

test('a bf16 training step: float32 loss and gradients, close to the float32 step', () => {
  torch.manualSeed(1);
  const model = createModel('se-resnet20');
  model.train();
  const x = torch.randn(16, 3, 32, 32);
  const y = torch.randint(0, 10, [16]);
  const gradsOf = (mixed: boolean) =>
    torch.tidy(() => {
      model.zeroGrad();
      const forward = () => torch.F.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
      const loss = mixed ? torch.autocast(forward) : forward();
      assert.equal(loss.dtype, 'float32');
      loss.backward();
      return torch.keep({ loss: loss.item(), grad: model.parameters()[0].grad!.clone() });
    });
  const full = gradsOf(false);
  const half = gradsOf(true);
  assert.equal(half.grad.dtype, 'float32');
  assert.ok(Math.abs(half.loss - full.loss) < 0.02 * full.loss, `loss ${half.loss} vs ${full.loss}`);
  const cosine = torch.tidy(
    () =>
      half.grad.flatten().mul(full.grad.flatten()).sum().item() / (half.grad.norm().item() * full.grad.norm().item()),
  );
  // bfloat16 keeps 8 bits of mantissa: through 20 layers the first conv's gradient ends up a few degrees off
  // float32's (cosine ≈ 0.97 here; PyTorch's own bf16 gradients are matched exactly in fastnet.test.ts).
  assert.ok(cosine > 0.9 && cosine < 1, `the first conv's gradient points nearly the same way (cosine ${cosine})`);
  model.zeroGrad();
  torch.dispose([x, y, full.grad, half.grad]);
  model.dispose();
});

let work: string;
let cacheDir: string;
before(() => {
  work = tempDir({ after: (fn) => process.on('exit', fn) }, 'senet-bf16-');
  cacheDir = makeTinyCifar(join(work, 'data'));
});

test('a training run in bf16 trains and evaluates; InferenceModel in bf16 gives float32 logits close to float32 inference', async () => {
  const config = resolveConfig({
    values: { threads: 1, batchSize: 100, epochs: 2, mixedPrecision: 'bf16' },
    source: { describe: (k) => k },
  });
  const events: number[] = [];
  const result = await trainRun({
    config,
    runDir: join(work, 'run'),
    cacheDir,
    onEvent: (e) => {
      if (e.type === 'epoch') events.push(e.metrics.train_loss);
    },
  });
  assert.equal(result.status, 'completed');
  assert.ok(events[1] < events[0], `the loss falls: ${events.join(' → ')}`);
  assert.ok(result.evaluation!.accuracy > 0.1, `better than chance on the sample (${result.evaluation!.accuracy})`);

  torch.manualSeed(2);
  const a = createModel('se-resnet20');
  const b = createModel('se-resnet20');
  b.loadStateDict(a.stateDict());
  const full = new InferenceModel(a, { memoryFormat: 'contiguous' });
  const half = new InferenceModel(b, { memoryFormat: 'contiguous', mixedPrecision: 'bf16' });
  torch.tidy(() => {
    const x = torch.randn(4, 3, 32, 32);
    const logits = half.forward(x);
    assert.equal(logits.dtype, 'float32');
    const error = relativeToScale(logits, full.forward(x));
    assert.ok(error > 0 && error < 0.05, `bf16 inference within 5% (got ${error})`);
  });
  assert.throws(
    () => new InferenceModel(b, { mixedPrecision: 'fp16' as 'bf16' }),
    /mixedPrecision must be 'none' or 'bf16', got "fp16"/,
  );
  a.dispose();
  b.dispose();
});
