// A Predictor running an .onnx file (as `senet export` writes it: input `input`, output `logits`) in
// onnxruntime-node, so that the benchmark runs the same HTTP service on another engine. It lives in
// bench/ because onnxruntime-node is a dev dependency; session.run works on onnxruntime's own threads
// and resolves later, so the event loop is not blocked while a batch runs.
import type { Predictor } from '../src/export/serve/index.js';

export async function onnxPredictor(
  file: string,
  inputShape: readonly [number, number, number],
  threads: number,
): Promise<Predictor> {
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  if (!session.inputNames.includes('input') || !session.outputNames.includes('logits')) {
    throw new Error(
      `${file} has inputs [${session.inputNames}] and outputs [${session.outputNames}]; expected input 'input' ` +
        "and output 'logits' (as senet export writes them)",
    );
  }
  const [channels, height, width] = inputShape;
  return {
    engine: 'onnxruntime-node',
    details: { file, threads, version: ort.env.versions.node },
    async run(images, count) {
      const input = new ort.Tensor('float32', images, [count, channels, height, width]);
      const { logits } = await session.run({ input });
      return logits.data as Float32Array;
    },
    dispose: () => session.release(),
  };
}
