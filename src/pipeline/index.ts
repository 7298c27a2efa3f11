// The workflow: `senet run` (every stage in one run directory, with a tuning stage and fingerprints that
// let a re-run skip unchanged stages), its run spec, and ablations (one recipe, several networks).
export {
  parseVariant,
  runAblation,
  ablationMarkdown,
  writeAblation,
  type AblationVariant,
  type AblationRow,
  type AblationOptions,
} from './ablation.js';
export {
  runPipeline,
  StageFailedError,
  type PipelineEvent,
  type PipelineResult,
  type RunPipelineOptions,
} from './run-pipeline.js';
export { readRunSpec, parseRunSpec, type RunSpec, type TuneSpec } from './run-spec.js';
