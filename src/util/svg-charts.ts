// Drawing Vega-Lite charts as SVG in Node (Vega's headless view: no browser, no canvas), with one shared
// look. Used by the tuning plots here and by the run reports (src/report), which sit above this layer.
// Vega and Vega-Lite are imported on the first chart drawn, not with senet: most programs draw none.
import type { TopLevelSpec } from 'vega-lite';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/** Shared look: no chart border, readable fonts. */
export const CHART_CONFIG = {
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
} as const;

/** Renders a Vega-Lite spec to an SVG document (text). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
