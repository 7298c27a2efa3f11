// The browser demo: a static site that classifies images with an exported model in onnxruntime-web.
export {
  writeWebSite,
  checkSiteFolder,
  SITE_FILES,
  type WebModelInfo,
  type WebSiteOptions,
  type WebSite,
} from './site.js';
export { runtimeFiles, RUNTIME_FILES } from './runtime-files.js';
export { exportWebSite, type ExportWebOptions, type WebExport } from './export-web.js';
