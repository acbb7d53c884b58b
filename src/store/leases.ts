/**
 * LeaseKeeper tracks leases for the memory backend, which keeps everything in
 * process: ids, TTLs, attached keys, and expiry. Expired leases are found by
 * one periodic sweep (never one timer per lease); their keys are handed to the
 * backend's expire callback, which deletes them as ordinary writes so that
 * watchers see the deletions. A lease past its expiry is gone for every
 * caller (has/keepAlive) even before the sweep deletes its keys, as in etcd.
 * (The sqlite backend keeps leases in its own table; etcd has its own.)
 */
import { StoreError } from './backend.ts';

interface Lease {
  ttlMs: number;
  expiresAt: number;
  keys: Set<string>;
}

export class LeaseKeeper {
  private readonly leases = new Map<number, Lease>();
  private nextId = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly expire: (keys: string[]) => Promise<void>,
    sweepMs = 500,
    private readonly now: () => number = Date.now,
  ) {
    this.timer = setInterval(() => void this.sweep(), sweepMs);
    this.timer.unref();
  }

  /** grant makes a lease and returns its id. */
  grant(ttlSeconds: number, id?: number): number {
    const leaseId = id ?? this.nextId++;
    if (leaseId >= this.nextId) this.nextId = leaseId + 1;
    const ttlMs = Math.max(1, ttlSeconds) * 1000;
    this.leases.set(leaseId, { ttlMs, expiresAt: this.now() + ttlMs, keys: new Set() });
    return leaseId;
  }

  /** has tells whether the lease exists and has not expired. */
  has(id: number): boolean {
    const l = this.leases.get(id);
    return l !== undefined && l.expiresAt > this.now();
  }

  keepAlive(id: number): void {
    const l = this.leases.get(id);
    if (!l || l.expiresAt <= this.now()) throw new StoreError('LeaseNotFound', `lease ${id} not found`);
    l.expiresAt = this.now() + l.ttlMs;
  }

  /** revoke forgets the lease and returns its keys (the caller deletes them). */
  revoke(id: number): string[] {
    const l = this.leases.get(id);
    if (!l) throw new StoreError('LeaseNotFound', `lease ${id} not found`);
    this.leases.delete(id);
    return [...l.keys];
  }

  attach(id: number, key: string): void {
    if (id) this.leases.get(id)?.keys.add(key);
  }

  detach(id: number, key: string): void {
    if (id) this.leases.get(id)?.keys.delete(key);
  }

  /** ids and remaining TTLs, for backends that persist leases. */
  entries(): Array<{ id: number; ttlSeconds: number; expiresAt: number }> {
    return [...this.leases].map(([id, l]) => ({ id, ttlSeconds: l.ttlMs / 1000, expiresAt: l.expiresAt }));
  }

  async sweep(): Promise<void> {
    const t = this.now();
    const keys: string[] = [];
    for (const [id, l] of this.leases) {
      if (l.expiresAt <= t) {
        this.leases.delete(id);
        keys.push(...l.keys);
      }
    }
    if (keys.length > 0) await this.expire(keys).catch(() => {});
  }

  close(): void {
    clearInterval(this.timer);
  }
}
