// The safetensors format (huggingface/safetensors, docs "Format"): an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}} padded
// with spaces to a multiple of 8 bytes, then the tensors' bytes back to back (little-endian, row-major).
// Reading checks everything the reference implementation checks, so a bad file fails with one clear error.
import type { Tensor } from '../tensor.js';
import { type DType, ELEMENT_SIZE } from '../dtype.js';
import { numelOf, tensorFromBytes, tensorToBytes } from './tensor-bytes.js';

const DTYPE_OF_CODE: Record<string, DType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const CODE_OF_DTYPE = Object.fromEntries(Object.entries(DTYPE_OF_CODE).map(([code, d]) => [d, code])) as Record<
  DType,
  string
>;
const METADATA_KEY = '__metadata__';
/** The reference implementation refuses headers above 100 MB; so does senet. */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsContents {
  /** The tensors in header order. */
  tensors: Map<string, Tensor>;
  /** The free-form string map stored under "__metadata__" (empty when absent). */
  metadata: Record<string, string>;
}

/** The bytes of a safetensors file holding `tensors` (in iteration order) and optional string metadata. */
export function serializeSafetensors(
  tensors: Iterable<readonly [string, Tensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  // The header is assembled by hand: JSON.stringify of an object would move integer-like names first.
  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length) {
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string')
        throw new TypeError(`safetensors metadata '${key}' must be a string, got ${typeof value}`);
    }
    fields.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const chunks: Uint8Array[] = [];
  const seen = new Set<string>();
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) throw new Error(`a tensor cannot be named '${METADATA_KEY}' in a safetensors file`);
    if (seen.has(name)) throw new Error(`tensor name '${name}' appears twice`);
    seen.add(name);
    const bytes = tensorToBytes(t);
    chunks.push(bytes);
    const info = { dtype: CODE_OF_DTYPE[t.dtype], shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    fields.push(`${JSON.stringify(name)}:${JSON.stringify(info)}`);
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

interface Entry {
  name: string;
  dtype: DType;
  shape: number[];
  begin: number;
  end: number;
}

/** The tensors and metadata of a safetensors file's bytes; `source` names the file in errors. */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  const fail = (problem: string): never => {
    throw new Error(`${source}: invalid safetensors file: ${problem}`);
  };
  if (bytes.length < 8) fail(`the file has ${bytes.length} bytes, too few for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(bytes.length - 8)) {
    fail(
      `the header length ${declared} runs past the end of the file (${bytes.length - 8} bytes follow it); ` +
        'the file is truncated or the length is corrupt',
    );
  }
  const headerLength = Number(declared);
  if (headerLength > MAX_HEADER_BYTES)
    fail(`the header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const headerBytes = bytes.subarray(8, 8 + headerLength);
  if (headerBytes[0] !== 0x7b) fail('the header does not start with "{"');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
  } catch (error) {
    fail(`the header is not valid UTF-8 JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header is not a JSON object');

  const data = bytes.subarray(8 + headerLength);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(info, fail);
    } else {
      entries.push(readEntry(name, info, fail));
    }
  }
  checkLayout(entries, data.length, fail);
  const tensors = new Map<string, Tensor>();
  for (const e of entries) tensors.set(e.name, tensorFromBytes(data.subarray(e.begin, e.end), e.shape, e.dtype));
  return { tensors, metadata };
}

function readMetadata(info: unknown, fail: (problem: string) => never): Record<string, string> {
  if (typeof info !== 'object' || info === null || Array.isArray(info))
    fail('"__metadata__" is not an object of strings');
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
    if (typeof value !== 'string') fail(`"__metadata__" entry '${key}' is a ${typeof value}, not a string`);
    metadata[key] = value as string;
  }
  return metadata;
}

function readEntry(name: string, info: unknown, fail: (problem: string) => never): Entry {
  const what = `tensor '${name}'`;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${what} is not described by an object`);
  const { dtype: code, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof code !== 'string' || !(code in DTYPE_OF_CODE)) {
    fail(`${what} has dtype ${JSON.stringify(code)}; senet reads ${Object.keys(DTYPE_OF_CODE).join(', ')}`);
  }
  const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(isCount))
    fail(`${what} has shape ${JSON.stringify(shape)}, not a list of sizes`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
    fail(`${what} has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 <= begin <= end`);
  }
  const dtype = DTYPE_OF_CODE[code as string];
  const entry: Entry = {
    name,
    dtype,
    shape: shape as number[],
    begin: (offsets as number[])[0],
    end: (offsets as number[])[1],
  };
  const expected = numelOf(entry.shape) * ELEMENT_SIZE[dtype];
  if (entry.end - entry.begin !== expected) {
    fail(
      `${what} spans ${entry.end - entry.begin} bytes, but ${code} of shape [${entry.shape.join(', ')}] needs ${expected}`,
    );
  }
  return entry;
}

/** The tensors must tile the data section exactly: no overlaps, no holes, nothing past the end. */
function checkLayout(entries: readonly Entry[], dataLength: number, fail: (problem: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: Entry | undefined;
  for (const e of sorted) {
    if (e.end > dataLength) {
      fail(
        `tensor '${e.name}' ends at byte ${e.end} of the data, but the data has only ${dataLength} bytes (truncated?)`,
      );
    }
    if (e.begin < covered)
      fail(`tensor '${e.name}' overlaps tensor '${previous!.name}' (data bytes ${e.begin}-${covered})`);
    if (e.begin > covered) fail(`the data has a hole of ${e.begin - covered} bytes before tensor '${e.name}'`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) fail(`the data has ${dataLength - covered} trailing bytes that no tensor uses`);
}
