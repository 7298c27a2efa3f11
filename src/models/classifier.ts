// Which part of a model is its classifier and which its backbone: the classifier is the child the model
// names (Model.classifierName: `fc` for senet's models), the backbone is everything else. Fine-tuning
// (src/train/pretrained.ts) re-initialises the classifier when the class count changes, and may freeze
// the backbone or give it a smaller learning rate.
import { nn, type Tensor } from '../torch/index.js';
import type { Model } from './model-options.js';

/** The name of the model's classifier child; a clear error for a module that does not name one. */
export function classifierName(model: nn.Module): string {
  const name = (model as unknown as Partial<Model>).classifierName;
  const child = typeof name === 'string' ? model.namedChildren().find(([n]) => n === name)?.[1] : undefined;
  if (!child) {
    throw new Error(
      `${model.constructor.name} does not name its classifier (a classifierName naming one of its children), ` +
        'so it cannot tell its backbone from its classifier',
    );
  }
  return name!;
}

const inClassifier = (key: string, name: string) => key.startsWith(`${name}.`);

/** The state-dict keys of the classifier ('fc.weight', 'fc.bias'). */
export function classifierKeys(model: nn.Module): string[] {
  const name = classifierName(model);
  return Object.keys(model.stateDict()).filter((k) => inClassifier(k, name));
}

/** The model's parameters, split into the classifier's and the backbone's (each in the model's order). */
export function splitParameters(model: nn.Module): { classifier: Tensor[]; backbone: Tensor[] } {
  const name = classifierName(model);
  const classifier: Tensor[] = [];
  const backbone: Tensor[] = [];
  for (const [key, p] of model.namedParameters()) (inClassifier(key, name) ? classifier : backbone).push(p);
  return { classifier, backbone };
}

/** The BatchNorm layers of the backbone. */
export function backboneBatchNorms(model: nn.Module): nn.Module[] {
  const name = classifierName(model);
  return model
    .namedModules()
    .filter(([key, m]) => m instanceof nn.BatchNormNd && key !== name && !inClassifier(key, name))
    .map(([, m]) => m);
}
