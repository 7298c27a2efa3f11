// Run reports: the pipeline's timeline and state diagram (Mermaid), training and evaluation charts
// (Vega-Lite → SVG), the model summary and the SE excitation analysis, as report.md and report.html.
export { writeReport, type ReportOptions, type ReportResult } from './report.js';
export {
  readRun,
  checkPipeline,
  parseMetrics,
  checkEvaluation,
  STAGE_STATUSES,
  type RunFiles,
  type Pipeline,
  type PipelineStage,
  type StageStatus,
  type EpochMetrics,
  type RunEvaluation,
} from './run-files.js';
export { ganttChart, type GanttOptions } from './gantt.js';
export { stateDiagram } from './state-diagram.js';
export {
  renderSvg,
  type ChartSpec,
  lossSpec,
  accuracySpec,
  learningRateSpec,
  confusionSpec,
  perClassSpec,
  excitationSpec,
} from './charts.js';
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
