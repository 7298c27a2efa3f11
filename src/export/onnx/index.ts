// ONNX export: trace a model's forward pass through senet's operator dispatch and write a standard
// opset-17 graph (see the README, "ONNX export").
export {
  toOnnx,
  exportModel,
  exportOnnx,
  type OnnxOptions,
  type OnnxExport,
  type ExportOnnxOptions,
} from './export.js';
export { trainedModelMetadata, metadataProps, type ModelMetadata } from './metadata.js';
export { OnnxExportError, type TraceOptions } from './tracer.js';
export { IR_VERSION, OPSET } from './serialize.js';
