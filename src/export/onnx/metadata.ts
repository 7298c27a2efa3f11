// What a consumer of an exported model needs besides the graph: the class names, the input size and the
// normalisation the model was trained with, the model's name and senet's version. The .onnx file carries
// them as metadata_props (`senet.*` keys); the web export writes the same fields to model.json.
import { senetVersion } from '../../train/environment.js';
import type { TrainedModel } from '../../train/trained-model.js';

export interface ModelMetadata {
  /** senet's version that exported the model. */
  version: string;
  /** The registry name (`se-resnet20`), or the class name of a model built otherwise. */
  model: string;
  /** One name per logit, in order. */
  classes?: string[];
  /** The input the model expects: [C, H, W]. */
  inputShape: [number, number, number] | number[];
  /** Per-channel normalisation of pixels in [0, 1]: (x − mean) / std. */
  mean?: number[];
  std?: number[];
}

/** The metadata of a trained model (a run or a weights file: loadTrainedModel's result). */
export function trainedModelMetadata(trained: Pick<TrainedModel, 'model' | 'spec' | 'context'>): ModelMetadata {
  return {
    version: senetVersion(),
    model: trained.spec.name,
    classes: [...trained.context.classes],
    inputShape: [...trained.model.inputShape],
    mean: [...trained.context.mean],
    std: [...trained.context.std],
  };
}

/** The metadata as ONNX metadata_props: `senet.*` keys, lists as JSON; fields not known are left out. */
export function metadataProps(metadata: ModelMetadata): Record<string, string> {
  const props: Record<string, string> = { 'senet.version': metadata.version, 'senet.model': metadata.model };
  if (metadata.classes) props['senet.classes'] = JSON.stringify(metadata.classes);
  props['senet.input_shape'] = JSON.stringify(metadata.inputShape);
  if (metadata.mean) props['senet.mean'] = JSON.stringify(metadata.mean);
  if (metadata.std) props['senet.std'] = JSON.stringify(metadata.std);
  return props;
}
