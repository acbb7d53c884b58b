/**
 * eksctl's ClusterConfig (apiVersion eksctl.io/v1alpha5, kind ClusterConfig):
 * parsing, validation and defaults, before anything is created.
 *
 * Every field is checked against a schema of what eksctl accepts. A field
 * eksctl does not know is an error; a field eksctl knows but localeks does
 * not implement is an error too ("not supported by localeks"), never silently
 * ignored. Every error names the field's path and its line in the file.
 *
 * Defaults are eksctl's: VPC 192.168.0.0/16 cut into /19 public and private
 * subnets per zone, a single NAT gateway, managed node groups of m5.large
 * with 2 nodes and 80 GiB gp3 volumes.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';

export const API_VERSION = 'eksctl.io/v1alpha5';

/** One problem in a config file. */
export interface ConfigError {
  /** Dotted path, e.g. managedNodeGroups[0].instanceType */
  path: string;
  line: number;
  message: string;
  /** A warning (a field without effect), not an error. */
  warning?: true;
}

export class ClusterConfigError extends Error {
  constructor(readonly errors: ConfigError[], readonly file: string) {
    super(errors.map((e) => `${file}:${e.line}: ${e.path}: ${e.message}`).join('\n'));
    this.name = 'ClusterConfigError';
  }
}

type Spec =
  | { t: 'string'; enum?: string[]; pattern?: RegExp; hint?: string }
  | { t: 'number'; min?: number; max?: number; int?: boolean }
  | { t: 'boolean' }
  | { t: 'stringMap' }
  | { t: 'list'; of: Spec; max?: number }
  | { t: 'map'; of: Spec }
  | { t: 'object'; fields: Record<string, Spec>; required?: string[] }
  /** eksctl knows it; localeks does not implement it. */
  | { t: 'unsupported'; why?: string }
  /** Valid, and accepted, but without effect in localeks: a warning names it. */
  | { t: 'noop'; of: Spec; why: string }
  | { t: 'any' };

const str = (extra: Omit<Extract<Spec, { t: 'string' }>, 't'> = {}): Spec => ({ t: 'string', ...extra });
const num = (extra: Omit<Extract<Spec, { t: 'number' }>, 't'> = {}): Spec => ({ t: 'number', int: true, ...extra });
const bool: Spec = { t: 'boolean' };
const smap: Spec = { t: 'stringMap' };
const list = (of: Spec, max?: number): Spec => ({ t: 'list', of, max });
const obj = (fields: Record<string, Spec>, required?: string[]): Spec => ({ t: 'object', fields, required });
const no = (why?: string): Spec => ({ t: 'unsupported', why });
const noop = (of: Spec, why: string): Spec => ({ t: 'noop', of, why });
const NO_DISKS = 'simulated nodes have no real volumes';
const NO_OS = 'simulated nodes run no operating system or kubelet configuration';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const taints: Spec = list(obj({ key: str(), value: str(), effect: str({ enum: TAINT_EFFECTS }) }, ['key', 'effect']));
const ssh: Spec = obj({ allow: bool, publicKeyName: str(), publicKeyPath: str(), publicKey: str(), sourceSecurityGroupIds: list(str()), enableSsm: noop(bool, 'SSM is always allowed by the node role') });
const ngIam: Spec = obj({
  instanceProfileARN: str(),
  instanceRoleARN: str(),
  instanceRoleName: str(),
  attachPolicyARNs: list(str()),
  attachPolicy: { t: 'any' },
  withAddonPolicies: obj({
    imageBuilder: bool, autoScaler: bool, externalDNS: bool, certManager: bool, appMesh: bool, appMeshPreview: bool,
    ebs: bool, fsx: bool, efs: bool, awsLoadBalancerController: bool, albIngress: bool, xRay: bool, cloudWatch: bool,
  }),
  instanceRolePermissionsBoundary: str(),
});
const nodeGroupCommon: Record<string, Spec> = {
  name: str({ pattern: /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,62}$/, hint: 'up to 63 letters, digits, "-" and "_", starting with a letter or digit' }),
  amiFamily: str({ enum: ['AmazonLinux2', 'AmazonLinux2023', 'Bottlerocket', 'Ubuntu2004', 'Ubuntu2204', 'UbuntuPro2204', 'Ubuntu2404', 'WindowsServer2019FullContainer', 'WindowsServer2019CoreContainer', 'WindowsServer2022FullContainer', 'WindowsServer2022CoreContainer'] }),
  instanceType: str(),
  availabilityZones: list(str()),
  subnets: list(str()),
  instancePrefix: noop(str(), 'instances are named by EC2'),
  instanceName: noop(str(), 'instances are named by EC2'),
  desiredCapacity: num({ min: 0 }),
  minSize: num({ min: 0 }),
  maxSize: num({ min: 0 }),
  volumeSize: num({ min: 1, max: 16384 }),
  volumeType: str({ enum: ['gp2', 'gp3', 'io1', 'io2', 'sc1', 'st1', 'standard'] }),
  volumeIOPS: noop(num(), NO_DISKS),
  volumeThroughput: noop(num(), NO_DISKS),
  volumeEncrypted: bool,
  volumeKmsKeyID: noop(str(), NO_DISKS),
  volumeName: noop(str(), NO_DISKS),
  labels: smap,
  taints,
  tags: smap,
  privateNetworking: bool,
  ssh,
  iam: ngIam,
  ami: str(),
  securityGroups: obj({ attachIDs: list(str()), withShared: bool, withLocal: bool }),
  maxPodsPerNode: num({ min: 1 }),
  preBootstrapCommands: noop(list(str()), NO_OS),
  overrideBootstrapCommand: noop(str(), NO_OS),
  disableIMDSv1: noop(bool, 'there is no instance metadata service'),
  disablePodIMDS: noop(bool, 'there is no instance metadata service'),
  propagateASGTags: noop(bool, 'node group tags are not copied to Auto Scaling groups'),
  enableDetailedMonitoring: noop(bool, 'there are no EC2 metrics'),
  kubeletExtraConfig: noop({ t: 'any' }, NO_OS),
  asgSuspendProcesses: list(str()),
  instanceSelector: no('instance selectors need the EC2 instance selector; name instance types instead'),
  placement: no(),
  efaEnabled: no(),
  outpostARN: no(),
  containerRuntime: noop(str({ enum: ['containerd'] }), NO_OS),
  updateConfig: obj({ maxUnavailable: num({ min: 1 }), maxUnavailablePercentage: num({ min: 1, max: 100 }) }),
};
const managedNodeGroup: Spec = obj(
  {
    ...nodeGroupCommon,
    instanceTypes: list(str()),
    spot: bool,
    launchTemplate: obj({ id: str(), version: str() }, ['id']),
    releaseVersion: str(),
    nodeRepairConfig: noop(obj({ enabled: bool }), 'nodes are not repaired'),
  },
  ['name'],
);
const selfManagedNodeGroup: Spec = obj(
  {
    ...nodeGroupCommon,
    instancesDistribution: obj({
      instanceTypes: list(str()),
      maxPrice: noop({ t: 'any' }, 'spot prices are not simulated'),
      onDemandBaseCapacity: num({ min: 0 }),
      onDemandPercentageAboveBaseCapacity: num({ min: 0, max: 100 }),
      spotInstancePools: num({ min: 1, max: 20 }),
      spotAllocationStrategy: str({ enum: ['lowest-price', 'capacity-optimized', 'capacity-optimized-prioritized', 'price-capacity-optimized'] }),
      capacityRebalance: bool,
    }),
    targetGroupARNs: list(str()),
    classicLoadBalancerNames: noop(list(str()), 'Classic Load Balancers are not emulated'),
    cpuCredits: noop(str(), 'CPU credits are not simulated'),
    clusterDNS: noop(str(), NO_OS),
    kubeletExtraConfig: noop({ t: 'any' }, NO_OS),
  },
  ['name'],
);
const subnetSpec: Spec = obj({ id: str({ pattern: /^subnet-[0-9a-f]+$/ }), cidr: str(), az: str() });
const accessPolicy: Spec = obj({ policyARN: str(), accessScope: obj({ type: str({ enum: ['cluster', 'namespace'] }), namespaces: list(str()) }, ['type']) }, ['policyARN']);

const SCHEMA: Spec = obj(
  {
    apiVersion: str(),
    kind: str(),
    metadata: obj(
      {
        name: str({ pattern: /^[a-zA-Z][-a-zA-Z0-9]{0,99}$/, hint: 'must start with a letter, up to 100 letters, digits and hyphens' }),
        region: str({ pattern: /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/ }),
        version: str({ pattern: /^1\.\d{2}$/, hint: 'a Kubernetes minor version such as "1.31" (quote it in YAML)' }),
        tags: smap,
        annotations: noop(smap, 'metadata annotations are for eksctl itself'),
        accountID: noop(str(), 'resources go to the account of the credentials used'),
      },
      ['name'],
    ),
    availabilityZones: list(str()),
    kubernetesNetworkConfig: obj({ ipFamily: str({ enum: ['IPv4', 'IPv6'] }), serviceIPv4CIDR: str() }),
    vpc: obj({
      id: str({ pattern: /^vpc-[0-9a-f]+$/ }),
      cidr: str(),
      ipv6Cidr: no(),
      securityGroup: str(),
      sharedNodeSecurityGroup: str(),
      manageSharedNodeSecurityGroupRules: noop(bool, 'security group rules are not enforced'),
      autoAllocateIPv6: noop(bool, 'IPv6 is not simulated'),
      nat: obj({ gateway: str({ enum: ['HighlyAvailable', 'Single', 'Disable'] }) }),
      subnets: obj({ public: { t: 'map', of: subnetSpec }, private: { t: 'map', of: subnetSpec } }),
      clusterEndpoints: obj({ publicAccess: bool, privateAccess: bool }),
      publicAccessCIDRs: list(str()),
      hostnameType: noop(str({ enum: ['ip-name', 'resource-name'] }), 'nodes are always named by their IP'),
      extraCIDRs: list(str()),
    }),
    iam: obj({
      serviceRoleARN: str(),
      serviceRolePermissionsBoundary: str(),
      fargatePodExecutionRoleARN: str(),
      withOIDC: bool,
      vpcResourceControllerPolicy: bool,
      serviceAccounts: list(
        obj(
          {
            metadata: obj({ name: str(), namespace: str(), labels: smap, annotations: smap }, ['name']),
            attachPolicyARNs: list(str()),
            attachPolicy: { t: 'any' },
            attachRoleARN: str(),
            roleName: str(),
            roleOnly: bool,
            permissionsBoundary: str(),
            wellKnownPolicies: obj({ imageBuilder: bool, autoScaler: bool, awsLoadBalancerController: bool, externalDNS: bool, certManager: bool, ebsCSIController: bool, efsCSIController: bool }),
            tags: smap,
          },
          ['metadata'],
        ),
      ),
      podIdentityAssociations: list(obj({ namespace: str(), serviceAccountName: str(), roleARN: str(), roleName: str(), permissionPolicyARNs: list(str()), tags: smap }, ['namespace', 'serviceAccountName'])),
    }),
    accessConfig: obj({
      authenticationMode: str({ enum: ['CONFIG_MAP', 'API_AND_CONFIG_MAP', 'API'] }),
      bootstrapClusterCreatorAdminPermissions: bool,
      accessEntries: list(obj({ principalARN: str(), type: str({ enum: ['STANDARD', 'EC2_LINUX', 'EC2_WINDOWS', 'FARGATE_LINUX'] }), kubernetesGroups: list(str()), kubernetesUsername: str(), accessPolicies: list(accessPolicy) }, ['principalARN'])),
    }),
    managedNodeGroups: list(managedNodeGroup),
    nodeGroups: list(selfManagedNodeGroup),
    fargateProfiles: list(
      obj({ name: str(), selectors: list(obj({ namespace: str(), labels: smap }, ['namespace']), 5), subnets: list(str()), podExecutionRoleARN: str(), tags: smap }, ['name', 'selectors']),
    ),
    addons: list(
      obj(
        {
          name: str(),
          version: str(),
          serviceAccountRoleARN: str(),
          attachPolicyARNs: list(str()),
          attachPolicy: { t: 'any' },
          permissionsBoundary: str(),
          wellKnownPolicies: { t: 'any' },
          configurationValues: str(),
          resolveConflicts: str({ enum: ['none', 'overwrite', 'preserve', 'NONE', 'OVERWRITE', 'PRESERVE'] }),
          tags: smap,
          useDefaultPodIdentityAssociations: noop(bool, 'add-ons have no default pod identity associations in localeks'),
          podIdentityAssociations: list(obj({ serviceAccountName: str(), roleARN: str(), permissionPolicyARNs: list(str()), wellKnownPolicies: { t: 'any' } }, ['serviceAccountName'])),
        },
        ['name'],
      ),
    ),
    addonsConfig: obj({ autoApplyPodIdentityAssociations: noop(bool, 'add-ons have no default pod identity associations in localeks'), disableDefaultAddons: bool }),
    cloudWatch: obj({ clusterLogging: obj({ enableTypes: list(str({ enum: ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler', 'all', '*'] })), logRetentionInDays: num() }) }),
    secretsEncryption: obj({ keyARN: str() }, ['keyARN']),
    identityProviders: list(obj({ name: str(), type: str({ enum: ['oidc'] }), issuerURL: str(), clientID: str(), usernameClaim: str(), usernamePrefix: str(), groupsClaim: str(), groupsPrefix: str(), requiredClaims: smap, tags: smap }, ['name', 'type', 'issuerURL', 'clientID'])),
    upgradePolicy: obj({ supportType: str({ enum: ['STANDARD', 'EXTENDED'] }) }),
    zonalShiftConfig: obj({ enabled: bool }),
    autoModeConfig: no('EKS Auto Mode'),
    karpenter: no('Karpenter installation'),
    gitops: no('GitOps (Flux) bootstrap'),
    outpost: no('EKS on Outposts'),
    remoteNetworkConfig: no('hybrid nodes'),
    privateCluster: no('fully private clusters'),
    localZones: no('Local Zones'),
  },
  ['apiVersion', 'kind', 'metadata'],
);

/** A parsed ClusterConfig with defaults applied; shapes mirror eksctl's. */
export interface ClusterConfig {
  apiVersion: string;
  kind: string;
  metadata: { name: string; region: string; version?: string; tags?: Record<string, string> };
  availabilityZones: string[];
  vpc: {
    id?: string;
    cidr: string;
    nat: { gateway: 'HighlyAvailable' | 'Single' | 'Disable' };
    subnets?: { public?: Record<string, { id?: string; cidr?: string; az?: string }>; private?: Record<string, { id?: string; cidr?: string; az?: string }> };
    clusterEndpoints?: { publicAccess?: boolean; privateAccess?: boolean };
    publicAccessCIDRs?: string[];
    /** With vpc.id: the control plane security group to use. */
    securityGroup?: string;
    /** With vpc.id: the security group shared by the nodes. */
    sharedNodeSecurityGroup?: string;
  };
  iam?: { withOIDC?: boolean; serviceRoleARN?: string; serviceAccounts?: any[]; podIdentityAssociations?: any[]; fargatePodExecutionRoleARN?: string };
  accessConfig?: { authenticationMode?: string; bootstrapClusterCreatorAdminPermissions?: boolean; accessEntries?: any[] };
  managedNodeGroups: ManagedNodeGroupConfig[];
  nodeGroups: any[];
  fargateProfiles: Array<{ name: string; selectors: Array<{ namespace: string; labels?: Record<string, string> }>; subnets?: string[]; podExecutionRoleARN?: string; tags?: Record<string, string> }>;
  addons: Array<{ name: string; version?: string; serviceAccountRoleARN?: string; configurationValues?: string; resolveConflicts?: string; attachPolicyARNs?: string[]; tags?: Record<string, string> }>;
  cloudWatch?: { clusterLogging?: { enableTypes?: string[]; logRetentionInDays?: number } };
  secretsEncryption?: { keyARN: string };
  kubernetesNetworkConfig?: { ipFamily?: string; serviceIPv4CIDR?: string };
  [k: string]: unknown;
}

export interface ManagedNodeGroupConfig {
  name: string;
  instanceType?: string;
  instanceTypes?: string[];
  desiredCapacity: number;
  minSize: number;
  maxSize: number;
  volumeSize: number;
  volumeType: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  tags?: Record<string, string>;
  spot?: boolean;
  availabilityZones?: string[];
  subnets?: string[];
  privateNetworking?: boolean;
  ssh?: { allow?: boolean; publicKeyName?: string; publicKeyPath?: string };
  amiFamily?: string;
  iam?: { instanceRoleARN?: string; attachPolicyARNs?: string[] };
  updateConfig?: { maxUnavailable?: number; maxUnavailablePercentage?: number };
  launchTemplate?: { id: string; version?: string };
  releaseVersion?: string;
  maxPodsPerNode?: number;
}

function typeName(n: YamlNode | null | undefined): string {
  if (n === null || n === undefined) return 'null';
  if (isMap(n)) return 'a mapping';
  if (isSeq(n)) return 'a list';
  if (isScalar(n)) return n.value === null ? 'null' : typeof n.value === 'number' ? 'a number' : typeof n.value === 'boolean' ? 'a boolean' : 'a string';
  return 'something else';
}

function check(node: YamlNode | null | undefined, spec: Spec, path: string, lc: LineCounter, errors: ConfigError[]): void {
  const line = node?.range ? lc.linePos(node.range[0]).line : 0;
  const err = (message: string): void => {
    errors.push({ path, line, message });
  };
  if (node === null || node === undefined || (isScalar(node) && node.value === null)) return;
  switch (spec.t) {
    case 'any':
      return;
    case 'noop':
      check(node, spec.of, path, lc, errors);
      if (!isDisabled(node)) errors.push({ path, line, message: `has no effect in localeks (${spec.why})`, warning: true });
      return;
    case 'unsupported':
      // eksctl writes disabled features out in full (`privateCluster: {enabled: false}`, `instanceSelector: {}`): those mean nothing to do.
      if (isDisabled(node)) return;
      return err(`is not supported by localeks${spec.why ? ` (${spec.why})` : ''}; remove it to go on`);
    case 'string': {
      if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) return err(`must be a string, got ${typeName(node)}`);
      const v = String(node.value);
      if (spec.enum && !spec.enum.includes(v)) return err(`"${v}" is not one of ${spec.enum.map((e) => `"${e}"`).join(', ')}`);
      if (spec.pattern && !spec.pattern.test(v)) return err(`"${v}" is invalid${spec.hint ? `: ${spec.hint}` : ''}`);
      return;
    }
    case 'number': {
      if (!isScalar(node) || typeof node.value !== 'number') return err(`must be a number, got ${typeName(node)}`);
      const v = node.value;
      if (spec.int && !Number.isInteger(v)) return err(`must be a whole number, got ${v}`);
      if (spec.min !== undefined && v < spec.min) return err(`must be at least ${spec.min}, got ${v}`);
      if (spec.max !== undefined && v > spec.max) return err(`must be at most ${spec.max}, got ${v}`);
      return;
    }
    case 'boolean':
      if (!isScalar(node) || typeof node.value !== 'boolean') err(`must be true or false, got ${typeName(node)}`);
      return;
    case 'stringMap':
      if (!isMap(node)) return err(`must be a mapping of strings, got ${typeName(node)}`);
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '?';
        const v = pair.value as YamlNode | null;
        if (!isScalar(v) || (v.value !== null && typeof v.value === 'object')) {
          errors.push({ path: `${path}.${k}`, line: v?.range ? lc.linePos(v.range[0]).line : line, message: `must be a string, got ${typeName(v)}` });
        }
      }
      return;
    case 'list': {
      if (!isSeq(node)) return err(`must be a list, got ${typeName(node)}`);
      if (spec.max !== undefined && node.items.length > spec.max) err(`can have at most ${spec.max} entries, got ${node.items.length}`);
      node.items.forEach((item, i) => check(item as YamlNode, spec.of, `${path}[${i}]`, lc, errors));
      return;
    }
    case 'map': {
      if (!isMap(node)) return err(`must be a mapping, got ${typeName(node)}`);
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '?';
        check(pair.value as YamlNode, spec.of, `${path}.${k}`, lc, errors);
      }
      return;
    }
    case 'object': {
      if (!isMap(node)) return err(`must be a mapping, got ${typeName(node)}`);
      const seen = new Set<string>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? String(pair.key.value) : '?';
        seen.add(k);
        const sub = path ? `${path}.${k}` : k;
        const fieldSpec = spec.fields[k];
        if (!fieldSpec) {
          const keyLine = isScalar(pair.key) && pair.key.range ? lc.linePos(pair.key.range[0]).line : line;
          const close = Object.keys(spec.fields).find((f) => f.toLowerCase() === k.toLowerCase()) ?? Object.keys(spec.fields).find((f) => editDistance(f.toLowerCase(), k.toLowerCase()) <= 2);
          errors.push({ path: sub, line: keyLine, message: `unknown field${close ? ` (did you mean "${close}"?)` : ''}` });
          continue;
        }
        check(pair.value as YamlNode, fieldSpec, sub, lc, errors);
      }
      for (const r of spec.required ?? []) if (!seen.has(r)) errors.push({ path: path ? `${path}.${r}` : r, line, message: 'is required' });
      return;
    }
  }
}

/** isDisabled: an empty mapping or list, false, "", 0, or a mapping of only such values (a feature written out but off). */
function isDisabled(n: YamlNode | null | undefined): boolean {
  if (n === null || n === undefined) return true;
  if (isScalar(n)) return n.value === null || n.value === false || n.value === '' || n.value === 0;
  if (isSeq(n)) return n.items.length === 0;
  if (isMap(n)) return n.items.every((p) => isDisabled(p.value as YamlNode | null));
  return false;
}

/** editDistance is the Levenshtein distance (for "did you mean" hints on misspelt fields). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function sortErrors(errors: ConfigError[]): ConfigError[] {
  return [...errors].sort((a, b) => a.line - b.line);
}

/** Region defaults for availability zones: eksctl uses three zones (two in us-east-1's a/b to avoid e). */
export function defaultZones(region: string): string[] {
  return region === 'us-east-1' ? ['us-east-1a', 'us-east-1b'] : [`${region}a`, `${region}b`, `${region}c`];
}

export interface ParseOptions {
  /** Region to use when metadata.region is absent (AWS_REGION / AWS_DEFAULT_REGION). */
  defaultRegion?: string;
  /** File name for messages. */
  file?: string;
}

/**
 * parseClusterConfig validates a ClusterConfig YAML document and returns it
 * with defaults. Throws ClusterConfigError listing every problem.
 */
export function parseClusterConfig(text: string, opts: ParseOptions = {}): ClusterConfig {
  const file = opts.file ?? 'cluster.yaml';
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ClusterConfigError(
      doc.errors.map((e) => ({ path: '(yaml)', line: e.linePos?.[0]?.line ?? 0, message: e.message.split('\n')[0]! })),
      file,
    );
  }
  const found: ConfigError[] = [];
  check(doc.contents as YamlNode, SCHEMA, '', lc, found);
  const errors = found.filter((e) => !e.warning);
  const warnings = sortErrors(found.filter((e) => e.warning));
  const raw = (doc.toJS() ?? {}) as Record<string, any>;
  const lineOf = (path: (string | number)[]): number => {
    const n = doc.getIn(path, true) as YamlNode | undefined;
    return n?.range ? lc.linePos(n.range[0]).line : 0;
  };
  if (raw.apiVersion !== undefined && raw.apiVersion !== API_VERSION) errors.push({ path: 'apiVersion', line: lineOf(['apiVersion']), message: `must be "${API_VERSION}", got "${raw.apiVersion}"` });
  if (raw.kind !== undefined && raw.kind !== 'ClusterConfig') errors.push({ path: 'kind', line: lineOf(['kind']), message: `must be "ClusterConfig", got "${raw.kind}"` });
  if (errors.length > 0) throw new ClusterConfigError(sortErrors(errors), file);

  const region = raw.metadata?.region ?? opts.defaultRegion;
  if (!region) throw new ClusterConfigError([{ path: 'metadata.region', line: lineOf(['metadata']), message: 'is required (or set AWS_REGION)' }], file);
  const zones: string[] = raw.availabilityZones ?? defaultZones(region);
  for (const [i, z] of zones.entries()) {
    if (!z.startsWith(region)) errors.push({ path: `availabilityZones[${i}]`, line: lineOf(['availabilityZones', i]), message: `zone "${z}" is not in region ${region}` });
  }
  if (zones.length < 2 && !raw.vpc?.subnets) errors.push({ path: 'availabilityZones', line: lineOf(['availabilityZones']), message: 'at least two availability zones are required (EKS needs subnets in two zones)' });

  const names = new Set<string>();
  const mngs: ManagedNodeGroupConfig[] = (raw.managedNodeGroups ?? []).map((ng: any, i: number) => {
    const p = (f: string) => ['managedNodeGroups', i, f];
    if (names.has(ng.name)) errors.push({ path: `managedNodeGroups[${i}].name`, line: lineOf(p('name')), message: `node group "${ng.name}" is defined more than once` });
    names.add(ng.name);
    if (ng.instanceType && ng.instanceTypes) errors.push({ path: `managedNodeGroups[${i}]`, line: lineOf(['managedNodeGroups', i]), message: 'instanceType and instanceTypes cannot both be set' });
    const desired = ng.desiredCapacity ?? ng.minSize ?? 2;
    const min = ng.minSize ?? desired;
    const max = ng.maxSize ?? Math.max(desired, min);
    if (min > desired) errors.push({ path: `managedNodeGroups[${i}].minSize`, line: lineOf(p('minSize')), message: `minSize (${min}) cannot be greater than desiredCapacity (${desired})` });
    if (desired > max) errors.push({ path: `managedNodeGroups[${i}].maxSize`, line: lineOf(p('maxSize')), message: `desiredCapacity (${desired}) cannot be greater than maxSize (${max})` });
    if (max < 1) errors.push({ path: `managedNodeGroups[${i}].maxSize`, line: lineOf(p('maxSize')), message: 'maxSize must be at least 1' });
    for (const [j, z] of (ng.availabilityZones ?? []).entries()) {
      if (!zones.includes(z) && !raw.vpc?.subnets) errors.push({ path: `managedNodeGroups[${i}].availabilityZones[${j}]`, line: lineOf(['managedNodeGroups', i, 'availabilityZones', j]), message: `zone "${z}" is not one of the cluster's zones (${zones.join(', ')})` });
    }
    return {
      ...ng,
      instanceType: ng.instanceTypes ? undefined : (ng.instanceType ?? 'm5.large'),
      desiredCapacity: desired,
      minSize: min,
      maxSize: max,
      volumeSize: ng.volumeSize ?? 80,
      volumeType: ng.volumeType ?? 'gp3',
    };
  });
  for (const [i, ng] of (raw.nodeGroups ?? []).entries()) {
    if (names.has(ng.name)) errors.push({ path: `nodeGroups[${i}].name`, line: lineOf(['nodeGroups', i, 'name']), message: `node group "${ng.name}" is defined more than once` });
    names.add(ng.name);
  }
  const fpNames = new Set<string>();
  for (const [i, fp] of (raw.fargateProfiles ?? []).entries()) {
    if (fpNames.has(fp.name)) errors.push({ path: `fargateProfiles[${i}].name`, line: lineOf(['fargateProfiles', i, 'name']), message: `Fargate profile "${fp.name}" is defined more than once` });
    fpNames.add(fp.name);
    if ((fp.selectors ?? []).length === 0) errors.push({ path: `fargateProfiles[${i}].selectors`, line: lineOf(['fargateProfiles', i]), message: 'at least one selector is required' });
  }
  const addonNames = new Set<string>();
  for (const [i, a] of (raw.addons ?? []).entries()) {
    if (addonNames.has(a.name)) errors.push({ path: `addons[${i}].name`, line: lineOf(['addons', i, 'name']), message: `add-on "${a.name}" is listed more than once` });
    addonNames.add(a.name);
    if (a.configurationValues !== undefined) {
      try {
        JSON.parse(a.configurationValues);
      } catch {
        if (!/^\s*[{[]/.test(a.configurationValues) && !/:/.test(a.configurationValues)) {
          errors.push({ path: `addons[${i}].configurationValues`, line: lineOf(['addons', i, 'configurationValues']), message: 'must be a JSON or YAML document' });
        }
      }
    }
  }
  const ae = raw.accessConfig?.authenticationMode;
  if (raw.accessConfig?.accessEntries?.length && ae === 'CONFIG_MAP') {
    errors.push({ path: 'accessConfig.accessEntries', line: lineOf(['accessConfig', 'accessEntries']), message: 'access entries need authenticationMode API or API_AND_CONFIG_MAP' });
  }
  if (raw.vpc?.id && !raw.vpc?.subnets) errors.push({ path: 'vpc.subnets', line: lineOf(['vpc']), message: 'subnets must be given when using an existing VPC (vpc.id)' });
  if (errors.length > 0) throw new ClusterConfigError(sortErrors(errors), file);

  const cfg = {
    ...raw,
    apiVersion: API_VERSION,
    kind: 'ClusterConfig',
    metadata: { ...raw.metadata, region, version: raw.metadata.version === undefined ? undefined : String(raw.metadata.version) },
    availabilityZones: zones,
    vpc: { ...(raw.vpc ?? {}), cidr: raw.vpc?.cidr ?? '192.168.0.0/16', nat: { gateway: raw.vpc?.nat?.gateway ?? 'Single' } },
    managedNodeGroups: mngs,
    nodeGroups: raw.nodeGroups ?? [],
    fargateProfiles: raw.fargateProfiles ?? [],
    addons: raw.addons ?? [],
  } as ClusterConfig;
  WARNINGS.set(cfg, warnings.map((w) => `${file}:${w.line}: ${w.path}: ${w.message}`));
  return cfg;
}

const WARNINGS = new WeakMap<ClusterConfig, string[]>();

/** configWarnings lists the fields of a parsed config that have no effect in localeks ("file:line: path: has no effect ..."). */
export function configWarnings(cfg: ClusterConfig): string[] {
  return WARNINGS.get(cfg) ?? [];
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface PlannedSubnet {
  az: string;
  cidr: string;
  kind: 'public' | 'private';
}

/**
 * planSubnets lays out eksctl's default subnets: the VPC CIDR is cut into 8
 * equal blocks (a /16 into /19s); zones get public blocks first, then
 * private ones, in zone order.
 */
export function planSubnets(vpcCidr: string, zones: string[]): PlannedSubnet[] {
  const [base, bitsStr] = vpcCidr.split('/');
  const bits = Number(bitsStr);
  if (!base || !Number.isInteger(bits) || bits < 16 || bits > 24) throw new Error(`VPC CIDR ${vpcCidr} must be between /16 and /24`);
  if (zones.length > 4) throw new Error('at most 4 availability zones can share the default subnet layout');
  const sub = bits + 3;
  const size = 2 ** (32 - sub);
  const start = ipToInt(base);
  const out: PlannedSubnet[] = [];
  zones.forEach((az, i) => out.push({ az, cidr: `${intToIp(start + i * size)}/${sub}`, kind: 'public' }));
  zones.forEach((az, i) => out.push({ az, cidr: `${intToIp(start + (zones.length + i) * size)}/${sub}`, kind: 'private' }));
  return out;
}
