/**
 * The KMS provider (JSON 1.1): keys (symmetric with real AES-256-GCM, RSA/ECC
 * with real signatures and RSA-OAEP, HMAC), aliases, key policies, key state
 * (enable/disable, scheduled deletion), rotation flags, grants and tags.
 *
 * Errors follow KMS: every error is HTTP 400 with KMS's exception names
 * (NotFoundException, DisabledException, KMSInvalidStateException, ...).
 */
import { constants, createHash, privateDecrypt, publicEncrypt, randomBytes, randomUUID, sign, timingSafeEqual, verify } from 'node:crypto';
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import { awsError, type AwsProvider, type OperationHandler, type RequestContext } from '../core/types.ts';
import { generateMaterial, hmac, privateKeyOf, publicKeyOf, signingParams, SPECS } from './asymmetric.ts';
import { aliasArnOf, assertUsable, decryptBlob, encryptBlob, keyArnOf, requireKey, resolveKey, usableKey } from './keys.ts';
import { aliasCollection, aliasKey, keyCollection, keyKey, type AliasDoc, type GrantDoc, type KeyDoc, type KmsTag } from './model.ts';

const ALL_GRANT_OPERATIONS = new Set([
  'Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncryptFrom', 'ReEncryptTo', 'Sign', 'Verify',
  'GetPublicKey', 'CreateGrant', 'RetireGrant', 'DescribeKey', 'GenerateDataKeyPair', 'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac', 'VerifyMac', 'DeriveSharedSecret',
]);

function validation(message: string) {
  return awsError('ValidationException', message, 400);
}

/** Aliases of AWS managed keys that KMS creates on first use (alias/aws/<service>). */
const AWS_MANAGED_SERVICES: Record<string, string> = {
  ebs: 'EBS', s3: 'S3', rds: 'RDS', lambda: 'Lambda', secretsmanager: 'SecretsManager', ssm: 'SSM', sns: 'SNS', sqs: 'SQS',
  logs: 'CloudWatch Logs', eks: 'EKS', dynamodb: 'DynamoDB', kinesis: 'Kinesis', elasticfilesystem: 'EFS', backup: 'Backup', ecr: 'ECR', acm: 'ACM',
};

/** defaultKeyPolicy is the key policy KMS gives a key created without one. */
export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify(
    {
      Version: '2012-10-17',
      Id: 'key-default-1',
      Statement: [
        { Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: 'kms:*', Resource: '*' },
      ],
    },
    null,
    2,
  );
}

function checkPolicy(policy: string): void {
  let doc: any;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw awsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
  if (typeof doc !== 'object' || doc === null || !doc.Statement) {
    throw awsError('MalformedPolicyDocumentException', 'The new key policy will not allow you to update the key policy in the future.');
  }
}

function checkTags(tags: KmsTag[] | undefined): void {
  if (!tags) return;
  const seen = new Set<string>();
  for (const t of tags) {
    if (t.TagKey.startsWith('aws:')) throw awsError('TagException', 'Tags beginning with aws: are reserved');
    if (seen.has(t.TagKey)) throw awsError('TagException', 'Duplicate tag keys');
    seen.add(t.TagKey);
  }
  if (tags.length > 50) throw awsError('TagException', 'Too many tags');
}

function renderKey(k: KeyDoc): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [f, v] of Object.entries(k)) if (!f.startsWith('_')) out[f] = v;
  out.CreationDate = new Date(k.CreationDate);
  if (k.DeletionDate) out.DeletionDate = new Date(k.DeletionDate);
  return out;
}

function renderAlias(a: AliasDoc): Record<string, unknown> {
  if (!a.TargetKeyId) return { AliasName: a.AliasName, AliasArn: a.AliasArn };
  return { AliasName: a.AliasName, AliasArn: a.AliasArn, TargetKeyId: a.TargetKeyId, CreationDate: new Date(a.CreationDate), LastUpdatedDate: new Date(a.LastUpdatedDate) };
}

/** page applies KMS Limit/Marker pagination (Truncated/NextMarker). */
function page<T>(items: T[], input: { Limit?: number; Marker?: string }): { items: T[]; Truncated: boolean; NextMarker?: string } {
  let start = 0;
  if (input.Marker) {
    const n = Number.parseInt(Buffer.from(input.Marker, 'base64').toString(), 10);
    if (!Number.isInteger(n) || n < 0) throw awsError('InvalidMarkerException', 'Invalid marker');
    start = n;
  }
  const limit = input.Limit ?? 100;
  const slice = items.slice(start, start + limit);
  const end = start + slice.length;
  return end < items.length ? { items: slice, Truncated: true, NextMarker: Buffer.from(String(end)).toString('base64') } : { items: slice, Truncated: false };
}

function ctxOf(input: { EncryptionContext?: Record<string, string> }): Record<string, string> {
  return input.EncryptionContext ?? {};
}

/** createKmsProvider builds the KMS provider (JSON 1.1); every handler first purges keys past their deletion window, materializes AWS managed keys and performs due rotations. */
export function createKmsProvider(deps: AwsDeps): AwsProvider {
  const { state } = deps;
  const key = (ctx: RequestContext, ref: string) => requireKey(state, ctx.accountId, ctx.region, ref);
  const save = async (k: KeyDoc, fn: (k: KeyDoc) => void): Promise<KeyDoc> => {
    const [, , , region, account] = k.Arn.split(':');
    return (await state.mutate<KeyDoc>(keyKey(account!, region!, k.KeyId), (cur) => {
      if (!cur) throw awsError('NotFoundException', `Key '${k.Arn}' does not exist`);
      fn(cur);
      return cur;
    }))!;
  };
  /** A key that is not pending deletion (for management operations). */
  const manageable = (ctx: RequestContext, ref: string): KeyDoc => {
    const k = customerManaged(key(ctx, ref));
    if (k.KeyState === 'PendingDeletion') throw awsError('KMSInvalidStateException', `${k.Arn} is pending deletion.`);
    return k;
  };
  const dataKeyBytes = (input: { KeySpec?: string; NumberOfBytes?: number }): number => {
    if ((input.KeySpec && input.NumberOfBytes) || (!input.KeySpec && !input.NumberOfBytes)) {
      throw validation('Please specify either number of bytes or key spec.');
    }
    if (input.NumberOfBytes !== undefined) return input.NumberOfBytes;
    return input.KeySpec === 'AES_128' ? 16 : 32;
  };
  const usage = (k: KeyDoc, want: string) => {
    if (k.KeyUsage !== want) throw awsError('InvalidKeyUsageException', `${k.Arn} key usage is ${k.KeyUsage} which is not valid for ${want === 'SIGN_VERIFY' ? 'signing' : want === 'GENERATE_VERIFY_MAC' ? 'MAC' : 'encryption'}.`);
  };

  /**
   * ensureAwsManagedKey creates the AWS managed key behind alias/aws/<service>
   * the first time it is used, as KMS does.
   */
  const ensureAwsManagedKey = async (ctx: RequestContext, ref: unknown): Promise<void> => {
    if (typeof ref !== 'string') return;
    const m = /^(?:arn:aws[\w-]*:kms:[a-z0-9-]+:\d{12}:)?alias\/aws\/([a-z0-9-]+)$/.exec(ref);
    if (!m || !AWS_MANAGED_SERVICES[m[1]!]) return;
    const aliasName = `alias/aws/${m[1]}`;
    if (state.get(aliasKey(ctx.accountId, ctx.region, aliasName))) return;
    const keyId = randomUUID();
    const now = ctx.now().toISOString();
    const doc: KeyDoc = {
      AWSAccountId: ctx.accountId,
      KeyId: keyId,
      Arn: keyArnOf(ctx.accountId, ctx.region, keyId),
      CreationDate: now,
      Enabled: true,
      Description: `Default key that protects my ${AWS_MANAGED_SERVICES[m[1]!]} data when no other key is defined`,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: 'Enabled',
      Origin: 'AWS_KMS',
      KeyManager: 'AWS',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
      _secret: generateMaterial('SYMMETRIC_DEFAULT').secret,
      _policy: defaultKeyPolicy(ctx.accountId),
      _tags: [],
      _rotation: true,
      _rotationPeriodInDays: 365,
      _grants: [],
    };
    const alias: AliasDoc = { AliasName: aliasName, AliasArn: aliasArnOf(ctx.accountId, ctx.region, aliasName), TargetKeyId: keyId, CreationDate: now, LastUpdatedDate: now };
    try {
      await state.commit([
        { op: 'create', key: keyKey(ctx.accountId, ctx.region, keyId), doc },
        { op: 'create', key: aliasKey(ctx.accountId, ctx.region, aliasName), doc: alias },
      ]);
    } catch (e) {
      if (!isStoreError(e, 'KeyExists')) throw e;
    }
  };
  /** AWS managed keys cannot be managed by customers. */
  const customerManaged = (k: KeyDoc): KeyDoc => {
    if (k.KeyManager === 'AWS') throw awsError('NotAuthorizedException', '');
    return k;
  };

  /**
   * Keys whose deletion window has passed are deleted (with their aliases)
   * before any request sees them. nextDue avoids scanning when nothing can be due.
   */
  let nextDue = -Infinity;
  const purgeDue = async (ctx: RequestContext): Promise<void> => {
    const nowMs = ctx.now().getTime();
    if (nowMs < nextDue) return;
    let soonest = Infinity;
    const ops: Parameters<typeof state.commit>[0] = [];
    const gone = new Set<string>();
    for (const coll of state.collectionsUnder('/aws/kms/')) {
      if (!coll.endsWith('/key/')) continue;
      for (const k of state.list<KeyDoc>(coll)) {
        if (k.KeyState !== 'PendingDeletion' || !k.DeletionDate) continue;
        const due = Date.parse(k.DeletionDate);
        if (due > nowMs) {
          soonest = Math.min(soonest, due);
          continue;
        }
        const [, , , region, account] = k.Arn.split(':');
        ops.push({ op: 'delete', key: keyKey(account!, region!, k.KeyId) });
        gone.add(`${account}/${region}/${k.KeyId}`);
        for (const a of state.list<AliasDoc>(aliasCollection(account!, region!))) {
          if (a.TargetKeyId === k.KeyId) ops.push({ op: 'delete', key: aliasKey(account!, region!, a.AliasName) });
        }
      }
    }
    nextDue = soonest;
    if (ops.length) {
      try {
        await state.commit(ops);
      } catch (e) {
        if (!isStoreError(e)) throw e;
        nextDue = -Infinity;
      }
    }
  };

  /** rotateMaterial gives a key new material; earlier materials stay for decryption. */
  const rotateMaterial = (k: KeyDoc, type: 'AUTOMATIC' | 'ON_DEMAND', at: Date): void => {
    k._oldSecrets = [...(k._oldSecrets ?? []), k._secret!];
    k._secret = generateMaterial('SYMMETRIC_DEFAULT').secret;
    k._rotations = [...(k._rotations ?? []), { RotationDate: at.toISOString(), RotationType: type, KeyMaterialId: createHash('sha256').update(k._secret!).digest('hex') }];
  };
  /** rotateIfDue performs a due automatic rotation of the key a request names. */
  const rotateIfDue = async (ctx: RequestContext, ref: unknown): Promise<void> => {
    if (typeof ref !== 'string') return;
    const k = resolveKey(state, ctx.accountId, ctx.region, ref);
    if (!k || !k._rotation || !k._nextRotation || k.KeyState !== 'Enabled') return;
    const now = ctx.now();
    if (Date.parse(k._nextRotation) > now.getTime()) return;
    await save(k, (cur) => {
      if (!cur._rotation || !cur._nextRotation || Date.parse(cur._nextRotation) > now.getTime()) return;
      rotateMaterial(cur, 'AUTOMATIC', new Date(cur._nextRotation));
      cur._nextRotation = new Date(now.getTime() + (cur._rotationPeriodInDays ?? 365) * 86_400_000).toISOString();
    });
  };

  /** dataKeyPair makes an RSA/ECC key pair whose private key is encrypted under a symmetric KMS key. */
  const dataKeyPair = (ctx: RequestContext, input: { KeyId: string; KeyPairSpec: string; EncryptionContext?: Record<string, string> }, withPlaintext: boolean) => {
    const k = usableKey(state, ctx.accountId, ctx.region, input.KeyId);
    const spec = input.KeyPairSpec;
    if (!SPECS[spec] || spec === 'SYMMETRIC_DEFAULT' || spec.startsWith('HMAC_')) {
      throw validation(`1 validation error detected: Value '${spec}' at 'keyPairSpec' failed to satisfy constraint: Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1]`);
    }
    const m = generateMaterial(spec);
    const privateDer = privateKeyOf(m.privateKeyPem!).export({ type: 'pkcs8', format: 'der' });
    return {
      KeyId: k.Arn,
      KeyPairSpec: spec,
      PublicKey: Buffer.from(m.publicKeyDer!, 'base64'),
      PrivateKeyCiphertextBlob: encryptBlob(k, privateDer, ctxOf(input)),
      ...(withPlaintext ? { PrivateKeyPlaintext: privateDer } : {}),
    };
  };

  const operations: Record<string, OperationHandler> = {
    RotateKeyOnDemand: async (input, ctx) => {
      const k = customerManaged(key(ctx, input.KeyId));
      assertUsable(k);
      if (k.KeySpec !== 'SYMMETRIC_DEFAULT') throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support on-demand key rotation.`);
      if ((k._rotations ?? []).filter((r) => r.RotationType === 'ON_DEMAND').length >= 10) {
        throw awsError('LimitExceededException', `The on-demand rotations limit has been reached for ${k.Arn}.`);
      }
      await save(k, (cur) => rotateMaterial(cur, 'ON_DEMAND', ctx.now()));
      return { KeyId: k.KeyId };
    },
    ListKeyRotations: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      if (k.KeySpec !== 'SYMMETRIC_DEFAULT') throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support key rotation.`);
      const p = page(k._rotations ?? [], input);
      return {
        Rotations: p.items.map((r) => ({ KeyId: k.KeyId, RotationDate: new Date(r.RotationDate), RotationType: r.RotationType })),
        Truncated: p.Truncated,
        NextMarker: p.NextMarker,
      };
    },

    CreateKey: async (input, ctx) => {
      const spec: string = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
      const info = SPECS[spec];
      if (!info) throw awsError('UnsupportedOperationException', `KeySpec ${spec} is not supported.`);
      const keyUsage: string = input.KeyUsage ?? (spec.startsWith('HMAC_') ? 'GENERATE_VERIFY_MAC' : spec.startsWith('ECC_') ? 'SIGN_VERIFY' : 'ENCRYPT_DECRYPT');
      if (!info.usages.includes(keyUsage)) {
        throw validation(`KeyUsage ${keyUsage} is not compatible with KeySpec ${spec}`);
      }
      const origin: string = input.Origin ?? 'AWS_KMS';
      if (origin !== 'AWS_KMS') throw awsError('UnsupportedOperationException', `Origin ${origin} is not supported.`);
      if (input.Policy !== undefined) checkPolicy(input.Policy);
      checkTags(input.Tags);
      const keyId = input.MultiRegion ? `mrk-${randomBytes(16).toString('hex')}` : randomUUID();
      const m = generateMaterial(spec);
      const doc: KeyDoc = {
        AWSAccountId: ctx.accountId,
        KeyId: keyId,
        Arn: keyArnOf(ctx.accountId, ctx.region, keyId),
        CreationDate: ctx.now().toISOString(),
        Enabled: true,
        Description: input.Description ?? '',
        KeyUsage: keyUsage,
        KeyState: 'Enabled',
        Origin: origin,
        KeyManager: 'CUSTOMER',
        CustomerMasterKeySpec: spec,
        KeySpec: spec,
        EncryptionAlgorithms: keyUsage === 'ENCRYPT_DECRYPT' ? info.encryption : undefined,
        SigningAlgorithms: keyUsage === 'SIGN_VERIFY' ? info.signing : undefined,
        KeyAgreementAlgorithms: keyUsage === 'KEY_AGREEMENT' ? info.agreement : undefined,
        MultiRegion: !!input.MultiRegion,
        _secret: m.secret,
        _privateKeyPem: m.privateKeyPem,
        _publicKeyDer: m.publicKeyDer,
        _policy: input.Policy ?? defaultKeyPolicy(ctx.accountId),
        _tags: (input.Tags ?? []).map((t: KmsTag) => ({ TagKey: t.TagKey, TagValue: t.TagValue })),
        _rotation: false,
        _grants: [],
      };
      const out = renderKey(doc);
      if (info.mac && keyUsage === 'GENERATE_VERIFY_MAC') out.MacAlgorithms = info.mac;
      await state.commit([{ op: 'create', key: keyKey(ctx.accountId, ctx.region, keyId), doc }]);
      return { KeyMetadata: out };
    },
    DescribeKey: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      const out = renderKey(k);
      if (k.KeyUsage === 'GENERATE_VERIFY_MAC') out.MacAlgorithms = SPECS[k.KeySpec]?.mac;
      return { KeyMetadata: out };
    },
    ListKeys: (input, ctx) => {
      const p = page(state.list<KeyDoc>(keyCollection(ctx.accountId, ctx.region)), input);
      return { Keys: p.items.map((k) => ({ KeyId: k.KeyId, KeyArn: k.Arn })), Truncated: p.Truncated, NextMarker: p.NextMarker };
    },
    UpdateKeyDescription: async (input, ctx) => {
      await save(manageable(ctx, input.KeyId), (k) => {
        k.Description = input.Description;
      });
      return {};
    },
    EnableKey: async (input, ctx) => {
      await save(manageable(ctx, input.KeyId), (k) => {
        k.Enabled = true;
        k.KeyState = 'Enabled';
      });
      return {};
    },
    DisableKey: async (input, ctx) => {
      await save(manageable(ctx, input.KeyId), (k) => {
        k.Enabled = false;
        k.KeyState = 'Disabled';
      });
      return {};
    },
    ScheduleKeyDeletion: async (input, ctx) => {
      const days: number = input.PendingWindowInDays ?? 30;
      if (days < 7) throw validation(`1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value greater than or equal to 7`);
      if (days > 30) throw validation(`1 validation error detected: Value '${days}' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value less than or equal to 30`);
      const k = manageable(ctx, input.KeyId);
      const when = new Date(ctx.now().getTime() + days * 86_400_000);
      await save(k, (cur) => {
        cur.Enabled = false;
        cur.KeyState = 'PendingDeletion';
        cur.DeletionDate = when.toISOString();
        cur.PendingDeletionWindowInDays = days;
      });
      nextDue = -Infinity;
      return { KeyId: k.Arn, DeletionDate: when, KeyState: 'PendingDeletion', PendingWindowInDays: days };
    },
    CancelKeyDeletion: async (input, ctx) => {
      const k = key(ctx, input.KeyId);
      if (k.KeyState !== 'PendingDeletion') throw awsError('KMSInvalidStateException', `${k.Arn} is not pending deletion.`);
      await save(k, (cur) => {
        cur.KeyState = 'Disabled';
        cur.Enabled = false;
        delete cur.DeletionDate;
        delete cur.PendingDeletionWindowInDays;
      });
      return { KeyId: k.Arn };
    },

    GetKeyPolicy: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      const name = input.PolicyName ?? 'default';
      if (name !== 'default') throw awsError('NotFoundException', 'No such policy exists');
      return { Policy: k._policy, PolicyName: 'default' };
    },
    PutKeyPolicy: async (input, ctx) => {
      const name = input.PolicyName ?? 'default';
      if (name !== 'default') throw awsError('NotFoundException', 'No such policy exists');
      checkPolicy(input.Policy);
      await save(manageable(ctx, input.KeyId), (k) => {
        k._policy = input.Policy;
      });
      return {};
    },
    ListKeyPolicies: (input, ctx) => {
      key(ctx, input.KeyId);
      return { PolicyNames: ['default'], Truncated: false };
    },

    EnableKeyRotation: async (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      if (k.KeySpec !== 'SYMMETRIC_DEFAULT') throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support automatic key rotation.`);
      const period: number = input.RotationPeriodInDays ?? 365;
      if (period < 90 || period > 2560) {
        throw validation(`1 validation error detected: Value '${period}' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value ${period < 90 ? 'greater than or equal to 90' : 'less than or equal to 2560'}`);
      }
      await save(k, (cur) => {
        if (!cur._rotation || cur._rotationPeriodInDays !== period) {
          cur._nextRotation = new Date(ctx.now().getTime() + period * 86_400_000).toISOString();
        }
        cur._rotation = true;
        cur._rotationPeriodInDays = period;
      });
      return {};
    },
    DisableKeyRotation: async (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      if (k.KeySpec !== 'SYMMETRIC_DEFAULT') throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support automatic key rotation.`);
      await save(k, (cur) => {
        cur._rotation = false;
        delete cur._nextRotation;
      });
      return {};
    },
    GetKeyRotationStatus: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      if (k.KeyState === 'PendingDeletion') throw awsError('KMSInvalidStateException', `${k.Arn} is pending deletion.`);
      if (k.KeySpec !== 'SYMMETRIC_DEFAULT') throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support automatic key rotation.`);
      const period = k._rotationPeriodInDays ?? 365;
      return {
        KeyId: k.Arn,
        KeyRotationEnabled: k._rotation,
        RotationPeriodInDays: k._rotation ? period : undefined,
        NextRotationDate: k._rotation ? new Date(k._nextRotation ?? ctx.now().getTime() + period * 86_400_000) : undefined,
      };
    },

    Encrypt: (input, ctx) => {
      const k = requireKey(state, ctx.accountId, ctx.region, input.KeyId);
      assertUsable(k);
      usage(k, 'ENCRYPT_DECRYPT');
      const alg: string = input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT';
      if (!k.EncryptionAlgorithms?.includes(alg)) throw awsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${k.KeySpec}.`);
      if (k._secret) return { CiphertextBlob: encryptBlob(k, input.Plaintext, ctxOf(input)), KeyId: k.Arn, EncryptionAlgorithm: alg };
      const blob = publicEncrypt(
        { key: publicKeyOf(k._publicKeyDer!), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' },
        input.Plaintext,
      );
      return { CiphertextBlob: blob, KeyId: k.Arn, EncryptionAlgorithm: alg };
    },
    Decrypt: (input, ctx) => {
      const alg: string = input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT';
      if (alg !== 'SYMMETRIC_DEFAULT') {
        if (!input.KeyId) throw validation('KeyId is required for asymmetric decryption.');
        const k = requireKey(state, ctx.accountId, ctx.region, input.KeyId);
        assertUsable(k);
        usage(k, 'ENCRYPT_DECRYPT');
        if (!k._privateKeyPem || !k.EncryptionAlgorithms?.includes(alg)) throw awsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${k.KeySpec}.`);
        try {
          const pt = privateDecrypt(
            { key: privateKeyOf(k._privateKeyPem), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSAES_OAEP_SHA_1' ? 'sha1' : 'sha256' },
            input.CiphertextBlob,
          );
          return { KeyId: k.Arn, Plaintext: pt, EncryptionAlgorithm: alg };
        } catch {
          throw awsError('InvalidCiphertextException', '');
        }
      }
      const r = decryptBlob(state, ctx.accountId, ctx.region, input.CiphertextBlob, ctxOf(input), input.KeyId);
      return { KeyId: r.KeyId, Plaintext: r.Plaintext, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    ReEncrypt: (input, ctx) => {
      const src = decryptBlob(state, ctx.accountId, ctx.region, input.CiphertextBlob, input.SourceEncryptionContext ?? {}, input.SourceKeyId);
      const dest = usableKey(state, ctx.accountId, ctx.region, input.DestinationKeyId);
      return {
        CiphertextBlob: encryptBlob(dest, src.Plaintext, input.DestinationEncryptionContext ?? {}),
        SourceKeyId: src.KeyId,
        KeyId: dest.Arn,
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    GenerateDataKey: (input, ctx) => {
      const k = usableKey(state, ctx.accountId, ctx.region, input.KeyId);
      const pt = randomBytes(dataKeyBytes(input));
      return { CiphertextBlob: encryptBlob(k, pt, ctxOf(input)), Plaintext: pt, KeyId: k.Arn };
    },
    GenerateDataKeyWithoutPlaintext: (input, ctx) => {
      const k = usableKey(state, ctx.accountId, ctx.region, input.KeyId);
      const pt = randomBytes(dataKeyBytes(input));
      return { CiphertextBlob: encryptBlob(k, pt, ctxOf(input)), KeyId: k.Arn };
    },
    GenerateDataKeyPair: (input, ctx) => dataKeyPair(ctx, input, true),
    GenerateDataKeyPairWithoutPlaintext: (input, ctx) => dataKeyPair(ctx, input, false),
    GenerateRandom: (input) => {
      const n: number = input.NumberOfBytes ?? 32;
      return { Plaintext: randomBytes(n) };
    },
    GetPublicKey: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      if (!k._publicKeyDer) throw awsError('UnsupportedOperationException', `${k.Arn} key usage or key spec does not support GetPublicKey.`);
      return {
        KeyId: k.Arn,
        PublicKey: Buffer.from(k._publicKeyDer, 'base64'),
        CustomerMasterKeySpec: k.KeySpec,
        KeySpec: k.KeySpec,
        KeyUsage: k.KeyUsage,
        EncryptionAlgorithms: k.EncryptionAlgorithms,
        SigningAlgorithms: k.SigningAlgorithms,
        KeyAgreementAlgorithms: k.KeyAgreementAlgorithms,
      };
    },
    Sign: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      usage(k, 'SIGN_VERIFY');
      const alg: string = input.SigningAlgorithm;
      if (!k.SigningAlgorithms?.includes(alg)) throw awsError('InvalidKeyUsageException', `Algorithm ${alg} is incompatible with key spec ${k.KeySpec}.`);
      if (input.MessageType === 'DIGEST') throw awsError('UnsupportedOperationException', 'MessageType DIGEST is not supported by localeks; send the RAW message.');
      const { digest, pss } = signingParams(alg);
      const opts = { key: privateKeyOf(k._privateKeyPem!), ...(pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(digest.slice(3)) / 8 } : {}), dsaEncoding: 'der' as const };
      const sig = sign(digest, input.Message as Buffer, opts);
      return { KeyId: k.Arn, Signature: sig, SigningAlgorithm: alg };
    },
    Verify: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      usage(k, 'SIGN_VERIFY');
      const alg: string = input.SigningAlgorithm;
      const { digest, pss } = signingParams(alg);
      const opts = { key: publicKeyOf(k._publicKeyDer!), ...(pss ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(digest.slice(3)) / 8 } : {}), dsaEncoding: 'der' as const };
      if (input.MessageType === 'DIGEST') throw awsError('UnsupportedOperationException', 'MessageType DIGEST is not supported by localeks; send the RAW message.');
      let ok = false;
      try {
        ok = verify(digest, input.Message, opts, input.Signature);
      } catch {
        ok = false;
      }
      if (!ok) throw awsError('KMSInvalidSignatureException', '');
      return { KeyId: k.Arn, SignatureValid: true, SigningAlgorithm: alg };
    },
    GenerateMac: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      usage(k, 'GENERATE_VERIFY_MAC');
      return { Mac: hmac(input.MacAlgorithm, k._secret!, input.Message), MacAlgorithm: input.MacAlgorithm, KeyId: k.Arn };
    },
    VerifyMac: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      assertUsable(k);
      usage(k, 'GENERATE_VERIFY_MAC');
      const want = hmac(input.MacAlgorithm, k._secret!, input.Message);
      const got: Buffer = input.Mac;
      if (got.length !== want.length || !timingSafeEqual(got, want)) throw awsError('KMSInvalidMacException', '');
      return { KeyId: k.Arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
    },

    CreateAlias: async (input, ctx) => {
      const name: string = input.AliasName;
      checkAliasName(name);
      if (String(input.TargetKeyId).startsWith('alias/') || /:alias\//.test(input.TargetKeyId)) throw validation('Aliases must refer to keys. Not aliases');
      const k = manageable(ctx, input.TargetKeyId);
      if (k.AWSAccountId !== ctx.accountId) throw awsError('NotFoundException', `Key '${k.Arn}' does not exist`);
      const now = ctx.now().toISOString();
      const arn = aliasArnOf(ctx.accountId, ctx.region, name);
      const doc: AliasDoc = { AliasName: name, AliasArn: arn, TargetKeyId: k.KeyId, CreationDate: now, LastUpdatedDate: now };
      try {
        await state.commit([{ op: 'create', key: aliasKey(ctx.accountId, ctx.region, name), doc }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw awsError('AlreadyExistsException', `An alias with the name ${arn} already exists`);
        throw e;
      }
      return {};
    },
    UpdateAlias: async (input, ctx) => {
      const name: string = input.AliasName;
      if (!name.startsWith('alias/')) throw validation(ALIAS_PREFIX_MESSAGE);
      if (String(input.TargetKeyId).startsWith('alias/') || /:alias\//.test(input.TargetKeyId)) throw validation('Aliases must refer to keys. Not aliases');
      const k = manageable(ctx, input.TargetKeyId);
      await state.mutate<AliasDoc>(aliasKey(ctx.accountId, ctx.region, name), (cur) => {
        if (!cur) throw awsError('NotFoundException', `Alias ${aliasArnOf(ctx.accountId, ctx.region, name)} is not found.`);
        const old = cur.TargetKeyId ? state.get<KeyDoc>(keyKey(ctx.accountId, ctx.region, cur.TargetKeyId)) : undefined;
        if (old && (old.KeyUsage !== k.KeyUsage || old.KeySpec !== k.KeySpec)) {
          throw validation(`Alias ${name} cannot be changed from a key with usage ${old.KeyUsage} and spec ${old.KeySpec} to a key with usage ${k.KeyUsage} and spec ${k.KeySpec}.`);
        }
        cur.TargetKeyId = k.KeyId;
        cur.LastUpdatedDate = ctx.now().toISOString();
        return cur;
      });
      return {};
    },
    DeleteAlias: async (input, ctx) => {
      const name: string = input.AliasName;
      if (!name.startsWith('alias/')) throw validation(ALIAS_PREFIX_MESSAGE);
      if (name.startsWith('alias/aws/')) throw awsError('NotAuthorizedException', '');
      const k = aliasKey(ctx.accountId, ctx.region, name);
      if (!state.get(k)) throw awsError('NotFoundException', `Alias ${aliasArnOf(ctx.accountId, ctx.region, name)} is not found.`);
      await state.commit([{ op: 'delete', key: k }]);
      return {};
    },
    ListAliases: (input, ctx) => {
      let aliases = state.list<AliasDoc>(aliasCollection(ctx.accountId, ctx.region));
      if (input.KeyId) {
        const k = key(ctx, input.KeyId);
        aliases = aliases.filter((a) => a.TargetKeyId === k.KeyId);
      } else {
        // KMS lists the AWS managed aliases before their keys exist (without TargetKeyId).
        const have = new Set(aliases.map((a) => a.AliasName));
        const created = new Date(0).toISOString();
        for (const svc of Object.keys(AWS_MANAGED_SERVICES)) {
          const name = `alias/aws/${svc}`;
          if (!have.has(name)) aliases.push({ AliasName: name, AliasArn: aliasArnOf(ctx.accountId, ctx.region, name), CreationDate: created, LastUpdatedDate: created });
        }
        aliases.sort((a, b) => (a.AliasName < b.AliasName ? -1 : a.AliasName > b.AliasName ? 1 : 0));
      }
      const p = page(aliases, input);
      return { Aliases: p.items.map(renderAlias), Truncated: p.Truncated, NextMarker: p.NextMarker };
    },

    CreateGrant: async (input, ctx) => {
      // Grants are allowed on AWS managed keys too (services grant themselves use of aws/ebs).
      const k = key(ctx, input.KeyId);
      if (k.KeyState === 'PendingDeletion') throw awsError('KMSInvalidStateException', `${k.Arn} is pending deletion.`);
      const ops: string[] = input.Operations ?? [];
      for (const o of ops) if (!ALL_GRANT_OPERATIONS.has(o)) throw validation(`1 validation error detected: Value '[${ops.join(', ')}]' at 'operations' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${[...ALL_GRANT_OPERATIONS].join(', ')}]]`);
      // A grant with the same name and parameters is returned again, as KMS does.
      const same = input.Name ? k._grants.find((g) => g.Name === input.Name && g.GranteePrincipal === input.GranteePrincipal && JSON.stringify(g.Operations) === JSON.stringify(ops)) : undefined;
      if (same) return { GrantId: same.GrantId, GrantToken: same._token };
      const grant: GrantDoc = {
        KeyId: k.Arn,
        GrantId: randomBytes(32).toString('hex'),
        Name: input.Name,
        CreationDate: ctx.now().toISOString(),
        GranteePrincipal: input.GranteePrincipal,
        RetiringPrincipal: input.RetiringPrincipal,
        IssuingAccount: `arn:aws:iam::${ctx.accountId}:root`,
        Operations: ops,
        Constraints: input.Constraints,
        _token: randomBytes(48).toString('base64url'),
      };
      await save(k, (cur) => {
        if (cur._grants.length >= 50000) throw awsError('LimitExceededException', 'Too many grants');
        cur._grants.push(grant);
      });
      return { GrantId: grant.GrantId, GrantToken: grant._token };
    },
    ListGrants: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      let grants = k._grants;
      if (input.GrantId) grants = grants.filter((g) => g.GrantId === input.GrantId);
      if (input.GranteePrincipal) grants = grants.filter((g) => g.GranteePrincipal === input.GranteePrincipal);
      const p = page(grants, input);
      return { Grants: p.items.map(renderGrant), Truncated: p.Truncated, NextMarker: p.NextMarker };
    },
    ListRetirableGrants: (input, ctx) => {
      const grants = state
        .list<KeyDoc>(keyCollection(ctx.accountId, ctx.region))
        .flatMap((k) => k._grants)
        .filter((g) => g.RetiringPrincipal === input.RetiringPrincipal);
      const p = page(grants, input);
      return { Grants: p.items.map(renderGrant), Truncated: p.Truncated, NextMarker: p.NextMarker };
    },
    RevokeGrant: async (input, ctx) => {
      const k = key(ctx, input.KeyId);
      if (!k._grants.some((g) => g.GrantId === input.GrantId)) throw awsError('NotFoundException', `Grant ID ${input.GrantId} not found`);
      await save(k, (cur) => {
        cur._grants = cur._grants.filter((g) => g.GrantId !== input.GrantId);
      });
      return {};
    },
    RetireGrant: async (input, ctx) => {
      if (input.GrantToken) {
        const k = state.list<KeyDoc>(keyCollection(ctx.accountId, ctx.region)).find((x) => x._grants.some((g) => g._token === input.GrantToken));
        if (!k) throw awsError('InvalidGrantTokenException', 'Invalid grant token.');
        await save(k, (cur) => {
          cur._grants = cur._grants.filter((g) => g._token !== input.GrantToken);
        });
        return {};
      }
      if (!input.KeyId || !input.GrantId) throw validation('Either GrantToken or both KeyId and GrantId must be specified.');
      return operations.RevokeGrant!(input, ctx);
    },

    TagResource: async (input, ctx) => {
      checkTags(input.Tags);
      await save(manageable(ctx, input.KeyId), (k) => {
        for (const t of input.Tags as KmsTag[]) {
          const i = k._tags.findIndex((x) => x.TagKey === t.TagKey);
          if (i >= 0) k._tags[i] = { TagKey: t.TagKey, TagValue: t.TagValue };
          else k._tags.push({ TagKey: t.TagKey, TagValue: t.TagValue });
        }
        if (k._tags.length > 50) throw awsError('TagException', 'Too many tags');
      });
      return {};
    },
    UntagResource: async (input, ctx) => {
      await save(manageable(ctx, input.KeyId), (k) => {
        k._tags = k._tags.filter((t) => !(input.TagKeys as string[]).includes(t.TagKey));
      });
      return {};
    },
    ListResourceTags: (input, ctx) => {
      const k = key(ctx, input.KeyId);
      const p = page(k._tags, input);
      return { Tags: p.items, Truncated: p.Truncated, NextMarker: p.NextMarker };
    },
  };
  // Every operation first deletes keys whose deletion window has passed and
  // materializes AWS managed keys named by alias/aws/<service>.
  const wrapped: Record<string, OperationHandler> = {};
  for (const [name, handler] of Object.entries(operations)) {
    wrapped[name] = async (input, ctx) => {
      await purgeDue(ctx);
      await rotateIfDue(ctx, input.KeyId);
      if (name === 'DescribeKey' || name === 'Encrypt' || name.startsWith('GenerateDataKey')) await ensureAwsManagedKey(ctx, input.KeyId);
      if (name === 'ReEncrypt') await ensureAwsManagedKey(ctx, input.DestinationKeyId);
      return handler(input, ctx);
    };
  }
  return { service: 'kms', operations: wrapped };
}

const ALIAS_PREFIX_MESSAGE = 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html';

function checkAliasName(name: string): void {
  if (!name.startsWith('alias/')) throw validation(ALIAS_PREFIX_MESSAGE);
  if (name.startsWith('alias/aws/')) throw awsError('NotAuthorizedException', '');
  if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name)) {
    throw validation(`1 validation error detected: Value '${name}' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`);
  }
}

function renderGrant(g: GrantDoc): Record<string, unknown> {
  return {
    KeyId: g.KeyId,
    GrantId: g.GrantId,
    Name: g.Name,
    CreationDate: new Date(g.CreationDate),
    GranteePrincipal: g.GranteePrincipal,
    RetiringPrincipal: g.RetiringPrincipal,
    IssuingAccount: g.IssuingAccount,
    Operations: g.Operations,
    Constraints: g.Constraints,
  };
}
