/**
 * KMS end to end with the real aws CLI (v1) and boto3: keys, aliases,
 * envelope encryption with real cryptography (round trip, encryption
 * context, tampering), key states and KMS's errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { awsJson, runAws } from '../helpers/aws-cli.ts';
import { runBoto3 } from '../helpers/boto3.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let srv: TestServer;
let ep: string;
const aws = (...args: string[]) => awsJson(ep, args);

describe('kms (aws CLI, boto3)', () => {
  before(async () => {
    srv = await startTestServer();
    ep = srv.awsEndpoint;
  });
  after(() => srv.stop());

  it('creates a key with an alias, describes it by alias, and lists it', async () => {
    const k = (await aws('kms', 'create-key', '--description', 'eks secrets', '--tags', 'TagKey=team,TagValue=platform')).KeyMetadata;
    assert.equal(k.KeyState, 'Enabled');
    assert.equal(k.KeySpec, 'SYMMETRIC_DEFAULT');
    await aws('kms', 'create-alias', '--alias-name', 'alias/eks-secrets', '--target-key-id', k.KeyId);
    const d = (await aws('kms', 'describe-key', '--key-id', 'alias/eks-secrets')).KeyMetadata;
    assert.equal(d.KeyId, k.KeyId);
    assert.equal(d.Description, 'eks secrets');
    const aliases = await aws('kms', 'list-aliases', '--key-id', k.KeyId);
    assert.deepEqual(aliases.Aliases.map((a: any) => a.AliasName), ['alias/eks-secrets']);
    const tags = await aws('kms', 'list-resource-tags', '--key-id', k.KeyId);
    assert.deepEqual(tags.Tags, [{ TagKey: 'team', TagValue: 'platform' }]);
    const policy = JSON.parse((await aws('kms', 'get-key-policy', '--key-id', k.KeyId, '--policy-name', 'default')).Policy);
    assert.equal(policy.Statement[0].Principal.AWS, 'arn:aws:iam::000000000000:root');
    const missing = await runAws(ep, ['kms', 'describe-key', '--key-id', 'alias/nope']);
    assert.equal(missing.errorCode, 'NotFoundException');
    assert.equal(missing.errorMessage, 'Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found.');
    const dup = await runAws(ep, ['kms', 'create-alias', '--alias-name', 'alias/eks-secrets', '--target-key-id', k.KeyId]);
    assert.equal(dup.errorCode, 'AlreadyExistsException');
  });

  it('encrypts and decrypts for real; tampering and a wrong context fail; disabled keys refuse (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
kms = client('kms')
kid = kms.create_key()['KeyMetadata']['KeyId']
blob = kms.encrypt(KeyId=kid, Plaintext=b'hunter2', EncryptionContext={'cluster': 'demo'})['CiphertextBlob']
plain = kms.decrypt(CiphertextBlob=blob, EncryptionContext={'cluster': 'demo'})['Plaintext']
def err(fn):
    try:
        fn()
        return None
    except ClientError as e:
        return e.response['Error']['Code']
tampered = bytearray(blob); tampered[-1] ^= 1
dk = kms.generate_data_key(KeyId=kid, KeySpec='AES_256')
dk_plain = kms.decrypt(CiphertextBlob=dk['CiphertextBlob'])['Plaintext']
wrong_ctx = err(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={'cluster': 'other'}))
tamper = err(lambda: kms.decrypt(CiphertextBlob=bytes(tampered), EncryptionContext={'cluster': 'demo'}))
kms.disable_key(KeyId=kid)
disabled = err(lambda: kms.encrypt(KeyId=kid, Plaintext=b'x'))
kms.enable_key(KeyId=kid)
sched = kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=7)
pending = err(lambda: kms.decrypt(CiphertextBlob=blob, EncryptionContext={'cluster': 'demo'}))
bad_window = err(lambda: kms.schedule_key_deletion(KeyId=kid, PendingWindowInDays=3))
kms.cancel_key_deletion(KeyId=kid)
result = {
  'plain': plain.decode(),
  'hasPlain': b'hunter2' in blob,
  'dkLen': len(dk['Plaintext']),
  'dkRound': dk_plain == dk['Plaintext'],
  'wrongCtx': wrong_ctx,
  'tamper': tamper,
  'disabled': disabled,
  'schedState': sched['KeyState'],
  'pending': pending,
  'badWindow': bad_window,
  'afterCancel': kms.describe_key(KeyId=kid)['KeyMetadata']['KeyState'],
}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    assert.deepEqual(r.json, {
      plain: 'hunter2',
      hasPlain: false,
      dkLen: 32,
      dkRound: true,
      wrongCtx: 'InvalidCiphertextException',
      tamper: 'InvalidCiphertextException',
      disabled: 'DisabledException',
      schedState: 'PendingDeletion',
      pending: 'KMSInvalidStateException',
      badWindow: 'ValidationException',
      afterCancel: 'Disabled',
    });
  });

  it('rotates key material on demand; old ciphertexts still decrypt; AWS managed aliases resolve (boto3)', async () => {
    const r = await runBoto3(
      ep,
      `
kms = client('kms')
kid = kms.create_key()['KeyMetadata']['KeyId']
old = kms.encrypt(KeyId=kid, Plaintext=b'before')['CiphertextBlob']
kms.rotate_key_on_demand(KeyId=kid)
new = kms.encrypt(KeyId=kid, Plaintext=b'after')['CiphertextBlob']
ebs = kms.describe_key(KeyId='alias/aws/ebs')['KeyMetadata']
pair = kms.generate_data_key_pair(KeyId=kid, KeyPairSpec='RSA_2048')
result = {
  'old': kms.decrypt(CiphertextBlob=old)['Plaintext'].decode(),
  'new': kms.decrypt(CiphertextBlob=new)['Plaintext'].decode(),
  'rotations': [x['RotationType'] for x in kms.list_key_rotations(KeyId=kid)['Rotations']],
  'ebsManager': ebs['KeyManager'],
  'aliases': [a['AliasName'] for a in kms.list_aliases()['Aliases'] if a['AliasName'] == 'alias/aws/ebs'],
  'pairRound': kms.decrypt(CiphertextBlob=pair['PrivateKeyCiphertextBlob'])['Plaintext'] == pair['PrivateKeyPlaintext'],
}
`,
    );
    assert.equal(r.error, undefined, r.stderr);
    assert.deepEqual(r.json, { old: 'before', new: 'after', rotations: ['ON_DEMAND'], ebsManager: 'AWS', aliases: ['alias/aws/ebs'], pairRound: true });
  });

  it('round-trips through the aws CLI with fileb:// blobs and manages grants and rotation', async () => {
    const kid = (await aws('kms', 'create-key')).KeyMetadata.KeyId;
    // CLI v1 sends a blob argument's text as the raw bytes.
    const enc = await aws('kms', 'encrypt', '--key-id', kid, '--plaintext', 'from the cli');
    const dir = mkdtempSync(join(tmpdir(), 'kms-e2e-'));
    const file = join(dir, 'blob');
    writeFileSync(file, Buffer.from(enc.CiphertextBlob, 'base64'));
    const dec = await aws('kms', 'decrypt', '--ciphertext-blob', `fileb://${file}`);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(Buffer.from(dec.Plaintext, 'base64').toString(), 'from the cli');
    assert.equal(dec.KeyId, `arn:aws:kms:us-east-1:000000000000:key/${kid}`);
    await aws('kms', 'enable-key-rotation', '--key-id', kid);
    assert.equal((await aws('kms', 'get-key-rotation-status', '--key-id', kid)).KeyRotationEnabled, true);
    const g = await aws('kms', 'create-grant', '--key-id', kid, '--grantee-principal', 'arn:aws:iam::000000000000:role/x', '--operations', 'Decrypt', 'Encrypt');
    assert.equal((await aws('kms', 'list-grants', '--key-id', kid)).Grants[0].GrantId, g.GrantId);
    await aws('kms', 'revoke-grant', '--key-id', kid, '--grant-id', g.GrantId);
    assert.equal((await aws('kms', 'list-grants', '--key-id', kid)).Grants.length, 0);
  });
});
