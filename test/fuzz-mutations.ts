// The mutations the file-reader fuzz tests apply to valid files (fast-check arbitraries): cuts, bit
// flips, byte overwrites, inserted junk, and changes inside the first 128 bytes, where headers live.
import fc from 'fast-check';

/** A mutation of a file: cut, bit flip, byte overwrite, inserted junk, or a change inside its header text. */
export type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'insert'; at: number; junk: number[] }
  | { kind: 'header'; at: number; text: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 0xff, 0x7f, 0x80, 0x30, 0x39),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    junk: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
  }),
  // Header text: the first 128 bytes hold safetensors' JSON and .npy's dict; digits and brackets stress the parsers.
  fc.record({
    kind: fc.constant('header' as const),
    at: fc.integer({ min: 0, max: 127 }),
    text: fc.constantFrom(
      '9',
      '99999999999',
      '-1',
      '[',
      ']',
      '{',
      '"',
      ',',
      '(',
      ')',
      'e9',
      ' ',
      'F64',
      'U8',
      '<f8',
      '>i4',
    ),
  }),
);

export function mutate(original: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    const at = m.at % bytes.length;
    if (m.kind === 'truncate') bytes = bytes.slice(0, at);
    else if (m.kind === 'flip') bytes[at] ^= 1 << m.bit;
    else if (m.kind === 'set') bytes[at] = m.value;
    else if (m.kind === 'insert') bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.junk, ...bytes.subarray(at)]);
    else {
      const text = new TextEncoder().encode(m.text);
      bytes = Uint8Array.from([
        ...bytes.subarray(0, at),
        ...text,
        ...bytes.subarray(Math.min(bytes.length, at + text.length)),
      ]);
    }
  }
  return bytes;
}
