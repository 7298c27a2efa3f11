// What an SE unit's excitation produced for a batch: the gate values, one per image and channel, that
// the unit multiplied its input by. They are what the SE paper studies in its "role of excitation"
// analysis (Hu et al., §7.2, Fig. 6-7): mean gates per class show early units acting alike on every
// class and late units becoming class-specific.
//
// The gates are read with a forward hook on the unit's `gate` module, so a whole model runs unchanged
// while its units report: SqueezeExcite (and so the seed's SEBlock, one of its configurations, and scSE's
// channel half `cSE`) and EcaModule call their gate as a child, and its output is the gate.
// Values are copied to JS memory inside the hook: the unit's own call scope frees its tensors as soon as
// its forward returns.
import { noGrad, tidy, type Tensor, type nn } from '../torch/index.js';
import { SqueezeExcite } from './squeeze-excite.js';
import { EcaModule } from './eca.js';

/** A unit whose channel gates can be probed (SEBlock is a SqueezeExcite). */
export type ExcitationUnit = SqueezeExcite | EcaModule;

/** The gates of one batch: `values[i * channels + c]` is image i's gate for channel c. */
export interface Excitation {
  batch: number;
  channels: number;
  values: Float64Array;
}

export function isExcitationUnit(module: nn.Module): module is ExcitationUnit {
  return module instanceof SqueezeExcite || module instanceof EcaModule;
}

/** Every probeable unit of a model with its dotted name, in module order (e.g. 'layer1.0.se', 'se1'). */
export function excitationUnits(model: nn.Module): [string, ExcitationUnit][] {
  return model.namedModules().filter((entry): entry is [string, ExcitationUnit] => isExcitationUnit(entry[1]));
}

/** [N, C] gates from what the unit's gate module returned. */
function gatesOf(output: Tensor): Excitation {
  return noGrad(() =>
    tidy(() => {
      const batch = output.shape[0];
      const gates = output.detach().reshape(batch, -1);
      const channels = gates.shape[1];
      return { batch, channels, values: Float64Array.from(gates.data() as ArrayLike<number>) };
    }),
  );
}

/**
 * Calls `listener` with the gates of every batch that goes through `unit` (as part of a model or on its
 * own) until the returned handle is removed.
 */
export function probeExcitation(unit: nn.Module, listener: (excitation: Excitation) => void): nn.HookHandle {
  if (!isExcitationUnit(unit)) {
    throw new TypeError(
      `probeExcitation: expected an SEBlock, SqueezeExcite or EcaModule, got ${unit.constructor.name}`,
    );
  }
  return unit.gate.registerForwardHook((_module, _inputs, output) => {
    listener(gatesOf(output));
  });
}

/** The gates `unit` computes for the feature maps `x` [N, C, H, W] (runs the unit once, without grad). */
export function excitationOf(unit: ExcitationUnit, x: Tensor): Excitation {
  let recorded: Excitation | null = null;
  const handle = probeExcitation(unit, (e) => {
    recorded = e;
  });
  try {
    noGrad(() => {
      unit.call(x).dispose();
    });
  } finally {
    handle.remove();
  }
  return recorded!;
}
