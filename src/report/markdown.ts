// A report document as GitHub-flavoured Markdown: Mermaid diagrams as ```mermaid blocks (GitHub draws
// them), figures as links to the SVG files written next to report.md, long tables folded in <details>.
import type { Block, InlineText, ReportDocument } from './document.js';

/** Where figure files are linked from, relative to report.md. */
export const FIGURES_DIR = 'figures';

/** Inline text: `code` spans as they are, Markdown's special characters escaped elsewhere. */
function inline(text: InlineText, inTable = false): string {
  return text
    .split(/(`[^`]*`)/)
    .map((part, i) => {
      if (i % 2 === 1) return inTable ? part.replace(/\|/g, '\\|') : part;
      const escaped = part.replace(/([\\*_[\]<>])/g, '\\$1');
      return inTable ? escaped.replace(/\|/g, '\\|') : escaped;
    })
    .join('');
}

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level + 1)} ${inline(b.text)}`;
    case 'paragraph':
      return inline(b.text);
    case 'list':
      return b.items.map((item) => `- ${inline(item)}`).join('\n');
    case 'diagram':
      return `\`\`\`mermaid\n${b.mermaid.trimEnd()}\n\`\`\`\n\n${inline(b.caption)}`;
    case 'code': {
      // A fence longer than any backtick run in the text, so the text cannot end it.
      const fence = '`'.repeat(Math.max(3, ...[...b.text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
      return `${fence}${b.language}\n${b.text.trimEnd()}\n${fence}`;
    }
    case 'figure':
      return `![${b.title.replace(/[[\]]/g, '')}](${FIGURES_DIR}/${b.file})`;
    case 'table': {
      const row = (cells: InlineText[]) => `| ${cells.map((c) => inline(c, true)).join(' | ')} |`;
      const rule = `|${b.header.map((_, i) => (b.numeric?.[i] ? ' ---: ' : ' --- ')).join('|')}|`;
      return [row(b.header), rule, ...b.rows.map(row)].join('\n');
    }
    case 'details':
      // GitHub renders Markdown inside <details> when blank lines separate it from the tags.
      return `<details>\n<summary>${b.summary.replace(/[<>&]/g, '')}</summary>\n\n${b.blocks.map(block).join('\n\n')}\n\n</details>`;
  }
}

export function renderMarkdown(doc: ReportDocument): string {
  return `# ${inline(doc.title)}\n\n${doc.blocks.map(block).join('\n\n')}\n`;
}
