/**
 * Account-wide IAM settings (password policy, account alias) and SAML
 * identity providers.
 */
import { randomUUID } from 'node:crypto';
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import type { OperationHandler } from '../core/types.ts';
import { d, iamError, noSuchEntity, nowIso, tagsOut, validateTags, tagOperations } from './common.ts';
import { ACCESS_KEY_COLLECTION, iamCollection, iamKey, type AccessKeyDoc, type AccountSettingsDoc, type SamlProviderDoc, type Tag, type UserDoc } from './model.ts';

const SETTINGS_ID = 'settings';

/** validUntil reads the validUntil attribute of SAML metadata, or a year from now. */
function validUntilOf(metadata: string, nowMs: number): string {
  const m = /validUntil="([^"]+)"/.exec(metadata);
  const t = m ? Date.parse(m[1]!) : NaN;
  return new Date(Number.isNaN(t) ? nowMs + 365 * 86_400_000 : t).toISOString();
}

function checkMetadata(metadata: string): void {
  if (!/EntityDescriptor/.test(metadata)) throw iamError('InvalidInput', 'Could not parse metadata');
}

/** accountOperations returns the handlers for account settings and SAML providers. */
export function accountOperations(deps: AwsDeps): Record<string, OperationHandler> {
  const { state } = deps;
  const settingsKey = (accountId: string) => iamKey(accountId, 'account', SETTINGS_ID);
  const settings = (accountId: string) => state.get<AccountSettingsDoc>(settingsKey(accountId)) ?? {};
  const updateSettings = (accountId: string, fn: (s: AccountSettingsDoc) => void) =>
    state.mutate<AccountSettingsDoc>(settingsKey(accountId), (cur) => {
      const next = cur ?? {};
      fn(next);
      return next;
    });
  const samlName = (arn: string) => {
    const m = /^arn:aws[\w-]*:iam::(\d{12}):saml-provider\/([\w._-]+)$/.exec(arn);
    if (!m) throw iamError('InvalidInput', `ARN ${arn} is not valid.`);
    return { account: m[1]!, name: m[2]! };
  };
  const loadSaml = (arn: string): SamlProviderDoc => {
    const { account, name } = samlName(arn);
    const p = state.get<SamlProviderDoc>(iamKey(account, 'saml-provider', name));
    if (!p) throw noSuchEntity(`SAMLProvider ${arn} not found`);
    return p;
  };
  const updateSaml = async (arn: string, fn: (p: SamlProviderDoc) => void): Promise<void> => {
    const { account, name } = samlName(arn);
    await state.mutate<SamlProviderDoc>(iamKey(account, 'saml-provider', name), (cur) => {
      if (!cur) throw noSuchEntity(`SAMLProvider ${arn} not found`);
      fn(cur);
      return cur;
    });
  };

  return {
    UpdateAccountPasswordPolicy: async (input, ctx) => {
      const policy: Record<string, unknown> = {
        MinimumPasswordLength: input.MinimumPasswordLength ?? 6,
        RequireSymbols: input.RequireSymbols ?? false,
        RequireNumbers: input.RequireNumbers ?? false,
        RequireUppercaseCharacters: input.RequireUppercaseCharacters ?? false,
        RequireLowercaseCharacters: input.RequireLowercaseCharacters ?? false,
        AllowUsersToChangePassword: input.AllowUsersToChangePassword ?? false,
        ExpirePasswords: (input.MaxPasswordAge ?? 0) > 0,
        ...(input.MaxPasswordAge ? { MaxPasswordAge: input.MaxPasswordAge } : {}),
        ...(input.PasswordReusePrevention ? { PasswordReusePrevention: input.PasswordReusePrevention } : {}),
        HardExpiry: input.HardExpiry ?? false,
      };
      await updateSettings(ctx.accountId, (s) => {
        s.PasswordPolicy = policy;
      });
      return {};
    },
    GetAccountPasswordPolicy: (_input, ctx) => {
      const p = settings(ctx.accountId).PasswordPolicy;
      if (!p) throw noSuchEntity(`The Password Policy with domain name ${ctx.accountId} cannot be found.`);
      return { PasswordPolicy: p };
    },
    DeleteAccountPasswordPolicy: async (_input, ctx) => {
      if (!settings(ctx.accountId).PasswordPolicy) throw noSuchEntity(`The account policy with name PasswordPolicy cannot be found.`);
      await updateSettings(ctx.accountId, (s) => {
        delete s.PasswordPolicy;
      });
      return {};
    },
    CreateAccountAlias: async (input, ctx) => {
      // An account has one alias; creating another replaces it, as IAM does.
      await updateSettings(ctx.accountId, (s) => {
        s.AccountAlias = input.AccountAlias;
      });
      return {};
    },
    DeleteAccountAlias: async (input, ctx) => {
      if (settings(ctx.accountId).AccountAlias !== input.AccountAlias) throw noSuchEntity(`The account alias ${input.AccountAlias} cannot be found.`);
      await updateSettings(ctx.accountId, (s) => {
        delete s.AccountAlias;
      });
      return {};
    },
    ListAccountAliases: (_input, ctx) => {
      const a = settings(ctx.accountId).AccountAlias;
      return { AccountAliases: a ? [a] : [], IsTruncated: false };
    },

    GenerateCredentialReport: async (_input, ctx) => {
      const had = settings(ctx.accountId).CredentialReportAt;
      await updateSettings(ctx.accountId, (s) => {
        s.CredentialReportAt = nowIso(ctx);
      });
      return { State: 'COMPLETE', Description: had ? undefined : 'No report exists. Starting a new report generation task' };
    },
    GetCredentialReport: (_input, ctx) => {
      const at = settings(ctx.accountId).CredentialReportAt;
      if (!at) throw iamError('ReportNotPresent', 'Unknown');
      const header = [
        'user', 'arn', 'user_creation_time', 'password_enabled', 'password_last_used', 'password_last_changed', 'password_next_rotation', 'mfa_active',
        'access_key_1_active', 'access_key_1_last_rotated', 'access_key_1_last_used_date', 'access_key_1_last_used_region', 'access_key_1_last_used_service',
        'access_key_2_active', 'access_key_2_last_rotated', 'access_key_2_last_used_date', 'access_key_2_last_used_region', 'access_key_2_last_used_service',
        'cert_1_active', 'cert_1_last_rotated', 'cert_2_active', 'cert_2_last_rotated',
      ];
      const keyCols = (k: AccessKeyDoc | undefined) =>
        k ? [String(k.Status === 'Active'), k.CreateDate, 'N/A', 'N/A', 'N/A'] : ['false', 'N/A', 'N/A', 'N/A', 'N/A'];
      const keys = state.list<AccessKeyDoc>(ACCESS_KEY_COLLECTION).filter((k) => k.AccountId === ctx.accountId);
      const rows = [
        ['<root_account>', `arn:aws:iam::${ctx.accountId}:root`, new Date(0).toISOString(), 'not_supported', 'N/A', 'not_supported', 'not_supported', 'false', ...keyCols(undefined), ...keyCols(undefined), 'false', 'N/A', 'false', 'N/A'],
        ...state.list<UserDoc>(iamCollection(ctx.accountId, 'user')).map((u) => {
          const mine = keys.filter((k) => k.UserName === u.UserName);
          return [
            u.UserName, u.Arn, u.CreateDate, String(!!u._loginProfile), 'N/A', u._loginProfile ? u._loginProfile.CreateDate : 'N/A', 'N/A', 'false',
            ...keyCols(mine[0]), ...keyCols(mine[1]), 'false', 'N/A', 'false', 'N/A',
          ];
        }),
      ];
      const csv = [header, ...rows].map((r) => r.join(',')).join('\n');
      return { Content: Buffer.from(csv, 'utf8'), ReportFormat: 'text/csv', GeneratedTime: d(at) };
    },

    CreateSAMLProvider: async (input, ctx) => {
      checkMetadata(input.SAMLMetadataDocument);
      validateTags(input.Tags);
      const key = iamKey(ctx.accountId, 'saml-provider', input.Name);
      const exists = `SAMLProvider ${input.Name} already exists`;
      if (state.get(key)) throw iamError('EntityAlreadyExists', exists);
      const doc: SamlProviderDoc = {
        Name: input.Name,
        Arn: `arn:aws:iam::${ctx.accountId}:saml-provider/${input.Name}`,
        SAMLMetadataDocument: input.SAMLMetadataDocument,
        SAMLProviderUUID: `p-${randomUUID()}`,
        CreateDate: nowIso(ctx),
        ValidUntil: validUntilOf(input.SAMLMetadataDocument, ctx.now().getTime()),
        AssertionEncryptionMode: input.AssertionEncryptionMode,
        Tags: input.Tags?.length ? input.Tags.map((t: Tag) => ({ Key: t.Key, Value: t.Value })) : undefined,
      };
      try {
        await state.commit([{ op: 'create', key, doc }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw iamError('EntityAlreadyExists', exists);
        throw e;
      }
      return { SAMLProviderArn: doc.Arn, Tags: tagsOut(doc.Tags) };
    },
    GetSAMLProvider: (input) => {
      const p = loadSaml(input.SAMLProviderArn);
      return {
        SAMLMetadataDocument: p.SAMLMetadataDocument,
        SAMLProviderUUID: p.SAMLProviderUUID,
        CreateDate: d(p.CreateDate),
        ValidUntil: d(p.ValidUntil),
        AssertionEncryptionMode: p.AssertionEncryptionMode,
        Tags: tagsOut(p.Tags),
      };
    },
    ListSAMLProviders: (_input, ctx) => ({
      SAMLProviderList: state
        .list<SamlProviderDoc>(iamCollection(ctx.accountId, 'saml-provider'))
        .map((p) => ({ Arn: p.Arn, CreateDate: d(p.CreateDate), ValidUntil: d(p.ValidUntil) })),
    }),
    UpdateSAMLProvider: async (input, ctx) => {
      if (input.SAMLMetadataDocument) checkMetadata(input.SAMLMetadataDocument);
      await updateSaml(input.SAMLProviderArn, (p) => {
        if (input.SAMLMetadataDocument) {
          p.SAMLMetadataDocument = input.SAMLMetadataDocument;
          p.ValidUntil = validUntilOf(input.SAMLMetadataDocument, ctx.now().getTime());
        }
        if (input.AssertionEncryptionMode) p.AssertionEncryptionMode = input.AssertionEncryptionMode;
      });
      return { SAMLProviderArn: input.SAMLProviderArn };
    },
    DeleteSAMLProvider: async (input) => {
      loadSaml(input.SAMLProviderArn);
      const { account, name } = samlName(input.SAMLProviderArn);
      await state.commit([{ op: 'delete', key: iamKey(account, 'saml-provider', name) }]);
      return {};
    },
    ...tagOperations('SAMLProvider', { load: (i) => loadSaml(i.SAMLProviderArn), update: (i, _ctx, fn) => updateSaml(i.SAMLProviderArn, fn) }),
  };
}
