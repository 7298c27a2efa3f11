// An OnnxGraph as the bytes of an .onnx file: a ModelProto (IR version 8, the default opset 17) encoded
// by protobufjs from the schema in onnx-schema.ts, with the metadata a consumer needs as metadata_props.
import { DATA_TYPE, type AttributeValue, type GraphValue, type Initializer, type OnnxGraph } from './graph.js';
import { modelProtoType } from './onnx-schema.js';

/** The ONNX IR version of opset 17 (ONNX 1.12), which onnx.checker and every current runtime read. */
export const IR_VERSION = 8;
export const OPSET = 17;

/** AttributeProto.AttributeType codes. */
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7 } as const;

function attribute(name: string, value: AttributeValue): object {
  if ('int' in value) return { name, type: ATTRIBUTE_TYPE.int, i: value.int };
  if ('float' in value) return { name, type: ATTRIBUTE_TYPE.float, f: value.float };
  if ('ints' in value) return { name, type: ATTRIBUTE_TYPE.ints, ints: value.ints };
  if ('floats' in value) return { name, type: ATTRIBUTE_TYPE.floats, floats: value.floats };
  return { name, type: ATTRIBUTE_TYPE.string, s: Buffer.from(value.string, 'utf8') };
}

function tensor(init: Initializer): object {
  return { name: init.name, dims: init.dims, data_type: DATA_TYPE[init.type], raw_data: init.bytes };
}

function valueInfo(value: GraphValue): object {
  const dim = value.shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name: value.name, type: { tensor_type: { elem_type: DATA_TYPE[value.type], shape: { dim } } } };
}

export interface ModelInfo {
  /** The graph's name. */
  name: string;
  producerVersion: string;
  /** metadata_props, in this order. */
  metadata: Record<string, string>;
}

export function serializeModel(graph: OnnxGraph, info: ModelInfo): Uint8Array {
  const ModelProto = modelProtoType();
  const model = ModelProto.fromObject({
    ir_version: IR_VERSION,
    opset_import: [{ domain: '', version: OPSET }],
    producer_name: 'senet',
    producer_version: info.producerVersion,
    graph: {
      name: info.name,
      node: graph.nodes.map((n) => ({
        name: n.name,
        op_type: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes).map(([k, v]) => attribute(k, v)),
      })),
      initializer: [...graph.initializers.values()].map(tensor),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
    metadata_props: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
  });
  return ModelProto.encode(model).finish();
}
