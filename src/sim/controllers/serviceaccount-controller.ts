/**
 * The ServiceAccount controller's other half: a `default` ServiceAccount
 * that goes missing from an Active namespace (deleted by a user) is created
 * again, as upstream's controller does on its periodic resync. Creating it
 * with a new namespace is the namespace controller's job
 * (src/kube/apiserver/namespace-controller.ts); if both try, the second gets
 * AlreadyExists and nothing changes.
 */
import { isStatusError } from '../../kube/apiserver/errors.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

/** syncServiceAccounts re-creates missing `default` ServiceAccounts of Active namespaces. */
export async function syncServiceAccounts(ctx: Pick<ControllerContext, 'reg' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const saRes = reg.scheme.get('', 'v1', 'serviceaccounts');
  if (!saRes) return;
  const jobs: Promise<unknown>[] = [];
  for (const e of reg.cache.list('namespaces', '')) {
    const ns = e.obj;
    const name = ns.metadata!.name!;
    if (ns.metadata?.deletionTimestamp || ns.status?.phase !== 'Active') continue;
    if (reg.cache.get(reg.keyFor(saRes, name, 'default'))) continue;
    jobs.push(
      reg.create(saRes, name, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name } }, { fieldManager: 'kube-controller-manager' }).catch((err) => {
        if (!isStatusError(err, 'AlreadyExists')) ctx.log.warn({ err, namespace: name }, 'default service account not created');
      }),
    );
  }
  await Promise.all(jobs);
}

/** The ServiceAccount controller, as the data plane loop runs it. */
export const serviceAccountController: WorkloadController = {
  name: 'serviceaccount',
  resources: ['serviceaccounts'],
  sync: syncServiceAccounts,
};
