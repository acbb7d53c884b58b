/**
 * The EKS lifecycle controller: turns CREATING / UPDATING / DELETING into
 * their end states after the profile's duration, on the one simulated clock.
 *
 * A resource in transition carries a private `_tx` record in its stored
 * document (what is happening, until when, the pending change). The
 * controller only reacts to stored state: `begin` schedules a timer for the
 * document's `_tx`, and `start` scans every stored EKS document for a `_tx`
 * and schedules it, so a transition interrupted by a restart resumes (and
 * completes at once if its deadline has passed).
 *
 * Profiles: `instant` completes a transition before the API call returns,
 * `fast` (default) takes a few hundred milliseconds so waiters poll for
 * real, `realistic` uses EKS-like durations (scaled by the clock).
 */
import type { AwsDeps, TimingProfile } from '../core/deps.ts';
import type { StateOp } from '../core/state.ts';
import { AWS_PREFIX } from '../core/state.ts';
import { uuid } from './common.ts';

export type TxOp = 'create' | 'update' | 'delete';

export interface Tx {
  id: string;
  op: TxOp;
  /** Simulated epoch ms at which the transition completes. */
  until: number;
  /** Update record this transition completes (updates only). */
  updateId?: string;
  /** Top-level members to set on the resource when the transition completes. */
  patch?: Record<string, unknown>;
  /** When set, the transition fails with this error. */
  fail?: { errorCode: string; errorMessage: string };
}

/** What resource kind a transition applies to; decides the duration. */
export type Kind = 'cluster' | 'nodegroup' | 'fargate' | 'addon' | 'capability' | 'idp' | 'podid' | 'access' | 'eksa' | 'insights';

/**
 * `fast`: long enough that every state is observable (the create response
 * and any Describe within a few hundred ms show CREATING; waiters poll at
 * least once), short enough that `localeks create cluster` to Ready nodes
 * takes about a second of simulated work. A node group's instances boot
 * during its CREATING (ec2 instanceStart 300 ms < 400 ms).
 */
const FAST: Record<Kind, Record<TxOp, number>> = {
  cluster: { create: 300, update: 400, delete: 400 },
  nodegroup: { create: 400, update: 400, delete: 300 },
  fargate: { create: 300, update: 300, delete: 300 },
  addon: { create: 250, update: 250, delete: 200 },
  capability: { create: 300, update: 300, delete: 300 },
  idp: { create: 300, update: 300, delete: 300 },
  podid: { create: 0, update: 0, delete: 0 },
  access: { create: 0, update: 0, delete: 0 },
  eksa: { create: 200, update: 200, delete: 200 },
  insights: { create: 300, update: 300, delete: 300 },
};

const MIN = 60_000;
const REALISTIC: Record<Kind, Record<TxOp, number>> = {
  cluster: { create: 10 * MIN, update: 8 * MIN, delete: 5 * MIN },
  nodegroup: { create: 3 * MIN, update: 6 * MIN, delete: 4 * MIN },
  fargate: { create: 2 * MIN, update: 2 * MIN, delete: 2 * MIN },
  addon: { create: 1 * MIN, update: 1 * MIN, delete: 1 * MIN },
  capability: { create: 3 * MIN, update: 2 * MIN, delete: 2 * MIN },
  idp: { create: 10 * MIN, update: 10 * MIN, delete: 10 * MIN },
  podid: { create: 0, update: 0, delete: 0 },
  access: { create: 0, update: 0, delete: 0 },
  eksa: { create: 1 * MIN, update: 1 * MIN, delete: 1 * MIN },
  insights: { create: 1 * MIN, update: 1 * MIN, delete: 1 * MIN },
};

export function durationMs(profile: TimingProfile, kind: Kind, op: TxOp): number {
  if (profile === 'instant') return 0;
  return (profile === 'realistic' ? REALISTIC : FAST)[kind][op];
}

/**
 * A completion handler: given the stored document in transition, returns
 * the writes that end it (usually a put of the document in its end state,
 * or deletes), or nothing to leave it as is.
 */
export type Completer = (key: string, doc: any, tx: Tx) => Promise<StateOp[]> | StateOp[];

export class Lifecycle {
  private readonly completers = new Map<string, Completer>();
  private readonly scheduled = new Map<string, () => void>();
  private readonly inflight = new Set<Promise<void>>();
  private started = false;

  constructor(private readonly deps: AwsDeps) {}

  /** register sets the completer for documents whose type (collection segment before '@' or '/') is `type`. */
  register(type: string, fn: Completer): void {
    this.completers.set(type, fn);
  }

  /** newTx builds a transition record for a resource of kind starting now. */
  newTx(kind: Kind, op: TxOp, extra: Partial<Tx> = {}): Tx {
    return { id: uuid(), op, until: this.deps.clock.nowMs() + durationMs(this.deps.config.timingProfile, kind, op), ...extra };
  }

  get instant(): boolean {
    return this.deps.config.timingProfile === 'instant';
  }

  /**
   * begin schedules completion of the transition stored at key. With the
   * instant profile (or a deadline already past) it completes before
   * returning.
   */
  async begin(key: string, tx: Tx): Promise<void> {
    const delay = tx.until - this.deps.clock.nowMs();
    if ((this.instant && !heldElsewhere(tx)) || delay <= 0) {
      await this.finish(key, tx.id);
      return;
    }
    this.scheduled.get(key)?.();
    const cancel = this.deps.clock.after(delay, () => {
      this.scheduled.delete(key);
      const p = this.finish(key, tx.id)
        .catch((err) => this.deps.log.error({ err, key }, 'eks: lifecycle transition failed'))
        .finally(() => this.inflight.delete(p));
      this.inflight.add(p);
    });
    this.scheduled.set(key, cancel);
  }

  /** start schedules every stored transition (after a restart). Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const prefix = `${AWS_PREFIX}eks/`;
    for (const coll of this.deps.state.collectionsUnder(prefix)) {
      for (const doc of this.deps.state.list<any>(coll)) {
        const tx: Tx | undefined = doc?._tx;
        if (!tx) continue;
        const key = doc._key as string | undefined;
        if (key) void this.begin(key, tx).catch((err) => this.deps.log.error({ err, key }, 'eks: resuming transition failed'));
      }
    }
  }

  /** idle resolves once no transition is completing (timers that fired have finished their writes). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /** Number of scheduled (not yet due) transitions. */
  get pending(): number {
    return this.scheduled.size;
  }

  /** stop cancels pending timers (the state keeps the transitions for the next start). */
  stop(): void {
    for (const c of this.scheduled.values()) c();
    this.scheduled.clear();
    this.started = false;
  }

  private async finish(key: string, txId: string): Promise<void> {
    const doc = this.deps.state.get<any>(key);
    if (!doc || doc._tx?.id !== txId) return;
    // Another part of localeks may have moved the deadline (e.g. a node group
    // rollout still replacing nodes): wait for the stored one.
    if ((!this.instant || heldElsewhere(doc._tx as Tx)) && (doc._tx as Tx).until > this.deps.clock.nowMs() + 1) {
      await this.begin(key, doc._tx as Tx);
      return;
    }
    const type = typeOfKey(key);
    const fn = this.completers.get(type);
    if (!fn) return;
    const ops = await fn(key, structuredClone(doc), doc._tx as Tx);
    if (ops.length === 0) return;
    // Guard against a concurrent change of the document (CAS on its revision).
    const rev = this.deps.state.revision(key);
    const guarded = ops.map((o) => (o.key === key && o.op !== 'create' ? { ...o, expectedRevision: rev } : o));
    try {
      await this.deps.state.commit(guarded);
    } catch (err) {
      // Changed under us: retry once against the new document.
      const again = this.deps.state.get<any>(key);
      if (again?._tx?.id === txId) {
        const ops2 = await fn(key, structuredClone(again), again._tx as Tx);
        await this.deps.state.commit(ops2);
      } else {
        throw err;
      }
    }
  }
}

/**
 * heldElsewhere: a transition another part of localeks completes (a node
 * group update whose nodes the data plane replaces) waits for its deadline
 * even in the instant profile.
 */
function heldElsewhere(tx: Tx): boolean {
  const p = tx.patch as { _rollout?: unknown; _drain?: unknown } | undefined;
  return !!(p?._rollout || p?._drain);
}

/** typeOfKey returns the resource type of a store key (`cluster`, `nodegroup`, ...). */
export function typeOfKey(key: string): string {
  const parts = key.split('/');
  // /aws/eks/<acct>/<region>/<type>/<id>
  const t = parts[parts.length - 2] ?? '';
  const at = t.indexOf('@');
  return at < 0 ? t : t.slice(0, at);
}
