#!/usr/bin/env node
// The `senet` command: runs the compiled CLI (npm run build makes dist/; the published package ships it).
import('../dist/src/cli/main.js')
  .then((cli) => cli.main())
  .catch((error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
      console.error('senet: not built yet: run `npm run build` (or scripts/setup.sh) first');
    } else if (error && typeof error.code === 'string' && error.code.startsWith('SENET_ENGINE_')) {
      // The native engine is missing or does not load: its message names the fix, a stack would hide it.
      console.error(error.message);
    } else {
      console.error(error);
    }
    process.exit(1);
  });
