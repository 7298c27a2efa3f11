// JSON as senet's config, run and study files use it: reading a file with one clear error for each way it
// can fail, and a canonical text (keys sorted) for hashing and comparing settings.
import { readRegularFile } from './files.js';

/** Parses the JSON file at `path`; `what` names it in errors ("the run config", "the search space", ...). */
export function readJsonFile(path: string, what: string): unknown {
  const text = readRegularFile(path, what).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} ${path} is not valid JSON: ${(error as Error).message}`);
  }
  // JSON.parse reads a number too large for a double (1e400) as Infinity, which later checks would see
  // only as null once written back: name it here.
  const infinite = infinitePath(parsed);
  if (infinite !== null) {
    throw new Error(
      `${what} ${path}: ${infinite} is a number too large to represent (JSON reads it as Infinity); give a finite number`,
    );
  }
  return parsed;
}

/** Where in a parsed JSON value a number is ±Infinity ('epochs', 'space.lr.high', '[2]'), or null. */
function infinitePath(value: unknown, at = ''): string | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : at || 'the value';
  if (value === null || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const found = infinitePath(item, Array.isArray(value) ? `${at}[${key}]` : at ? `${at}.${key}` : `'${key}'`);
    if (found !== null) return found;
  }
  return null;
}

/** JSON with object keys sorted and undefined fields left out: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
