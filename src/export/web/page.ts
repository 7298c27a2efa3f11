// The browser page of `senet export --format web`, as the three text files written into the site: the HTML,
// its style sheet and its one script module. They are plain files a browser runs as they are (no framework,
// no build step); they live here as strings because the package ships compiled TypeScript only. The script
// avoids template literals so that it can sit inside one.
//
// The script preprocesses an image as `senet predict` does (src/train/predict.ts): resized to cover the
// model's input and centre-cropped, scaled to [0, 1] and normalised with the run's mean and std. The resize
// is the browser's canvas (a different filter from sharp's), so on a photo the probabilities can differ
// slightly from senet's; on an image already of the input's size no resampling happens and they agree.

/** index.html: a strict content security policy: everything comes from the site's own folder. */
export const INDEX_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'">
<title>senet: classify an image</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<script type="module" src="app.js"></script>
</head>
<body>
<main>
<h1>Classify an image <span id="model-name"></span></h1>
<p id="status" role="status" aria-live="polite">Loading the model…</p>
<label id="drop" class="drop" for="file">
<span>Drop an image here, or click to choose one (JPEG, PNG, WebP)</span>
<input id="file" type="file" accept="image/*" disabled>
</label>
<section id="result" hidden>
<figure class="input">
<canvas id="preview"></canvas>
<figcaption id="file-name"></figcaption>
</figure>
<div class="top">
<h2>Most probable classes</h2>
<ol id="top"></ol>
</div>
</section>
<figure id="gates" hidden>
<figcaption id="gates-caption"></figcaption>
<svg id="gates-chart" xmlns="http://www.w3.org/2000/svg" role="img"></svg>
</figure>
<noscript><p class="error">This page needs JavaScript and WebAssembly.</p></noscript>
</main>
</body>
</html>
`;

export const STYLE_CSS: string = `body { font: 15px/1.4 system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
main { max-width: 760px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.4em; }
h1 span { color: #666; font-weight: normal; }
h2 { font-size: 1.1em; margin: 0 0 8px; }
#status.error { color: #b00020; font-weight: bold; }
.drop { display: block; border: 2px dashed #999; border-radius: 8px; padding: 24px; text-align: center; cursor: pointer; }
.drop.over { border-color: #2962ff; background: #e8eeff; }
.drop input { display: block; margin: 12px auto 0; }
#result:not([hidden]) { display: flex; gap: 24px; margin-top: 16px; align-items: flex-start; }
figure { margin: 0; }
.input canvas { width: 128px; height: 128px; image-rendering: pixelated; border: 1px solid #ccc; }
.input figcaption { font-size: 0.85em; color: #666; max-width: 128px; overflow-wrap: anywhere; }
.top { flex: 1; }
#top { margin: 0; padding-left: 1.5em; }
#top li { margin: 4px 0; }
#top .row { display: flex; gap: 8px; align-items: center; }
#top .name { flex: 0 0 10em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
#top .bar { flex: 1; height: 12px; background: #e3e3e3; border-radius: 3px; }
#top .bar span { display: block; height: 100%; background: #2962ff; border-radius: 3px; }
#top .p { flex: 0 0 4.5em; text-align: right; font-variant-numeric: tabular-nums; }
#gates { margin-top: 24px; }
#gates figcaption { font-size: 0.9em; color: #444; margin-bottom: 4px; }
#gates-chart { width: 100%; height: auto; background: #fff; border: 1px solid #ddd; }
#gates-chart rect.gate { fill: #ff6d00; }
#gates-chart line { stroke: #ccc; }
#gates-chart text { font-size: 10px; fill: #666; }
`;

/** app.js: loads model.json and model.onnx, then classifies each image dropped or chosen. */
export const APP_JS: string = `// senet's browser demo: classifies an image with onnxruntime-web (WebAssembly) as 'senet predict' does.
import * as ort from './ort.wasm.min.mjs';

// The runtime's .wasm and its loader sit next to this script; one thread needs no cross-origin isolation.
ort.env.wasm.wasmPaths = new URL('./', import.meta.url).href;
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;

const TOP_K = 5;
const byId = (id) => document.getElementById(id);
let info = null;
let session = null;
let gatesOutput = null;
let pending = Promise.resolve();

function setStatus(text, isError) {
  const status = byId('status');
  status.textContent = text;
  status.classList.toggle('error', Boolean(isError));
}

async function fetchOk(path, what) {
  const response = await fetch(path);
  if (!response.ok) throw new Error('cannot load ' + what + ' (' + path + '): HTTP ' + response.status);
  return response;
}

/** model.json, checked: a wrong file stops here with a message rather than giving nonsense later. */
function checkInfo(value) {
  const fail = (what) => {
    throw new Error('model.json is not a senet model description: ' + what + '; export the site again');
  };
  if (!value || typeof value !== 'object') fail('not a JSON object');
  const { classes, inputShape, mean, std } = value;
  if (!Array.isArray(classes) || classes.length === 0 || !classes.every((c) => typeof c === 'string'))
    fail('"classes" is not a list of names');
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((n) => Number.isInteger(n) && n > 0))
    fail('"inputShape" is not [channels, height, width]');
  if (inputShape[0] !== 1 && inputShape[0] !== 3) fail('the model takes ' + inputShape[0] + ' channels, not 1 or 3');
  for (const [name, list] of [['mean', mean], ['std', std]])
    if (!Array.isArray(list) || list.length !== inputShape[0] || !list.every((v) => Number.isFinite(v)))
      fail('"' + name + '" is not one number per channel');
  if (std.some((s) => s === 0)) fail('"std" has a zero');
  return value;
}

async function load() {
  info = checkInfo(await (await fetchOk('model.json', 'the model description')).json());
  const model = new Uint8Array(await (await fetchOk('model.onnx', 'the model')).arrayBuffer());
  session = await ort.InferenceSession.create(model, { executionProviders: ['wasm'] });
  if (!session.inputNames.includes(info.input) || !session.outputNames.includes(info.logits))
    throw new Error('model.onnx has no input "' + info.input + '" or output "' + info.logits + '"; export the site again');
  gatesOutput = info.seGates && session.outputNames.includes(info.seGates) ? info.seGates : null;
  byId('model-name').textContent = '(' + info.model + ', ' + info.classes.length + ' classes)';
  const [, height, width] = info.inputShape;
  const preview = byId('preview');
  preview.width = width;
  preview.height = height;
  byId('file').disabled = false;
  setStatus('Ready: drop or choose an image.');
}

/**
 * The image as the model's input, float32 [1, C, H, W]: scaled to cover H×W and centre-cropped (sharp's
 * fit 'cover', position 'centre'), drawn on the preview canvas, then (x / 255 - mean[c]) / std[c].
 */
function toInput(bitmap) {
  const [channels, height, width] = info.inputShape;
  const scale = Math.max(width / bitmap.width, height / bitmap.height);
  const sw = width / scale;
  const sh = height / scale;
  const canvas = byId('preview');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  context.imageSmoothingEnabled = true;
  context.imageSmoothingQuality = 'high';
  context.clearRect(0, 0, width, height);
  context.drawImage(bitmap, (bitmap.width - sw) / 2, (bitmap.height - sh) / 2, sw, sh, 0, 0, width, height);
  const rgba = context.getImageData(0, 0, width, height).data;
  const plane = width * height;
  const data = new Float32Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    const r = rgba[p * 4];
    const g = rgba[p * 4 + 1];
    const b = rgba[p * 4 + 2];
    const values = channels === 3 ? [r, g, b] : [grey(r, g, b)];
    for (let c = 0; c < channels; c++) data[c * plane + p] = (values[c] / 255 - info.mean[c]) / info.std[c];
  }
  return new ort.Tensor('float32', data, [1, channels, height, width]);
}

/** sRGB to grey as libvips (sharp's 'b-w'): the luminance of the linear colour, encoded back to sRGB. */
function grey(r, g, b) {
  const linear = (v) => {
    const x = v / 255;
    return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  const encoded = y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055;
  return Math.round(Math.min(1, Math.max(0, encoded)) * 255);
}

function softmax(logits) {
  const max = Math.max(...logits);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

async function classify(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none' });
  } catch {
    setStatus('cannot read ' + file.name + ' as an image; choose a JPEG, PNG or WebP file', true);
    return;
  }
  setStatus('Classifying ' + file.name + '…');
  const input = toInput(bitmap);
  bitmap.close();
  const outputs = await session.run({ [info.input]: input });
  const probabilities = softmax(outputs[info.logits].data);
  const order = probabilities.map((p, i) => i).sort((a, b) => probabilities[b] - probabilities[a]);
  showTop(order.slice(0, TOP_K), probabilities);
  showGates(gatesOutput ? Array.from(outputs[gatesOutput].data) : null);
  byId('file-name').textContent = file.name;
  byId('result').hidden = false;
  byId('result').dataset.file = file.name;
  setStatus('Classified ' + file.name + '.');
}

function showTop(indices, probabilities) {
  const list = byId('top');
  list.replaceChildren();
  for (const index of indices) {
    const p = probabilities[index];
    const item = document.createElement('li');
    item.dataset.class = info.classes[index];
    item.dataset.index = String(index);
    item.dataset.probability = String(p);
    const row = document.createElement('div');
    row.className = 'row';
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = info.classes[index];
    name.title = info.classes[index];
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = (p * 100).toFixed(2) + '%';
    bar.append(fill);
    const value = document.createElement('span');
    value.className = 'p';
    value.textContent = (p * 100).toFixed(2) + '%';
    row.append(name, bar, value);
    item.append(row);
    list.append(item);
  }
}

const SVG = 'http://www.w3.org/2000/svg';
function svgElement(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** One bar per channel of the last SE block: the gate (0 to 1) it multiplied that channel by for this image. */
function showGates(gates) {
  const figure = byId('gates');
  figure.hidden = !gates;
  if (!gates) return;
  const chart = byId('gates-chart');
  const width = 720;
  const height = 160;
  const left = 28;
  const bottom = 18;
  const plot = height - bottom - 6;
  chart.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
  chart.setAttribute('aria-label', 'gates of ' + gates.length + ' channels');
  chart.replaceChildren();
  for (const level of [0, 0.5, 1]) {
    const y = 6 + plot * (1 - level);
    chart.append(svgElement('line', { x1: left, x2: width, y1: y, y2: y }));
    const label = svgElement('text', { x: left - 4, y: y + 3, 'text-anchor': 'end' });
    label.textContent = String(level);
    chart.append(label);
  }
  const step = (width - left) / gates.length;
  gates.forEach((gate, c) => {
    const h = plot * Math.min(1, Math.max(0, gate));
    const rect = svgElement('rect', {
      class: 'gate',
      x: left + c * step,
      y: 6 + plot - h,
      width: Math.max(step * 0.8, 0.5),
      height: h,
      'data-channel': c,
      'data-gate': gate,
    });
    const title = svgElement('title', {});
    title.textContent = 'channel ' + c + ': ' + gate.toFixed(3);
    rect.append(title);
    chart.append(rect);
  });
  const axis = svgElement('text', { x: left, y: height - 4 });
  axis.textContent = 'channel 0 … ' + (gates.length - 1);
  chart.append(axis);
  byId('gates-caption').textContent =
    'Channel gates of the last SE block (' + gates.length + ' channels) for this image: ' +
    'how strongly it let each channel through.';
}

/** Images are classified one at a time, in the order given. */
function enqueue(file) {
  if (!file || !session) return;
  pending = pending.then(() => classify(file)).catch((error) => setStatus('classification failed: ' + error.message, true));
}

/** A file dropped anywhere on the page is classified (rather than opened by the browser in place of the page). */
function listen() {
  const drop = byId('drop');
  byId('file').addEventListener('change', (event) => enqueue(event.target.files[0]));
  window.addEventListener('dragover', (event) => {
    event.preventDefault();
    drop.classList.add('over');
  });
  window.addEventListener('dragleave', (event) => {
    if (!event.relatedTarget) drop.classList.remove('over');
  });
  window.addEventListener('drop', (event) => {
    event.preventDefault();
    drop.classList.remove('over');
    enqueue(event.dataTransfer.files[0]);
  });
}

listen();
load().catch((error) => setStatus('cannot start: ' + error.message, true));
`;
