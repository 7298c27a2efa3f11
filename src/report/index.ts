// Run reports: results first (evaluation, misclassified images, training curves per epoch and per step,
// augmentation samples), the SE excitation analysis, the model summary, the pipeline's state diagram and
// timeline (Mermaid in report.md, SVG in report.html) and a reproducibility block, as report.md and
// report.html. Vega, Vega-Lite and sharp are imported when a report is made, not with this module.
export { writeReport, type ReportOptions, type ReportResult } from './report.js';
export {
  readRun,
  checkPipeline,
  parseMetrics,
  checkEvaluation,
  parseSteps,
  checkEnvironment,
  STAGE_STATUSES,
  type RunFiles,
  type Pipeline,
  type PipelineStage,
  type StageStatus,
  type EpochMetrics,
  type RunEvaluation,
  type StepLoss,
  type RunEnvironment,
  type TrainingSession,
} from './run-files.js';
export { ganttChart, placeStages, type GanttOptions, type PlacedStage } from './gantt.js';
export { stateDiagram, stateDiagramSvg } from './state-diagram.js';
export {
  renderSvg,
  type ChartSpec,
  lossSpec,
  accuracySpec,
  learningRateSpec,
  confusionSpec,
  perClassSpec,
  excitationSpec,
  stepLossSpec,
  ganttSpec,
  spreadDomain,
  MAX_STEP_POINTS,
} from './charts.js';
export { findMisclassified, classRoundRobin, balancedPick, type Misclassified } from './misclassified.js';
export { imageGridSvg, pictureSvg, type Tile } from './image-figures.js';
export {
  analyseExcitation,
  lastUnitPerStage,
  balancedSubset,
  unitStatistics,
  type ExcitationAnalysis,
  type UnitExcitation,
  type AnalyseExcitationOptions,
} from './se-analysis.js';
export { writeTensorboard } from './tensorboard.js';
