/**
 * The root CA certificate publisher of kube-controller-manager: every
 * namespace that is not terminating has the ConfigMap `kube-root-ca.crt`
 * whose `ca.crt` is the cluster's CA (the PEM behind EKS's
 * certificateAuthority.data), as the service-account projected volume of
 * every pod expects; it is re-created when deleted and rewritten when
 * changed.
 *
 * The `default` ServiceAccount of each namespace is not made here: the
 * namespace controller (src/kube/apiserver/namespace-controller.ts) does it.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { ControllerContext, WorkloadController } from './workload-controllers.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** syncRootCa ensures kube-root-ca.crt in every live namespace. */
export async function syncRootCa(ctx: Pick<ControllerContext, 'reg' | 'deps' | 'log'>): Promise<void> {
  const { reg } = ctx;
  const cmRes = reg.scheme.get('', 'v1', 'configmaps');
  const pem = ctx.deps.config.caCertPem;
  if (!cmRes || !pem) return;
  const jobs: Promise<unknown>[] = [];
  for (const e of reg.cache.list('namespaces', '')) {
    const ns = e.obj;
    const name = ns.metadata!.name!;
    if (ns.metadata?.deletionTimestamp || ns.status?.phase === 'Terminating') continue;
    const cur = reg.cache.get(reg.keyFor(cmRes, name, ROOT_CA_CONFIGMAP))?.obj;
    if (cur && cur.data?.['ca.crt'] === pem && Object.keys(cur.data).length === 1) continue;
    jobs.push(
      reg
        .guaranteedUpdate(cmRes, name, ROOT_CA_CONFIGMAP, (c) => {
          const next: KObject = c ? structuredClone(c) : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: name, annotations: { 'kubernetes.io/description': DESCRIPTION } } };
          next.metadata!.resourceVersion = '';
          next.data = { 'ca.crt': pem };
          return next;
        }, { fieldManager: 'kube-controller-manager', createIfMissing: true })
        .catch((err) => ctx.log.warn({ err, namespace: name }, 'root CA configmap not written')),
    );
  }
  await Promise.all(jobs);
}

/** The root CA publisher, as the data plane loop runs it. */
export const rootCaController: WorkloadController = {
  name: 'root-ca-cert-publisher',
  resources: ['namespaces', 'configmaps'],
  sync: syncRootCa,
};
