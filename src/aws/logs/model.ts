/**
 * How CloudWatch Logs data is kept: log groups at
 * `/aws/logs/<account>/<region>/log-group/<name>` (the model's LogGroup plus
 * private tags, metric and subscription filters); log streams at
 * `.../log-stream/<group>\u0000<stream>` holding the model's LogStream; the
 * events of a stream in one collection per stream,
 * `.../events:<group>:<stream>/<batch number>`, one document per accepted
 * PutLogEvents batch, so a write never rewrites older events.
 */
import { awsKey, collectionPrefix, type Scope } from '../core/state.ts';

export const LOGS = 'logs';

export interface LogEventDoc {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

export interface LogGroupDoc {
  logGroupName: string;
  creationTime: number;
  retentionInDays?: number;
  metricFilterCount: number;
  arn: string;
  logGroupArn: string;
  storedBytes: number;
  kmsKeyId?: string;
  logGroupClass: string;
  dataProtectionStatus?: string;
  deletionProtectionEnabled?: boolean;
  _tags: Record<string, string>;
  _metricFilters: Record<string, unknown>[];
  _subscriptionFilters: Record<string, unknown>[];
}

export interface LogStreamDoc {
  logStreamName: string;
  creationTime: number;
  firstEventTimestamp?: number;
  lastEventTimestamp?: number;
  lastIngestionTime?: number;
  uploadSequenceToken: string;
  arn: string;
  storedBytes: number;
  _group: string;
  /** Number of the next event batch document. */
  _nextBatch: number;
}

export function logsScope(accountId: string, region: string): Scope {
  return { accountId, region };
}

export function groupKey(accountId: string, region: string, name: string): string {
  return awsKey(logsScope(accountId, region), LOGS, 'log-group', name);
}

export function groupCollection(accountId: string, region: string): string {
  return collectionPrefix(logsScope(accountId, region), LOGS, 'log-group');
}

/** Streams of all groups share one collection; ids are group NUL stream so one group's streams sort together. */
export function streamKey(accountId: string, region: string, group: string, stream: string): string {
  return awsKey(logsScope(accountId, region), LOGS, 'log-stream', `${group}\u0000${stream}`);
}

export function streamCollection(accountId: string, region: string): string {
  return collectionPrefix(logsScope(accountId, region), LOGS, 'log-stream');
}

export function groupArn(accountId: string, region: string, name: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:${name}`;
}

/** One accepted PutLogEvents batch, events in request order. */
export interface EventBatchDoc {
  /** The batch number (its key); absent in batches written before it was recorded. */
  n?: number;
  /** Newest event timestamp in the batch (retention drops whole batches older than the cutoff). */
  maxTimestamp?: number;
  events: LogEventDoc[];
}

function eventsType(group: string, stream: string): string {
  return `events:${encodeURIComponent(group)}:${encodeURIComponent(stream)}`;
}

export function batchKey(accountId: string, region: string, group: string, stream: string, n: number): string {
  return awsKey(logsScope(accountId, region), LOGS, eventsType(group, stream), String(n).padStart(10, '0'));
}

export function batchCollection(accountId: string, region: string, group: string, stream: string): string {
  return collectionPrefix(logsScope(accountId, region), LOGS, eventsType(group, stream));
}

/** An account-level resource policy (PutResourcePolicy), in the model's ResourcePolicy shape. */
export interface ResourcePolicyDoc {
  policyName: string;
  policyDocument: string;
  lastUpdatedTime: number;
  revisionId: string;
}

export function resourcePolicyKey(accountId: string, region: string, name: string): string {
  return awsKey(logsScope(accountId, region), LOGS, 'resource-policy', name);
}

export function resourcePolicyCollection(accountId: string, region: string): string {
  return collectionPrefix(logsScope(accountId, region), LOGS, 'resource-policy');
}

/** A saved Logs Insights query (PutQueryDefinition), in the model's QueryDefinition shape. */
export interface QueryDefinitionDoc {
  queryDefinitionId: string;
  name: string;
  queryString: string;
  logGroupNames?: string[];
  lastModified: number;
  queryLanguage: string;
}

export function queryDefinitionKey(accountId: string, region: string, id: string): string {
  return awsKey(logsScope(accountId, region), LOGS, 'query-definition', id);
}

export function queryDefinitionCollection(accountId: string, region: string): string {
  return collectionPrefix(logsScope(accountId, region), LOGS, 'query-definition');
}
