// Post-training static int8 quantization over libtorch's quantized engines (torch.ao.quantization's
// eager-mode pieces): engine choice, observers, the quantized operators and the int8 layers.
export {
  QUANTIZED_DTYPES,
  type QuantizedDType,
  isQuantized,
  PackedParams,
  supportedEngines,
  engine,
  setEngine,
  quantizePerTensor,
  quantizePerChannel,
  makePerChannelQuantized,
  dequantize,
  intRepr,
  qScale,
  qZeroPoint,
  conv2dPrepack,
  linearPrepack,
  conv2d,
  linear,
  add,
  mul,
} from './ops.js';
export { MinMaxObserver, affineQParams, weightScales, MIN_SCALE, type QParams } from './observer.js';
export {
  Int8Layer,
  Quantize,
  QuantizedConv2d,
  QuantizedLinear,
  QuantizedAdd,
  QuantizedMul,
  type Int8Weight,
} from './modules.js';
