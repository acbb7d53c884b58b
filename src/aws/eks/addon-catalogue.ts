/**
 * The EKS add-ons localeks offers (DescribeAddonVersions /
 * DescribeAddonConfiguration): real version strings, the Kubernetes
 * versions each is compatible with, which one is the default per
 * Kubernetes version, and a JSON schema of the configuration values each
 * accepts (a subset of the real add-ons' schemas), with a small validator.
 */
import { parse as parseYaml } from 'yaml';
import { awsKey, collectionPrefix, type Scope } from '../core/state.ts';
import { KUBE_VERSIONS } from './versions.ts';

/**
 * Where DeleteAddon (without preserve) records that an add-on's Kubernetes
 * objects must be removed: one document per add-on, { addonName,
 * clusterName, clusterUid, addonVersion, configurationValues }, consumed and
 * deleted by the add-on controller of the data plane
 * (src/sim/addons/addon-controller.ts).
 */
export function addonRemovalPrefix(scope: Scope, clusterName: string): string {
  return collectionPrefix(scope, 'eks', `addon-removal@${clusterName}`);
}

export function addonRemovalKey(scope: Scope, clusterName: string, addonName: string): string {
  return awsKey(scope, 'eks', `addon-removal@${clusterName}`, addonName);
}

/** Add-ons whose Kubernetes objects the data plane's add-on controller writes. */
export const KUBE_MODELED_ADDONS = new Set(['vpc-cni', 'kube-proxy', 'coredns']);

/**
 * The shortest CREATING / UPDATING of a modeled add-on (simulated ms, except
 * with the instant profile): longer than the data plane's 1 s tick, so the
 * add-on controller checks the change against the cluster (conflicts) before
 * the transition completes.
 */
export const ADDON_APPLY_WINDOW_MS = 1500;

/** Health issue codes the add-on controller owns (it adds and clears them). */
export const CONTROLLER_ISSUE_CODES = ['InsufficientNumberOfReplicas', 'ConfigurationConflict', 'K8sResourceNotFound'];

export interface AddonVersion {
  addonVersion: string;
  /** Compatible Kubernetes minor versions. */
  clusterVersions: string[];
}

export interface AddonDef {
  addonName: string;
  type: string;
  owner: 'aws';
  publisher: 'eks';
  defaultNamespace: string;
  requiresIamPermissions: boolean;
  /** Newest first. */
  versions: AddonVersion[];
  serviceAccount?: string;
  recommendedManagedPolicies?: string[];
  schema: JsonSchema;
}

const range = (from: number, to: number): string[] => {
  const r: string[] = [];
  for (let i = from; i <= to; i++) r.push(`1.${i}`);
  return r;
};

const resources: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    limits: { type: 'object', additionalProperties: false, properties: { cpu: { type: 'string' }, memory: { type: 'string' } } },
    requests: { type: 'object', additionalProperties: false, properties: { cpu: { type: 'string' }, memory: { type: 'string' } } },
  },
};
const common = {
  podAnnotations: { type: 'object' },
  podLabels: { type: 'object' },
  resources,
  tolerations: { type: 'array', items: { type: 'object' } },
  nodeSelector: { type: 'object' },
  affinity: { type: ['object', 'null'] },
  priorityClassName: { type: 'string' },
} satisfies Record<string, JsonSchema>;

export const ADDONS: AddonDef[] = [
  {
    addonName: 'vpc-cni',
    type: 'networking',
    owner: 'aws',
    publisher: 'eks',
    defaultNamespace: 'kube-system',
    requiresIamPermissions: true,
    serviceAccount: 'aws-node',
    recommendedManagedPolicies: ['arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy'],
    versions: [
      { addonVersion: 'v1.20.4-eksbuild.2', clusterVersions: range(29, 35) },
      { addonVersion: 'v1.20.1-eksbuild.3', clusterVersions: range(27, 34) },
      { addonVersion: 'v1.19.6-eksbuild.7', clusterVersions: range(25, 33) },
      { addonVersion: 'v1.19.2-eksbuild.1', clusterVersions: range(25, 32) },
      { addonVersion: 'v1.18.5-eksbuild.1', clusterVersions: range(23, 31) },
    ],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...common,
        env: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(
            ['WARM_IP_TARGET', 'WARM_ENI_TARGET', 'MINIMUM_IP_TARGET', 'WARM_PREFIX_TARGET', 'ENABLE_PREFIX_DELEGATION', 'AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG', 'ENI_CONFIG_LABEL_DEF', 'ENABLE_POD_ENI', 'POD_SECURITY_GROUP_ENFORCING_MODE', 'AWS_VPC_K8S_CNI_EXTERNALSNAT', 'AWS_VPC_K8S_CNI_LOGLEVEL', 'MAX_ENI', 'DISABLE_TCP_EARLY_DEMUX', 'ENABLE_IPv6', 'ENABLE_SUBNET_DISCOVERY', 'ANNOTATE_POD_IP'].map((k) => [k, { type: 'string' }]),
          ),
        },
        init: { type: 'object', properties: { env: { type: 'object' } } },
        enableNetworkPolicy: { type: 'string', enum: ['true', 'false'] },
        nodeAgent: { type: 'object' },
        eniConfig: { type: 'object' },
        livenessProbeTimeoutSeconds: { type: 'integer', minimum: 1 },
        readinessProbeTimeoutSeconds: { type: 'integer', minimum: 1 },
      },
    },
  },
  {
    addonName: 'coredns',
    type: 'networking',
    owner: 'aws',
    publisher: 'eks',
    defaultNamespace: 'kube-system',
    requiresIamPermissions: false,
    versions: [
      { addonVersion: 'v1.12.4-eksbuild.1', clusterVersions: range(32, 35) },
      { addonVersion: 'v1.12.1-eksbuild.2', clusterVersions: range(31, 34) },
      { addonVersion: 'v1.11.4-eksbuild.14', clusterVersions: range(29, 33) },
      { addonVersion: 'v1.11.3-eksbuild.1', clusterVersions: range(29, 32) },
      { addonVersion: 'v1.10.1-eksbuild.18', clusterVersions: range(25, 29) },
    ],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...common,
        replicaCount: { type: 'integer', minimum: 1 },
        autoScaling: {
          type: 'object',
          additionalProperties: false,
          properties: { enabled: { type: 'boolean' }, minReplicas: { type: 'integer', minimum: 2 }, maxReplicas: { type: 'integer', minimum: 2 } },
        },
        corefile: { type: 'string' },
        // "Fargate" runs CoreDNS on Fargate (the pod template loses its eks.amazonaws.com/compute-type: ec2 annotation).
        computeType: { type: 'string' },
        podDisruptionBudget: { type: 'object', properties: { enabled: { type: 'boolean' }, maxUnavailable: {}, minAvailable: {} } },
        topologySpreadConstraints: { type: 'array' },
      },
    },
  },
  {
    addonName: 'kube-proxy',
    type: 'networking',
    owner: 'aws',
    publisher: 'eks',
    defaultNamespace: 'kube-system',
    requiresIamPermissions: false,
    versions: [
      { addonVersion: 'v1.35.0-eksbuild.2', clusterVersions: ['1.35', '1.36'] },
      { addonVersion: 'v1.34.0-eksbuild.5', clusterVersions: ['1.34', '1.35'] },
      { addonVersion: 'v1.33.3-eksbuild.10', clusterVersions: ['1.33', '1.34'] },
      { addonVersion: 'v1.32.6-eksbuild.12', clusterVersions: ['1.32', '1.33'] },
      { addonVersion: 'v1.31.10-eksbuild.12', clusterVersions: ['1.31', '1.32'] },
      { addonVersion: 'v1.30.14-eksbuild.8', clusterVersions: ['1.30', '1.31'] },
      { addonVersion: 'v1.29.15-eksbuild.16', clusterVersions: ['1.29', '1.30'] },
    ],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        ...common,
        mode: { type: 'string', enum: ['iptables', 'ipvs', 'nftables'] },
        ipvs: { type: 'object', properties: { scheduler: { type: 'string' } } },
      },
    },
  },
  {
    addonName: 'aws-ebs-csi-driver',
    type: 'storage',
    owner: 'aws',
    publisher: 'eks',
    defaultNamespace: 'kube-system',
    requiresIamPermissions: true,
    serviceAccount: 'ebs-csi-controller-sa',
    recommendedManagedPolicies: ['arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy'],
    versions: [
      { addonVersion: 'v1.51.1-eksbuild.1', clusterVersions: range(29, 35) },
      { addonVersion: 'v1.48.0-eksbuild.2', clusterVersions: range(28, 34) },
      { addonVersion: 'v1.45.0-eksbuild.2', clusterVersions: range(27, 33) },
    ],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        controller: { type: 'object' },
        node: { type: 'object' },
        defaultStorageClass: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
        storageClasses: { type: 'array', items: { type: 'object' } },
        sidecars: { type: 'object' },
      },
    },
  },
  {
    addonName: 'eks-pod-identity-agent',
    type: 'security',
    owner: 'aws',
    publisher: 'eks',
    defaultNamespace: 'kube-system',
    requiresIamPermissions: false,
    versions: [
      { addonVersion: 'v1.3.9-eksbuild.5', clusterVersions: range(29, 35) },
      { addonVersion: 'v1.3.8-eksbuild.2', clusterVersions: range(28, 34) },
      { addonVersion: 'v1.3.4-eksbuild.1', clusterVersions: range(27, 32) },
    ],
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { ...common, agent: { type: 'object', properties: { additionalArgs: { type: 'object' } } } },
    },
  },
];

export function addonDef(name: string): AddonDef | undefined {
  return ADDONS.find((a) => a.addonName === name);
}

/**
 * The default version of an add-on for a Kubernetes version: the newest
 * compatible one built for that version (kube-proxy: the one of the same
 * minor), else the newest compatible one.
 */
export function defaultAddonVersion(def: AddonDef, kubeVersion: string): string | undefined {
  const own = def.versions.find((v) => v.clusterVersions[0] === kubeVersion && def.addonName === 'kube-proxy');
  return own?.addonVersion ?? def.versions.find((v) => v.clusterVersions.includes(kubeVersion))?.addonVersion;
}

export function isCompatible(def: AddonDef, addonVersion: string, kubeVersion: string): boolean {
  return !!def.versions.find((v) => v.addonVersion === addonVersion)?.clusterVersions.includes(kubeVersion);
}

export function compatibleVersions(def: AddonDef, kubeVersion: string): string[] {
  return def.versions.filter((v) => v.clusterVersions.includes(kubeVersion)).map((v) => v.addonVersion);
}

/** Versions the catalogue lists, and which Kubernetes versions exist in it. */
export function knownKubeVersions(): string[] {
  return KUBE_VERSIONS.map((k) => k.version);
}

// ---- a small JSON schema validator (the keywords our schemas use) ---------

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: unknown[];
  minimum?: number;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** validateSchema returns the first violation as a message, or undefined. */
export function validateSchema(v: unknown, s: JsonSchema, path = '#'): string | undefined {
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return `${path}: expected type: ${types.join(' or ')}, found: ${t}`;
  }
  if (s.enum && !s.enum.includes(v)) return `${path}: ${JSON.stringify(v)} is not a valid enum value`;
  if (s.minimum !== undefined && typeof v === 'number' && v < s.minimum) return `${path}: ${v} is not greater or equal to ${s.minimum}`;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      const ps = s.properties?.[k];
      if (ps) {
        const e = validateSchema(x, ps, `${path}/${k}`);
        if (e) return e;
      } else if (s.additionalProperties === false) return `${path}: extraneous key [${k}] is not permitted`;
    }
  }
  if (Array.isArray(v) && s.items) {
    for (let i = 0; i < v.length; i++) {
      const e = validateSchema(v[i], s.items, `${path}/${i}`);
      if (e) return e;
    }
  }
  return undefined;
}

/**
 * validateConfigurationValues parses JSON or YAML configuration values and
 * checks them against the add-on's schema; returns an error message in
 * EKS's wording or undefined.
 */
export function validateConfigurationValues(def: AddonDef, values: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = values.trim().startsWith('{') ? JSON.parse(values) : parseYaml(values);
  } catch {
    return 'ConfigurationValue provided in request is not supported: Json and Yaml are the only supported formats.';
  }
  if (parsed === null || parsed === undefined) return undefined;
  const err = validateSchema(parsed, def.schema);
  return err ? `ConfigurationValue provided in request is not supported: Json schema validation failed with error: [${err}]` : undefined;
}
