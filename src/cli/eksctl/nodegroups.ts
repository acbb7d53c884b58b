/**
 * Node groups as eksctl makes them.
 *
 * Managed (`managedNodeGroups`, the default): EKS CreateNodegroup with the
 * node role, subnets (public ones unless privateNetworking), instance
 * types, scaling, disk size, labels (plus eksctl's cluster and node group
 * labels), taints, capacity type (spot), SSH access, update config.
 *
 * Self-managed (`nodeGroups`): an instance profile for the node role, a
 * launch template (the EKS optimized AMI for the cluster version, the
 * shared node security group, bootstrap user data: a nodeadm NodeConfig on
 * Amazon Linux 2023, /etc/eks/bootstrap.sh on Amazon Linux 2) and an Auto
 * Scaling group tagged `kubernetes.io/cluster/<name>=owned`. The nodes'
 * role gets an EC2_LINUX access entry (or an aws-auth mapping in
 * CONFIG_MAP mode) so they may join.
 *
 * waitNodesReady watches the cluster's Node objects through its Kubernetes
 * API until the group's nodes are Ready ("2 of 3 nodes Ready").
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isDrainable } from '../../kube/api/pods.ts';
import type { ClusterConfig, ManagedNodeGroupConfig } from './cluster-config.ts';
import type { CliContext } from './context.ts';
import { createKubeClient, type KubeClient, nodeReady } from './kube-client.ts';
import type { ClusterNetwork, Created } from './network.ts';
import { clusterTags, roleName, stackName, TAG_NODEGROUP, TAG_NODEGROUP_TYPE, tagSpec, toTagList } from './names.ts';
import { EksctlError, EXIT } from './errors.ts';
import { waitUntil } from './wait.ts';

const TAINT_EFFECT: Record<string, string> = { NoSchedule: 'NO_SCHEDULE', PreferNoSchedule: 'PREFER_NO_SCHEDULE', NoExecute: 'NO_EXECUTE' };

/** isArm reports whether an instance type is Graviton (m6g, c7gn, t4g, ...). */
export function isArm(instanceType: string): boolean {
  return /^[a-z]+\d+g[a-z]*\./.test(instanceType);
}

/** amiTypeFor maps eksctl's amiFamily (and the instance architecture) to the EKS amiType; undefined = EKS's default. */
export function amiTypeFor(amiFamily: string | undefined, instanceType: string | undefined): string | undefined {
  const arm = instanceType ? isArm(instanceType) : false;
  switch (amiFamily) {
    case 'AmazonLinux2':
      return arm ? 'AL2_ARM_64' : 'AL2_x86_64';
    case 'Bottlerocket':
      return arm ? 'BOTTLEROCKET_ARM_64' : 'BOTTLEROCKET_x86_64';
    case 'WindowsServer2019FullContainer':
      return 'WINDOWS_FULL_2019_x86_64';
    case 'WindowsServer2019CoreContainer':
      return 'WINDOWS_CORE_2019_x86_64';
    case 'WindowsServer2022FullContainer':
      return 'WINDOWS_FULL_2022_x86_64';
    case 'WindowsServer2022CoreContainer':
      return 'WINDOWS_CORE_2022_x86_64';
    case 'AmazonLinux2023':
      return arm ? 'AL2023_ARM_64_STANDARD' : 'AL2023_x86_64_STANDARD';
    default:
      return arm ? 'AL2023_ARM_64_STANDARD' : undefined;
  }
}

function subnetsFor(ng: { subnets?: string[]; availabilityZones?: string[]; privateNetworking?: boolean }, net: ClusterNetwork): string[] {
  if (ng.subnets?.length) return ng.subnets;
  const pool = ng.privateNetworking ? net.privateSubnets : net.publicSubnets.size ? net.publicSubnets : net.privateSubnets;
  const zones = ng.availabilityZones?.length ? ng.availabilityZones : [...pool.keys()];
  return zones.map((z) => pool.get(z)).filter((s): s is string => s !== undefined);
}

/** sshPublicKey reads the public key of `ssh: {allow: true}` without publicKeyName (publicKey, publicKeyPath, else ~/.ssh/id_rsa.pub). Throws when there is none. */
export function sshPublicKey(ssh: { publicKey?: string; publicKeyPath?: string } | undefined): string {
  if (ssh?.publicKey) return ssh.publicKey;
  const path = (ssh?.publicKeyPath ?? '~/.ssh/id_rsa.pub').replace(/^~(?=\/)/, process.env.HOME || homedir());
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new Error(`ssh.allow: cannot read the public key ${path} (${(e as NodeJS.ErrnoException).code}); set ssh.publicKeyName, publicKey or publicKeyPath`);
  }
}

/** sshKeyName is the EC2 key pair for a node group's SSH access: publicKeyName, or the public key imported as eksctl names it. */
async function sshKeyName(ctx: CliContext, cluster: string, ng: { name: string; ssh?: any }): Promise<string | undefined> {
  if (!ng.ssh?.allow && !ng.ssh?.publicKeyName) return undefined;
  if (ng.ssh.publicKeyName) return ng.ssh.publicKeyName;
  const key = sshPublicKey(ng.ssh);
  const fingerprint = createHash('md5').update(Buffer.from(key.split(/\s+/)[1] ?? key, 'base64')).digest('hex').replace(/(..)(?=.)/g, '$1:');
  const name = `eksctl-${cluster}-nodegroup-${ng.name}-${fingerprint}`;
  try {
    await ctx.aws.call('ec2', 'ImportKeyPair', { KeyName: name, PublicKeyMaterial: Buffer.from(key) });
  } catch (e: any) {
    if (e?.code !== 'InvalidKeyPair.Duplicate') throw e;
  }
  return name;
}

/** The labels eksctl puts on every node of a group. */
function eksctlLabels(cluster: string, ng: string): Record<string, string> {
  return { 'alpha.eksctl.io/cluster-name': cluster, 'alpha.eksctl.io/nodegroup-name': ng };
}

/**
 * managedLaunchTemplateNeeds lists the fields of a managed node group that
 * EKS takes only from a launch template (eksctl then makes one for the
 * group): a custom `ami`, a `volumeType` other than EKS's gp3,
 * `volumeEncrypted`, `maxPodsPerNode`, `securityGroups.attachIDs`.
 */
export function managedLaunchTemplateNeeds(ng: ManagedNodeGroupConfig): string[] {
  const x = ng as any;
  if (ng.launchTemplate) return [];
  const needs: string[] = [];
  if (x.ami) needs.push('ami');
  if (x.volumeType && x.volumeType !== 'gp3') needs.push('volumeType');
  if (x.volumeEncrypted !== undefined) needs.push('volumeEncrypted');
  if (x.maxPodsPerNode !== undefined) needs.push('maxPodsPerNode');
  if (x.securityGroups?.attachIDs?.length) needs.push('securityGroups.attachIDs');
  return needs;
}

/**
 * createManagedLaunchTemplate makes the launch template eksctl makes for a
 * managed node group whose settings EKS takes only from one
 * (`eksctl-<cluster>-nodegroup-<name>`): the root volume (size, type,
 * encryption), IMDSv2, the SSH key, the shared node and cluster security
 * groups plus securityGroups.attachIDs, and, for a custom `ami` or
 * `maxPodsPerNode`, the AMI and bootstrap user data with --max-pods.
 */
/** nodeUserData is the bootstrap user data of a node group's nodes: the cluster, eksctl's and the group's labels, its taints, --max-pods. */
function nodeUserData(cluster: string, ng: { name: string; amiFamily?: string; labels?: Record<string, string>; taints?: Array<{ key: string; value?: string; effect: string }> }, c: any, maxPods: number | undefined): string {
  return bootstrapUserData({
    family: ng.amiFamily,
    cluster,
    endpoint: c.endpoint,
    caData: c.certificateAuthority.data,
    serviceCidr: c.kubernetesNetworkConfig?.serviceIpv4Cidr ?? '10.100.0.0/16',
    labels: { ...eksctlLabels(cluster, ng.name), ...(ng.labels ?? {}) },
    taints: (ng.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
    maxPods,
  });
}

/** nodeLaunchTemplateData is eksctl's launch template data for a node group: root volume, IMDSv2, the nodes' Name tag, plus the given members. */
function nodeLaunchTemplateData(cluster: string, ng: { name: string; volumeSize?: number; volumeType?: string; volumeEncrypted?: boolean }, tags: Record<string, string>, more: Record<string, unknown>): Record<string, unknown> {
  return {
    ...more,
    BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: ng.volumeSize ?? 80, VolumeType: ng.volumeType ?? 'gp3', Encrypted: ng.volumeEncrypted } }],
    MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
    TagSpecifications: [{ ResourceType: 'instance', Tags: toTagList({ ...tags, Name: `${cluster}-${ng.name}-Node` }) }],
  };
}

async function createManagedLaunchTemplate(ctx: CliContext, cfg: ClusterConfig, ng: ManagedNodeGroupConfig, net: ClusterNetwork, sshKey: string | undefined, created: Created): Promise<{ id: string; version: string }> {
  const name = cfg.metadata.name;
  const x = ng as any;
  const tags = { ...clusterTags(name, cfg.metadata.tags), [TAG_NODEGROUP]: ng.name, [TAG_NODEGROUP_TYPE]: 'managed' };
  let userData: string | undefined;
  let cluster: any;
  if (x.ami || x.maxPodsPerNode !== undefined || x.securityGroups?.attachIDs?.length) cluster = (await ctx.aws.call('eks', 'DescribeCluster', { name })).cluster;
  if (x.ami || x.maxPodsPerNode !== undefined) userData = nodeUserData(name, ng, cluster, x.maxPodsPerNode);
  const securityGroups = x.securityGroups?.attachIDs?.length ? [net.sharedNodeSecurityGroup, cluster?.resourcesVpcConfig?.clusterSecurityGroupId, ...x.securityGroups.attachIDs].filter(Boolean) : undefined;
  const lt = (
    await ctx.aws.call('ec2', 'CreateLaunchTemplate', {
      LaunchTemplateName: stackName(name, `nodegroup-${ng.name}`).slice(0, 128),
      LaunchTemplateData: nodeLaunchTemplateData(name, ng, tags, { ImageId: x.ami, UserData: userData, KeyName: sshKey, SecurityGroupIds: securityGroups }),
      TagSpecifications: tagSpec('launch-template', tags),
    })
  ).LaunchTemplate;
  created(`launch template ${lt.LaunchTemplateId}`);
  return { id: lt.LaunchTemplateId, version: String(lt.LatestVersionNumber ?? 1) };
}

/**
 * createManagedNodegroup calls CreateNodegroup (returns once EKS accepted
 * it; CREATING), with a launch template of eksctl's when the group needs
 * one (managedLaunchTemplateNeeds).
 */
export async function createManagedNodegroup(ctx: CliContext, cfg: ClusterConfig, ng: ManagedNodeGroupConfig, net: ClusterNetwork, nodeRoleArn: string, created: Created): Promise<void> {
  const cluster = cfg.metadata.name;
  const instanceTypes = ng.instanceTypes ?? (ng.instanceType ? [ng.instanceType] : undefined);
  const sshKey = await sshKeyName(ctx, cluster, ng);
  const ngx = ng as any;
  if (ngx.asgSuspendProcesses?.length) ctx.progress.warn(`managed node group "${ng.name}": asgSuspendProcesses has no effect (EKS manages its Auto Scaling group)`);
  const own = managedLaunchTemplateNeeds(ng).length > 0 ? await createManagedLaunchTemplate(ctx, cfg, ng, net, sshKey, created) : undefined;
  const lt = ng.launchTemplate ? { id: ng.launchTemplate.id, version: ng.launchTemplate.version } : own;
  // With eksctl's launch template the SSH key is in it (EKS refuses remoteAccess with a launch template).
  const remoteAccess = sshKey && !own ? { ec2SshKey: sshKey, sourceSecurityGroups: (ng.ssh as any)?.sourceSecurityGroupIds } : undefined;
  await ctx.aws.call('eks', 'CreateNodegroup', {
    clusterName: cluster,
    nodegroupName: ng.name,
    version: cfg.metadata.version,
    releaseVersion: ngx.ami ? undefined : ng.releaseVersion,
    scalingConfig: { minSize: ng.minSize, maxSize: ng.maxSize, desiredSize: ng.desiredCapacity },
    diskSize: lt ? undefined : ng.volumeSize,
    subnets: subnetsFor(ng, net),
    instanceTypes: ng.launchTemplate ? undefined : instanceTypes,
    amiType: ng.launchTemplate ? undefined : ngx.ami ? 'CUSTOM' : amiTypeFor(ng.amiFamily, instanceTypes?.[0]),
    nodeRole: nodeRoleArn,
    labels: { ...eksctlLabels(cluster, ng.name), ...(ng.labels ?? {}) },
    taints: ng.taints?.map((t) => ({ key: t.key, value: t.value, effect: TAINT_EFFECT[t.effect] ?? t.effect })),
    capacityType: ng.spot ? 'SPOT' : 'ON_DEMAND',
    remoteAccess,
    updateConfig: ng.updateConfig,
    launchTemplate: lt,
    tags: { ...clusterTags(cluster, cfg.metadata.tags), [TAG_NODEGROUP]: ng.name, [TAG_NODEGROUP_TYPE]: 'managed', ...(ng.tags ?? {}) },
  });
  created(`managed node group ${ng.name}`);
}

/** waitNodegroupActive polls DescribeNodegroup until ACTIVE (CREATE_FAILED / DEGRADED throw with the health issues). */
export async function waitNodegroupActive(ctx: CliContext, cluster: string, name: string): Promise<any> {
  return waitUntil(
    async () => {
      const ng = (await ctx.aws.call('eks', 'DescribeNodegroup', { clusterName: cluster, nodegroupName: name })).nodegroup;
      if (ng.status === 'ACTIVE') return ng;
      if (ng.status === 'CREATE_FAILED' || ng.status === 'DEGRADED') {
        const issues = (ng.health?.issues ?? []).map((i: any) => `${i.code}: ${i.message}`).join('; ');
        throw new Error(`node group ${name} is ${ng.status}${issues ? `: ${issues}` : ''}`);
      }
      return undefined;
    },
    { deadline: ctx.deadline, what: `node group ${name} to become ACTIVE` },
  );
}

/**
 * waitNodesReady waits until `want` nodes matching `match` are Ready,
 * updating the task with "n of m nodes Ready". It lists the nodes, then
 * watches them from the list's resourceVersion, so a node's Ready condition
 * is seen the moment it is written (a new list after the watch fails, e.g.
 * 410 Gone); the count is also re-evaluated every 250 ms because `match`
 * may change (a self-managed group learns its instance ids as they launch).
 * Past ctx.deadline it throws EksctlError(TIMEOUT).
 */
export async function waitNodesReady(ctx: CliContext, kube: KubeClient, want: number, query: string, match: (node: any) => boolean, onCount: (ready: number) => void): Promise<void> {
  const nodes = new Map<string, any>();
  const watchQuery = `${query}${query ? '&' : '?'}watch=1&allowWatchBookmarks=true`;
  let last = -1;
  let done = false;
  let current: { close(): void } | undefined;
  let timer: NodeJS.Timeout | undefined;
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      current?.close();
      if (err) reject(err);
      else resolve();
    };
    const check = () => {
      let ready = 0;
      for (const n of nodes.values()) if (match(n) && nodeReady(n)) ready++;
      if (ready !== last) onCount((last = ready));
      if (ready >= want) finish();
      else if (Date.now() > ctx.deadline) finish(new EksctlError(`timed out waiting for ${want} nodes to be Ready`, EXIT.TIMEOUT));
    };
    timer = setInterval(check, 250);
    const run = async () => {
      while (!done) {
        const list = await kube.request('GET', `/api/v1/nodes${query}`);
        if (list.status !== 200) {
          check();
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        nodes.clear();
        for (const n of list.body.items ?? []) nodes.set(n.metadata.name, n);
        check();
        let rv: string = list.body.metadata?.resourceVersion ?? '0';
        let relist = false;
        while (!done && !relist) {
          const w = kube.watch(`/api/v1/nodes${watchQuery}&resourceVersion=${encodeURIComponent(rv)}`, (ev) => {
            if (ev.type === 'ERROR') {
              relist = true;
              w.close();
              return;
            }
            const name: string | undefined = ev.object?.metadata?.name;
            if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK' || !name) return;
            if (ev.type === 'DELETED') nodes.delete(name);
            else nodes.set(name, ev.object);
            check();
          });
          current = w;
          const end = await w.ended.catch(() => ({ status: 0 }));
          if (end.status !== 200) relist = true;
        }
      }
    };
    run().catch(finish);
  });
}

/** kubeFor makes a Kubernetes client for a described cluster. */
export function kubeFor(ctx: CliContext, cluster: any): KubeClient {
  return createKubeClient({ clusterName: cluster.name, endpoint: cluster.endpoint, caData: cluster.certificateAuthority.data, region: ctx.region, credentials: ctx.aws.credentials });
}

/** Images: the EKS optimized AMI name prefix per family and architecture. */
function amiNamePrefix(family: string | undefined, version: string, arm: boolean): string {
  if (family === 'AmazonLinux2') return arm ? `amazon-eks-arm64-node-${version}-v` : `amazon-eks-node-${version}-v`;
  return `amazon-eks-node-al2023-${arm ? 'arm64' : 'x86_64'}-standard-${version}-v`;
}

/** bootstrapUserData is the user data eksctl gives self-managed nodes (base64). */
export function bootstrapUserData(o: { family?: string; cluster: string; endpoint: string; caData: string; serviceCidr: string; labels: Record<string, string>; taints: Array<{ key: string; value?: string; effect: string }>; maxPods?: number }): string {
  const labels = Object.entries(o.labels).map(([k, v]) => `${k}=${v}`).join(',');
  const taints = o.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(',');
  const flags = [`--node-labels=${labels}`, ...(taints ? [`--register-with-taints=${taints}`] : []), ...(o.maxPods ? [`--max-pods=${o.maxPods}`] : [])];
  let text: string;
  if (o.family === 'AmazonLinux2') {
    text = `#!/bin/bash\nset -ex\n/etc/eks/bootstrap.sh ${o.cluster} --apiserver-endpoint '${o.endpoint}' --b64-cluster-ca '${o.caData}' --kubelet-extra-args '${flags.join(' ')}'\n`;
  } else {
    text = [
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="//"',
      '',
      '--//',
      'Content-Type: application/node.eks.aws',
      '',
      'apiVersion: node.eks.aws/v1alpha1',
      'kind: NodeConfig',
      'spec:',
      '  cluster:',
      `    name: ${o.cluster}`,
      `    apiServerEndpoint: ${o.endpoint}`,
      `    certificateAuthority: ${o.caData}`,
      `    cidr: ${o.serviceCidr}`,
      '  kubelet:',
      '    flags:',
      ...flags.map((f) => `      - "${f}"`),
      '',
      '--//--',
      '',
    ].join('\n');
  }
  return Buffer.from(text).toString('base64');
}

/**
 * createSelfManagedNodegroup makes the instance profile, launch template and
 * Auto Scaling group of one `nodeGroups` entry; returns the group name.
 */
export async function createSelfManagedNodegroup(ctx: CliContext, cfg: ClusterConfig, ng: any, net: ClusterNetwork, cluster: any, nodeRole: { arn: string; name: string }, created: Created): Promise<string> {
  const name = cfg.metadata.name;
  const stack = stackName(name, `nodegroup-${ng.name}`);
  const tags = { ...clusterTags(name, cfg.metadata.tags), [TAG_NODEGROUP]: ng.name, [TAG_NODEGROUP_TYPE]: 'unmanaged', ...(ng.tags ?? {}) };
  const instanceType: string = ng.instanceType ?? ng.instancesDistribution?.instanceTypes?.[0] ?? 'm5.large';
  const version: string = cluster.version;
  const profileName = roleName(stack, 'NodeInstanceProfile');
  const profile = (await ctx.aws.call('iam', 'CreateInstanceProfile', { InstanceProfileName: profileName, Tags: toTagList(tags) })).InstanceProfile;
  created(`IAM instance profile ${profileName}`);
  await ctx.aws.call('iam', 'AddRoleToInstanceProfile', { InstanceProfileName: profileName, RoleName: nodeRole.name });
  let imageId: string | undefined = ng.ami && ng.ami !== 'auto' && ng.ami !== 'auto-ssm' ? ng.ami : undefined;
  if (!imageId) {
    const prefix = amiNamePrefix(ng.amiFamily, version, isArm(instanceType));
    const family = prefix.replace(`-${version}-v`, '-');
    const images = (await ctx.aws.call('ec2', 'DescribeImages', { Owners: ['amazon'], Filters: [{ Name: 'name', Values: [`${family}*`] }] })).Images ?? [];
    // Newest first by Kubernetes minor, then release: the cluster version's AMI, else the newest one (older kubelets may join a newer control plane).
    const minorOf = (n: string) => Number(/-1\.(\d+)-v/.exec(n)?.[1] ?? 0);
    images.sort((a: any, b: any) => minorOf(b.Name) - minorOf(a.Name) || String(b.Name).localeCompare(String(a.Name)));
    const exact = images.find((i: any) => String(i.Name).startsWith(prefix));
    imageId = (exact ?? images[0])?.ImageId;
    if (!imageId) throw new Error(`no EKS optimized AMI ${prefix}* for Kubernetes ${version}`);
    if (!exact) ctx.progress.warn(`no EKS optimized AMI for Kubernetes ${version} yet; node group "${ng.name}" uses ${images[0].Name}`);
  }
  const desired: number = ng.desiredCapacity ?? ng.minSize ?? 2;
  const min: number = ng.minSize ?? desired;
  const max: number = ng.maxSize ?? Math.max(desired, min);
  const userData = nodeUserData(name, ng, cluster, ng.maxPodsPerNode);
  const securityGroups = [net.sharedNodeSecurityGroup, cluster.resourcesVpcConfig?.clusterSecurityGroupId, ...(ng.securityGroups?.attachIDs ?? [])].filter(Boolean);
  const lt = (
    await ctx.aws.call('ec2', 'CreateLaunchTemplate', {
      LaunchTemplateName: `${stack}`.slice(0, 128),
      LaunchTemplateData: nodeLaunchTemplateData(name, ng, tags, {
        ImageId: imageId,
        InstanceType: instanceType,
        IamInstanceProfile: { Arn: profile.Arn },
        UserData: userData,
        SecurityGroupIds: securityGroups,
        KeyName: await sshKeyName(ctx, name, ng),
      }),
      TagSpecifications: tagSpec('launch-template', tags),
    })
  ).LaunchTemplate;
  created(`launch template ${lt.LaunchTemplateId}`);
  const asgName = roleName(stack, 'NodeGroup');
  if (ng.instancesDistribution) ctx.progress.warn(`self-managed node group "${ng.name}": instancesDistribution: only its first instance type (${instanceType}) is used, on demand`);
  const subnets = subnetsFor(ng, net);
  await ctx.aws.call('autoscaling', 'CreateAutoScalingGroup', {
    AutoScalingGroupName: asgName,
    LaunchTemplate: { LaunchTemplateId: lt.LaunchTemplateId, Version: '$Latest' },
    MinSize: min,
    MaxSize: max,
    DesiredCapacity: desired,
    VPCZoneIdentifier: subnets.join(','),
    TargetGroupARNs: ng.targetGroupARNs,
    Tags: Object.entries({ ...tags, Name: `${name}-${ng.name}-Node`, [`kubernetes.io/cluster/${name}`]: 'owned' }).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true, ResourceId: asgName, ResourceType: 'auto-scaling-group' })),
  });
  created(`Auto Scaling group ${asgName}`);
  if (ng.asgSuspendProcesses?.length) await ctx.aws.call('autoscaling', 'SuspendProcesses', { AutoScalingGroupName: asgName, ScalingProcesses: ng.asgSuspendProcesses });
  return asgName;
}

/** selfManagedGroups lists the self-managed node groups (Auto Scaling groups) of a cluster by eksctl's tags. */
export async function selfManagedGroups(ctx: CliContext, cluster: string): Promise<Array<{ name: string; asg: any }>> {
  const r = await ctx.aws.call('autoscaling', 'DescribeAutoScalingGroups', { Filters: [{ Name: `tag:alpha.eksctl.io/cluster-name`, Values: [cluster] }, { Name: `tag:${TAG_NODEGROUP_TYPE}`, Values: ['unmanaged'] }] });
  return (r.AutoScalingGroups ?? []).map((asg: any) => ({ name: (asg.Tags ?? []).find((t: any) => t.Key === TAG_NODEGROUP)?.Value ?? asg.AutoScalingGroupName, asg }));
}

/**
 * drainNodes cordons the nodes `match` selects and evicts their pods
 * through the Eviction API (DaemonSet and mirror pods stay, as kubectl
 * drain does). Evictions a PodDisruptionBudget refuses (429) are retried
 * for pdbWaitMs (the replacement pods elsewhere may become Ready), then left
 * with a warning: when every node goes (delete cluster), a budget could
 * never allow them. Returns how many pods were evicted.
 */
export async function drainNodes(ctx: CliContext, kube: KubeClient, match: (node: any) => boolean, pdbWaitMs = 10_000): Promise<number> {
  const nodes = ((await kube.request('GET', '/api/v1/nodes')).body?.items ?? []).filter(match);
  let evicted = 0;
  await Promise.all(
    nodes.map(async (n: any) => {
      const name = n.metadata.name;
      await kube.request('PATCH', `/api/v1/nodes/${name}`, { spec: { unschedulable: true } });
      const pods = (await kube.request('GET', `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`)).body?.items ?? [];
      const movable = pods.filter(isDrainable);
      await Promise.all(
        movable.map(async (p: any) => {
          const id = `${p.metadata.namespace}/${p.metadata.name}`;
          try {
            await waitUntil(
              async () => {
                const r = await kube.request('POST', `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/eviction`, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: p.metadata.namespace } });
                if (r.status === 429) return undefined; // a PodDisruptionBudget says not now
                if (r.status >= 300 && r.status !== 404) throw new Error(`cannot evict ${id}: ${r.body?.message ?? r.status}`);
                evicted++;
                return true;
              },
              { deadline: Math.min(ctx.deadline, Date.now() + pdbWaitMs), what: `pod ${id} to be evicted` },
            );
          } catch (e) {
            if (!(e instanceof EksctlError && e.exitCode === EXIT.TIMEOUT)) throw e;
            ctx.progress.warn(`pod ${id} was not evicted: its PodDisruptionBudget did not allow it within ${pdbWaitMs / 1000} s`);
          }
        }),
      );
    }),
  );
  return evicted;
}

/** asgInstanceIds lists the instances of an Auto Scaling group. */
export async function asgInstanceIds(ctx: CliContext, asgName: string): Promise<Set<string>> {
  const g = (await ctx.aws.call('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: [asgName] })).AutoScalingGroups?.[0];
  return new Set((g?.Instances ?? []).map((i: any) => i.InstanceId));
}

/** instanceIdOf is the EC2 instance id in a Node's providerID (aws:///zone/i-...). */
export function instanceIdOf(node: any): string {
  return String(node?.spec?.providerID ?? '').split('/').pop() ?? '';
}

/** deleteSelfManaged deletes a self-managed group's ASG (terminating its instances) and launch template, and waits. */
export async function deleteSelfManaged(ctx: CliContext, group: { name: string; asg: any }): Promise<void> {
  const asgName = group.asg.AutoScalingGroupName;
  await ctx.aws.call('autoscaling', 'DeleteAutoScalingGroup', { AutoScalingGroupName: asgName, ForceDelete: true });
  await waitUntil(async () => ((await ctx.aws.call('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: [asgName] })).AutoScalingGroups ?? []).length === 0 ? true : undefined, {
    deadline: ctx.deadline,
    what: `Auto Scaling group ${asgName} to be deleted`,
  });
  const lt = group.asg.LaunchTemplate?.LaunchTemplateId;
  if (lt) await ctx.aws.call('ec2', 'DeleteLaunchTemplate', { LaunchTemplateId: lt }).catch(() => undefined);
}
