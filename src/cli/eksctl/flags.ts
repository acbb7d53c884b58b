/**
 * eksctl's `create cluster` flags turned into a ClusterConfig document, so
 * that flags and `-f cluster.yaml` share one validation and one set of
 * defaults (cluster-config.ts). Problems are reported with the flag's name.
 */
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { API_VERSION, type ClusterConfig, ClusterConfigError, parseClusterConfig } from './cluster-config.ts';
import { EksctlError, EXIT } from './errors.ts';
import { generatedClusterName } from './names.ts';

/** The flags of `create cluster` (commander's attribute names). */
export interface ClusterFlags {
  name?: string;
  region?: string;
  version?: string;
  tags?: string;
  zones?: string;
  vpcCidr?: string;
  vpcNatMode?: string;
  vpcPublicSubnets?: string;
  vpcPrivateSubnets?: string;
  withOidc?: boolean;
  nodegroupName?: string;
  withoutNodegroup?: boolean;
  managed?: boolean | string;
  fargate?: boolean;
  nodeType?: string;
  instanceTypes?: string;
  nodes?: string;
  nodesMin?: string;
  nodesMax?: string;
  nodeVolumeSize?: string;
  nodeVolumeType?: string;
  maxPodsPerNode?: string;
  nodeLabels?: string;
  nodeZones?: string;
  nodePrivateNetworking?: boolean;
  nodeAmiFamily?: string;
  spot?: boolean;
  sshAccess?: boolean;
  sshPublicKey?: string;
  enableSsm?: boolean;
}

/** The flags that cannot be combined with -f (eksctl: "cannot use --name when --config-file/-f is set"). */
export const CONFIG_FILE_EXCLUSIVE: Array<keyof ClusterFlags> = ['name', 'version', 'tags', 'zones', 'vpcCidr', 'vpcNatMode', 'vpcPublicSubnets', 'vpcPrivateSubnets', 'nodegroupName', 'nodeType', 'nodes', 'nodesMin', 'nodesMax', 'nodeVolumeSize', 'nodeLabels', 'nodeZones', 'fargate', 'withOidc', 'instanceTypes', 'spot'];

const FLAG_OF: Record<string, string> = {
  'metadata.name': '--name',
  'metadata.region': '--region',
  'metadata.version': '--version',
  availabilityZones: '--zones',
  'vpc.cidr': '--vpc-cidr',
  'vpc.nat.gateway': '--vpc-nat-mode',
  desiredCapacity: '--nodes',
  minSize: '--nodes-min',
  maxSize: '--nodes-max',
  volumeSize: '--node-volume-size',
  volumeType: '--node-volume-type',
  instanceType: '--node-type',
  instanceTypes: '--instance-types',
  maxPodsPerNode: '--max-pods-per-node',
  amiFamily: '--node-ami-family',
  name: '--nodegroup-name',
};

/** kv parses "k=v,k2=v2". */
export function parseKv(text: string, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new EksctlError(`${flag}: "${part}" is not key=value`, EXIT.USAGE);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new EksctlError(`${flag}: "${v}" is not a whole number`, EXIT.USAGE);
  return Number(v);
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

/** managedOf reads --managed / --managed=false. */
function managedOf(v: boolean | string | undefined): boolean {
  if (v === undefined || v === true) return true;
  if (v === false || v === 'false') return false;
  if (v === 'true') return true;
  throw new EksctlError(`--managed: "${v}" is not true or false`, EXIT.USAGE);
}

/** configFromFlags builds and validates the ClusterConfig the flags describe. */
export function configFromFlags(f: ClusterFlags, defaultRegion: string): ClusterConfig {
  const ng: Record<string, unknown> = {
    name: f.nodegroupName ?? `ng-${randomBytes(4).toString('hex')}`,
    instanceType: f.instanceTypes ? undefined : (f.nodeType ?? 'm5.large'),
    instanceTypes: list(f.instanceTypes),
    desiredCapacity: int(f.nodes, '--nodes'),
    minSize: int(f.nodesMin, '--nodes-min'),
    maxSize: int(f.nodesMax, '--nodes-max'),
    volumeSize: int(f.nodeVolumeSize, '--node-volume-size'),
    volumeType: f.nodeVolumeType,
    maxPodsPerNode: int(f.maxPodsPerNode, '--max-pods-per-node'),
    labels: f.nodeLabels ? parseKv(f.nodeLabels, '--node-labels') : undefined,
    availabilityZones: list(f.nodeZones),
    privateNetworking: f.nodePrivateNetworking || undefined,
    amiFamily: f.nodeAmiFamily,
    spot: f.spot || undefined,
    ssh: f.sshAccess || f.sshPublicKey ? { allow: true, publicKeyName: f.sshPublicKey } : undefined,
  };
  const managed = managedOf(f.managed);
  if (!managed) delete ng.spot;
  if (ng.desiredCapacity === undefined && ng.minSize === undefined) ng.desiredCapacity = 2;
  const withNodes = !f.withoutNodegroup && !f.fargate;
  // Existing subnets by id (eksctl keys them by id until it has looked them up; their VPC and zones come from EC2).
  let existing: Record<string, Record<string, { id: string }>> | undefined;
  if (f.vpcPublicSubnets !== undefined || f.vpcPrivateSubnets !== undefined) {
    if (f.vpcCidr) throw new EksctlError('--vpc-cidr cannot be used with --vpc-public-subnets / --vpc-private-subnets (the subnets are in an existing VPC)', EXIT.USAGE);
    existing = {};
    for (const [kind, v, flag] of [['public', f.vpcPublicSubnets, '--vpc-public-subnets'], ['private', f.vpcPrivateSubnets, '--vpc-private-subnets']] as const) {
      const ids = list(v) ?? [];
      if (v !== undefined && ids.length === 0) throw new EksctlError(`${flag}: no subnet ids`, EXIT.USAGE);
      for (const id of ids) if (!/^subnet-[0-9a-f]+$/.test(id)) throw new EksctlError(`${flag}: "${id}" is not a subnet id (subnet-...)`, EXIT.USAGE);
      if (ids.length) existing[kind] = Object.fromEntries(ids.map((id) => [id, { id }]));
    }
  }
  const raw: Record<string, unknown> = {
    apiVersion: API_VERSION,
    kind: 'ClusterConfig',
    metadata: { name: f.name ?? generatedClusterName(), region: f.region ?? defaultRegion, version: f.version, tags: f.tags ? parseKv(f.tags, '--tags') : undefined },
    availabilityZones: list(f.zones),
    vpc: f.vpcCidr || f.vpcNatMode || existing ? { cidr: f.vpcCidr, nat: f.vpcNatMode ? { gateway: f.vpcNatMode } : undefined, subnets: existing } : undefined,
    iam: f.withOidc ? { withOIDC: true } : undefined,
    managedNodeGroups: withNodes && managed ? [ng] : undefined,
    nodeGroups: withNodes && !managed ? [ng] : undefined,
    fargateProfiles: f.fargate ? [{ name: 'fp-default', selectors: [{ namespace: 'default' }, { namespace: 'kube-system' }] }] : undefined,
  };
  try {
    return parseClusterConfig(stringify(raw), { defaultRegion, file: 'flags' });
  } catch (e) {
    if (!(e instanceof ClusterConfigError)) throw e;
    const lines = e.errors.map((x) => {
      const leaf = x.path.replace(/^(managedNodeGroups|nodeGroups)\[0\]\./, '');
      return `${FLAG_OF[x.path] ?? FLAG_OF[leaf] ?? x.path}: ${x.message}`;
    });
    throw new EksctlError(lines.join('\n'), EXIT.USAGE);
  }
}
