// A report document as one self-contained HTML page: figures and diagrams as inline SVG (pictures inside
// them as data URIs), so it renders from the file alone, offline, with no script at all. The diagrams are
// drawn by senet (state-diagram.ts, charts.ts) rather than by Mermaid in the browser: Mermaid's runtime
// was 3.5 MB of the page's 3.7 MB. A Content-Security-Policy forbids every fetch and every script, so the
// page cannot depend on the network even by accident.
import type { Block, InlineText, ReportDocument } from './document.js';

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(text: InlineText): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : escapeHtml(part)))
    .join('');
}

/** Inline SVGs share one document: prefix their ids (and the references to them) so that they stay apart. */
function scopedSvg(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*>\s*/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}-$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}-$1"`);
}

/** A diagram's id prefix: its kind, Mermaid's first word ('gantt', 'stateDiagram_v2'). */
const diagramPrefix = (mermaid: string) => (mermaid.trim().split(/\s/)[0] ?? 'diagram').replace(/\W/g, '_');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `<h${b.level + 1}>${inline(b.text)}</h${b.level + 1}>`;
    case 'paragraph':
      return `<p>${inline(b.text)}</p>`;
    case 'list':
      return `<ul>${b.items.map((item) => `<li>${inline(item)}</li>`).join('')}</ul>`;
    case 'diagram':
      return `<figure class="diagram">${scopedSvg(b.svg, diagramPrefix(b.mermaid))}<figcaption>${inline(b.caption)}</figcaption></figure>`;
    case 'code':
      return `<pre><code class="language-${escapeHtml(b.language)}">${escapeHtml(b.text)}</code></pre>`;
    case 'figure':
      return (
        `<figure class="chart" id="figure-${escapeHtml(b.file.replace(/\.svg$/, ''))}">` +
        `${scopedSvg(b.svg, b.file.replace(/\W/g, '_'))}<figcaption>${escapeHtml(b.title)}</figcaption></figure>`
      );
    case 'table': {
      const cell = (tag: string, text: InlineText, i: number) =>
        `<${tag}${b.numeric?.[i] ? ' class="num"' : ''}>${inline(text)}</${tag}>`;
      const head = `<tr>${b.header.map((h, i) => cell('th', h, i)).join('')}</tr>`;
      const body = b.rows.map((row) => `<tr>${row.map((c, i) => cell('td', c, i)).join('')}</tr>`).join('\n');
      return `<table><thead>${head}</thead><tbody>\n${body}\n</tbody></table>`;
    }
    case 'details':
      return `<details><summary>${escapeHtml(b.summary)}</summary>\n${b.blocks.map(block).join('\n')}\n</details>`;
  }
}

const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
h1 { border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: .1em .3em; border-radius: 4px; font-size: 90%; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d0d7de; padding: .25em .7em; }
th { background: #f6f8fa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.5em 0; overflow-x: auto; }
figcaption { color: #59636e; font-size: 90%; margin-top: .3em; }
pre { background: #f6f8fa; padding: .8em 1em; border-radius: 6px; overflow-x: auto; }
pre code { background: none; padding: 0; }
figure svg { max-width: 100%; height: auto; }
details { margin: 1em 0; }
summary { cursor: pointer; color: #0969da; }
`;

/** The whole page. */
export function renderHtml(doc: ReportDocument): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:">
<title>${escapeHtml(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${inline(doc.title)}</h1>
${doc.blocks.map(block).join('\n')}
</body>
</html>
`;
}
