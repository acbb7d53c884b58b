/**
 * The fixture admin routes on the AWS port, for test suites (see
 * src/fixtures/snapshots.ts for the semantics):
 *
 *   POST   /_localeks/reset                      everything (/aws/ and /k8s/)
 *   POST   /_localeks/reset?service=<svc>        one AWS service's /aws/<svc>/ state (for eks, with
 *                                                every cluster's Kubernetes objects, /k8s/)
 *   POST   /_localeks/reset?cluster=<name>       one EKS cluster's Kubernetes objects, back to
 *          [&region=R][&accountId=A]             its bootstrap objects (one transaction)
 *   GET    /_localeks/snapshots                  list
 *   POST   /_localeks/snapshots/NAME             save (replaces one of that name)
 *   GET    /_localeks/snapshots/NAME             summary
 *   POST   /_localeks/snapshots/NAME/restore     restore
 *   DELETE /_localeks/snapshots/NAME             delete
 *   GET    /_localeks/snapshots/NAME/export      the snapshot file (gzipped JSON)
 *   POST   /_localeks/snapshots/import[?name=N]  body = a snapshot file; stores it
 *   GET    /_localeks/backups                    list the backups of clusters' Kubernetes objects
 *   POST   /_localeks/backups/NAME               create; JSON body {cluster, region?, accountId?,
 *          includeNamespaces?, excludeNamespaces?, selector?, includeResources?,
 *          excludeResources?, includeClusterResources?} (see src/fixtures/backup.ts)
 *   GET    /_localeks/backups/NAME[?details=true] describe (with ?details the items)
 *   GET    /_localeks/backups/NAME/export        the backup file (gzipped JSON, format localeks-backup)
 *   POST   /_localeks/backups/import[?name=N]    body = a backup file; stores it (409 if the name is taken)
 *   POST   /_localeks/backups/NAME/restore       JSON body {cluster, region?, accountId?,
 *          namespaceMappings? ("a:b,c:d" or {"a":"b"}), restoreName?, existingResourcePolicy?
 *          ("none" | "update"), and the filters of a backup to restore part of it}; answers
 *          the restore result
 *   DELETE /_localeks/backups/NAME               delete
 *   GET    /_localeks/clock                      simulated now
 *   POST   /_localeks/clock/advance?seconds=N    jump simulated time forward
 *
 * Successful answers are JSON objects; errors are
 * {"error":{"code","message"}} with 400 (bad input), 404 (no such snapshot
 * or cluster) or 409. Caches follow the store: AwsState and the Kubernetes
 * watch caches read the store watch, so a restore or reset is seen by the
 * next request without restarting anything.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AWS_PREFIX, type AwsState } from '../aws/core/state.ts';
import type { AwsProvider } from '../aws/core/types.ts';
import { createClusterDirectory } from '../aws/eks/cluster-directory.ts';
import {
  createBackup,
  deleteBackup,
  exportBackup,
  importBackup,
  listBackups,
  loadBackup,
  parseNamespaceMappings,
  restoreBackup,
  saveBackup,
  summarizeBackup,
  validateBackupName,
  type BackupSpec,
} from '../fixtures/backup.ts';
import {
  applyEntries,
  captureSnapshot,
  deleteSnapshot,
  exportSnapshot,
  importSnapshot,
  listSnapshots,
  loadSnapshot,
  saveSnapshot,
  STATE_PREFIXES,
  validateSnapshotName,
} from '../fixtures/snapshots.ts';
import { bootstrapCluster, type ClusterRegistry } from '../kube/apiserver/index.ts';
import { type ClusterInfo, storePrefix } from '../kube/types.ts';
import type { SimClock } from '../sim/clock.ts';
import type { Backend } from '../store/backend.ts';
import { MemoryBackend } from '../store/memory/memory-backend.ts';
import { type AdminRoutes, sendJson } from './admin.ts';
import { readBody } from '../util/read-body.ts';

/** What the fixture routes need from the server. */
export interface FixtureRoutesContext {
  backend: Backend;
  state: AwsState;
  clock: SimClock;
  log: Logger;
  /**
   * The AWS providers: after a restore or reset that touched EKS state, the
   * EKS lifecycle controller is restarted so restored transitions (a cluster
   * CREATING in the snapshot) resume, as after a server restart.
   */
  providers?: readonly AwsProvider[];
  /**
   * The cluster API: clusters that a restore or reset removes are forgotten
   * (their watch caches and per-cluster controllers stopped, open watches
   * ended), so suites that reset hundreds of times do not accumulate them.
   */
  clusterApi?: object;
}

/** Largest snapshot file accepted by import (bytes). */
export const MAX_IMPORT_BYTES = 512 * 1024 * 1024;

class FixtureError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** sendFixtureError writes the one error shape of the fixture routes. */
export function sendFixtureError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

const SERVICE_RE = /^[a-z0-9-]{1,64}$/;

/** createFixtureRoutes returns the routes listed in the module comment. */
export function createFixtureRoutes(ctx: FixtureRoutesContext): AdminRoutes {
  const { backend, state, clock } = ctx;
  const log = ctx.log.child({ component: 'fixtures' });
  const directory = createClusterDirectory(state);

  const guard =
    (fn: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>) =>
    async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
      try {
        await fn(req, res, url);
      } catch (e) {
        if (e instanceof FixtureError) sendFixtureError(res, e.status, e.code, e.message);
        else if (e instanceof Error && /^invalid (backup name|selector|namespace mapping)/.test(e.message)) sendFixtureError(res, 400, 'InvalidParameter', e.message);
        else if (e instanceof Error && /^invalid snapshot name|not a localeks snapshot|snapshot format version|snapshot file is incomplete/.test(e.message)) {
          sendFixtureError(res, 400, e.message.startsWith('invalid snapshot name') ? 'InvalidSnapshotName' : 'InvalidSnapshotFile', e.message);
        } else throw e;
      }
    };

  /**
   * apply makes the store under prefixes equal to entries in one transaction,
   * then brings the AwsState cache up to date for the AWS keys changed (the
   * watch would too, a moment later; this makes the next request see it).
   */
  const apply = async (entries: Array<[string, string]>, prefixes: string[]): Promise<number> => {
    const before = directory.all().map((c) => c.uid);
    const forget = (ctx.clusterApi as { forget?: (uid: string) => void } | undefined)?.forget;
    // A reset that removes every EKS cluster forgets them first, so their
    // watch caches do not process the deletes of objects about to be dropped.
    const dropsAllClusters = entries.length === 0 && prefixes.some((p) => `${AWS_PREFIX}eks/`.startsWith(p));
    if (dropsAllClusters && typeof forget === 'function') for (const uid of before) forget.call(ctx.clusterApi, uid);
    const { changedKeys } = await applyEntries(backend, entries, prefixes);
    await Promise.all(changedKeys.filter((k) => k.startsWith(AWS_PREFIX)).map((k) => state.refresh(k)));
    await rebootstrap(changedKeys);
    if (typeof forget === 'function') {
      const after = new Set(directory.all().map((c) => c.uid));
      for (const uid of before) if (!after.has(uid)) forget.call(ctx.clusterApi, uid);
    }
    resyncProviders(ctx.providers ?? [], changedKeys);
    return changedKeys.length;
  };

  /**
   * A cluster's bootstrap objects (namespaces, RBAC, the kubernetes Service)
   * are made on its first Kubernetes request, and the cluster API remembers
   * that it made them. A snapshot saved before that first request has none,
   * so restoring it over a cluster that has served requests would leave the
   * cluster without them (no RBAC: every request 403): make them again for
   * every serving cluster whose objects the restore changed and that lacks them.
   */
  const rebootstrap = async (changedKeys: string[]): Promise<void> => {
    const touched = new Set(changedKeys.filter((k) => k.startsWith('/k8s/')).map((k) => k.slice(0, k.indexOf('/', 5) + 1)));
    if (touched.size === 0) return;
    for (const info of directory.all()) {
      const prefix = storePrefix(info);
      if (!touched.has(prefix) || (info.status !== 'ACTIVE' && info.status !== 'UPDATING')) continue;
      if ((await backend.get(`${prefix}registry/namespaces/default`)).kv) continue;
      await bootstrapCluster(backend, info, clock);
      log.info({ cluster: info.name, uid: info.uid }, 'bootstrap objects made again after a restore');
    }
  };

  const findCluster = (url: URL, name: string): ClusterInfo => {
    const region = url.searchParams.get('region');
    const accountId = url.searchParams.get('accountId');
    const matches = directory.all().filter((c) => c.name === name && (!region || c.region === region) && (!accountId || c.accountId === accountId));
    if (matches.length === 0) throw new FixtureError(404, 'ClusterNotFound', `no EKS cluster named "${name}"${region ? ` in ${region}` : ''}${accountId ? ` of account ${accountId}` : ''}`);
    if (matches.length > 1) {
      const where = matches.map((c) => `${c.accountId}/${c.region}`).join(', ');
      throw new FixtureError(400, 'AmbiguousCluster', `${matches.length} EKS clusters are named "${name}" (${where}): add region= and/or accountId=`);
    }
    return matches[0]!;
  };

  const snapshotName = (raw: string): string => {
    const name = decodeURIComponent(raw);
    validateSnapshotName(name);
    return name;
  };

  const mustLoad = async (name: string) => {
    const snap = await loadSnapshot(backend, name);
    if (!snap) throw new FixtureError(404, 'SnapshotNotFound', `no snapshot named "${name}"`);
    return snap;
  };

  /** Splits /_localeks/snapshots/NAME[/action]. */
  const snapshotPath = (url: URL): { name: string; action?: string } => {
    const rest = url.pathname.slice('/_localeks/snapshots/'.length).split('/');
    if (rest.length > 2 || !rest[0]) throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
    return { name: rest[0], action: rest[1] };
  };

  /** Splits /_localeks/backups/NAME[/action]. */
  const backupPath = (url: URL): { name: string; action?: string } => {
    const rest = url.pathname.slice('/_localeks/backups/'.length).split('/');
    if (rest.length > 2 || !rest[0]) throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
    const name = decodeURIComponent(rest[0]);
    validateBackupName(name);
    return { name, action: rest[1] };
  };

  /** The registry of a cluster whose API is up (its bootstrap objects ensured), for backups and restores. */
  const registryOf = async (info: ClusterInfo): Promise<ClusterRegistry> => {
    const api = ctx.clusterApi as { registry?: (c: ClusterInfo) => ClusterRegistry; ensureBootstrapped?: (c: ClusterInfo) => Promise<void> } | undefined;
    if (typeof api?.registry !== 'function') throw new FixtureError(400, 'NotSupported', 'this server has no Kubernetes API to back up or restore');
    if (info.status !== 'ACTIVE' && info.status !== 'UPDATING') throw new FixtureError(409, 'ClusterNotReady', `cluster "${info.name}" is ${info.status}: its Kubernetes API is not serving`);
    await api.ensureBootstrapped?.(info);
    return api.registry(info);
  };

  return {
    'POST /_localeks/reset': guard(async (_req, res, url) => {
      const service = url.searchParams.get('service');
      const cluster = url.searchParams.get('cluster');
      if (service !== null && cluster !== null) throw new FixtureError(400, 'InvalidParameter', 'give either service= or cluster=, not both');
      const started = performance.now();
      if (service !== null) {
        if (!SERVICE_RE.test(service)) throw new FixtureError(400, 'InvalidParameter', `invalid service "${service}": use the AWS service name as in the endpoint, e.g. eks, ec2, iam`);
        // EKS clusters own every cluster's Kubernetes objects: wiping EKS wipes them too (else they would stay, unreachable).
        const changed = await apply([], service === 'eks' ? [`${AWS_PREFIX}eks/`, '/k8s/'] : [`${AWS_PREFIX}${service}/`]);
        log.info({ service, changed }, 'reset one service');
        sendJson(res, 200, { reset: { service }, changed, durationMs: ms(started) });
        return;
      }
      if (cluster !== null) {
        const info = findCluster(url, cluster);
        // A reset cluster is a fresh one: its Kubernetes objects become its bootstrap
        // objects (namespaces, the kubernetes Service, RBAC), in one transaction. Its
        // service-account signing key (outside registry/) stays, so the OIDC issuer does not change.
        const registry = `${storePrefix(info)}registry/`;
        const changed = await apply(await bootstrapEntries(info, clock), [registry]);
        log.info({ cluster: info.name, uid: info.uid, changed }, 'reset one cluster');
        sendJson(res, 200, { reset: { cluster: info.name, region: info.region, accountId: info.accountId }, changed, durationMs: ms(started) });
        return;
      }
      const changed = await apply([], STATE_PREFIXES);
      log.info({ changed }, 'reset everything');
      sendJson(res, 200, { reset: { all: true }, changed, durationMs: ms(started) });
    }),

    'GET /_localeks/snapshots': guard(async (_req, res) => {
      sendJson(res, 200, { snapshots: await listSnapshots(backend) });
    }),

    'GET /_localeks/snapshots/*': guard(async (_req, res, url) => {
      const { name: raw, action } = snapshotPath(url);
      const name = snapshotName(raw);
      if (action === undefined) {
        const all = await listSnapshots(backend);
        const one = all.find((s) => s.name === name);
        if (!one) throw new FixtureError(404, 'SnapshotNotFound', `no snapshot named "${name}"`);
        sendJson(res, 200, one);
        return;
      }
      if (action !== 'export') throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      const body = exportSnapshot(await mustLoad(name));
      res.writeHead(200, {
        'Content-Type': 'application/gzip',
        'Content-Length': body.length,
        'Content-Disposition': `attachment; filename="${name}.localeks-snapshot.json.gz"`,
        'Cache-Control': 'no-store',
      });
      res.end(body);
    }),

    'POST /_localeks/snapshots/*': guard(async (req, res, url) => {
      const { name: raw, action } = snapshotPath(url);
      if (raw === 'import' && action === undefined) {
        const data = await readSnapshotBody(req);
        if (data.length === 0) throw new FixtureError(400, 'InvalidSnapshotFile', 'the request body must be a snapshot file (as written by GET /_localeks/snapshots/NAME/export); "import" cannot name a snapshot');
        const snap = importSnapshot(data);
        const asName = url.searchParams.get('name') ?? snap.name;
        validateSnapshotName(asName);
        const summary = await saveSnapshot(backend, { ...snap, name: asName });
        log.info({ name: asName, keys: summary.keys }, 'imported snapshot');
        sendJson(res, 201, summary);
        return;
      }
      const name = snapshotName(raw);
      const started = performance.now();
      if (action === undefined) {
        const snap = await captureSnapshot(backend, name, clock.now());
        const summary = await saveSnapshot(backend, snap);
        log.info({ name, keys: summary.keys, revision: summary.revision }, 'saved snapshot');
        sendJson(res, 201, { ...summary, durationMs: ms(started) });
        return;
      }
      if (action !== 'restore') throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      const snap = await mustLoad(name);
      const changed = await apply(snap.entries, snap.prefixes);
      log.info({ name, changed }, 'restored snapshot');
      sendJson(res, 200, { restored: name, changed, durationMs: ms(started) });
    }),

    'DELETE /_localeks/snapshots/*': guard(async (_req, res, url) => {
      const { name: raw, action } = snapshotPath(url);
      if (action !== undefined) throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      const name = snapshotName(raw);
      if (!(await deleteSnapshot(backend, name))) throw new FixtureError(404, 'SnapshotNotFound', `no snapshot named "${name}"`);
      sendJson(res, 200, { deleted: name });
    }),

    'GET /_localeks/backups': guard(async (_req, res) => {
      sendJson(res, 200, { backups: await listBackups(backend) });
    }),

    'GET /_localeks/backups/*': guard(async (_req, res, url) => {
      const { name, action } = backupPath(url);
      if (action !== undefined && action !== 'export') throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      const b = await loadBackup(backend, name);
      if (!b) throw new FixtureError(404, 'BackupNotFound', `no backup named "${name}"`);
      if (action === 'export') {
        const file = exportBackup(b);
        res.writeHead(200, { 'Content-Type': 'application/gzip', 'Content-Length': file.length, 'Content-Disposition': `attachment; filename="${name}.localeks-backup.json.gz"`, 'Cache-Control': 'no-store' });
        res.end(file);
        return;
      }
      const details = url.searchParams.get('details') === 'true';
      sendJson(res, 200, { ...summarizeBackup(b), ...(details ? { items: b.items.map((i) => ({ resource: i.resource, namespace: i.namespace, name: i.name })) } : {}) });
    }),

    'POST /_localeks/backups/*': guard(async (req, res, url) => {
      const { name, action } = backupPath(url);
      if (name === 'import' && action === undefined) {
        const data = await readSnapshotBody(req);
        if (data.length === 0) throw new FixtureError(400, 'InvalidBackupFile', 'the request body must be a backup file (as written by GET /_localeks/backups/NAME/export); "import" cannot name a backup');
        let b;
        try {
          b = importBackup(data);
        } catch (e) {
          throw new FixtureError(400, 'InvalidBackupFile', (e as Error).message);
        }
        const asName = url.searchParams.get('name') ?? b.name;
        validateBackupName(asName);
        if (await loadBackup(backend, asName)) throw new FixtureError(409, 'BackupAlreadyExists', `a backup named "${asName}" already exists`);
        const summary = await saveBackup(backend, { ...b, name: asName });
        log.info({ name: asName, items: summary.itemCount }, 'imported backup');
        sendJson(res, 201, summary);
        return;
      }
      const body = await readJsonBody(req);
      const info = findCluster(urlWith(url, body), typeof body.cluster === 'string' ? body.cluster : missing('cluster'));
      const started = performance.now();
      if (action === undefined) {
        if (await loadBackup(backend, name)) throw new FixtureError(409, 'BackupAlreadyExists', `a backup named "${name}" already exists`);
        const spec = specOf(body);
        const reg = await registryOf(info);
        const b = await createBackup(reg, name, spec, { name: info.name, uid: info.uid, region: info.region, accountId: info.accountId }, clock.now());
        const summary = await saveBackup(backend, b);
        log.info({ name, cluster: info.name, items: summary.itemCount }, 'created backup');
        sendJson(res, 201, { ...summary, durationMs: ms(started) });
        return;
      }
      if (action !== 'restore') throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      const b = await loadBackup(backend, name);
      if (!b) throw new FixtureError(404, 'BackupNotFound', `no backup named "${name}"`);
      const namespaceMappings =
        body.namespaceMappings && typeof body.namespaceMappings === 'object'
          ? parseNamespaceMappings(Object.entries(body.namespaceMappings as Record<string, unknown>).map(([a, v]) => `${a}:${String(v)}`).join(','))
          : parseNamespaceMappings(body.namespaceMappings === undefined ? undefined : String(body.namespaceMappings));
      const restoreName = body.restoreName === undefined ? `${name}-${clock.now().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '')}` : String(body.restoreName);
      const filter = specOf(body);
      const reg = await registryOf(info);
      const policy = body.existingResourcePolicy ?? 'none';
      if (policy !== 'none' && policy !== 'update') throw new FixtureError(400, 'InvalidParameter', `invalid existingResourcePolicy "${policy}": use none or update`);
      const result = await restoreBackup(reg, b, { restoreName, namespaceMappings, existingResourcePolicy: policy, ...(Object.keys(filter).length > 0 ? { filter } : {}) });
      log.info({ name, cluster: info.name, created: result.created, skipped: result.skipped, failed: result.failed }, 'restored backup');
      sendJson(res, 200, { ...result, cluster: info.name, durationMs: ms(started) });
    }),

    'DELETE /_localeks/backups/*': guard(async (_req, res, url) => {
      const { name, action } = backupPath(url);
      if (action !== undefined) throw new FixtureError(404, 'NotFound', `no such localeks endpoint: ${url.pathname}`);
      if (!(await deleteBackup(backend, name))) throw new FixtureError(404, 'BackupNotFound', `no backup named "${name}"`);
      sendJson(res, 200, { deleted: name });
    }),

    'GET /_localeks/clock': guard(async (_req, res) => {
      sendJson(res, 200, clockBody(clock));
    }),

    'POST /_localeks/clock/advance': guard(async (_req, res, url) => {
      const raw = url.searchParams.get('seconds') ?? url.searchParams.get('ms');
      const unit = url.searchParams.has('seconds') ? 1000 : 1;
      const n = raw === null || raw.trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(n) || n < 0) throw new FixtureError(400, 'InvalidParameter', 'give seconds=N (or ms=N), a number of at least 0');
      clock.advance(n * unit);
      log.info({ advancedMs: n * unit }, 'advanced the clock');
      sendJson(res, 200, { advancedMs: n * unit, ...clockBody(clock) });
    }),
  };
}

/**
 * resyncProviders lets the clock-driven reconcilers pick up restored state,
 * as they do at a server start: the EKS lifecycle controller (cluster and
 * node group transitions) is restarted when EKS state changed, and a
 * provider exposing `resync()` (Auto Scaling's reconciler) is asked to
 * re-read its state when a key under its /aws/<service>/ prefix changed, or
 * when EC2 state changed under it (its groups follow their instances).
 * EC2 instance states need nothing: they are computed from stored
 * timestamps as of the clock's now.
 */
function resyncProviders(providers: readonly AwsProvider[], changedKeys: string[]): void {
  const touched = new Set<string>();
  for (const k of changedKeys) if (k.startsWith(AWS_PREFIX)) touched.add(k.slice(AWS_PREFIX.length, k.indexOf('/', AWS_PREFIX.length)));
  if (touched.size === 0) return;
  for (const p of providers) {
    const lc = (p as { lifecycle?: { stop(): void; start(): void } }).lifecycle;
    if (p.service === 'eks' && lc && touched.has('eks')) {
      lc.stop();
      lc.start();
    }
    const resync = (p as { resync?: () => void }).resync;
    if (typeof resync === 'function' && (touched.has(p.service) || touched.has('ec2'))) resync.call(p);
  }
}

/** readJsonBody reads a JSON object body (an empty body is {}). */
async function readJsonBody(req: IncomingMessage): Promise<Record<string, any>> {
  const data = await readSnapshotBody(req);
  if (data.length === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(data.toString('utf8'));
  } catch {
    throw new FixtureError(400, 'InvalidParameter', 'the request body must be a JSON object');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FixtureError(400, 'InvalidParameter', 'the request body must be a JSON object');
  return v as Record<string, any>;
}

function missing(field: string): never {
  throw new FixtureError(400, 'InvalidParameter', `the request body must name the "${field}"`);
}

function stringList(v: unknown, field: string): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new FixtureError(400, 'InvalidParameter', `"${field}" must be a list of strings or a comma-separated string`);
}

/** specOf reads the filter fields of a backup or restore body. */
function specOf(body: Record<string, any>): BackupSpec {
  const spec: BackupSpec = {};
  for (const k of ['includeNamespaces', 'excludeNamespaces', 'includeResources', 'excludeResources'] as const) if (body[k] !== undefined) spec[k] = stringList(body[k], k);
  if (body.selector !== undefined) spec.selector = String(body.selector);
  if (body.includeClusterResources !== undefined) spec.includeClusterResources = body.includeClusterResources === true || body.includeClusterResources === 'true';
  return spec;
}

/** The URL with region/accountId from a JSON body when the query has none (findCluster reads them from the URL). */
function urlWith(url: URL, body: Record<string, any>): URL {
  const u = new URL(url);
  for (const k of ['region', 'accountId']) if (!u.searchParams.has(k) && typeof body[k] === 'string') u.searchParams.set(k, body[k]);
  return u;
}

/** bootstrapEntries returns the store entries of a freshly bootstrapped cluster (made on a scratch memory store). */
async function bootstrapEntries(info: ClusterInfo, clock: SimClock): Promise<Array<[string, string]>> {
  const scratch = new MemoryBackend();
  try {
    await bootstrapCluster(scratch, info, clock);
    const page = await scratch.range({ prefix: `${storePrefix(info)}registry/` });
    return page.kvs.map((kv) => [kv.key, kv.value]);
  } finally {
    await scratch.close();
  }
}

function clockBody(clock: SimClock): { now: string; nowMs: number; timeScale: number } {
  // One reading: two would differ by the real time between them (a running clock).
  const nowMs = Math.round(clock.nowMs());
  return { now: new Date(nowMs).toISOString(), nowMs, timeScale: clock.timeScale };
}

function ms(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

const readSnapshotBody = (req: IncomingMessage): Promise<Buffer> =>
  readBody(req, MAX_IMPORT_BYTES, () => new FixtureError(400, 'InvalidSnapshotFile', `the snapshot file is larger than ${MAX_IMPORT_BYTES} bytes`));
