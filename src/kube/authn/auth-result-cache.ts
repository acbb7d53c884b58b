/**
 * A cache of complete authentication results: the user a bearer token
 * authenticated as (username, uid, groups, extra, access policies), kept per
 * token string together with every input the result was derived from, so
 * that a repeated request costs a map lookup and a few cheap checks instead
 * of parsing the token, resolving the principal and mapping it again.
 *
 * kube-apiserver caches token authentication results too (its token cache in
 * front of the union of token authenticators, 10 s for successes); this one
 * has no TTL but is exact: an entry is used only while
 *  - the credential is unexpired on both clocks it is judged by (wall-clock
 *    for EKS and static tokens, which clients sign with their own time; the
 *    simulated clock for STS sessions and service account tokens), and
 *    neither clock went back before the time it was verified at; and
 *  - every recorded input is unchanged (`AuthInput.unchanged`): the AWS
 *    documents read (the cluster with its authentication mode, the access
 *    entries, the access key, user or STS session), the aws-auth ConfigMap,
 *    the service account and the pod or Secret a token is bound to, ...
 * so a changed mapping, a deleted pod or a deactivated key applies on the
 * very next request, as without the cache. Failures are never cached
 * (upstream's failure TTL is 0 too). Oldest entries go first when full.
 *
 * Entries are found by the token's last characters (its signature, in every
 * token format) and then compared whole: hashing a whole 1.5 KB EKS token
 * for a map lookup costs microseconds on every request (the header string
 * is new each time), a compare of equal strings far less. Two tokens that
 * end alike take each other's place; neither is ever served for the other.
 */

/** One input of an authentication result and how to tell it changed since. */
export interface AuthInput {
  /** True while the input is as it was when the result was computed. Must be cheap and synchronous. */
  unchanged(): boolean;
}

/** The time window a result holds in (epoch ms, inclusive); absent bounds do not limit it. */
export interface ValidityWindow {
  /** Wall-clock bounds (EKS and static tokens). */
  wallFromMs?: number;
  wallThroughMs?: number;
  /** Simulated-clock bounds (STS sessions, service account tokens). */
  simFromMs?: number;
  simThroughMs?: number;
}

/** A cache entry, as find returns it (opaque). */
export interface CachedAuth<V> {
  readonly value: V;
}

interface Entry<V> extends CachedAuth<V> {
  token: string;
  value: V;
  window: ValidityWindow;
  inputs: readonly AuthInput[];
}

/** AuthResultCache keeps results by token (see the module comment). One per cluster. */
export class AuthResultCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private sets = 0;

  constructor(private readonly max = 10_000) {}

  /**
   * The result cached for token if it is still valid at wallMs / simMs with
   * every input unchanged; undefined otherwise (a stale entry is dropped).
   */
  get(token: string, wallMs: number, simMs: number): V | undefined {
    const e = this.find(token);
    return e === undefined ? undefined : this.validate(e, wallMs, simMs);
  }

  /** The entry held for token, valid or not (validate it before use). */
  find(token: string): CachedAuth<V> | undefined {
    const e = this.entries.get(keyOf(token));
    return e !== undefined && e.token === token ? e : undefined;
  }

  /** The value of an entry (from find) if it is still valid at wallMs / simMs with every input unchanged; a stale entry is dropped. */
  validate(entry: CachedAuth<V>, wallMs: number, simMs: number): V | undefined {
    const e = entry as Entry<V>;
    const w = e.window;
    let ok =
      (w.wallThroughMs === undefined || wallMs <= w.wallThroughMs) &&
      (w.wallFromMs === undefined || wallMs >= w.wallFromMs) &&
      (w.simThroughMs === undefined || simMs <= w.simThroughMs) &&
      (w.simFromMs === undefined || simMs >= w.simFromMs);
    for (let i = 0; ok && i < e.inputs.length; i++) ok = e.inputs[i]!.unchanged();
    if (ok) return e.value;
    const k = keyOf(e.token);
    if (this.entries.get(k) === e) this.entries.delete(k);
    return undefined;
  }

  /** Whether an entry (maybe stale) is held for token. */
  has(token: string): boolean {
    return this.find(token) !== undefined;
  }

  /**
   * Caches value for token, valid within window while each of inputs is
   * unchanged. Every SWEEP_EVERY sets, entries whose window has ended by
   * nowWallMs / nowSimMs go (clients move on to new tokens; their old ones
   * would otherwise stay until pushed out).
   */
  set(token: string, value: V, window: ValidityWindow, inputs: readonly AuthInput[], nowWallMs = Date.now(), nowSimMs?: number): void {
    if (++this.sets % SWEEP_EVERY === 0) this.sweep(nowWallMs, nowSimMs);
    const k = keyOf(token);
    if (this.entries.size >= this.max && !this.entries.has(k)) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(k, { token, value, window, inputs });
  }

  /** Drops the entries whose window ended by nowWallMs / nowSimMs (simulated bounds only when nowSimMs is given). */
  sweep(nowWallMs: number, nowSimMs?: number): void {
    for (const [k, e] of this.entries) {
      const w = e.window;
      if ((w.wallThroughMs !== undefined && nowWallMs > w.wallThroughMs) || (nowSimMs !== undefined && w.simThroughMs !== undefined && nowSimMs > w.simThroughMs)) this.entries.delete(k);
    }
  }

  delete(token: string): void {
    if (this.has(token)) this.entries.delete(keyOf(token));
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** How many sets between two sweeps of ended entries. */
const SWEEP_EVERY = 256;

/** The map key of a token: its last KEY_CHARS characters. */
const KEY_CHARS = 40;
function keyOf(token: string): string {
  return token.length <= KEY_CHARS ? token : token.slice(-KEY_CHARS);
}

/**
 * InputRecorder collects the inputs read while one result is computed,
 * deduplicated by a key naming the input (the same document read twice is
 * one input).
 */
export class InputRecorder {
  private readonly byKey = new Map<string, AuthInput>();

  /** Records an input under key (the first one recorded for a key is kept). */
  add(key: string, input: AuthInput): void {
    if (!this.byKey.has(key)) this.byKey.set(key, input);
  }

  inputs(): AuthInput[] {
    return [...this.byKey.values()];
  }
}
