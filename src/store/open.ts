/**
 * openBackend turns a --store spec into a Backend:
 *   memory                       in-process, nothing persists
 *   sqlite                       the embedded default, in <dataDir>/state.db
 *   etcd://h1:2379[,h2:2379]     an etcd cluster through the etcd3 client
 */
import type { Backend } from './backend.ts';
import { MemoryBackend } from './memory/memory-backend.ts';

export interface OpenBackendOptions {
  /** Folder for on-disk state (sqlite). */
  dataDir: string;
}

export async function openBackend(spec: string, opts: OpenBackendOptions): Promise<Backend> {
  if (spec === 'memory') return new MemoryBackend();
  if (spec === 'sqlite') {
    const { SqliteBackend } = await import('./sqlite/sqlite-backend.ts');
    return SqliteBackend.open({ dir: opts.dataDir });
  }
  if (spec.startsWith('etcd://')) {
    const { EtcdBackend } = await import('./etcd/etcd-backend.ts');
    const hosts = spec.slice('etcd://'.length).split(',').filter(Boolean);
    return EtcdBackend.open({ hosts });
  }
  throw new Error(`unknown store "${spec}": use sqlite, memory or etcd://host:port[,host:port]`);
}
