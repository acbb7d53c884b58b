/**
 * The Kubernetes objects of the EKS networking add-ons as EKS installs them
 * in kube-system (shapes of the amazon-vpc-cni-k8s, kube-proxy and coredns
 * add-on manifests): vpc-cni (aws-node DaemonSet with the VPC CNI
 * environment, ServiceAccount, ClusterRole/Binding, amazon-vpc-cni
 * ConfigMap, the ENIConfig CRD of custom networking), kube-proxy (DaemonSet, ServiceAccount, binding to
 * system:node-proxier, kube-proxy and kube-proxy-config ConfigMaps), coredns
 * (Deployment of 2 replicas, kube-dns Service at the 10th address of the
 * service CIDR, ServiceAccount, system:coredns ClusterRole/Binding, coredns
 * ConfigMap with the Corefile, PodDisruptionBudget maxUnavailable 1).
 *
 * addonObjects also applies an add-on's configurationValues (env, resources,
 * tolerations, nodeSelector, affinity, podAnnotations, podLabels,
 * priorityClassName; coredns replicaCount and corefile; kube-proxy mode).
 */
import { parse as parseYaml } from 'yaml';
import type { KObject } from '../../kube/api/types.ts';
import { nthIp } from '../../kube/apiserver/registry/service-allocator.ts';
import { ebsCsiDriverObjects } from './ebs-csi-manifests.ts';
import { addonImages } from './images.ts';

/** One object to write: group ('' for core), resource (plural), namespace ('' for cluster scope). */
export interface AddonObject {
  group: string;
  resource: string;
  namespace: string;
  obj: KObject;
}

export interface AddonClusterFacts {
  name: string;
  region: string;
  serviceIpv4Cidr: string;
}

/** The add-ons a cluster gets when bootstrapSelfManagedAddons is not false. */
export const DEFAULT_ADDONS = ['vpc-cni', 'kube-proxy', 'coredns'] as const;

const NS = 'kube-system';

/** The workload (DaemonSet or Deployment) that runs an add-on. */
export const ADDON_WORKLOADS: Record<string, { group: string; resource: string; name: string }> = {
  'vpc-cni': { group: 'apps', resource: 'daemonsets', name: 'aws-node' },
  'kube-proxy': { group: 'apps', resource: 'daemonsets', name: 'kube-proxy' },
  coredns: { group: 'apps', resource: 'deployments', name: 'coredns' },
  'aws-ebs-csi-driver': { group: 'apps', resource: 'deployments', name: 'ebs-csi-controller' },
};

const LINUX_AFFINITY = {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64', 'arm64'] },
            { key: 'eks.amazonaws.com/compute-type', operator: 'NotIn', values: ['fargate', 'hybrid', 'auto'] },
          ],
        },
      ],
    },
  },
};

/** parseConfigurationValues reads JSON or YAML configuration values (already validated by the EKS API). */
export function parseConfigurationValues(values: string | undefined): Record<string, any> {
  if (!values || !values.trim()) return {};
  try {
    const v = values.trim().startsWith('{') ? JSON.parse(values) : parseYaml(values);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

const COREFILE = `.:53 {
    errors
    health {
        lameduck 5s
      }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
      pods insecure
      fallthrough in-addr.arpa ip6.arpa
    }
    prometheus :9153
    forward . /etc/resolv.conf
    cache 30
    loop
    reload
    loadbalance
}
`;

function vpcCniEnv(cluster: AddonClusterFacts, version: string): Array<Record<string, unknown>> {
  const plain: Array<[string, string]> = [
    ['ADDITIONAL_ENI_TAGS', '{}'],
    ['ANNOTATE_POD_IP', 'false'],
    ['AWS_VPC_CNI_NODE_PORT_SUPPORT', 'true'],
    ['AWS_VPC_ENI_MTU', '9001'],
    ['AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'false'],
    ['AWS_VPC_K8S_CNI_EXTERNALSNAT', 'false'],
    ['AWS_VPC_K8S_CNI_LOGLEVEL', 'DEBUG'],
    ['AWS_VPC_K8S_CNI_LOG_FILE', '/host/var/log/aws-routed-eni/ipamd.log'],
    ['AWS_VPC_K8S_CNI_RANDOMIZESNAT', 'prng'],
    ['AWS_VPC_K8S_CNI_VETHPREFIX', 'eni'],
    ['AWS_VPC_K8S_PLUGIN_LOG_FILE', '/var/log/aws-routed-eni/plugin.log'],
    ['AWS_VPC_K8S_PLUGIN_LOG_LEVEL', 'DEBUG'],
    ['CLUSTER_NAME', cluster.name],
    ['DISABLE_INTROSPECTION', 'false'],
    ['DISABLE_METRICS', 'false'],
    ['DISABLE_NETWORK_RESOURCE_PROVISIONING', 'false'],
    ['ENABLE_IPv4', 'true'],
    ['ENABLE_IPv6', 'false'],
    ['ENABLE_POD_ENI', 'false'],
    ['ENABLE_PREFIX_DELEGATION', 'false'],
    ['ENABLE_SUBNET_DISCOVERY', 'true'],
    ['NETWORK_POLICY_ENFORCING_MODE', 'standard'],
    ['VPC_CNI_VERSION', version],
    ['WARM_ENI_TARGET', '1'],
    ['WARM_PREFIX_TARGET', '1'],
  ];
  return [
    ...plain.map(([name, value]) => ({ name, value })),
    { name: 'MY_NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    { name: 'MY_POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
  ];
}

/** Sets env entries by name (configurationValues env), keeping the order of existing ones. */
function mergeEnv(env: Array<Record<string, unknown>>, extra: Record<string, unknown> | undefined): Array<Record<string, unknown>> {
  if (!extra) return env;
  const out = env.map((e) => (e.name as string) in extra ? { name: e.name, value: String(extra[e.name as string]) } : e);
  for (const [k, v] of Object.entries(extra)) if (!out.some((e) => e.name === k)) out.push({ name: k, value: String(v) });
  return out;
}

/** Applies the configuration values every add-on schema shares to a pod template. */
function applyCommon(template: KObject, cfg: Record<string, any>, mainContainer: string): void {
  const spec = template.spec;
  const meta = (template.metadata ??= {});
  if (cfg.podAnnotations) meta.annotations = { ...(meta.annotations ?? {}), ...cfg.podAnnotations };
  if (cfg.podLabels) meta.labels = { ...(meta.labels ?? {}), ...cfg.podLabels };
  if (cfg.tolerations) spec.tolerations = cfg.tolerations;
  if (cfg.nodeSelector) spec.nodeSelector = cfg.nodeSelector;
  if ('affinity' in cfg) {
    if (cfg.affinity === null) delete spec.affinity;
    else spec.affinity = cfg.affinity;
  }
  if (cfg.priorityClassName) spec.priorityClassName = cfg.priorityClassName;
  const main = spec.containers.find((c: any) => c.name === mainContainer);
  if (main && cfg.resources) main.resources = cfg.resources;
}

function vpcCni(cluster: AddonClusterFacts, version: string, cfg: Record<string, any>): AddonObject[] {
  const img = addonImages('vpc-cni', version, cluster.region);
  const labels = { 'app.kubernetes.io/instance': 'aws-vpc-cni', 'app.kubernetes.io/name': 'aws-node', 'app.kubernetes.io/version': version.split('-')[0]!, 'k8s-app': 'aws-node' };
  const template: KObject = {
    metadata: { labels: { 'app.kubernetes.io/instance': 'aws-vpc-cni', 'app.kubernetes.io/name': 'aws-node', 'k8s-app': 'aws-node' } },
    spec: {
      affinity: structuredClone(LINUX_AFFINITY),
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      serviceAccountName: 'aws-node',
      terminationGracePeriodSeconds: 10,
      securityContext: {},
      tolerations: [{ operator: 'Exists' }],
      initContainers: [
        {
          name: 'aws-vpc-cni-init',
          image: img['aws-vpc-cni-init'],
          imagePullPolicy: 'IfNotPresent',
          env: [{ name: 'DISABLE_TCP_EARLY_DEMUX', value: 'false' }, { name: 'ENABLE_IPv6', value: 'false' }, ...Object.entries(cfg.init?.env ?? {}).map(([name, value]) => ({ name, value: String(value) }))],
          resources: { requests: { cpu: '25m' } },
          securityContext: { privileged: true },
          volumeMounts: [{ mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' }],
        },
      ],
      containers: [
        {
          name: 'aws-node',
          image: img['aws-node'],
          imagePullPolicy: 'IfNotPresent',
          ports: [{ containerPort: 61678, name: 'metrics', protocol: 'TCP' }],
          livenessProbe: { exec: { command: ['/app/grpc-health-probe', '-addr=:50051', '-connect-timeout=5s', '-rpc-timeout=5s'] }, initialDelaySeconds: 60, timeoutSeconds: cfg.livenessProbeTimeoutSeconds ?? 10 },
          readinessProbe: { exec: { command: ['/app/grpc-health-probe', '-addr=:50051', '-connect-timeout=5s', '-rpc-timeout=5s'] }, initialDelaySeconds: 1, timeoutSeconds: cfg.readinessProbeTimeoutSeconds ?? 10 },
          env: mergeEnv(vpcCniEnv(cluster, version), cfg.env),
          resources: { requests: { cpu: '25m' } },
          securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
          volumeMounts: [
            { mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' },
            { mountPath: '/host/etc/cni/net.d', name: 'cni-net-dir' },
            { mountPath: '/host/var/log/aws-routed-eni', name: 'log-dir' },
            { mountPath: '/var/run/aws-node', name: 'run-dir' },
            { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
          ],
        },
        {
          name: 'aws-eks-nodeagent',
          image: img['aws-eks-nodeagent'],
          imagePullPolicy: 'IfNotPresent',
          args: ['--enable-ipv6=false', `--enable-network-policy=${cfg.enableNetworkPolicy ?? 'false'}`, '--enable-cloudwatch-logs=false', '--enable-policy-event-logs=false', '--log-file=/var/log/aws-routed-eni/network-policy-agent.log', '--metrics-bind-addr=:8162', '--health-probe-bind-addr=:8163', '--conntrack-cache-cleanup-period=300'],
          ports: [{ containerPort: 8162, name: 'agentmetrics', protocol: 'TCP' }],
          resources: { requests: { cpu: '25m' } },
          securityContext: { capabilities: { add: ['NET_ADMIN'] }, privileged: true },
          volumeMounts: [
            { mountPath: '/host/opt/cni/bin', name: 'cni-bin-dir' },
            { mountPath: '/sys/fs/bpf', name: 'bpf-pin-path' },
            { mountPath: '/var/log/aws-routed-eni', name: 'log-dir' },
            { mountPath: '/var/run/aws-node', name: 'run-dir' },
          ],
        },
      ],
      volumes: [
        { name: 'bpf-pin-path', hostPath: { path: '/sys/fs/bpf' } },
        { name: 'cni-bin-dir', hostPath: { path: '/opt/cni/bin' } },
        { name: 'cni-net-dir', hostPath: { path: '/etc/cni/net.d' } },
        { name: 'log-dir', hostPath: { path: '/var/log/aws-routed-eni', type: 'DirectoryOrCreate' } },
        { name: 'run-dir', hostPath: { path: '/var/run/aws-node', type: 'DirectoryOrCreate' } },
        { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
      ],
    },
  };
  applyCommon(template, cfg, 'aws-node');
  return [
    { group: '', resource: 'serviceaccounts', namespace: NS, obj: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'aws-node', namespace: NS, labels } } },
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterroles',
      namespace: '',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'aws-node', labels },
        rules: [
          { apiGroups: ['crd.k8s.amazonaws.com'], resources: ['eniconfigs'], verbs: ['list', 'watch', 'get'] },
          { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch', 'get'] },
          { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'get'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch', 'get'] },
          { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch', 'list'] },
          { apiGroups: ['networking.k8s.aws'], resources: ['policyendpoints'], verbs: ['get', 'list', 'watch'] },
          { apiGroups: ['networking.k8s.aws'], resources: ['policyendpoints/status'], verbs: ['get'] },
          { apiGroups: ['vpcresources.k8s.aws'], resources: ['cninodes'], verbs: ['get', 'list', 'watch', 'patch'] },
        ],
      },
    },
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      namespace: '',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'aws-node', labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'aws-node' },
        subjects: [{ kind: 'ServiceAccount', name: 'aws-node', namespace: NS }],
      },
    },
    {
      group: '',
      resource: 'configmaps',
      namespace: NS,
      obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: NS, labels }, data: { 'enable-network-policy-controller': String(cfg.enableNetworkPolicy ?? 'false'), 'enable-windows-ipam': 'false' } },
    },
    {
      group: 'apiextensions.k8s.io',
      resource: 'customresourcedefinitions',
      namespace: '',
      obj: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: 'eniconfigs.crd.k8s.amazonaws.com', labels: { 'app.kubernetes.io/instance': 'aws-vpc-cni', 'app.kubernetes.io/name': 'aws-node', 'k8s-app': 'aws-node' } },
        spec: {
          group: 'crd.k8s.amazonaws.com',
          names: { kind: 'ENIConfig', listKind: 'ENIConfigList', plural: 'eniconfigs', singular: 'eniconfig' },
          scope: 'Cluster',
          versions: [
            {
              name: 'v1alpha1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    apiVersion: { type: 'string' },
                    kind: { type: 'string' },
                    metadata: { type: 'object' },
                    spec: { type: 'object', properties: { securityGroups: { type: 'array', items: { type: 'string' } }, subnet: { type: 'string' } } },
                    status: { type: 'object', properties: { eniConfig: { type: 'string' } } },
                  },
                },
              },
            },
          ],
        },
      },
    },
    {
      group: 'apps',
      resource: 'daemonsets',
      namespace: NS,
      obj: {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'aws-node', namespace: NS, labels },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'aws-node' } },
          updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } },
          template,
        },
      },
    },
  ];
}

function kubeProxy(cluster: AddonClusterFacts, version: string, cfg: Record<string, any>): AddonObject[] {
  const img = addonImages('kube-proxy', version, cluster.region);
  const labels = { 'eks.amazonaws.com/component': 'kube-proxy', 'k8s-app': 'kube-proxy' };
  const mode: string = cfg.mode ?? 'iptables';
  const config = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'bindAddress: 0.0.0.0',
    'clientConnection:',
    '  acceptContentTypes: ""',
    '  burst: 10',
    '  contentType: application/vnd.kubernetes.protobuf',
    '  kubeconfig: /var/lib/kube-proxy/kubeconfig',
    '  qps: 5',
    'clusterCIDR: ""',
    'configSyncPeriod: 15m0s',
    'conntrack:',
    '  maxPerCore: 32768',
    '  min: 131072',
    '  tcpCloseWaitTimeout: 1h0m0s',
    '  tcpEstablishedTimeout: 24h0m0s',
    'enableProfiling: false',
    'healthzBindAddress: 0.0.0.0:10256',
    'hostnameOverride: ""',
    'iptables:',
    '  masqueradeAll: false',
    '  masqueradeBit: 14',
    '  minSyncPeriod: 0s',
    '  syncPeriod: 30s',
    'ipvs:',
    '  excludeCIDRs: null',
    '  minSyncPeriod: 0s',
    `  scheduler: "${cfg.ipvs?.scheduler ?? ''}"`,
    '  syncPeriod: 30s',
    'kind: KubeProxyConfiguration',
    'metricsBindAddress: 0.0.0.0:10249',
    `mode: "${mode}"`,
    'nodePortAddresses: null',
    'oomScoreAdj: -998',
    'portRange: ""',
    'udpIdleTimeout: 250ms',
    '',
  ].join('\n');
  const kubeconfig = [
    'kind: Config',
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    '    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
    '    server: https://kubernetes.default.svc',
    '  name: default',
    'contexts:',
    '- context:',
    '    cluster: default',
    '    namespace: default',
    '    user: default',
    '  name: default',
    'current-context: default',
    'users:',
    '- name: default',
    '  user:',
    '    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token',
    '',
  ].join('\n');
  const template: KObject = {
    metadata: { labels: { 'k8s-app': 'kube-proxy' } },
    spec: {
      affinity: structuredClone(LINUX_AFFINITY),
      hostNetwork: true,
      priorityClassName: 'system-node-critical',
      serviceAccountName: 'kube-proxy',
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'kube-proxy',
          image: img['kube-proxy'],
          command: ['kube-proxy', '--v=2', '--config=/var/lib/kube-proxy-config/config', '--hostname-override=$(NODE_NAME)'],
          env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
          resources: { requests: { cpu: '100m' } },
          securityContext: { privileged: true },
          volumeMounts: [
            { mountPath: '/var/log', name: 'varlog' },
            { mountPath: '/run/xtables.lock', name: 'xtables-lock' },
            { mountPath: '/lib/modules', name: 'lib-modules', readOnly: true },
            { mountPath: '/var/lib/kube-proxy/', name: 'kubeconfig' },
            { mountPath: '/var/lib/kube-proxy-config/', name: 'config' },
          ],
        },
      ],
      volumes: [
        { name: 'varlog', hostPath: { path: '/var/log' } },
        { name: 'xtables-lock', hostPath: { path: '/run/xtables.lock', type: 'FileOrCreate' } },
        { name: 'lib-modules', hostPath: { path: '/lib/modules' } },
        { name: 'kubeconfig', configMap: { name: 'kube-proxy' } },
        { name: 'config', configMap: { name: 'kube-proxy-config' } },
      ],
    },
  };
  applyCommon(template, cfg, 'kube-proxy');
  return [
    { group: '', resource: 'serviceaccounts', namespace: NS, obj: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: NS, labels: { 'eks.amazonaws.com/component': 'kube-proxy' } } } },
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      namespace: '',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'eks:kube-proxy', labels: { 'eks.amazonaws.com/component': 'kube-proxy' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
        subjects: [{ kind: 'ServiceAccount', name: 'kube-proxy', namespace: NS }],
      },
    },
    { group: '', resource: 'configmaps', namespace: NS, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: NS, labels }, data: { kubeconfig } } },
    { group: '', resource: 'configmaps', namespace: NS, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-proxy-config', namespace: NS, labels }, data: { config } } },
    {
      group: 'apps',
      resource: 'daemonsets',
      namespace: NS,
      obj: {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'kube-proxy', namespace: NS, labels },
        spec: { selector: { matchLabels: { 'k8s-app': 'kube-proxy' } }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%' } }, template },
      },
    },
  ];
}

function coredns(cluster: AddonClusterFacts, version: string, cfg: Record<string, any>): AddonObject[] {
  const img = addonImages('coredns', version, cluster.region);
  const labels = { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS' };
  const template: KObject = {
    // EKS's coredns runs on EC2 nodes unless this annotation is removed (the Fargate-only cluster recipe; the add-on's computeType: Fargate).
    metadata: {
      labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' },
      ...(String(cfg.computeType ?? '').toLowerCase() === 'fargate' ? {} : { annotations: { 'eks.amazonaws.com/compute-type': 'ec2' } }),
    },
    spec: {
      affinity: {
        ...structuredClone(LINUX_AFFINITY),
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'k8s-app', operator: 'In', values: ['kube-dns'] }] }, topologyKey: 'kubernetes.io/hostname' }, weight: 100 },
          ],
        },
      },
      priorityClassName: 'system-cluster-critical',
      serviceAccountName: 'coredns',
      dnsPolicy: 'Default',
      tolerations: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }, { key: 'CriticalAddonsOnly', operator: 'Exists' }],
      ...(cfg.topologySpreadConstraints ? { topologySpreadConstraints: cfg.topologySpreadConstraints } : {}),
      containers: [
        {
          name: 'coredns',
          image: img.coredns,
          imagePullPolicy: 'IfNotPresent',
          args: ['-conf', '/etc/coredns/Corefile'],
          ports: [
            { containerPort: 53, name: 'dns', protocol: 'UDP' },
            { containerPort: 53, name: 'dns-tcp', protocol: 'TCP' },
            { containerPort: 9153, name: 'metrics', protocol: 'TCP' },
          ],
          livenessProbe: { httpGet: { path: '/health', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 60, timeoutSeconds: 5, successThreshold: 1, failureThreshold: 5 },
          readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' } },
          resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] }, readOnlyRootFilesystem: true },
          volumeMounts: [{ mountPath: '/etc/coredns', name: 'config-volume', readOnly: true }],
        },
      ],
      volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
    },
  };
  applyCommon(template, cfg, 'coredns');
  const out: AddonObject[] = [
    { group: '', resource: 'serviceaccounts', namespace: NS, obj: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: NS, labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } } } },
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterroles',
      namespace: '',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: 'system:coredns', labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns', 'kubernetes.io/bootstrapping': 'rbac-defaults' } },
        rules: [
          { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
          { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
        ],
      },
    },
    {
      group: 'rbac.authorization.k8s.io',
      resource: 'clusterrolebindings',
      namespace: '',
      obj: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: 'system:coredns', labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns', 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
        subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: NS }],
      },
    },
    { group: '', resource: 'configmaps', namespace: NS, obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: NS, labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } }, data: { Corefile: cfg.corefile ?? COREFILE } } },
    {
      group: 'apps',
      resource: 'deployments',
      namespace: NS,
      obj: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'coredns', namespace: NS, labels },
        spec: {
          replicas: cfg.replicaCount ?? 2,
          revisionHistoryLimit: 10,
          selector: { matchLabels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
          template,
        },
      },
    },
    {
      group: '',
      resource: 'services',
      namespace: NS,
      obj: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'kube-dns',
          namespace: NS,
          labels: { 'eks.amazonaws.com/component': 'kube-dns', 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
          annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
        },
        spec: {
          type: 'ClusterIP',
          clusterIP: nthIp(cluster.serviceIpv4Cidr || '10.100.0.0/16', 10),
          selector: { 'k8s-app': 'kube-dns' },
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
            { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
          ],
          sessionAffinity: 'None',
        },
      },
    },
  ];
  if (cfg.podDisruptionBudget?.enabled !== false) {
    const pdbSpec: Record<string, unknown> = { selector: { matchLabels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } } };
    if (cfg.podDisruptionBudget?.minAvailable !== undefined) pdbSpec.minAvailable = cfg.podDisruptionBudget.minAvailable;
    else pdbSpec.maxUnavailable = cfg.podDisruptionBudget?.maxUnavailable ?? 1;
    out.push({ group: 'policy', resource: 'poddisruptionbudgets', namespace: NS, obj: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'coredns', namespace: NS, labels: { 'eks.amazonaws.com/component': 'coredns', 'k8s-app': 'kube-dns' } }, spec: pdbSpec } });
  }
  return out;
}

/**
 * addonObjects returns the objects of one add-on at a version for a cluster,
 * with its configuration values applied; [] for add-ons localeks does not
 * model in Kubernetes.
 */
export function addonObjects(addonName: string, version: string, cluster: AddonClusterFacts, configurationValues?: string): AddonObject[] {
  const cfg = parseConfigurationValues(configurationValues);
  switch (addonName) {
    case 'vpc-cni':
      return vpcCni(cluster, version, cfg);
    case 'kube-proxy':
      return kubeProxy(cluster, version, cfg);
    case 'coredns':
      return coredns(cluster, version, cfg);
    case 'aws-ebs-csi-driver':
      return ebsCsiDriverObjects(cluster, version, cfg);
    default:
      return [];
  }
}
