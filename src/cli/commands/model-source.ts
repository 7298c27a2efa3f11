// The options that say which trained model a command uses (eval, predict, infer, convert): a run
// directory, or a weights file with, for files that do not say, the model name, input size,
// normalisation and a key map for weights named otherwise.
import type { Command } from 'commander';
import { NORMALIZATIONS } from '../../data/index.js';
import { readKeyMapFile } from '../../models/index.js';
import { loadTrainedModel, type LoadTrainedModelOptions, type TrainedModel } from '../../train/trained-model.js';
import { loadInt8Model, loadRunInt8Model } from '../../train/int8-model.js';
import { MAX_IMAGE_SIZE } from '../../train/config-schema.js';
import { choiceOption, intOption, numberListOption } from '../options.js';

export interface ModelSourceOptions extends Omit<LoadTrainedModelOptions, 'keyMap'> {
  normalize?: keyof typeof NORMALIZATIONS;
  /** A JSON file of key-map rules. */
  keyMap?: string;
  /** The run's int8 model (`senet quantize`), or --weights naming an int8 model file. */
  int8?: boolean;
}

/** --int8, for the commands that can run a model's int8 form. */
export function int8Option(command: Command): Command {
  return command.option(
    '--int8',
    "use the run's int8 model (made by `senet quantize --run DIR`), or --weights naming a model-int8.safetensors",
  );
}

/** The model the options name: the float model, or with --int8 its int8 form. */
export function loadModelSource(o: ModelSourceOptions): TrainedModel {
  if (!o.int8) return loadTrainedModel(trainedModelOptions(o));
  if (o.run && o.weights) throw new Error('name a run directory (--run) or an int8 weights file (--weights), not both');
  if (o.checkpoint) throw new Error('--checkpoint does not apply with --int8: a run has one int8 model');
  if (o.run) return loadRunInt8Model(o.run);
  if (o.weights) return loadInt8Model(o.weights);
  throw new Error('--int8: name the run (--run DIR) or the int8 weights file (--weights FILE)');
}

export function modelSourceOptions(command: Command): Command {
  return weightsFileOptions(
    command
      .option('-r, --run <dir>', 'a run directory of `senet train` (its best checkpoint, else its last)')
      .option(
        '--checkpoint <name>',
        'with --run: which checkpoint, best or last',
        choiceOption('--checkpoint', ['best', 'last'] as const),
      )
      .option('-w, --weights <file>', 'a weights file (.safetensors written by senet, or a .pt/.pth state dict)'),
  );
}

/** The options for weights files that do not say which model they hold. */
export function weightsFileOptions(command: Command): Command {
  return command
    .option(
      '-m, --model <name>',
      'the model the weights are for (needed for weights senet did not write; see `senet models`)',
    )
    .option(
      '--image-size <n>',
      "input side for weights senet did not write (default: the model's)",
      intOption('--image-size', 1, MAX_IMAGE_SIZE),
    )
    .option(
      '--normalize <name>',
      `for weights senet did not write: ${Object.keys(NORMALIZATIONS).join(', ')} (default half)`,
      choiceOption('--normalize', Object.keys(NORMALIZATIONS) as (keyof typeof NORMALIZATIONS)[]),
    )
    .option('--mean <list>', 'for weights senet did not write: per-channel mean', numberListOption('--mean'))
    .option('--std <list>', 'for weights senet did not write: per-channel std', numberListOption('--std'))
    .option(
      '--key-map <file>',
      'for weights named otherwise: a JSON file of key renaming rules ({ "rename": [[regex, to]...], "drop": [regex...] })',
    )
    .option('--allow-nonfinite', 'load weights holding NaN or infinite values (refused by default)')
    .option(
      '--cast-dtypes',
      'convert weights stored as integers where the model has floats, or the reverse (refused by default)',
    );
}

/** The options as loadTrainedModel takes them (a --normalize preset becomes mean and std). */
export function trainedModelOptions(o: ModelSourceOptions): LoadTrainedModelOptions {
  const preset = o.normalize ? NORMALIZATIONS[o.normalize] : undefined;
  return {
    run: o.run,
    checkpoint: o.checkpoint,
    weights: o.weights,
    model: o.model,
    imageSize: o.imageSize,
    allowNonfinite: o.allowNonfinite,
    castDtypes: o.castDtypes,
    mean: o.mean ?? (preset && [...preset.mean]),
    std: o.std ?? (preset && [...preset.std]),
    ...(o.keyMap ? { keyMap: readKeyMapFile(o.keyMap) } : {}),
  };
}
