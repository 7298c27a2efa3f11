// A report as a list of blocks that both renderers understand: markdown.ts writes them as GitHub
// Markdown (figures as files next to it), html.ts as one self-contained page (figures inline). Keeping
// the content here and the syntax there means the two reports can never say different things.

/** Text with `code` spans marked by backticks; no other inline markup. */
export type InlineText = string;

/** Level 1 is a section under the report title (## in Markdown, <h2> in HTML). */
export interface Heading {
  kind: 'heading';
  level: 1 | 2 | 3;
  text: InlineText;
}
export interface Paragraph {
  kind: 'paragraph';
  text: InlineText;
}
export interface BulletList {
  kind: 'list';
  items: InlineText[];
}
/**
 * A diagram drawn twice: Mermaid text for report.md (GitHub draws it; nothing to ship) and an SVG drawn
 * here for report.html (so the page needs no 3 MB diagram runtime).
 */
export interface DiagramBlock {
  kind: 'diagram';
  mermaid: string;
  svg: string;
  caption: InlineText;
}
/** Preformatted text (the resolved config as JSON). */
export interface CodeBlock {
  kind: 'code';
  language: string;
  text: string;
}
/** An SVG figure; `file` is its name under figures/ (e.g. 'loss.svg'). */
export interface Figure {
  kind: 'figure';
  file: string;
  title: string;
  svg: string;
}
export interface Table {
  kind: 'table';
  header: InlineText[];
  rows: InlineText[][];
  /** Which columns hold numbers (right-aligned). */
  numeric?: boolean[];
}
/** Content folded away by default (long tables). */
export interface Details {
  kind: 'details';
  summary: string;
  blocks: Block[];
}

export type Block = Heading | Paragraph | BulletList | DiagramBlock | CodeBlock | Figure | Table | Details;

export interface ReportDocument {
  title: string;
  blocks: Block[];
}

/** Every figure of a document, nested ones included, in order. */
export function figuresOf(blocks: readonly Block[]): Figure[] {
  return blocks.flatMap((b) => (b.kind === 'figure' ? [b] : b.kind === 'details' ? figuresOf(b.blocks) : []));
}
