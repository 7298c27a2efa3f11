// `senet predict`: the most probable classes of image files under a trained model.
import type { Command } from 'commander';
import { loadTrainedModel } from '../../train/trained-model.js';
import { predictFiles } from '../../train/predict.js';
import { formatPercent } from '../../train/progress.js';
import { intOption } from '../options.js';
import { modelSourceOptions, trainedModelOptions, type ModelSourceOptions } from './model-source.js';

interface PredictOptions extends ModelSourceOptions {
  topK: number;
  json?: boolean;
}

export function registerPredict(program: Command): void {
  const command = program
    .command('predict')
    .summary('classify image files with a trained model (top-k classes)')
    .description(
      "classify image files (JPEG, PNG, WebP): each is resized to the model's input, normalised as in training, " +
        'and its top-k classes printed with their probabilities',
    )
    .argument('<images...>', 'image files');
  modelSourceOptions(command)
    .option('-k, --top-k <n>', 'classes to show per image', intOption('--top-k', 1, 1000), 3)
    .option('--json', 'print one JSON array of { file, top: [{ class, index, probability }] }')
    .action(async (images: string[], o: PredictOptions) => {
      const trained = loadTrainedModel(trainedModelOptions(o));
      try {
        const predictions = await predictFiles(trained, images, o.topK);
        if (o.json) {
          console.log(JSON.stringify(predictions));
          return;
        }
        for (const p of predictions) {
          console.log(p.file);
          for (const t of p.top) console.log(`  ${formatPercent(t.probability).padStart(7)}  ${t.class}`);
        }
      } finally {
        trained.model.dispose();
      }
    });
}
