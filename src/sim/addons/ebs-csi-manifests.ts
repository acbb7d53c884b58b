/**
 * The Kubernetes objects of the `aws-ebs-csi-driver` EKS add-on in
 * kube-system (shapes of the aws-ebs-csi-driver chart the add-on installs):
 * the `ebs.csi.aws.com` CSIDriver (attachRequired, fsGroupPolicy File), the
 * `ebs-csi-controller` Deployment (2 replicas: ebs-plugin, csi-provisioner
 * with --extra-create-metadata, csi-attacher, csi-snapshotter, csi-resizer,
 * liveness-probe)
 * with its PodDisruptionBudget, the `ebs-csi-node` DaemonSet (ebs-plugin,
 * node-driver-registrar, liveness-probe) on every EC2 node, and their
 * ServiceAccounts `ebs-csi-controller-sa` / `ebs-csi-node-sa`.
 * configurationValues: `controller.replicaCount`, `controller.tolerations`,
 * `node.tolerations`.
 *
 * What the driver does is simulated by volume-provisioner.ts and
 * volume-attacher.ts (sim/controllers), which start provisioning once this
 * add-on (or the CSIDriver object) exists.
 */
import type { KObject } from '../../kube/api/types.ts';
import { registryFor } from './images.ts';
import type { AddonClusterFacts, AddonObject } from './manifests.ts';

const NS = 'kube-system';
const NAME_LABEL = { 'app.kubernetes.io/name': 'aws-ebs-csi-driver', 'app.kubernetes.io/component': 'csi-driver', 'app.kubernetes.io/managed-by': 'EKS' };

/** The sidecar images of the add-on (eks/<name> in the add-on registry), as v1.51.1-eksbuild.1 ships them; other versions are shown with the same. */
const SIDECARS: Record<string, string> = {
  'csi-provisioner': 'v5.3.0-eksbuild.4',
  'csi-attacher': 'v4.9.0-eksbuild.4',
  'csi-snapshotter': 'v8.3.0-eksbuild.2',
  'csi-resizer': 'v1.14.0-eksbuild.4',
  livenessprobe: 'v2.16.0-eksbuild.5',
  'csi-node-driver-registrar': 'v2.14.0-eksbuild.5',
};

const NOT_FARGATE_OR_HYBRID = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'hybrid', 'auto'] }] }],
    },
  },
};

/** ebsCsiDriverObjects returns the add-on's objects at a version (v1.51.1-eksbuild.1) for a cluster. */
export function ebsCsiDriverObjects(cluster: AddonClusterFacts, version: string, cfg: Record<string, any>): AddonObject[] {
  const r = registryFor(cluster.region);
  const tag = version.replace(/-eksbuild\.\d+$/, '');
  const image = (name: string) => `${r}/eks/${name}:${SIDECARS[name]}`;
  const plugin = `${r}/eks/aws-ebs-csi-driver:${tag}`;
  const controllerLabels = { app: 'ebs-csi-controller', ...NAME_LABEL };
  const nodeLabels = { app: 'ebs-csi-node', ...NAME_LABEL };
  const socket = { name: 'socket-dir', mountPath: '/var/lib/csi/sockets/pluginproxy/' };
  const sidecar = (name: string, args: string[]): KObject => ({
    name, image: image(name), imagePullPolicy: 'IfNotPresent', args: ['--csi-address=$(ADDRESS)', '--v=2', ...args],
    env: [{ name: 'ADDRESS', value: '/var/lib/csi/sockets/pluginproxy/csi.sock' }],
    volumeMounts: [socket], resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } },
    securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
  });
  const controller: KObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ebs-csi-controller', namespace: NS, labels: { ...NAME_LABEL } },
    spec: {
      replicas: Number(cfg.controller?.replicaCount ?? 2),
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      selector: { matchLabels: { app: 'ebs-csi-controller', 'app.kubernetes.io/name': 'aws-ebs-csi-driver' } },
      template: {
        metadata: { labels: controllerLabels },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          serviceAccountName: 'ebs-csi-controller-sa',
          priorityClassName: 'system-cluster-critical',
          affinity: {
            ...structuredClone(NOT_FARGATE_OR_HYBRID),
            podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['ebs-csi-controller'] }] }, topologyKey: 'kubernetes.io/hostname' } }] },
          },
          tolerations: cfg.controller?.tolerations ?? [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists', tolerationSeconds: 300 }],
          securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 },
          containers: [
            {
              name: 'ebs-plugin', image: plugin, imagePullPolicy: 'IfNotPresent',
              args: ['controller', '--endpoint=$(CSI_ENDPOINT)', '--batching=true', '--logging-format=text', '--user-agent-extra=eks', '--v=2'],
              env: [
                { name: 'CSI_ENDPOINT', value: 'unix:///var/lib/csi/sockets/pluginproxy/csi.sock' },
                { name: 'CSI_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'AWS_REGION', value: cluster.region },
              ],
              volumeMounts: [socket],
              ports: [{ name: 'healthz', containerPort: 9808, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
              readinessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
              resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } },
              securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            },
            sidecar('csi-provisioner', ['--timeout=60s', '--feature-gates=Topology=true', '--extra-create-metadata', '--leader-election=true', '--default-fstype=ext4', '--kube-api-qps=20', '--kube-api-burst=100', '--worker-threads=100', '--retry-interval-max=30m']),
            sidecar('csi-attacher', ['--timeout=6m', '--leader-election=true', '--kube-api-qps=20', '--kube-api-burst=100', '--worker-threads=100', '--retry-interval-max=5m']),
            sidecar('csi-snapshotter', ['--timeout=60s', '--leader-election=true', '--extra-create-metadata', '--kube-api-qps=20', '--kube-api-burst=100', '--worker-threads=100']),
            sidecar('csi-resizer', ['--timeout=60s', '--handle-volume-inuse-error=false', '--leader-election=true', '--kube-api-qps=20', '--kube-api-burst=100', '--workers=100', '--retry-interval-max=30m']),
            { name: 'liveness-probe', image: image('livenessprobe'), imagePullPolicy: 'IfNotPresent', args: ['--csi-address=/csi/csi.sock'], volumeMounts: [{ name: 'socket-dir', mountPath: '/csi' }], resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } } },
          ],
          volumes: [{ name: 'socket-dir', emptyDir: {} }],
        },
      },
    },
  };
  const node: KObject = {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ebs-csi-node', namespace: NS, labels: { ...NAME_LABEL } },
    spec: {
      selector: { matchLabels: { app: 'ebs-csi-node', 'app.kubernetes.io/name': 'aws-ebs-csi-driver' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
      template: {
        metadata: { labels: nodeLabels },
        spec: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          serviceAccountName: 'ebs-csi-node-sa',
          priorityClassName: 'system-node-critical',
          affinity: structuredClone(NOT_FARGATE_OR_HYBRID),
          tolerations: cfg.node?.tolerations ?? [{ operator: 'Exists' }],
          securityContext: { runAsNonRoot: false, runAsUser: 0, runAsGroup: 0, fsGroup: 0 },
          containers: [
            {
              name: 'ebs-plugin', image: plugin, imagePullPolicy: 'IfNotPresent',
              args: ['node', '--endpoint=$(CSI_ENDPOINT)', '--csi-mount-point-prefix=/var/lib/kubelet/plugins/kubernetes.io/csi/ebs.csi.aws.com/', '--logging-format=text', '--v=2'],
              env: [{ name: 'CSI_ENDPOINT', value: 'unix:/csi/csi.sock' }, { name: 'CSI_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
              securityContext: { privileged: true, readOnlyRootFilesystem: true },
              volumeMounts: [
                { name: 'kubelet-dir', mountPath: '/var/lib/kubelet', mountPropagation: 'Bidirectional' },
                { name: 'plugin-dir', mountPath: '/csi' },
                { name: 'device-dir', mountPath: '/dev' },
              ],
              ports: [{ name: 'healthz', containerPort: 9808, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/healthz', port: 'healthz' }, initialDelaySeconds: 10, timeoutSeconds: 3, periodSeconds: 10, failureThreshold: 5 },
              resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } },
            },
            {
              name: 'node-driver-registrar', image: image('csi-node-driver-registrar'), imagePullPolicy: 'IfNotPresent',
              args: ['--csi-address=$(ADDRESS)', '--kubelet-registration-path=$(DRIVER_REG_SOCK_PATH)', '--v=2'],
              env: [{ name: 'ADDRESS', value: '/csi/csi.sock' }, { name: 'DRIVER_REG_SOCK_PATH', value: '/var/lib/kubelet/plugins/ebs.csi.aws.com/csi.sock' }],
              volumeMounts: [{ name: 'plugin-dir', mountPath: '/csi' }, { name: 'registration-dir', mountPath: '/registration' }],
              resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } },
            },
            { name: 'liveness-probe', image: image('livenessprobe'), imagePullPolicy: 'IfNotPresent', args: ['--csi-address=/csi/csi.sock'], volumeMounts: [{ name: 'plugin-dir', mountPath: '/csi' }], resources: { requests: { cpu: '10m', memory: '40Mi' }, limits: { memory: '256Mi' } } },
          ],
          volumes: [
            { name: 'kubelet-dir', hostPath: { path: '/var/lib/kubelet', type: 'Directory' } },
            { name: 'plugin-dir', hostPath: { path: '/var/lib/kubelet/plugins/ebs.csi.aws.com/', type: 'DirectoryOrCreate' } },
            { name: 'registration-dir', hostPath: { path: '/var/lib/kubelet/plugins_registry/', type: 'Directory' } },
            { name: 'device-dir', hostPath: { path: '/dev', type: 'Directory' } },
          ],
        },
      },
    },
  };
  const sa = (name: string): AddonObject => ({ group: '', resource: 'serviceaccounts', namespace: NS, obj: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS, labels: { ...NAME_LABEL } } } });
  return [
    sa('ebs-csi-controller-sa'),
    sa('ebs-csi-node-sa'),
    { group: 'storage.k8s.io', resource: 'csidrivers', namespace: '', obj: { apiVersion: 'storage.k8s.io/v1', kind: 'CSIDriver', metadata: { name: 'ebs.csi.aws.com', labels: { ...NAME_LABEL } }, spec: { attachRequired: true, podInfoOnMount: false, fsGroupPolicy: 'File' } } },
    { group: 'apps', resource: 'deployments', namespace: NS, obj: controller },
    { group: 'policy', resource: 'poddisruptionbudgets', namespace: NS, obj: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'ebs-csi-controller', namespace: NS, labels: { ...NAME_LABEL } }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'ebs-csi-controller', 'app.kubernetes.io/name': 'aws-ebs-csi-driver' } } } } },
    { group: 'apps', resource: 'daemonsets', namespace: NS, obj: node },
  ];
}
