/**
 * `localeks create cluster`: everything eksctl creates for a ClusterConfig,
 * through the server's public AWS and Kubernetes APIs, as fast as the
 * dependencies allow:
 *
 * 1. preflight (nothing created): the cluster name is free, referenced KMS
 *    keys and IAM policies exist;
 * 2. in parallel: the network (network.ts), the cluster service role, node
 *    roles, the Fargate pod execution role (iam.ts);
 * 3. CreateCluster (logging, secrets encryption, access config, tags), then
 *    "waiting for the control plane" until ACTIVE;
 * 4. in parallel: the kubeconfig (cli/kubeconfig.ts, unless
 *    --write-kubeconfig=false), the IAM OIDC provider and IRSA service
 *    accounts (role + annotated ServiceAccount), add-ons, managed and
 *    self-managed node groups (once the network is complete; until their
 *    nodes are Ready, seen through a watch), Fargate profiles (one at a
 *    time, as EKS requires), access entries, log retention.
 *
 * A failure after something was created throws EksctlError(PARTIAL) listing
 * what exists; `localeks delete cluster` removes it.
 */
import { accessSync, constants } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AwsClientError } from '../../aws/client/aws-client.ts';
import { kubeconfigEntry, mergeKubeconfig, writeClusterKubeconfig } from '../kubeconfig.ts';
import { type ClusterConfig, configWarnings } from './cluster-config.ts';
import type { CliContext } from './context.ts';
import { EksctlError, EXIT, messageOf } from './errors.ts';
import { clusterRoleSpec, createRole, ensureOidcProvider, fargateRoleSpec, irsaTrustPolicy, nodeRoleSpec, podIdentityTrustPolicy } from './iam.ts';
import { grantsOf, WELL_KNOWN_POLICIES } from './policies.ts';
import type { KubeClient } from './kube-client.ts';
import { clusterTags, roleName, stackName, TAG_IRSA, TAG_OIDC } from './names.ts';
import { type ClusterNetwork, createNetwork, type Created, usesExistingSubnets } from './network.ts';
import { createManagedNodegroup, createSelfManagedNodegroup, kubeFor, sshPublicKey, waitNodegroupActive, waitNodesReady } from './nodegroups.ts';
import { waitUntil } from './wait.ts';

export interface KubeconfigOptions {
  /** Write the kubeconfig (default true). */
  write: boolean;
  /** --kubeconfig path (else KUBECONFIG / ~/.kube/config); --auto-kubeconfig gives autoKubeconfigPath(name). */
  path?: string;
}

/** autoKubeconfigPath is where eksctl's --auto-kubeconfig saves a cluster's kubeconfig: ~/.kube/eksctl/clusters/<name>. */
export function autoKubeconfigPath(cluster: string): string {
  return join(process.env.HOME || homedir(), '.kube', 'eksctl', 'clusters', cluster);
}

/** How long create cluster waits for self-managed nodes to join once their instances run (real ms). */
export const SELF_MANAGED_JOIN_MS = 60_000;

export const ALL_LOG_TYPES = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/** The service account each well-known add-on's IRSA role is for. */
const ADDON_SERVICE_ACCOUNTS: Record<string, [string, string]> = {
  'vpc-cni': ['kube-system', 'aws-node'],
  'aws-ebs-csi-driver': ['kube-system', 'ebs-csi-controller-sa'],
  'aws-efs-csi-driver': ['kube-system', 'efs-csi-controller-sa'],
  'adot': ['opentelemetry-operator-system', 'opentelemetry-operator'],
};

/** hasAwsCli reports whether `aws` is on PATH (the kubeconfig's exec plugin needs it). */
function hasAwsCli(): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, 'aws'), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/**
 * writeKubeconfig merges the cluster's entry as aws eks update-kubeconfig
 * writes it (exec `aws eks get-token`), or with a localeks static token when
 * the aws CLI is not on PATH; returns the file written.
 */
export async function writeKubeconfig(ctx: CliContext, cluster: any, path: string | undefined): Promise<string> {
  if (hasAwsCli()) {
    const entry = kubeconfigEntry({ name: cluster.name, arn: cluster.arn, endpoint: cluster.endpoint, certificateAuthorityData: cluster.certificateAuthority.data }, { region: ctx.region, endpointUrl: ctx.endpoint, testCredentials: ctx.testCredentials });
    const file = mergeKubeconfig(entry, { path }).path;
    ctx.progress.success(`saved kubeconfig as "${file}"`);
    return file;
  }
  const r = await writeClusterKubeconfig({ endpoint: ctx.endpoint, clusterName: cluster.name, region: ctx.region, kubeconfig: path, credentials: ctx.aws.credentials, staticToken: { lifetimeSeconds: 7 * 24 * 3600 } });
  ctx.progress.success(`saved kubeconfig as "${r.path}" (with a localeks token valid 7 days: the aws CLI is not on PATH)`);
  return r.path;
}

/** preflight checks what can be checked before anything is created. */
async function preflight(ctx: CliContext, cfg: ClusterConfig): Promise<void> {
  const name = cfg.metadata.name;
  try {
    const c = (await ctx.aws.call('eks', 'DescribeCluster', { name })).cluster;
    throw new EksctlError(`cluster "${name}" already exists in "${ctx.region}" (status ${c.status}); delete it first with \`localeks delete cluster --name ${name} --region ${ctx.region}\``, EXIT.FAILED);
  } catch (e) {
    if (!(e instanceof AwsClientError && e.code === 'ResourceNotFoundException')) throw e;
  }
  const checks: Array<Promise<unknown>> = [];
  if (cfg.secretsEncryption?.keyARN) {
    checks.push(ctx.aws.call('kms', 'DescribeKey', { KeyId: cfg.secretsEncryption.keyARN }).catch((e) => Promise.reject(new EksctlError(`secretsEncryption.keyARN: ${messageOf(e)}`, EXIT.USAGE))));
  }
  const policies = new Set<string>();
  for (const sa of cfg.iam?.serviceAccounts ?? []) for (const p of sa.attachPolicyARNs ?? []) policies.add(p);
  for (const a of cfg.addons) for (const p of a.attachPolicyARNs ?? []) policies.add(p);
  for (const ng of [...cfg.managedNodeGroups, ...cfg.nodeGroups]) for (const p of ng.iam?.attachPolicyARNs ?? []) policies.add(p);
  for (const p of policies) checks.push(ctx.aws.call('iam', 'GetPolicy', { PolicyArn: p }).catch((e) => Promise.reject(new EksctlError(`policy ${p}: ${messageOf(e)}`, EXIT.USAGE))));
  for (const ng of [...cfg.managedNodeGroups, ...cfg.nodeGroups]) {
    if (ng.ssh?.allow && !ng.ssh.publicKeyName) {
      try {
        sshPublicKey(ng.ssh);
      } catch (e) {
        throw new EksctlError(`node group ${ng.name}: ${(e as Error).message}`, EXIT.USAGE);
      }
    }
  }
  if ((cfg.iam?.serviceAccounts?.length || cfg.addons.some((a) => a.attachPolicyARNs?.length)) && !cfg.iam?.withOIDC) {
    throw new EksctlError('iam.withOIDC must be true to create IAM service accounts (iam.serviceAccounts, addons[].attachPolicyARNs)', EXIT.USAGE);
  }
  await Promise.all(checks);
}

/** What the running createCluster has created so far (for the Ctrl-C message). */
export const inFlight: { name?: string; region?: string; created: string[] } = { created: [] };

/** Result of createCluster. */
export interface CreatedCluster {
  cluster: any;
  kubeconfigPath?: string;
}

/**
 * createCluster creates the cluster described by cfg (see the module
 * comment). Throws EksctlError (USAGE before anything exists, PARTIAL after).
 */
export async function createCluster(ctx: CliContext, cfg: ClusterConfig, kc: KubeconfigOptions): Promise<CreatedCluster> {
  const p = ctx.progress;
  const name = cfg.metadata.name;
  const created: string[] = [];
  const record: Created = (what) => created.push(what);
  Object.assign(inFlight, { name, region: ctx.region, created });
  const mngs = cfg.managedNodeGroups;
  const smngs = cfg.nodeGroups;
  p.info(`localeks: creating EKS cluster "${name}" in "${ctx.region}" region (${ctx.endpoint})`);
  for (const w of configWarnings(cfg)) p.warn(w);
  p.info(`${mngs.length} managed node group${mngs.length === 1 ? '' : 's'}, ${smngs.length} self-managed, ${cfg.fargateProfiles.length} Fargate profile${cfg.fargateProfiles.length === 1 ? '' : 's'}, ${cfg.addons.length} add-on${cfg.addons.length === 1 ? '' : 's'}; ${usesExistingSubnets(cfg) ? 'existing subnets' : `zones ${cfg.availabilityZones.join(', ')}`}`);
  await preflight(ctx, cfg);

  try {
    // 2. Network and IAM roles, all at once.
    const rolesTask = p.task('creating IAM roles');
    const clusterRoleP = cfg.iam?.serviceRoleARN ? Promise.resolve(cfg.iam.serviceRoleARN) : createRole(ctx, clusterRoleSpec(name, cfg.iam as any, cfg.metadata.tags), record);
    const nodeRoles = new Map<string, Promise<{ arn: string; name: string }>>();
    for (const ng of [...mngs, ...smngs]) {
      const given = ng.iam?.instanceRoleARN as string | undefined;
      if (given) nodeRoles.set(ng.name, Promise.resolve({ arn: given, name: given.split('/').pop()! }));
      else {
        const spec = nodeRoleSpec(name, ng, cfg.metadata.tags);
        nodeRoles.set(ng.name, createRole(ctx, spec, record).then((arn) => ({ arn, name: spec.name })));
      }
    }
    const needsFargateRole = cfg.fargateProfiles.some((f) => !f.podExecutionRoleARN) && !cfg.iam?.fargatePodExecutionRoleARN;
    const fargateRoleP = needsFargateRole ? createRole(ctx, fargateRoleSpec(name, cfg.metadata.tags), record) : Promise.resolve(cfg.iam?.fargatePodExecutionRoleARN);
    const netP = createNetwork(ctx, cfg, record);
    const allRoles = Promise.all([clusterRoleP, fargateRoleP, ...nodeRoles.values()]).then((r) => {
      rolesTask.done(`${r.filter(Boolean).length} roles`);
      return r;
    });
    // Roles that fail are reported by Promise.all below; keep others from rejecting unhandled meanwhile.
    for (const pr of [allRoles, fargateRoleP, ...nodeRoles.values()]) pr.catch(() => undefined);
    const [net, clusterRoleArn] = await Promise.all([netP, clusterRoleP]);

    // 3. The control plane.
    const cpTask = p.task(`creating EKS cluster "${name}"`);
    const logTypes = cfg.cloudWatch?.clusterLogging?.enableTypes ?? [];
    const enabled = logTypes.some((t) => t === 'all' || t === '*') ? ALL_LOG_TYPES : logTypes;
    const subnetIds = [...net.publicSubnets.values(), ...net.privateSubnets.values()];
    const endpoints = cfg.vpc.clusterEndpoints ?? {};
    const access = cfg.accessConfig ?? {};
    await ctx.aws.call('eks', 'CreateCluster', {
      name,
      version: cfg.metadata.version,
      roleArn: clusterRoleArn,
      resourcesVpcConfig: {
        subnetIds,
        securityGroupIds: net.controlPlaneSecurityGroup ? [net.controlPlaneSecurityGroup] : undefined,
        endpointPublicAccess: endpoints.publicAccess ?? true,
        endpointPrivateAccess: endpoints.privateAccess ?? false,
        publicAccessCidrs: cfg.vpc.publicAccessCIDRs,
      },
      kubernetesNetworkConfig: cfg.kubernetesNetworkConfig ? { ipFamily: cfg.kubernetesNetworkConfig.ipFamily?.toLowerCase(), serviceIpv4Cidr: cfg.kubernetesNetworkConfig.serviceIPv4CIDR } : undefined,
      logging: enabled.length ? { clusterLogging: [{ types: enabled, enabled: true }] } : undefined,
      encryptionConfig: cfg.secretsEncryption ? [{ resources: ['secrets'], provider: { keyArn: cfg.secretsEncryption.keyARN } }] : undefined,
      accessConfig: { authenticationMode: access.authenticationMode ?? 'API_AND_CONFIG_MAP', bootstrapClusterCreatorAdminPermissions: access.bootstrapClusterCreatorAdminPermissions ?? true },
      tags: { ...clusterTags(name, cfg.metadata.tags), [TAG_OIDC]: String(cfg.iam?.withOIDC ?? false) },
      upgradePolicy: (cfg as any).upgradePolicy,
      zonalShiftConfig: (cfg as any).zonalShiftConfig,
      // eksctl 0.184+: the default add-ons come as EKS add-ons (createDefaultAddons), never self-managed.
      bootstrapSelfManagedAddons: false,
    });
    record(`EKS cluster ${name}`);
    cpTask.update('waiting for the control plane');
    const cluster = await waitUntil(
      async () => {
        const c = (await ctx.aws.call('eks', 'DescribeCluster', { name })).cluster;
        if (c.status === 'ACTIVE') return c;
        if (c.status === 'FAILED') throw new Error(`cluster ${name} FAILED${c.health?.issues?.length ? `: ${c.health.issues.map((i: any) => i.message).join('; ')}` : ''}`);
        return undefined;
      },
      { deadline: ctx.deadline, what: 'the control plane to become ACTIVE' },
    );
    cpTask.done(`control plane ACTIVE, Kubernetes ${cluster.version}`);
    const kube = kubeFor(ctx, cluster);
    // The kubeconfig needs only the described cluster: written while the rest is created (eksctl too saves it before waiting for nodes).
    const kubeconfigP = kc.write ? writeKubeconfig(ctx, cluster, kc.path) : Promise.resolve(undefined);
    kubeconfigP.catch(() => undefined);
    // Node groups come after the whole network, as eksctl creates them after the cluster stack.
    const netDone = net.routing ?? Promise.resolve();

    // 4. Everything that hangs off the cluster.
    const oidcP = cfg.iam?.withOIDC ? ensureOidcProvider(ctx, name, cluster.identity.oidc.issuer, cluster.certificateAuthority.data, record, cfg.metadata.tags) : Promise.resolve(undefined);
    const work: Array<Promise<unknown>> = [
      oidcP.then(async (providerArn) => {
        if (!providerArn) return;
        p.success(`IAM OIDC provider for cluster "${name}" in "${ctx.region}": ${providerArn}`);
        await Promise.all((cfg.iam?.serviceAccounts ?? []).map((sa) => createIrsa(ctx, kube, cfg, cluster, providerArn, sa, record)));
      }),
      createAddons(ctx, cfg, cluster, oidcP, kube, record),
      createDefaultAddons(ctx, cfg, record),
      ...mngs.map(async (ng) => {
        const [role] = await Promise.all([nodeRoles.get(ng.name)!, netDone]);
        await provisionManagedNodegroup(ctx, cfg, ng, net, role.arn, kube, record);
      }),
      ...smngs.map(async (ng: any) => {
        const [role] = await Promise.all([nodeRoles.get(ng.name)!, netDone]);
        await provisionSelfManagedNodegroup(ctx, cfg, ng, net, cluster, role, kube, record);
      }),
      createFargateProfiles(ctx, cfg, net, fargateRoleP, record),
      createAccessEntries(ctx, cfg, record),
      ...((cfg as any).identityProviders ?? []).map((idp: any) => associateIdentityProvider(ctx, cfg, idp, record)),
      ...(cfg.iam?.podIdentityAssociations ?? []).map((a: any) => createPodIdentityAssociation(ctx, cfg, a, record)),
    ];
    if (cfg.cloudWatch?.clusterLogging?.logRetentionInDays) {
      work.push(ctx.aws.call('logs', 'PutRetentionPolicy', { logGroupName: `/aws/eks/${name}/cluster`, retentionInDays: cfg.cloudWatch.clusterLogging.logRetentionInDays }).catch((e) => p.warn(`log retention not set: ${messageOf(e)}`)));
    }
    if (net.routing) work.push(net.routing);
    work.push(kubeconfigP);
    const results = await Promise.allSettled(work);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await allRoles;

    const kubeconfigPath = await kubeconfigP;
    if (kubeconfigPath) p.info(`kubectl command should work with "${kubeconfigPath}", try 'kubectl${kc.path ? ` --kubeconfig=${kubeconfigPath}` : ''} get nodes'`);
    p.success(`EKS cluster "${name}" in "${ctx.region}" region is ready`);
    if (p.verbose >= 4) {
      const roles = new Map(await Promise.all([...nodeRoles].map(async ([k, v]) => [k, (await v).arn] as const)));
      p.debug(`cfg.json = \\\n${JSON.stringify(await effectiveConfig(ctx, cfg, cluster, net, roles), null, 4)}`);
    }
    return { cluster, kubeconfigPath };
  } catch (e) {
    if (created.length === 0) throw e;
    const code = e instanceof EksctlError && e.exitCode === EXIT.TIMEOUT ? EXIT.TIMEOUT : EXIT.PARTIAL;
    throw new EksctlError(`${messageOf(e)}\ncreated so far: ${created.join(', ')}\nto delete them: localeks delete cluster --name ${name} --region ${ctx.region}`, code, created);
  }
}

/**
 * effectiveConfig is the ClusterConfig with what was created filled in (VPC
 * and subnet ids, roles, security groups), as eksctl prints it at -v 4: a
 * file for creating a second cluster like this one (seed 003).
 */
async function effectiveConfig(ctx: CliContext, cfg: ClusterConfig, cluster: any, net: ClusterNetwork, nodeRoles: Map<string, string>): Promise<Record<string, unknown>> {
  const ids = [...net.publicSubnets.values(), ...net.privateSubnets.values()];
  const described = ids.length ? ((await ctx.aws.call('ec2', 'DescribeSubnets', { SubnetIds: ids })).Subnets ?? []) : [];
  const subnets = (m: Map<string, string>) => Object.fromEntries([...m].map(([az, id]) => [az, { id, az, cidr: described.find((s: any) => s.SubnetId === id)?.CidrBlock }]));
  const { apiVersion, kind, metadata, availabilityZones, vpc, managedNodeGroups, nodeGroups, ...rest } = cfg;
  return {
    kind,
    apiVersion,
    metadata: { ...metadata, version: cluster.version },
    kubernetesNetworkConfig: { ipFamily: 'IPv4', serviceIPv4CIDR: cluster.kubernetesNetworkConfig?.serviceIpv4Cidr },
    ...rest,
    iam: { ...(cfg.iam ?? {}), serviceRoleARN: cluster.roleArn, withOIDC: cfg.iam?.withOIDC ?? false, vpcResourceControllerPolicy: true },
    accessConfig: { ...(cfg.accessConfig ?? {}), authenticationMode: cluster.accessConfig?.authenticationMode },
    vpc: {
      id: net.vpcId,
      cidr: vpc.cidr,
      securityGroup: net.controlPlaneSecurityGroup,
      subnets: { private: subnets(net.privateSubnets), public: subnets(net.publicSubnets) },
      sharedNodeSecurityGroup: net.sharedNodeSecurityGroup,
      manageSharedNodeSecurityGroupRules: true,
      autoAllocateIPv6: false,
      nat: vpc.nat,
      clusterEndpoints: { privateAccess: cluster.resourcesVpcConfig?.endpointPrivateAccess ?? false, publicAccess: cluster.resourcesVpcConfig?.endpointPublicAccess ?? true },
    },
    privateCluster: { enabled: false, skipEndpointCreation: false },
    managedNodeGroups: managedNodeGroups.map((ng) => ({ ...ng, iam: { ...(ng.iam ?? {}), instanceRoleARN: nodeRoles.get(ng.name) }, privateNetworking: ng.privateNetworking ?? false, ssh: ng.ssh ?? { allow: false } })),
    ...(nodeGroups.length ? { nodeGroups: nodeGroups.map((ng: any) => ({ ...ng, iam: { ...(ng.iam ?? {}), instanceRoleARN: nodeRoles.get(ng.name) } })) } : {}),
    availabilityZones,
  };
}

/** provisionManagedNodegroup creates one managed node group and waits until it is ACTIVE and its nodes are Ready, on one progress line. */
export async function provisionManagedNodegroup(ctx: CliContext, cfg: ClusterConfig, ng: ClusterConfig['managedNodeGroups'][number], net: ClusterNetwork, nodeRoleArn: string, kube: KubeClient, record: Created): Promise<void> {
  const t = ctx.progress.task(`creating managed node group "${ng.name}" (${ng.desiredCapacity} x ${ng.instanceTypes?.join('|') ?? ng.instanceType}${ng.spot ? ', spot' : ''})`);
  await createManagedNodegroup(ctx, cfg, ng, net, nodeRoleArn, record);
  t.update('waiting for the node group to become ACTIVE');
  await waitNodegroupActive(ctx, cfg.metadata.name, ng.name);
  if (ng.desiredCapacity > 0) {
    t.update(`0 of ${ng.desiredCapacity} nodes Ready`);
    await waitNodesReady(ctx, kube, ng.desiredCapacity, `?labelSelector=${encodeURIComponent(`eks.amazonaws.com/nodegroup=${ng.name}`)}`, () => true, (n) => t.update(`${n} of ${ng.desiredCapacity} nodes Ready`));
  }
  t.done(`${ng.desiredCapacity} node${ng.desiredCapacity === 1 ? '' : 's'} Ready`);
}

/**
 * provisionSelfManagedNodegroup lets the node role join (access entry or
 * aws-auth), creates the group's launch template and Auto Scaling group,
 * waits for its instances, then up to SELF_MANAGED_JOIN_MS for their nodes
 * to be Ready (a warning, not a failure, when they do not join).
 */
export async function provisionSelfManagedNodegroup(ctx: CliContext, cfg: ClusterConfig, ng: any, net: ClusterNetwork, cluster: any, nodeRole: { arn: string; name: string }, kube: KubeClient, record: Created): Promise<void> {
  const desired: number = ng.desiredCapacity ?? ng.minSize ?? 2;
  const t = ctx.progress.task(`creating self-managed node group "${ng.name}" (${desired} x ${ng.instanceType ?? 'm5.large'})`);
  await authorizeNodeRole(ctx, kube, cfg, cluster.accessConfig?.authenticationMode, nodeRole.arn, record);
  const asgName = await createSelfManagedNodegroup(ctx, cfg, ng, net, cluster, nodeRole, record);
  if (desired > 0) {
    t.update(`waiting for ${desired} instance${desired === 1 ? '' : 's'} to be InService`);
    await waitUntil(
      async () => {
        const g = (await ctx.aws.call('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: [asgName] })).AutoScalingGroups?.[0];
        return (g?.Instances ?? []).filter((i: any) => i.LifecycleState === 'InService').length >= desired ? true : undefined;
      },
      { deadline: ctx.deadline, what: `the instances of node group ${ng.name}` },
    );
    t.update(`0 of ${desired} nodes Ready`);
    // Self-managed nodes join through their bootstrap user data; give them a minute once running, then report instead of hanging.
    const joinCtx = { ...ctx, deadline: Math.min(ctx.deadline, Date.now() + SELF_MANAGED_JOIN_MS) };
    try {
      await waitNodesReady(joinCtx, kube, desired, '', await asgMembers(ctx, asgName), (n) => t.update(`${n} of ${desired} nodes Ready`));
    } catch (e) {
      if (!(e instanceof EksctlError && e.exitCode === EXIT.TIMEOUT)) throw e;
      t.done(`${desired} instance${desired === 1 ? '' : 's'} running`);
      ctx.progress.warn(`self-managed node group "${ng.name}": its instances are running but their nodes have not joined the cluster within ${SELF_MANAGED_JOIN_MS / 1000} s`);
      return;
    }
  }
  t.done(`${desired} node${desired === 1 ? '' : 's'} Ready`);
}

/** asgMembers returns a matcher for Node objects of the ASG's instances (read now, then again as they launch). */
async function asgMembers(ctx: CliContext, asgName: string): Promise<(node: any) => boolean> {
  const read = async () => new Set<string>(((await ctx.aws.call('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: [asgName] })).AutoScalingGroups?.[0]?.Instances ?? []).map((i: any) => i.InstanceId));
  let ids = await read();
  let readAt = Date.now();
  return (node: any) => {
    if (Date.now() - readAt > 500) {
      readAt = Date.now();
      void read().then(
        (r) => (ids = r),
        () => undefined,
      );
    }
    const id = String(node?.spec?.providerID ?? '').split('/').pop() ?? '';
    return ids.has(id);
  };
}

/**
 * authorizeNodeRole lets a self-managed group's nodes join: an EC2_LINUX
 * access entry when the cluster uses the access entry API, else a mapRoles
 * entry in kube-system/aws-auth.
 */
async function authorizeNodeRole(ctx: CliContext, kube: KubeClient, cfg: ClusterConfig, clusterMode: string | undefined, roleArn: string, record: Created): Promise<void> {
  const mode = clusterMode ?? cfg.accessConfig?.authenticationMode ?? 'API_AND_CONFIG_MAP';
  if (mode !== 'CONFIG_MAP') {
    try {
      await ctx.aws.call('eks', 'CreateAccessEntry', { clusterName: cfg.metadata.name, principalArn: roleArn, type: 'EC2_LINUX' });
      record(`access entry ${roleArn}`);
    } catch (e) {
      if (!(e instanceof AwsClientError && e.code === 'ResourceInUseException')) throw e;
    }
    return;
  }
  const entry = `- rolearn: ${roleArn}\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n  - system:bootstrappers\n  - system:nodes\n`;
  const cur = await kube.request('GET', '/api/v1/namespaces/kube-system/configmaps/aws-auth');
  if (cur.status === 404) {
    const r = await kube.request('POST', '/api/v1/namespaces/kube-system/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'aws-auth', namespace: 'kube-system' }, data: { mapRoles: entry } });
    if (r.status >= 300) throw new Error(`cannot create the aws-auth ConfigMap: ${r.body?.message ?? r.status}`);
  } else {
    const mapRoles = String(cur.body?.data?.mapRoles ?? '');
    if (mapRoles.includes(roleArn)) return;
    const r = await kube.request('PATCH', '/api/v1/namespaces/kube-system/configmaps/aws-auth', { data: { mapRoles: mapRoles + (mapRoles && !mapRoles.endsWith('\n') ? '\n' : '') + entry } });
    if (r.status >= 300) throw new Error(`cannot update the aws-auth ConfigMap: ${r.body?.message ?? r.status}`);
  }
}

/**
 * createIrsa makes the IAM role of one iam.serviceAccounts entry (trusted
 * through the OIDC provider for that service account, with its policies)
 * and, unless roleOnly, the ServiceAccount annotated with the role ARN.
 */
export async function createIrsa(ctx: CliContext, kube: KubeClient, cfg: ClusterConfig, cluster: any, providerArn: string, sa: any, record: Created): Promise<string> {
  const name = cfg.metadata.name;
  const ns: string = sa.metadata.namespace ?? 'default';
  const saName: string = sa.metadata.name;
  const t = ctx.progress.task(`creating IAM service account "${ns}/${saName}"`);
  let roleArn: string = sa.attachRoleARN;
  if (!roleArn) {
    const rn: string = sa.roleName ?? roleName(stackName(name, `addon-iamserviceaccount-${ns}-${saName}`), 'Role1');
    roleArn = await createRole(
      ctx,
      {
        name: rn,
        trustPolicy: irsaTrustPolicy(providerArn, cluster.identity.oidc.issuer, ns, saName),
        policies: sa.attachPolicyARNs ?? [],
        grants: grantsOf(sa.wellKnownPolicies, WELL_KNOWN_POLICIES, `service account ${ns}/${saName}: wellKnownPolicies`),
        attachPolicy: sa.attachPolicy,
        tags: { ...clusterTags(name, cfg.metadata.tags), [TAG_IRSA]: `${ns}/${saName}`, ...(sa.tags ?? {}) },
        permissionsBoundary: sa.permissionsBoundary,
      },
      record,
    );
  }
  if (!sa.roleOnly) await applyServiceAccount(kube, ns, saName, roleArn, sa.metadata.labels, sa.metadata.annotations);
  t.done(roleArn);
  return roleArn;
}

/** applyServiceAccount creates (or annotates) a ServiceAccount with eks.amazonaws.com/role-arn, creating its namespace if needed. */
export async function applyServiceAccount(kube: KubeClient, ns: string, name: string, roleArn: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Promise<void> {
  const nsr = await kube.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  if (nsr.status >= 300 && nsr.status !== 409) throw new Error(`cannot create namespace ${ns}: ${nsr.body?.message ?? nsr.status}`);
  const metadata = { name, namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'eksctl', ...labels }, annotations: { ...annotations, 'eks.amazonaws.com/role-arn': roleArn } };
  const r = await kube.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata });
  if (r.status === 409) {
    const u = await kube.request('PATCH', `/api/v1/namespaces/${ns}/serviceaccounts/${name}`, { metadata: { labels: metadata.labels, annotations: metadata.annotations } });
    if (u.status >= 300) throw new Error(`cannot annotate service account ${ns}/${name}: ${u.body?.message ?? u.status}`);
  } else if (r.status >= 300) throw new Error(`cannot create service account ${ns}/${name}: ${r.body?.message ?? r.status}`);
}

/** The add-ons eksctl (0.184 and later) installs as EKS add-ons on every new cluster unless addonsConfig.disableDefaultAddons. */
export const DEFAULT_ADDONS = ['vpc-cni', 'kube-proxy', 'coredns'] as const;

/**
 * createDefaultAddons creates the default add-ons the config does not list
 * itself, as eksctl does, without waiting for them to become ACTIVE (CoreDNS
 * needs somewhere to run). When a Fargate profile selects kube-system,
 * CoreDNS is configured to run on Fargate (computeType), as eksctl's
 * `--fargate` clusters get it.
 */
async function createDefaultAddons(ctx: CliContext, cfg: ClusterConfig, record: Created): Promise<void> {
  if ((cfg as any).addonsConfig?.disableDefaultAddons) return;
  const name = cfg.metadata.name;
  const onFargate = cfg.fargateProfiles.some((f) => f.selectors.some((s) => s.namespace === 'kube-system' && Object.keys(s.labels ?? {}).length === 0));
  await Promise.all(
    DEFAULT_ADDONS.filter((a) => !cfg.addons.some((x) => x.name === a)).map(async (addonName) => {
      ctx.progress.info(`creating addon: ${addonName}`);
      await ctx.aws.call('eks', 'CreateAddon', {
        clusterName: name,
        addonName,
        resolveConflicts: 'OVERWRITE',
        configurationValues: addonName === 'coredns' && onFargate ? '{"computeType":"Fargate"}' : undefined,
        tags: clusterTags(name, cfg.metadata.tags),
      });
      record(`add-on ${addonName}`);
      ctx.progress.info(`successfully created addon: ${addonName}`);
    }),
  );
}

async function createAddons(ctx: CliContext, cfg: ClusterConfig, cluster: any, oidcP: Promise<string | undefined>, kube: KubeClient, record: Created): Promise<void> {
  const name = cfg.metadata.name;
  await Promise.all(
    cfg.addons.map(async (a) => {
      const t = ctx.progress.task(`creating add-on "${a.name}"${a.version ? ` ${a.version}` : ''}`);
      let roleArn = a.serviceAccountRoleARN;
      const ax = a as any;
      if (!roleArn && (a.attachPolicyARNs?.length || ax.wellKnownPolicies || ax.attachPolicy)) {
        const providerArn = await oidcP;
        const sa = ADDON_SERVICE_ACCOUNTS[a.name];
        if (!sa) throw new Error(`add-on ${a.name}: localeks does not know its service account, so it cannot make its IAM role from attachPolicyARNs/wellKnownPolicies/attachPolicy; give serviceAccountRoleARN`);
        if (providerArn) {
          const irsa = { metadata: { namespace: sa[0], name: sa[1] }, attachPolicyARNs: a.attachPolicyARNs, wellKnownPolicies: ax.wellKnownPolicies, attachPolicy: ax.attachPolicy, permissionsBoundary: ax.permissionsBoundary, roleOnly: true, roleName: roleName(stackName(name, `addon-${a.name}`), 'Role1') };
          roleArn = await createIrsa(ctx, kube, cfg, cluster, providerArn, irsa, record);
        }
      }
      const podIdentityAssociations = await Promise.all(
        (ax.podIdentityAssociations ?? []).map(async (pia: any) => ({
          serviceAccount: pia.serviceAccountName,
          roleArn: pia.roleARN ?? (await createRole(ctx, { name: roleName(stackName(name, `podidentityrole-${a.name}-${pia.serviceAccountName}`), 'Role1'), trustPolicy: podIdentityTrustPolicy(), policies: pia.permissionPolicyARNs ?? [], tags: clusterTags(name, cfg.metadata.tags), grants: grantsOf(pia.wellKnownPolicies, WELL_KNOWN_POLICIES, `add-on ${a.name}: wellKnownPolicies`) }, record)),
        })),
      );
      const version = a.version === 'latest' ? undefined : a.version;
      await ctx.aws.call('eks', 'CreateAddon', {
        clusterName: name,
        addonName: a.name,
        addonVersion: version,
        serviceAccountRoleArn: roleArn,
        configurationValues: a.configurationValues,
        podIdentityAssociations: podIdentityAssociations.length ? podIdentityAssociations : undefined,
        resolveConflicts: a.resolveConflicts?.toUpperCase() ?? 'OVERWRITE',
        tags: { ...clusterTags(name, cfg.metadata.tags), ...(a.tags ?? {}) },
      });
      record(`add-on ${a.name}`);
      t.update('waiting for ACTIVE');
      const addon = await waitUntil(
        async () => {
          const d = (await ctx.aws.call('eks', 'DescribeAddon', { clusterName: name, addonName: a.name })).addon;
          if (d.status === 'ACTIVE' || d.status === 'DEGRADED') return d;
          if (d.status === 'CREATE_FAILED') throw new Error(`add-on ${a.name} CREATE_FAILED: ${(d.health?.issues ?? []).map((i: any) => i.message).join('; ')}`);
          return undefined;
        },
        { deadline: ctx.deadline, what: `add-on ${a.name} to become ACTIVE` },
      );
      if (addon.status === 'DEGRADED') t.done(`${addon.addonVersion} DEGRADED: ${(addon.health?.issues ?? []).map((i: any) => i.message).join('; ')}`);
      else t.done(`${addon.addonVersion} ACTIVE`);
    }),
  );
}

async function createFargateProfiles(ctx: CliContext, cfg: ClusterConfig, net: ClusterNetwork, roleP: Promise<string | undefined>, record: Created): Promise<void> {
  const name = cfg.metadata.name;
  // EKS creates one Fargate profile of a cluster at a time.
  for (const fp of cfg.fargateProfiles) {
    const t = ctx.progress.task(`creating Fargate profile "${fp.name}" (${fp.selectors.map((s) => s.namespace + (s.labels ? ` ${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')}` : '')).join('; ')})`);
    const role = fp.podExecutionRoleARN ?? (await roleP);
    await ctx.aws.call('eks', 'CreateFargateProfile', {
      clusterName: name,
      fargateProfileName: fp.name,
      podExecutionRoleArn: role,
      subnets: fp.subnets ?? [...net.privateSubnets.values()],
      selectors: fp.selectors.map((s) => ({ namespace: s.namespace, labels: s.labels })),
      tags: { ...clusterTags(name, cfg.metadata.tags), ...(fp.tags ?? {}) },
    });
    record(`Fargate profile ${fp.name}`);
    t.update('waiting for ACTIVE');
    await waitUntil(
      async () => {
        const d = (await ctx.aws.call('eks', 'DescribeFargateProfile', { clusterName: name, fargateProfileName: fp.name })).fargateProfile;
        if (d.status === 'ACTIVE') return d;
        if (d.status === 'CREATE_FAILED') throw new Error(`Fargate profile ${fp.name} CREATE_FAILED`);
        return undefined;
      },
      { deadline: ctx.deadline, what: `Fargate profile ${fp.name} to become ACTIVE` },
    );
    t.done('ACTIVE');
  }
}

/** associateIdentityProvider associates one identityProviders entry (OIDC) and waits until it is ACTIVE. */
async function associateIdentityProvider(ctx: CliContext, cfg: ClusterConfig, idp: any, record: Created): Promise<void> {
  const name = cfg.metadata.name;
  const t = ctx.progress.task(`associating identity provider "${idp.name}" (${idp.issuerURL})`);
  await ctx.aws.call('eks', 'AssociateIdentityProviderConfig', {
    clusterName: name,
    oidc: { identityProviderConfigName: idp.name, issuerUrl: idp.issuerURL, clientId: idp.clientID, usernameClaim: idp.usernameClaim, usernamePrefix: idp.usernamePrefix, groupsClaim: idp.groupsClaim, groupsPrefix: idp.groupsPrefix, requiredClaims: idp.requiredClaims },
    tags: { ...clusterTags(name, cfg.metadata.tags), ...(idp.tags ?? {}) },
  });
  record(`identity provider ${idp.name}`);
  t.update('waiting for ACTIVE');
  await waitUntil(
    async () => {
      const d = (await ctx.aws.call('eks', 'DescribeIdentityProviderConfig', { clusterName: name, identityProviderConfig: { type: 'oidc', name: idp.name } })).identityProviderConfig?.oidc;
      return d?.status === 'ACTIVE' ? true : undefined;
    },
    { deadline: ctx.deadline, what: `identity provider ${idp.name}` },
  );
  t.done('ACTIVE');
}

/** createPodIdentityAssociation makes one iam.podIdentityAssociations entry (its role when only policies are given). */
async function createPodIdentityAssociation(ctx: CliContext, cfg: ClusterConfig, a: any, record: Created): Promise<void> {
  const name = cfg.metadata.name;
  const t = ctx.progress.task(`creating pod identity association for "${a.namespace}/${a.serviceAccountName}"`);
  const roleArn: string =
    a.roleARN ??
    (await createRole(
      ctx,
      {
        name: a.roleName ?? roleName(stackName(name, `podidentityrole-${a.namespace}-${a.serviceAccountName}`), 'Role1'),
        trustPolicy: podIdentityTrustPolicy(),
        policies: a.permissionPolicyARNs ?? [],
        tags: { ...clusterTags(name, cfg.metadata.tags), ...(a.tags ?? {}) },
      },
      record,
    ));
  await ctx.aws.call('eks', 'CreatePodIdentityAssociation', { clusterName: name, namespace: a.namespace, serviceAccount: a.serviceAccountName, roleArn, tags: a.tags });
  record(`pod identity association ${a.namespace}/${a.serviceAccountName}`);
  t.done(roleArn);
}

async function createAccessEntries(ctx: CliContext, cfg: ClusterConfig, record: Created): Promise<void> {
  const name = cfg.metadata.name;
  for (const e of cfg.accessConfig?.accessEntries ?? []) {
    await createAccessEntry(ctx, name, e, record);
  }
}

/** createAccessEntry makes one access entry and associates its access policies. */
export async function createAccessEntry(ctx: CliContext, cluster: string, e: any, record: Created): Promise<void> {
  const t = ctx.progress.task(`creating access entry for ${e.principalARN}`);
  await ctx.aws.call('eks', 'CreateAccessEntry', { clusterName: cluster, principalArn: e.principalARN, type: e.type, kubernetesGroups: e.kubernetesGroups, username: e.kubernetesUsername });
  record(`access entry ${e.principalARN}`);
  for (const ap of e.accessPolicies ?? []) {
    await ctx.aws.call('eks', 'AssociateAccessPolicy', { clusterName: cluster, principalArn: e.principalARN, policyArn: ap.policyARN, accessScope: { type: ap.accessScope?.type ?? 'cluster', namespaces: ap.accessScope?.namespaces } });
  }
  t.done(`${(e.accessPolicies ?? []).length} access polic${(e.accessPolicies ?? []).length === 1 ? 'y' : 'ies'}`);
}
