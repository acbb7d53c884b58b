/**
 * Log groups, streams and events over AwsState: the operations both the
 * CloudWatch Logs provider and other services (EKS control-plane logging)
 * use. Events are appended as one batch document per accepted PutLogEvents
 * call together with the stream's new metadata, in one transaction.
 */
import { isStoreError } from '../../store/backend.ts';
import type { AwsState } from '../core/state.ts';
import { awsError } from '../core/types.ts';
import {
  batchCollection,
  batchKey,
  groupArn,
  groupKey,
  streamKey,
  type EventBatchDoc,
  type LogEventDoc,
  type LogGroupDoc,
  type LogStreamDoc,
} from './model.ts';

/** Retention values CloudWatch Logs accepts (days). */
export const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const DAY_MS = 86_400_000;
const MAX_AGE_MS = 14 * DAY_MS;
const MAX_FUTURE_MS = 2 * 3_600_000;
/** PutLogEvents batch limit: messages in UTF-8 plus 26 bytes per event. */
const MAX_BATCH_BYTES = 1_048_576;

/** groupNotFound is CloudWatch Logs' error for a missing log group. */
export function groupNotFound(): Error {
  return awsError('ResourceNotFoundException', 'The specified log group does not exist.', 400);
}

/** streamNotFound is CloudWatch Logs' error for a missing log stream. */
export function streamNotFound(): Error {
  return awsError('ResourceNotFoundException', 'The specified log stream does not exist.', 400);
}

/** invalidParameter is CloudWatch Logs' InvalidParameterException. */
export function invalidParameter(message: string): Error {
  return awsError('InvalidParameterException', message, 400);
}

/** newLogGroup builds a log group document. */
export function newLogGroup(accountId: string, region: string, name: string, nowMs: number, extra: Partial<LogGroupDoc> = {}): LogGroupDoc {
  const arn = groupArn(accountId, region, name);
  return {
    logGroupName: name,
    creationTime: nowMs,
    metricFilterCount: 0,
    arn: `${arn}:*`,
    logGroupArn: arn,
    storedBytes: 0,
    logGroupClass: 'STANDARD',
    _tags: {},
    _metricFilters: [],
    _subscriptionFilters: [],
    ...extra,
  };
}

/** newLogStream builds a log stream document. */
export function newLogStream(accountId: string, region: string, group: string, name: string, nowMs: number): LogStreamDoc {
  return {
    logStreamName: name,
    creationTime: nowMs,
    uploadSequenceToken: '1',
    arn: `${groupArn(accountId, region, group)}:log-stream:${name}`,
    storedBytes: 0,
    _group: group,
    _nextBatch: 0,
  };
}

/** getLogGroup reads a group or undefined. */
export function getLogGroup(state: AwsState, accountId: string, region: string, name: string): LogGroupDoc | undefined {
  return state.get<LogGroupDoc>(groupKey(accountId, region, name));
}

/** What PutLogEvents answers. */
export interface PutResult {
  nextSequenceToken: string;
  rejectedLogEventsInfo?: { tooNewLogEventStartIndex?: number; tooOldLogEventEndIndex?: number; expiredLogEventEndIndex?: number };
}

/**
 * appendEvents validates a PutLogEvents batch as CloudWatch Logs does
 * (chronological order, 24-hour span; too old / too new / expired events are
 * rejected by index) and appends the accepted ones.
 */
export async function appendEvents(
  state: AwsState,
  accountId: string,
  region: string,
  group: string,
  stream: string,
  events: { timestamp: number; message: string }[],
  nowMs: number,
): Promise<PutResult> {
  const g = getLogGroup(state, accountId, region, group);
  if (!g) throw groupNotFound();
  const sKey = streamKey(accountId, region, group, stream);
  if (!state.get(sKey)) throw streamNotFound();
  const batchBytes = events.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0);
  if (batchBytes > MAX_BATCH_BYTES) throw invalidParameter(`Upload too large: ${batchBytes} bytes exceeds limit of ${MAX_BATCH_BYTES}`);
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.timestamp < events[i - 1]!.timestamp) {
      throw invalidParameter('Log events in a single PutLogEvents request must be in chronological order.');
    }
  }
  if (events.length > 1 && events[events.length - 1]!.timestamp - events[0]!.timestamp > DAY_MS) {
    throw invalidParameter('The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
  }
  const info: NonNullable<PutResult['rejectedLogEventsInfo']> = {};
  const accepted: LogEventDoc[] = [];
  const retentionCutoff = g.retentionInDays ? nowMs - g.retentionInDays * DAY_MS : -Infinity;
  events.forEach((e, i) => {
    if (e.timestamp > nowMs + MAX_FUTURE_MS) {
      info.tooNewLogEventStartIndex ??= i;
      return;
    }
    if (e.timestamp < nowMs - MAX_AGE_MS) {
      info.tooOldLogEventEndIndex = i;
      return;
    }
    if (e.timestamp < retentionCutoff) {
      info.expiredLogEventEndIndex = i;
      return;
    }
    accepted.push({ timestamp: e.timestamp, message: e.message, ingestionTime: nowMs });
  });
  for (let attempt = 0; ; attempt++) {
    const cur = state.get<LogStreamDoc>(sKey);
    if (!cur) throw streamNotFound();
    const rev = state.revision(sKey);
    const next: LogStreamDoc = { ...cur };
    const bytes = accepted.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0);
    next.uploadSequenceToken = String(BigInt(cur.uploadSequenceToken) + 1n);
    if (accepted.length) {
      const ts = accepted.map((e) => e.timestamp);
      const lo = Math.min(...ts);
      const hi = Math.max(...ts);
      next.firstEventTimestamp = cur.firstEventTimestamp === undefined ? lo : Math.min(cur.firstEventTimestamp, lo);
      next.lastEventTimestamp = cur.lastEventTimestamp === undefined ? hi : Math.max(cur.lastEventTimestamp, hi);
      next.lastIngestionTime = nowMs;
      next.storedBytes = cur.storedBytes + bytes;
      next._nextBatch = cur._nextBatch + 1;
    }
    try {
      const ops: Parameters<AwsState['commit']>[0] = [{ op: 'put', key: sKey, doc: next, expectedRevision: rev }];
      if (accepted.length) {
        const batch: EventBatchDoc = { n: cur._nextBatch, maxTimestamp: Math.max(...accepted.map((e) => e.timestamp)), events: accepted };
        ops.push({ op: 'create', key: batchKey(accountId, region, group, stream, cur._nextBatch), doc: batch });
      }
      // Batches wholly older than the group's retention are dropped as CloudWatch Logs expires them.
      if (g.retentionInDays) {
        for (const b of state.list<EventBatchDoc>(batchCollection(accountId, region, group, stream))) {
          if (b.n !== undefined && b.maxTimestamp !== undefined && b.maxTimestamp < retentionCutoff) {
            ops.push({ op: 'delete', key: batchKey(accountId, region, group, stream, b.n) });
          }
        }
      }
      await state.commit(ops);
      return { nextSequenceToken: next.uploadSequenceToken, rejectedLogEventsInfo: Object.keys(info).length ? info : undefined };
    } catch (e) {
      if (attempt < 20 && (isStoreError(e, 'Conflict') || isStoreError(e, 'KeyExists'))) {
        await state.refresh(sKey);
        continue;
      }
      throw e;
    }
  }
}

/** A stored event with where it came from (for ids and FilterLogEvents). */
export interface StoredEvent extends LogEventDoc {
  logStreamName: string;
  /** Position in the stream's ingestion order (batch * 100000 + index), the tiebreak within a timestamp. */
  seq: number;
}

/** eventIdOf renders the eventId FilterLogEvents returns (digits, unique per stream and position). */
export function eventIdOf(e: StoredEvent): string {
  return `${String(e.timestamp).padStart(16, '0')}${hashName(e.logStreamName)}${String(e.seq).padStart(15, '0')}`;
}

/**
 * Merged, sorted events per stream, cached per AwsState by the stream
 * document's revision: batches are immutable and every append rewrites the
 * stream document in the same transaction, so the revision names the content.
 */
const eventCache = new WeakMap<AwsState, Map<string, { rev: number; events: StoredEvent[] }>>();
const EVENT_CACHE_STREAMS = 2000;

function sortedStreamEvents(state: AwsState, accountId: string, region: string, group: string, stream: string): StoredEvent[] {
  const sKey = streamKey(accountId, region, group, stream);
  const rev = state.revision(sKey);
  let perState = eventCache.get(state);
  if (!perState) {
    perState = new Map();
    eventCache.set(state, perState);
  }
  const hit = perState.get(sKey);
  if (hit && hit.rev === rev) return hit.events;
  const batches = state.list<EventBatchDoc>(batchCollection(accountId, region, group, stream));
  const out: StoredEvent[] = [];
  let sorted = true;
  batches.forEach((b, bi) => {
    b.events.forEach((e, ei) => {
      const prev = out[out.length - 1];
      if (prev && prev.timestamp > e.timestamp) sorted = false;
      out.push({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, logStreamName: stream, seq: (b.n ?? bi) * 100000 + ei });
    });
  });
  if (!sorted) out.sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
  perState.delete(sKey);
  perState.set(sKey, { rev, events: out });
  if (perState.size > EVENT_CACHE_STREAMS) perState.delete(perState.keys().next().value!);
  return out;
}

/** streamEvents returns a stream's events in timestamp order (ingestion order within a timestamp), minus expired ones. Treat as read-only. */
export function streamEvents(state: AwsState, accountId: string, region: string, group: LogGroupDoc, stream: string, nowMs: number): StoredEvent[] {
  const all = sortedStreamEvents(state, accountId, region, group.logGroupName, stream);
  if (!group.retentionInDays) return all;
  const cutoff = nowMs - group.retentionInDays * DAY_MS;
  if (all.length === 0 || all[0]!.timestamp >= cutoff) return all;
  return all.filter((e) => e.timestamp >= cutoff);
}

function hashName(s: string): string {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return String(h).padStart(10, '0');
}

/** deleteStreamOps returns the ops deleting a stream and its event batches. */
export function deleteStreamOps(state: AwsState, accountId: string, region: string, group: string, stream: string): Parameters<AwsState['commit']>[0] {
  const s = state.get<LogStreamDoc>(streamKey(accountId, region, group, stream));
  const ops: Parameters<AwsState['commit']>[0] = [{ op: 'delete', key: streamKey(accountId, region, group, stream) }];
  for (let i = 0; i < (s?._nextBatch ?? 0); i++) {
    const k = batchKey(accountId, region, group, stream, i);
    if (state.get(k)) ops.push({ op: 'delete', key: k });
  }
  return ops;
}
