#!/usr/bin/env node
// Locates libtorch for the native build and prints what binding.gyp needs.
// Order: $LIBTORCH (the official libtorch zip layout), then Debian's libtorch-dev.
// Usage: node find-libtorch.cjs --check | include | libdir | libs | defines
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { execSync } = require('node:child_process');

const INSTALL_HINT =
  "senet needs libtorch (PyTorch's C++ library) to build its native engine.\n" +
  '  On Debian/Ubuntu:  sudo apt-get install libtorch-dev libopenblas0-pthread libjpeg-dev\n' +
  '  Or unpack the official libtorch zip and set LIBTORCH=/path/to/libtorch\n' +
  '  Then run `npm rebuild senet` in your project (in a senet checkout, scripts/setup.sh does all of this).';

function multiarchLibDirs() {
  const dirs = [];
  try {
    const triple = execSync('gcc -print-multiarch', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    if (triple) dirs.push(`/usr/lib/${triple}`);
  } catch {
    /* no gcc multiarch: fall back to the usual places */
  }
  dirs.push('/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib');
  return dirs;
}

function hasLib(dir) {
  return fs.existsSync(path.join(dir, 'libtorch.so')) && fs.existsSync(path.join(dir, 'libc10.so'));
}

/** Returns { root, includeDirs, libDir, cmakeConfig } or null. */
function locate() {
  const env = process.env.LIBTORCH;
  if (env) {
    const root = path.resolve(env);
    const inc = path.join(root, 'include');
    const libDir = path.join(root, 'lib');
    if (!fs.existsSync(path.join(inc, 'ATen', 'ATen.h')) || !hasLib(libDir)) {
      throw new Error(
        `LIBTORCH=${env} does not look like libtorch: expected include/ATen/ATen.h and lib/libtorch.so there.\n${INSTALL_HINT}`,
      );
    }
    return {
      root,
      libDir,
      includeDirs: [inc, path.join(inc, 'torch', 'csrc', 'api', 'include')],
      cmakeConfig: path.join(root, 'share', 'cmake', 'Torch', 'TorchConfig.cmake'),
    };
  }
  if (!fs.existsSync('/usr/include/ATen/ATen.h')) return null;
  const libDir = multiarchLibDirs().find(hasLib);
  if (!libDir) return null;
  return {
    root: '/usr',
    libDir,
    includeDirs: ['/usr/include', '/usr/include/torch/csrc/api/include'],
    cmakeConfig: path.join(libDir, 'cmake', 'Torch', 'TorchConfig.cmake'),
  };
}

/** The C++ ABI libtorch was built with, as TorchConfig.cmake records it (default: the new ABI). */
function cxx11Abi(found) {
  try {
    const m = /_GLIBCXX_USE_CXX11_ABI=([01])/.exec(fs.readFileSync(found.cmakeConfig, 'utf8'));
    if (m) return m[1];
  } catch {
    /* no cmake config shipped: assume the compiler default */
  }
  return '1';
}

function version(found) {
  for (const dir of found.includeDirs) {
    const file = path.join(dir, 'torch', 'version.h');
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    const get = (k) => (new RegExp(`#define TORCH_VERSION_${k} (\\d+)`).exec(text) || [])[1];
    return { major: get('MAJOR') || '0', minor: get('MINOR') || '0', patch: get('PATCH') || '0' };
  }
  return { major: '0', minor: '0', patch: '0' };
}

function main() {
  const what = process.argv[2] || '--check';
  let found;
  try {
    found = locate();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
  if (!found) {
    console.error(`libtorch was not found (looked at $LIBTORCH and /usr/include/ATen).\n${INSTALL_HINT}`);
    process.exit(1);
  }
  const v = version(found);
  switch (what) {
    case '--check':
      console.error(
        `senet: building against libtorch ${v.major}.${v.minor}.${v.patch} in ${found.root} (libs: ${found.libDir})`,
      );
      break;
    case 'include':
      console.log(found.includeDirs.join(' '));
      break;
    case 'libdir':
      console.log(found.libDir);
      break;
    case 'libs': {
      // CUDA builds register their kernels from static initialisers: keep those libraries linked even
      // though no symbol of theirs is referenced directly.
      const cuda = ['torch_cuda', 'c10_cuda'].filter((l) => fs.existsSync(path.join(found.libDir, `lib${l}.so`)));
      const forced = cuda.length ? ['-Wl,--no-as-needed', ...cuda.map((l) => `-l${l}`), '-Wl,--as-needed'] : [];
      console.log([...forced, '-ltorch', '-ltorch_cpu', '-lc10', `-Wl,-rpath,${found.libDir}`].join(' '));
      break;
    }
    case 'defines':
      console.log(
        [
          `_GLIBCXX_USE_CXX11_ABI=${cxx11Abi(found)}`,
          `SENET_TORCH_VERSION_MAJOR=${v.major}`,
          `SENET_TORCH_VERSION_MINOR=${v.minor}`,
          `SENET_TORCH_VERSION_PATCH=${v.patch}`,
        ].join(' '),
      );
      break;
    default:
      console.error(`unknown request '${what}': expected --check, include, libdir or defines`);
      process.exit(2);
  }
}

main();
