// Renaming a state dict's keys by rules, for weights saved under names senet does not use. Rules are data
// (a JSON file for the CLI's --key-map, an object for loadWeights' keyMap option):
//   { "drop":   ["^aux_head\\.", "\\.total_ops$"],                 keys matching any of these are left out
//     "rename": [["^backbone\\.", ""], ["^head\\.", "fc."]] }       then each [regex, replacement] in order
// Every rename rule is applied to every key in turn (JavaScript's String.replace: the first match, with
// $1... for groups), so later rules see the result of earlier ones. Two keys renamed to one name is an
// error: a mapping that loses weights silently would load a different model than the file holds.
import { readJsonFile } from '../util/json-files.js';

export interface KeyMapRules {
  /** Regular expressions: keys matching any of them are dropped (before renaming). */
  drop?: string[];
  /** [regex, replacement] pairs, applied in order to every remaining key. */
  rename?: [string, string][];
}

const EXAMPLE = '{ "rename": [["^backbone\\\\.", ""]], "drop": ["^aux\\\\."] }';

function compile(pattern: unknown, where: string): RegExp {
  if (typeof pattern !== 'string') {
    throw new TypeError(`${where} must be a regular expression as a string, got ${JSON.stringify(pattern)}`);
  }
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new SyntaxError(`${where} is not a valid regular expression: ${(error as Error).message}`);
  }
}

/** Throws unless `value` is a rules object as described above; `who` names it in errors. */
export function checkKeyMapRules(value: unknown, who = 'key map'): KeyMapRules {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${who} must be an object such as ${EXAMPLE}, got ${JSON.stringify(value)}`);
  }
  const unknown = Object.keys(value).filter((k) => k !== 'drop' && k !== 'rename');
  if (unknown.length) {
    throw new TypeError(
      `${who}: unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
        `expected 'rename' and/or 'drop', as in ${EXAMPLE}`,
    );
  }
  const { drop, rename } = value as Record<string, unknown>;
  if (drop !== undefined) {
    if (!Array.isArray(drop))
      throw new TypeError(`${who}: 'drop' must be a list of regular expressions, got ${JSON.stringify(drop)}`);
    drop.forEach((p, i) => {
      compile(p, `${who}: drop[${i}]`);
    });
  }
  if (rename !== undefined) {
    if (!Array.isArray(rename)) {
      throw new TypeError(
        `${who}: 'rename' must be a list of [regex, replacement] pairs, got ${JSON.stringify(rename)}`,
      );
    }
    rename.forEach((rule, i) => {
      if (!Array.isArray(rule) || rule.length !== 2 || typeof rule[1] !== 'string') {
        throw new TypeError(
          `${who}: rename[${i}] must be a [regex, replacement] pair of strings, got ${JSON.stringify(rule)}`,
        );
      }
      compile(rule[0], `${who}: rename[${i}][0]`);
    });
  }
  return value as KeyMapRules;
}

/** The rules of a JSON file (the CLI's --key-map). */
export function readKeyMapFile(path: string): KeyMapRules {
  return checkKeyMapRules(readJsonFile(path, 'the key map'), `the key map ${path}`);
}

/** `entries` with their keys dropped and renamed by `rules` (the values are the same objects). */
export function applyKeyMap<T>(entries: ReadonlyMap<string, T>, rules: KeyMapRules, who = 'key map'): Map<string, T> {
  checkKeyMapRules(rules, who);
  const drops = (rules.drop ?? []).map((p) => new RegExp(p));
  const renames = (rules.rename ?? []).map(([p, to]) => [new RegExp(p), to] as const);
  const out = new Map<string, T>();
  const from = new Map<string, string>();
  for (const [key, value] of entries) {
    if (drops.some((re) => re.test(key))) continue;
    const name = renames.reduce((k, [re, to]) => k.replace(re, to), key);
    const earlier = from.get(name);
    if (earlier !== undefined) {
      throw new Error(`${who} renames both '${earlier}' and '${key}' to '${name}'; each key must keep its own name`);
    }
    from.set(name, key);
    out.set(name, value);
  }
  return out;
}
