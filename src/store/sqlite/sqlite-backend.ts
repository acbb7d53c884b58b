// Placeholder until the sqlite backend lands (issue 3).
import type { Backend } from '../backend.ts';
export class SqliteBackend {
  static async open(_opts: { dir: string }): Promise<Backend> {
    throw new Error('sqlite backend not implemented yet');
  }
}
