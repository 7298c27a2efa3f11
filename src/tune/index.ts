// Hyper-parameter tuning: studies of trials stored in SQLite, samplers (grid, random, TPE), pruners
// (ASHA, median), the training objective, and the study's outputs (table, best config, charts).
export * from './trial.js';
export * from './space.js';
export * from './storage.js';
export * from './study.js';
export * from './objective.js';
export * from './optimize.js';
export * from './report.js';
export * from './plots.js';
export * from './study-dir.js';
export * from './samplers/index.js';
export * from './pruners/index.js';
export { Rng } from './rng.js';
