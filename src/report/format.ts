// How numbers read in reports: durations in the unit a person would use, fractions as percentages,
// counts with thousands separators.

/** 3 ms, 4.20 s, 12.3 s, 4 min 05 s, 2 h 03 min. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, '0')} s`;
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** A fraction as a percentage with two decimals (0.8123 → 81.23%); '–' for null. */
export function formatPercent(fraction: number | null | undefined): string {
  return typeof fraction === 'number' && Number.isFinite(fraction) ? `${(fraction * 100).toFixed(2)}%` : '–';
}

/** 274490 → 274,490. */
export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 41.2M, 1.23G: MACs and parameters at a glance. */
export function formatCompact(n: number): string {
  const units: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, unit] of units) if (Math.abs(n) >= size) return `${(n / size).toFixed(2)}${unit}`;
  return String(n);
}

/** A number to four significant digits, for losses and learning rates. */
export function formatNumber(x: number | null | undefined): string {
  if (typeof x !== 'number' || !Number.isFinite(x)) return '–';
  return Math.abs(x) !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)
    ? x.toExponential(3)
    : String(Number(x.toPrecision(4)));
}
