// The caching CPU allocator's limit is policy set from TypeScript: SENET_CPU_CACHE_MB (MiB, a fixed bound,
// 0 = off; unset: 2048 MiB that may grow to the peak of bytes in use) is read when src/torch loads and handed
// to the addon through setCpuCacheLimit, which also changes it at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as torch from '../../src/torch/index.js';
import { cpuCacheFromEnv, DEFAULT_CPU_CACHE_MB } from '../../src/torch/memory.js';
import type { CpuCacheStats } from '../../src/torch/native.js';
import { ROOT } from '../helpers.js';

const MIB = 1024 * 1024;

test('SENET_CPU_CACHE_MB gives a fixed limit in MiB; unset means 2048 MiB following the peak; else one error', () => {
  assert.equal(DEFAULT_CPU_CACHE_MB, 2048);
  assert.deepEqual(cpuCacheFromEnv({}), { bytes: 2048 * MIB, followPeak: true });
  assert.deepEqual(cpuCacheFromEnv({ SENET_CPU_CACHE_MB: '0' }), { bytes: 0, followPeak: false });
  assert.deepEqual(cpuCacheFromEnv({ SENET_CPU_CACHE_MB: ' 64 ' }), { bytes: 64 * MIB, followPeak: false });
  for (const bad of ['abc', '-1', '1.5', '1e3']) {
    const message = `SENET_CPU_CACHE_MB must be a whole number of MiB (0 turns the CPU cache off), got '${bad}'`;
    assert.throws(
      () => cpuCacheFromEnv({ SENET_CPU_CACHE_MB: bad }),
      (error: Error) => error.message === message,
    );
  }
});

test('this process runs with the limit its environment asks for', () => {
  const stats = torch.cpuCacheStats();
  assert.equal(stats.limitBytes, cpuCacheFromEnv().bytes);
  assert.equal(stats.followPeak, cpuCacheFromEnv().followPeak);
  assert.equal(stats.enabled, stats.limitBytes > 0);
});

test('setCpuCacheLimit changes the limit at run time; 0 empties the cache and turns caching off', () => {
  const { limitBytes: before, followPeak } = torch.cpuCacheStats();
  try {
    torch.setCpuCacheLimit(64 * MIB);
    torch.tidy(() => {
      torch.zeros(256, 1024);
    }); // 1 MiB: a large block, cached when freed
    const cached = torch.cpuCacheStats();
    assert.equal(cached.limitBytes, 64 * MIB);
    assert.ok(cached.enabled);
    assert.ok(cached.cachedBytes >= MIB, `a freed 1 MiB tensor stays cached, got ${cached.cachedBytes} bytes`);
    const hits = cached.hits;
    torch.tidy(() => {
      torch.zeros(256, 1024);
    });
    assert.equal(torch.cpuCacheStats().hits, hits + 1, 'the same size is served from the cache');
    torch.setCpuCacheLimit(0);
    const off = torch.cpuCacheStats();
    assert.equal(off.enabled, false);
    assert.equal(off.cachedBytes, 0);
    torch.tidy(() => {
      torch.zeros(256, 1024);
    });
    assert.equal(torch.cpuCacheStats().cachedBytes, 0, 'nothing is kept while caching is off');
    assert.throws(
      () => torch.setCpuCacheLimit(-1),
      /setCpuCacheLimit\(\): expected a non-negative whole number of bytes, got -1/,
    );
    assert.throws(() => torch.setCpuCacheLimit(0.5), /got 0\.5/);
  } finally {
    torch.setCpuCacheLimit(before, { followPeak });
  }
});

test('following the peak: freed blocks past the limit stay cached up to the peak in use, a fixed limit frees them', () => {
  const { limitBytes: before, followPeak } = torch.cpuCacheStats();
  try {
    torch.emptyCache();
    // 8 tensors of 4 MiB in use at once (32 MiB, at least that peak), freed together, against a 4 MiB limit.
    const freeEight = () =>
      torch.tidy(() => {
        for (let i = 0; i < 8; i++) torch.zeros(1024, 1024);
      });
    torch.setCpuCacheLimit(4 * MIB, { followPeak: true });
    freeEight();
    const peak = torch.cpuCacheStats();
    assert.ok(peak.peakInUseBytes >= 32 * MIB, `peak ${peak.peakInUseBytes}`);
    assert.ok(peak.cachedBytes >= 32 * MIB, `all eight stay cached, got ${peak.cachedBytes} bytes`);
    const misses = peak.misses;
    freeEight();
    assert.equal(torch.cpuCacheStats().misses, misses, 'the second round is served from the cache');
    torch.setCpuCacheLimit(4 * MIB);
    const fixed = torch.cpuCacheStats();
    assert.equal(fixed.followPeak, false);
    assert.ok(fixed.cachedBytes <= 4 * MIB, `a fixed limit trims the cache to it, got ${fixed.cachedBytes}`);
  } finally {
    torch.setCpuCacheLimit(before, { followPeak });
  }
});

test('a process started with SENET_CPU_CACHE_MB=0, =64 or =abc gets no cache, 64 MiB, or one clear error', () => {
  const index = pathToFileURL(join(ROOT, 'dist', 'src', 'torch', 'index.js')).href;
  const script = `
    import * as torch from ${JSON.stringify(index)};
    torch.tidy(() => { torch.zeros(256, 1024); });
    console.log(JSON.stringify(torch.cpuCacheStats()));
  `;
  const run = (value: string) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, SENET_CPU_CACHE_MB: value },
    });
  const off = run('0');
  assert.equal(off.status, 0, off.stderr);
  assert.deepEqual(
    JSON.parse(off.stdout),
    {
      enabled: false,
      limitBytes: 0,
      followPeak: false,
      peakInUseBytes: 0,
      cachedBytes: 0,
      inUseBytes: 0,
      hits: 0,
      misses: 0,
    },
    'with caching off the allocator is never installed',
  );
  const small = run('64');
  assert.equal(small.status, 0, small.stderr);
  const stats = JSON.parse(small.stdout) as CpuCacheStats;
  assert.equal(stats.limitBytes, 64 * MIB);
  assert.ok(stats.cachedBytes >= MIB, 'the freed tensor is cached');
  const bad = run('abc');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /SENET_CPU_CACHE_MB must be a whole number of MiB \(0 turns the CPU cache off\), got 'abc'/);
});
