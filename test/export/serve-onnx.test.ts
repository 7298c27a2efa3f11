// The service with another engine behind it: the onnxruntime-node predictor of the load benchmark
// (bench/onnx-predictor.ts) running the model as `senet export` writes it answers `senet predict`'s top-k.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportOnnx } from '../../src/export/onnx/index.js';
import { createService, servedModelOf } from '../../src/export/serve/index.js';
import { loadTrainedModel } from '../../src/train/trained-model.js';
import { predictFiles } from '../../src/train/predict.js';
import { onnxPredictor } from '../../bench/onnx-predictor.js';
import { tempDir } from '../data/support.js';
import { imageBody, send, writeImages, writeWeights } from './serve-support.js';

test("an onnxruntime-node predictor behind the same service answers `senet predict`'s top-k", async () => {
  const dir = tempDir({ after }, 'senet-serve-onnx-');
  const weights = writeWeights(dir);
  const images = await writeImages(dir);
  const onnx = join(dir, 'model.onnx');
  exportOnnx({ weights, output: onnx });
  const trained = loadTrainedModel({ weights });
  const expected = await predictFiles(trained, [images.png], 4);
  const model = servedModelOf(trained);
  trained.model.dispose();
  const service = await createService({ model, predictor: await onnxPredictor(onnx, model.inputShape, 1) });
  try {
    const url = await service.listen(0, '127.0.0.1');
    const { status, body } = await send(`${url}/predict?k=4`, imageBody(readFileSync(images.png), 'image/png'));
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(
      body.top.map((t: { index: number }) => t.index),
      expected[0].top.map((t) => t.index),
    );
    body.top.forEach((t: { probability: number }, i: number) =>
      assert.ok(Math.abs(t.probability - expected[0].top[i].probability) < 1e-5),
    );
    assert.equal((await send(`${url}/model`)).body.engine, 'onnxruntime-node');
  } finally {
    await service.close();
  }
});
