// One configurable Squeeze-and-Excitation unit (Hu et al.): squeeze each channel to one number, excite
// through a bottleneck of two layers around a ReLU, gate, and rescale the channels of the input. The
// options cover the forms in use: the paper's/seed's (Linear, no bias, ⌊C/r⌋) and timm's (1×1 convs with
// bias, widths rounded to multiples of 8), plus max / avg+max squeezes and other gates. Whatever the
// form, the two excitation layers are `fc1` and `fc2`, so checkpoints of either layout load by name.
// The seed's SEBlock (se-block.ts) is one configuration of this module.
import { nn, F, type Tensor } from '../torch/index.js';
import { checkChoice, checkInt, checkNumber } from '../torch/nn/args.js';
import { checkFeatureMap } from './check-input.js';
import { createGate, GATE_NAMES, type GateName } from './gates.js';
import { reducedWidth, type ReducedWidthRule } from './reduced-width.js';
import type { Layer } from './layer.js';

/** How each channel is summarised: its mean, its maximum, or the sum of both. */
export type SqueezeMode = 'avg' | 'max' | 'avgmax';
export const SQUEEZE_MODES: readonly SqueezeMode[] = ['avg', 'max', 'avgmax'];

/** The excitation's layers: Linear (weights [rd, C]) or 1×1 convolutions (weights [rd, C, 1, 1]). */
export type ExcitationLayer = 'linear' | 'conv';
export const EXCITATION_LAYERS: readonly ExcitationLayer[] = ['linear', 'conv'];
export const REDUCED_WIDTH_RULES: readonly ReducedWidthRule[] = ['floor', 'divisible'];

export interface SqueezeExciteOptions extends nn.FactoryOptions {
  /** Reduction ratio r: the excitation's hidden width is about C/r (default 16). */
  reduction?: number;
  /** How C/r becomes a width: 'floor' (default, max(1, ⌊C/r⌋)) or 'divisible' (timm's multiples of 8). */
  rdMode?: ReducedWidthRule;
  /** An explicit hidden width, overriding reduction and rdMode. */
  rdChannels?: number;
  /** 'linear' (default) or 'conv' (1×1 convolutions, as timm). */
  excitation?: ExcitationLayer;
  /** Biases in both excitation layers (default false, as the seed; timm uses true). */
  bias?: boolean;
  /** 'avg' (default), 'max' or 'avgmax'. */
  squeeze?: SqueezeMode;
  /** 'sigmoid' (default), 'hardsigmoid' or 'tanh'. */
  gate?: GateName;
}

export class SqueezeExcite extends nn.Module {
  readonly channels: number;
  readonly rdChannels: number;
  readonly excitation: ExcitationLayer;
  readonly squeezeMode: SqueezeMode;
  readonly gateName: GateName;
  // Children in PyTorch's registration order (timm's SEModule: fc1, act, fc2, gate).
  fc1: Layer;
  act: nn.ReLU;
  fc2: Layer;
  gate: Layer;

  constructor(channels: number, options: SqueezeExciteOptions = {}) {
    super();
    this.channels = checkInt(channels, 'SqueezeExcite: channels', 1);
    const reduction = checkNumber(options.reduction ?? 16, 'SqueezeExcite: reduction');
    if (reduction <= 0) throw new RangeError(`SqueezeExcite: reduction must be positive, got ${reduction}`);
    const rule = checkChoice(options.rdMode ?? 'floor', REDUCED_WIDTH_RULES, 'SqueezeExcite: rdMode');
    this.rdChannels =
      options.rdChannels === undefined
        ? reducedWidth(channels, reduction, rule)
        : checkInt(options.rdChannels, 'SqueezeExcite: rdChannels', 1);
    this.excitation = checkChoice(options.excitation ?? 'linear', EXCITATION_LAYERS, 'SqueezeExcite: excitation');
    this.squeezeMode = checkChoice(options.squeeze ?? 'avg', SQUEEZE_MODES, 'SqueezeExcite: squeeze');
    this.gateName = checkChoice(options.gate ?? 'sigmoid', GATE_NAMES, 'SqueezeExcite: gate');
    const where = { bias: options.bias ?? false, dtype: options.dtype, device: options.device };
    const layer = (from: number, to: number): Layer =>
      this.excitation === 'conv' ? new nn.Conv2d(from, to, 1, where) : new nn.Linear(from, to, where);
    this.fc1 = layer(channels, this.rdChannels);
    this.act = new nn.ReLU();
    this.fc2 = layer(this.rdChannels, channels);
    this.gate = createGate(this.gateName);
  }

  /** One number per channel: [N, C, 1, 1] for conv excitation, [N, C] for linear. */
  private squeeze(x: Tensor): Tensor {
    const pooled = () => {
      if (this.squeezeMode === 'avg') return x.mean([2, 3], true);
      const max = F.adaptiveMaxPool2d(x, 1);
      return this.squeezeMode === 'max' ? max : x.mean([2, 3], true).add(max);
    };
    const s = pooled();
    return this.excitation === 'conv' ? s : s.flatten(1);
  }

  forward(x: Tensor): Tensor {
    checkFeatureMap(x, this.channels, this.constructor.name); // 'SEBlock' for the seed's configuration
    const hidden = this.act.call(this.fc1.call(this.squeeze(x)));
    const weights = this.gate.call(this.fc2.call(hidden));
    return x.mul(this.excitation === 'conv' ? weights : weights.view(x.shape[0], this.channels, 1, 1));
  }

  override extraRepr(): string {
    const parts = [`${this.channels}`, `rd_channels=${this.rdChannels}`];
    if (this.squeezeMode !== 'avg') parts.push(`squeeze=${this.squeezeMode}`);
    return parts.join(', ');
  }
}
