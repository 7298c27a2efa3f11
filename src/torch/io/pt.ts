// PyTorch's checkpoint format, as torch.save writes it since 1.6: a zip archive <name>/data.pkl (the
// pickled object, tensors replaced by torch._utils._rebuild_tensor_v2 calls whose storages are persistent
// ids), <name>/data/<key> (each storage's raw bytes), <name>/version, and from PyTorch 2.1 on
// <name>/byteorder. Reading rebuilds tensors as views of their storages, so offsets, strides and storage
// sharing come out as in PyTorch; writing gives each tensor its own contiguous storage.
import { Tensor } from '../tensor.js';
import { type DType, ELEMENT_SIZE, isFloatingPoint } from '../dtype.js';
import { tidy } from '../memory.js';
import { defineOp } from '../ops/dispatch.js';
import type { Handle } from '../native.js';
import { pickle } from './pickle.js';
import { unpickle } from './unpickle.js';
import { PersistentId, PyCallable, PyDict, PyGlobal, PyReduce, tuple } from './python-values.js';
import { isZip, readZip, writeAlignedZip } from './zip.js';
import { contiguousStrides, numelOf, swapByteOrder, tensorFromBytes, tensorToBytes } from './tensor-bytes.js';

const AS_STRIDED = defineOp('aten::as_strided(self, size, stride, storage_offset)');

/** torch.<Name>Storage classes and the dtype of their elements. */
const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const STORAGE_OF_DTYPE = Object.fromEntries(Object.entries(STORAGE_DTYPES).map(([name, d]) => [d, name])) as Record<
  DType,
  string
>;
const UNTYPED_STORAGES = new Set([
  'torch.UntypedStorage',
  'torch.storage.UntypedStorage',
  'torch.storage._UntypedStorage',
]);

/** The file format version torch 1.13 writes (caffe2/serialize: kProducedFileFormatVersion). */
const FILE_FORMAT_VERSION = '3\n';
const REBUILD_TENSOR_V2 = new PyGlobal('torch._utils', '_rebuild_tensor_v2');
const ORDERED_DICT = new PyGlobal('collections', 'OrderedDict');

// ---------------------------------------------------------------- writing

export interface SerializePtOptions {
  /**
   * The folder inside the zip. torch.save uses the file name without its extension ('model' for
   * model.pt), and 'archive' when writing to a buffer.
   */
  archiveName?: string;
}

/**
 * The bytes of a torch.save file holding `obj`: tensors (any dtype, device or layout), PyDict / Map /
 * plain objects (dicts), arrays (lists; frozen arrays are tuples), numbers, bigints, strings, booleans
 * and null, nested as you like. torch.load reads the result.
 */
export function serializePt(obj: unknown, options: SerializePtOptions = {}): Uint8Array {
  const archive = options.archiveName || 'archive';
  if (/[/\\]/.test(archive)) throw new Error(`the archive name '${archive}' must not contain a path separator`);
  const storages: Uint8Array[] = [];
  const describeTensor = (value: object): PyReduce | undefined => {
    if (!(value instanceof Tensor)) return undefined;
    const key = String(storages.length);
    storages.push(tensorToBytes(value));
    const shape = value.shape;
    const storage = tuple<unknown>(
      'storage',
      new PyGlobal('torch', STORAGE_OF_DTYPE[value.dtype]),
      key,
      value.device,
      numelOf(shape),
    );
    // Like Module.state_dict(), tensors are saved detached: requires_grad False, no backward hooks.
    return new PyReduce(REBUILD_TENSOR_V2, [
      new PersistentId(storage),
      0,
      tuple(...shape),
      tuple(...contiguousStrides(shape)),
      false,
      new PyReduce(ORDERED_DICT, []),
    ]);
  };
  const data = pickle(obj, describeTensor);
  // torch.save writes the storages sorted by key as strings ('0', '1', '10', '2', ...).
  const keys = storages.map((_, i) => String(i)).sort();
  return writeAlignedZip([
    [`${archive}/data.pkl`, data],
    [`${archive}/byteorder`, new TextEncoder().encode('little')],
    ...keys.map((key) => [`${archive}/data/${key}`, storages[Number(key)]] as const),
    [`${archive}/version`, new TextEncoder().encode(FILE_FORMAT_VERSION)],
  ]);
}

// ---------------------------------------------------------------- reading

/** Marks the objects GLOBAL resolves to that are types rather than functions. */
class StorageType {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: DType | 'untyped',
  ) {}
}
class TensorType {
  constructor(readonly qualifiedName: string) {}
}

/**
 * The object a torch.save file holds, with tensors as Tensor (on the CPU), dicts as PyDict (OrderedDict
 * ones with `ordered` set and their `_metadata` in `attributes`), tuples as frozen arrays. Python code is
 * never run: globals other than torch's tensor-rebuilding functions and OrderedDict are refused by name.
 */
export function parsePt(bytes: Uint8Array, source: string): unknown {
  if (!isZip(bytes)) {
    if (bytes[0] === 0x80) {
      throw new Error(
        `${source}: this is PyTorch's legacy (pre-1.6) checkpoint format, which senet does not read; ` +
          're-save it with a current torch.save',
      );
    }
    throw new Error(`${source}: not a PyTorch checkpoint (a torch.save file is a zip archive starting with "PK")`);
  }
  const entries = readZip(bytes, source);
  const first = entries.keys().next().value;
  // Like PyTorch, take the archive's folder name from its first entry.
  const archive = first?.includes('/') ? first.slice(0, first.indexOf('/')) : '';
  const record = (name: string) => entries.get(`${archive}/${name}`);
  const pickled = record('data.pkl');
  if (!pickled) {
    const isTorchScript =
      record('constants.pkl') !== undefined || [...entries.keys()].some((n) => n.startsWith(`${archive}/code/`));
    throw new Error(
      isTorchScript
        ? `${source}: this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint`
        : `${source}: the zip archive has no ${archive ? `${archive}/` : ''}data.pkl, so it is not a torch.save checkpoint`,
    );
  }
  const byteorder = record('byteorder');
  const order = byteorder ? new TextDecoder().decode(byteorder).trim() : 'little';
  if (order !== 'little' && order !== 'big')
    throw new Error(`${source}: unknown byteorder '${order}' (expected little or big)`);
  return tidy(() => new CheckpointReader(source, (key) => record(`data/${key}`), order === 'little').read(pickled));
}

class CheckpointReader {
  /** Each storage once, as a flat tensor; tensors are views of these, so shared storages stay shared. */
  private readonly storages = new Map<string, Tensor>();
  private readonly storageDtypes = new WeakMap<Tensor, DType | 'untyped'>();
  private readonly globals: Map<string, unknown>;

  constructor(
    private readonly source: string,
    private readonly storageBytes: (key: string) => Uint8Array | undefined,
    private readonly littleEndian: boolean,
  ) {
    const rebuildV2 = new PyCallable('torch._utils._rebuild_tensor_v2', (args) => this.rebuildTensor(args, 'v2'));
    const rebuildParameter = new PyCallable('torch._utils._rebuild_parameter', ([data, requiresGrad]) => {
      if (!(data instanceof Tensor)) this.fail('_rebuild_parameter got no tensor');
      if (requiresGrad === true && data.isFloatingPoint()) data.requiresGrad_(true);
      return data;
    });
    this.globals = new Map<string, unknown>([
      ['collections.OrderedDict', new PyCallable('collections.OrderedDict', (args) => this.orderedDict(args))],
      ['torch._utils._rebuild_tensor_v2', rebuildV2],
      [
        'torch._utils._rebuild_tensor',
        new PyCallable('torch._utils._rebuild_tensor', (args) => this.rebuildTensor(args, 'v1')),
      ],
      ['torch._utils._rebuild_parameter', rebuildParameter],
      // PyTorch 2 uses this for parameters carrying Python attributes; senet keeps the tensor only.
      [
        'torch._utils._rebuild_parameter_with_state',
        new PyCallable('torch._utils._rebuild_parameter_with_state', (args) => rebuildParameter.call(args)),
      ],
      // Tensors with Python attributes: (rebuild function, type, its arguments, attribute state).
      [
        'torch._tensor._rebuild_from_type_v2',
        new PyCallable('torch._tensor._rebuild_from_type_v2', ([fn, type, args]) => {
          if (!(fn instanceof PyCallable) || !(type instanceof TensorType) || !Array.isArray(args)) {
            this.fail('_rebuild_from_type_v2 got arguments that do not describe a tensor');
          }
          return fn.call(args);
        }),
      ],
      ['torch.Tensor', new TensorType('torch.Tensor')],
      ['torch.nn.parameter.Parameter', new TensorType('torch.nn.parameter.Parameter')],
      [
        'torch.Size',
        new PyCallable('torch.Size', ([sizes]) => {
          if (!Array.isArray(sizes)) this.fail('torch.Size was given no sizes');
          return tuple(...sizes);
        }),
      ],
    ]);
    for (const [name, dtype] of Object.entries(STORAGE_DTYPES)) {
      for (const module of ['torch', 'torch.cuda'])
        this.globals.set(`${module}.${name}`, new StorageType(`${module}.${name}`, dtype));
    }
    for (const name of UNTYPED_STORAGES) this.globals.set(name, new StorageType(name, 'untyped'));
  }

  private fail(problem: string): never {
    throw new Error(`${this.source}: ${problem}`);
  }

  read(pickled: Uint8Array): unknown {
    return unpickle(
      pickled,
      {
        findGlobal: (module, name) => this.findGlobal(module, name),
        persistentLoad: (id) => this.loadStorage(id),
      },
      `${this.source} (data.pkl)`,
    );
  }

  private findGlobal(module: string, name: string): unknown {
    const qualified = `${module}.${name}`;
    const found = this.globals.get(qualified);
    if (found !== undefined) return found;
    if (/^torch(\.cuda)?\.\w+Storage$/.test(qualified)) {
      this.fail(
        `it holds a ${qualified}, a tensor dtype senet does not support (it reads ${Object.values(STORAGE_DTYPES).join(', ')})`,
      );
    }
    this.fail(
      `the pickle refers to the Python global '${qualified}', which senet does not load: it rebuilds only ` +
        'tensors, OrderedDicts and plain Python values, and never runs code from a file',
    );
  }

  private orderedDict(args: readonly unknown[]): PyDict {
    const dict = new PyDict(null, true);
    // OrderedDict(items) is rare in torch files (they pickle OrderedDict() and then SETITEMS) but valid.
    if (Array.isArray(args[0])) {
      for (const pair of args[0]) {
        if (!Array.isArray(pair) || pair.length !== 2) this.fail('OrderedDict was given items that are not pairs');
        dict.set(pair[0], pair[1]);
      }
    }
    return dict;
  }

  /** A persistent id ('storage', storage type, key, location, numel) -> the storage as a flat CPU tensor. */
  private loadStorage(id: unknown): Tensor {
    if (!Array.isArray(id) || id[0] !== 'storage') {
      if (Array.isArray(id) && id[0] === 'module') {
        this.fail(
          'it holds a whole pickled nn.Module (torch.save(model)); senet reads state dicts: save model.state_dict() instead',
        );
      }
      this.fail(
        `unknown persistent id ${JSON.stringify(Array.isArray(id) ? id[0] : id)} (expected a 'storage' record)`,
      );
    }
    const [, type, key, , numel] = id;
    if (!(type instanceof StorageType)) this.fail(`storage ${JSON.stringify(key)} has no storage type`);
    if (typeof key !== 'string' || !Number.isSafeInteger(numel) || (numel as number) < 0) {
      this.fail(`storage record ${JSON.stringify(key)} is malformed (expected a string key and an element count)`);
    }
    const dtype = type.dtype === 'untyped' ? 'uint8' : type.dtype;
    const cached = this.storages.get(key);
    if (cached) {
      if (this.storageDtypes.get(cached) !== type.dtype)
        this.fail(`storage '${key}' is used with two different dtypes`);
      return cached;
    }
    const bytes = this.storageBytes(key);
    if (!bytes) this.fail(`storage data/${key} is missing from the archive`);
    const expected = (numel as number) * ELEMENT_SIZE[dtype];
    if (bytes.length !== expected) {
      this.fail(`storage data/${key} has ${bytes.length} bytes, but ${numel} elements of ${dtype} need ${expected}`);
    }
    const ordered = this.littleEndian ? bytes : swapByteOrder(bytes, ELEMENT_SIZE[dtype]);
    const storage = tensorFromBytes(ordered, [numel as number], dtype);
    this.storages.set(key, storage);
    this.storageDtypes.set(storage, type.dtype);
    return storage;
  }

  /**
   * _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
   * or the older _rebuild_tensor(storage, storage_offset, size, stride).
   */
  private rebuildTensor(args: readonly unknown[], version: 'v1' | 'v2'): Tensor {
    const [storage, offset, size, stride, requiresGrad] = args;
    const what = `a tensor (_rebuild_tensor_${version})`;
    if (!(storage instanceof Tensor) || !this.storageDtypes.has(storage)) this.fail(`${what} has no storage`);
    if (this.storageDtypes.get(storage) === 'untyped')
      this.fail(`${what} refers to an untyped storage, so its dtype is unknown`);
    const isInts = (v: unknown): v is number[] => Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= 0);
    if (
      !Number.isSafeInteger(offset) ||
      (offset as number) < 0 ||
      !isInts(size) ||
      !isInts(stride) ||
      size.length !== stride.length
    ) {
      this.fail(`${what} has a malformed offset/size/stride: ${JSON.stringify([offset, size, stride])}`);
    }
    const storageNumel = storage.numel();
    if (numelOf(size) > 0) {
      const last = (offset as number) + size.reduce((sum, d, i) => sum + (d - 1) * stride[i], 0);
      if (last >= storageNumel) {
        this.fail(
          `${what} of size [${size.join(', ')}], stride [${stride.join(', ')}] and offset ${offset} ` +
            `reaches element ${last} of a storage of ${storageNumel} elements`,
        );
      }
    }
    const view = new Tensor(AS_STRIDED(storage._h, size, stride, offset) as Handle);
    if (version === 'v2' && requiresGrad === true && isFloatingPoint(view.dtype)) view.requiresGrad_(true);
    return view;
  }
}
