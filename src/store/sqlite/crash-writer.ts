/**
 * Child process for the kill -9 test (sqlite-backend.test.ts): opens the store
 * in argv[2] and writes as fast as it can with 16 concurrent writers, printing
 * `<revision> <key> <value>` for every acknowledged write, until killed.
 */
import { writeSync } from 'node:fs';
import { SqliteBackend } from './sqlite-backend.ts';

const b = await SqliteBackend.open({ dir: process.argv[2]!, compaction: false });
const lease = await b.grantLease(3600);
writeSync(1, `lease ${lease}\n`);
let n = 0;
async function writer(w: number): Promise<never> {
  for (;;) {
    const key = `/crash/w${w}/${n++}`;
    const value = `v${n}`;
    const r = n % 7 === 0 ? await b.create(key, value, { lease }) : await b.put(key, value);
    // Synchronous write: the line is out before the next write is sent.
    writeSync(1, `${r.revision} ${key} ${value}\n`);
  }
}
await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
