import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { makeDataset } from '../../src/data/index.js';
import { ConfusionMatrix, accuracy, confusionCounts, summarizeConfusion, topK } from '../../src/train/metrics.js';
import { evaluateDataset } from '../../src/train/evaluate.js';

// Six samples, three classes. Arg-max of each row: 0, 1, 2, 1, 0, 2.
const LOGITS = [
  [2.0, 0.1, -1.0],
  [0.0, 3.0, 1.0],
  [0.5, 0.2, 0.9],
  [1.0, 1.5, -0.5],
  [4.0, 0.0, 0.0],
  [-1.0, -2.0, 0.0],
];
const LABELS = [0, 1, 1, 1, 2, 2];
// By hand: (true, predicted) = (0,0) (1,1) (1,2) (1,1) (2,0) (2,2).
const CONFUSION = [
  [1, 0, 0],
  [0, 2, 1],
  [1, 0, 1],
];

test('confusion counts and accuracy match the hand count', () => {
  torch.tidy(() => {
    const logits = torch.tensor(LOGITS);
    const labels = torch.tensor(LABELS).to('int64');
    assert.deepEqual(confusionCounts(logits, labels, 3).toArray(), CONFUSION);
    assert.equal(accuracy(logits, labels), 4 / 6);
  });
});

test('the summary: accuracy = trace / total, per class = diagonal / row, null for an absent class', () => {
  const s = summarizeConfusion(CONFUSION);
  assert.equal(s.count, 6);
  assert.equal(s.accuracy, 4 / 6);
  assert.deepEqual(s.perClass, [1, 2 / 3, 1 / 2]);
  const withEmpty = summarizeConfusion([
    [2, 0],
    [0, 0],
  ]);
  assert.deepEqual(withEmpty.perClass, [1, null]);
  assert.equal(
    summarizeConfusion([
      [0, 0],
      [0, 0],
    ]).accuracy,
    0,
  );
  assert.throws(() => summarizeConfusion([[1, 2]]), /expected a square matrix/);
});

test('ConfusionMatrix accumulates batches in libtorch and frees its tensor', () => {
  const before = torch.memory().tensors;
  const m = new ConfusionMatrix(3);
  torch.tidy(() => {
    const logits = torch.tensor(LOGITS);
    const labels = torch.tensor(LABELS).to('int64');
    m.update(logits.narrow(0, 0, 4), labels.narrow(0, 0, 4));
    m.update(logits.narrow(0, 4, 2), labels.narrow(0, 4, 2));
  });
  assert.deepEqual(m.matrix(), CONFUSION);
  assert.equal(m.summary().accuracy, 4 / 6);
  m.dispose();
  assert.equal(torch.memory().tensors, before);
  assert.throws(() => m.matrix(), /used after dispose/);
});

test('bad inputs name what was expected', () => {
  torch.tidy(() => {
    const logits = torch.tensor(LOGITS);
    assert.throws(
      () => confusionCounts(logits, torch.tensor([0, 1, 7, 1, 2, 2]).to('int64'), 3),
      /labels must be in 0\.\.2, got values from 0 to 7/,
    );
    assert.throws(
      () => confusionCounts(logits, torch.tensor(LABELS).to('int64'), 4),
      /expected logits of shape \[N, 4\], got \[6, 3\]/,
    );
    assert.throws(() => confusionCounts(logits, torch.tensor([0, 1]).to('int64'), 3), /expected 6 integer labels/);
    assert.throws(
      () => confusionCounts(logits, torch.tensor(LABELS).to('float32'), 3),
      /expected 6 integer labels .*got float32/,
    );
  });
});

test('topK: classes by softmax probability, most probable first', () => {
  torch.tidy(() => {
    const { indices, probabilities } = topK(torch.tensor(LOGITS), 2);
    LOGITS.forEach((row, i) => {
      // Softmax by hand in float64.
      const exps = row.map(Math.exp);
      const total = exps.reduce((a, b) => a + b, 0);
      const order = row.map((_, c) => c).sort((a, b) => row[b] - row[a]);
      assert.deepEqual(indices[i], order.slice(0, 2));
      probabilities[i].forEach((p, j) => assert.ok(Math.abs(p - exps[order[j]] / total) < 1e-6, `row ${i}`));
    });
    assert.throws(() => topK(torch.tensor(LOGITS), 4), /k must be an integer in 1\.\.3/);
  });
});

test('evaluate: mean cross-entropy, accuracy and confusion of a fixed classifier, in eval mode', async () => {
  // A "model" that reads its logits straight from the image's first three pixels (pixels are [0, 1] after toFloat).
  const images = new Uint8Array(LOGITS.length * 3);
  const scaled = LOGITS.map((row) => row.map((v) => Math.round((v + 2) * 40))); // 0..255, order preserved
  scaled.forEach((row, i) => images.set(row, i * 3));
  const dataset = makeDataset({
    name: 'fixed',
    images,
    labels: Int32Array.from(LABELS),
    classes: ['a', 'b', 'c'],
    channels: 3,
    height: 1,
    width: 1,
  });
  class PixelsAsLogits extends torch.nn.Module {
    seenTraining: boolean[] = [];
    forward(x: torch.Tensor): torch.Tensor {
      this.seenTraining.push(this.training);
      return x.reshape(x.size(0), 3).mul(10);
    }
  }
  const model = new PixelsAsLogits();
  const result = await evaluateDataset(model as never, dataset, { batchSize: 4, transform: { augment: 'none' } });
  assert.deepEqual(result.confusion, CONFUSION);
  assert.equal(result.accuracy, 4 / 6);
  assert.deepEqual(result.classes, ['a', 'b', 'c']);
  assert.equal(result.count, 6);
  // The loss by hand: logits = 10 · round((v + 2) · 40) / 255, cross-entropy averaged over the six samples.
  let total = 0;
  scaled.forEach((row, i) => {
    const z = row.map((p) => (10 * p) / 255);
    const logSum = Math.log(z.reduce((a, v) => a + Math.exp(v), 0));
    total += logSum - z[LABELS[i]];
  });
  assert.ok(Math.abs(result.loss - total / 6) < 1e-5, `loss ${result.loss} vs ${total / 6}`);
  assert.deepEqual(model.seenTraining, [false, false]); // two batches, both in eval mode
  assert.equal(model.training, true); // mode restored
});
