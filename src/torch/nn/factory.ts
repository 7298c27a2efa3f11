// Creating a layer's parameters with its `dtype`/`device` (PyTorch's factory_kwargs).
import type { DType } from '../dtype.js';
import { empty } from '../ops/creation.js';
import { Parameter } from './parameter.js';

/** Where a layer's parameters and buffers live: float32 on the CPU unless given. */
export interface FactoryOptions {
  dtype?: DType;
  device?: string;
}

/** An uninitialised parameter (the layer's resetParameters() fills it). */
export function emptyParameter(shape: readonly number[], factory: FactoryOptions): Parameter {
  const data = empty(shape, { dtype: factory.dtype, device: factory.device });
  // The Parameter shares data's storage through its own handle, so the temporary handle can go now.
  const parameter = new Parameter(data);
  data.dispose();
  return parameter;
}
