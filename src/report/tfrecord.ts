// TFRecord framing, the container of TensorBoard event files: each record is
//   uint64 length | uint32 masked CRC32C of the length bytes | data | uint32 masked CRC32C of the data
// all little-endian. CRC32C is the Castagnoli CRC (reflected polynomial 0x82F63B78, as iSCSI, RFC 3720);
// TensorFlow "masks" it (rotate right by 15, add 0xa282ead8) because CRCs of data containing CRCs are weak.

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One record's bytes. */
export function tfRecord(data: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(data.length));
  const lengthCrc = Buffer.alloc(4);
  lengthCrc.writeUInt32LE(maskedCrc32c(length));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskedCrc32c(data));
  return Buffer.concat([length, lengthCrc, data, dataCrc]);
}

/** Splits a file of records back into their data, checking both CRCs of each (for tests and tools). */
export function readTfRecords(file: Uint8Array): Uint8Array[] {
  const buffer = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + 12 > buffer.length) throw new Error(`TFRecord: truncated header at byte ${at}`);
    const length = Number(buffer.readBigUInt64LE(at));
    if (buffer.readUInt32LE(at + 8) !== maskedCrc32c(buffer.subarray(at, at + 8)))
      throw new Error(`TFRecord: bad length CRC at byte ${at}`);
    const data = buffer.subarray(at + 12, at + 12 + length);
    if (data.length !== length || at + 16 + length > buffer.length)
      throw new Error(`TFRecord: truncated record at byte ${at}`);
    if (buffer.readUInt32LE(at + 12 + length) !== maskedCrc32c(data))
      throw new Error(`TFRecord: bad data CRC at byte ${at}`);
    records.push(Uint8Array.from(data));
    at += 16 + length;
  }
  return records;
}
