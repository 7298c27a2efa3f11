// senet's library entry point: the PyTorch-shaped engine and everything built on it, one namespace per
// layer (see the README's architecture section):
// `import { torch, se, models, data, train, tune, pipeline, report, deploy } from 'senet'`.
export * as torch from './torch/index.js';
export * as se from './se/index.js';
export * as models from './models/index.js';
export * as data from './data/index.js';
export * as train from './train/index.js';
export * as tune from './tune/index.js';
export * as pipeline from './pipeline/index.js';
export * as report from './report/index.js';
export * as deploy from './export/index.js';
