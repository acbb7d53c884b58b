/** IAM OpenID Connect identity providers (EKS IRSA registers the cluster's issuer here). */
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler } from '../core/types.ts';
import { d, iamError, noSuchEntity, nowIso, tagsOut, validateTags, tagOperations } from './common.ts';
import { iamCollection, iamKey, oidcProviderId, type OidcProviderDoc, type Tag } from './model.ts';
import { getOidcProviderByArn } from './shared.ts';

/** Thumbprint IAM computes when none is given (the root CA of the EKS OIDC endpoints). */
const DEFAULT_THUMBPRINT = '9e99a48a9960b14926bb7f3b02e22da2b0ab7280';
const MAX_THUMBPRINTS = 5;
const MAX_CLIENT_IDS = 100;

function checkThumbprints(list: string[]): void {
  if (list.length > MAX_THUMBPRINTS) throw iamError('InvalidInput', `Thumbprint list must contain fewer than ${MAX_THUMBPRINTS + 1} entries.`);
  for (const t of list) if (!/^[0-9a-fA-F]{40}$/.test(t)) throw iamError('InvalidInput', `Thumbprint ${t} is not valid.`);
}

/** oidcProviderOperations returns the handlers for IAM OpenID Connect providers. */
export function oidcProviderOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const load = (arn: string): OidcProviderDoc => {
    const p = getOidcProviderByArn(state, arn);
    if (!p) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
    return p;
  };
  const keyOf = (arn: string): string => {
    const p = load(arn);
    return iamKey(arn.split(':')[4]!, 'oidc-provider', oidcProviderId(p.Url));
  };
  const update = async (arn: string, fn: (p: OidcProviderDoc) => void): Promise<void> => {
    await state.mutate<OidcProviderDoc>(keyOf(arn), (cur) => {
      if (!cur) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
      fn(cur);
      return cur;
    });
  };

  return {
    CreateOpenIDConnectProvider: async (input, ctx) => {
      const url: string = input.Url;
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw iamError('ValidationError', 'Invalid Open ID Connect Provider URL');
      }
      if (parsed.protocol !== 'https:' || parsed.search || parsed.hash) throw iamError('ValidationError', 'Invalid Open ID Connect Provider URL');
      const thumbprints: string[] = input.ThumbprintList?.length ? input.ThumbprintList : [DEFAULT_THUMBPRINT];
      checkThumbprints(thumbprints);
      const clientIds: string[] = [...new Set<string>(input.ClientIDList ?? [])];
      if (clientIds.length > MAX_CLIENT_IDS) throw iamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${MAX_CLIENT_IDS}`);
      validateTags(input.Tags);
      const id = oidcProviderId(url);
      const doc: OidcProviderDoc = {
        Url: id,
        Arn: `arn:aws:iam::${ctx.accountId}:oidc-provider/${id}`,
        ClientIDList: clientIds,
        ThumbprintList: thumbprints,
        CreateDate: nowIso(ctx),
        Tags: input.Tags?.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
      };
      const exists = `Provider with url https://${id} already exists.`;
      const key = iamKey(ctx.accountId, 'oidc-provider', id);
      if (state.get(key)) throw iamError('EntityAlreadyExists', exists);
      try {
        await state.commit([{ op: 'create', key, doc }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', exists);
        throw e;
      }
      return { OpenIDConnectProviderArn: doc.Arn, Tags: tagsOut(doc.Tags) };
    },
    GetOpenIDConnectProvider: (input) => {
      const p = load(input.OpenIDConnectProviderArn);
      return { Url: p.Url, ClientIDList: p.ClientIDList, ThumbprintList: p.ThumbprintList, CreateDate: d(p.CreateDate), Tags: tagsOut(p.Tags) };
    },
    ListOpenIDConnectProviders: (_input, ctx) => ({
      OpenIDConnectProviderList: state.list<OidcProviderDoc>(iamCollection(ctx.accountId, 'oidc-provider')).map((p) => ({ Arn: p.Arn })),
    }),
    DeleteOpenIDConnectProvider: async (input) => {
      const p = getOidcProviderByArn(state, input.OpenIDConnectProviderArn);
      // IAM answers NoSuchEntity here too.
      if (!p) throw noSuchEntity(`OpenIDConnect Provider not found for arn ${input.OpenIDConnectProviderArn}`);
      await state.commit([{ op: 'delete', key: keyOf(input.OpenIDConnectProviderArn) }]);
      return {};
    },
    AddClientIDToOpenIDConnectProvider: async (input) => {
      await update(input.OpenIDConnectProviderArn, (p) => {
        if (p.ClientIDList.includes(input.ClientID)) return;
        if (p.ClientIDList.length >= MAX_CLIENT_IDS) throw iamError('LimitExceeded', `Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: ${MAX_CLIENT_IDS}`);
        p.ClientIDList.push(input.ClientID);
      });
      return {};
    },
    RemoveClientIDFromOpenIDConnectProvider: async (input) => {
      await update(input.OpenIDConnectProviderArn, (p) => {
        p.ClientIDList = p.ClientIDList.filter((c) => c !== input.ClientID);
      });
      return {};
    },
    UpdateOpenIDConnectProviderThumbprint: async (input) => {
      checkThumbprints(input.ThumbprintList);
      await update(input.OpenIDConnectProviderArn, (p) => {
        p.ThumbprintList = [...input.ThumbprintList];
      });
      return {};
    },
    ...tagOperations('OpenIDConnectProvider', { load: (i) => load(i.OpenIDConnectProviderArn), update: (i, _ctx, fn) => update(i.OpenIDConnectProviderArn, fn) }),
  };
}
