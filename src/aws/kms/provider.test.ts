import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { providerHarness, type ProviderHarness } from '../iam/testing.ts';
import { createKmsProvider } from './provider.ts';
import { decrypt, generateDataKey, getKey } from './shared.ts';

let h: ProviderHarness;
let keyId: string;
let keyArn: string;
before(async () => {
  h = await providerHarness(createKmsProvider, 'kms');
  const k = await h.call('CreateKey', { Description: 'eks secrets', Tags: [{ TagKey: 'team', TagValue: 'platform' }] });
  keyId = k.KeyMetadata.KeyId;
  keyArn = k.KeyMetadata.Arn;
});
after(() => h.close());

test('CreateKey/DescribeKey: metadata, default policy, lookups by id, ARN, alias', async () => {
  assert.match(keyId, /^[0-9a-f-]{36}$/);
  assert.equal(keyArn, `arn:aws:kms:us-east-1:000000000000:key/${keyId}`);
  const d = await h.call('DescribeKey', { KeyId: keyId });
  assert.equal(d.KeyMetadata.KeyState, 'Enabled');
  assert.equal(d.KeyMetadata.KeySpec, 'SYMMETRIC_DEFAULT');
  assert.deepEqual(d.KeyMetadata.EncryptionAlgorithms, ['SYMMETRIC_DEFAULT']);
  assert.ok(d.KeyMetadata.CreationDate instanceof Date);
  assert.equal(d.KeyMetadata._secret, undefined);
  const policy = JSON.parse((await h.call('GetKeyPolicy', { KeyId: keyId, PolicyName: 'default' })).Policy);
  assert.equal(policy.Statement[0].Principal.AWS, 'arn:aws:iam::000000000000:root');
  await h.call('CreateAlias', { AliasName: 'alias/eks', TargetKeyId: keyId });
  assert.equal((await h.call('DescribeKey', { KeyId: 'alias/eks' })).KeyMetadata.KeyId, keyId);
  assert.equal((await h.call('DescribeKey', { KeyId: 'arn:aws:kms:us-east-1:000000000000:alias/eks' })).KeyMetadata.KeyId, keyId);
  assert.equal((await h.call('DescribeKey', { KeyId: keyArn })).KeyMetadata.KeyId, keyId);
  const dup = await h.callError('CreateAlias', { AliasName: 'alias/eks', TargetKeyId: keyId });
  assert.equal(dup.code, 'AlreadyExistsException');
  assert.equal(dup.message, 'An alias with the name arn:aws:kms:us-east-1:000000000000:alias/eks already exists');
  assert.equal((await h.callError('CreateAlias', { AliasName: 'alias/aws/ebs', TargetKeyId: keyId })).code, 'NotAuthorizedException');
  const noPrefix = await h.callError('CreateAlias', { AliasName: 'eks', TargetKeyId: keyId });
  assert.equal(noPrefix.code, 'ValidationException');
  assert.match(noPrefix.message, /^Alias must start with the prefix "alias\/"/);
  const missing = await h.callError('DescribeKey', { KeyId: 'alias/nope' });
  assert.equal(missing.code, 'NotFoundException');
  assert.equal(missing.message, 'Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found.');
  const missingKey = await h.callError('DescribeKey', { KeyId: '11111111-2222-3333-4444-555555555555' });
  assert.equal(missingKey.message, "Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-3333-4444-555555555555' does not exist");
  const aliases = await h.call('ListAliases', { KeyId: keyId });
  assert.deepEqual(aliases.Aliases.map((a: any) => a.AliasName), ['alias/eks']);
});

test('Encrypt/Decrypt round trip with encryption context; tampering and wrong context fail', async () => {
  const plaintext = Buffer.from('top secret');
  const enc = await h.call('Encrypt', { KeyId: 'alias/eks', Plaintext: plaintext, EncryptionContext: { cluster: 'c1' } });
  assert.ok(Buffer.isBuffer(enc.CiphertextBlob));
  assert.equal(enc.KeyId, keyArn);
  assert.ok(!enc.CiphertextBlob.includes(plaintext));
  const dec = await h.call('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { cluster: 'c1' } });
  assert.deepEqual(dec.Plaintext, plaintext);
  assert.equal(dec.KeyId, keyArn);

  const wrongCtx = await h.callError('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { cluster: 'c2' } });
  assert.equal(wrongCtx.code, 'InvalidCiphertextException');
  assert.equal((await h.callError('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).code, 'InvalidCiphertextException');
  for (const i of [enc.CiphertextBlob.length - 1, enc.CiphertextBlob.length - 20]) {
    const tampered = Buffer.from(enc.CiphertextBlob);
    tampered[i] ^= 1;
    assert.equal((await h.callError('Decrypt', { CiphertextBlob: tampered, EncryptionContext: { cluster: 'c1' } })).code, 'InvalidCiphertextException');
  }
  assert.equal((await h.callError('Decrypt', { CiphertextBlob: Buffer.from('garbage') })).code, 'InvalidCiphertextException');

  const other = (await h.call('CreateKey', {})).KeyMetadata.KeyId;
  const incorrect = await h.callError('Decrypt', { CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { cluster: 'c1' }, KeyId: other });
  assert.equal(incorrect.code, 'IncorrectKeyException');
  const re = await h.call('ReEncrypt', { CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: { cluster: 'c1' }, DestinationKeyId: other });
  assert.deepEqual((await h.call('Decrypt', { CiphertextBlob: re.CiphertextBlob })).Plaintext, plaintext);
});

test('GenerateDataKey and the shared envelope functions', async () => {
  const dk = await h.call('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256' });
  assert.equal(dk.Plaintext.length, 32);
  assert.deepEqual((await h.call('Decrypt', { CiphertextBlob: dk.CiphertextBlob })).Plaintext, dk.Plaintext);
  const no = await h.call('GenerateDataKeyWithoutPlaintext', { KeyId: keyId, NumberOfBytes: 64 });
  assert.equal(no.Plaintext, undefined);
  assert.equal((await h.call('Decrypt', { CiphertextBlob: no.CiphertextBlob })).Plaintext.length, 64);
  const both = await h.callError('GenerateDataKey', { KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 });
  assert.equal(both.message, 'Please specify either number of bytes or key spec.');

  const s = h.deps.state;
  const env = generateDataKey(s, '000000000000', 'us-east-1', keyArn, { purpose: 'secrets' });
  assert.deepEqual(decrypt(s, '000000000000', 'us-east-1', env.CiphertextBlob, { purpose: 'secrets' }).Plaintext, env.Plaintext);
  assert.equal(getKey(s, '000000000000', 'us-east-1', 'alias/eks')?.KeyId, keyId);
});

test('key states: disabled and pending deletion keys refuse crypto', async () => {
  const k = (await h.call('CreateKey', {})).KeyMetadata;
  const enc = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('x') });
  await h.call('DisableKey', { KeyId: k.KeyId });
  const dis = await h.callError('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('x') });
  assert.equal(dis.code, 'DisabledException');
  assert.equal(dis.message, `${k.Arn} is disabled.`);
  assert.equal((await h.callError('Decrypt', { CiphertextBlob: enc.CiphertextBlob })).code, 'DisabledException');
  await h.call('EnableKey', { KeyId: k.KeyId });
  const tooShort = await h.callError('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 3 });
  assert.equal(tooShort.code, 'ValidationException');
  const sched = await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 7 });
  assert.equal(sched.KeyState, 'PendingDeletion');
  assert.ok(sched.DeletionDate instanceof Date);
  const pend = await h.callError('GenerateDataKey', { KeyId: k.KeyId, KeySpec: 'AES_256' });
  assert.equal(pend.code, 'KMSInvalidStateException');
  assert.equal(pend.message, `${k.Arn} is pending deletion.`);
  assert.equal((await h.callError('EnableKey', { KeyId: k.KeyId })).code, 'KMSInvalidStateException');
  await h.call('CancelKeyDeletion', { KeyId: k.KeyId });
  assert.equal((await h.call('DescribeKey', { KeyId: k.KeyId })).KeyMetadata.KeyState, 'Disabled');
});

test('rotation, grants, tags, policies, pagination', async () => {
  assert.equal((await h.call('GetKeyRotationStatus', { KeyId: keyId })).KeyRotationEnabled, false);
  await h.call('EnableKeyRotation', { KeyId: keyId });
  assert.equal((await h.call('GetKeyRotationStatus', { KeyId: keyId })).KeyRotationEnabled, true);
  const g = await h.call('CreateGrant', { KeyId: keyId, GranteePrincipal: 'arn:aws:iam::000000000000:role/x', Operations: ['Decrypt', 'Encrypt'], RetiringPrincipal: 'arn:aws:iam::000000000000:role/y' });
  assert.match(g.GrantId, /^[0-9a-f]{64}$/);
  assert.equal((await h.call('ListGrants', { KeyId: keyId })).Grants.length, 1);
  assert.equal((await h.call('ListRetirableGrants', { RetiringPrincipal: 'arn:aws:iam::000000000000:role/y' })).Grants.length, 1);
  await h.call('RetireGrant', { GrantToken: g.GrantToken });
  assert.equal((await h.call('ListGrants', { KeyId: keyId })).Grants.length, 0);
  assert.equal((await h.callError('RevokeGrant', { KeyId: keyId, GrantId: 'f'.repeat(64) })).code, 'NotFoundException');
  await h.call('TagResource', { KeyId: keyId, Tags: [{ TagKey: 'env', TagValue: 'dev' }, { TagKey: 'team', TagValue: 'core' }] });
  await h.call('UntagResource', { KeyId: keyId, TagKeys: ['env'] });
  assert.deepEqual((await h.call('ListResourceTags', { KeyId: keyId })).Tags, [{ TagKey: 'team', TagValue: 'core' }]);
  const bad = await h.callError('PutKeyPolicy', { KeyId: keyId, PolicyName: 'default', Policy: 'not json' });
  assert.equal(bad.code, 'MalformedPolicyDocumentException');
  const pageOne = await h.call('ListKeys', { Limit: 1 });
  assert.equal(pageOne.Keys.length, 1);
  assert.equal(pageOne.Truncated, true);
  const rest = await h.call('ListKeys', { Marker: pageOne.NextMarker });
  assert.ok(rest.Keys.length >= 1);
});

test('asymmetric keys: RSA sign/verify and OAEP, HMAC', async () => {
  const rsa = (await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata;
  const msg = Buffer.from('hello');
  const s = await h.call('Sign', { KeyId: rsa.KeyId, Message: msg, SigningAlgorithm: 'RSASSA_PSS_SHA_256' });
  assert.equal((await h.call('Verify', { KeyId: rsa.KeyId, Message: msg, Signature: s.Signature, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })).SignatureValid, true);
  assert.equal((await h.callError('Verify', { KeyId: rsa.KeyId, Message: Buffer.from('other'), Signature: s.Signature, SigningAlgorithm: 'RSASSA_PSS_SHA_256' })).code, 'KMSInvalidSignatureException');
  const ec = (await h.call('CreateKey', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' })).KeyMetadata;
  const es = await h.call('Sign', { KeyId: ec.KeyId, Message: msg, SigningAlgorithm: 'ECDSA_SHA_256' });
  assert.equal((await h.call('Verify', { KeyId: ec.KeyId, Message: msg, Signature: es.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })).SignatureValid, true);
  const enc = (await h.call('CreateKey', { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })).KeyMetadata;
  const c = await h.call('Encrypt', { KeyId: enc.KeyId, Plaintext: msg, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' });
  assert.deepEqual((await h.call('Decrypt', { KeyId: enc.KeyId, CiphertextBlob: c.CiphertextBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })).Plaintext, msg);
  assert.ok((await h.call('GetPublicKey', { KeyId: enc.KeyId })).PublicKey.length > 200);
  const mac = (await h.call('CreateKey', { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' })).KeyMetadata;
  const m = await h.call('GenerateMac', { KeyId: mac.KeyId, Message: msg, MacAlgorithm: 'HMAC_SHA_256' });
  assert.equal((await h.call('VerifyMac', { KeyId: mac.KeyId, Message: msg, Mac: m.Mac, MacAlgorithm: 'HMAC_SHA_256' })).MacValid, true);
  assert.equal((await h.callError('Encrypt', { KeyId: rsa.KeyId, Plaintext: msg })).code, 'InvalidKeyUsageException');
});

test('AWS managed keys appear on first use of alias/aws/<service> and refuse customer management', async () => {
  const d = await h.call('DescribeKey', { KeyId: 'alias/aws/ebs' });
  assert.equal(d.KeyMetadata.KeyManager, 'AWS');
  assert.equal((await h.call('DescribeKey', { KeyId: 'alias/aws/ebs' })).KeyMetadata.KeyId, d.KeyMetadata.KeyId);
  const enc = await h.call('Encrypt', { KeyId: 'alias/aws/ebs', Plaintext: Buffer.from('vol') });
  assert.equal(enc.KeyId, d.KeyMetadata.Arn);
  assert.equal((await h.callError('DisableKey', { KeyId: d.KeyMetadata.KeyId })).code, 'NotAuthorizedException');
  assert.equal((await h.callError('DescribeKey', { KeyId: 'alias/aws/not-a-service' })).code, 'NotFoundException');
});

test('keys are deleted with their aliases once the deletion window has passed', async () => {
  const k = (await h.call('CreateKey', {})).KeyMetadata;
  await h.call('CreateAlias', { AliasName: 'alias/doomed', TargetKeyId: k.KeyId });
  await h.call('ScheduleKeyDeletion', { KeyId: k.KeyId, PendingWindowInDays: 7 });
  h.advance(6 * 86_400_000);
  assert.equal((await h.call('DescribeKey', { KeyId: k.KeyId })).KeyMetadata.KeyState, 'PendingDeletion');
  h.advance(86_400_000);
  assert.equal((await h.callError('DescribeKey', { KeyId: k.KeyId })).code, 'NotFoundException');
  assert.equal((await h.call('ListAliases', {})).Aliases.some((a: any) => a.AliasName === 'alias/doomed'), false);
  assert.equal((await h.call('ListKeys', {})).Keys.some((x: any) => x.KeyId === k.KeyId), false);
});

test('a ciphertext only opens in its key region', async () => {
  const enc = await h.call('Encrypt', { KeyId: keyId, Plaintext: Buffer.from('regional') });
  const e = await h.callError('Decrypt', { CiphertextBlob: enc.CiphertextBlob }, { region: 'eu-west-1' });
  assert.equal(e.code, 'InvalidCiphertextException');
});

test('rotation: on-demand and automatic rotations add key material; older ciphertexts still decrypt', async () => {
  const k = (await h.call('CreateKey', {})).KeyMetadata;
  const before = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('v0') });
  await h.call('RotateKeyOnDemand', { KeyId: k.KeyId });
  const after = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('v1') });
  assert.deepEqual((await h.call('Decrypt', { CiphertextBlob: before.CiphertextBlob })).Plaintext, Buffer.from('v0'));
  assert.deepEqual((await h.call('Decrypt', { CiphertextBlob: after.CiphertextBlob })).Plaintext, Buffer.from('v1'));
  await h.call('EnableKeyRotation', { KeyId: k.KeyId, RotationPeriodInDays: 90 });
  const status = await h.call('GetKeyRotationStatus', { KeyId: k.KeyId });
  assert.equal(status.RotationPeriodInDays, 90);
  h.advance(91 * 86_400_000);
  const later = await h.call('Encrypt', { KeyId: k.KeyId, Plaintext: Buffer.from('v2') });
  const rotations = (await h.call('ListKeyRotations', { KeyId: k.KeyId })).Rotations;
  assert.deepEqual(rotations.map((r: any) => r.RotationType), ['ON_DEMAND', 'AUTOMATIC']);
  for (const [blob, text] of [[before, 'v0'], [after, 'v1'], [later, 'v2']] as const) {
    assert.deepEqual((await h.call('Decrypt', { CiphertextBlob: blob.CiphertextBlob })).Plaintext, Buffer.from(text));
  }
  assert.ok((await h.call('GetKeyRotationStatus', { KeyId: k.KeyId })).NextRotationDate > h.clock.now());
});

test('GenerateDataKeyPair: the private key comes back encrypted under the KMS key and decrypts to the same DER', async () => {
  const pair = await h.call('GenerateDataKeyPair', { KeyId: keyId, KeyPairSpec: 'ECC_NIST_P256' });
  assert.ok(pair.PublicKey.length > 50);
  const opened = await h.call('Decrypt', { CiphertextBlob: pair.PrivateKeyCiphertextBlob });
  assert.deepEqual(opened.Plaintext, pair.PrivateKeyPlaintext);
  const noPlain = await h.call('GenerateDataKeyPairWithoutPlaintext', { KeyId: keyId, KeyPairSpec: 'RSA_2048' });
  assert.equal(noPlain.PrivateKeyPlaintext, undefined);
});
