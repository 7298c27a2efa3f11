// Pictures as report figures: an SVG that carries its image as a PNG data URI, so that it is one file in
// figures/ for report.md and an inline figure in report.html, with nothing to fetch. Images are stored at
// their own resolution as 256-colour (dithered) PNG and enlarged by the SVG with pixelated rendering: a
// 32×32 CIFAR image shown 3× wide costs a ninth of the pixels of an enlarged copy, and the palette a
// third of the bytes of a true-colour PNG (32 CIFAR test images: 91 kB true-colour PNG, 47 kB lossless
// WebP, 26 kB palette PNG). Captions are SVG text, so they stay sharp and selectable.
import type { Sharp } from 'sharp';
import { loadSharp } from '../util/sharp.js';

/** sharp over raw pixels (loadSharp imports it when a picture is first made). */
async function sharpOf(pixels: Uint8Array, width: number, height: number, channels: number): Promise<Sharp> {
  const sharp = await loadSharp();
  return sharp(pixels, { raw: { width, height, channels: channels as 1 | 3 | 4 } });
}

/** Interleaved pixels as a palette PNG (exact for images of at most 256 colours, dithered beyond). */
async function palettePng(pixels: Uint8Array, width: number, height: number, channels: number): Promise<Buffer> {
  return (await sharpOf(pixels, width, height, channels)).png({ palette: true, compressionLevel: 9 }).toBuffer();
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function svgDocument(width: number, height: number, title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="system-ui, sans-serif" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title>` +
    `${body}</svg>`
  );
}

function imageElement(png: Buffer, width: number, height: number): string {
  return (
    `<image x="0" y="0" width="${width}" height="${height}" preserveAspectRatio="none" ` +
    `style="image-rendering:pixelated" href="data:image/png;base64,${png.toString('base64')}"/>`
  );
}

/** The largest factor (of 8, 6, 4, 3, 2) by which every pixel of the image was repeated, else 1. */
function enlargement(pixels: Uint8Array, width: number, height: number, channels: number): number {
  const same = (a: number, b: number) => {
    for (let k = 0; k < channels; k++) if (pixels[a * channels + k] !== pixels[b * channels + k]) return false;
    return true;
  };
  return (
    [8, 6, 4, 3, 2].find((f) => {
      if (width % f !== 0 || height % f !== 0) return false;
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++) if (!same(y * width + x, (y - (y % f)) * width + (x - (x % f)))) return false;
      return true;
    }) ?? 1
  );
}

/**
 * A PNG file (augmentation-samples.png) as an SVG figure of the same size. An image made by repeating
 * each pixel (the sample grid enlarges 4×) is stored at its source resolution: it looks the same.
 */
export async function pictureSvg(png: Uint8Array, title: string): Promise<string> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const { width, height, channels } = info;
  const factor = enlargement(data, width, height, channels);
  const small = new Uint8Array((width / factor) * (height / factor) * channels);
  for (let y = 0; y < height / factor; y++)
    for (let x = 0; x < width / factor; x++)
      for (let k = 0; k < channels; k++)
        small[(y * (width / factor) + x) * channels + k] = data[(y * factor * width + x * factor) * channels + k];
  const stored = await palettePng(small, width / factor, height / factor, channels);
  return svgDocument(width, height, title, imageElement(stored, width, height));
}

/** One picture of a grid: C×H×W pixels (a dataset's layout) and the lines of text under it. */
export interface Tile {
  pixels: Uint8Array;
  caption: string[];
}

export interface GridOptions {
  title: string;
  channels: number;
  height: number;
  width: number;
  /** Tiles per row (default 8). */
  columns?: number;
}

/** Largest side a tile is stored at: bigger images (224×224 folders) are shrunk to it first. */
const TILE_MAX = 64;
/** About how wide a tile is drawn, in px. */
const TILE_SHOWN = 96;
const CAPTION_LINE = 13;
const CAPTION_CHARS_PER_PX = 1 / 6.2; // 11px system-ui, roughly

/** C×H×W planes to interleaved H×W×C, shrunk to fit TILE_MAX. */
async function tilePixels(tile: Tile, c: number, h: number, w: number, th: number, tw: number): Promise<Uint8Array> {
  const plane = h * w;
  const interleaved = new Uint8Array(plane * c);
  for (let p = 0; p < plane; p++) for (let k = 0; k < c; k++) interleaved[p * c + k] = tile.pixels[k * plane + p];
  if (th === h && tw === w) return interleaved;
  const shrunk = await (await sharpOf(interleaved, w, h, c)).resize(tw, th, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(shrunk);
}

/**
 * Images in a grid with captions under each, as an SVG figure: the tiles and the white space for the
 * captions make one palette PNG at the images' resolution, drawn enlarged by a whole factor.
 */
export async function imageGridSvg(tiles: readonly Tile[], options: GridOptions): Promise<string> {
  const { channels: c, height: h, width: w } = options;
  if (tiles.length === 0) throw new Error('imageGridSvg: no tiles to draw');
  const shrink = Math.min(1, TILE_MAX / Math.max(h, w));
  const th = Math.max(1, Math.round(h * shrink));
  const tw = Math.max(1, Math.round(w * shrink));
  const scale = Math.max(1, Math.round(TILE_SHOWN / Math.max(th, tw)));
  const lines = Math.max(...tiles.map((t) => t.caption.length));
  // A cell, in stored pixels: the tile, room for its caption under it, a margin; at least 120px wide shown.
  const cellW = Math.max(tw, Math.ceil(120 / scale)) + Math.ceil(8 / scale);
  const captionH = Math.ceil((lines * CAPTION_LINE + 6) / scale);
  const cellH = th + captionH + Math.ceil(8 / scale);
  const columns = Math.min(options.columns ?? 8, tiles.length);
  const rows = Math.ceil(tiles.length / columns);
  const W = columns * cellW;
  const H = rows * cellH;
  const canvas = new Uint8Array(W * H * c).fill(255);
  const texts: string[] = [];
  const maxChars = Math.floor((cellW * scale - 4) * CAPTION_CHARS_PER_PX);
  for (const [i, tile] of tiles.entries()) {
    const left = (i % columns) * cellW;
    const top = Math.floor(i / columns) * cellH;
    const pixels = await tilePixels(tile, c, h, w, th, tw);
    for (let y = 0; y < th; y++) canvas.set(pixels.subarray(y * tw * c, (y + 1) * tw * c), ((top + y) * W + left) * c);
    tile.caption.forEach((line, k) => {
      const text = line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line;
      const x = left * scale;
      const y = (top + th) * scale + (k + 1) * CAPTION_LINE;
      texts.push(`<text x="${x}" y="${y}" font-size="11" fill="#1f2328">${escapeXml(text)}</text>`);
    });
  }
  const png = await palettePng(canvas, W, H, c);
  return svgDocument(W * scale, H * scale, options.title, imageElement(png, W * scale, H * scale) + texts.join(''));
}
