/**
 * The instance's TLS material: a certificate authority generated on first
 * start and a serving certificate for the Kubernetes endpoint that it signs.
 *
 * Files, under `<dataDir>/tls/` (keys are written with mode 0600):
 *   ca.crt       the CA certificate (PEM); kubeconfigs and EKS's
 *                certificateAuthority.data (base64 of this PEM) point here
 *   ca.key       its private key (PKCS#8 PEM)
 *   serving.crt  the serving certificate, for 127.0.0.1, ::1, localhost and
 *                every --hostname
 *   serving.key  its private key
 *   store.key    the key (32 bytes, base64) that seals ca.key where it is
 *                recorded in the store (AES-256-GCM)
 *
 * The CA is kept across restarts, and recorded in the store (shareCa) so that
 * servers sharing an etcd store serve one CA; its private key is recorded
 * sealed with store.key, never in plain text, so replicas share store.key.
 * The serving certificate is regenerated when
 * the hostname set changes, when it was not signed by the current CA, or when
 * it expires within 30 days. Certificates are ECDSA P-256 with SHA-256.
 * Validity uses real time (TLS clients check it against their own clock).
 */
import { createCipheriv, createDecipheriv, webcrypto, randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as X509Lib from '@peculiar/x509';
import { type Backend, isStoreError } from '../store/backend.ts';
import { isIp } from './config.ts';

let x509Lib: Promise<typeof X509Lib> | undefined;

/**
 * @peculiar/x509 is loaded only to issue certificates (it costs a few hundred
 * milliseconds of startup); reading and checking them uses node:crypto. It
 * needs the Reflect metadata polyfill (tsyringe) loaded first.
 */
function loadX509(): Promise<typeof X509Lib> {
  return (x509Lib ??= (async () => {
    await import('reflect-metadata');
    const lib = await import('@peculiar/x509');
    lib.cryptoProvider.set(webcrypto as unknown as Parameters<typeof lib.cryptoProvider.set>[0]);
    return lib;
  })());
}

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_VALIDITY_DAYS = 3650;
const SERVING_VALIDITY_DAYS = 825;
const RENEW_BEFORE_DAYS = 30;

/** Names every serving certificate covers. */
export const DEFAULT_SERVING_NAMES = ['127.0.0.1', '::1', 'localhost'];

/** PEM material for the HTTPS listener and for clients. */
export interface TlsMaterial {
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
  /** Absolute or data-dir-relative path of ca.crt (for kubeconfigs); '' when kept in memory only. */
  caCertPath: string;
  /** The names the serving certificate covers (sorted). */
  servingNames: string[];
  /** True when this call created a new CA. */
  createdCa: boolean;
  /** True when this call issued a new serving certificate. */
  issuedServing: boolean;
}

export interface EnsureTlsOptions {
  /** Folder holding tls/; undefined keeps everything in memory (nothing written). */
  dataDir?: string;
  /** Extra names (DNS or IP) beyond DEFAULT_SERVING_NAMES. */
  hostnames: string[];
  /** Real time now, for validity (tests inject it). */
  now?: Date;
  /** Use this CA (e.g. the one recorded in a shared store) instead of the data dir's or a new one; it is written to the data dir. */
  ca?: { certPem: string; keyPem: string };
}

/**
 * ensureTls loads or creates the CA and the serving certificate as described
 * above and returns them. Throws if the files exist but cannot be parsed
 * (a corrupt CA must not be replaced silently: kubeconfigs trust it).
 */
export async function ensureTls(opts: EnsureTlsOptions): Promise<TlsMaterial> {
  const now = opts.now ?? new Date();
  const names = servingNames(opts.hostnames);
  const dir = opts.dataDir === undefined ? undefined : join(opts.dataDir, 'tls');
  if (dir) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (n: string) => join(dir!, n);

  let createdCa = false;
  let ca: Ca;
  if (opts.ca) {
    const { certPem, keyPem } = opts.ca;
    ca = { cert: new X509Certificate(certPem), certPem, keyPem, key: await importKey(keyPem) };
    if (dir && (!existsSync(file('ca.crt')) || readFileSync(file('ca.crt'), 'utf8') !== certPem)) {
      writeAtomic(file('ca.key'), keyPem, 0o600);
      writeAtomic(file('ca.crt'), certPem, 0o644);
    }
  } else if (dir && existsSync(file('ca.crt')) && existsSync(file('ca.key'))) {
    const certPem = readFileSync(file('ca.crt'), 'utf8');
    const keyPem = readFileSync(file('ca.key'), 'utf8');
    ca = { cert: new X509Certificate(certPem), certPem, keyPem, key: await importKey(keyPem) };
  } else {
    ca = await createCa(now);
    createdCa = true;
    if (dir) {
      writeAtomic(file('ca.key'), ca.keyPem, 0o600);
      writeAtomic(file('ca.crt'), ca.certPem, 0o644);
    }
  }

  let issuedServing = false;
  let serving: { certPem: string; keyPem: string } | undefined;
  if (dir && !createdCa && existsSync(file('serving.crt')) && existsSync(file('serving.key'))) {
    const certPem = readFileSync(file('serving.crt'), 'utf8');
    if (servingStillGood(certPem, ca.cert, names, now)) serving = { certPem, keyPem: readFileSync(file('serving.key'), 'utf8') };
  }
  if (!serving) {
    serving = await issueServing(ca, names, now);
    issuedServing = true;
    if (dir) {
      writeAtomic(file('serving.key'), serving.keyPem, 0o600);
      writeAtomic(file('serving.crt'), serving.certPem, 0o644);
    }
  }
  return {
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    certPem: serving.certPem,
    keyPem: serving.keyPem,
    caCertPath: dir ? file('ca.crt') : '',
    servingNames: names,
    createdCa,
    issuedServing,
  };
}

/** servingNames is the sorted, deduplicated name set a serving certificate must cover. */
export function servingNames(hostnames: string[]): string[] {
  return [...new Set([...DEFAULT_SERVING_NAMES, ...hostnames].map((n) => (isIp(n) ? n : n.toLowerCase())))].sort();
}

/** A loaded CA: its certificate (node:crypto), PEMs and signing key. */
interface Ca {
  cert: X509Certificate;
  certPem: string;
  keyPem: string;
  key: CryptoKey;
}

async function createCa(now: Date): Promise<Ca> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=localeks-ca-${randomBytes(4).toString('hex')}, O=localeks`,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = cert.toString('pem') + '\n';
  return { cert: new X509Certificate(certPem), certPem, keyPem: await exportKey(keys.privateKey), key: keys.privateKey };
}

async function issueServing(ca: Ca, names: string[], now: Date) {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.certPem);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notAfter = Math.min(now.getTime() + SERVING_VALIDITY_DAYS * DAY_MS, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localeks, O=localeks',
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(notAfter),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names.map((n) => (isIp(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n }))),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

function servingStillGood(certPem: string, ca: X509Certificate, names: string[], now: Date): boolean {
  try {
    const cert = new X509Certificate(certPem);
    if (new Date(cert.validTo).getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS) return false;
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    // subjectAltName reads like "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1".
    const have = (cert.subjectAltName ?? '')
      .split(', ')
      .filter(Boolean)
      .map((entry) => {
        const i = entry.indexOf(':');
        const type = entry.slice(0, i);
        const value = entry.slice(i + 1);
        return type === 'IP Address' ? normalizeIp(value) : value.toLowerCase();
      })
      .sort();
    const want = names.map((n) => (isIp(n) ? normalizeIp(n) : n)).sort();
    return have.length === want.length && have.every((v, i) => v === want[i]);
  } catch {
    return false;
  }
}

/** Canonical IPv6 text so '::1' and '0:0:0:0:0:0:0:1' compare equal. */
function normalizeIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----(BEGIN|END) PRIVATE KEY-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), ALG, true, ['sign']) as Promise<CryptoKey>;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

/** The store key where the instance CA is recorded (outside /aws/ and /k8s/, so resets and snapshots leave it). */
export const SHARED_CA_KEY = '/localeks/tls/ca';

/**
 * The file (in `<data-dir>/tls/`) holding the key that encrypts the CA's
 * private key where it is recorded in the store: 32 random bytes, base64,
 * mode 0600, made on first use. Servers sharing a store (etcd replicas) must
 * share this file: copy it into each replica's data dir before its first start.
 */
export const STORE_KEY_FILE = 'store.key';

/** The recorded CA: its certificate and its private key sealed with AES-256-GCM under the store key. */
interface RecordedCa {
  certPem: string;
  /** Sealed private key (version 1: base64 iv, tag and ciphertext; the certificate is the additional data). */
  keySealed?: { v: 1; alg: 'A256GCM'; iv: string; tag: string; data: string };
  /** Plain private key PEM, as servers before the sealing recorded it (read, then replaced). */
  keyPem?: string;
}

/** Store keys of processes without a data dir (memory stores): one per process. */
let ephemeralStoreKey: Buffer | undefined;

/**
 * storeKey reads (or makes) the data dir's store key; without a data dir, a
 * key that lives as long as the process.
 */
export function storeKey(dataDir: string | undefined): Buffer {
  if (dataDir === undefined) return (ephemeralStoreKey ??= randomBytes(32));
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = join(dir, STORE_KEY_FILE);
  if (!existsSync(f)) {
    try {
      writeFileSync(f, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // another process made it first
    }
  }
  const key = Buffer.from(readFileSync(f, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${f} is not a localeks store key (32 bytes, base64)`);
  return key;
}

/** sealCaKey encrypts a CA private key for the store (AES-256-GCM, the certificate as additional data). */
export function sealCaKey(keyPem: string, certPem: string, key: Buffer): NonNullable<RecordedCa['keySealed']> {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from(certPem));
  const data = Buffer.concat([c.update(keyPem, 'utf8'), c.final()]);
  return { v: 1, alg: 'A256GCM', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
}

/** openCaKey decrypts a sealed CA key; throws when the store key is not the one it was sealed with. */
export function openCaKey(sealed: NonNullable<RecordedCa['keySealed']>, certPem: string, key: Buffer): string {
  const d = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  d.setAAD(Buffer.from(certPem));
  d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]).toString('utf8');
}

/**
 * shareCa makes every server on one store use one CA: the first server
 * records its CA in the store (create-if-absent, so concurrent first starts
 * agree on one winner), its private key sealed with the data dir's store key
 * (STORE_KEY_FILE), never in plain text; a server whose CA differs adopts the
 * recorded one (written to its data dir) and gets a serving certificate from
 * it. Returns `local` unchanged when it already is the recorded CA. This
 * matters for etcd stores shared by several localeks replicas: a kubeconfig
 * from any of them (EKS certificateAuthority.data) must verify every replica.
 * A record with a plain key (older servers) is read and replaced by a sealed
 * one. Throws when the record is sealed with another store key.
 */
export async function shareCa(backend: Pick<Backend, 'get' | 'create' | 'update'>, local: TlsMaterial, opts: Omit<EnsureTlsOptions, 'ca'>): Promise<TlsMaterial> {
  const key = storeKey(opts.dataDir);
  const record = (certPem: string, keyPem: string) => JSON.stringify({ certPem, keySealed: sealCaKey(keyPem, certPem, key) } satisfies RecordedCa);
  let got = (await backend.get(SHARED_CA_KEY)).kv;
  if (got === undefined) {
    try {
      await backend.create(SHARED_CA_KEY, record(local.caCertPem, local.caKeyPem));
      return local;
    } catch (e) {
      if (!isStoreError(e, 'KeyExists')) throw e;
      got = e.current ?? (await backend.get(SHARED_CA_KEY)).kv;
      if (got === undefined) throw e;
    }
  }
  const ca = JSON.parse(got.value) as RecordedCa;
  let keyPem: string;
  if (ca.keySealed) {
    try {
      keyPem = openCaKey(ca.keySealed, ca.certPem, key);
    } catch {
      const where = opts.dataDir === undefined ? 'this server has no data dir' : `${join(opts.dataDir, 'tls', STORE_KEY_FILE)} is another key`;
      throw new Error(
        `the instance CA recorded in the store (${SHARED_CA_KEY}) is sealed with another server's store key (${where}): copy ${STORE_KEY_FILE} from the tls/ folder of the data dir of the server that recorded it into this server's (mode 0600) and start again`,
      );
    }
  } else if (ca.keyPem) {
    keyPem = ca.keyPem;
    // Recorded by an older server in plain text: seal it (only if nobody changed it meanwhile).
    await backend.update(SHARED_CA_KEY, record(ca.certPem, keyPem), { expectedModRevision: got.modRevision }).catch((e) => {
      if (!isStoreError(e, 'Conflict') && !isStoreError(e, 'KeyNotFound')) throw e;
    });
  } else throw new Error(`the instance CA recorded in the store (${SHARED_CA_KEY}) has no private key`);
  if (ca.certPem === local.caCertPem) return local;
  return ensureTls({ ...opts, ca: { certPem: ca.certPem, keyPem } });
}
