/**
 * Each cluster's service account signing key, kept in the store beside the
 * cluster's objects (`/k8s/<uid>/keys/service-account`), so it is deleted
 * with the cluster, survives restarts and is shared by every localeks
 * replica on an etcd store. The key is made on first use; concurrent first
 * uses agree through the store's create-if-absent.
 */
import { isStoreError, type Backend } from '../../store/backend.ts';
import { generateSigningKey, type SigningKeyPem } from './service-account-tokens.ts';

export function signingKeyKey(clusterUid: string): string {
  return `/k8s/${clusterUid}/keys/service-account`;
}

const cache = new Map<string, SigningKeyPem>();

/** ensureSigningKey returns the cluster's key, creating it when missing. */
export async function ensureSigningKey(backend: Backend, clusterUid: string): Promise<SigningKeyPem> {
  const hit = cache.get(clusterUid);
  if (hit) return hit;
  const key = signingKeyKey(clusterUid);
  const existing = await backend.get(key);
  if (existing.kv) return remember(clusterUid, JSON.parse(existing.kv.value));
  const fresh = generateSigningKey();
  try {
    await backend.create(key, JSON.stringify(fresh));
    return remember(clusterUid, fresh);
  } catch (e) {
    if (!isStoreError(e, 'KeyExists')) throw e;
    return remember(clusterUid, JSON.parse(e.current!.value));
  }
}

/** forgetSigningKey drops the cached key (after the cluster is deleted). */
export function forgetSigningKey(clusterUid: string): void {
  cache.delete(clusterUid);
}

function remember(uid: string, k: SigningKeyPem): SigningKeyPem {
  cache.set(uid, k);
  return k;
}
