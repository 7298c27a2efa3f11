// Printing tensors as PyTorch does (torch/_tensor_str.py with its default print options): the values laid out
// in rows of at most 80 characters, 4 decimals or scientific notation chosen from the values' range, and
// tensors of more than 1000 elements summarised to their first and last 3 entries along each dimension.
// senet always adds the shape and dtype (PyTorch shows a dtype only when it is not the default).
import type { Tensor } from './tensor.js';
import { tidy } from './memory.js';
import { cat } from './ops/shape.js';

/** PyTorch's default print options. */
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;
const PRECISION = 4;
const PREFIX = 'tensor(';

type Value = number | bigint | boolean;

/** `tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=float32)`: values, shape, dtype and autograd state. */
export function formatTensor(x: Tensor): string {
  const shape = x.shape;
  const numel = shape.reduce((a, b) => a * b, 1);
  const body = numel === 0 ? '[]' : formatValues(x, shape, numel > THRESHOLD);
  const suffixes = [`shape=[${shape.join(', ')}]`, `dtype=${x.dtype}`];
  if (x.device !== 'cpu') suffixes.push(`device=${x.device}`);
  // As PyTorch: the autograd node for results of differentiable operations, else whether a leaf requires grad.
  const gradFn = x.gradFn;
  if (gradFn) suffixes.push(`gradFn=<${gradFn}>`);
  else if (x.requiresGrad) suffixes.push('requiresGrad=true');
  return addSuffixes(PREFIX + body, suffixes);
}

/** The bracketed values; when summarising, only the edge entries are read from the tensor. */
function formatValues(x: Tensor, shape: number[], summarize: boolean): string {
  const cut = shape.map((n) => summarize && n > 2 * EDGE_ITEMS);
  const values = tidy(() => {
    let edges = x.detach();
    cut.forEach((isCut, d) => {
      if (isCut) edges = cat([edges.narrow(d, 0, EDGE_ITEMS), edges.narrow(d, shape[d] - EDGE_ITEMS, EDGE_ITEMS)], d);
    });
    return readValues(edges);
  });
  const kept = shape.map((n, d) => (cut[d] ? 2 * EDGE_ITEMS : n));
  const formatter = makeFormatter(values, x.isFloatingPoint());
  if (shape.length === 0) return formatter.format(values[0]);
  const strides = kept.map((_, d) => kept.slice(d + 1).reduce((a, b) => a * b, 1));
  // PyTorch's _tensor_str_with_formatter: `indent` grows by one per level of brackets.
  const render = (dim: number, offset: number, indent: number): string => {
    const n = kept[dim];
    const items: (number | '...')[] = cut[dim]
      ? [0, 1, 2, '...', n - 3, n - 2, n - 1]
      : Array.from({ length: n }, (_, i) => i);
    if (dim === shape.length - 1) {
      const elements = items.map((i) => (i === '...' ? ' ...' : formatter.format(values[offset + i])));
      const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / (formatter.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < elements.length; i += perLine) lines.push(elements.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const slices = items.map((i) => (i === '...' ? '...' : render(dim + 1, offset + i * strides[dim], indent + 1)));
    const remaining = shape.length - dim;
    return `[${slices.join(`,${'\n'.repeat(remaining - 1)}${' '.repeat(indent + 1)}`)}]`;
  };
  return render(0, 0, PREFIX.length);
}

function readValues(x: Tensor): Value[] {
  const data = x.data();
  if (x.dtype === 'bool') return Array.from(data as Uint8Array, (v) => v !== 0);
  return Array.from(data as ArrayLike<number | bigint>);
}

interface Formatter {
  width: number;
  format(value: Value): string;
}

/** PyTorch's _Formatter: one width and one notation for every element, chosen from all of them. */
function makeFormatter(values: Value[], floating: boolean): Formatter {
  if (!floating) {
    const text = (v: Value) => (typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
    const width = values.reduce<number>((w, v) => Math.max(w, text(v).length), 1);
    return { width, format: (v) => text(v).padStart(width) };
  }
  const finite = (values as number[]).filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sciMode = false;
  let width = 1;
  if (finite.length > 0) {
    // A loop, not Math.min(...values): a summarised tensor of many dimensions keeps 6**ndim values.
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      min = Math.min(min, Math.abs(v));
      max = Math.max(max, Math.abs(v));
    }
    intMode = finite.every(Number.isInteger);
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const text = sciMode ? exponential(v, PRECISION) : intMode ? `${fixed(v, 0)}.` : fixed(v, PRECISION);
      width = Math.max(width, text.length);
    }
  }
  const format = (value: Value): string => {
    const v = value as number;
    let text: string;
    if (Number.isNaN(v)) text = 'nan';
    else if (!Number.isFinite(v)) text = v > 0 ? 'inf' : '-inf';
    else if (sciMode) text = exponential(v, PRECISION);
    else if (intMode) text = `${fixed(v, 0)}.`;
    else text = fixed(v, PRECISION);
    return text.padStart(width);
  };
  return { width, format };
}

// Python formats floats from their exact binary value, rounding halves to even ('{:.4f}' of 0.03125 is
// '0.0312'), where JS's toFixed rounds them up ('0.0313'): the digits are computed exactly here instead.

/** x as m × 2^e with an integer m (x finite). */
function binary(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { m: fraction, e: -1074 } : { m: fraction | (1n << 52n), e: biased - 1075 };
}

/** round-half-even(|x| × 10^k) for a finite x. */
function scaledInteger(x: number, k: number): bigint {
  const { m, e } = binary(x);
  let num = m * (k >= 0 ? 10n ** BigInt(k) : 1n);
  let den = k < 0 ? 10n ** BigInt(-k) : 1n;
  if (e >= 0) num <<= BigInt(e);
  else den <<= BigInt(-e);
  const q = num / den;
  const twice = 2n * (num % den);
  return twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q;
}

const signOf = (x: number) => (x < 0 || Object.is(x, -0) ? '-' : '');

/**
 * JS's toFixed and toExponential round to the nearest decimal as Python does, except at an exact half, which
 * they round up. Four more digits tell whether |x| is at (or near) a half; only then are the digits computed
 * exactly (the fast path keeps printing a summarised tensor of 6**8 values quick).
 */
const NEAR_HALF = /^(4999|5000|5001)$/;

/** Python's '{:.<digits>f}'.format(x) for a finite x. */
export function fixed(x: number, digits: number): string {
  const magnitude = Math.abs(x);
  if (magnitude < 1e21 && !NEAR_HALF.test(magnitude.toFixed(digits + 4).slice(-4))) {
    return signOf(x) + magnitude.toFixed(digits);
  }
  const q = scaledInteger(x, digits)
    .toString()
    .padStart(digits + 1, '0');
  const whole = q.slice(0, q.length - digits);
  return signOf(x) + (digits > 0 ? `${whole}.${q.slice(q.length - digits)}` : whole);
}

/** Python's '{:.<digits>e}'.format(x) for a finite x: '1.2346e+00'. */
export function exponential(x: number, digits: number): string {
  const magnitude = Math.abs(x);
  const longer = magnitude.toExponential(digits + 4);
  if (!NEAR_HALF.test(longer.slice(longer.indexOf('e') - 4, longer.indexOf('e')))) {
    const [mantissa, e] = magnitude.toExponential(digits).split('e');
    return `${signOf(x)}${mantissa}e${e[0]}${e.slice(1).padStart(2, '0')}`;
  }
  let exponent = 0;
  let q = 0n;
  if (x !== 0) {
    exponent = Math.floor(Math.log10(Math.abs(x)));
    // log10 may be off by one near powers of ten; the exact digits settle it.
    for (;;) {
      q = scaledInteger(x, digits - exponent);
      if (q >= 10n ** BigInt(digits + 1)) exponent += 1;
      else if (q < 10n ** BigInt(digits)) exponent -= 1;
      else break;
    }
  }
  const d = q.toString().padStart(digits + 1, '0');
  const mantissa = digits > 0 ? `${d[0]}.${d.slice(1)}` : d;
  const e = String(Math.abs(exponent)).padStart(2, '0');
  return `${signOf(x)}${mantissa}e${exponent < 0 ? '-' : '+'}${e}`;
}

/** PyTorch's _add_suffixes: ', suffix' on the last line while it fits in 80 columns, else on a new line. */
function addSuffixes(text: string, suffixes: string[]): string {
  const parts = [text];
  let lastLineLength = text.length - text.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLength + suffix.length + 2 > LINE_WIDTH) {
      parts.push(`,\n${' '.repeat(PREFIX.length)}${suffix}`);
      lastLineLength = PREFIX.length + suffix.length;
    } else {
      parts.push(`, ${suffix}`);
      lastLineLength += suffix.length + 2;
    }
  }
  return `${parts.join('')})`;
}
