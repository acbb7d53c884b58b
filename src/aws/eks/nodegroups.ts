/**
 * Managed node groups: CreateNodegroup, DescribeNodegroup, ListNodegroups,
 * DeleteNodegroup, UpdateNodegroupConfig and UpdateNodegroupVersion, each
 * backed by a real Auto Scaling group (eks-<nodegroup>-<uuid>) from the
 * emulated Auto Scaling service.
 */
import { createHash } from 'node:crypto';
import type { StateOp } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { nodeAccessEntryOps } from './access.ts';
import { checkRole, checkSecurityGroups, checkSubnets, getCluster, requireActiveCluster } from './clusters.ts';
import type { Tx } from './lifecycle.ts';
import { hex } from './refs.ts';
import { ensureNoUpdateInProgress, finishUpdateOps, inProgressUpdate, startUpdate } from './updates.ts';
import { defaultAmiType, kubeVersion, minorOf, releaseVersionFor } from './versions.ts';
import { ROLLOUT_HOLD_MS } from './shared.ts';

const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function ngFields(cluster: string, ng: string) {
  return { clusterName: cluster, nodegroupName: ng };
}

export function getNodegroup(e: EksContext, ctx: RequestContext, cluster: string, name: string): any {
  getCluster(e, ctx, cluster);
  const d = e.deps.state.get<any>(childKey(scopeOf(ctx), 'nodegroup', cluster, name));
  if (!d) throw notFound(`No node group found for name: ${name}.`, ngFields(cluster, name));
  return d;
}

function validateScaling(s: any, f: Record<string, string>): void {
  const { minSize, maxSize, desiredSize } = s;
  if (maxSize !== undefined && maxSize < 1) throw invalidParameter('maxSize must be greater than or equal to 1', f);
  if (minSize !== undefined && minSize < 0) throw invalidParameter('minSize must be greater than or equal to 0', f);
  if (desiredSize !== undefined && maxSize !== undefined && desiredSize > maxSize) throw invalidParameter("desiredSize can't be greater than maxSize", f);
  if (minSize !== undefined && maxSize !== undefined && minSize > maxSize) throw invalidParameter("minSize can't be greater than maxSize", f);
  if (minSize !== undefined && desiredSize !== undefined && minSize > desiredSize) throw invalidParameter(`Minimum capacity ${minSize} can't be greater than desired size ${desiredSize}`, f);
}

function validateLabels(labels: Record<string, string> | undefined, f: Record<string, string>): void {
  for (const [k, v] of Object.entries(labels ?? {})) {
    if (!LABEL_KEY.test(k) || k.length > 317) throw invalidParameter(`Label key ${k} is invalid`, f);
    if (!LABEL_VALUE.test(String(v))) throw invalidParameter(`Label value ${v} for key ${k} is invalid`, f);
    if (k.startsWith('kubernetes.io/') || k.startsWith('k8s.io/') || k.startsWith('eks.amazonaws.com/')) throw invalidParameter(`Label key ${k} uses a reserved prefix`, f);
  }
}

function validateTaints(taints: any[] | undefined, f: Record<string, string>): void {
  if ((taints?.length ?? 0) > 50) throw invalidParameter('Nodegroup cannot have more than 50 taints', f);
  for (const t of taints ?? []) {
    if (!t.key) throw invalidParameter('Taint key is required', f);
    if (!LABEL_KEY.test(t.key)) throw invalidParameter(`Taint key ${t.key} is invalid`, f);
    if (t.value !== undefined && !LABEL_VALUE.test(t.value)) throw invalidParameter(`Taint value ${t.value} is invalid`, f);
    if (!t.effect) throw invalidParameter('Taint effect is required', f);
  }
}

function validateUpdateConfig(u: any, f: Record<string, string>): void {
  if (!u) return;
  if (u.maxUnavailable !== undefined && u.maxUnavailablePercentage !== undefined) throw invalidParameter('Only one of maxUnavailable and maxUnavailablePercentage can be specified', f);
  if (u.maxUnavailable !== undefined && (u.maxUnavailable < 1 || u.maxUnavailable > 100)) throw invalidParameter('maxUnavailable must be between 1 and 100', f);
  if (u.maxUnavailablePercentage !== undefined && (u.maxUnavailablePercentage < 1 || u.maxUnavailablePercentage > 100)) throw invalidParameter('maxUnavailablePercentage must be between 1 and 100', f);
}

export function nodegroupOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('nodegroup', (key, doc, tx) => completeNodegroup(e, key, doc, tx));

  return {
    CreateNodegroup: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.nodegroupName}`, input.clientRequestToken, async () => {
        const scope = scopeOf(ctx);
        const cname: string = input.clusterName;
        const name: string = input.nodegroupName;
        const f = ngFields(cname, name);
        const c = getCluster(e, ctx, cname);
        const key = childKey(scope, 'nodegroup', cname, name);
        if (deps.state.get(key)) throw inUse(`NodeGroup already exists with name ${name} and cluster name ${cname}`, f);
        requireActiveCluster(e, ctx, cname);
        validateTags(input.tags);
        const version: string = input.version ?? c.version;
        if (!kubeVersion(version)) throw invalidParameter(`Requested Nodegroup version ${version} is invalid.`, f);
        if (minorOf(version) > minorOf(c.version)) throw invalidParameter(`Requested Nodegroup version ${version} is invalid. Nodegroup version cannot be greater than cluster version ${c.version}.`, f);
        if (minorOf(c.version) - minorOf(version) > 3) throw invalidParameter(`Requested Nodegroup version ${version} is invalid. Nodegroup version must be within 3 minor versions of the cluster version ${c.version}.`, f);
        const lt = input.launchTemplate;
        if (lt) {
          if (input.diskSize !== undefined) throw invalidParameter('Disk size must be specified within the launch template.', f);
          if (input.remoteAccess) throw invalidParameter('Remote access configuration cannot be specified with a launch template.', f);
          if (lt.id && lt.name) throw invalidParameter('Either launch template ID or name can be specified, but not both.', f);
          if (!lt.id && !lt.name) throw invalidParameter('Either launch template ID or name must be specified.', f);
        }
        const amiType: string = input.amiType ?? defaultAmiType(version);
        if (amiType.startsWith('AL2_') && minorOf(version) >= 33) {
          throw invalidParameter(`AMI Type ${amiType} is only supported for kubernetes versions 1.32 or earlier`, f);
        }
        const releaseVersion: string = input.releaseVersion ?? releaseVersionFor(version, amiType);
        if (input.releaseVersion && !amiType.startsWith('BOTTLEROCKET') && !amiType.startsWith('WINDOWS') && !input.releaseVersion.startsWith(`${version}.`)) {
          throw invalidParameter(`Requested release version ${input.releaseVersion} is not valid for kubernetes version ${version}.`, f);
        }
        const scaling = { minSize: 1, maxSize: 2, desiredSize: 2, ...(input.scalingConfig ?? {}) };
        if (input.scalingConfig && input.scalingConfig.desiredSize === undefined) scaling.desiredSize = Math.max(scaling.minSize, Math.min(2, scaling.maxSize));
        validateScaling(scaling, f);
        validateLabels(input.labels, f);
        validateTaints(input.taints, f);
        validateUpdateConfig(input.updateConfig, f);
        const subnets: string[] = input.subnets ?? [];
        if (subnets.length === 0) throw invalidParameter('Subnets are required', f);
        await checkSubnets(e, ctx, subnets, f, false);
        await checkRole(e, input.nodeRole, f);
        if (input.remoteAccess?.sourceSecurityGroups?.length) {
          if (!input.remoteAccess.ec2SshKey) throw invalidParameter('Ec2SshKey is required when sourceSecurityGroups are specified', f);
          await checkSecurityGroups(e, ctx, input.remoteAccess.sourceSecurityGroups, f);
        }
        let launchTemplate: any;
        if (lt) {
          if (e.refs.checks) {
            const found = await e.refs.launchTemplate(scope, lt);
            if (!found) throw invalidParameter(`The launch template ${lt.id ?? lt.name} does not exist (Service: AmazonEC2; Status Code: 400; Error Code: InvalidLaunchTemplateId.NotFound; Request ID: ${uuid()}; Proxy: null)`, f);
            launchTemplate = { id: found.id, name: found.name, version: found.version };
          } else {
            launchTemplate = { id: lt.id ?? `lt-${hex(17)}`, name: lt.name ?? lt.id, version: lt.version ?? '1' };
          }
        }
        const capacityType: string = input.capacityType ?? 'ON_DEMAND';
        const id = uuid();
        const now = iso(ctx);
        const tx = e.lc.newTx('nodegroup', 'create');
        const doc: any = {
          nodegroupName: name,
          nodegroupArn: arn(scope, `nodegroup/${cname}/${name}/${id}`),
          clusterName: cname,
          version,
          releaseVersion,
          createdAt: now,
          modifiedAt: now,
          status: 'CREATING',
          capacityType,
          scalingConfig: scaling,
          instanceTypes: input.instanceTypes ?? (lt ? undefined : ['t3.medium']),
          subnets,
          remoteAccess: input.remoteAccess,
          amiType,
          nodeRole: input.nodeRole,
          labels: input.labels ?? {},
          taints: input.taints,
          resources: input.remoteAccess?.ec2SshKey && !input.remoteAccess.sourceSecurityGroups?.length ? { remoteAccessSecurityGroup: `sg-${hex(17)}` } : undefined,
          diskSize: lt ? undefined : (input.diskSize ?? (amiType.startsWith('WINDOWS') ? 50 : 20)),
          health: { issues: [] },
          updateConfig: input.updateConfig ?? { maxUnavailable: 1 },
          nodeRepairConfig: input.nodeRepairConfig,
          warmPoolConfig: input.warmPoolConfig,
          launchTemplate,
          tags: input.tags ?? {},
          _id: id,
          _key: key,
          _tx: tx,
        };
        try {
          await deps.state.commit([{ op: 'create', key, doc }, ...nodeAccessEntryOps(e, ctx, c, input.nodeRole, amiType.startsWith('WINDOWS') ? 'EC2_WINDOWS' : 'EC2_LINUX')]);
        } catch {
          throw inUse(`NodeGroup already exists with name ${name} and cluster name ${cname}`, f);
        }
        const accepted = deps.state.get(key) ?? doc;
        // EKS builds the group's Auto Scaling group at once: its instances boot while the node group is CREATING.
        const launched = await launchNodegroup(e, scope, doc);
        await deps.state.mutate<any>(key, (cur) => (cur && cur._id === id && cur.status === 'CREATING' ? { ...cur, ...launched } : cur));
        await e.lc.begin(key, tx);
        return { nodegroup: accepted };
      }),

    DescribeNodegroup: (input: any, ctx: RequestContext) => ({ nodegroup: out(getNodegroup(e, ctx, input.clusterName, input.nodegroupName)) }),

    ListNodegroups: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const names = deps.state.list<any>(childPrefix(scopeOf(ctx), 'nodegroup', input.clusterName)).map((n) => n.nodegroupName as string);
      const { page, nextToken } = paginate(names, (n) => n, input.maxResults, input.nextToken);
      return { nodegroups: page, nextToken };
    },

    DeleteNodegroup: async (input: any, ctx: RequestContext) => {
      const ng = getNodegroup(e, ctx, input.clusterName, input.nodegroupName);
      if (ng.status === 'DELETING') return { nodegroup: out(ng) };
      const busy = inProgressUpdate(e, scopeOf(ctx), input.clusterName, { kind: 'nodegroup', name: input.nodegroupName });
      if (busy) throw inUse(`Cannot delete because nodegroup ${input.nodegroupName} currently has update ${busy.id} in progress`, ngFields(input.clusterName, input.nodegroupName));
      // With a data plane, EKS scales the group to zero and drains each node
      // before Auto Scaling terminates it (sim/controllers/nodegroup-scale-in.ts
      // completes the deletion once the group is empty).
      const asg: string | undefined = ng.resources?.autoScalingGroups?.[0]?.name;
      const drain = !!(e.deps.nodegroupRollouts && asg);
      const tx = e.lc.newTx('nodegroup', 'delete', drain ? { until: deps.clock.nowMs() + ROLLOUT_HOLD_MS[e.deps.config.timingProfile]!, patch: { _drain: true } } : {});
      const next = { ...ng, status: 'DELETING', modifiedAt: iso(ctx), _tx: tx };
      await deps.state.commit([{ op: 'put', key: ng._key, doc: next }]);
      if (drain) await e.refs.updateNodegroupAsg(scopeOf(ctx), asg!, { min: 0, max: 0, desired: 0 });
      await e.lc.begin(ng._key, tx);
      return { nodegroup: out(next) };
    },

    UpdateNodegroupConfig: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.nodegroupName}`, input.clientRequestToken, async () => {
        const ng = getNodegroup(e, ctx, input.clusterName, input.nodegroupName);
        ensureNoUpdateInProgress(e, ctx, input.clusterName, { kind: 'nodegroup', name: input.nodegroupName }, 'ConfigUpdate');
        const f = ngFields(input.clusterName, input.nodegroupName);
        if (ng.status !== 'ACTIVE' && ng.status !== 'DEGRADED' && ng.status !== 'UPDATING') throw invalidParameter(`Nodegroup ${input.nodegroupName} is not in ACTIVE status`, f);
        const params: { type: string; value: string }[] = [];
        const patch: Record<string, unknown> = {};
        if (input.labels) {
          const add = input.labels.addOrUpdateLabels ?? {};
          const rm: string[] = input.labels.removeLabels ?? [];
          const both = rm.filter((k) => k in add);
          if (both.length) throw invalidParameter(`The following labels were specified in both add and remove: ${both.join(', ')}`, f);
          validateLabels(add, f);
          const labels = { ...ng.labels, ...add };
          for (const k of rm) delete labels[k];
          patch.labels = labels;
          if (Object.keys(add).length) params.push({ type: 'LabelsToAdd', value: JSON.stringify(add) });
          if (rm.length) params.push({ type: 'LabelsToRemove', value: JSON.stringify(rm) });
        }
        if (input.taints) {
          const add: any[] = input.taints.addOrUpdateTaints ?? [];
          const rm: any[] = input.taints.removeTaints ?? [];
          validateTaints(add, f);
          const same = (a: any, b: any) => a.key === b.key && a.effect === b.effect;
          let taints: any[] = [...(ng.taints ?? [])];
          for (const r of rm) taints = taints.filter((t) => !(t.key === r.key && (!r.effect || t.effect === r.effect)));
          for (const a of add) taints = [...taints.filter((t) => !same(t, a)), a];
          if (taints.length > 50) throw invalidParameter('Nodegroup cannot have more than 50 taints', f);
          patch.taints = taints;
          if (add.length) params.push({ type: 'TaintsToAdd', value: JSON.stringify(add) });
          if (rm.length) params.push({ type: 'TaintsToRemove', value: JSON.stringify(rm) });
        }
        if (input.scalingConfig) {
          const s = { ...ng.scalingConfig, ...input.scalingConfig };
          validateScaling(s, f);
          patch.scalingConfig = s;
          if (input.scalingConfig.minSize !== undefined) params.push({ type: 'MinSize', value: String(s.minSize) });
          if (input.scalingConfig.maxSize !== undefined) params.push({ type: 'MaxSize', value: String(s.maxSize) });
          if (input.scalingConfig.desiredSize !== undefined) params.push({ type: 'DesiredSize', value: String(s.desiredSize) });
        }
        if (input.updateConfig) {
          validateUpdateConfig(input.updateConfig, f);
          const u: any = { ...input.updateConfig };
          if (u.updateStrategy === undefined && ng.updateConfig?.updateStrategy) u.updateStrategy = ng.updateConfig.updateStrategy;
          if (u.maxUnavailable === undefined && u.maxUnavailablePercentage === undefined) {
            if (ng.updateConfig?.maxUnavailable !== undefined) u.maxUnavailable = ng.updateConfig.maxUnavailable;
            else if (ng.updateConfig?.maxUnavailablePercentage !== undefined) u.maxUnavailablePercentage = ng.updateConfig.maxUnavailablePercentage;
          }
          patch.updateConfig = u;
          if (u.maxUnavailable !== undefined) params.push({ type: 'MaxUnavailable', value: String(u.maxUnavailable) });
          if (u.maxUnavailablePercentage !== undefined) params.push({ type: 'MaxUnavailablePercentage', value: String(u.maxUnavailablePercentage) });
          if (input.updateConfig.updateStrategy) params.push({ type: 'UpdateStrategy', value: input.updateConfig.updateStrategy });
        }
        if (input.nodeRepairConfig) {
          patch.nodeRepairConfig = input.nodeRepairConfig;
          params.push({ type: 'NodeRepairEnabled', value: String(!!input.nodeRepairConfig.enabled) });
        }
        if (input.warmPoolConfig) {
          patch.warmPoolConfig = input.warmPoolConfig;
          params.push({ type: 'WarmPoolEnabled', value: String(!!input.warmPoolConfig.enabled) });
        }
        if (params.length === 0 && Object.keys(patch).length === 0) throw invalidParameter('No changes needed for the nodegroup config provided', f);
        const update = await startUpdate(e, ctx, {
          cluster: input.clusterName,
          target: { kind: 'nodegroup', name: input.nodegroupName },
          resourceKey: ng._key,
          kind: 'nodegroup',
          type: 'ConfigUpdate',
          params,
          patch,
        });
        return { update };
      }),

    UpdateNodegroupVersion: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.nodegroupName}`, input.clientRequestToken, async () => {
        const ng = getNodegroup(e, ctx, input.clusterName, input.nodegroupName);
        ensureNoUpdateInProgress(e, ctx, input.clusterName, { kind: 'nodegroup', name: input.nodegroupName }, 'VersionUpdate');
        const c = getCluster(e, ctx, input.clusterName);
        const f = ngFields(input.clusterName, input.nodegroupName);
        if (ng.status !== 'ACTIVE' && ng.status !== 'DEGRADED' && ng.status !== 'UPDATING') throw invalidParameter(`Nodegroup ${input.nodegroupName} is not in ACTIVE status`, f);
        const params: { type: string; value: string }[] = [];
        const patch: Record<string, unknown> = {};
        if (input.launchTemplate) {
          if (!ng.launchTemplate) throw invalidParameter('A launch template can only be updated on node groups created with a launch template', f);
          if (input.version || input.releaseVersion) throw invalidParameter('Version and ReleaseVersion updates cannot be combined with other updates', f);
          const lt = input.launchTemplate;
          if ((lt.id && lt.id !== ng.launchTemplate.id) || (lt.name && lt.name !== ng.launchTemplate.name)) throw invalidParameter('The launch template of a node group cannot be changed, only its version', f);
          let version = String(lt.version ?? ng.launchTemplate.version);
          if (e.refs.checks) {
            const found = await e.refs.launchTemplate(scopeOf(ctx), { id: ng.launchTemplate.id, version });
            if (!found) throw invalidParameter(`The launch template version ${version} does not exist`, f);
            version = found.version;
          }
          patch.launchTemplate = { ...ng.launchTemplate, version };
          params.push({ type: 'LaunchTemplateName', value: ng.launchTemplate.name }, { type: 'LaunchTemplateVersion', value: version });
        } else {
          const version: string = input.version ?? c.version;
          if (!kubeVersion(version)) throw invalidParameter(`Requested Nodegroup version ${version} is invalid.`, f);
          if (minorOf(version) > minorOf(c.version)) throw invalidParameter(`Requested Nodegroup version ${version} is invalid. Nodegroup version cannot be greater than cluster version ${c.version}.`, f);
          if (ng.amiType.startsWith('AL2_') && minorOf(version) >= 33) throw invalidParameter(`AMI Type ${ng.amiType} is only supported for kubernetes versions 1.32 or earlier`, f);
          if (minorOf(version) < minorOf(ng.version)) throw invalidParameter(`Requested Nodegroup version ${version} is invalid. Nodegroups cannot be downgraded from ${ng.version}.`, f);
          const releaseVersion: string = input.releaseVersion ?? releaseVersionFor(version, ng.amiType);
          if (input.releaseVersion && !ng.amiType.startsWith('BOTTLEROCKET') && !ng.amiType.startsWith('WINDOWS') && !input.releaseVersion.startsWith(`${version}.`)) {
            throw invalidParameter(`Requested release version ${input.releaseVersion} is not valid for kubernetes version ${version}.`, f);
          }
          if (version === ng.version && releaseVersion === ng.releaseVersion) {
            throw invalidParameter(`Nodegroup ${input.nodegroupName} is already at version ${version} with release version ${releaseVersion}`, f);
          }
          patch.version = version;
          patch.releaseVersion = releaseVersion;
          params.push({ type: 'Version', value: version }, { type: 'ReleaseVersion', value: releaseVersion });
        }
        // With a data plane, EKS's setup phase happens here and the data plane replaces the nodes (sim/controllers/nodegroup-rollout.ts).
        let rollout: Record<string, unknown> | undefined;
        if (e.deps.nodegroupRollouts) {
          const amiId = patch.releaseVersion ? nodegroupAmiId(ng.amiType, patch.releaseVersion as string) : undefined;
          const desired = ng.scalingConfig?.desiredSize ?? 1;
          const u = ng.updateConfig ?? {};
          const maxUnavailable = Math.min(100, u.maxUnavailable ?? (u.maxUnavailablePercentage ? Math.max(1, Math.floor((u.maxUnavailablePercentage * desired) / 100)) : 1));
          rollout = await e.refs.prepareNodegroupRollout(scopeOf(ctx), {
            asg: ng.resources?.autoScalingGroups?.[0]?.name,
            ownTemplateId: ng._launchTemplateId,
            userTemplate: patch.launchTemplate ? { id: ng.launchTemplate.id, version: (patch.launchTemplate as any).version } : undefined,
            amiId,
            maxUnavailable,
            strategy: u.updateStrategy === 'MINIMAL' ? 'MINIMAL' : 'DEFAULT',
          });
          if (rollout && amiId) patch._amiVersions = { ...(ng._amiVersions ?? {}), [amiId]: { version: patch.version, releaseVersion: patch.releaseVersion } };
        }
        const update = await startUpdate(e, ctx, {
          cluster: input.clusterName,
          target: { kind: 'nodegroup', name: input.nodegroupName },
          resourceKey: ng._key,
          kind: 'nodegroup',
          type: 'VersionUpdate',
          params,
          patch: { ...patch, _force: !!input.force, ...(rollout ? { _rollout: rollout } : {}) },
          ...(rollout ? { holdMs: ROLLOUT_HOLD_MS[e.deps.config.timingProfile] } : {}),
        });
        return { update };
      }),
  };
}

/**
 * launchNodegroup makes a new node group's launch template (unless it has
 * its own) and Auto Scaling group; returns the members to store on the node
 * group: `resources`, the launch template EKS made, and `_launchError` when
 * either could not be made (the group ends CREATE_FAILED with it).
 */
async function launchNodegroup(e: EksContext, scope: { accountId: string; region: string }, doc: any): Promise<Record<string, unknown>> {
  const asgName = `eks-${doc.nodegroupName}-${doc._id}`;
  const made = await e.refs.createNodegroupAsg(scope, {
    name: asgName,
    min: doc.scalingConfig.minSize,
    max: doc.scalingConfig.maxSize,
    desired: doc.scalingConfig.desiredSize,
    subnets: doc.subnets,
    launchTemplate: doc.launchTemplate ? { id: doc.launchTemplate.id, version: doc.launchTemplate.version } : undefined,
    instanceTypes: doc.instanceTypes,
    capacityType: doc.capacityType,
    amiId: nodegroupAmiId(doc.amiType, doc.releaseVersion),
    diskSize: doc.diskSize,
    ltName: `eks-${doc._id}`,
    tags: {
      'eks:cluster-name': doc.clusterName,
      'eks:nodegroup-name': doc.nodegroupName,
      [`k8s.io/cluster-autoscaler/${doc.clusterName}`]: 'owned',
      'k8s.io/cluster-autoscaler/enabled': 'true',
      [`kubernetes.io/cluster/${doc.clusterName}`]: 'owned',
    },
  });
  const out: Record<string, unknown> = { resources: { ...(doc.resources ?? {}), autoScalingGroups: [{ name: asgName }] } };
  if (made.createdLaunchTemplateId) {
    out._launchTemplateId = made.createdLaunchTemplateId;
    out._amiVersions = { [nodegroupAmiId(doc.amiType, doc.releaseVersion)]: { version: doc.version, releaseVersion: doc.releaseVersion } };
  }
  if (made.error && e.refs.checks) out._launchError = { ...made.error, resourceIds: [asgName] };
  return out;
}

/**
 * nodegroupAmiId is the AMI id of an EKS-optimized image of an AMI type and
 * release (stable, so every node group on the same release boots the same image).
 */
export function nodegroupAmiId(amiType: string, releaseVersion: string): string {
  return `ami-${createHash('sha256').update(`${amiType}/${releaseVersion}`).digest('hex').slice(0, 17)}`;
}

async function completeNodegroup(e: EksContext, key: string, doc: any, tx: Tx): Promise<StateOp[]> {
  const [, , , accountId, region] = key.split('/');
  const scope = { accountId: accountId!, region: region! };
  if (tx.op === 'create') {
    // Launched by CreateNodegroup; a group stored before that was done (or by an older server) is launched now.
    const next = { ...doc, ...(doc.resources?.autoScalingGroups ? {} : await launchNodegroup(e, scope, doc)) };
    delete next._tx;
    const launchError = next._launchError;
    delete next._launchError;
    if (doc.resources?.remoteAccessSecurityGroup && e.refs.checks) {
      const sg = await e.refs.createRemoteAccessSecurityGroup(scope, doc.subnets[0], doc._id);
      if (sg) {
        next.resources.remoteAccessSecurityGroup = sg;
        next._remoteSgManaged = true;
      }
    }
    next.status = 'ACTIVE';
    if (launchError) {
      // EKS reports what went wrong building the group and leaves it CREATE_FAILED.
      next.status = 'CREATE_FAILED';
      next.health = { issues: [launchError] };
    }
    next.modifiedAt = e.deps.clock.now().toISOString();
    return [{ op: 'put', key, doc: next }];
  }
  if (tx.op === 'update') {
    const rollout = tx.patch?._rollout as { phase?: string } | undefined;
    if (rollout && rollout.phase !== 'done' && !tx.fail) {
      // The data plane never finished replacing the nodes (see ROLLOUT_HOLD_MS).
      tx = { ...tx, fail: { errorCode: 'Unknown', errorMessage: 'The node group update timed out before every node was replaced' } };
    }
    const s = tx.patch?.scalingConfig as any;
    const asg = doc.resources?.autoScalingGroups?.[0]?.name;
    if (s && asg && !tx.fail) await e.refs.updateNodegroupAsg(scope, asg, { min: s.minSize, max: s.maxSize, desired: s.desiredSize });
    return finishUpdateOps(e, key, doc, tx, 'ACTIVE', (d) => {
      delete d._force;
      delete d._rollout;
      // A failed rollout keeps the AMIs it knew (nodes launched from the new one may remain).
      if (tx.fail && (tx.patch as any)?._amiVersions) d._amiVersions = { ...(tx.patch as any)._amiVersions, ...(doc._amiVersions ?? {}) };
    });
  }
  for (const g of doc.resources?.autoScalingGroups ?? []) await e.refs.deleteNodegroupAsg(scope, g.name);
  if (doc._launchTemplateId) await e.refs.deleteLaunchTemplate(scope, doc._launchTemplateId);
  if (doc._remoteSgManaged && doc.resources?.remoteAccessSecurityGroup) await e.refs.deleteSecurityGroup(scope, doc.resources.remoteAccessSecurityGroup);
  return [{ op: 'delete', key }];
}
