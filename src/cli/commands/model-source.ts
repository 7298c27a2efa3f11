// The options that say which trained model a command uses (eval, predict, infer, convert): a run
// directory, or a weights file with, for files that do not say, the model name, input size,
// normalisation and a key map for weights named otherwise.
import type { Command } from 'commander';
import { NORMALIZATIONS } from '../../data/index.js';
import { readKeyMapFile } from '../../models/index.js';
import type { LoadTrainedModelOptions } from '../../train/trained-model.js';
import { choiceOption, intOption, numberListOption } from '../options.js';

export interface ModelSourceOptions extends Omit<LoadTrainedModelOptions, 'keyMap'> {
  normalize?: keyof typeof NORMALIZATIONS;
  /** A JSON file of key-map rules. */
  keyMap?: string;
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
      intOption('--image-size', 1),
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
    mean: o.mean ?? (preset && [...preset.mean]),
    std: o.std ?? (preset && [...preset.std]),
    ...(o.keyMap ? { keyMap: readKeyMapFile(o.keyMap) } : {}),
  };
}
