/**
 * EKS Anywhere subscriptions: Create, Describe, List, Update (autoRenew)
 * and Delete, with a CREATING -> ACTIVE lifecycle and licences.
 */
import type { RequestContext } from '../core/types.ts';
import { awsError } from '../core/types.ts';
import { arn, type EksContext, idempotent, invalidParameter, iso, out, paginate, scopeOf, topKey, topPrefix, uuid, validateTags } from './common.ts';

export function eksAnywhereOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('eksa', (key, doc, tx) => {
    if (tx.op === 'delete') return [{ op: 'delete', key }];
    const next = { ...doc, status: 'ACTIVE' };
    delete next._tx;
    return [{ op: 'put', key, doc: next }];
  });
  const get = (ctx: RequestContext, id: string) => {
    const d = deps.state.get<any>(topKey(scopeOf(ctx), 'eksa', id));
    if (!d) throw awsError('ResourceNotFoundException', `No subscription found with id: ${id}.`, 404, { subscriptionId: id });
    return d;
  };
  return {
    CreateEksAnywhereSubscription: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.name, input.clientRequestToken, async () => {
        const f = { subscriptionId: '' };
        validateTags(input.tags);
        const term = input.term ?? {};
        if (term.unit !== undefined && term.unit !== 'MONTHS') throw invalidParameter('Term unit must be MONTHS', f);
        if (term.duration !== 12 && term.duration !== 36) throw invalidParameter('Term duration must be 12 or 36 months', f);
        const qty: number = input.licenseQuantity ?? 1;
        if (qty < 1 || qty > 100) throw invalidParameter('licenseQuantity must be between 1 and 100', f);
        if (deps.state.list<any>(topPrefix(scopeOf(ctx), 'eksa')).some((s) => s._name === input.name && s.status !== 'DELETING')) {
          throw awsError('ResourceLimitExceededException', `A subscription with name ${input.name} already exists`, 400);
        }
        const id = uuid();
        const key = topKey(scopeOf(ctx), 'eksa', id);
        const start = deps.clock.now();
        const end = new Date(start);
        end.setUTCMonth(end.getUTCMonth() + term.duration);
        const licenses = Array.from({ length: qty }, () => ({ id: uuid(), token: Buffer.from(uuid()).toString('base64') }));
        const tx = e.lc.newTx('eksa', 'create');
        const doc: any = {
          id,
          arn: arn(scopeOf(ctx), `eks-anywhere-subscription/${id}`),
          createdAt: iso(ctx),
          effectiveDate: start.toISOString(),
          expirationDate: end.toISOString(),
          licenseQuantity: qty,
          licenseType: input.licenseType ?? 'Cluster',
          term: { duration: term.duration, unit: 'MONTHS' },
          status: 'CREATING',
          autoRenew: input.autoRenew ?? false,
          licenseArns: licenses.map((l) => `arn:aws:license-manager:${ctx.region}:${ctx.accountId}:license:l-${l.id.replace(/-/g, '')}`),
          licenses,
          tags: input.tags ?? {},
          _name: input.name,
          _key: key,
          _tx: tx,
        };
        await deps.state.commit([{ op: 'create', key, doc }]);
        await e.lc.begin(key, tx);
        return { subscription: deps.state.get(key) ?? doc };
      }),
    DescribeEksAnywhereSubscription: (input: any, ctx: RequestContext) => ({ subscription: out(get(ctx, input.id)) }),
    ListEksAnywhereSubscriptions: (input: any, ctx: RequestContext) => {
      let list = deps.state.list<any>(topPrefix(scopeOf(ctx), 'eksa'));
      if (input.includeStatus?.length) list = list.filter((s) => input.includeStatus.includes(s.status));
      const { page, nextToken } = paginate(list, (s) => s.id, input.maxResults, input.nextToken);
      return { subscriptions: out(page), nextToken };
    },
    UpdateEksAnywhereSubscription: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.id, input.clientRequestToken, async () => {
        const s = get(ctx, input.id);
        const next = await deps.state.mutate<any>(s._key, (d) => (d ? { ...d, autoRenew: !!input.autoRenew } : d));
        return { subscription: next };
      }),
    DeleteEksAnywhereSubscription: async (input: any, ctx: RequestContext) => {
      const s = get(ctx, input.id);
      if (s.status === 'ACTIVE' && deps.clock.nowMs() - Date.parse(s.createdAt) > 7 * 24 * 3600_000) {
        throw awsError('InvalidRequestException', 'Subscriptions can only be deleted within 7 days of creation.', 400, { subscriptionId: input.id });
      }
      const tx = e.lc.newTx('eksa', 'delete');
      const next = { ...s, status: 'DELETING', _tx: tx };
      await deps.state.commit([{ op: 'put', key: s._key, doc: next }]);
      await e.lc.begin(s._key, tx);
      return { subscription: out(next) };
    },
  };
}
