// Values written as Python writes them, so that extraRepr() and toString() read exactly like PyTorch's
// repr(module) (e.g. `eps=1e-05`, `kernel_size=(3, 3)`, `bias=False`) and can be compared with it.

/** Python's repr of a float: shortest round-trip digits, '1e-05' below 1e-4, '2.0' for integral values. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip, as Python's repr does.
  const [mantissa, exp] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 16) {
    const e = Math.abs(exponent) < 10 ? `0${Math.abs(exponent)}` : String(Math.abs(exponent));
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${e}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}

export function pyBool(b: boolean): string {
  return b ? 'True' : 'False';
}

/** A tuple of ints (null as None): '(3, 3)', and '(3,)' for one element. */
export function pyTuple(values: readonly (number | null)[]): string {
  const items = values.map((v) => (v === null ? 'None' : String(v)));
  return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
}

/** An int or a tuple of ints, as a layer argument that accepts either prints. */
export function pyIntOrTuple(value: number | readonly (number | null)[]): string {
  return typeof value === 'number' ? String(value) : pyTuple(value);
}
