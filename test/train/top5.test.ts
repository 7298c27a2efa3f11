// Top-5 accuracy: hits counted by hand on a small example, and evaluate() reporting it only for more
// than five classes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/torch/index.js';
import { makeDataset } from '../../src/data/index.js';
import { topKHits } from '../../src/train/metrics.js';
import { evaluateDataset } from '../../src/train/evaluate.js';

// Seven classes. By hand:
//  row 0, label 4: order 1 (0.9), 5 (0.8), 3 (0.5), 2 (0.3), 4 (0.2): 5th place, a top-5 hit, a top-1 miss;
//  row 1, label 5: 6th place (only class 6 is lower): a miss;
//  row 2, label 0: first place: a hit;
//  row 3, label 6: order 6, 0, ... first place: a hit.
const LOGITS = [
  [0.1, 0.9, 0.3, 0.5, 0.2, 0.8, 0.05],
  [5, 4, 3, 2, 1, 0, -1],
  [5, 4, 3, 2, 1, 0, -1],
  [0.7, 0.1, 0.2, 0.3, 0.4, 0.5, 0.9],
];
const LABELS = [4, 5, 0, 6];

test('topKHits counts the rows whose label is among the k highest logits', () => {
  torch.tidy(() => {
    const logits = torch.tensor(LOGITS);
    const labels = torch.tensor(LABELS).to('int64');
    assert.equal(topKHits(logits, labels, 5), 3);
    assert.equal(topKHits(logits, labels, 1), 2);
    assert.equal(topKHits(logits, labels, 7), 4);
    assert.throws(() => topKHits(logits, labels, 8), /k must be an integer in 1\.\.7/);
  });
});

class PixelsAsLogits extends torch.nn.Module {
  constructor(private readonly classes: number) {
    super();
  }
  forward(x: torch.Tensor): torch.Tensor {
    return x.reshape(x.size(0), this.classes);
  }
}

test('evaluate reports top-5 accuracy for more than five classes, null for five or fewer', async () => {
  // Logits scaled into 0..255 pixels (order kept), read back by the "model".
  const pixels = LOGITS.flatMap((row) => row.map((v) => Math.round(((v + 1) / 6) * 255)));
  const seven = makeDataset({
    name: 'seven',
    images: Uint8Array.from(pixels),
    labels: Int32Array.from(LABELS),
    classes: ['a', 'b', 'c', 'd', 'e', 'f', 'g'],
    channels: 7,
    height: 1,
    width: 1,
  });
  const result = await evaluateDataset(new PixelsAsLogits(7) as never, seven, {
    batchSize: 3,
    transform: { augment: 'none' },
  });
  assert.equal(result.top5, 3 / 4);
  assert.equal(result.accuracy, 2 / 4);
  assert.deepEqual(result.perClass, [1, null, null, null, 0, 0, 1]);

  const five = makeDataset({
    name: 'five',
    images: Uint8Array.from([9, 1, 2, 3, 4]),
    labels: Int32Array.from([0]),
    classes: ['a', 'b', 'c', 'd', 'e'],
    channels: 5,
    height: 1,
    width: 1,
  });
  assert.equal(
    (await evaluateDataset(new PixelsAsLogits(5) as never, five, { batchSize: 1, transform: { augment: 'none' } }))
      .top5,
    null,
  );
});
