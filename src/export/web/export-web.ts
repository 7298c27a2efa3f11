// `senet export --format web`: a trained model (a run directory or a weights file) exported to ONNX, with
// the last SE unit's channel gates as a second output when the model has SE units, and written with the
// browser page as a static site (site.ts).
import * as torch from '../../torch/index.js';
import { excitationUnits } from '../../se/probe.js';
import { loadTrainedModel, type LoadTrainedModelOptions } from '../../train/trained-model.js';
import { exportModel, trainedModelMetadata, type OnnxOptions } from '../onnx/index.js';
import { runtimeFiles } from './runtime-files.js';
import { checkSiteFolder, writeWebSite, type WebSite } from './site.js';

export interface ExportWebOptions extends LoadTrainedModelOptions, Pick<OnnxOptions, 'keepBatchNorm' | 'weightType'> {
  /** The site's folder: created if missing; if it exists it must be empty or hold an earlier export. */
  output: string;
  /** The gates output: by default present for a model with SE units; true makes a model without them an error. */
  seGates?: boolean;
}

export interface WebExport extends WebSite {
  model: string;
  /** Whether the page shows SE gates (the model has SE units). */
  seGates: boolean;
}

/** Exports a trained model as the browser demo site. */
export function exportWebSite(options: ExportWebOptions): WebExport {
  // A missing onnxruntime-web or an output folder of other files is reported before the model is traced.
  runtimeFiles();
  checkSiteFolder(options.output);
  const trained = loadTrainedModel(options);
  try {
    const seGates = options.seGates ?? excitationUnits(trained.model).length > 0;
    const [c, h, w] = trained.model.inputShape;
    // A batch of 2, as exportOnnx: a traced size 1 could not be told from the model's own singleton dimensions.
    const example = torch.zeros([2, c, h, w]);
    try {
      const { bytes, metadata } = exportModel(trained.model, example, {
        seGates,
        keepBatchNorm: options.keepBatchNorm,
        weightType: options.weightType,
        metadata: trainedModelMetadata(trained),
      });
      const site = writeWebSite({
        output: options.output,
        onnx: bytes,
        info: {
          version: metadata.version,
          model: metadata.model,
          classes: [...trained.context.classes],
          inputShape: [c, h, w],
          mean: [...trained.context.mean],
          std: [...trained.context.std],
          input: 'input',
          logits: 'logits',
          seGates: seGates ? 'se_gates' : null,
        },
      });
      return { ...site, model: metadata.model, seGates };
    } finally {
      example.dispose();
    }
  } finally {
    trained.model.dispose();
  }
}
