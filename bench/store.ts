/**
 * npm run bench:store — the store's throughput and latency, per backend:
 *   - acknowledged (durable) writes/s at concurrency 1 and 64 (put of a new key, ~300-byte JSON value)
 *   - watch events/s delivered to 1,000 watchers of one prefix (64 concurrent writers)
 *   - range latency over 100k keys (full range, first page of 500 now and at a past revision, count only)
 * and, for comparison, raw etcd3 client puts/s on the same etcd.
 * Targets (issue 3): sqlite >= 10,000 acked writes/s at concurrency 64; etcd backend within 2x of raw etcd3 puts.
 *
 * Environment: BENCH_SECONDS (per write measurement, default 3), BENCH_BACKENDS (comma list, default sqlite,memory,etcd).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { Backend, TxnOp } from '../src/store/backend.ts';
import { EtcdBackend } from '../src/store/etcd/etcd-backend.ts';
import { type EtcdServer, etcdMissing, startEtcd } from '../src/store/etcd/etcd-server.ts';
import { MemoryBackend } from '../src/store/memory/memory-backend.ts';
import { SqliteBackend } from '../src/store/sqlite/sqlite-backend.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const BACKENDS = (process.env.BENCH_BACKENDS ?? 'sqlite,memory,etcd').split(',');
const VALUE = JSON.stringify({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'bench', namespace: 'default', uid: '6b1a1c2e-0f7e-4c47-9a51-3b0c7c1d2e3f', labels: { app: 'bench', tier: 'store' } },
  data: { payload: 'x'.repeat(120) },
});

interface Row {
  backend: string;
  c1?: number;
  c64?: number;
  watch?: number;
  rangeAll?: number;
  rangePage?: number;
  rangeOldPage?: number;
  rangeCount?: number;
  note?: string;
}

/** writes runs `concurrency` workers calling put(key) for SECONDS and returns acked ops/s. */
async function writes(concurrency: number, put: (key: string) => Promise<unknown>, tag: string): Promise<number> {
  let n = 0;
  let stop = false;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      await put(`/bench/${tag}/c${concurrency}/w${w}/k${i}`);
      n++;
      if (performance.now() > end) stop = true;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  return n / ((performance.now() - t0) / 1000);
}

async function watchRate(b: Backend, writesTotal: number): Promise<number> {
  const prefix = '/bench/watch/';
  const watchers = 1000;
  let delivered = 0;
  const expected = watchers * writesTotal;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const ws = Array.from({ length: watchers }, () =>
    b.watch(prefix, {}, {
      onEvents: (evs) => {
        delivered += evs.length;
        if (delivered >= expected) done();
      },
      onError: (e) => console.error('watch error', e.message),
    }),
  );
  // Let every watcher register (etcd creates watches one round trip at a time).
  await new Promise((r) => setTimeout(r, b.kind === 'etcd' ? 1500 : 50));
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < writesTotal) await b.put(`${prefix}k${next++}`, VALUE);
    }),
  );
  await Promise.race([all, new Promise((r) => setTimeout(r, 60_000))]);
  const rate = delivered / ((performance.now() - t0) / 1000);
  for (const w of ws) w.cancel();
  return rate;
}

async function rangeLatency(b: Backend): Promise<{ all: number; page: number; oldPage: number; count: number }> {
  const prefix = '/bench/range/';
  const total = 100_000;
  const batch = 100;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < total) {
        const start = next;
        next += batch;
        const ops: TxnOp[] = [];
        for (let i = start; i < Math.min(start + batch, total); i++) ops.push({ op: 'put', key: `${prefix}${String(i).padStart(6, '0')}`, value: VALUE });
        await b.txn(ops);
      }
    }),
  );
  const median = async (fn: () => Promise<unknown>) => {
    const ts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await fn();
      ts.push(performance.now() - t0);
    }
    return ts.sort((x, y) => x - y)[2]!;
  };
  const check = await b.range({ prefix, countOnly: true });
  if (check.count !== total) throw new Error(`range count ${check.count} != ${total}`);
  // A page at a past revision (as a paginated list continues after writes).
  const old = await b.currentRevision();
  await b.put(`${prefix}${String(0).padStart(6, '0')}`, VALUE);
  return {
    all: await median(() => b.range({ prefix })),
    page: await median(() => b.range({ prefix, limit: 500 })),
    oldPage: await median(() => b.range({ prefix, limit: 500, revision: old })),
    count: await median(() => b.range({ prefix, countOnly: true })),
  };
}

async function benchBackend(name: string, b: Backend, watchWrites: number): Promise<Row> {
  const row: Row = { backend: name };
  row.c1 = await writes(1, (k) => b.put(k, VALUE), name);
  const stats = (b as Partial<SqliteBackend>).stats;
  const before = stats && { ...stats };
  row.c64 = await writes(64, (k) => b.put(k, VALUE), name);
  if (stats && before) {
    const per = (stats.jobs - before.jobs) / (stats.commits - before.commits);
    row.note = `group commit at c=64: ${per.toFixed(1)} writes per transaction`;
  }
  row.watch = await watchRate(b, watchWrites);
  const r = await rangeLatency(b);
  row.rangeAll = r.all;
  row.rangePage = r.page;
  row.rangeOldPage = r.oldPage;
  row.rangeCount = r.count;
  return row;
}

const rows: Row[] = [];
const notes: string[] = [];
let etcd: EtcdServer | undefined;
const tmp = mkdtempSync(join(tmpdir(), 'localeks-bench-'));
try {
  for (const name of BACKENDS) {
    console.error(`# ${name}...`);
    if (name === 'sqlite') {
      const b = await SqliteBackend.open({ dir: tmp, compaction: false });
      rows.push(await benchBackend('sqlite (WAL, synchronous=FULL)', b, 5000));
      await b.close();
      // For comparison: NORMAL does not fsync at commit (survives kill -9, not power loss).
      const nb = await SqliteBackend.open({ dir: tmp, file: 'normal.db', compaction: false, synchronous: 'NORMAL' });
      rows.push({
        backend: 'sqlite (WAL, synchronous=NORMAL)',
        c1: await writes(1, (k) => nb.put(k, VALUE), 'normal'),
        c64: await writes(64, (k) => nb.put(k, VALUE), 'normal'),
      });
      await nb.close();
    } else if (name === 'memory') {
      const b = new MemoryBackend({ compaction: false });
      rows.push(await benchBackend('memory', b, 5000));
      await b.close();
    } else if (name === 'etcd') {
      const missing = etcdMissing();
      if (missing) {
        rows.push({ backend: 'etcd', note: `skipped: ${missing}` });
        continue;
      }
      etcd = await startEtcd();
      const raw = new Etcd3({ hosts: etcd.url });
      const rawRow: Row = { backend: 'raw etcd3 client put (same etcd)' };
      rawRow.c1 = await writes(1, (k) => raw.put(k).value(VALUE).exec(), 'raw');
      rawRow.c64 = await writes(64, (k) => raw.put(k).value(VALUE).exec(), 'raw');
      raw.close();
      const b = await EtcdBackend.open({ hosts: [etcd.host], compaction: false });
      rows.push(await benchBackend('etcd backend', b, 1000));
      rows.push(rawRow);
      await b.close();
    }
  }
} finally {
  await etcd?.stop();
  rmSync(tmp, { recursive: true, force: true });
}

const f = (n: number | undefined, d = 0) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));
const table = [
  ['backend', 'writes/s c=1', 'writes/s c=64', 'watch events/s (1000 watchers)', 'range 100k (ms)', 'range limit 500 (ms)', 'same, past revision (ms)', 'count 100k (ms)'],
  ...rows.map((r) =>
    r.c1 === undefined
      ? [r.backend, r.note ?? '', '', '', '', '', '', '']
      : [r.backend, f(r.c1), f(r.c64), f(r.watch), f(r.rangeAll, 1), f(r.rangePage, 1), f(r.rangeOldPage, 1), f(r.rangeCount, 1)],
  ),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
for (const [i, r] of table.entries()) {
  console.log(r.map((c, j) => (j === 0 ? c.padEnd(widths[j]!) : c.padStart(widths[j]!))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
for (const r of rows) if (r.note && r.c1 !== undefined) notes.push(`${r.backend}: ${r.note}`);
if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
const sqlite = rows.find((r) => r.backend.startsWith('sqlite (WAL, synchronous=FULL'));
const eb = rows.find((r) => r.backend === 'etcd backend');
const er = rows.find((r) => r.backend.startsWith('raw etcd3'));
if (sqlite?.c64 !== undefined) {
  console.log(`\nsqlite (FULL) c=64: ${f(sqlite.c64)} acked writes/s (target >= 10,000): ${sqlite.c64 >= 10_000 ? 'OK' : 'UNDER TARGET'}`);
}
console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores (fsync latency and CPU share depend on it)`);
if (eb?.c64 !== undefined && er?.c64 !== undefined) {
  const ratio = er.c64 / eb.c64;
  console.log(
    `etcd backend at c=64: ${((eb.c64 / er.c64) * 100).toFixed(0)}% of raw etcd3 puts/s, i.e. ${ratio.toFixed(2)}x the time per write (target <= 2x): ${ratio <= 2 ? 'OK' : 'UNDER TARGET'}`,
  );
}
