// libtorch's quantized operators through senet (src/torch/quantization): with fixed quantization parameters
// every kernel must return exactly PyTorch's integers, on both engines (test/fixtures/quantized.json, made
// by scripts/fixtures/make_quantized.py); the observers must compute PyTorch's qparams; the int8 layers
// must follow their float32 calibration forward; packed weights are checked objects, not raw pointers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { nn, type Tensor } from '../../src/torch/index.js';
import { callOp } from '../../src/torch/ops/dispatch.js';
import { fromFixture, loadFixture, type FixtureTensor } from '../helpers.js';

const q = torch.quantization;

interface EngineCase {
  [key: string]: FixtureTensor | number;
}
interface Fixture {
  engines: Record<string, EngineCase>;
  observers: { x: FixtureTensor; scale: number; zeroPoint: number }[];
}
const fixture = loadFixture<Fixture>('quantized');

function sameInts(actual: Tensor, expected: FixtureTensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const got = Array.from(actual.to('int32').data() as Int32Array);
  const mismatches = got.filter((v, i) => v !== expected.data[i]).length;
  assert.equal(mismatches, 0, `${what}: ${mismatches} of ${got.length} integers differ from PyTorch's`);
}

for (const [engine, c] of Object.entries(fixture.engines)) {
  const f = (key: string) => fromFixture(c[key] as FixtureTensor);
  test(`quantized kernels on ${engine} give PyTorch's integers exactly`, () => {
    q.setEngine(engine);
    torch.tidy(() => {
      const qx = q.quantizePerTensor(f('x'), c.xScale as number, c.xZeroPoint as number, 'quint8');
      sameInts(q.intRepr(qx), c.qx as FixtureTensor, 'quantize_per_tensor');
      assert.equal(q.qScale(qx), 0.03);
      assert.equal(q.qZeroPoint(qx), 120);

      const w = f('convWeight');
      const scales = q.weightScales(w);
      assert.deepEqual(
        Array.from(scales.data() as Float64Array),
        (c.convWeightScales as FixtureTensor).data,
        'weight scales',
      );
      const zeros = torch.zeros([4], { dtype: 'int64' });
      const packed = q.conv2dPrepack(
        q.quantizePerChannel(w, scales, zeros, 0, 'qint8'),
        f('convBias'),
        [2, 2],
        [1, 1],
        [1, 1],
        1,
      );
      sameInts(q.intRepr(q.conv2d(qx, packed, 0.05, 110)), c.conv as FixtureTensor, 'conv2d');
      sameInts(q.intRepr(q.conv2d(qx, packed, 0.04, 0, true)), c.convRelu as FixtureTensor, 'conv2d_relu');

      const lw = f('linearWeight');
      const lscales = q.weightScales(lw);
      assert.deepEqual(Array.from(lscales.data() as Float64Array), (c.linearWeightScales as FixtureTensor).data);
      const lq = q.quantizePerChannel(lw, lscales, torch.zeros([5], { dtype: 'int64' }), 0, 'qint8');
      const lpacked = q.linearPrepack(lq, f('linearBias'));
      const qlx = q.quantizePerTensor(f('linearX'), 0.025, 128, 'quint8');
      sameInts(q.intRepr(q.linear(qlx, lpacked, 0.06, 125)), c.linear as FixtureTensor, 'linear');
      sameInts(q.intRepr(q.linear(qlx, lpacked, 0.03, 0, true)), c.linearRelu as FixtureTensor, 'linear_relu');

      const other = q.quantizePerTensor(f('other'), 0.02, 130, 'quint8');
      sameInts(q.intRepr(q.add(qx, other, 0.06, 100)), c.add as FixtureTensor, 'add');
      sameInts(q.intRepr(q.add(qx, other, 0.03, 0, true)), c.addRelu as FixtureTensor, 'add_relu');
      const gate = q.quantizePerTensor(f('gate'), 1 / 256, 0, 'quint8');
      sameInts(q.intRepr(q.mul(qx, gate, 0.02, 125)), c.mul as FixtureTensor, 'mul (SE gate broadcast)');
    });
  });
}

test("the activation observer computes PyTorch's MinMaxObserver qparams", () => {
  for (const c of fixture.observers) {
    const observer = new q.MinMaxObserver();
    torch.tidy(() => observer.observe(fromFixture(c.x)));
    assert.deepEqual(observer.qparams(), { scale: c.scale, zeroPoint: c.zeroPoint });
  }
  assert.throws(() => new q.MinMaxObserver().qparams(), /saw no calibration data/);
  assert.throws(() => q.affineQParams(0, Number.NaN), /finite inputs/);
});

test('int8 layers follow their float32 calibration forward within a quantization step', () => {
  q.setEngine('onednn');
  torch.manualSeed(1);
  torch.tidy(() => {
    const conv = new nn.Conv2d(3, 8, 3, { padding: 1 });
    const linear = new nn.Linear(8, 4);
    const quant = new q.Quantize();
    const qconv = new q.QuantizedConv2d(conv, true);
    const qlinear = new q.QuantizedLinear(linear);
    const x = torch.randn(4, 3, 8, 8);
    const float = torch.noGrad(() => qlinear.call(qconv.call(quant.call(x)).mean([2, 3])));
    for (const layer of [quant, qconv, qlinear]) layer.convert();
    const int8 = torch.noGrad(() => q.dequantize(qlinear.call(qconv.call(quant.call(x)).mean([2, 3]))));
    const step = qlinear.output!.scale;
    const worst = float.sub(int8).abs().max().item();
    assert.ok(worst < 4 * step, `int8 differs from float32 by ${worst} (output step ${step})`);
    // Saved weights restore the same layer.
    const again = new q.QuantizedConv2d(conv, true);
    again.convert(qconv.output!, qconv.int8Weight());
    const qx = quant.call(x);
    sameIntsOf(q.intRepr(again.call(qx)), q.intRepr(qconv.call(qx)));
    for (const m of [qconv, qlinear, again, conv, linear]) m.dispose();
  });
});

function sameIntsOf(a: Tensor, b: Tensor): void {
  assert.deepEqual(Array.from(a.to('int32').data() as Int32Array), Array.from(b.to('int32').data() as Int32Array));
}

test('packed weights are checked objects: the wrong class, a tensor, or the wrong engine is refused by name', () => {
  q.setEngine('onednn');
  torch.tidy(() => {
    const lw = q.quantizePerChannel(
      torch.randn(4, 3),
      q.weightScales(torch.ones(4, 3)),
      torch.zeros([4], { dtype: 'int64' }),
      0,
      'qint8',
    );
    const linearPacked = q.linearPrepack(lw, null);
    const qx = q.quantizePerTensor(torch.randn(1, 3, 4, 4), 0.1, 128, 'quint8');
    assert.throws(
      () => callOp('quantized::conv2d.new', qx, linearPacked._h, 0.1, 0),
      /argument 'packed_weight' expects an object of class __torch__\.torch\.classes\.quantized\.Conv2dPackedParamsBase, got an object of class .*LinearPackedParamsBase/,
    );
    assert.throws(
      () => callOp('quantized::linear', qx, qx, 0.1, 0),
      /argument 'W_prepack' expects an object of class .*, got a tensor/,
    );
    assert.throws(
      () => callOp('quantized::linear', linearPacked._h, linearPacked._h, 0.1, 0),
      /argument 'X' expects a tensor/,
    );
    q.setEngine('qnnpack');
    try {
      assert.throws(() => q.linear(qx, linearPacked, 0.1, 0), /packed for the 'onednn' engine, but 'qnnpack' is on/);
    } finally {
      q.setEngine('onednn');
    }
    assert.throws(() => q.setEngine('fbgemm'), /quantized engine 'fbgemm' is not in this libtorch: use one of/);
    assert.throws(
      () => q.quantizePerTensor(torch.ones(2), 0.1, 0, 'int8' as never),
      /dtype must be one of qint8, quint8, qint32/,
    );
  });
});
