// What an SE unit's excitation produced for a batch: the gate values, one per image and channel, that
// the unit multiplied its input by. They are what the SE paper studies in its "role of excitation"
// analysis (Hu et al., §7.2, Fig. 6-7): mean gates per class show early units acting alike on every
// class and late units becoming class-specific.
//
// The gates are read with a forward hook, so a whole model runs unchanged while its units report:
//   - SqueezeExcite and EcaModule end in a `gate` module: its output is the gate;
//   - the seed's SEBlock applies its sigmoid inline, so the hook sits on `fc2` and the sigmoid of that
//     output is taken here (the same op the block applies);
//   - scSE's channel half is a SqueezeExcite (`cSE`), found as such.
// Values are copied to JS memory inside the hook: the unit's own tidy scope frees its tensors as soon as
// its forward returns.
import { F, noGrad, tidy, type Tensor, type nn } from '../torch/index.js';
import { SEBlock } from './se-block.js';
import { SqueezeExcite } from './squeeze-excite.js';
import { EcaModule } from './eca.js';

/** A unit whose channel gates can be probed. */
export type ExcitationUnit = SEBlock | SqueezeExcite | EcaModule;

/** The gates of one batch: `values[i * channels + c]` is image i's gate for channel c. */
export interface Excitation {
  batch: number;
  channels: number;
  values: Float64Array;
}

export function isExcitationUnit(module: nn.Module): module is ExcitationUnit {
  return module instanceof SEBlock || module instanceof SqueezeExcite || module instanceof EcaModule;
}

/** Every probeable unit of a model with its dotted name, in module order (e.g. 'layer1.0.se', 'se1'). */
export function excitationUnits(model: nn.Module): [string, ExcitationUnit][] {
  return model.namedModules().filter((entry): entry is [string, ExcitationUnit] => isExcitationUnit(entry[1]));
}

/** [N, C] gates from what the hooked module returned (`output` of the gate, or of SEBlock's fc2). */
function gatesOf(unit: ExcitationUnit, output: Tensor): Excitation {
  return noGrad(() => tidy(() => {
    const batch = output.shape[0];
    const raw = output.detach().reshape(batch, -1);
    const gates = unit instanceof SEBlock ? F.sigmoid(raw) : raw;
    const channels = gates.shape[1];
    return { batch, channels, values: Float64Array.from(gates.data() as ArrayLike<number>) };
  }));
}

/**
 * Calls `listener` with the gates of every batch that goes through `unit` (as part of a model or on its
 * own) until the returned handle is removed.
 */
export function probeExcitation(unit: nn.Module, listener: (excitation: Excitation) => void): nn.HookHandle {
  if (!isExcitationUnit(unit)) {
    throw new TypeError(`probeExcitation: expected an SEBlock, SqueezeExcite or EcaModule, got ${unit.constructor.name}`);
  }
  const hooked: nn.Module = unit instanceof SEBlock ? unit.fc2 : unit.gate;
  return hooked.registerForwardHook((_module, _inputs, output) => listener(gatesOf(unit, output as Tensor)));
}

/** The gates `unit` computes for the feature maps `x` [N, C, H, W] (runs the unit once, without grad). */
export function excitationOf(unit: ExcitationUnit, x: Tensor): Excitation {
  let recorded: Excitation | null = null;
  const handle = probeExcitation(unit, (e) => { recorded = e; });
  try {
    noGrad(() => tidy(() => { unit.forward(x); }));
  } finally {
    handle.remove();
  }
  return recorded!;
}
