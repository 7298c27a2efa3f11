// `senet export --format onnx --output model.onnx`: a trained model (a run directory, or a weights file with
// --model) as a standard ONNX file (opset 17, symbolic batch, BatchNorm folded unless --keep-batchnorm,
// float32 weights unless --fp16/--bf16) that carries its classes, input size and normalisation;
// `--format web --output site/`: the same model with a static browser page that runs it (src/export/web).
import type { Command } from 'commander';
import { exportOnnx, exportWebSite } from '../../export/index.js';
import { choiceOption } from '../options.js';
import { modelSourceOptions, trainedModelOptions, type ModelSourceOptions } from './model-source.js';

const FORMATS = ['onnx', 'web'] as const;

interface ExportOptions extends ModelSourceOptions {
  format: (typeof FORMATS)[number];
  output: string;
  keepBatchnorm?: boolean;
  fp16?: boolean;
  bf16?: boolean;
  seGates?: boolean;
}

export function registerExport(program: Command): void {
  const command = program
    .command('export')
    .summary('write a trained model for deployment (ONNX, or a browser page)')
    .description(
      'write a trained model (--run DIR, or --weights FILE with --model for weights senet did not write) as an ONNX ' +
        'file: input `input` [batch, C, H, W] (normalised pixels), output `logits` [batch, classes], opset 17, with ' +
        "the model's classes, input size and normalisation as metadata; --format web writes a folder instead: a static " +
        "page that classifies images in the browser with onnxruntime-web (top-5 classes, and the last SE unit's gates)",
    );
  modelSourceOptions(command)
    .option('--format <name>', `the format: ${FORMATS.join(', ')}`, choiceOption('--format', FORMATS), 'onnx')
    .requiredOption('-o, --output <path>', 'the file to write (model.onnx), or with --format web the folder (site/)')
    .option('--keep-batchnorm', 'keep BatchNormalization nodes instead of folding them into the convolutions')
    .option('--fp16', 'store the weights as float16 (cast to float32 in the graph): half the file size')
    .option('--bf16', 'store the weights as bfloat16 (cast to float32 in the graph): half the file size')
    .option(
      '--se-gates',
      'add an output `se_gates` [batch, C]: the gates of the last SE unit (web: always, for SE models)',
    )
    .action((o: ExportOptions) => {
      if (o.fp16 && o.bf16) throw new Error('choose one of --fp16 and --bf16');
      const weightType = o.fp16 ? 'float16' : o.bf16 ? 'bfloat16' : 'float32';
      // The same model and graph options for both formats: the web page holds the ONNX file.
      const request = {
        ...trainedModelOptions(o),
        output: o.output,
        keepBatchNorm: o.keepBatchnorm,
        weightType,
        seGates: o.seGates,
      } as const;
      if (o.format === 'web') {
        const site = exportWebSite(request);
        const mib = (site.bytes / 2 ** 20).toFixed(1);
        const gates = site.seGates ? ", with the last SE unit's gates" : '';
        console.log(
          `wrote ${site.folder}: a web page for ${site.model}${gates} (${site.files.length} files, ${mib} MiB); ` +
            'serve the folder over HTTP (e.g. python3 -m http.server -d FOLDER) and open it in a browser',
        );
        return;
      }
      const result = exportOnnx(request);
      const mib = (result.bytes.length / 2 ** 20).toFixed(1);
      const folded = result.foldedBatchNorms ? `, ${result.foldedBatchNorms} BatchNorms folded` : '';
      console.log(
        `wrote ${result.file}: ${result.metadata.model} as ONNX (opset 17, ${result.nodes} nodes${folded}, ${mib} MiB), ` +
          `input [batch, ${result.metadata.inputShape.join(', ')}], ${result.metadata.classes?.length} classes`,
      );
    });
}
