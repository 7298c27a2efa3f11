// Weights on disk: torch.save/torch.load checkpoints (.pt, .pth, .bin), safetensors and NumPy .npy files.
// save/load move state dicts and pick the format from the file extension; savePt/loadPt move any
// checkpoint object (nested dicts, lists, numbers, strings, tensors). All writes are atomic.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { Tensor } from '../tensor.js';
import { dispose } from '../memory.js';
import type { StateDict } from '../nn/module.js';
import { readBytes, writeFileAtomic } from '../../util/files.js';
import { parseSafetensors, serializeSafetensors, type SafetensorsContents } from './safetensors.js';
import { parsePt, serializePt } from './pt.js';
import { parseNpy, serializeNpy } from './npy.js';
import { PyDict } from './python-values.js';

export { PyDict, tuple, isTuple } from './python-values.js';
export { serializeSafetensors, parseSafetensors, type SafetensorsContents } from './safetensors.js';
export { serializePt, parsePt, type SerializePtOptions } from './pt.js';
export { serializeNpy, parseNpy } from './npy.js';
export { writeFileAtomic } from '../../util/files.js';

type Format = 'safetensors' | 'pt';

const FORMAT_OF_EXTENSION: Record<string, Format> = {
  '.safetensors': 'safetensors',
  '.pt': 'pt',
  '.pth': 'pt',
  '.bin': 'pt',
};

function formatOf(path: string, action: string): Format {
  const name = basename(path).toLowerCase();
  const dot = name.lastIndexOf('.');
  const format = dot > 0 ? FORMAT_OF_EXTENSION[name.slice(dot)] : undefined;
  if (!format) {
    const hint = name.endsWith('.npy') ? ' (for a single tensor use saveNpy/loadNpy)' : ' (or use savePt/loadPt)';
    throw new Error(
      `cannot ${action} '${path}': the extension does not name a state-dict format; expected ` +
        `${Object.keys(FORMAT_OF_EXTENSION).join(', ')}${hint}`,
    );
  }
  return format;
}

/**
 * Whether a file holds safetensors, by its first bytes (an 8-byte header length that fits the file, then
 * the header's '{'), whatever its name: model hubs also save safetensors files as .bin. False for a file
 * that cannot be read, so that the reader then called names the problem.
 */
export function isSafetensorsFile(path: string): boolean {
  if (/\.safetensors$/i.test(path)) return true;
  const head = Buffer.alloc(9);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return false;
  }
  try {
    if (readSync(fd, head, 0, 9, 0) < 9) return false;
    const headerLength = head.readBigUInt64LE(0);
    return headerLength > 1n && headerLength < BigInt(fstatSync(fd).size) && head[8] === 0x7b;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** The folder name torch.save uses inside the zip: the file name without its last extension. */
function archiveNameOf(path: string): string {
  const name = basename(path);
  const dot = name.lastIndexOf('.');
  return (dot >= 0 ? name.slice(0, dot) : name) || 'archive';
}

function entriesOf(stateDict: StateDict | Map<string, Tensor>): [string, Tensor][] {
  const entries = stateDict instanceof Map ? [...stateDict] : Object.entries(stateDict);
  for (const [key, value] of entries) {
    if (typeof key !== 'string')
      throw new TypeError(`state dict keys must be strings, got ${typeof key} ${String(key)}`);
    if (!(value instanceof Tensor)) throw new TypeError(`state dict entry '${key}' is not a Tensor`);
    if (value.isDisposed) throw new Error(`state dict entry '${key}' is a disposed tensor`);
  }
  return entries;
}

/** A plain-object state dict (keys defined as own properties, so no key can touch the prototype). */
function toStateDict(entries: Iterable<[string, Tensor]>): StateDict {
  const out: StateDict = {};
  for (const [key, value] of entries)
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

export interface SaveOptions {
  /** Free-form strings stored in a safetensors file's "__metadata__" (safetensors only). */
  metadata?: Record<string, string>;
}

/**
 * Writes a state dict (name -> tensor) to `path` in the format its extension names: `.safetensors`, or
 * torch.save's format for `.pt`, `.pth` and `.bin` (an OrderedDict, as torch.save(model.state_dict())
 * writes). Tensors are saved detached and contiguous; the write is atomic.
 */
export function save(stateDict: StateDict | Map<string, Tensor>, path: string, options: SaveOptions = {}): void {
  const entries = entriesOf(stateDict);
  if (formatOf(path, 'save') === 'safetensors') {
    writeFileAtomic(path, serializeSafetensors(entries, options.metadata));
    return;
  }
  if (options.metadata) throw new Error(`cannot save '${path}': metadata is stored in .safetensors files only`);
  writeFileAtomic(path, serializePt(new PyDict(entries, true), { archiveName: archiveNameOf(path) }));
}

/**
 * Reads a state dict written by save, torch.save(model.state_dict()) or a safetensors writer; the format
 * follows the extension. Tensors come back on the CPU. For checkpoints holding more than one state dict
 * use loadPt.
 */
export function load(path: string): StateDict {
  if (formatOf(path, 'load') === 'safetensors') return loadSafetensors(path).tensors;
  const obj = loadPt(path);
  if (obj instanceof Map) {
    const bad = [...obj].find(([key, value]) => typeof key !== 'string' || !(value instanceof Tensor));
    if (!bad) return toStateDict(obj as Map<string, Tensor>);
    dispose(obj);
    throw new Error(
      `${path} is not a plain state dict: its entry ${JSON.stringify(String(bad[0]))} is not a tensor. ` +
        'Use io.loadPt(path) for checkpoints that hold more than a state dict.',
    );
  }
  dispose(obj);
  throw new Error(
    `${path} holds a ${Array.isArray(obj) ? 'list' : typeof obj}, not a state dict; use io.loadPt(path) to read it`,
  );
}

/** Writes tensors and optional string metadata as a safetensors file (atomically). */
export function saveSafetensors(
  tensors: StateDict | Map<string, Tensor>,
  path: string,
  metadata?: Record<string, string>,
): void {
  writeFileAtomic(path, serializeSafetensors(entriesOf(tensors), metadata));
}

/** The tensors (in file order) and the "__metadata__" strings of a safetensors file. */
export function loadSafetensors(path: string): { tensors: StateDict; metadata: Record<string, string> } {
  const contents: SafetensorsContents = parseSafetensors(readBytes(path, 'the safetensors file'), path);
  return { tensors: toStateDict(contents.tensors), metadata: contents.metadata };
}

/**
 * Writes any checkpoint object in torch.save's format, e.g. `{ model: net.stateDict(), epoch: 3 }`.
 * Plain objects, Maps and PyDicts become dicts, arrays lists (frozen arrays tuples), safe integers ints,
 * other numbers floats; torch.load reads the file.
 */
export function savePt(obj: unknown, path: string): void {
  writeFileAtomic(path, serializePt(obj, { archiveName: archiveNameOf(path) }));
}

/**
 * Reads a torch.save file as JS values: dicts as PyDict (a Map, in order, any key type), lists as arrays,
 * tuples as frozen arrays, tensors as CPU Tensors viewing shared storages as PyTorch does. Python code
 * is never run; objects other than tensors and plain data are refused with an error naming them.
 */
export function loadPt(path: string): unknown {
  return parsePt(readBytes(path, 'the checkpoint'), path);
}

/** Writes one tensor as a NumPy .npy file, byte for byte as numpy.save would (atomically). */
export function saveNpy(tensor: Tensor, path: string): void {
  writeFileAtomic(path, serializeNpy(tensor));
}

/** Reads a NumPy .npy file (format 1.0-3.0, C or Fortran order) as a CPU tensor. */
export function loadNpy(path: string): Tensor {
  return parseNpy(readBytes(path, 'the .npy file'), path);
}
