// The search space: which config fields a study varies and over what values, read from JSON such as
//   { "lr": { "type": "float", "low": 1e-4, "high": 1e-1, "log": true },
//     "batchSize": { "type": "categorical", "choices": [64, 128] },
//     "epochs": { "type": "int", "low": 1, "high": 3 },
//     "attention.reduction": { "choices": [4, 8, 16] } }
// Names are TrainConfig fields; a dotted name sets a field inside an object-valued field (attention).
// Which fields a study may vary, and how (a range, choices only, dotted options), is each field's `tune`
// in the config table (src/train/config-schema.ts). A trial's config is the base config with its sampled
// values on top, checked like any other config.
import {
  CONFIG_KEYS,
  fieldSpec,
  resolveConfig,
  type ConfigKey,
  type ConfigSource,
  type TrainConfig,
} from '../train/config.js';
import type { ParamJson } from '../train/config-schema.js';
import type { ParamValue, Params } from './trial.js';

export interface FloatParam {
  type: 'float';
  name: string;
  low: number;
  high: number;
  /** Sample uniformly in log space (low must be > 0). */
  log: boolean;
  /** Values lie on low, low + step, ... (null: anywhere in [low, high]). */
  step: number | null;
}

export interface IntParam {
  type: 'int';
  name: string;
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalParam {
  type: 'categorical';
  name: string;
  choices: ParamValue[];
}

export type ParamSpec = FloatParam | IntParam | CategoricalParam;
export type NumericParam = FloatParam | IntParam;

/** The parameters in the order the space lists them. */
export type SearchSpace = readonly ParamSpec[];

/** The fields a study may vary. */
export const TUNABLE_KEYS: readonly ConfigKey[] = CONFIG_KEYS.filter((key) => fieldSpec(key).tune.how !== 'fixed');

/** Config fields holding an object whose own fields a dotted name may set. */
const OBJECT_FIELDS: readonly ConfigKey[] = CONFIG_KEYS.filter((key) => fieldSpec(key).tune.how === 'options');

/**
 * The values a choices-only field can take: its table entry's list, else every value its rule allows
 * (each choice of a word field, true and false, and null where the field may be null).
 */
export function fieldChoices(key: ConfigKey): ParamValue[] {
  const { rule, tune } = fieldSpec(key);
  if (tune.how === 'choices' && tune.choices) return [...tune.choices];
  const { kind } = rule;
  const values: ParamValue[] =
    kind.type === 'choice' ? [...kind.choices] : kind.type === 'boolean' ? [false, true] : [];
  return rule.nullable ? [null, ...values] : values;
}

/** A search-space entry that works for the parameter, from the config table (for messages); null if none. */
export function exampleParam(name: string): ParamJson | null {
  const [root] = name.split('.');
  const { tune } = fieldSpec(root as ConfigKey);
  switch (tune.how) {
    case 'range':
      return tune.example;
    case 'choices':
      return { choices: fieldChoices(root as ConfigKey) };
    case 'options':
      return tune.example[name] ?? null;
    case 'fixed':
      return null;
  }
}

const PARAM_KEYS: Record<ParamSpec['type'], readonly string[]> = {
  float: ['type', 'low', 'high', 'log', 'step'],
  int: ['type', 'low', 'high', 'log', 'step'],
  categorical: ['type', 'choices'],
};

const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v));

function checkName(name: string, what: string): void {
  const [root, ...rest] = name.split('.');
  if (!(CONFIG_KEYS as string[]).includes(root)) {
    throw new Error(
      `${what}: '${root}' is not a training config field; expected one of ${TUNABLE_KEYS.join(', ')}` +
        `${rest.length ? ` (dotted names set fields inside ${OBJECT_FIELDS.join(', ')})` : ''}`,
    );
  }
  const { tune } = fieldSpec(root as ConfigKey);
  if (tune.how === 'fixed') throw new Error(`${what}: '${root}' cannot be tuned: ${tune.why}`);
  if (rest.length > 1 || (rest.length === 1 && !OBJECT_FIELDS.includes(root as ConfigKey))) {
    throw new Error(
      `${what}: only ${OBJECT_FIELDS.map((f) => `'${f}.<option>'`).join(', ')} may be dotted, got '${name}'`,
    );
  }
  if (rest.length === 1 && rest[0] === '') throw new Error(`${what}: '${name}' names no option after the dot`);
}

function parseNumeric(type: 'float' | 'int', name: string, raw: Record<string, unknown>, what: string): NumericParam {
  const { low, high } = raw;
  const isInt = type === 'int';
  const ok = (v: unknown): v is number =>
    typeof v === 'number' && Number.isFinite(v) && (!isInt || Number.isSafeInteger(v));
  const kind = isInt ? 'an integer' : 'a finite number';
  if (!ok(low)) throw new Error(`${what}: 'low' is ${show(low)}; expected ${kind}`);
  if (!ok(high)) throw new Error(`${what}: 'high' is ${show(high)}; expected ${kind}`);
  if (!(low < high))
    throw new Error(
      `${what}: 'low' (${low}) must be less than 'high' (${high}); a fixed value belongs in the base config`,
    );
  const log = raw.log ?? false;
  if (typeof log !== 'boolean') throw new Error(`${what}: 'log' is ${show(log)}; expected true or false`);
  if (log && low <= 0) throw new Error(`${what}: a log scale needs 'low' > 0, got ${low}`);
  const step = raw.step ?? (isInt ? 1 : null);
  if (step !== null && !(ok(step) && step > 0))
    throw new Error(`${what}: 'step' is ${show(step)}; expected ${kind} > 0`);
  if (log && step !== null && !(isInt && step === 1)) {
    throw new Error(`${what}: 'step' and 'log' cannot be combined (a log scale has no even steps)`);
  }
  if (step !== null && Math.abs((high - low) / step - Math.round((high - low) / step)) > 1e-9) {
    throw new Error(`${what}: high - low (${high - low}) must be a whole number of steps of ${step}`);
  }
  return isInt ? { type, name, low, high, log, step: step as number } : { type: 'float', name, low, high, log, step };
}

function parseCategorical(name: string, raw: Record<string, unknown>, what: string): CategoricalParam {
  const { choices } = raw;
  if (!Array.isArray(choices) || choices.length === 0)
    throw new Error(`${what}: 'choices' is ${show(choices)}; expected a non-empty list`);
  for (const c of choices) {
    const scalar =
      c === null || typeof c === 'string' || typeof c === 'boolean' || (typeof c === 'number' && Number.isFinite(c));
    if (!scalar) throw new Error(`${what}: choice ${show(c)} is not a number, string, boolean or null`);
  }
  if (new Set(choices.map((c) => JSON.stringify(c))).size !== choices.length) {
    throw new Error(`${what}: 'choices' ${show(choices)} lists a value twice`);
  }
  return { type: 'categorical', name, choices: choices as ParamValue[] };
}

/** Reads a search space from parsed JSON; throws one error naming the first bad parameter and why. */
export function parseSpace(raw: unknown, source = 'the search space'): SearchSpace {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${source} must be a JSON object of parameter name → { "type": ..., ... }, got ${show(raw)}`);
  }
  const entries = Object.entries(raw);
  if (entries.length === 0) throw new Error(`${source} names no parameters`);
  const space: ParamSpec[] = [];
  for (const [name, spec] of entries) {
    const what = `${source}, parameter '${name}'`;
    checkName(name, what);
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      throw new Error(
        `${what} must be an object such as { "type": "float", "low": 0.001, "high": 0.1 }, got ${show(spec)}`,
      );
    }
    const fields = spec as Record<string, unknown>;
    // A list of choices says what the parameter is on its own.
    const type = fields.type ?? ('choices' in fields ? 'categorical' : undefined);
    const example = exampleParam(name);
    const eg = example ? ` (e.g. ${JSON.stringify(example)})` : '';
    if (type !== 'float' && type !== 'int' && type !== 'categorical') {
      throw new Error(`${what}: 'type' is ${show(type)}; expected 'float', 'int' or 'categorical'${eg}`);
    }
    const { tune } = fieldSpec(name.split('.')[0] as ConfigKey);
    if (type !== 'categorical' && tune.how === 'choices') {
      throw new Error(`${what}: '${name}' takes a list of choices${eg}, not a ${type} range`);
    }
    if (type !== 'categorical' && tune.how === 'options' && !name.includes('.')) {
      throw new Error(
        `${what}: '${name}' takes a list of choices, not a ${type} range; vary its fields with dotted names such as ` +
          `${Object.keys(tune.example)
            .map((n) => `'${n}'`)
            .join(', ')}`,
      );
    }
    const unknown = Object.keys(fields).filter((k) => !PARAM_KEYS[type].includes(k));
    if (unknown.length) {
      throw new Error(
        `${what}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} for a ${type} parameter; ` +
          `expected some of ${PARAM_KEYS[type].join(', ')}`,
      );
    }
    space.push(type === 'categorical' ? parseCategorical(name, fields, what) : parseNumeric(type, name, fields, what));
  }
  for (const p of space) {
    if (p.name.includes('.') && space.some((q) => q.name === p.name.split('.')[0])) {
      throw new Error(
        `${source} sets both '${p.name.split('.')[0]}' and '${p.name}'; vary the whole object or its fields, not both`,
      );
    }
  }
  return space;
}

/** A numeric value moved onto the parameter's grid of steps and into [low, high]. */
export function snapToStep(param: NumericParam, value: number): number {
  const clamped = Math.min(param.high, Math.max(param.low, value));
  if (param.step === null) return clamped;
  const snapped = param.low + Math.round((clamped - param.low) / param.step) * param.step;
  // Strips the binary noise of low + k·step (0.1 + 2·0.1 = 0.30000000000000004).
  return param.type === 'int' ? Math.round(snapped) : Number(Math.min(param.high, snapped).toPrecision(12));
}

const TUNED: ConfigSource = { describe: (key) => `the tuned '${key}'` };

/** The base config with the trial's values on top (dotted names inside their object), checked as a whole. */
export function applyParams(base: TrainConfig, params: Params): TrainConfig {
  const values = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(params)) {
    const [root, field] = name.split('.');
    if (field === undefined) {
      values[root] = value;
    } else {
      const current = values[root];
      values[root] = { ...(typeof current === 'object' && current !== null ? current : {}), [field]: value };
    }
  }
  return resolveConfig({ values: values as Partial<TrainConfig>, source: TUNED });
}

/**
 * Values that stand for the parameter's range: its ends and an inner point, or every choice. The inner
 * point of a float without steps is deliberately not round, so that a float range over an integer
 * field fails here (its ends may well be whole numbers).
 */
function probeValues(param: ParamSpec): ParamValue[] {
  if (param.type === 'categorical') return param.choices;
  const inner = param.log
    ? Math.exp(Math.log(param.low) + (Math.log(param.high) - Math.log(param.low)) / Math.PI)
    : param.low + (param.high - param.low) / Math.PI;
  return [param.low, snapToStep(param, inner), param.high];
}

/**
 * Checks, before any trial runs, that every parameter can take the values of its range in the base
 * config (a float for an integer field, a learning rate of 0, an unknown attention type would otherwise
 * only show as failed trials).
 */
export function checkSpaceFitsConfig(space: SearchSpace, base: TrainConfig): void {
  for (const param of space) {
    for (const value of probeValues(param)) {
      try {
        applyParams(base, { [param.name]: value });
      } catch (error) {
        throw new Error(
          `search space parameter '${param.name}' cannot take the value ${show(value)}: ${(error as Error).message}`,
        );
      }
    }
  }
}

/** The space as the JSON it was read from (what the study stores). */
export function spaceToJson(space: SearchSpace): Record<string, unknown> {
  return Object.fromEntries(space.map(({ name, ...spec }) => [name, spec]));
}
