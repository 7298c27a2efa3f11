// Training, evaluation and prediction: configs, the trainer and its run directory, checkpoints, metrics,
// the pipeline record, and loading trained models back.
export {
  type TrainConfig, type ConfigLayer, type ConfigSource, type OptimizerName, type ScheduleName, DEFAULT_CONFIG, OPTIMIZERS, SCHEDULES,
  NAMED_DATASETS, resolveConfig, readConfigFile, checkConfigLayer, checkCompleteConfig, fileSource, configHash, effectiveWeightDecay,
} from './config.js';
export { trainRun, InterruptedError, type TrainEvent, type TrainRunOptions, type TrainResult } from './trainer.js';
export { evaluate, evaluateDataset, type Evaluation, type EvaluateOptions } from './evaluate.js';
export { ConfusionMatrix, confusionCounts, accuracy, summarizeConfusion, topK, type ConfusionSummary } from './metrics.js';
export {
  saveCheckpoint, readCheckpoint, loadTrainerState, findCheckpoint, recoverCheckpoint, CHECKPOINT_FORMAT,
  type TrainerState, type CheckpointManifest, type CheckpointContents, type CheckpointStep, type EpochTotals,
} from './checkpoint.js';
export { RunDir, RUN_FILES, defaultRunPath, type EpochMetrics, type CheckpointName } from './run-dir.js';
export { Pipeline, STAGES, readPipeline, type StageName, type StageStatus, type StageRecord, type PipelineFile } from './pipeline.js';
export { loadData, loadSplit, describeData, type TrainingData, type LoadDataOptions } from './data.js';
export {
  loadTrainedModel, buildModel, specFromConfig, weightsMetadata, runWeightsFile,
  type ModelSpec, type ModelContext, type TrainedModel, type LoadTrainedModelOptions,
} from './trained-model.js';
export { buildOptimizer, buildScheduler, parameterGroups } from './optimization.js';
export { predictFiles, decodeImage, type Prediction } from './predict.js';
export { benchmarkModel, type BenchmarkOptions, type BenchmarkResult } from './benchmark.js';
