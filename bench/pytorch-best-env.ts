// PyTorch's best case on this machine: glibc malloc told to keep and reuse large blocks instead of mapping fresh
// pages for every large tensor (a jemalloc preload made Debian's PyTorch 1.13 about ten times slower, so it is
// not the baseline). The benchmarks run PyTorch with this environment beside PyTorch as shipped.
export const PYTORCH_BEST_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '17179869184',
  MALLOC_TRIM_THRESHOLD_: '17179869184',
  MALLOC_TOP_PAD_: '1073741824',
};
