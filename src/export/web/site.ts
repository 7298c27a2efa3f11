// Writing the browser demo: a static folder that any web server can serve as it is (no build step, nothing
// fetched from elsewhere). It holds the page (index.html, style.css, app.js), the model (model.onnx) with its
// description (model.json: classes, input shape, normalisation, tensor names), and onnxruntime-web's
// WebAssembly runtime copied from the installed package.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../util/files.js';
import { APP_JS, INDEX_HTML, STYLE_CSS } from './page.js';
import { RUNTIME_FILES, runtimeFiles } from './runtime-files.js';

/** model.json: what the page needs to know about model.onnx. */
export interface WebModelInfo {
  /** The senet version that exported the model. */
  version: string;
  /** The registry model's name. */
  model: string;
  classes: string[];
  /** [channels, height, width] of one input image. */
  inputShape: [number, number, number];
  mean: number[];
  std: number[];
  /** The ONNX input (float32 [batch, C, H, W]) and output (logits [batch, classes]) names. */
  input: string;
  logits: string;
  /** The output holding the last SE block's gates [batch, C], or null for a model without SE. */
  seGates: string | null;
}

export interface WebSiteOptions {
  /** The folder to write: created if missing; if it exists it must be empty or hold an earlier export. */
  output: string;
  /** The model as an ONNX file's bytes. */
  onnx: Uint8Array;
  info: WebModelInfo;
}

export interface WebSite {
  folder: string;
  /** The files written, by name. */
  files: string[];
  /** Their total size in bytes. */
  bytes: number;
}

const TEXT_FILES = { 'index.html': INDEX_HTML, 'style.css': STYLE_CSS, 'app.js': APP_JS } as const;
/** Every file of a site: an existing folder holding nothing else may be written over. */
export const SITE_FILES: readonly string[] = [...Object.keys(TEXT_FILES), 'model.onnx', 'model.json', ...RUNTIME_FILES];

/** Writes the demo site for one model into `options.output`. */
export function writeWebSite(options: WebSiteOptions): WebSite {
  const folder = resolve(options.output);
  const runtime = runtimeFiles(); // before anything is written: a missing package leaves no half site
  checkInfo(options.info);
  prepareFolder(folder);
  const text = (s: string) => new TextEncoder().encode(s);
  for (const [name, contents] of Object.entries(TEXT_FILES)) writeFileAtomic(join(folder, name), text(contents));
  writeFileAtomic(join(folder, 'model.json'), text(`${JSON.stringify(options.info, null, 2)}\n`));
  writeFileAtomic(join(folder, 'model.onnx'), options.onnx);
  for (const file of runtime) copyFileSync(file, join(folder, basename(file)));
  const bytes = SITE_FILES.reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
  return { folder, files: [...SITE_FILES], bytes };
}

function prepareFolder(folder: string): void {
  checkSiteFolder(folder);
  mkdirSync(folder, { recursive: true });
}

/**
 * Refuses an output that is a file, or a folder holding anything but an earlier export's files (so that
 * nothing of the user's is overwritten); a folder that does not exist yet is fine.
 */
export function checkSiteFolder(output: string): void {
  const folder = resolve(output);
  if (!existsSync(folder)) return;
  if (!statSync(folder).isDirectory())
    throw new Error(`the output ${folder} is a file, not a folder; name a new or empty folder for the site`);
  const foreign = readdirSync(folder).filter((name) => !SITE_FILES.includes(name));
  if (foreign.length > 0) {
    const shown = foreign.slice(0, 5).join(', ') + (foreign.length > 5 ? `, … (${foreign.length} in all)` : '');
    throw new Error(
      `the output folder ${folder} holds files that are not part of a senet web export (${shown}); ` +
        'name a new or empty folder, so that nothing of yours is overwritten',
    );
  }
}

/** The description must fit the page's checks: a wrong one is refused here, not on the user's screen. */
function checkInfo(info: WebModelInfo): void {
  const [channels] = info.inputShape;
  const problems: string[] = [];
  if (!Array.isArray(info.classes) || info.classes.length === 0 || !info.classes.every((c) => typeof c === 'string'))
    problems.push('the classes are not a list of names');
  if (info.inputShape.length !== 3 || !info.inputShape.every((n) => Number.isSafeInteger(n) && n > 0))
    problems.push(`the input shape ${JSON.stringify(info.inputShape)} is not [channels, height, width]`);
  if (channels !== 1 && channels !== 3)
    problems.push(`the model takes ${channels} input channels; the page feeds 1 (grey) or 3 (RGB)`);
  for (const [name, values] of [
    ['mean', info.mean],
    ['std', info.std],
  ] as const) {
    if (values.length !== channels || !values.every(Number.isFinite))
      problems.push(`the ${name} ${JSON.stringify(values)} is not one finite number per input channel`);
  }
  if (info.std.some((s) => s === 0)) problems.push('the std has a zero');
  if (problems.length > 0) throw new Error(`cannot write the web page for ${info.model}: ${problems.join('; ')}`);
}
