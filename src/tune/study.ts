// A study: what is searched (space, base config), how (sampler, pruner, direction) and for how long
// (budget), stored once when it is created. Every later worker or resume opens the stored study; an
// option given again must match what is stored (a study changed half-way would mix trials of two
// searches), except the budget, which may be raised or lowered to run more or fewer trials.
import { parseSpace, spaceToJson, type SearchSpace } from './space.js';
import { createSampler, SAMPLERS, type Sampler, type SamplerConfig } from './samplers/index.js';
import { createPruner, PRUNERS, type Pruner, type PrunerConfig } from './pruners/index.js';
import { DIRECTIONS, type Direction } from './trial.js';
import type { StudyBudget, StudyRecord, StudyStorage } from './storage.js';
import { canonicalJson } from '../util/json-files.js';

export interface StudyDefinition {
  direction: Direction;
  space: SearchSpace;
  sampler: SamplerConfig;
  pruner: PrunerConfig;
  /** The training config every trial starts from (null for objectives that need none). */
  baseConfig: unknown;
}

export interface Study extends StudyDefinition {
  id: number;
  name: string;
  budget: StudyBudget;
  createdAt: number;
  /** Built from the stored settings. */
  makeSampler(): Sampler;
  makePruner(): Pruner;
}

function fromRecord(record: StudyRecord): Study {
  if (!DIRECTIONS.includes(record.direction))
    throw new Error(`study '${record.name}' has an unknown direction '${record.direction}'`);
  const sampler = record.sampler as SamplerConfig;
  const pruner = record.pruner as PrunerConfig;
  if (!SAMPLERS.includes(sampler?.type))
    throw new Error(`study '${record.name}' stores an unknown sampler ${JSON.stringify(record.sampler)}`);
  if (!PRUNERS.includes(pruner?.type))
    throw new Error(`study '${record.name}' stores an unknown pruner ${JSON.stringify(record.pruner)}`);
  const space = parseSpace(record.space, `the search space stored in study '${record.name}'`);
  return {
    id: record.id,
    name: record.name,
    budget: record.budget,
    createdAt: record.createdAt,
    direction: record.direction,
    space,
    sampler,
    pruner,
    baseConfig: record.baseConfig,
    makeSampler: () => createSampler(sampler, space),
    makePruner: () => createPruner(pruner),
  };
}

/** An existing study, or null. */
export function loadStudy(storage: StudyStorage, name: string): Study | null {
  const record = storage.loadStudy(name);
  return record ? fromRecord(record) : null;
}

export interface OpenStudyRequest {
  name: string;
  /** The definition of a new study; for an existing one, what the caller was given (checked, may be partial). */
  definition: Partial<StudyDefinition>;
  /** Budget values to store (undefined: keep the stored ones; a new study starts with no limits). */
  budget?: Partial<StudyBudget>;
  /** How the options are called where the user gave them, for messages ('--space', ...). */
  optionNames?: Partial<Record<keyof StudyDefinition, string>>;
}

/**
 * Creates the study, or opens the stored one and checks the given settings against it. Both happen in
 * one transaction, so two workers started together with the same options make one study.
 */
export function openStudy(storage: StudyStorage, request: OpenStudyRequest): { study: Study; created: boolean } {
  const { name, definition } = request;
  const stored = storage.loadStudy(name);
  if (!stored) {
    const missing = (['direction', 'space', 'sampler', 'pruner'] as const).filter((k) => definition[k] === undefined);
    if (missing.length) {
      throw new Error(
        `there is no study '${name}' in ${storage.path} yet; to create it, give ${missing.map((k) => request.optionNames?.[k] ?? k).join(', ')}`,
      );
    }
    // Built once up front, so that a bad sampler or pruner setting fails before anything is stored.
    createSampler(definition.sampler!, definition.space!);
    createPruner(definition.pruner!);
  }
  const { study: record, created } = storage.createOrLoadStudy({
    name,
    direction: definition.direction ?? 'maximize',
    space: definition.space ? spaceToJson(definition.space) : {},
    sampler: definition.sampler ?? null,
    pruner: definition.pruner ?? null,
    baseConfig: definition.baseConfig ?? null,
    budget: { trials: request.budget?.trials ?? null, maxEpochsTotal: request.budget?.maxEpochsTotal ?? null },
  });
  if (!created) {
    const given: Record<keyof StudyDefinition, unknown> = {
      direction: definition.direction,
      space: definition.space && spaceToJson(definition.space),
      sampler: definition.sampler,
      pruner: definition.pruner,
      baseConfig: definition.baseConfig,
    };
    const storedValues: Record<keyof StudyDefinition, unknown> = {
      direction: record.direction,
      space: record.space,
      sampler: record.sampler,
      pruner: record.pruner,
      baseConfig: record.baseConfig,
    };
    for (const key of Object.keys(given) as (keyof StudyDefinition)[]) {
      if (given[key] === undefined || canonicalJson(given[key]) === canonicalJson(storedValues[key])) continue;
      const option = request.optionNames?.[key] ?? key;
      throw new Error(
        `study '${name}' in ${storage.path} was created with another ${key} (stored: ${canonicalJson(storedValues[key])}; ` +
          `given: ${canonicalJson(given[key])}); leave ${option} out to continue the study as it was, or start a new study`,
      );
    }
    const budget = { ...record.budget };
    if (request.budget?.trials !== undefined) budget.trials = request.budget.trials;
    if (request.budget?.maxEpochsTotal !== undefined) budget.maxEpochsTotal = request.budget.maxEpochsTotal;
    if (canonicalJson(budget) !== canonicalJson(record.budget)) {
      storage.setBudget(record.id, budget);
      record.budget = budget;
    }
  }
  return { study: fromRecord(record), created };
}
