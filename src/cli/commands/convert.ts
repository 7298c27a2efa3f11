// `senet convert IN OUT`: weights from any supported source (.pt/.pth/.bin/.safetensors in senet's, timm's,
// torchvision's or moskomule/senet.pytorch's names, or others through --key-map) rewritten in senet's names:
// as .safetensors with senet's metadata (model, options, classes, normalisation), so that the file alone
// says which model it is, or as a plain torch.save state dict for .pt/.pth/.bin.
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as torch from '../../torch/index.js';
import { loadTrainedModel, weightsMetadata } from '../../train/trained-model.js';
import { trainedModelOptions, weightsFileOptions, type ModelSourceOptions } from './model-source.js';

const OUTPUT = /\.(safetensors|pt|pth|bin)$/i;

export function registerConvert(program: Command): void {
  const command = program
    .command('convert')
    .summary("rewrite weights from another source in senet's names (.safetensors with metadata, or .pt)")
    .description(
      'rewrite a weights file from another source (timm, torchvision, moskomule/senet.pytorch, or any with --key-map) ' +
        "in senet's names: .safetensors with senet's metadata, or a plain state dict for .pt/.pth/.bin. Without --model, " +
        'the registry model the weights fit is used.',
    )
    .argument('<in>', 'the weights file (.pt, .pth, .bin or .safetensors)')
    .argument('<out>', 'the file to write (.safetensors, or .pt/.pth/.bin)');
  weightsFileOptions(command).action((input: string, output: string, o: ModelSourceOptions) => {
    if (!OUTPUT.test(output))
      throw new Error(`cannot write '${output}': name it .safetensors (with senet's metadata) or .pt/.pth/.bin`);
    const trained = loadTrainedModel({ ...trainedModelOptions({ ...o, weights: input }), guessModel: true });
    try {
      const state = trained.model.stateDict();
      const safetensors = /\.safetensors$/i.test(output);
      mkdirSync(dirname(output), { recursive: true });
      torch.io.save(state, output, safetensors ? { metadata: weightsMetadata(trained.spec, trained.context) } : {});
      console.log(
        `wrote ${output}: ${Object.keys(state).length} tensors of '${trained.spec.name}' ` +
          `${JSON.stringify(trained.spec.options)}${safetensors ? '' : ' (no metadata in a .pt: name the model with --model to load it)'}`,
      );
    } finally {
      trained.model.dispose();
    }
  });
}
