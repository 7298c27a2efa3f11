// What the model-design stages report: the attention (SE) units of a model with their share of the
// parameters and multiply-accumulates, and the model as a whole (from summarizeModel's real forward pass).
import type { nn } from '../torch/index.js';
import { summarizeModel, type Model, type ModelSummary } from '../models/index.js';
import { SEBlock, SqueezeExcite, EcaModule, SpatialSE, ChannelSpatialSE } from '../se/index.js';
import type { ModelSpec } from './trained-model.js';

const ATTENTION_UNITS = [SEBlock, SqueezeExcite, EcaModule, SpatialSE, ChannelSpatialSE];

const isAttention = (m: nn.Module) => ATTENTION_UNITS.some((unit) => m instanceof unit);

/** The outermost attention units of a model, by state-dict name. */
export function attentionUnits(model: nn.Module): [string, nn.Module][] {
  const units: [string, nn.Module][] = [];
  for (const [name, module] of model.namedModules()) {
    if (!isAttention(module)) continue;
    if (units.some(([outer]) => name.startsWith(`${outer}.`))) continue;
    units.push([name, module]);
  }
  return units;
}

/** The se-module-design summary: the attention config, its units and what they cost. */
export function describeAttention(model: Model, spec: ModelSpec, summary: ModelSummary): Record<string, unknown> {
  const units = attentionUnits(model);
  const inside = (layer: string) => units.some(([name]) => layer === name || layer.startsWith(`${name}.`));
  const params = units.reduce((n, [, unit]) => n + unit.numParameters(), 0);
  const macs = summary.layers.filter((l) => inside(l.name)).reduce((n, l) => n + l.macs, 0);
  return {
    attention: spec.options.attention ?? "the model's own",
    ...(spec.options.sePlacement ? { sePlacement: spec.options.sePlacement } : {}),
    units: units.length,
    unitTypes: [...new Set(units.map(([, u]) => u.constructor.name))],
    params,
    paramsShare: summary.params === 0 ? 0 : params / summary.params,
    macs,
    macsShare: summary.macs === 0 ? 0 : macs / summary.macs,
  };
}

/** The cnn-model-design summary. */
export function describeModel(spec: ModelSpec, model: Model, summary: ModelSummary): Record<string, unknown> {
  return {
    model: spec.name,
    options: spec.options,
    input: model.inputShape,
    params: summary.params,
    macs: summary.macs,
    layers: summary.layers.length,
  };
}

export function summarize(model: Model): ModelSummary {
  return summarizeModel(model, model.inputShape);
}
