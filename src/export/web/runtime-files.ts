// Which files of onnxruntime-web (an optional dependency) the browser page needs, found in the installed
// package. The page imports the WebAssembly-only ES module build (ort.wasm.min.mjs); that build loads the
// Emscripten glue ort-wasm-simd-threaded.mjs, which instantiates ort-wasm-simd-threaded.wasm, both from
// ort.env.wasm.wasmPaths (the site's folder). The other builds (WebGPU/JSEP, JSPI, asyncify, the bundles
// with the glue inlined) are not needed, so the site carries about 14 MB instead of 130.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const PACKAGE = 'onnxruntime-web';
/** The runtime files, as named in the package's dist/ folder and in the site. */
export const RUNTIME_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

/**
 * Absolute paths of RUNTIME_FILES in the onnxruntime-web that Node resolves from `from` (this module by
 * default); a clear error if it is missing.
 */
export function runtimeFiles(from: string | URL = import.meta.url): string[] {
  const missing = (detail: string) =>
    new Error(
      `the browser page needs the optional package ${PACKAGE} (its WebAssembly runtime is copied into the site), ` +
        `but ${detail}; install it with \`npm install ${PACKAGE}@1.30\` and export again`,
    );
  let dist: string;
  try {
    // The package's exports name its .wasm files (not its package.json), so one of them locates dist/.
    dist = dirname(createRequire(from).resolve(`${PACKAGE}/ort-wasm-simd-threaded.wasm`));
  } catch {
    throw missing('it is not installed where senet can find it');
  }
  const files = RUNTIME_FILES.map((name) => join(dist, name));
  const absent = files.filter((file) => !existsSync(file));
  if (absent.length > 0) throw missing(`its installation lacks ${absent.join(', ')}`);
  return files;
}
