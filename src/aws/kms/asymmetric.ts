/**
 * Asymmetric and HMAC key material: generation per KeySpec, and the
 * algorithms each spec supports (as KMS lists them in KeyMetadata).
 */
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';

/** What a KeySpec allows: key usages and the algorithms KeyMetadata lists. */
export interface SpecInfo {
  usages: string[];
  encryption?: string[];
  signing?: string[];
  mac?: string[];
  agreement?: string[];
}

/** The key specs localeks supports, by KeySpec. */
export const SPECS: Record<string, SpecInfo> = {
  SYMMETRIC_DEFAULT: { usages: ['ENCRYPT_DECRYPT'], encryption: ['SYMMETRIC_DEFAULT'] },
  RSA_2048: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], encryption: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'], signing: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] },
  RSA_3072: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], encryption: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'], signing: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] },
  RSA_4096: { usages: ['ENCRYPT_DECRYPT', 'SIGN_VERIFY'], encryption: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'], signing: ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256', 'RSASSA_PSS_SHA_384', 'RSASSA_PSS_SHA_512'] },
  ECC_NIST_P256: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], signing: ['ECDSA_SHA_256'], agreement: ['ECDH'] },
  ECC_NIST_P384: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], signing: ['ECDSA_SHA_384'], agreement: ['ECDH'] },
  ECC_NIST_P521: { usages: ['SIGN_VERIFY', 'KEY_AGREEMENT'], signing: ['ECDSA_SHA_512'], agreement: ['ECDH'] },
  ECC_SECG_P256K1: { usages: ['SIGN_VERIFY'], signing: ['ECDSA_SHA_256'] },
  HMAC_224: { usages: ['GENERATE_VERIFY_MAC'], mac: ['HMAC_SHA_224'] },
  HMAC_256: { usages: ['GENERATE_VERIFY_MAC'], mac: ['HMAC_SHA_256'] },
  HMAC_384: { usages: ['GENERATE_VERIFY_MAC'], mac: ['HMAC_SHA_384'] },
  HMAC_512: { usages: ['GENERATE_VERIFY_MAC'], mac: ['HMAC_SHA_512'] },
};

const CURVES: Record<string, string> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
  ECC_SECG_P256K1: 'secp256k1',
};

/** Key material for a new key: symmetric/HMAC secret (base64) or a PEM private key plus DER public key (base64). */
export function generateMaterial(spec: string): { secret?: string; privateKeyPem?: string; publicKeyDer?: string } {
  if (spec === 'SYMMETRIC_DEFAULT') return { secret: randomBytes(32).toString('base64') };
  if (spec.startsWith('HMAC_')) return { secret: randomBytes(Number(spec.slice(5)) / 8).toString('base64') };
  const pair = spec.startsWith('RSA_')
    ? generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) })
    : generateKeyPairSync('ec', { namedCurve: CURVES[spec]! });
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyDer: pair.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

/** signingParams maps a KMS signing algorithm to node's digest and padding. */
export function signingParams(alg: string): { digest: string; pss: boolean } {
  const digest = `sha${alg.slice(-3)}`;
  return { digest, pss: alg.startsWith('RSASSA_PSS') };
}

/** privateKeyOf loads a PEM private key. */
export function privateKeyOf(pem: string) {
  return createPrivateKey(pem);
}

/** publicKeyOf loads a base64 DER (SPKI) public key. */
export function publicKeyOf(derBase64: string) {
  return createPublicKey({ key: Buffer.from(derBase64, 'base64'), format: 'der', type: 'spki' });
}

/** hmac computes a KMS MAC with an HMAC key's secret. */
export function hmac(alg: string, secretBase64: string, message: Buffer): Buffer {
  return createHmac(`sha${alg.slice(-3)}`, Buffer.from(secretBase64, 'base64')).update(message).digest();
}
