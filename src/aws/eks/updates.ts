/**
 * Update records (DescribeUpdate, ListUpdates) and the one rule every
 * update obeys: at most one update in progress per resource.
 *
 * startUpdate writes the Update (status InProgress) and puts the resource
 * into UPDATING with a transition whose completion applies the change and
 * marks the update Successful (or Failed with errors).
 */
import type { StateOp } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { childKey, childPrefix, clusterKey, clusterNotFound, type EksContext, inUse, iso, notFound, out, paginate, scopeOf, uuid } from './common.ts';
import type { Kind, Tx } from './lifecycle.ts';

export interface UpdateTarget {
  kind: 'cluster' | 'nodegroup' | 'addon' | 'capability';
  name: string;
}

export interface UpdateDoc {
  id: string;
  status: 'InProgress' | 'Failed' | 'Cancelled' | 'Successful';
  type: string;
  params: { type: string; value: string }[];
  createdAt: string;
  errors: { errorCode: string; errorMessage: string; resourceIds?: string[] }[];
  _target: UpdateTarget;
  _key: string;
}

export function updatesOf(e: EksContext, scope: { accountId: string; region: string }, cluster: string): UpdateDoc[] {
  return e.deps.state.list<UpdateDoc>(childPrefix(scope, 'update', cluster));
}

/** inProgressUpdate returns the update in progress on a target, if any. */
export function inProgressUpdate(e: EksContext, scope: { accountId: string; region: string }, cluster: string, target: UpdateTarget): UpdateDoc | undefined {
  return updatesOf(e, scope, cluster).find((u) => u.status === 'InProgress' && u._target.kind === target.kind && u._target.name === target.name);
}

/** ensureNoUpdateInProgress throws EKS's ResourceInUseException when the target is already updating. */
export function ensureNoUpdateInProgress(e: EksContext, ctx: RequestContext, cluster: string, target: UpdateTarget, type: string): void {
  const u = inProgressUpdate(e, scopeOf(ctx), cluster, target);
  if (!u) return;
  const what = target.kind === 'cluster' ? `cluster ${cluster}` : `${target.kind} ${target.name}`;
  throw inUse(`Cannot ${type} because ${what} currently has update ${u.id} in progress`, {
    clusterName: cluster,
    ...(target.kind === 'nodegroup' ? { nodegroupName: target.name } : {}),
    ...(target.kind === 'addon' ? { addonName: target.name } : {}),
  });
}

/**
 * startUpdate records an update of the resource stored at resourceKey and
 * begins its transition. patch holds the members the resource gets when
 * the update completes; fail makes it fail instead.
 */
export async function startUpdate(
  e: EksContext,
  ctx: RequestContext,
  p: {
    cluster: string;
    target: UpdateTarget;
    resourceKey: string;
    kind: Kind;
    type: string;
    params: { type: string; value: string }[];
    patch: Record<string, unknown>;
    fail?: { errorCode: string; errorMessage: string };
    /** Resource status while updating (default UPDATING). */
    status?: string;
    /** Hold the transition this long instead of the timing profile's duration (something else completes it sooner). */
    holdMs?: number;
  },
): Promise<UpdateDoc> {
  const scope = scopeOf(ctx);
  ensureNoUpdateInProgress(e, ctx, p.cluster, p.target, p.type);
  const id = uuid();
  const ukey = childKey(scope, 'update', p.cluster, id);
  const update: UpdateDoc = { id, status: 'InProgress', type: p.type, params: p.params, createdAt: iso(ctx), errors: [], _target: p.target, _key: ukey };
  const res = e.deps.state.get<any>(p.resourceKey);
  if (!res) throw notFound('resource vanished');
  const tx: Tx = e.lc.newTx(p.kind, 'update', { updateId: id, patch: p.patch, fail: p.fail, ...(p.holdMs !== undefined ? { until: e.deps.clock.nowMs() + p.holdMs } : {}) });
  const next = { ...res, status: p.status ?? 'UPDATING', _tx: tx };
  if ('modifiedAt' in res) next.modifiedAt = iso(ctx);
  await e.deps.state.commit([
    { op: 'create', key: ukey, doc: update },
    { op: 'put', key: p.resourceKey, doc: next, expectedRevision: e.deps.state.revision(p.resourceKey) },
  ]);
  await e.lc.begin(p.resourceKey, tx);
  return e.deps.state.get<UpdateDoc>(ukey) ?? update;
}

/**
 * finishUpdateOps ends an update transition: the resource gets the patch
 * (unless it failed) and its resting status, the Update its final status.
 */
export function finishUpdateOps(e: EksContext, key: string, doc: any, tx: Tx, restingStatus = 'ACTIVE', extra: (d: any) => void = () => {}): StateOp[] {
  const next = { ...doc };
  delete next._tx;
  if (!tx.fail) Object.assign(next, tx.patch ?? {});
  next.status = restingStatus;
  if ('modifiedAt' in next) next.modifiedAt = e.deps.clock.now().toISOString();
  extra(next);
  const ops: StateOp[] = [{ op: 'put', key, doc: next }];
  if (tx.updateId) {
    const ukey = updateKeyFor(key, tx.updateId);
    const u = e.deps.state.get<UpdateDoc>(ukey);
    if (u) {
      ops.push({
        op: 'put',
        key: ukey,
        doc: { ...u, status: tx.fail ? 'Failed' : 'Successful', errors: tx.fail ? [{ ...tx.fail, resourceIds: (tx.fail as { resourceIds?: string[] }).resourceIds ?? [u._target.name] }] : [] },
      });
    }
  }
  return ops;
}

/** updateKeyFor finds the update collection of the cluster a resource key belongs to. */
function updateKeyFor(resourceKey: string, updateId: string): string {
  // /aws/eks/<acct>/<region>/<type>[@<cluster>]/<id>
  const parts = resourceKey.split('/');
  const acct = parts[3]!;
  const region = parts[4]!;
  const type = parts[5]!;
  const cluster = type.includes('@') ? type.slice(type.indexOf('@') + 1) : decodeURIComponent(parts[6]!);
  return childKey({ accountId: acct, region }, 'update', cluster, updateId);
}

export function updateOperations(e: EksContext) {
  const findCluster = (ctx: RequestContext, name: string) => {
    if (!e.deps.state.get(clusterKey(scopeOf(ctx), name))) throw clusterNotFound(name);
  };
  const targetOf = (input: any): UpdateTarget =>
    input.nodegroupName
      ? { kind: 'nodegroup', name: input.nodegroupName }
      : input.addonName
        ? { kind: 'addon', name: input.addonName }
        : input.capabilityName
          ? { kind: 'capability', name: input.capabilityName }
          : { kind: 'cluster', name: input.name };
  return {
    DescribeUpdate: (input: any, ctx: RequestContext) => {
      findCluster(ctx, input.name);
      const u = e.deps.state.get<UpdateDoc>(childKey(scopeOf(ctx), 'update', input.name, input.updateId));
      const t = targetOf(input);
      if (!u || u._target.kind !== t.kind || u._target.name !== t.name) {
        throw notFound(`No update found for ID: ${input.updateId}.`, { clusterName: input.name });
      }
      return { update: out(u) };
    },
    ListUpdates: (input: any, ctx: RequestContext) => {
      findCluster(ctx, input.name);
      const t = targetOf(input);
      const scope = scopeOf(ctx);
      if (t.kind === 'nodegroup' && !e.deps.state.get(childKey(scope, 'nodegroup', input.name, t.name))) {
        throw notFound(`No node group found for name: ${t.name}.`, { clusterName: input.name, nodegroupName: t.name });
      }
      if (t.kind === 'addon' && !e.deps.state.get(childKey(scope, 'addon', input.name, t.name))) {
        throw notFound(`No addon: ${t.name} found in cluster: ${input.name}`, { clusterName: input.name, addonName: t.name });
      }
      const list = updatesOf(e, scopeOf(ctx), input.name)
        .filter((u) => u._target.kind === t.kind && u._target.name === t.name)
        .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1));
      const keyed = list.map((u, i) => ({ u, k: `${String(i).padStart(8, '0')}` }));
      const { page, nextToken } = paginate(keyed, (x) => x.k, input.maxResults, input.nextToken);
      return { updateIds: page.map((x) => x.u.id), nextToken };
    },
  };
}
