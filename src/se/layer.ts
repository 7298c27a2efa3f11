// The shape every attention module and model block shares: a module whose forward maps one tensor to one.
import type { nn, Tensor } from '../torch/index.js';

/** A module with a single-tensor forward (attention units, blocks, whole models). */
export type Layer = nn.Module & { forward(x: Tensor): Tensor };
