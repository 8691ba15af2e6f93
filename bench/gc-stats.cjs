/**
 * Preloaded into the self-managed proxies by `bench/run.mjs --gc-stats` (`node --require`): counts
 * the process' garbage collections (a `gc` PerformanceObserver) and, on SIGWINCH (Nest's shutdown
 * hooks take SIGUSR2), writes the running totals to $BENCH_GC_STATS_FILE, so that the benchmark can
 * take them before and after each measured run. Nothing of it is part of the product.
 */
'use strict';
const fs = require('node:fs');
const { PerformanceObserver, constants } = require('node:perf_hooks');

const file = process.env.BENCH_GC_STATS_FILE;
if (file) {
  const totals = { seq: 0, minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        totals.minor += 1;
        totals.minorMs += entry.duration;
      } else {
        totals.major += 1;
        totals.majorMs += entry.duration;
      }
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('SIGWINCH', () => {
    totals.seq += 1;
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(totals));
    fs.renameSync(`${file}.tmp`, file);
  });
}
