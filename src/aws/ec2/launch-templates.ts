/**
 * Launch templates and their versions. A template document (type
 * `launch-template`) holds the model's LaunchTemplate shape; each version
 * is its own document in the collection `lt-version.<template id>`, keyed
 * by the zero-padded version number, holding a LaunchTemplateVersion.
 */
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput, paginate } from './filters.ts';
import { newId } from './ids.ts';
import { clone, type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

const versionsType = (ltId: string) => `lt-version.${ltId}`;
const versionKey = (n: number) => String(n).padStart(10, '0');

const ltNotFoundById = (id: string) =>
  ec2Error('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${id}, does not exist.`);
const ltNotFoundByName = (name: string) =>
  ec2Error('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${name}, does not exist.`);

/** findLaunchTemplate resolves a template by id or name; throws the NotFound errors EC2 uses. */
export function findLaunchTemplate(store: Ec2Store, ref: { LaunchTemplateId?: string; LaunchTemplateName?: string }): Doc {
  if (ref.LaunchTemplateId) {
    if (!/^lt-[0-9a-f]+$/.test(ref.LaunchTemplateId)) {
      throw ec2Error('InvalidLaunchTemplateId.Malformed', `The specified ID for the launch template (${ref.LaunchTemplateId}) is malformed.`);
    }
    const lt = store.get(T.launchTemplate, ref.LaunchTemplateId);
    if (!lt) throw ltNotFoundById(ref.LaunchTemplateId);
    if (ref.LaunchTemplateName && lt.LaunchTemplateName !== ref.LaunchTemplateName) {
      throw E.combination('Both a launch template ID and a launch template name were specified; specify only one.');
    }
    return lt;
  }
  if (ref.LaunchTemplateName) {
    const lt = store.list(T.launchTemplate).find((t) => t.LaunchTemplateName === ref.LaunchTemplateName);
    if (!lt) throw ltNotFoundByName(ref.LaunchTemplateName);
    return lt;
  }
  throw ec2Error('MissingParameter', 'The request must contain the parameter launchTemplateName or launchTemplateId');
}

function versionNumber(lt: Doc, v: string | number | undefined): number {
  if (v === undefined || v === '$Default') return lt.DefaultVersionNumber;
  if (v === '$Latest') return lt.LatestVersionNumber;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw E.param(`Invalid version: ${v}`);
  return n;
}

/**
 * resolveLaunchTemplateVersion returns the LaunchTemplateVersion of a
 * template (id or name) at a version ($Default when omitted, $Latest, or a
 * number). Throws InvalidLaunchTemplateId.NotFound /
 * InvalidLaunchTemplateName.NotFoundException /
 * InvalidLaunchTemplateId.VersionNotFound.
 */
export function resolveLaunchTemplateVersion(store: Ec2Store, ref: { LaunchTemplateId?: string; LaunchTemplateName?: string; Version?: string }): Doc {
  const lt = findLaunchTemplate(store, ref);
  const n = versionNumber(lt, ref.Version);
  const v = store.get(versionsType(lt.LaunchTemplateId), versionKey(n));
  if (!v) {
    throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find the specified version ${ref.Version ?? n} for the launch template with ID ${lt.LaunchTemplateId}.`);
  }
  return versionView(lt, v);
}

function versionView(lt: Doc, v: Doc): Doc {
  return { ...out(v), CreateTime: new Date(v.CreateTime), DefaultVersion: v.VersionNumber === lt.DefaultVersionNumber };
}

function templateData(input: Doc | undefined): Doc {
  // The response shape uses the request's member names; keep a deep copy.
  return input ? clone(input) : {};
}

export function launchTemplateOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);
  const createdBy = (ctx: RequestContext) => ctx.callerArn || `arn:aws:iam::${ctx.accountId}:root`;

  return {
    async CreateLaunchTemplate(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      const tags = tagsFor(input.TagSpecifications, 'launch-template');
      return store.exclusive(async () => {
        if (store.list(T.launchTemplate).some((t) => t.LaunchTemplateName === input.LaunchTemplateName)) {
          throw ec2Error('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use.`);
        }
        const id = newId('lt');
        const now = ctx.now();
        const lt: Doc = {
          LaunchTemplateId: id,
          LaunchTemplateName: input.LaunchTemplateName,
          CreateTime: now.toISOString(),
          CreatedBy: createdBy(ctx),
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1,
          Tags: tags,
        };
        const v: Doc = {
          LaunchTemplateId: id,
          LaunchTemplateName: input.LaunchTemplateName,
          VersionNumber: 1,
          VersionDescription: input.VersionDescription,
          CreateTime: now.toISOString(),
          CreatedBy: createdBy(ctx),
          LaunchTemplateData: templateData(input.LaunchTemplateData),
        };
        await store.commit([store.put(T.launchTemplate, id, lt), store.put(versionsType(id), versionKey(1), v)]);
        return { LaunchTemplate: ltView(lt) };
      });
    },

    async CreateLaunchTemplateVersion(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const lt = clone(findLaunchTemplate(store, input));
        let data = templateData(input.LaunchTemplateData);
        if (input.SourceVersion !== undefined) {
          const src = store.get(versionsType(lt.LaunchTemplateId), versionKey(versionNumber(lt, input.SourceVersion)));
          if (!src) {
            throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find the specified version ${input.SourceVersion} for the launch template with ID ${lt.LaunchTemplateId}.`);
          }
          data = { ...clone(src.LaunchTemplateData), ...data };
        }
        const n = lt.LatestVersionNumber + 1;
        lt.LatestVersionNumber = n;
        const v: Doc = {
          LaunchTemplateId: lt.LaunchTemplateId,
          LaunchTemplateName: lt.LaunchTemplateName,
          VersionNumber: n,
          VersionDescription: input.VersionDescription,
          CreateTime: ctx.now().toISOString(),
          CreatedBy: createdBy(ctx),
          LaunchTemplateData: data,
        };
        await store.commit([store.put(T.launchTemplate, lt.LaunchTemplateId, lt), store.put(versionsType(lt.LaunchTemplateId), versionKey(n), v)]);
        return { LaunchTemplateVersion: versionView(lt, v) };
      });
    },

    DescribeLaunchTemplates(input: { LaunchTemplateIds?: string[]; LaunchTemplateNames?: string[]; Filters?: FilterInput[]; MaxResults?: number; NextToken?: string }, ctx: RequestContext) {
      const store = st(ctx);
      let docs = store.list(T.launchTemplate);
      if (input.LaunchTemplateIds?.length) {
        docs = input.LaunchTemplateIds.map((id) => {
          const d = store.get(T.launchTemplate, id);
          if (!d) throw ec2Error('InvalidLaunchTemplateId.NotFound', 'At least one of the launch templates specified in the request does not exist.');
          return d;
        });
      }
      if (input.LaunchTemplateNames?.length) {
        const names = input.LaunchTemplateNames;
        for (const n of names) {
          if (!docs.some((d) => d.LaunchTemplateName === n)) {
            throw ec2Error('InvalidLaunchTemplateName.NotFoundException', 'At least one of the launch templates specified in the request does not exist.');
          }
        }
        docs = docs.filter((d) => names.includes(d.LaunchTemplateName));
      }
      const match = compileFilters(input.Filters, {
        'create-time': (d) => d.CreateTime,
        'launch-template-name': (d) => d.LaunchTemplateName,
        'launch-template-id': (d) => d.LaunchTemplateId,
      });
      const { page, NextToken } = paginate(docs.filter(match), input.MaxResults, input.NextToken);
      return { LaunchTemplates: page.map(ltView), NextToken };
    },

    DescribeLaunchTemplateVersions(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      let versions: Doc[] = [];
      if (input.LaunchTemplateId || input.LaunchTemplateName) {
        const lt = findLaunchTemplate(store, input);
        const all = store.list(versionsType(lt.LaunchTemplateId));
        if (input.Versions?.length) {
          for (const v of input.Versions as string[]) {
            const n = versionNumber(lt, v);
            const d = all.find((x) => x.VersionNumber === n);
            if (!d) {
              throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find the specified version ${v} for the launch template with ID ${lt.LaunchTemplateId}.`);
            }
            if (!versions.includes(d)) versions.push(d);
          }
        } else {
          const min = input.MinVersion !== undefined ? versionNumber(lt, input.MinVersion) : 1;
          const max = input.MaxVersion !== undefined ? versionNumber(lt, input.MaxVersion) : Infinity;
          versions = all.filter((v) => v.VersionNumber >= min && v.VersionNumber <= max);
        }
        versions = versions.map((v) => versionView(lt, v));
      } else {
        if (input.Versions?.length) {
          for (const v of input.Versions as string[]) {
            if (v !== '$Latest' && v !== '$Default') {
              throw E.param('Specify a launch template ID or name when requesting specific versions.');
            }
          }
        }
        for (const lt of store.list(T.launchTemplate)) {
          for (const v of store.list(versionsType(lt.LaunchTemplateId))) {
            const isDefault = v.VersionNumber === lt.DefaultVersionNumber;
            const isLatest = v.VersionNumber === lt.LatestVersionNumber;
            const want = input.Versions as string[] | undefined;
            if (want?.length && !((want.includes('$Default') && isDefault) || (want.includes('$Latest') && isLatest))) continue;
            versions.push(versionView(lt, v));
          }
        }
      }
      const match = compileFilters(input.Filters, {
        'create-time': (d) => d.CreateTime,
        'ebs-optimized': (d) => d.LaunchTemplateData?.EbsOptimized,
        'iam-instance-profile': (d) => [d.LaunchTemplateData?.IamInstanceProfile?.Arn, d.LaunchTemplateData?.IamInstanceProfile?.Name],
        'image-id': (d) => d.LaunchTemplateData?.ImageId,
        'instance-type': (d) => d.LaunchTemplateData?.InstanceType,
        'is-default-version': (d) => d.DefaultVersion,
        'kernel-id': (d) => d.LaunchTemplateData?.KernelId,
        'ram-disk-id': (d) => d.LaunchTemplateData?.RamDiskId,
      });
      const { page, NextToken } = paginate(versions.filter(match), input.MaxResults, input.NextToken);
      return { LaunchTemplateVersions: page, NextToken };
    },

    async ModifyLaunchTemplate(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const lt = clone(findLaunchTemplate(store, input));
        if (input.DefaultVersion !== undefined) {
          const n = versionNumber(lt, input.DefaultVersion);
          if (!store.get(versionsType(lt.LaunchTemplateId), versionKey(n))) {
            throw ec2Error('InvalidLaunchTemplateId.VersionNotFound', `Could not find the specified version ${input.DefaultVersion} for the launch template with ID ${lt.LaunchTemplateId}.`);
          }
          lt.DefaultVersionNumber = n;
        }
        await store.commit([store.put(T.launchTemplate, lt.LaunchTemplateId, lt)]);
        return { LaunchTemplate: ltView(lt) };
      });
    },

    async DeleteLaunchTemplate(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const lt = findLaunchTemplate(store, input);
        const ops = [store.del(T.launchTemplate, lt.LaunchTemplateId)];
        for (const v of store.list(versionsType(lt.LaunchTemplateId))) ops.push(store.del(versionsType(lt.LaunchTemplateId), versionKey(v.VersionNumber)));
        await store.commit(ops);
        return { LaunchTemplate: ltView(lt) };
      });
    },

    async DeleteLaunchTemplateVersions(input: Doc, ctx: RequestContext) {
      const store = st(ctx);
      return store.exclusive(async () => {
        const lt = findLaunchTemplate(store, input);
        const ok: Doc[] = [];
        const bad: Doc[] = [];
        const ops = [];
        for (const v of input.Versions as string[]) {
          const n = Number(v);
          const base = { LaunchTemplateId: lt.LaunchTemplateId, LaunchTemplateName: lt.LaunchTemplateName, VersionNumber: n };
          if (n === lt.DefaultVersionNumber) {
            bad.push({ ...base, ResponseError: { Code: 'launchTemplateVersionDefaultVersionCannotBeDeleted', Message: 'Cannot delete the default version of a launch template' } });
          } else if (!store.get(versionsType(lt.LaunchTemplateId), versionKey(n))) {
            bad.push({ ...base, ResponseError: { Code: 'launchTemplateVersionDoesNotExist', Message: 'The specified launch template version does not exist' } });
          } else {
            ok.push(base);
            ops.push(store.del(versionsType(lt.LaunchTemplateId), versionKey(n)));
          }
        }
        await store.commit(ops);
        return { SuccessfullyDeletedLaunchTemplateVersions: ok, UnsuccessfullyDeletedLaunchTemplateVersions: bad };
      });
    },
  };
}

function ltView(lt: Doc): Doc {
  return { ...out(lt), CreateTime: new Date(lt.CreateTime) };
}

export { versionsType };
