// Rewrites of a traced graph before it is written: BatchNorm folded into the convolution before it, and
// weights stored in half precision behind Cast nodes.
import * as torch from '../../torch/index.js';
import { decodeFloats, encodeFloats, type OnnxGraph } from './graph.js';

/** The float32 values of an initializer, or null where `name` is not a float32 initializer. */
function floatsOf(graph: OnnxGraph, name: string | undefined): Float32Array | null {
  const init = name === undefined ? undefined : graph.initializers.get(name);
  return init && init.type === 'float32' ? decodeFloats(init.bytes) : null;
}

/**
 * New values for a weight: written over the initializer `old` where only the node being changed reads it
 * (so a folded convolution keeps its state-dict names), else as a new initializer named after `hint`.
 */
function rewrite(graph: OnnxGraph, old: string | undefined, hint: string, dims: number[], values: ArrayLike<number>) {
  const init = old === undefined ? undefined : graph.initializers.get(old);
  if (init && graph.consumers(init.name).length === 1 && !graph.isGraphOutput(init.name)) {
    Object.assign(init, { type: 'float32', dims, bytes: encodeFloats(values) });
    return init.name;
  }
  return graph.addInitializer(hint, 'float32', dims, encodeFloats(values), true);
}

/**
 * Folds each BatchNormalization that reads only a Conv's output into that Conv: w' = w·s, b' = (b − μ)·s + β
 * with s = γ / √(σ² + ε), computed in float64. A BatchNormalization after anything else (pre-activation
 * blocks) stays. Returns how many were folded.
 */
export function foldBatchNorms(graph: OnnxGraph): number {
  let folded = 0;
  for (const bn of [...graph.nodes]) {
    if (bn.opType !== 'BatchNormalization') continue;
    const x = bn.inputs[0];
    const conv = graph.producer(x);
    if (conv?.opType !== 'Conv' || graph.consumers(x).length !== 1 || graph.isGraphOutput(x)) continue;
    const [weightName, biasName] = [conv.inputs[1], conv.inputs[2]];
    const weight = floatsOf(graph, weightName);
    const bias = biasName === undefined ? null : floatsOf(graph, biasName);
    const [gamma, beta, mean, variance] = bn.inputs.slice(1).map((v) => floatsOf(graph, v));
    if (!weight || (biasName !== undefined && !bias) || !gamma || !beta || !mean || !variance) continue;
    const epsilon = 'float' in bn.attributes.epsilon ? bn.attributes.epsilon.float : 1e-5;
    const channels = gamma.length;
    const perChannel = weight.length / channels;
    const scale = Array.from(gamma, (g, c) => g / Math.sqrt(variance[c] + epsilon));
    const newWeight = new Float32Array(weight.length);
    for (let c = 0; c < channels; c++) {
      for (let i = c * perChannel; i < (c + 1) * perChannel; i++) newWeight[i] = weight[i] * scale[c];
    }
    const newBias = scale.map((s, c) => ((bias ? bias[c] : 0) - mean[c]) * s + beta[c]);
    const dims = graph.initializers.get(weightName)!.dims;
    const base = weightName.replace(/\.weight$/, '');
    conv.inputs[1] = rewrite(graph, weightName, `${base}.weight`, dims, newWeight);
    conv.inputs[2] = rewrite(graph, biasName, `${base}.bias`, [channels], newBias);
    conv.outputs[0] = bn.outputs[0];
    graph.nodes.splice(graph.nodes.indexOf(bn), 1);
    folded++;
  }
  graph.pruneInitializers();
  return folded;
}

export type WeightPrecision = 'float16' | 'bfloat16';

/**
 * Stores the float32 weights as float16 or bfloat16 (rounded by libtorch, as PyTorch's `.half()`), each
 * followed by a Cast to float32: the file is about half the size and the graph still computes in float32.
 */
export function castWeights(graph: OnnxGraph, precision: WeightPrecision): void {
  const casts = [];
  for (const name of graph.weights) {
    const init = graph.initializers.get(name)!;
    if (init.type !== 'float32') continue;
    const half = torch.tidy(() => torch.handleBytes(torch.tensor(decodeFloats(init.bytes)).to(precision)._h));
    init.type = precision;
    init.bytes = half;
    const restored = graph.uniqueName(`${name}_float32`);
    for (const node of graph.nodes) node.inputs = node.inputs.map((v) => (v === name ? restored : v));
    casts.push({
      name: `/${name}/Cast`,
      opType: 'Cast',
      inputs: [name],
      outputs: [restored],
      attributes: { to: { int: 1 } },
    });
  }
  graph.nodes.unshift(...casts);
}
