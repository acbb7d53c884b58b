// Placeholder until the etcd backend lands (issue 3).
import type { Backend } from '../backend.ts';
export class EtcdBackend {
  static async open(_opts: { hosts: string[] }): Promise<Backend> {
    throw new Error('etcd backend not implemented yet');
  }
}
