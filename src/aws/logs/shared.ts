/**
 * What other services may use from CloudWatch Logs: EKS control-plane
 * logging creates `/aws/eks/<cluster>/cluster` and writes events to streams
 * such as `kube-apiserver-<id>` / `authenticator-<id>`.
 */
import { isStoreError } from '../../store/backend.ts';
import type { AwsState } from '../core/state.ts';
import { appendEvents, getLogGroup, newLogGroup, newLogStream, type PutResult } from './log-store.ts';
import { groupKey, streamKey, type LogGroupDoc } from './model.ts';

export type { LogGroupDoc } from './model.ts';

/** ensureLogGroup creates the log group if it does not exist (idempotent) and returns it. */
export async function ensureLogGroup(
  state: AwsState,
  accountId: string,
  region: string,
  logGroupName: string,
  nowMs: number,
  opts: { retentionInDays?: number; kmsKeyId?: string; tags?: Record<string, string> } = {},
): Promise<LogGroupDoc> {
  const cur = getLogGroup(state, accountId, region, logGroupName);
  if (cur) return cur;
  const doc = newLogGroup(accountId, region, logGroupName, nowMs, {
    retentionInDays: opts.retentionInDays,
    kmsKeyId: opts.kmsKeyId,
    _tags: { ...(opts.tags ?? {}) },
  });
  try {
    await state.commit([{ op: 'create', key: groupKey(accountId, region, logGroupName), doc }]);
  } catch (e) {
    if (!isStoreError(e, 'KeyExists')) throw e;
  }
  return getLogGroup(state, accountId, region, logGroupName) ?? doc;
}

/** ensureLogStream creates a stream in an existing group if it does not exist (idempotent). */
export async function ensureLogStream(state: AwsState, accountId: string, region: string, logGroupName: string, logStreamName: string, nowMs: number): Promise<void> {
  const key = streamKey(accountId, region, logGroupName, logStreamName);
  if (state.get(key)) return;
  try {
    await state.commit([{ op: 'create', key, doc: newLogStream(accountId, region, logGroupName, logStreamName, nowMs) }]);
  } catch (e) {
    if (!isStoreError(e, 'KeyExists')) throw e;
  }
}

/**
 * putLogEvents appends events (sorted here by timestamp) to a stream of an
 * existing group, creating the stream when missing, in as many PutLogEvents
 * batches as CloudWatch's limits need (24-hour span, 10,000 events, 1 MiB).
 * Events outside the accepted age window are dropped as PutLogEvents drops
 * them. Throws ResourceNotFoundException when the group does not exist.
 * Returns the result of the last batch.
 */
export async function putLogEvents(
  state: AwsState,
  accountId: string,
  region: string,
  logGroupName: string,
  logStreamName: string,
  events: { timestamp: number; message: string }[],
  nowMs: number,
): Promise<PutResult> {
  if (getLogGroup(state, accountId, region, logGroupName)) await ensureLogStream(state, accountId, region, logGroupName, logStreamName, nowMs);
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
  if (sorted.length === 0) return appendEvents(state, accountId, region, logGroupName, logStreamName, [], nowMs);
  let result: PutResult | undefined;
  let batch: { timestamp: number; message: string }[] = [];
  let bytes = 0;
  const flush = async () => {
    if (batch.length) result = await appendEvents(state, accountId, region, logGroupName, logStreamName, batch, nowMs);
    batch = [];
    bytes = 0;
  };
  for (const e of sorted) {
    const size = Buffer.byteLength(e.message) + 26;
    if (batch.length && (batch.length >= 10_000 || bytes + size > 1_048_576 || e.timestamp - batch[0]!.timestamp > 86_400_000)) await flush();
    batch.push(e);
    bytes += size;
  }
  await flush();
  return result!;
}
