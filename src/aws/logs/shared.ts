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
 * existing group, creating the stream when missing. Throws
 * ResourceNotFoundException when the group does not exist.
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
  return appendEvents(state, accountId, region, logGroupName, logStreamName, sorted, nowMs);
}
