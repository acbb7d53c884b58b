/**
 * Security groups for pods, as the Amazon VPC resource controller does it on
 * EKS:
 *
 * - every cluster serves the SecurityGroupPolicy CRD
 *   (vpcresources.k8s.aws/v1beta1, namespaced, short name sgp) with
 *   spec.podSelector / spec.serviceAccountSelector and
 *   spec.securityGroups.groupIds;
 * - its mutating webhook gives a pod matching a policy of its namespace (by
 *   its labels, or its service account's labels) the extended resource
 *   `vpc.amazonaws.com/pod-eni: 1` (requests and limits of the first
 *   container); hostNetwork and Fargate pods are left alone;
 * - with ENABLE_POD_ENI=true on aws-node, nodes advertise
 *   `vpc.amazonaws.com/pod-eni` = the instance type's branch interfaces
 *   (m5.large 9, r5.xlarge 18, t3 none) and the
 *   `vpc.amazonaws.com/has-trunk-attached=true` label, so the scheduler
 *   limits such pods per node;
 * - such a pod gets its own branch ENI with the policy's groups, its
 *   address as pod IP, and the `vpc.amazonaws.com/pod-eni` annotation.
 */
import type { KObject } from '../../kube/api/types.ts';
import type { PodAdmissionPlugin } from '../../kube/apiserver/pod-admission-plugins.ts';
import type { ClusterRegistry } from '../../kube/apiserver/registry/generic-store.ts';
import { labelSelectorFromObject, matchLabels } from '../../kube/apiserver/selectors.ts';

export const POD_ENI_RESOURCE = 'vpc.amazonaws.com/pod-eni';
export const TRUNK_LABEL = 'vpc.amazonaws.com/has-trunk-attached';
export const SGP_GROUP = 'vpcresources.k8s.aws';
export const SGP_CRD_NAME = `securitygrouppolicies.${SGP_GROUP}`;

/** The SecurityGroupPolicy CustomResourceDefinition EKS installs. */
export function securityGroupPolicyCrd(): KObject {
  const selector = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: SGP_CRD_NAME, labels: { 'app.kubernetes.io/name': 'amazon-vpc-resource-controller-k8s' } },
    spec: {
      group: SGP_GROUP,
      names: { kind: 'SecurityGroupPolicy', listKind: 'SecurityGroupPolicyList', plural: 'securitygrouppolicies', singular: 'securitygrouppolicy', shortNames: ['sgp'] },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          additionalPrinterColumns: [{ name: 'Security-Group-Ids', type: 'string', jsonPath: '.spec.securityGroups.groupIds', description: 'The security group IDs to apply to the elastic network interface of pods that match this policy' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: {
                  type: 'object',
                  properties: {
                    podSelector: selector,
                    serviceAccountSelector: selector,
                    securityGroups: { type: 'object', properties: { groupIds: { type: 'array', maxItems: 5, items: { type: 'string' } } } },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

function selects(sel: unknown, labels: Record<string, string> | undefined): boolean {
  if (!sel || typeof sel !== 'object') return false;
  const s = labelSelectorFromObject(sel as any);
  return s !== undefined && matchLabels(s, labels);
}

/** policyGroups returns the security groups of the policies of the pod's namespace that select it (empty: none). */
export function policyGroups(reg: ClusterRegistry, pod: KObject): string[] {
  const r = reg.scheme.get(SGP_GROUP, 'v1beta1', 'securitygrouppolicies');
  if (!r) return [];
  const ns = pod.metadata?.namespace ?? 'default';
  const policies = reg.cache.list(r.storageResource, ns).map((e) => e.obj);
  if (policies.length === 0) return [];
  let saLabels: Record<string, string> | undefined;
  const saRes = reg.scheme.get('', 'v1', 'serviceaccounts');
  const groups = new Set<string>();
  for (const p of policies) {
    let hit = selects(p.spec?.podSelector, pod.metadata?.labels);
    if (!hit && p.spec?.serviceAccountSelector) {
      if (saLabels === undefined && saRes) saLabels = reg.cache.get(reg.keyFor(saRes, ns, (pod as any).spec?.serviceAccountName ?? 'default'))?.obj.metadata?.labels ?? {};
      hit = selects(p.spec.serviceAccountSelector, saLabels);
    }
    if (hit) for (const g of p.spec?.securityGroups?.groupIds ?? []) groups.add(g);
  }
  return [...groups];
}

/** podEniAdmission is the VPC resource controller's pod webhook (see the module comment). */
export function podEniAdmission(): PodAdmissionPlugin[] {
  return [
    {
      name: 'vpc-resource-controller-pod-eni',
      admit({ reg, pod }) {
        const spec = (pod as any).spec ?? {};
        if (spec.hostNetwork || spec.schedulerName === 'fargate-scheduler') return;
        const first = spec.containers?.[0];
        if (!first || policyGroups(reg, pod).length === 0) return;
        first.resources ??= {};
        first.resources.requests = { ...(first.resources.requests ?? {}), [POD_ENI_RESOURCE]: '1' };
        first.resources.limits = { ...(first.resources.limits ?? {}), [POD_ENI_RESOURCE]: '1' };
      },
    },
  ];
}

/** podWantsBranchEni: the pod asks for the pod-eni extended resource. */
export function podWantsBranchEni(pod: KObject): boolean {
  return (pod.spec?.containers ?? []).some((c: any) => c.resources?.requests?.[POD_ENI_RESOURCE] !== undefined || c.resources?.limits?.[POD_ENI_RESOURCE] !== undefined);
}
