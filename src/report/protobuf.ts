// The few Protocol Buffers encodings TensorBoard's Event messages need, written by hand after the wire
// format spec (https://protobuf.dev/programming-guides/encoding/): each field is a key
// (field number << 3 | wire type) followed by a varint, a 64- or 32-bit little-endian value, or a
// length-prefixed run of bytes. Fields are appended in the order given; proto3 readers accept any order.

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** An unsigned varint: 7 bits per byte, least significant first, high bit set on all but the last. */
function varint(value: bigint): number[] {
  if (value < 0n) value = BigInt.asUintN(64, value); // negative int64s take ten bytes, as two's complement
  const out: number[] = [];
  do {
    let byte = Number(value & 0x7fn);
    value >>= 7n;
    if (value > 0n) byte |= 0x80;
    out.push(byte);
  } while (value > 0n);
  return out;
}

/** Builds one message's bytes field by field. */
export class ProtoWriter {
  private readonly bytes: number[] = [];

  private key(field: number, wireType: number): void {
    this.bytes.push(...varint(BigInt((field << 3) | wireType)));
  }

  /** int64 / uint64 / int32 / bool. */
  int(field: number, value: number | bigint): this {
    this.key(field, VARINT);
    this.bytes.push(...varint(BigInt(value)));
    return this;
  }

  double(field: number, value: number): this {
    this.key(field, FIXED64);
    const buffer = Buffer.alloc(8);
    buffer.writeDoubleLE(value);
    this.bytes.push(...buffer);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, FIXED32);
    const buffer = Buffer.alloc(4);
    buffer.writeFloatLE(value);
    this.bytes.push(...buffer);
    return this;
  }

  /** bytes, or an embedded message's encoding. */
  bytesField(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.bytes.push(...varint(BigInt(value.length)), ...value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, value: ProtoWriter): this {
    return this.bytesField(field, value.finish());
  }

  /** A packed repeated double: one length-delimited field holding the 8-byte values back to back. */
  packedDoubles(field: number, values: readonly number[]): this {
    const buffer = Buffer.alloc(8 * values.length);
    values.forEach((v, i) => buffer.writeDoubleLE(v, 8 * i));
    return this.bytesField(field, buffer);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}
