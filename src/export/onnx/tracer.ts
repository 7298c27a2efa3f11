// Turning one forward pass into an ONNX graph. The model runs once on an example batch under an operator
// trace (src/torch/op-trace.ts): every aten call that reads a traced tensor (the input, or anything
// computed from it) becomes ONNX nodes through its lowering (lowerings.ts), parameters and buffers become
// initializers under their state-dict names, and any other tensor an op reads is a constant, stored with
// the value it had. Tensors are recognised by the identity of their native handles. Module hooks say
// which module each call came from, for node names and for the error an op without a mapping gives.
import * as torch from '../../torch/index.js';
import type { Handle, OpCall, Tensor, nn } from '../../torch/index.js';
import { excitationUnits } from '../../se/probe.js';
import { DATA_TYPE, OnnxGraph, type AttributeValue, type ElementType } from './graph.js';
import { LOWERINGS } from './lowerings.js';

/** A bad export: an op ONNX has no mapping for, a model without SE units asked for gates, ... */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/** A tensor of the traced computation: its ONNX value name and what it was at trace time. */
export interface TracedValue {
  name: string;
  shape: number[];
  type: ElementType;
  /** Which dimension is the batch (the graph input's symbolic `batch`), or null where none is. */
  batchAxis: number | null;
}

export interface TraceOptions {
  /** Add a second output `se_gates` [batch, C]: the gates of the last SE unit the forward pass ran. */
  seGates?: boolean;
}

/** The name of a module for messages: its dotted path and class. */
function describeModule(path: string, module: nn.Module): string {
  return path
    ? `module '${path}' (${module.constructor.name})`
    : `the model's own forward (${module.constructor.name})`;
}

export function elementType(dtype: torch.DType, what: string): ElementType {
  if (dtype in DATA_TYPE) return dtype as ElementType;
  throw new OnnxExportError(`${what} is ${dtype}, which senet does not export to ONNX`);
}

const opName = (call: OpCall) =>
  call.declaration.overload ? `${call.declaration.name}.${call.declaration.overload}` : call.declaration.name;

const isHandle = (value: unknown): value is Handle =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** What one op's lowering works with: its arguments as ONNX values, their shapes, and the graph. */
export class OpContext {
  constructor(
    private readonly tracer: Tracer,
    readonly call: OpCall,
    readonly scope: string,
  ) {}

  get graph(): OnnxGraph {
    return this.tracer.graph;
  }

  get op(): string {
    return opName(this.call);
  }

  /** Argument i as passed (a number, a list, a string, null...). */
  arg<T = unknown>(i: number): T {
    return this.call.args[i] as T;
  }

  /** The ONNX value of tensor argument i. */
  input(i: number): string {
    const handle = this.call.args[i];
    if (!isHandle(handle)) throw new OnnxExportError(`${this.op}: argument ${i} is not a tensor`);
    return this.tracer.valueOf(handle).name;
  }

  /** Tensor argument i, or null where none was passed (an optional bias). */
  optionalInput(i: number): string | null {
    return this.call.args[i] === null || this.call.args[i] === undefined ? null : this.input(i);
  }

  /** The ONNX values of a tensor-list argument. */
  inputList(i: number): string[] {
    return (this.call.args[i] as Handle[]).map((h) => this.tracer.valueOf(h).name);
  }

  shape(i: number): number[] {
    return this.tracer.valueOf(this.call.args[i] as Handle).shape;
  }

  type(i: number): ElementType {
    return this.tracer.valueOf(this.call.args[i] as Handle).type;
  }

  /** Which dimension of tensor argument i is the batch, or null. */
  batchAxis(i: number): number | null {
    return this.tracer.valueOf(this.call.args[i] as Handle).batchAxis;
  }

  /**
   * Says where the batch dimension of the result is, for ops that move it (transposes) or merge it
   * (reshapes); by default it stays where it was in the inputs when the result has the batch's size there.
   */
  setResultBatchAxis(axis: number | null): void {
    this.resultBatchAxis = axis;
  }

  /** @internal What setResultBatchAxis said (undefined: the default rule). */
  resultBatchAxis: number | null | undefined;

  /** The shape of result k (of the op's libtorch result). */
  outShape(k = 0): number[] {
    const result = this.call.result;
    const handle = Array.isArray(result) ? result[k] : result;
    return torch.handleInfo(handle as Handle).shape;
  }

  /** The element type of result k. */
  outType(k = 0): ElementType {
    const result = this.call.result;
    const handle = Array.isArray(result) ? result[k] : result;
    return elementType(torch.handleInfo(handle as Handle).dtype, `the result of ${this.op}`);
  }

  /** ONNX's code for an element type (Cast's `to`). */
  onnxType(type: ElementType): number {
    return DATA_TYPE[type];
  }

  /** Appends a node under this op's module scope; returns its (first) output. */
  node(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue> = {}): string {
    return this.graph.addNode(opType, inputs, attributes, { scope: this.scope })[0];
  }

  /** A node with several outputs. */
  nodes(opType: string, inputs: readonly string[], attributes: Record<string, AttributeValue>, outputs: number) {
    return this.graph.addNode(opType, inputs, attributes, { scope: this.scope, outputs });
  }

  /** A scalar constant of tensor argument i's element type (for x + 1, x * alpha). */
  scalarLike(i: number, value: number): string {
    return this.graph.scalar(value, this.type(i));
  }

  /** An error naming this op and the module it came from. */
  error(message: string): OnnxExportError {
    return new OnnxExportError(`${this.op} (called in ${this.tracer.where()}): ${message}`);
  }
}

/**
 * What a lowering returns: the ONNX value of each tensor result (one, or one per tuple/list element,
 * null where a result has no ONNX value, such as max-pool indices).
 */
export type Lowering = (ctx: OpContext) => string | (string | null)[];

class Tracer {
  readonly graph = new OnnxGraph();
  private readonly values = new Map<Handle, TracedValue>();
  private readonly parameters = new Map<Handle, [string, Tensor]>();
  /** Results of traced ops that have no ONNX value: reading one later is refused. */
  private readonly unmapped = new Map<Handle, string>();
  private readonly scopes: [string, nn.Module][] = [];
  private readonly batchSize: number;

  constructor(
    private readonly model: nn.Module,
    example: Tensor,
  ) {
    for (const [name, p] of model.namedParameters()) this.parameters.set(p._h, [name, p]);
    for (const [name, b] of model.namedBuffers()) this.parameters.set(b._h, [name, b]);
    const shape = example.shape;
    this.batchSize = shape[0];
    const type = elementType(example.dtype, 'the example input');
    this.values.set(example._h, { name: 'input', shape, type, batchAxis: 0 });
    this.graph.uniqueName('input');
    this.graph.inputs.push({ name: 'input', type, shape: ['batch', ...shape.slice(1)] });
  }

  /** The innermost module running now, for messages. */
  where(): string {
    const [path, module] = this.scopes.at(-1) ?? ['', this.model];
    return describeModule(path, module);
  }

  enter(path: string, module: nn.Module): void {
    this.scopes.push([path, module]);
  }

  leave(): void {
    this.scopes.pop();
  }

  /** The traced value of a tensor an op reads: computed, a parameter or buffer, or a constant. */
  valueOf(handle: Handle): TracedValue {
    const traced = this.values.get(handle);
    if (traced) return traced;
    const lost = this.unmapped.get(handle);
    if (lost) throw new OnnxExportError(`${lost} is read (in ${this.where()}), but it has no ONNX value`);
    const { shape, dtype } = torch.handleInfo(handle);
    const parameter = this.parameters.get(handle);
    const what = parameter ? `parameter '${parameter[0]}'` : `a constant tensor read in ${this.where()}`;
    const type = elementType(dtype, what);
    const bytes = torch.handleBytes(handle);
    const name = this.graph.addInitializer(parameter?.[0] ?? 'constant', type, shape, bytes, parameter !== undefined);
    const value = { name, shape, type, batchAxis: null };
    this.values.set(handle, value);
    return value;
  }

  isTraced(handle: Handle): boolean {
    return this.values.has(handle) || this.unmapped.has(handle);
  }

  record(call: OpCall): void {
    const tensorArgs = call.args.flatMap((a) => (Array.isArray(a) ? a.filter(isHandle) : isHandle(a) ? [a] : []));
    // An op that reads no traced tensor computes a constant: it is not recorded, and what it makes is
    // stored as a constant where a traced op reads it.
    if (!tensorArgs.some((h) => this.isTraced(h))) return;
    const ctx = new OpContext(this, call, this.scopes.at(-1)?.[0] ?? '');
    const lowering = LOWERINGS[ctx.op];
    if (!lowering) {
      throw new OnnxExportError(
        `${ctx.op} (called in ${this.where()}) has no ONNX mapping in senet's exporter; ` +
          'rewrite that part of the model with supported operations (see the README, "ONNX export")',
      );
    }
    const lowered = lowering(ctx);
    const inputAxis = tensorArgs.map((h) => this.values.get(h)?.batchAxis).find((a) => a !== null && a !== undefined);
    const results = Array.isArray(call.result) ? call.result : [call.result];
    const names = Array.isArray(lowered) ? lowered : [lowered];
    results.forEach((handle, k) => {
      if (!isHandle(handle)) return;
      const name = names[k];
      if (name === null || name === undefined) {
        this.unmapped.set(handle, `result ${k} of ${ctx.op}`);
        return;
      }
      const { shape, dtype } = torch.handleInfo(handle);
      const type = elementType(dtype, `the result of ${ctx.op} (in ${this.where()})`);
      const batchAxis =
        ctx.resultBatchAxis !== undefined
          ? ctx.resultBatchAxis
          : inputAxis !== undefined && shape[inputAxis] === this.batchSize
            ? inputAxis
            : null;
      this.values.set(handle, { name, shape, type, batchAxis });
    });
    // An in-place op (relu_, add_) changes its first argument: later reads of it see the new value.
    const self = call.args[0];
    if (call.declaration.name.endsWith('_') && isHandle(self) && isHandle(results[0])) {
      this.values.set(self, this.values.get(results[0])!);
    }
  }

  /** The traced value of a forward result, to become a graph output. */
  resultValue(handle: Handle, what: string): TracedValue {
    const value = this.values.get(handle);
    if (!value) throw new OnnxExportError(`${what} does not depend on the input, so there is no graph to export`);
    return value;
  }
}

/** Runs `model` once on `example` and returns the ONNX graph of what it computed. */
export function traceGraph(model: nn.Module, example: Tensor, options: TraceOptions = {}): OnnxGraph {
  if (example.ndim < 1) throw new OnnxExportError('the example input must have a batch dimension');
  const units = excitationUnits(model);
  if (options.seGates && units.length === 0) {
    throw new OnnxExportError(
      `se_gates were asked for, but ${model.constructor.name} has no SE unit (SqueezeExcite, SEBlock or ECA)`,
    );
  }
  const tracer = new Tracer(model, example);
  const training = model.modules().map((m) => [m, m.training] as const);
  let lastGate: Handle | null = null;
  const hooks = model
    .namedModules()
    .flatMap(([path, module]) => [
      module.registerForwardPreHook(() => tracer.enter(path, module)),
      module.registerForwardHook(() => tracer.leave(), { prepend: true }),
    ]);
  for (const [, unit] of units) {
    hooks.push(
      unit.gate.registerForwardHook((_m, _inputs, output) => {
        lastGate = (output as Tensor)._h;
      }),
    );
  }
  let output: unknown;
  try {
    model.eval();
    output = torch.noGrad(() =>
      torch.traceOps(
        () => model.call(example),
        (call) => tracer.record(call),
      ),
    );
  } finally {
    for (const hook of hooks) hook.remove();
    for (const [m, mode] of training) m.training = mode;
  }
  if (!(output instanceof torch.Tensor)) {
    throw new OnnxExportError(`the model's forward returned ${typeof output}, not one tensor of logits`);
  }
  try {
    const logits = tracer.resultValue(output._h, "the model's output");
    graphOutput(tracer.graph, logits, 'logits');
    if (options.seGates) {
      const gates = tracer.resultValue(lastGate!, "the last SE unit's gates");
      const flat = tracer.graph.addNode('Flatten', [gates.name], { axis: { int: 1 } }, { scope: 'se_gates' })[0];
      const channels = gates.shape.slice(1).reduce((a, b) => a * b, 1);
      graphOutput(tracer.graph, { ...gates, name: flat, shape: [gates.shape[0], channels] }, 'se_gates');
    }
  } finally {
    output.dispose();
  }
  return tracer.graph;
}

/** Makes `value` a graph output named `name`, its batch dimension symbolic. */
function graphOutput(graph: OnnxGraph, value: TracedValue, name: string): void {
  if (value.name === 'input' || graph.initializers.has(value.name)) {
    graph.addNode('Identity', [value.name], {}, { scope: name });
    value = { ...value, name: graph.nodes.at(-1)!.outputs[0] };
  }
  if (graph.isGraphOutput(value.name)) {
    value = { ...value, name: graph.addNode('Identity', [value.name], {}, { scope: name })[0] };
  }
  graph.renameValue(value.name, name);
  const shape: (number | string)[] = [...value.shape];
  if (value.batchAxis !== null) shape[value.batchAxis] = 'batch';
  graph.outputs.push({ name, type: value.type, shape });
}
