import { after, test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackendSuite } from '../conformance.ts';
import { SqliteBackend } from './sqlite-backend.ts';

const root = mkdtempSync(join(tmpdir(), 'localeks-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

runBackendSuite('sqlite', () => SqliteBackend.open({ dir: join(root, `suite-${n++}`), compaction: false, leaseSweepMs: 50 }));
void test;
