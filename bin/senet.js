#!/usr/bin/env node
// The `senet` command: runs the compiled CLI (npm run build makes dist/).
import('../dist/src/cli/main.js')
  .then((cli) => cli.main())
  .catch((error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/src/cli')) {
      console.error('senet: not built yet: run `npm run build` (or scripts/setup.sh) first');
    } else {
      console.error(error);
    }
    process.exit(1);
  });
