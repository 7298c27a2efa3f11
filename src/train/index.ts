// Training, evaluation and prediction: configs and recipes, the trainer (`senet train`'s trainRun, and fit()
// for any nn.Module, both on one training loop) and its run directory, weight averaging, test-time
// augmentation, checkpoints, metrics, the record of a run's stages, and loading trained models back.
export {
  type TrainConfig,
  type ConfigLayer,
  type ConfigSource,
  type OptimizerName,
  type ScheduleName,
  DEFAULT_CONFIG,
  OPTIMIZERS,
  SCHEDULES,
  NAMED_DATASETS,
  MIXED_PRECISIONS,
  type MixedPrecision,
  resolveConfig,
  readConfigFile,
  checkConfigLayer,
  checkCompleteConfig,
  fileSource,
  configHash,
  effectiveWeightDecay,
} from './config.js';
export {
  RECIPES,
  RECIPE_FIELDS,
  RECIPE_DESCRIPTIONS,
  recipeLayer,
  decoupledSgd,
  type RecipeName,
} from './recipes.js';
export { ModelEma } from './ema.js';
export { Lookahead } from './lookahead.js';
export { ttaProbabilities, TTA_MODES, TTA_VIEWS, type TTAMode } from './tta.js';
export { whitenFirstLayer, WHITENING_IMAGES } from './whitening.js';
export {
  trainRun,
  InterruptedError,
  type TrainEvent,
  type TrainRunOptions,
  type TrainResult,
  type TuningHook,
  type TuningOutcome,
} from './trainer.js';
export {
  fit,
  evaluateFit,
  type FitOptions,
  type FitResult,
  type FitConfig,
  type FitEvaluation,
  type FitEvent,
} from './fit.js';
export type { TrainingCallbacks, Validation } from './training-loop.js';
export { TrainProgress, Progress } from './progress.js';
export { evaluate, evaluateDataset, type Evaluation, type EvaluateOptions } from './evaluate.js';
export {
  ConfusionMatrix,
  confusionCounts,
  accuracy,
  summarizeConfusion,
  topK,
  type ConfusionSummary,
} from './metrics.js';
export {
  saveCheckpoint,
  readCheckpoint,
  loadTrainerState,
  findCheckpoint,
  recoverCheckpoint,
  CHECKPOINT_FORMAT,
  type TrainerState,
  type CheckpointManifest,
  type CheckpointContents,
  type CheckpointStep,
  type EpochTotals,
} from './checkpoint.js';
export { RunDir, RUN_FILES, defaultRunPath, type EpochMetrics, type CheckpointName } from './run-dir.js';
export {
  Pipeline,
  STAGES,
  readPipeline,
  type StageName,
  type StageStatus,
  type StageRecord,
  type PipelineFile,
} from './stages.js';
export { loadData, loadSplit, describeData, type TrainingData, type LoadDataOptions } from './data.js';
export {
  loadTrainedModel,
  buildModel,
  specFromConfig,
  weightsMetadata,
  runWeightsFile,
  type ModelSpec,
  type ModelContext,
  type TrainedModel,
  type LoadTrainedModelOptions,
} from './trained-model.js';
export { buildOptimizer, buildScheduler, parameterGroups } from './optimization.js';
export { predictFiles, decodeImage, type Prediction } from './predict.js';
export { benchmarkModel, type BenchmarkOptions, type BenchmarkResult } from './benchmark.js';
