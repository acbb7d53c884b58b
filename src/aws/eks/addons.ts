/**
 * EKS add-ons: CreateAddon, DescribeAddon, ListAddons, UpdateAddon,
 * DeleteAddon, DescribeAddonVersions and DescribeAddonConfiguration.
 *
 * Versions must be compatible with the cluster's Kubernetes version when
 * installed or updated; a control-plane upgrade does NOT upgrade add-ons
 * (upgrade insights report the ones left incompatible). An add-on whose
 * service account role does not exist ends DEGRADED with a health issue.
 */
import type { StateOp } from '../core/state.ts';
import type { RequestContext } from '../core/types.ts';
import { ADDONS, ADDON_APPLY_WINDOW_MS, CONTROLLER_ISSUE_CODES, KUBE_MODELED_ADDONS, addonDef, addonRemovalKey, compatibleVersions, defaultAddonVersion, isCompatible, validateConfigurationValues } from './addon-catalogue.ts';
import { arn, childKey, childPrefix, type EksContext, idempotent, inUse, invalidParameter, iso, notFound, out, paginate, scopeOf, uuid, validateTags } from './common.ts';
import { checkRole, getCluster } from './clusters.ts';
import type { Tx } from './lifecycle.ts';
import { podIdentityDoc } from './pod-identity.ts';
import { ensureNoUpdateInProgress, finishUpdateOps, startUpdate } from './updates.ts';
import { KUBE_VERSIONS } from './versions.ts';

function adFields(cluster: string, addon: string) {
  return { clusterName: cluster, addonName: addon };
}

export function addonOperations(e: EksContext) {
  const { deps } = e;
  e.lc.register('addon', (key, doc, tx) => completeAddon(e, key, doc, tx));

  const get = (ctx: RequestContext, cluster: string, name: string) => {
    getCluster(e, ctx, cluster);
    const d = deps.state.get<any>(childKey(scopeOf(ctx), 'addon', cluster, name));
    if (!d) throw notFound(`No addon: ${name} found in cluster: ${cluster}`, adFields(cluster, name));
    return d;
  };

  /** Pod identity associations requested for an add-on: validated, as docs to store. */
  const podIdentities = async (ctx: RequestContext, cluster: string, def: NonNullable<ReturnType<typeof addonDef>>, addonArn: string, list: any[] | undefined, f: any) => {
    const docs: any[] = [];
    for (const p of list ?? []) {
      if (def.serviceAccount && p.serviceAccount !== def.serviceAccount) {
        throw invalidParameter(`Service account ${p.serviceAccount} is not supported by addon ${def.addonName}. Supported service accounts: [${def.serviceAccount}]`, f);
      }
      if (!def.serviceAccount) throw invalidParameter(`Addon ${def.addonName} does not support pod identity associations`, f);
      await checkRole(e, p.roleArn, f);
      docs.push(podIdentityDoc(scopeOf(ctx), cluster, iso(ctx), { namespace: def.defaultNamespace, serviceAccount: p.serviceAccount, roleArn: p.roleArn, ownerArn: addonArn }));
    }
    return docs;
  };

  /** Gives the data plane's add-on controller time to check a pending update against the cluster (ADDON_APPLY_WINDOW_MS). */
  const widenApplyWindow = async (key: string, name: string) => {
    if (e.lc.instant || !KUBE_MODELED_ADDONS.has(name)) return;
    const tx = deps.state.get<any>(key)?._tx;
    const min = deps.clock.nowMs() + ADDON_APPLY_WINDOW_MS;
    if (!tx || tx.until >= min) return;
    const ntx = { ...tx, until: min };
    await deps.state.mutate<any>(key, (d) => (d && d._tx?.id === tx.id ? { ...d, _tx: ntx } : d));
    await e.lc.begin(key, ntx);
  };

  return {
    CreateAddon: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.addonName}`, input.clientRequestToken, async () => {
        const scope = scopeOf(ctx);
        const cname: string = input.clusterName;
        const name: string = input.addonName;
        const f = adFields(cname, name);
        const c = getCluster(e, ctx, cname);
        const key = childKey(scope, 'addon', cname, name);
        if (deps.state.get(key)) throw inUse('Addon already exists.', f);
        if (c.status !== 'ACTIVE' && c.status !== 'UPDATING') throw invalidParameter(`Cluster ${cname} is not in ACTIVE status`, f);
        const def = addonDef(name);
        if (!def) throw invalidParameter(`Addon ${name} specified is not supported in ${c.version} kubernetes version`, f);
        validateTags(input.tags);
        const version: string = input.addonVersion ?? defaultAddonVersion(def, c.version) ?? '';
        if (!version || !def.versions.some((v) => v.addonVersion === version)) throw invalidParameter(`Addon version specified is not supported`, f);
        if (!isCompatible(def, version, c.version)) throw invalidParameter(`Addon version ${version} is not supported for Kubernetes version ${c.version}`, f);
        if (input.configurationValues) {
          const err = validateConfigurationValues(def, input.configurationValues);
          if (err) throw invalidParameter(err, f);
        }
        if (input.serviceAccountRoleArn && !def.serviceAccount) throw invalidParameter(`Addon ${name} does not support service account role`, f);
        const addonArn = arn(scope, `addon/${cname}/${name}/${uuid()}`);
        const pods = await podIdentities(ctx, cname, def, addonArn, input.podIdentityAssociations, f);
        const now = iso(ctx);
        const tx = e.lc.newTx('addon', 'create');
        if (!e.lc.instant && KUBE_MODELED_ADDONS.has(name)) tx.until = Math.max(tx.until, deps.clock.nowMs() + ADDON_APPLY_WINDOW_MS);
        const doc: any = {
          addonName: name,
          clusterName: cname,
          status: 'CREATING',
          addonVersion: version,
          health: { issues: [] },
          addonArn,
          createdAt: now,
          modifiedAt: now,
          serviceAccountRoleArn: input.serviceAccountRoleArn,
          tags: input.tags ?? {},
          configurationValues: input.configurationValues,
          podIdentityAssociations: pods.map((p) => p.associationArn),
          owner: 'aws',
          publisher: 'eks',
          namespaceConfig: input.namespaceConfig?.namespace ? { namespace: input.namespaceConfig.namespace } : undefined,
          _resolveConflicts: input.resolveConflicts ?? 'NONE',
          _key: key,
          _tx: tx,
        };
        try {
          await deps.state.commit([{ op: 'create', key, doc }, ...pods.map((p) => ({ op: 'create' as const, key: p._key, doc: p }))]);
        } catch {
          throw inUse('Addon already exists.', f);
        }
        await e.lc.begin(key, tx);
        return { addon: deps.state.get(key) ?? doc };
      }),

    DescribeAddon: (input: any, ctx: RequestContext) => ({ addon: out(get(ctx, input.clusterName, input.addonName)) }),

    ListAddons: (input: any, ctx: RequestContext) => {
      getCluster(e, ctx, input.clusterName);
      const names = deps.state.list<any>(childPrefix(scopeOf(ctx), 'addon', input.clusterName)).map((a) => a.addonName as string);
      const { page, nextToken } = paginate(names, (n) => n, input.maxResults, input.nextToken);
      return { addons: page, nextToken };
    },

    UpdateAddon: (input: any, ctx: RequestContext) =>
      idempotent(e, ctx, `${input.clusterName}:${input.addonName}`, input.clientRequestToken, async () => {
        const a = get(ctx, input.clusterName, input.addonName);
        const c = getCluster(e, ctx, input.clusterName);
        const f = adFields(input.clusterName, input.addonName);
        const def = addonDef(input.addonName)!;
        ensureNoUpdateInProgress(e, ctx, input.clusterName, { kind: 'addon', name: input.addonName }, 'AddonUpdate');
        if (a.status === 'CREATING' || a.status === 'DELETING') throw inUse(`Addon ${input.addonName} is currently ${a.status}`, f);
        const params: { type: string; value: string }[] = [];
        const patch: Record<string, unknown> = {};
        if (input.addonVersion !== undefined) {
          if (!def.versions.some((v) => v.addonVersion === input.addonVersion)) throw invalidParameter('Addon version specified is not supported', f);
          if (!isCompatible(def, input.addonVersion, c.version)) throw invalidParameter(`Addon version ${input.addonVersion} is not supported for Kubernetes version ${c.version}`, f);
          patch.addonVersion = input.addonVersion;
          params.push({ type: 'AddonVersion', value: input.addonVersion });
        }
        if (input.serviceAccountRoleArn !== undefined) {
          if (!def.serviceAccount) throw invalidParameter(`Addon ${input.addonName} does not support service account role`, f);
          patch.serviceAccountRoleArn = input.serviceAccountRoleArn || undefined;
          params.push({ type: 'ServiceAccountRoleArn', value: input.serviceAccountRoleArn });
        }
        if (input.configurationValues !== undefined) {
          if (input.configurationValues) {
            const err = validateConfigurationValues(def, input.configurationValues);
            if (err) throw invalidParameter(err, f);
          }
          patch.configurationValues = input.configurationValues || undefined;
          params.push({ type: 'ConfigurationValues', value: input.configurationValues });
        }
        if (input.resolveConflicts !== undefined) {
          patch._resolveConflicts = input.resolveConflicts;
          params.push({ type: 'ResolveConflicts', value: input.resolveConflicts });
        }
        if (input.podIdentityAssociations !== undefined) {
          const pods = await podIdentities(ctx, input.clusterName, def, a.addonArn, input.podIdentityAssociations, f);
          patch._newPods = pods;
          patch.podIdentityAssociations = pods.map((p) => p.associationArn);
          params.push({ type: 'PodIdentityAssociations', value: JSON.stringify(pods.map((p) => p.associationArn)) });
        }
        const update = await startUpdate(e, ctx, {
          cluster: input.clusterName,
          target: { kind: 'addon', name: input.addonName },
          resourceKey: a._key,
          kind: 'addon',
          type: 'AddonUpdate',
          params,
          patch,
        });
        await widenApplyWindow(a._key, input.addonName);
        return { update };
      }),

    DeleteAddon: async (input: any, ctx: RequestContext) => {
      const a = get(ctx, input.clusterName, input.addonName);
      if (a.status === 'DELETING') return { addon: out(a) };
      const c = getCluster(e, ctx, input.clusterName);
      const tx = e.lc.newTx('addon', 'delete', { patch: { _preserve: !!input.preserve } });
      const next = { ...a, status: 'DELETING', modifiedAt: iso(ctx), _tx: tx };
      const ops: StateOp[] = [{ op: 'put', key: a._key, doc: next }];
      // Without preserve, the add-on's Kubernetes objects go too (the data plane's add-on controller removes them).
      if (!input.preserve) {
        const rkey = addonRemovalKey(scopeOf(ctx), input.clusterName, input.addonName);
        ops.push({ op: 'put', key: rkey, doc: { addonName: a.addonName, clusterName: a.clusterName, clusterUid: c._uid, addonVersion: a._appliedVersion ?? a.addonVersion, configurationValues: a.configurationValues, _key: rkey } });
      }
      await deps.state.commit(ops);
      await e.lc.begin(a._key, tx);
      return { addon: out(next) };
    },

    DescribeAddonVersions: (input: any) => {
      if (input.kubernetesVersion !== undefined && !KUBE_VERSIONS.some((k) => k.version === input.kubernetesVersion)) {
        return { addons: [] };
      }
      let defs = ADDONS;
      if (input.addonName) defs = defs.filter((d) => d.addonName === input.addonName);
      if (input.types?.length) defs = defs.filter((d) => input.types.includes(d.type));
      if (input.publishers?.length) defs = defs.filter((d) => input.publishers.includes(d.publisher));
      if (input.owners?.length) defs = defs.filter((d) => input.owners.includes(d.owner));
      const sorted = [...defs].sort((a, b) => (a.addonName < b.addonName ? -1 : 1));
      const { page, nextToken } = paginate(sorted, (d) => d.addonName, input.maxResults, input.nextToken);
      const kv: string | undefined = input.kubernetesVersion;
      return {
        addons: page.map((d) => ({
          addonName: d.addonName,
          type: d.type,
          owner: d.owner,
          publisher: d.publisher,
          defaultNamespace: d.defaultNamespace,
          addonVersions: d.versions
            .filter((v) => !kv || v.clusterVersions.includes(kv))
            .map((v) => ({
              addonVersion: v.addonVersion,
              architecture: ['amd64', 'arm64'],
              computeTypes: ['ec2', 'auto', 'hybrid'],
              compatibilities: v.clusterVersions
                .filter((cv) => KUBE_VERSIONS.some((k) => k.version === cv) && (!kv || cv === kv))
                .map((cv) => ({ clusterVersion: cv, platformVersions: ['*'], defaultVersion: defaultAddonVersion(d, cv) === v.addonVersion })),
              requiresConfiguration: false,
              requiresIamPermissions: d.requiresIamPermissions,
            })),
        })),
        nextToken,
      };
    },

    DescribeAddonConfiguration: (input: any) => {
      const def = addonDef(input.addonName);
      if (!def) throw notFound(`Addon ${input.addonName} not found`);
      if (!def.versions.some((v) => v.addonVersion === input.addonVersion)) throw invalidParameter(`Addon version ${input.addonVersion} is not supported for addon ${input.addonName}`);
      return {
        addonName: def.addonName,
        addonVersion: input.addonVersion,
        configurationSchema: JSON.stringify({ $ref: '#/definitions/Root', $schema: 'http://json-schema.org/draft-06/schema#', definitions: { Root: def.schema } }),
        podIdentityConfiguration: def.serviceAccount ? [{ serviceAccount: def.serviceAccount, recommendedManagedPolicies: def.recommendedManagedPolicies ?? [] }] : [],
      };
    },
  };
}

/** Compatible add-on versions for a Kubernetes version (used by insights). */
export function compatibleAddonVersions(addonName: string, kubeVersion: string): string[] {
  const def = addonDef(addonName);
  return def ? compatibleVersions(def, kubeVersion) : [];
}

async function completeAddon(e: EksContext, key: string, doc: any, tx: Tx): Promise<StateOp[]> {
  const [, , , accountId, region] = key.split('/');
  const scope = { accountId: accountId!, region: region! };
  const podPrefix = childPrefix(scope, 'podid', doc.clusterName);
  const owned = () => e.deps.state.list<any>(podPrefix).filter((p) => p.ownerArn === doc.addonArn);
  if (tx.op === 'delete') {
    return [{ op: 'delete', key }, ...owned().map((p) => ({ op: 'delete' as const, key: p._key }))];
  }
  const issues: any[] = [];
  const role: string | undefined = tx.op === 'update' && tx.patch && 'serviceAccountRoleArn' in tx.patch ? (tx.patch.serviceAccountRoleArn as string | undefined) : doc.serviceAccountRoleArn;
  if (role && e.refs.checks && !(await e.refs.role(role))) {
    issues.push({ code: 'AccessDenied', message: `Role ${role} does not exist or cannot be assumed by the add-on's service account`, resourceIds: [role] });
  }
  const ops: StateOp[] = [];
  // Issues the data plane's add-on controller found (ConfigurationConflict, InsufficientNumberOfReplicas) stay.
  const kept = ((doc.health?.issues ?? []) as any[]).filter((i) => CONTROLLER_ISSUE_CODES.includes(i.code));
  if (tx.op === 'create') {
    // The add-on controller found conflicting objects while CREATING (resolveConflicts NONE/PRESERVE): the creation fails.
    const conflict: any[] | undefined = doc._conflict;
    const all = [...issues, ...(conflict ?? kept)];
    const next = { ...doc, status: conflict ? 'CREATE_FAILED' : all.length ? 'DEGRADED' : 'ACTIVE', health: { issues: all }, modifiedAt: e.deps.clock.now().toISOString() };
    delete next._tx;
    ops.push({ op: 'put', key, doc: next });
    return ops;
  }
  const newPods: any[] | undefined = tx.patch?._newPods as any[] | undefined;
  // The add-on controller checked the pending change against the cluster and found conflicts it may not resolve.
  const txConflict = doc._txConflict?.txId === tx.id ? doc._txConflict : undefined;
  const ftx: Tx = txConflict ? { ...tx, fail: { errorCode: 'ConfigurationConflict', errorMessage: txConflict.message } } : tx;
  const resultOps = finishUpdateOps(e, key, doc, ftx, issues.length || kept.length ? 'DEGRADED' : 'ACTIVE', (d) => {
    d.health = { issues: [...issues, ...kept.filter((i) => i.code !== 'ConfigurationConflict')] };
    if (d.health.issues.length === 0) d.status = 'ACTIVE';
    delete d._newPods;
    delete d._txConflict;
  });
  if (newPods && !tx.fail) {
    for (const p of owned()) resultOps.push({ op: 'delete', key: p._key });
    for (const p of newPods) resultOps.push({ op: 'put', key: p._key, doc: p });
  }
  return resultOps;
}
