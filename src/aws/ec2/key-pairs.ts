/**
 * Key pairs: CreateKeyPair (a real RSA or ED25519 key; the private key is
 * returned once and never stored), ImportKeyPair (OpenSSH public keys),
 * DescribeKeyPairs, DeleteKeyPair. Fingerprints are computed as EC2 does:
 * SHA-1 of the PKCS#8 private key for created RSA keys, MD5 of the DER
 * public key for imported RSA keys, SHA-256 (base64) for ED25519 keys.
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { AwsDeps } from '../core/deps.ts';
import type { RequestContext } from '../core/types.ts';
import { storeOf } from './env.ts';
import { E, ec2Error } from './errors.ts';
import { compileFilters, type FilterInput } from './filters.ts';
import { newId } from './ids.ts';
import { type Doc, type Ec2Store, out, T } from './store.ts';
import { tagsFor } from './tags.ts';

const colonHex = (b: Buffer) => b.toString('hex').match(/../g)!.join(':');

function sshString(b: Buffer, off: number): [Buffer, number] {
  const n = b.readUInt32BE(off);
  return [b.subarray(off + 4, off + 4 + n), off + 4 + n];
}

function sshBlob(parts: Buffer[]): Buffer {
  return Buffer.concat(parts.flatMap((p) => { const l = Buffer.alloc(4); l.writeUInt32BE(p.length); return [l, p]; }));
}

function ed25519Blob(key: KeyObject): Buffer {
  const raw = Buffer.from(key.export({ format: 'jwk' }).x as string, 'base64url');
  return sshBlob([Buffer.from('ssh-ed25519'), raw]);
}

/** parsePublicKey reads an OpenSSH (ssh-rsa / ssh-ed25519) or PEM public key; throws InvalidKey.Format. */
function parsePublicKey(material: Buffer): { type: 'rsa' | 'ed25519'; fingerprint: string; publicKey: string } {
  const text = material.toString('utf8').trim();
  const bad = () => ec2Error('InvalidKey.Format', 'Key is not in valid OpenSSH public key format');
  try {
    if (text.startsWith('-----BEGIN')) {
      const k = createPublicKey(text);
      if (k.asymmetricKeyType === 'rsa') {
        const der = k.export({ format: 'der', type: 'spki' });
        const jwk = k.export({ format: 'jwk' });
        const blob = sshBlob([Buffer.from('ssh-rsa'), mpint(jwk.e!), mpint(jwk.n!)]);
        return { type: 'rsa', fingerprint: colonHex(createHash('md5').update(der).digest()), publicKey: `ssh-rsa ${blob.toString('base64')}` };
      }
      if (k.asymmetricKeyType === 'ed25519') {
        const blob = ed25519Blob(k);
        return { type: 'ed25519', fingerprint: createHash('sha256').update(blob).digest('base64'), publicKey: `ssh-ed25519 ${blob.toString('base64')}` };
      }
      throw bad();
    }
    const [kind, b64] = text.split(/\s+/);
    if (!kind || !b64) throw bad();
    const blob = Buffer.from(b64, 'base64');
    const [name, o1] = sshString(blob, 0);
    if (name.toString() !== kind) throw bad();
    if (kind === 'ssh-rsa') {
      const [e, o2] = sshString(blob, o1);
      const [n] = sshString(blob, o2);
      const k = createPublicKey({ key: { kty: 'RSA', e: stripZero(e).toString('base64url'), n: stripZero(n).toString('base64url') }, format: 'jwk' });
      const der = k.export({ format: 'der', type: 'spki' });
      return { type: 'rsa', fingerprint: colonHex(createHash('md5').update(der).digest()), publicKey: `ssh-rsa ${b64}` };
    }
    if (kind === 'ssh-ed25519') {
      const [raw] = sshString(blob, o1);
      if (raw.length !== 32) throw bad();
      return { type: 'ed25519', fingerprint: createHash('sha256').update(blob).digest('base64'), publicKey: `ssh-ed25519 ${b64}` };
    }
    throw bad();
  } catch {
    throw bad();
  }
}

function stripZero(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

function mpint(b64url: string): Buffer {
  const b = Buffer.from(b64url, 'base64url');
  return b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}

function findByName(store: Ec2Store, name: string): Doc | undefined {
  return store.list(T.keyPair).find((k) => k.KeyName === name);
}

/** getKeyPair finds a key pair by name (RunInstances' KeyName). */
export function getKeyPairByName(store: Ec2Store, name: string): Doc | undefined {
  return findByName(store, name);
}

function view(k: Doc, includePublic: boolean): Doc {
  const v = out(k);
  v.CreateTime = new Date(k.CreateTime);
  if (!includePublic) delete v.PublicKey;
  return v;
}

export function keyPairOperations(deps: AwsDeps) {
  const st = (ctx: RequestContext) => storeOf(deps, ctx);

  async function store(ctx: RequestContext, doc: Doc): Promise<void> {
    const s = st(ctx);
    await s.exclusive(async () => {
      if (findByName(s, doc.KeyName)) throw ec2Error('InvalidKeyPair.Duplicate', `The keypair '${doc.KeyName}' already exists.`);
      await s.commit([s.put(T.keyPair, doc.KeyPairId, doc)]);
    });
  }

  return {
    async CreateKeyPair(input: { KeyName: string; KeyType?: string; KeyFormat?: string; TagSpecifications?: Doc[] }, ctx: RequestContext) {
      const tags = tagsFor(input.TagSpecifications, 'key-pair');
      if (findByName(st(ctx), input.KeyName)) throw ec2Error('InvalidKeyPair.Duplicate', `The keypair '${input.KeyName}' already exists.`);
      const type = input.KeyType ?? 'rsa';
      let material: string;
      let fingerprint: string;
      let publicKey: string;
      if (type === 'ed25519') {
        const { privateKey, publicKey: pub } = generateKeyPairSync('ed25519');
        material = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
        const blob = ed25519Blob(pub);
        fingerprint = createHash('sha256').update(blob).digest('base64');
        publicKey = `ssh-ed25519 ${blob.toString('base64')} ${input.KeyName}`;
      } else {
        const { privateKey, publicKey: pub } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        material = privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
        fingerprint = colonHex(createHash('sha1').update(privateKey.export({ format: 'der', type: 'pkcs8' })).digest());
        const jwk = pub.export({ format: 'jwk' });
        publicKey = `ssh-rsa ${sshBlob([Buffer.from('ssh-rsa'), mpint(jwk.e!), mpint(jwk.n!)]).toString('base64')} ${input.KeyName}`;
      }
      const doc: Doc = {
        KeyPairId: newId('key'),
        KeyName: input.KeyName,
        KeyType: type,
        KeyFingerprint: fingerprint,
        PublicKey: publicKey,
        CreateTime: ctx.now().toISOString(),
        Tags: tags,
      };
      await store(ctx, doc);
      return { KeyPairId: doc.KeyPairId, KeyName: doc.KeyName, KeyFingerprint: fingerprint, KeyMaterial: material, Tags: tags };
    },

    async ImportKeyPair(input: { KeyName: string; PublicKeyMaterial: Buffer | string; TagSpecifications?: Doc[] }, ctx: RequestContext) {
      const tags = tagsFor(input.TagSpecifications, 'key-pair');
      const material = Buffer.isBuffer(input.PublicKeyMaterial) ? input.PublicKeyMaterial : Buffer.from(String(input.PublicKeyMaterial));
      const parsed = parsePublicKey(material);
      const doc: Doc = {
        KeyPairId: newId('key'),
        KeyName: input.KeyName,
        KeyType: parsed.type,
        KeyFingerprint: parsed.fingerprint,
        PublicKey: material.toString('utf8').trim().startsWith('-----') ? parsed.publicKey : material.toString('utf8').trim(),
        CreateTime: ctx.now().toISOString(),
        Tags: tags,
      };
      await store(ctx, doc);
      return { KeyPairId: doc.KeyPairId, KeyName: doc.KeyName, KeyFingerprint: doc.KeyFingerprint, Tags: tags };
    },

    DescribeKeyPairs(input: { KeyNames?: string[]; KeyPairIds?: string[]; Filters?: FilterInput[]; IncludePublicKey?: boolean }, ctx: RequestContext) {
      const s = st(ctx);
      let docs = s.list(T.keyPair);
      if (input.KeyNames?.length) {
        docs = input.KeyNames.map((n) => findByName(s, n) ?? (() => { throw E.keyPair(n); })());
      }
      if (input.KeyPairIds?.length) {
        const ids = input.KeyPairIds;
        for (const id of ids) if (!s.get(T.keyPair, id)) throw ec2Error('InvalidKeyPair.NotFound', `The key pair '${id}' does not exist`);
        docs = docs.filter((d) => ids.includes(d.KeyPairId));
      }
      const match = compileFilters(input.Filters, {
        'key-pair-id': (d) => d.KeyPairId,
        'key-name': (d) => d.KeyName,
        fingerprint: (d) => d.KeyFingerprint,
        'key-type': (d) => d.KeyType,
      });
      return { KeyPairs: docs.filter(match).map((d) => view(d, !!input.IncludePublicKey)) };
    },

    async DeleteKeyPair(input: { KeyName?: string; KeyPairId?: string }, ctx: RequestContext) {
      const s = st(ctx);
      return s.exclusive(async () => {
        const doc = input.KeyPairId ? s.get(T.keyPair, input.KeyPairId) : input.KeyName ? findByName(s, input.KeyName) : undefined;
        if (!input.KeyPairId && !input.KeyName) throw E.missing('KeyName');
        if (input.KeyPairId && !doc) throw ec2Error('InvalidKeyPair.NotFound', `The key pair '${input.KeyPairId}' does not exist`);
        // EC2 answers success for an unknown key name.
        if (doc) await s.commit([s.del(T.keyPair, doc.KeyPairId)]);
        return { Return: true, KeyPairId: doc?.KeyPairId };
      });
    },
  };
}
