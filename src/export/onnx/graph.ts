// An ONNX graph under construction: nodes in execution order, initializers (weights and constants) as
// little-endian bytes, and the graph's inputs and outputs. The tracer adds to it, the passes (BatchNorm
// folding, weight precision) rewrite it, and serialize.ts writes it as a ModelProto.
/** ONNX's element type codes (TensorProto.DataType) of the types senet exports. */
export const DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;

/** The element types an exported graph holds. */
export type ElementType = keyof typeof DATA_TYPE;

/** A node attribute, tagged with its ONNX kind (an int and a float attribute are different things). */
export type AttributeValue =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string };

export interface OnnxNode {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

export interface Initializer {
  name: string;
  type: ElementType;
  dims: number[];
  bytes: Uint8Array;
}

/** A graph input or output: dims are sizes or symbolic names ('batch'). */
export interface GraphValue {
  name: string;
  type: ElementType;
  shape: (number | string)[];
}

/** Little-endian bytes of numbers as one element type (for small constants; weights arrive as bytes). */
export function encodeValues(type: ElementType, values: readonly number[]): Uint8Array {
  const size = type === 'int64' || type === 'float64' ? 8 : type === 'float32' || type === 'int32' ? 4 : 1;
  if (type === 'float16' || type === 'bfloat16' || type === 'int16') {
    throw new Error(`encodeValues: ${type} constants are not written directly`);
  }
  const view = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((v, i) => {
    if (type === 'int64') view.setBigInt64(8 * i, BigInt(v), true);
    else if (type === 'float64') view.setFloat64(8 * i, v, true);
    else if (type === 'float32') view.setFloat32(4 * i, v, true);
    else if (type === 'int32') view.setInt32(4 * i, v, true);
    else if (type === 'int8') view.setInt8(i, v);
    else view.setUint8(i, v); // uint8, bool
  });
  return new Uint8Array(view.buffer);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian float32 bytes of numbers (rounded to float32). */
export function encodeFloats(values: ArrayLike<number>): Uint8Array {
  if (LITTLE_ENDIAN) {
    const floats = values instanceof Float32Array ? values : Float32Array.from(values);
    return new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  }
  const view = new DataView(new ArrayBuffer(4 * values.length));
  for (let i = 0; i < values.length; i++) view.setFloat32(4 * i, values[i], true);
  return new Uint8Array(view.buffer);
}

/** Float32 values of little-endian float32 bytes (a view of them where they are aligned: do not write to it). */
export function decodeFloats(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN) {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(4 * i, true));
}

export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly inputs: GraphValue[] = [];
  readonly outputs: GraphValue[] = [];
  /** The initializers that hold the model's weights (parameters, buffers, folded weights), not constants. */
  readonly weights = new Set<string>();
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();
  private nodeCount = 0;

  /** A value name not used yet, made from `hint`. */
  uniqueName(hint: string): string {
    let name = hint;
    for (let k = 1; this.taken.has(name); k++) name = `${hint}_${k}`;
    this.taken.add(name);
    return name;
  }

  /** Appends a node; its outputs get fresh names under the node's name. Returns the output names. */
  addNode(
    opType: string,
    inputs: readonly string[],
    attributes: Record<string, AttributeValue> = {},
    options: { scope?: string; outputs?: number } = {},
  ): string[] {
    const name = this.uniqueName(`${options.scope ? `/${options.scope}` : ''}/${opType}_${this.nodeCount++}`);
    const outputs = Array.from({ length: options.outputs ?? 1 }, (_, k) => this.uniqueName(`${name}_output_${k}`));
    this.nodes.push({ name, opType, inputs: [...inputs], outputs, attributes });
    return outputs;
  }

  addInitializer(hint: string, type: ElementType, dims: readonly number[], bytes: Uint8Array, weight = false): string {
    const name = this.uniqueName(hint);
    this.initializers.set(name, { name, type, dims: [...dims], bytes });
    if (weight) this.weights.add(name);
    return name;
  }

  /** A constant initializer (equal constants are written once). */
  constant(type: ElementType, dims: readonly number[], values: readonly number[]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.addInitializer(`const_${this.constants.size}`, type, dims, encodeValues(type, values));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A 1-D int64 constant: shapes, axes, pads. */
  int64s(values: readonly number[]): string {
    return this.constant('int64', [values.length], values);
  }

  /** A 0-d constant. */
  scalar(value: number, type: ElementType = 'float32'): string {
    return this.constant(type, [], [value]);
  }

  producer(value: string): OnnxNode | undefined {
    return this.nodes.find((n) => n.outputs.includes(value));
  }

  consumers(value: string): OnnxNode[] {
    return this.nodes.filter((n) => n.inputs.includes(value));
  }

  isGraphOutput(value: string): boolean {
    return this.outputs.some((o) => o.name === value);
  }

  /** Renames a value wherever nodes produce or read it. */
  renameValue(from: string, to: string): void {
    this.taken.add(to);
    for (const node of this.nodes) {
      node.inputs = node.inputs.map((v) => (v === from ? to : v));
      node.outputs = node.outputs.map((v) => (v === from ? to : v));
    }
  }

  /** Drops the initializers no node reads (weights a pass replaced, buffers forward never used). */
  pruneInitializers(): void {
    const read = new Set(this.nodes.flatMap((n) => n.inputs));
    for (const name of [...this.initializers.keys()]) {
      if (read.has(name)) continue;
      this.initializers.delete(name);
      this.weights.delete(name);
    }
  }
}
