// Fuzzing the JPEG decoder (native/jpeg.cc through src/torch/jpeg.ts) with the mutations the other file
// readers get (test/fuzz-mutations.ts): a mutated JPEG either decodes to the size asked for or is refused
// with libjpeg's message; it never crashes the process, hangs, or returns a wrong-sized buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import sharp from 'sharp';
import { decodeJpegRegion, readJpegHeader } from '../../src/torch/jpeg.js';
import { mutate, mutation } from '../fuzz-mutations.js';

const RUNS = 400;
const SEED = Number(process.env.SENET_FUZZ_SEED ?? 11);
const MAX_DECODE_MS = 1000;

/** A small progressive and a small baseline JPEG of a gradient with noise (seeded). */
async function smallJpegs(): Promise<Buffer[]> {
  const [width, height] = [48, 40];
  const pixels = Buffer.alloc(width * height * 3);
  let s = 12345;
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    pixels[i] = ((i % (width * 3)) * 2 + (s >>> 28)) & 0xff;
  }
  const image = () => sharp(pixels, { raw: { width, height, channels: 3 } });
  return [await image().jpeg().toBuffer(), await image().jpeg({ progressive: true }).toBuffer()];
}

test('a mutated JPEG decodes to the size asked for or is refused with a reason, never a crash', async () => {
  const originals = await smallJpegs();
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 3 }),
      fc.constantFrom(1, 2, 4, 8),
      async (which, mutations, denom) => {
        const bytes = mutate(originals[which], mutations);
        const started = performance.now();
        let header: ReturnType<typeof readJpegHeader>;
        try {
          header = readJpegHeader(bytes);
        } catch (error) {
          assert.ok((error as Error).message.length > 0);
          refused++;
          return;
        }
        // The region is the middle of the image as its header describes it (possibly mutated).
        const [w, h] = [Math.ceil(header.width / denom), Math.ceil(header.height / denom)];
        const region = { left: w >> 2, top: h >> 2, width: Math.max(1, w >> 1), height: Math.max(1, h >> 1) };
        if (region.width * region.height > 2048 * 2048) return; // a mutated header may claim a huge image
        try {
          const out = await decodeJpegRegion(bytes, { denom: denom as 1, region, width: 16, height: 12 });
          assert.equal(out.length, 16 * 12 * 3);
        } catch (error) {
          assert.ok((error as Error).message.length > 0);
          refused++;
        }
        const ms = performance.now() - started;
        assert.ok(ms < MAX_DECODE_MS, `one decode took ${ms.toFixed(0)} ms`);
      },
    ),
    { numRuns: RUNS, seed: SEED, endOnFailure: true },
  );
  assert.ok(refused > RUNS / 10, `mutations are refused (${refused} of ${RUNS})`);
});
