// Folding eval-mode BatchNorm into the convolution before it, for inference: y = BN(conv(x)) becomes one
// convolution with scaled weights and a shifted bias, so the normalisation costs nothing at run time.
// Pairs are found by the naming the models here use for post-norm layers: `convK` followed by `bnK` in the
// same module, and [Conv2d, BatchNorm2d] adjacent in a Sequential (`downsample.0`, `downsample.1`).
// Pre-activation blocks (BN before the conv) have no such pairs and are left alone.
import { nn, noGrad, dispose } from '../torch/index.js';

function foldPair(conv: nn.Conv2d, bn: nn.BatchNorm2d): void {
  if (!bn.runningMean || !bn.runningVar) {
    throw new Error('foldBatchNorm: a BatchNorm2d without running statistics cannot be folded');
  }
  noGrad(() => {
    // scale = gamma / sqrt(var + eps); w' = w * scale; b' = (b - mean) * scale + beta
    const invStd = bn.runningVar!.add(bn.eps).rsqrt();
    const scale = bn.weight ? invStd.mul(bn.weight) : invStd;
    const weight = conv.weight.mul(scale.view(-1, 1, 1, 1));
    const centred = conv.bias ? conv.bias.sub(bn.runningMean!) : bn.runningMean!.neg();
    const shifted = centred.mul(scale);
    const bias = bn.bias ? shifted.add(bn.bias) : shifted;
    conv.weight.setData_(weight);
    if (conv.bias) conv.bias.setData_(bias);
    else conv.bias = new nn.Parameter(bias, false);
    dispose([invStd, scale, weight, centred, shifted, bias]);
  });
}

/** The (conv, bn, replace) triples to fold inside one module. */
function pairsIn(module: nn.Module): [nn.Conv2d, nn.BatchNorm2d, () => void][] {
  const pairs: [nn.Conv2d, nn.BatchNorm2d, () => void][] = [];
  const children = module.namedChildren();
  if (module instanceof nn.Sequential) {
    for (let i = 0; i + 1 < children.length; i++) {
      const [, conv] = children[i];
      const [, bn] = children[i + 1];
      if (conv instanceof nn.Conv2d && bn instanceof nn.BatchNorm2d) {
        pairs.push([conv, bn, () => module.replaceAt(i + 1, new nn.Identity())]);
      }
    }
    return pairs;
  }
  const byName = new Map(children);
  for (const [name, conv] of children) {
    const match = /^conv(\d*)$/.exec(name);
    const bn = match ? byName.get(`bn${match[1]}`) : undefined;
    if (conv instanceof nn.Conv2d && bn instanceof nn.BatchNorm2d) {
      pairs.push([
        conv,
        bn,
        () => {
          (module as unknown as Record<string, nn.Module>)[`bn${match![1]}`] = new nn.Identity();
        },
      ]);
    }
  }
  return pairs;
}

/**
 * Folds every conv→BN pair of `model` in place and puts it in eval mode; returns how many were folded.
 * The model is inference-only afterwards (its BatchNorms are gone), so fold a copy you do not train.
 */
export function foldBatchNorm(model: nn.Module): number {
  model.eval();
  let folded = 0;
  for (const module of model.modules()) {
    for (const [conv, bn, replace] of pairsIn(module)) {
      foldPair(conv, bn);
      replace();
      bn.dispose();
      folded++;
    }
  }
  return folded;
}
