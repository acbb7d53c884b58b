#!/usr/bin/env node
// Runs every test of the project with node's built-in test runner.
// Node 20's `node --test` does not expand globs, so this script finds the
// test files (src/**/*.test.ts for units, test/**/*.test.ts for end-to-end)
// and hands them to one `node --test` run, whose summary lines are the result.
// Usage: node scripts/run-tests.mjs [path-filter ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filters = process.argv.slice(2);

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const files = [...walk(join(root, 'src'), []), ...walk(join(root, 'test'), [])]
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const tc = process.env.LOCALEKS_SKIP_TYPECHECK ? { status: 0 } : spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', root], {
  stdio: 'inherit',
  cwd: root,
});
if (tc.status !== 0) {
  console.error('typecheck failed');
  process.exit(tc.status ?? 1);
}
// Four files at a time: the end-to-end files mostly wait (aws CLI and kubectl
// start-ups, simulated delays), so even two cores stay busy; 11 min vs 20 at 2.
const concurrency = process.env.LOCALEKS_TEST_CONCURRENCY ?? '4';
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, LOCALEKS_LOG_LEVEL: process.env.LOCALEKS_LOG_LEVEL ?? 'silent' } },
);
process.exit(r.status ?? 1);
