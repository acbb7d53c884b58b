/**
 * The tokens controller of kube-controller-manager, for legacy service
 * account token Secrets, which Kubernetes 1.24+ (and so EKS) makes only when
 * asked: a Secret of type `kubernetes.io/service-account-token` annotated
 * `kubernetes.io/service-account.name: <sa>` gets `data.token` (a
 * non-expiring JWT of issuer kubernetes/serviceaccount, signed with the
 * cluster's key), `data["ca.crt"]`, `data.namespace` and the
 * `kubernetes.io/service-account.uid` annotation. A Secret whose service
 * account does not exist, or no longer has the recorded uid, is deleted, as
 * upstream does. The token authenticates while the Secret holds it
 * (request-auth.ts).
 */
import { isStatusError } from '../apiserver/errors.ts';
import type { KObject } from '../api/types.ts';
import type { ControllerContext, WorkloadController } from '../../sim/controllers/workload-controllers.ts';
import { issueLegacyServiceAccountToken } from './service-account-tokens.ts';
import { ensureSigningKey } from './signing-keys.ts';

const TYPE = 'kubernetes.io/service-account-token';
const NAME_ANNOTATION = 'kubernetes.io/service-account.name';
const UID_ANNOTATION = 'kubernetes.io/service-account.uid';

/** syncLegacyTokens fills or deletes the legacy token Secrets of a cluster (see the module comment). */
export async function syncLegacyTokens(ctx: Pick<ControllerContext, 'reg' | 'deps' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const secRes = reg.scheme.get('', 'v1', 'secrets');
  const saRes = reg.scheme.get('', 'v1', 'serviceaccounts');
  if (!secRes || !saRes) return;
  const todo = reg.cache.list('secrets', '').filter((e) => (e.obj as { type?: string }).type === TYPE && !e.obj.metadata?.deletionTimestamp);
  for (const e of todo) {
    const s = e.obj as KObject & { data?: Record<string, string> };
    const ns = s.metadata!.namespace!;
    const name = s.metadata!.name!;
    const ann = s.metadata?.annotations ?? {};
    const saName = ann[NAME_ANNOTATION];
    if (!saName) continue;
    const sa = reg.cache.get(reg.keyFor(saRes, ns, saName))?.obj;
    try {
      if (!sa || (ann[UID_ANNOTATION] && ann[UID_ANNOTATION] !== sa.metadata?.uid)) {
        await reg.delete(secRes, ns, name, { preconditions: { uid: s.metadata!.uid! } });
        continue;
      }
      if (s.data?.token && ann[UID_ANNOTATION]) continue;
      const key = await ensureSigningKey(reg.backend, reg.cluster.uid);
      const token = await issueLegacyServiceAccountToken(key, { namespace: ns, secretName: name, serviceAccountName: saName, serviceAccountUid: sa.metadata!.uid! });
      await reg.guaranteedUpdate(
        secRes,
        ns,
        name,
        (cur) => {
          if (!cur) throw new Error('gone');
          const next = structuredClone(cur) as KObject & { data?: Record<string, string> };
          next.metadata!.annotations = { ...(next.metadata!.annotations ?? {}), [UID_ANNOTATION]: sa.metadata!.uid! };
          next.data = { ...(next.data ?? {}), token: Buffer.from(token).toString('base64'), 'ca.crt': Buffer.from(ctx.deps.config.caCertPem).toString('base64'), namespace: Buffer.from(ns).toString('base64') };
          return next;
        },
        { fieldManager: 'kube-controller-manager' },
      );
    } catch (err) {
      if (!isStatusError(err, 'NotFound') && !isStatusError(err, 'Conflict') && (err as Error).message !== 'gone') ctx.log.warn({ err, namespace: ns, secret: name }, 'legacy service account token not written');
    }
  }
}

/** The tokens controller, as the data plane loop runs it. */
export const legacyTokenController: WorkloadController = {
  name: 'serviceaccount-token',
  resources: ['secrets', 'serviceaccounts'],
  sync: syncLegacyTokens,
};
