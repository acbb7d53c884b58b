/**
 * Child process for the conformance suite's kill -9 test: opens the store
 * `argv[2]` (an open.ts spec) with data dir `argv[3]` and writes keys under
 * `argv[4]` as fast as it can with 16 concurrent writers, printing
 * `<revision> <key> <value>` for every acknowledged write, until killed.
 */
import { writeSync } from 'node:fs';
import { openBackend } from './open.ts';

const [spec, dataDir, prefix] = process.argv.slice(2) as [string, string, string];
const b = await openBackend(spec, { dataDir });
const lease = await b.grantLease(3600);
writeSync(1, `lease ${lease}\n`);
let n = 0;
async function writer(w: number): Promise<never> {
  for (;;) {
    const key = `${prefix}w${w}/${n++}`;
    const value = `v${n}`;
    const r = n % 7 === 0 ? await b.create(key, value, { lease }) : await b.put(key, value);
    // Synchronous write: the line is out before the next write is sent.
    writeSync(1, `${r.revision} ${key} ${value}\n`);
  }
}
await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
