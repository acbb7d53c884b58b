/**
 * The only place where a store revision becomes a Kubernetes resourceVersion
 * and back (apiserver's storage.APIObjectVersioner). A resourceVersion is the
 * decimal string of the store revision of the object's last write.
 */
import type { KObject } from './types.ts';

/** Encodes a store revision as a resourceVersion string. */
export function revisionToResourceVersion(rev: number): string {
  return String(rev);
}

/**
 * Parses a resourceVersion given by a client. '' and undefined give 0 (unset);
 * returns undefined when the string is not a non-negative integer (the caller
 * answers BadRequest / Invalid).
 */
export function parseResourceVersion(rv: string | undefined | null): number | undefined {
  if (rv === undefined || rv === null || rv === '') return 0;
  if (!/^\d{1,16}$/.test(rv)) return undefined;
  return Number(rv);
}

/** Sets metadata.resourceVersion of obj (mutating it) to the given revision. */
export function stampResourceVersion<T extends KObject>(obj: T, rev: number): T {
  if (!obj.metadata) obj.metadata = {};
  obj.metadata.resourceVersion = revisionToResourceVersion(rev);
  return obj;
}

/** Returns the object's resourceVersion as a revision (0 when unset, undefined when malformed). */
export function objectRevision(obj: KObject): number | undefined {
  return parseResourceVersion(obj.metadata?.resourceVersion);
}
