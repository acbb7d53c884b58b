/**
 * A bounded cache of token verifications, as kube-apiserver caches webhook
 * token reviews (aws-iam-authenticator behind it) and as its JWT
 * authenticator caches verified service account tokens: what is cached is
 * only the expensive, stable part (the token's form and signature checked
 * against a given secret or key), never the identity mapping or the
 * principal's current state (auth-result-cache.ts keeps complete results,
 * each checked against the inputs it came from). An entry lives until the
 * token itself expires. Oldest entries go first when full.
 */
export class TokenCache<V> {
  private readonly entries = new Map<string, { v: V; untilMs: number }>();

  constructor(private readonly max = 10_000) {}

  /** The value cached for key at nowMs, undefined when absent or expired. */
  get(key: string, nowMs: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (nowMs >= e.untilMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.v;
  }

  /** Caches v for key until untilMs (epoch ms). */
  set(key: string, v: V, untilMs: number): void {
    if (this.entries.size >= this.max && !this.entries.has(key)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { v, untilMs });
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
