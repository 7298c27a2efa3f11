// A model's size and cost, measured on its real graph: one forward pass of zeros (batch 1, no grad,
// eval mode) with forward hooks on every leaf module records each layer's output shape, parameters and
// multiply-accumulates in the order they ran.
//
// What is counted as MACs (one multiply-accumulate = 2 FLOPs), as ptflops/fvcore do:
//   convolution: output elements × (input channels / groups) × kernel elements
//   linear:      output elements × input features (in × out per row)
// Biases, BatchNorm, activations, pooling, the residual additions and SE's channel rescaling are
// elementwise and not counted. SE's excitation layers are Linear or Conv modules, so they are counted.
import { nn, noGrad, tidy, zeros, type Tensor } from '../torch/index.js';
import type { Layer } from '../se/index.js';

export interface LayerSummary {
  /** Dotted module name, as in the state dict (e.g. 'layer1.0.se.fc1'). */
  name: string;
  /** The module's class (Conv2d, BatchNorm2d, Linear, ...). */
  type: string;
  /** Output shape for one image (without the batch dimension). */
  outputShape: number[];
  /** Parameters of this module. */
  params: number;
  /** Multiply-accumulates of this call, for one image. */
  macs: number;
}

export interface ModelSummary {
  /** All parameters of the model. */
  params: number;
  /** All counted multiply-accumulates of one forward pass, for one image. */
  macs: number;
  layers: LayerSummary[];
}

function macsOf(module: nn.Module, output: Tensor): number {
  if (module instanceof nn.ConvNd) {
    const kernel = module.kernelSize.reduce((a, b) => a * b, 1);
    return output.numel() * (module.inChannels / module.groups) * kernel;
  }
  if (module instanceof nn.Linear) return output.numel() * module.inFeatures;
  return 0;
}

/**
 * Runs `model` once on zeros of shape [1, ...inputShape] and returns its parameter count, MACs and
 * per-layer breakdown. The model's train/eval flags are restored afterwards and nothing is updated
 * (eval mode: BatchNorm's running statistics stay as they are).
 */
export function summarizeModel(model: Layer, inputShape: readonly number[]): ModelSummary {
  if (!Array.isArray(inputShape) || inputShape.length === 0 || inputShape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new TypeError(
      `summarizeModel: inputShape must be a list of positive integers such as [3, 32, 32], got ${JSON.stringify(inputShape)}`,
    );
  }
  const layers: LayerSummary[] = [];
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  const hooks = leaves.map(([name, module]) =>
    module.registerForwardHook((m, _inputs, output) => {
      const out = output as Tensor;
      layers.push({
        name,
        type: m.constructor.name,
        outputShape: out.shape.slice(1),
        params: m.numParameters(),
        macs: macsOf(m, out),
      });
    }),
  );
  const modes = model.modules().map((m) => [m, m.training] as const);
  model.eval();
  try {
    // The input lives where the model does (its first parameter's dtype and device; 'meta' gives shapes
    // without computing anything).
    const first = model.parameters()[0];
    noGrad(() =>
      tidy(() => {
        model.call(zeros([1, ...inputShape], { dtype: first?.dtype, device: first?.device }));
      }),
    );
  } finally {
    for (const hook of hooks) hook.remove();
    for (const [m, training] of modes) m.training = training;
  }
  return { params: model.numParameters(), macs: layers.reduce((n, l) => n + l.macs, 0), layers };
}
