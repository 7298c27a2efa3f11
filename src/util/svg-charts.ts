// Drawing Vega-Lite charts as SVG in Node (Vega's headless view: no browser, no canvas), with one shared
// look. Used by the tuning plots here and by the run reports (src/report), which sit above this layer.
// Vega and Vega-Lite are imported on the first drawing, not with senet: together they take about a second
// to load, which `import { torch } from 'senet'` should not pay. They are optional dependencies (27 MB
// with what they pull in): a project that draws no chart may install without them.
import type { TopLevelSpec } from 'vega-lite';

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/**
 * A Vega-Lite spec as senet builds it: plain JSON. Its own type rather than vega-lite's TopLevelSpec, so that
 * senet's published typings do not pull in Vega's, which need the DOM library and fail a consumer's `tsc`
 * with `skipLibCheck: false`.
 */
export type ChartSpec = { readonly [key: string]: unknown };

/** Shared look: no chart border, readable fonts. */
export const CHART_CONFIG = {
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' },
} as const;

/** The optional packages that draw the charts. */
const CHART_PACKAGES = ['vega', 'vega-lite'] as const;

/** Vega and Vega-Lite, imported on first use; one error naming the fix when either is not installed. */
async function loadVega() {
  try {
    return await Promise.all([import('vega'), import('vega-lite')]);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if (code !== 'ERR_MODULE_NOT_FOUND' || !CHART_PACKAGES.some((p) => message.includes(`'${p}'`))) throw error;
    throw new Error(
      `senet draws its charts (senet report, the tuning plots) with the optional packages ${CHART_PACKAGES.join(' and ')}, ` +
        `which are not installed: run \`npm install ${CHART_PACKAGES.join(' ')}\` in your project`,
    );
  }
}

/** Renders a Vega-Lite spec to an SVG document (text). */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, vl] = await loadVega();
  const view = new vega.View(vega.parse(vl.compile(spec as unknown as TopLevelSpec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
