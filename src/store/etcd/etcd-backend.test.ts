import { after, before } from 'node:test';
import { runBackendSuite } from '../conformance.ts';
import { EtcdBackend } from './etcd-backend.ts';
import { type EtcdServer, etcdMissing, startEtcd } from './etcd-server.ts';

const missing = etcdMissing();
if (missing) console.log(`# skipping the etcd backend tests: ${missing}`);
let server: EtcdServer | undefined;
before(async () => {
  if (!missing) server = await startEtcd();
});
after(async () => {
  await server?.stop();
});

runBackendSuite('etcd', () => EtcdBackend.open({ hosts: [server!.host], compaction: false }), { skip: missing ?? false });
