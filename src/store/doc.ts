/**
 * Package store: the revisioned key/value store localeks keeps all state in.
 *
 *   backend.ts      the Backend contract (kine/etcd model) and StoreError
 *   conformance.ts  the one test suite every backend passes
 *   open.ts         --store spec -> Backend (sqlite | memory | etcd://...)
 *   broadcaster.ts  watch fan-out for in-process backends (memory, sqlite)
 *   compactor.ts    periodic compaction with a retention window
 *   leases.ts       in-process lease bookkeeping (memory backend)
 *   memory/         the reference backend (tests, --store memory)
 *   sqlite/         the embedded default: kine's log table on better-sqlite3,
 *                   WAL + synchronous=FULL, group commit
 *   etcd/           Backend mapped onto etcd v3 through the etcd3 client;
 *                   etcd-server.ts starts a throwaway etcd for tests/benches
 *
 * Invariants every backend keeps (and conformance.ts checks): each write gets
 * a new revision greater than every acknowledged one; a write is acknowledged
 * only once durable; conditional writes (create, CAS update/delete, txn) fail
 * with a StoreError and change nothing; watchers get every event after their
 * start revision once, in revision order, with the previous value; reads and
 * watches older than the compaction point fail with Compacted.
 *
 * Throughput and latency: `npm run bench:store`.
 */
export {};
