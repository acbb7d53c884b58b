/**
 * CustomResourceDefinitions (apiextensions.k8s.io/v1): the CRD strategy
 * (defaults, validation, immediate NamesAccepted/Established conditions, the
 * cleanup finalizer), the strategy of custom resources (pruning, defaulting
 * and validation from the structural schema), and the per-cluster CRD
 * controller that adds served versions to the cluster's Scheme (so they
 * appear in discovery at once) and deletes custom resources when their CRD
 * goes away.
 */
import { type CustomResourceInfo, type Resource, type Scheme, ALL_VERBS } from '../api/scheme.ts';
import type { KObject } from '../api/types.ts';
import { type FieldError, fieldErr, isStatusError } from './errors.ts';
import type { ClusterRegistry } from './registry/generic-store.ts';
import { pruneAndDefault, validateStructural } from './registry/structural.ts';
import { celRuleCompileErrors, validateCelRules } from './registry/cel-validation.ts';
import type { Strategy } from './registry/strategies.ts';
import { isDNS1035Label, isDNS1123Subdomain } from './validation.ts';

export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

function timestampNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function acceptedConditions(): Array<Record<string, string>> {
  const t = timestampNow();
  return [
    { type: 'NamesAccepted', status: 'True', lastTransitionTime: t, reason: 'NoConflicts', message: 'no conflicts found' },
    { type: 'Established', status: 'True', lastTransitionTime: t, reason: 'InitialNamesAccepted', message: 'the initial names have been accepted' },
  ];
}

function storageVersion(crd: KObject): string | undefined {
  return (crd.spec?.versions ?? []).find((v: any) => v.storage)?.name;
}

/** The strategy of CustomResourceDefinitions. */
export const crdStrategy: Strategy = {
  name: isDNS1123Subdomain,
  defaults(obj) {
    const s = (obj.spec ??= {});
    s.names ??= {};
    if (s.names.kind) {
      s.names.singular ??= String(s.names.kind).toLowerCase();
      s.names.listKind ??= `${s.names.kind}List`;
    }
    s.conversion ??= { strategy: 'None' };
    for (const v of s.versions ?? []) {
      if (v && typeof v === 'object' && (v.additionalPrinterColumns ?? []).length === 0) {
        v.additionalPrinterColumns = undefined;
        delete v.additionalPrinterColumns;
      }
    }
  },
  prepareForCreate(obj) {
    obj.status = { conditions: acceptedConditions(), acceptedNames: obj.spec?.names ?? {}, storedVersions: [storageVersion(obj)].filter(Boolean) };
    const f = new Set<string>(obj.metadata?.finalizers ?? []);
    f.add(CRD_CLEANUP_FINALIZER);
    obj.metadata!.finalizers = [...f];
  },
  prepareForUpdate(obj, old) {
    const stored = new Set<string>(old.status?.storedVersions ?? []);
    const sv = storageVersion(obj);
    if (sv) stored.add(sv);
    obj.status = { ...(old.status ?? {}), acceptedNames: obj.spec?.names ?? {}, storedVersions: [...stored] };
  },
  validate(obj) {
    const errs: FieldError[] = [];
    const s = obj.spec ?? {};
    const n = s.names ?? {};
    if (!s.group) errs.push(fieldErr.required('spec.group', ''));
    else if (!String(s.group).includes('.')) errs.push(fieldErr.invalid('spec.group', s.group, 'should be a domain with at least one dot'));
    if (!n.plural) errs.push(fieldErr.required('spec.names.plural', ''));
    if (!n.kind) errs.push(fieldErr.required('spec.names.kind', ''));
    if (n.plural && s.group && obj.metadata?.name !== `${n.plural}.${s.group}`) errs.push(fieldErr.invalid('metadata.name', obj.metadata?.name, 'must be spec.names.plural+"."+spec.group'));
    if (s.scope !== 'Namespaced' && s.scope !== 'Cluster') errs.push(fieldErr.notSupported('spec.scope', s.scope ?? '', ['Cluster', 'Namespaced']));
    const versions: any[] = s.versions ?? [];
    if (versions.length === 0) errs.push(fieldErr.invalid('spec.versions', versions, 'must have exactly one version marked as storage version'));
    else if (versions.filter((v) => v?.storage).length !== 1) errs.push(fieldErr.invalid('spec.versions', '', 'must have exactly one version marked as storage version'));
    versions.forEach((v, i) => {
      if (!v?.name) errs.push(fieldErr.required(`spec.versions[${i}].name`, ''));
      else for (const m of isDNS1035Label(v.name)) errs.push(fieldErr.invalid(`spec.versions[${i}].name`, v.name, m));
      if (typeof v?.served !== 'boolean') errs.push(fieldErr.required(`spec.versions[${i}].served`, ''));
      const schema = v?.schema?.openAPIV3Schema;
      if (!schema) errs.push(fieldErr.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
      else if (schema.type !== 'object') errs.push(fieldErr.invalid(`spec.versions[${i}].schema.openAPIV3Schema.type`, schema.type ?? '', 'must be object at the root'));
      if (schema) errs.push(...celRuleCompileErrors(schema, `spec.versions[${i}].schema.openAPIV3Schema`));
    });
    return errs;
  },
  validateUpdate(obj, old) {
    const errs = crdStrategy.validate!(obj);
    if (obj.spec?.group !== old.spec?.group) errs.push(fieldErr.invalid('spec.group', obj.spec?.group, 'field is immutable'));
    if (obj.spec?.names?.plural !== old.spec?.names?.plural) errs.push(fieldErr.invalid('spec.names.plural', obj.spec?.names?.plural, 'field is immutable'));
    if (obj.spec?.scope !== old.spec?.scope) errs.push(fieldErr.invalid('spec.scope', obj.spec?.scope, 'field is immutable'));
    return errs;
  },
};

const customStrategies = new WeakMap<Resource, Strategy>();

/** The strategy of one custom resource version. */
export function customStrategy(res: Resource): Strategy {
  let s = customStrategies.get(res);
  if (s) return s;
  const info = res.custom!;
  s = {
    name: isDNS1123Subdomain,
    defaults(obj) {
      if (info.schema) pruneAndDefault(info.schema, obj, true);
    },
    prepareForCreate(obj) {
      if (info.statusSubresource) delete obj.status;
    },
    validate(obj) {
      return info.schema ? [...validateStructural(info.schema, obj, '', true), ...validateCelRules(info.schema, obj)] : [];
    },
    validateUpdate(obj, old) {
      return info.schema ? [...validateStructural(info.schema, obj, '', true), ...validateCelRules(info.schema, obj, old)] : [];
    },
  };
  customStrategies.set(res, s);
  return s;
}

/** The Resources a CRD serves (one per served version). */
export function resourcesFromCrd(crd: KObject): Resource[] {
  const s = crd.spec ?? {};
  const n = s.names ?? {};
  const versions: any[] = s.versions ?? [];
  const out: Resource[] = [];
  const storage = storageVersion(crd);
  // The preferred version is the highest-priority served version; kube orders by version priority.
  const served = versions.filter((v) => v.served);
  const pref = [...served].sort((a, b) => versionPriority(b.name) - versionPriority(a.name))[0]?.name;
  for (const v of served) {
    const subs = v.subresources ?? {};
    const info: CustomResourceInfo = {
      schema: v.schema?.openAPIV3Schema,
      statusSubresource: !!subs.status,
      scale: subs.scale ? { specReplicasPath: subs.scale.specReplicasPath, statusReplicasPath: subs.scale.statusReplicasPath, labelSelectorPath: subs.scale.labelSelectorPath } : undefined,
      printerColumns: v.additionalPrinterColumns ?? [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
      crdName: crd.metadata?.name ?? '',
    };
    const subresources = [];
    if (info.statusSubresource) subresources.push({ name: 'status', group: s.group, version: v.name, kind: n.kind, verbs: ['get', 'patch', 'update'] });
    if (info.scale) subresources.push({ name: 'scale', group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
    out.push({
      group: s.group,
      version: v.name,
      resource: n.plural,
      singular: n.singular ?? String(n.kind).toLowerCase(),
      kind: n.kind,
      listKind: n.listKind ?? `${n.kind}List`,
      namespaced: s.scope === 'Namespaced',
      verbs: [...ALL_VERBS],
      shortNames: n.shortNames ?? [],
      categories: n.categories ?? [],
      subresources,
      storageResource: `${s.group}/${n.plural}`,
      tracksGeneration: true,
      preferred: v.name === pref,
      crd: true,
      custom: info,
    });
    void storage;
  }
  return out;
}

/** Kubernetes version priority (v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > others). */
export function versionPriority(v: string): number {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return 0;
  const major = Number(m[1]);
  const stage = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
  return stage * 1e8 + major * 1e4 + Number(m[3] ?? 0);
}

interface Log {
  warn(obj: unknown, msg?: string): void;
}

/** Keeps a cluster's Scheme in step with its CRDs; cleans up custom resources of deleted CRDs. */
export class CrdController {
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private readonly served = new Map<string, string>(); // crd name -> group/plural
  private readonly cleaning = new Set<string>();

  constructor(
    private readonly reg: ClusterRegistry,
    private readonly scheme: Scheme,
    private readonly log: Log,
  ) {}

  start(): void {
    void this.reg.cache.ready().then(() => {
      if (this.stopped) return;
      this.unsubscribe = this.reg.cache.addWatcher({
        resource: 'apiextensions.k8s.io/customresourcedefinitions',
        namespace: '',
        onEvents: (evs) => {
          for (const e of evs) this.observe(e.type === 'DELETED' ? undefined : e.obj, e.obj);
        },
        onClose: () => {
          this.unsubscribe = undefined;
          if (!this.stopped) setTimeout(() => this.start(), 1000).unref();
        },
      });
      for (const e of this.reg.cache.list('apiextensions.k8s.io/customresourcedefinitions', '')) this.observe(e.obj, e.obj);
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
  }

  private observe(crd: KObject | undefined, last: KObject): void {
    const name = last.metadata?.name ?? '';
    const prev = this.served.get(name);
    if (prev) {
      const [g, ...rest] = prev.split('/');
      this.scheme.remove(g!, rest.join('/'));
      this.served.delete(name);
    }
    if (!crd) return;
    const established = (crd.status?.conditions ?? []).some((c: any) => c.type === 'Established' && c.status === 'True');
    if (established) {
      for (const r of resourcesFromCrd(crd)) this.scheme.add(r);
      this.served.set(name, `${crd.spec.group}/${crd.spec.names.plural}`);
    }
    if (crd.metadata?.deletionTimestamp && (crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) void this.cleanup(crd);
  }

  private async cleanup(crd: KObject): Promise<void> {
    const name = crd.metadata!.name!;
    if (this.cleaning.has(name)) return;
    this.cleaning.add(name);
    try {
      const res = resourcesFromCrd(crd)[0];
      if (res) {
        const items = await this.reg.backend.range({ prefix: `${this.reg.prefix}${res.storageResource}/` });
        for (const kv of items.kvs) {
          const o = JSON.parse(kv.value) as KObject;
          try {
            await this.reg.delete(res, o.metadata?.namespace ?? '', o.metadata!.name!, {});
          } catch (e) {
            if (!isStatusError(e, 'NotFound')) throw e;
          }
        }
        const left = await this.reg.backend.range({ prefix: `${this.reg.prefix}${res.storageResource}/`, countOnly: true });
        if (left.count > 0) {
          setTimeout(() => {
            this.cleaning.delete(name);
            const cur = this.reg.cache.list('apiextensions.k8s.io/customresourcedefinitions', '').find((e) => e.obj.metadata?.name === name);
            if (cur) this.observe(cur.obj, cur.obj);
          }, 1000).unref();
          return;
        }
      }
      const crdRes = this.scheme.get('apiextensions.k8s.io', 'v1', 'customresourcedefinitions')!;
      await this.reg.guaranteedUpdate(crdRes, '', name, (c) => {
        if (!c) return c as unknown as KObject;
        c.metadata!.finalizers = (c.metadata!.finalizers ?? []).filter((f: string) => f !== CRD_CLEANUP_FINALIZER);
        c.metadata!.resourceVersion = '';
        return c;
      });
      this.cleaning.delete(name);
    } catch (e) {
      this.cleaning.delete(name);
      if (!isStatusError(e, 'NotFound')) this.log.warn({ err: e, crd: name }, 'crd cleanup');
    }
  }
}
