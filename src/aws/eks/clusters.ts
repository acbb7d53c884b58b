/**
 * EKS clusters: CreateCluster, DescribeCluster, ListClusters,
 * DeleteCluster, UpdateClusterConfig, UpdateClusterVersion,
 * AssociateEncryptionConfig, RegisterCluster and DeregisterCluster, with
 * EKS's validation rules and messages, and the cluster lifecycle
 * (CREATING -> ACTIVE, UPDATING -> ACTIVE, DELETING -> gone).
 */
import type { StateOp } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { awsError } from '../core/types.ts';
import {
  arn,
  childKey,
  childPrefix,
  type ChildKind,
  clusterKey,
  clusterNotFound,
  clustersPrefix,
  type EksContext,
  idempotent,
  inUse,
  invalidParameter,
  invalidRequest,
  iso,
  out,
  paginate,
  scopeOf,
  uuid,
  validateTags,
} from './common.ts';
import { accessEntryDoc, entriesForExistingCompute, principalOfCaller } from './access.ts';
import type { Tx } from './lifecycle.ts';
import { hex } from './refs.ts';
import { ensureNoUpdateInProgress, finishUpdateOps, inProgressUpdate, startUpdate } from './updates.ts';
import { DEFAULT_VERSION, isOffered, kubeVersion, minorOf } from './versions.ts';
import { upgradeBlockers } from './insights.ts';
import { idpCompletionOps } from './identity-providers.ts';

/** Availability zones where EKS cannot place a control plane. */
const UNSUPPORTED_CONTROL_PLANE_AZS = new Set(['us-east-1e']);

export const LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];
const AUTH_ORDER = ['CONFIG_MAP', 'API_AND_CONFIG_MAP', 'API'];

/** Kinds of per-cluster collections removed with the cluster. */
const CHILD_KINDS: ChildKind[] = ['addon', 'access', 'idp', 'podid', 'capability', 'update', 'insights'];

export function getCluster(e: EksContext, ctx: Pick<RequestContext, 'accountId' | 'region'>, name: string): any {
  const c = e.deps.state.get<any>(clusterKey(scopeOf(ctx), name));
  if (!c) throw clusterNotFound(name);
  return c;
}

/** requireActive: the cluster exists and is ACTIVE (or UPDATING when allowUpdating). */
export function requireActiveCluster(e: EksContext, ctx: RequestContext, name: string, allowUpdating = true): any {
  const c = getCluster(e, ctx, name);
  if (c.status !== 'ACTIVE' && !(allowUpdating && c.status === 'UPDATING')) {
    throw invalidRequest(`Cluster '${name}' is not in ACTIVE status`, { clusterName: name });
  }
  return c;
}

/** normalizeLogging renders a logging config as EKS does: one entry of enabled types, one of disabled. */
export function normalizeLogging(enabled: Set<string>): { clusterLogging: { types: string[]; enabled: boolean }[] } {
  const on = LOG_TYPES.filter((t) => enabled.has(t));
  const off = LOG_TYPES.filter((t) => !enabled.has(t));
  const r: { types: string[]; enabled: boolean }[] = [];
  if (on.length) r.push({ types: on, enabled: true });
  if (off.length) r.push({ types: off, enabled: false });
  return { clusterLogging: r };
}

function enabledLogTypes(logging: any): Set<string> {
  const s = new Set<string>();
  for (const l of logging?.clusterLogging ?? []) if (l.enabled) for (const t of l.types ?? []) s.add(t);
  return s;
}

function applyLogging(current: Set<string>, req: any): Set<string> {
  const next = new Set(current);
  for (const l of req?.clusterLogging ?? []) {
    for (const t of l.types ?? []) {
      if (!LOG_TYPES.includes(t)) throw invalidParameter(`Invalid log type: ${t}`);
      if (l.enabled) next.add(t);
      else next.delete(t);
    }
  }
  return next;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => (a << 8) + Number(o), 0) >>> 0;
}
function parseCidr(c: string): { base: number; bits: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(c);
  if (!m || m[1]!.split('.').some((o) => Number(o) > 255) || Number(m[2]) > 32) return undefined;
  const bits = Number(m[2]);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return { base: ipv4ToInt(m[1]!) & mask, bits };
}
function overlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  if (!x || !y) return false;
  const bits = Math.min(x.bits, y.bits);
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** The service CIDR EKS picks: 172.20.0.0/16 when the VPC uses 10.0.0.0/8, else 10.100.0.0/16. */
export function defaultServiceCidr(vpcCidr: string | undefined): string {
  return vpcCidr && overlaps(vpcCidr, '10.0.0.0/8') ? '172.20.0.0/16' : '10.100.0.0/16';
}

function validateServiceCidr(cidr: string, vpcCidr: string | undefined): void {
  const p = parseCidr(cidr);
  const privateRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
  if (!p || p.bits < 12 || p.bits > 24 || !privateRanges.some((r) => overlaps(cidr, r) && (parseCidr(r)!.bits <= p.bits))) {
    throw invalidParameter(`The specified serviceIpv4Cidr ${cidr} is invalid. It must be within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, with a prefix length between /12 and /24.`);
  }
  if (vpcCidr && overlaps(cidr, vpcCidr)) {
    throw invalidParameter(`The specified serviceIpv4Cidr ${cidr} overlaps with the VPC CIDR ${vpcCidr}.`);
  }
}

const ec2Suffix = () => `(Service: AmazonEC2; Status Code: 400; Error Code: %CODE%; Request ID: ${uuid()}; Proxy: null)`;

/**
 * checkSubnets validates subnets against EC2 (when
 * reference checks are on) and returns the VPC id and CIDR.
 */
export async function checkSubnets(e: EksContext, ctx: RequestContext, subnetIds: string[], fields: Record<string, string>, requireTwoAzs: boolean): Promise<{ vpcId?: string; vpcCidr?: string; azs: Set<string> }> {
  const scope = scopeOf(ctx);
  const azs = new Set<string>();
  let vpcId: string | undefined;
  if (!e.refs.checks) return { azs };
  for (const id of subnetIds) {
    const s = await e.refs.subnet(scope, id);
    if (!s) throw invalidParameter(`The subnet ID '${id}' does not exist ${ec2Suffix().replace('%CODE%', 'InvalidSubnetID.NotFound')}`, fields);
    if (vpcId && s.VpcId !== vpcId) throw invalidParameter('Subnets specified must be in the same VPC', fields);
    vpcId = s.VpcId;
    azs.add(s.AvailabilityZone);
  }
  if (requireTwoAzs && azs.size < 2) throw invalidParameter('Subnets specified must be in at least two different AZs', fields);
  if (requireTwoAzs) {
    // The EKS control plane cannot be placed in a few zones (us-east-1e is the well-known one).
    const bad = [...azs].find((z) => UNSUPPORTED_CONTROL_PLANE_AZS.has(z));
    if (bad) {
      const region = bad.slice(0, -1);
      const validZones = 'abcdef'.split('').map((l) => `${region}${l}`).filter((z) => !UNSUPPORTED_CONTROL_PLANE_AZS.has(z));
      throw awsError(
        'UnsupportedAvailabilityZoneException',
        `Cannot create cluster '${fields.clusterName}' because ${bad}, the targeted availability zone, does not currently have sufficient capacity to support the cluster. Retry and choose from these availability zones: ${validZones.join(', ')}`,
        400,
        { ...fields, validZones },
      );
    }
  }
  const vpc = vpcId ? await e.refs.vpc(scope, vpcId) : undefined;
  return { vpcId, vpcCidr: vpc?.CidrBlock, azs };
}

export async function checkSecurityGroups(e: EksContext, ctx: RequestContext, ids: string[], fields: Record<string, string>): Promise<void> {
  if (!e.refs.checks) return;
  for (const id of ids) {
    if (!(await e.refs.securityGroup(scopeOf(ctx), id))) {
      throw invalidParameter(`The security group '${id}' does not exist ${ec2Suffix().replace('%CODE%', 'InvalidGroup.NotFound')}`, fields);
    }
  }
}

export async function checkRole(e: EksContext, roleArn: string, fields: Record<string, string>): Promise<void> {
  if (!e.refs.checks) return;
  if (!(await e.refs.role(roleArn))) {
    throw invalidParameter(`Role with arn: ${roleArn}, could not be assumed because it does not exist or the trusted entity is not correct`, fields);
  }
}

async function checkEncryption(e: EksContext, ctx: RequestContext, cfg: any[] | undefined, fields: Record<string, string>): Promise<any[] | undefined> {
  if (!cfg || cfg.length === 0) return undefined;
  if (cfg.length > 1) throw invalidParameter('Only one encryption configuration is supported', fields);
  const c = cfg[0];
  const res: string[] = c.resources ?? [];
  if (res.length !== 1 || res[0] !== 'secrets') throw invalidParameter("Encryption is only supported for 'secrets' resources", fields);
  const keyArn: string | undefined = c.provider?.keyArn;
  if (!keyArn) throw invalidParameter('Encryption provider keyArn is required', fields);
  if (e.refs.checks) {
    const key = await e.refs.kmsKey(scopeOf(ctx), keyArn);
    if (!key) throw invalidParameter(`Key ${keyArn} not found`, fields);
    if (key.KeyState && key.KeyState !== 'Enabled') throw invalidParameter(`${keyArn} is ${String(key.KeyState).toLowerCase()}.`, fields);
  }
  return [{ resources: ['secrets'], provider: { keyArn } }];
}

/** uniqueEndpointId: the cluster name, suffixed when another account/region already uses it. */
function uniqueEndpointId(e: EksContext, name: string, ctx: RequestContext): string {
  const used = new Set<string>();
  for (const coll of e.deps.state.collectionsUnder('/aws/eks/')) {
    if (!coll.endsWith('/cluster/')) continue;
    for (const c of e.deps.state.list<any>(coll)) if (c._endpointId) used.add(c._endpointId);
  }
  if (!used.has(name)) return name;
  const alt = `${name}-${ctx.region}-${ctx.accountId}`;
  if (!used.has(alt)) return alt;
  return `${name}-${hex(8)}`;
}

export function clusterOperations(e: EksContext) {
  const { deps } = e;

  e.lc.register('cluster', (key, doc, tx) => completeCluster(e, key, doc, tx));

  return {
    CreateCluster: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.name, input.clientRequestToken, async () => {
        const scope = scopeOf(ctx);
        const name: string = input.name;
        const f = { clusterName: name };
        const key = clusterKey(scope, name);
        if (deps.state.get(key)) throw inUse(`Cluster already exists with name: ${name}`, f);
        const version: string = input.version ?? DEFAULT_VERSION;
        if (!isOffered(version, deps.clock.nowMs())) throw invalidParameter('unsupported Kubernetes version', f);
        validateTags(input.tags);
        const vpcReq = input.resourcesVpcConfig ?? {};
        const subnetIds: string[] = vpcReq.subnetIds ?? [];
        const sgIds: string[] = vpcReq.securityGroupIds ?? [];
        if (subnetIds.length > 16) throw invalidParameter('The number of subnets cannot exceed 16', f);
        if (sgIds.length > 5) throw invalidParameter('The number of security groups cannot exceed 5', f);
        if (e.refs.checks && subnetIds.length === 0) throw invalidParameter('Subnets specified must be in at least two different AZs', f);
        const { vpcId, vpcCidr } = await checkSubnets(e, ctx, subnetIds, f, true);
        await checkSecurityGroups(e, ctx, sgIds, f);
        await checkRole(e, input.roleArn, f);
        const encryptionConfig = await checkEncryption(e, ctx, input.encryptionConfig, f);
        if (vpcReq.endpointPublicAccess === false && vpcReq.endpointPrivateAccess !== true) {
          throw invalidParameter('Cluster must have either public or private API endpoint access enabled', f);
        }
        const access = input.accessConfig ?? {};
        const authenticationMode: string = access.authenticationMode ?? 'CONFIG_MAP';
        const bootstrap: boolean = access.bootstrapClusterCreatorAdminPermissions ?? true;
        if (authenticationMode === 'CONFIG_MAP' && !bootstrap) {
          throw invalidParameter('bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP', f);
        }
        const knc = input.kubernetesNetworkConfig ?? {};
        const ipFamily: string = knc.ipFamily ?? 'ipv4';
        if (knc.serviceIpv4Cidr) validateServiceCidr(knc.serviceIpv4Cidr, vpcCidr);
        const compute = input.computeConfig;
        const autoMode = compute?.enabled === true;
        if (autoMode && (input.storageConfig?.blockStorage?.enabled !== true || knc.elasticLoadBalancing?.enabled !== true)) {
          throw invalidParameter('For EKS Auto Mode, computeConfig.enabled, kubernetesNetworkConfig.elasticLoadBalancing.enabled, and storageConfig.blockStorage.enabled must all be set to true', f);
        }
        const now = iso(ctx);
        const uid = uuid();
        const endpointId = uniqueEndpointId(e, name, ctx);
        const oidcId = hex(32).toUpperCase();
        const kv = kubeVersion(version)!;
        const logging = normalizeLogging(applyLogging(new Set(), input.logging));
        const tx = e.lc.newTx('cluster', 'create');
        const doc: any = {
          name,
          arn: arn(scope, `cluster/${name}`),
          createdAt: now,
          version,
          roleArn: input.roleArn,
          resourcesVpcConfig: {
            subnetIds,
            securityGroupIds: sgIds,
            vpcId: vpcId ?? (e.refs.checks ? undefined : `vpc-${hex(17)}`),
            endpointPublicAccess: vpcReq.endpointPublicAccess ?? true,
            endpointPrivateAccess: vpcReq.endpointPrivateAccess ?? false,
            publicAccessCidrs: vpcReq.endpointPublicAccess === false ? [] : (vpcReq.publicAccessCidrs ?? ['0.0.0.0/0']),
          },
          kubernetesNetworkConfig: {
            serviceIpv4Cidr: ipFamily === 'ipv4' ? (knc.serviceIpv4Cidr ?? defaultServiceCidr(vpcCidr)) : undefined,
            serviceIpv6Cidr: ipFamily === 'ipv6' ? `fd${hex(2)}:${hex(4)}:${hex(4)}::/108` : undefined,
            ipFamily,
            elasticLoadBalancing: { enabled: knc.elasticLoadBalancing?.enabled ?? false },
          },
          logging,
          identity: { oidc: { issuer: `${deps.config.kubeEndpoint}/oidc/${ctx.region}/id/${oidcId}` } }, // served by server/oidc.ts (IAM needs https)
          status: 'CREATING',
          platformVersion: kv.platformVersion,
          tags: input.tags ?? {},
          encryptionConfig,
          health: { issues: [] },
          accessConfig: { authenticationMode, bootstrapClusterCreatorAdminPermissions: bootstrap },
          upgradePolicy: { supportType: input.upgradePolicy?.supportType ?? 'EXTENDED' },
          zonalShiftConfig: input.zonalShiftConfig ? { enabled: !!input.zonalShiftConfig.enabled } : undefined,
          computeConfig: compute ? { enabled: !!compute.enabled, nodePools: compute.nodePools ?? [], nodeRoleArn: compute.nodeRoleArn } : undefined,
          storageConfig: input.storageConfig ? { blockStorage: { enabled: !!input.storageConfig.blockStorage?.enabled } } : undefined,
          remoteNetworkConfig: input.remoteNetworkConfig,
          controlPlaneScalingConfig: input.controlPlaneScalingConfig ? { tier: input.controlPlaneScalingConfig.tier ?? 'standard' } : undefined,
          deletionProtection: input.deletionProtection ?? false,
          _uid: uid,
          _endpointId: endpointId,
          _key: key,
          _creatorArn: principalOfCaller(ctx),
          _bootstrapSelfManagedAddons: input.bootstrapSelfManagedAddons ?? true,
          _tx: tx,
        };
        const ops: StateOp[] = [{ op: 'create', key, doc }];
        if (bootstrap && authenticationMode !== 'CONFIG_MAP' && ctx.callerArn) {
          const principal = principalOfCaller(ctx);
          const aKey = childKey(scope, 'access', name, principal);
          ops.push({
            op: 'put',
            key: aKey,
            doc: accessEntryDoc(scope, name, principal, now, {
              type: 'STANDARD',
              policies: [{ policyArn: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', accessScope: { type: 'cluster', namespaces: [] }, associatedAt: now, modifiedAt: now }],
              key: aKey,
            }),
          });
        }
        try {
          await deps.state.commit(ops);
        } catch {
          throw inUse(`Cluster already exists with name: ${name}`, f);
        }
        await e.lc.begin(key, tx);
        return { cluster: deps.state.get(key) ?? doc };
      }),

    DescribeCluster: async (input: any, ctx: RequestContext) => {
      const c = getCluster(e, ctx, input.name);
      const issues = await healthIssues(e, ctx, c);
      return { cluster: issues.length ? out({ ...c, health: { issues } }) : out(c) };
    },

    ListClusters: (input: any, ctx: RequestContext) => {
      const includeAll = (input.include ?? []).includes('all');
      const names = deps.state
        .list<any>(clustersPrefix(scopeOf(ctx)))
        .filter((c) => includeAll || !c.connectorConfig)
        .map((c) => c.name as string);
      const { page, nextToken } = paginate(names, (n) => n, input.maxResults, input.nextToken);
      return { clusters: page, nextToken };
    },

    DeleteCluster: async (input: any, ctx: RequestContext) => {
      const scope = scopeOf(ctx);
      const c = getCluster(e, ctx, input.name);
      const f = { clusterName: input.name };
      if (c.connectorConfig) throw invalidParameter(`Cluster ${input.name} is a registered cluster; use DeregisterCluster`, f);
      if (c.status === 'DELETING') return { cluster: out(c) };
      const ngs = deps.state.list<any>(childPrefix(scope, 'nodegroup', input.name));
      if (ngs.length) throw inUse('Cluster has nodegroups attached', { ...f, nodegroupName: ngs.map((n) => n.nodegroupName).join(',') });
      const fps = deps.state.list<any>(childPrefix(scope, 'fargate', input.name));
      if (fps.length) throw inUse('Cluster has fargate profiles attached', f);
      const busy = inProgressUpdate(e, scope, input.name, { kind: 'cluster', name: input.name });
      if (busy) throw inUse(`Cannot delete because cluster ${input.name} currently has update ${busy.id} in progress`, f);
      if (c.deletionProtection) throw invalidRequest('Cannot delete cluster with deletion protection enabled. Disable deletion protection with UpdateClusterConfig first.', f);
      const tx = e.lc.newTx('cluster', 'delete');
      const next = { ...c, status: 'DELETING', _tx: tx };
      await deps.state.commit([{ op: 'put', key: c._key, doc: next }]);
      await e.lc.begin(c._key, tx);
      return { cluster: out(next) };
    },

    UpdateClusterConfig: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.name}`, input.clientRequestToken, async () => {
        const c = getCluster(e, ctx, input.name);
        const f = { clusterName: input.name };
        const given = ['logging', 'resourcesVpcConfig', 'accessConfig', 'upgradePolicy', 'zonalShiftConfig', 'computeConfig', 'kubernetesNetworkConfig', 'storageConfig', 'remoteNetworkConfig', 'deletionProtection', 'controlPlaneScalingConfig'].filter(
          (k) => input[k] !== undefined,
        );
        if (given.length === 0) throw invalidParameter('No update parameters were provided', f);
        const isAuto = given.some((k) => k === 'computeConfig' || k === 'storageConfig' || k === 'kubernetesNetworkConfig');
        if (given.length > 1 && !(isAuto && given.every((k) => ['computeConfig', 'storageConfig', 'kubernetesNetworkConfig'].includes(k)))) {
          throw invalidParameter('Only one type of update can be allowed.', f);
        }
        if (c.status !== 'ACTIVE' && c.status !== 'UPDATING') throw invalidRequest(`Cluster '${input.name}' is not in ACTIVE status`, f);
        const k = given[0]!;
        const typeOfKey: Record<string, string> = { logging: 'LoggingUpdate', accessConfig: 'AccessConfigUpdate', upgradePolicy: 'UpgradePolicyUpdate', zonalShiftConfig: 'ZonalShiftConfigUpdate', deletionProtection: 'DeletionProtectionUpdate', controlPlaneScalingConfig: 'ControlPlaneScalingConfigUpdate', remoteNetworkConfig: 'RemoteNetworkConfigUpdate' };
        const rv = input.resourcesVpcConfig;
        ensureNoUpdateInProgress(e, ctx, input.name, { kind: 'cluster', name: input.name }, typeOfKey[k] ?? (k === 'resourcesVpcConfig' ? (rv.subnetIds || rv.securityGroupIds ? 'VpcConfigUpdate' : 'EndpointAccessUpdate') : 'AutoModeUpdate'));
        let type: string;
        let params: { type: string; value: string }[] = [];
        let patch: Record<string, unknown> = {};
        if (k === 'logging') {
          const cur = enabledLogTypes(c.logging);
          const next = applyLogging(cur, input.logging);
          if ([...cur].sort().join() === [...next].sort().join()) throw invalidParameter('No changes needed for the logging config provided', f);
          type = 'LoggingUpdate';
          const logging = normalizeLogging(next);
          params = [{ type: 'ClusterLogging', value: JSON.stringify(logging) }];
          patch = { logging };
        } else if (k === 'resourcesVpcConfig') {
          const r = input.resourcesVpcConfig;
          const vpc = { ...c.resourcesVpcConfig };
          if (r.subnetIds !== undefined || r.securityGroupIds !== undefined) {
            if (r.endpointPublicAccess !== undefined || r.endpointPrivateAccess !== undefined || r.publicAccessCidrs !== undefined) {
              throw invalidParameter('Only one type of update can be allowed.', f);
            }
            type = 'VpcConfigUpdate';
            if (r.subnetIds) {
              const { vpcId } = await checkSubnets(e, ctx, r.subnetIds, f, true);
              if (vpcId && c.resourcesVpcConfig.vpcId && vpcId !== c.resourcesVpcConfig.vpcId) throw invalidParameter('Subnets must belong to the same VPC as the cluster', f);
              vpc.subnetIds = r.subnetIds;
              params.push({ type: 'Subnets', value: JSON.stringify(r.subnetIds) });
            }
            if (r.securityGroupIds) {
              await checkSecurityGroups(e, ctx, r.securityGroupIds, f);
              vpc.securityGroupIds = r.securityGroupIds;
              params.push({ type: 'SecurityGroups', value: JSON.stringify(r.securityGroupIds) });
            }
          } else {
            type = 'EndpointAccessUpdate';
            const pub = r.endpointPublicAccess ?? vpc.endpointPublicAccess;
            const priv = r.endpointPrivateAccess ?? vpc.endpointPrivateAccess;
            if (!pub && !priv) throw invalidParameter('Cluster must have either public or private API endpoint access enabled', f);
            const cidrs = pub ? (r.publicAccessCidrs ?? vpc.publicAccessCidrs ?? ['0.0.0.0/0']) : [];
            for (const cidr of r.publicAccessCidrs ?? []) if (!parseCidr(cidr)) throw invalidParameter(`${cidr} is not a valid CIDR block`, f);
            if (pub === vpc.endpointPublicAccess && priv === vpc.endpointPrivateAccess && JSON.stringify(cidrs) === JSON.stringify(vpc.publicAccessCidrs)) {
              throw invalidParameter('Cluster is already at the desired configuration with endpointPrivateAccess: ' + priv + ' , endpointPublicAccess: ' + pub + ', and Public Endpoint Restrictions: ' + JSON.stringify(cidrs), f);
            }
            if (r.endpointPublicAccess !== undefined) params.push({ type: 'EndpointPublicAccess', value: String(pub) });
            if (r.endpointPrivateAccess !== undefined) params.push({ type: 'EndpointPrivateAccess', value: String(priv) });
            if (r.publicAccessCidrs !== undefined) params.push({ type: 'PublicAccessCidrs', value: JSON.stringify(cidrs) });
            vpc.endpointPublicAccess = pub;
            vpc.endpointPrivateAccess = priv;
            vpc.publicAccessCidrs = cidrs;
          }
          patch = { resourcesVpcConfig: vpc };
        } else if (k === 'accessConfig') {
          const mode: string | undefined = input.accessConfig.authenticationMode;
          const cur: string = c.accessConfig?.authenticationMode ?? 'CONFIG_MAP';
          if (!mode) throw invalidParameter('No update parameters were provided', f);
          if (AUTH_ORDER.indexOf(mode) <= AUTH_ORDER.indexOf(cur)) throw invalidParameter(`Unsupported authentication mode update from ${cur} to ${mode}`, f);
          type = 'AccessConfigUpdate';
          params = [{ type: 'AuthenticationMode', value: mode }];
          patch = { accessConfig: { ...c.accessConfig, authenticationMode: mode } };
        } else if (k === 'upgradePolicy') {
          const st = input.upgradePolicy.supportType;
          if (!st) throw invalidParameter('No update parameters were provided', f);
          type = 'UpgradePolicyUpdate';
          params = [{ type: 'UpgradePolicy', value: st }];
          patch = { upgradePolicy: { supportType: st } };
        } else if (k === 'zonalShiftConfig') {
          type = 'ZonalShiftConfigUpdate';
          params = [{ type: 'ZonalShiftConfig', value: String(!!input.zonalShiftConfig.enabled) }];
          patch = { zonalShiftConfig: { enabled: !!input.zonalShiftConfig.enabled } };
        } else if (k === 'deletionProtection') {
          type = 'DeletionProtectionUpdate';
          params = [{ type: 'DeletionProtection', value: String(!!input.deletionProtection) }];
          patch = { deletionProtection: !!input.deletionProtection };
        } else if (k === 'controlPlaneScalingConfig') {
          type = 'ControlPlaneScalingConfigUpdate';
          const tier = input.controlPlaneScalingConfig.tier ?? 'standard';
          params = [
            { type: 'PreviousTier', value: c.controlPlaneScalingConfig?.tier ?? 'standard' },
            { type: 'UpdatedTier', value: tier },
          ];
          patch = { controlPlaneScalingConfig: { tier } };
        } else if (k === 'remoteNetworkConfig') {
          type = 'RemoteNetworkConfigUpdate';
          params = [{ type: 'RemoteNetworkConfig', value: JSON.stringify(input.remoteNetworkConfig) }];
          patch = { remoteNetworkConfig: input.remoteNetworkConfig };
        } else {
          type = 'AutoModeUpdate';
          if (input.computeConfig) {
            params.push({ type: 'ComputeConfig', value: JSON.stringify(input.computeConfig) });
            patch.computeConfig = { enabled: !!input.computeConfig.enabled, nodePools: input.computeConfig.nodePools ?? [], nodeRoleArn: input.computeConfig.nodeRoleArn };
          }
          if (input.storageConfig) {
            params.push({ type: 'StorageConfig', value: JSON.stringify(input.storageConfig) });
            patch.storageConfig = { blockStorage: { enabled: !!input.storageConfig.blockStorage?.enabled } };
          }
          if (input.kubernetesNetworkConfig) {
            params.push({ type: 'KubernetesNetworkConfig', value: JSON.stringify(input.kubernetesNetworkConfig) });
            patch.kubernetesNetworkConfig = { ...c.kubernetesNetworkConfig, elasticLoadBalancing: { enabled: !!input.kubernetesNetworkConfig.elasticLoadBalancing?.enabled } };
          }
        }
        const update = await startUpdate(e, ctx, { cluster: input.name, target: { kind: 'cluster', name: input.name }, resourceKey: c._key, kind: 'cluster', type, params, patch });
        return { update };
      }),

    UpdateClusterVersion: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.name, input.clientRequestToken, async () => {
        const c = getCluster(e, ctx, input.name);
        const f = { clusterName: input.name };
        if (c.status !== 'ACTIVE' && c.status !== 'UPDATING') throw invalidRequest(`Cluster '${input.name}' is not in ACTIVE status`, f);
        const to: string = input.version;
        ensureNoUpdateInProgress(e, ctx, input.name, { kind: 'cluster', name: input.name }, 'VersionUpdate');
        if (!kubeVersion(to) || !isOffered(to, deps.clock.nowMs())) throw invalidParameter('unsupported Kubernetes version', f);
        if (minorOf(to) !== minorOf(c.version) + 1) throw invalidParameter(`Unsupported Kubernetes minor version update from ${c.version} to ${to}`, f);
        if (!input.force) {
          const blockers = upgradeBlockers(e, ctx, c, to, await healthIssues(e, ctx, c));
          if (blockers.length) {
            throw awsError('InvalidRequestException', `Cluster upgrade to ${to} is blocked by upgrade insights: ${blockers.join('; ')}. Resolve them or retry with force.`, 400, f);
          }
        }
        const update = await startUpdate(e, ctx, {
          cluster: input.name,
          target: { kind: 'cluster', name: input.name },
          resourceKey: c._key,
          kind: 'cluster',
          type: 'VersionUpdate',
          params: [
            { type: 'Version', value: to },
            { type: 'PlatformVersion', value: kubeVersion(to)!.platformVersion },
          ],
          patch: { version: to, platformVersion: kubeVersion(to)!.platformVersion },
        });
        return { update };
      }),

    AssociateEncryptionConfig: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.clusterName, input.clientRequestToken, async () => {
        const c = getCluster(e, ctx, input.clusterName);
        const f = { clusterName: input.clusterName };
        if (c.encryptionConfig?.length) throw invalidParameter('Encryption is already enabled on the cluster', f);
        if (c.status !== 'ACTIVE') throw invalidRequest(`Cluster '${input.clusterName}' is not in ACTIVE status`, f);
        const cfg = await checkEncryption(e, ctx, input.encryptionConfig, f);
        const update = await startUpdate(e, ctx, {
          cluster: input.clusterName,
          target: { kind: 'cluster', name: input.clusterName },
          resourceKey: c._key,
          kind: 'cluster',
          type: 'AssociateEncryptionConfig',
          params: [{ type: 'EncryptionConfig', value: JSON.stringify(cfg) }],
          patch: { encryptionConfig: cfg },
        });
        return { update };
      }),

    RegisterCluster: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, input.name, input.clientRequestToken, async () => {
        const scope = scopeOf(ctx);
        const name: string = input.name;
        const f = { clusterName: name };
        const key = clusterKey(scope, name);
        if (deps.state.get(key)) throw inUse(`Cluster already exists with name: ${name}`, f);
        validateTags(input.tags);
        await checkRole(e, input.connectorConfig.roleArn, f);
        const now = deps.clock.nowMs();
        const doc: any = {
          name,
          arn: arn(scope, `cluster/${name}`),
          createdAt: iso(ctx),
          status: 'PENDING',
          tags: input.tags ?? {},
          connectorConfig: {
            activationId: uuid(),
            activationCode: hex(32),
            activationExpiry: new Date(now + 3 * 24 * 3600_000).toISOString(),
            provider: input.connectorConfig.provider,
            roleArn: input.connectorConfig.roleArn,
          },
          _uid: uuid(),
          _key: key,
        };
        await deps.state.commit([{ op: 'create', key, doc }]);
        return { cluster: doc };
      }),

    DeregisterCluster: async (input: any, ctx: RequestContext) => {
      const c = getCluster(e, ctx, input.name);
      if (!c.connectorConfig) throw invalidParameter(`Cluster ${input.name} is not a registered cluster; use DeleteCluster`, { clusterName: input.name });
      await deps.state.commit([{ op: 'delete', key: c._key }]);
      return { cluster: out({ ...c, status: 'DELETING' }) };
    },
  };
}

/**
 * healthIssues: what EKS would report in cluster.health when something the
 * cluster depends on has gone (its IAM role, subnets, security groups, KMS
 * key), checked against the emulated services when reference checks are on.
 */
export async function healthIssues(e: EksContext, ctx: RequestContext, c: any): Promise<any[]> {
  if (!e.refs.checks || c.connectorConfig || (c.status !== 'ACTIVE' && c.status !== 'UPDATING')) return [];
  const scope = scopeOf(ctx);
  const issues: any[] = [];
  if (!(await e.refs.role(c.roleArn))) {
    issues.push({ code: 'IamRoleNotFound', message: `The cluster role ${c.roleArn} was not found.`, resourceIds: [c.roleArn] });
  }
  for (const s of c.resourcesVpcConfig?.subnetIds ?? []) {
    if (!(await e.refs.subnet(scope, s))) issues.push({ code: 'Ec2SubnetNotFound', message: `One or more subnets were not found: ${s}`, resourceIds: [s] });
  }
  for (const g of c.resourcesVpcConfig?.securityGroupIds ?? []) {
    if (!(await e.refs.securityGroup(scope, g))) issues.push({ code: 'Ec2SecurityGroupNotFound', message: `One or more security groups were not found: ${g}`, resourceIds: [g] });
  }
  const keyArn: string | undefined = c.encryptionConfig?.[0]?.provider?.keyArn;
  if (keyArn) {
    const k = await e.refs.kmsKey(scope, keyArn);
    if (!k) issues.push({ code: 'KmsKeyNotFound', message: `The KMS key ${keyArn} was not found.`, resourceIds: [keyArn] });
    else if (k.KeyState === 'Disabled') issues.push({ code: 'KmsKeyDisabled', message: `The KMS key ${keyArn} is disabled.`, resourceIds: [keyArn] });
    else if (k.KeyState === 'PendingDeletion') issues.push({ code: 'KmsKeyMarkedForDeletion', message: `The KMS key ${keyArn} is pending deletion.`, resourceIds: [keyArn] });
  }
  return issues;
}

async function completeCluster(e: EksContext, key: string, doc: any, tx: Tx): Promise<StateOp[]> {
  const { deps } = e;
  const [, , , accountId, region] = key.split('/');
  const scope = { accountId: accountId!, region: region! };
  if (tx.op === 'create') {
    const next = { ...doc };
    delete next._tx;
    next.status = 'ACTIVE';
    next.endpoint = `${deps.config.kubeEndpoint}/clusters/${doc._endpointId}`;
    next.certificateAuthority = { data: Buffer.from(deps.config.caCertPem).toString('base64') };
    if (!next.resourcesVpcConfig.clusterSecurityGroupId) {
      next.resourcesVpcConfig = {
        ...next.resourcesVpcConfig,
        clusterSecurityGroupId: next.resourcesVpcConfig.vpcId
          ? await e.refs.createClusterSecurityGroup(scope, next.resourcesVpcConfig.vpcId, doc.name, hex(10))
          : `sg-${hex(17)}`,
      };
      next._sgManaged = e.refs.checks;
    }
    await e.refs.ensureControlPlaneLogs(scope, doc.name, [...enabledLogTypes(doc.logging)], doc._uid.replace(/-/g, '').slice(0, 32));
    return [{ op: 'put', key, doc: next }];
  }
  if (tx.op === 'update') {
    if (tx.patch?.logging && !tx.fail) await e.refs.ensureControlPlaneLogs(scope, doc.name, [...enabledLogTypes(tx.patch.logging)], doc._uid.replace(/-/g, '').slice(0, 32));
    const idp = tx.patch?._idp as { name: string; action: string } | undefined;
    const ops = finishUpdateOps(e, key, doc, tx, 'ACTIVE', (d) => delete d._idp);
    if (idp) ops.push(...idpCompletionOps(e, key, doc.name, idp, !!tx.fail));
    const newMode = (tx.patch?.accessConfig as any)?.authenticationMode;
    if (!tx.fail && newMode && newMode !== 'CONFIG_MAP' && (doc.accessConfig?.authenticationMode ?? 'CONFIG_MAP') === 'CONFIG_MAP') {
      ops.push(...entriesForExistingCompute(e, scope, { ...doc, accessConfig: tx.patch!.accessConfig }));
    }
    return ops;
  }
  // delete: the cluster and everything that lives only inside it
  const ops: StateOp[] = [{ op: 'delete', key }];
  for (const kind of CHILD_KINDS) {
    const prefix = childPrefix(scope, kind, doc.name);
    for (const child of deps.state.list<any>(prefix)) {
      if (child._key) ops.push({ op: 'delete', key: child._key });
    }
  }
  const sg = doc.resourcesVpcConfig?.clusterSecurityGroupId;
  if (sg && doc._sgManaged) await e.refs.deleteSecurityGroup(scope, sg);
  return ops;
}
