/**
 * The CloudWatch Logs provider (JSON 1.1): log groups (retention, KMS key,
 * tags), log streams, PutLogEvents / GetLogEvents / FilterLogEvents with
 * filter patterns, metric filters and subscription filters.
 */
import { randomUUID } from 'node:crypto';
import { isStoreError } from '../../store/backend.ts';
import type { AwsDeps } from '../core/deps.ts';
import { awsError, type AwsProvider, type OperationHandler, type RequestContext } from '../core/types.ts';
import { getKey } from '../kms/shared.ts';
import { compileFilterPattern } from './filter-pattern.ts';
import { logGroupFields, parseQuery, recordFields, runQuery, type InsightsEvent, type QueryResult } from './insights.ts';
import {
  appendEvents,
  deleteStreamOps,
  eventIdOf,
  getLogGroup,
  groupNotFound,
  invalidParameter,
  newLogGroup,
  newLogStream,
  RETENTION_DAYS,
  streamEvents,
  streamNotFound,
  type StoredEvent,
} from './log-store.ts';
import {
  groupCollection,
  groupKey,
  queryDefinitionCollection,
  queryDefinitionKey,
  resourcePolicyCollection,
  resourcePolicyKey,
  streamCollection,
  streamKey,
  type LogGroupDoc,
  type LogStreamDoc,
  type QueryDefinitionDoc,
  type ResourcePolicyDoc,
} from './model.ts';

const MAX_SUBSCRIPTION_FILTERS = 2;
const MAX_METRIC_FILTERS = 100;
const MAX_RESOURCE_POLICIES = 10;
const MAX_KEPT_QUERIES = 1000;
/** GetLogEvents/FilterLogEvents return at most 1 MB of events per call. */
const MAX_RESPONSE_BYTES = 1_048_576;
const MAX_QUERY_GROUPS = 50;

function renderGroup(g: LogGroupDoc): Record<string, unknown> {
  return {
    logGroupName: g.logGroupName,
    creationTime: g.creationTime,
    retentionInDays: g.retentionInDays,
    metricFilterCount: g._metricFilters.length,
    arn: g.arn,
    logGroupArn: g.logGroupArn,
    storedBytes: g.storedBytes,
    kmsKeyId: g.kmsKeyId,
    logGroupClass: g.logGroupClass,
    deletionProtectionEnabled: g.deletionProtectionEnabled,
  };
}

function renderStream(s: LogStreamDoc): Record<string, unknown> {
  return {
    logStreamName: s.logStreamName,
    creationTime: s.creationTime,
    firstEventTimestamp: s.firstEventTimestamp,
    lastEventTimestamp: s.lastEventTimestamp,
    lastIngestionTime: s.lastIngestionTime,
    uploadSequenceToken: s.uploadSequenceToken,
    arn: s.arn,
    storedBytes: 0,
  };
}

/** Opaque offset tokens for Describe* and FilterLogEvents. */
function offsetToken(n: number): string {
  return Buffer.from(JSON.stringify({ o: n })).toString('base64');
}

function readOffset(token: string | undefined): number {
  if (!token) return 0;
  try {
    const o = JSON.parse(Buffer.from(token, 'base64').toString()).o;
    if (Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw invalidParameter('The specified nextToken is invalid.');
}

function limitCheck(limit: number | undefined, max: number, dflt: number): number {
  if (limit === undefined) return dflt;
  if (limit > max) throw invalidParameter(`1 validation error detected: Value '${limit}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
  return limit;
}

/** The log group name a request names by logGroupName or logGroupIdentifier (name or ARN). */
function groupNameOf(input: { logGroupName?: string; logGroupIdentifier?: string }): string {
  if (input.logGroupName && input.logGroupIdentifier) {
    throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
  }
  const id = input.logGroupName ?? input.logGroupIdentifier;
  if (!id) throw invalidParameter('Either the parameter logGroupName or logGroupIdentifier must be specified.');
  const m = /^arn:aws[\w-]*:logs:[^:]+:\d{12}:log-group:(.+?)(:\*)?$/.exec(id);
  return m ? m[1]! : id;
}

function groupNameFromArn(arn: string): string {
  const m = /^arn:aws[\w-]*:logs:[^:]+:\d{12}:log-group:(.+?)(:\*)?$/.exec(arn);
  if (!m) throw invalidParameter(`Invalid resource arn: ${arn}`);
  return m[1]!;
}

/** createLogsProvider builds the CloudWatch Logs provider (JSON 1.1). */
export function createLogsProvider(deps: AwsDeps): AwsProvider {
  const { state, config } = deps;
  const now = (ctx: RequestContext) => ctx.now().getTime();
  const load = (ctx: RequestContext, name: string): LogGroupDoc => {
    const g = getLogGroup(state, ctx.accountId, ctx.region, name);
    if (!g) throw groupNotFound();
    return g;
  };
  const update = async (ctx: RequestContext, name: string, fn: (g: LogGroupDoc) => void): Promise<void> => {
    await state.mutate<LogGroupDoc>(groupKey(ctx.accountId, ctx.region, name), (cur) => {
      if (!cur) throw groupNotFound();
      fn(cur);
      return cur;
    });
  };
  const checkKmsKey = (ctx: RequestContext, kmsKeyId: string, groupName: string) => {
    if (!/^arn:aws[\w-]*:kms:/.test(kmsKeyId)) {
      throw invalidParameter(`Specified KMS key ${kmsKeyId} is not a valid key ARN.`);
    }
    const key = config.referenceChecks ? getKey(state, ctx.accountId, ctx.region, kmsKeyId) : undefined;
    if (config.referenceChecks && (!key || key.KeyState !== 'Enabled' || key.KeyUsage !== 'ENCRYPT_DECRYPT')) {
      throw invalidParameter(
        `The specified KMS key does not exist or is not allowed to be used with LogGroup 'arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${groupName}'`,
      );
    }
  };
  const checkTags = (tags: Record<string, string> | undefined, current: Record<string, string> = {}) => {
    if (!tags) return;
    for (const k of Object.keys(tags)) if (k.startsWith('aws:')) throw invalidParameter('Tags beginning with aws: are reserved.');
    if (Object.keys({ ...current, ...tags }).length > 50) throw awsError('TooManyTagsException', 'A resource can have no more than 50 tags.', 400);
  };
  const streamsOf = (ctx: RequestContext, group: string): LogStreamDoc[] =>
    state.list<LogStreamDoc>(streamCollection(ctx.accountId, ctx.region)).filter((s) => s._group === group);

  /**
   * Insights queries run to completion when started; their results are kept
   * in memory (the newest MAX_KEPT_QUERIES) for GetQueryResults.
   */
  const queries = new Map<string, { accountId: string; region: string; info: Record<string, unknown>; result: QueryResult }>();

  const operations: Record<string, OperationHandler> = {
    StartQuery: (input, ctx) => {
      const names: string[] = [];
      if (input.logGroupName) names.push(input.logGroupName);
      for (const n of (input.logGroupNames as string[] | undefined) ?? []) names.push(n);
      for (const n of (input.logGroupIdentifiers as string[] | undefined) ?? []) names.push(groupNameOf({ logGroupIdentifier: n }));
      if (names.length === 0) throw invalidParameter('Either logGroupName, logGroupNames or logGroupIdentifiers must be specified.');
      if (names.length > MAX_QUERY_GROUPS) throw invalidParameter(`A query can search at most ${MAX_QUERY_GROUPS} log groups.`);
      if (input.endTime < input.startTime) throw invalidParameter('End time should not be before the start time');
      const cmds = parseQuery(input.queryString);
      const fromMs = input.startTime * 1000;
      const toMs = input.endTime * 1000 + 999;
      const events: InsightsEvent[] = [];
      for (const name of names) {
        const g = load(ctx, name);
        for (const s of streamsOf(ctx, name)) {
          for (const e of streamEvents(state, ctx.accountId, ctx.region, g, s.logStreamName, now(ctx))) {
            if (e.timestamp < fromMs || e.timestamp > toMs) continue;
            events.push({
              timestamp: e.timestamp,
              ingestionTime: e.ingestionTime,
              message: e.message,
              logStreamName: e.logStreamName,
              log: `${ctx.accountId}:${name}`,
              ptr: Buffer.from(`${name}\u0000${eventIdOf(e)}`).toString('base64'),
            });
          }
        }
      }
      const result = runQuery(cmds, events, Math.min(input.limit ?? 10000, 10000));
      const queryId = randomUUID();
      queries.set(queryId, {
        accountId: ctx.accountId,
        region: ctx.region,
        result,
        info: { queryId, queryString: input.queryString, status: 'Complete', createTime: now(ctx), logGroupName: names[0], queryLanguage: 'CWLI' },
      });
      if (queries.size > MAX_KEPT_QUERIES) queries.delete(queries.keys().next().value!);
      return { queryId };
    },
    GetQueryResults: (input, ctx) => {
      const q = queries.get(input.queryId);
      if (!q || q.accountId !== ctx.accountId || q.region !== ctx.region) {
        throw awsError('ResourceNotFoundException', 'Query does not exist.', 400);
      }
      return {
        queryLanguage: 'CWLI',
        status: q.info.status,
        results: q.result.results,
        statistics: { recordsMatched: q.result.recordsMatched, recordsScanned: q.result.recordsScanned, bytesScanned: q.result.bytesScanned },
      };
    },
    GetLogRecord: (input, ctx) => {
      let group = '';
      let eventId = '';
      try {
        [group, eventId] = Buffer.from(input.logRecordPointer, 'base64').toString().split('\u0000') as [string, string];
      } catch {
        // handled below
      }
      const g = group ? getLogGroup(state, ctx.accountId, ctx.region, group) : undefined;
      if (!g || !eventId) throw invalidParameter('The specified log record pointer is invalid.');
      for (const s of streamsOf(ctx, group)) {
        const e = streamEvents(state, ctx.accountId, ctx.region, g, s.logStreamName, now(ctx)).find((x) => eventIdOf(x) === eventId);
        if (e) {
          return {
            logRecord: recordFields({ timestamp: e.timestamp, ingestionTime: e.ingestionTime, message: e.message, logStreamName: e.logStreamName, log: `${ctx.accountId}:${group}`, ptr: input.logRecordPointer }),
          };
        }
      }
      throw awsError('ResourceNotFoundException', 'The specified log record does not exist.', 400);
    },
    GetLogGroupFields: (input, ctx) => {
      const name = groupNameOf(input);
      const g = load(ctx, name);
      const at = input.time !== undefined ? input.time * 1000 : now(ctx);
      const events = streamsOf(ctx, name)
        .flatMap((s) => streamEvents(state, ctx.accountId, ctx.region, g, s.logStreamName, now(ctx)))
        .filter((e) => e.timestamp <= at && e.timestamp > at - 15 * 60_000);
      return { logGroupFields: logGroupFields(events.map((e) => e.message)) };
    },
    ListLogGroups: (input, ctx) => {
      let groups = state.list<LogGroupDoc>(groupCollection(ctx.accountId, ctx.region));
      groups.sort((a, b) => (a.logGroupName < b.logGroupName ? -1 : a.logGroupName > b.logGroupName ? 1 : 0));
      if (input.logGroupNamePattern) {
        let re: RegExp;
        try {
          re = new RegExp(input.logGroupNamePattern, 'i');
        } catch {
          throw invalidParameter('Invalid logGroupNamePattern.');
        }
        groups = groups.filter((g) => re.test(g.logGroupName));
      }
      if (input.logGroupClass) groups = groups.filter((g) => g.logGroupClass === input.logGroupClass);
      const limit = limitCheck(input.limit, 1000, 1000);
      const start = readOffset(input.nextToken);
      const page = groups.slice(start, start + limit);
      return {
        logGroups: page.map((g) => ({ logGroupName: g.logGroupName, logGroupArn: g.logGroupArn, logGroupClass: g.logGroupClass })),
        nextToken: start + page.length < groups.length ? offsetToken(start + page.length) : undefined,
      };
    },
    PutQueryDefinition: async (input, ctx) => {
      parseQuery(input.queryString);
      const id: string = input.queryDefinitionId ?? randomUUID();
      if (input.queryDefinitionId && !state.get(queryDefinitionKey(ctx.accountId, ctx.region, id))) {
        throw awsError('ResourceNotFoundException', 'The specified query definition does not exist.', 400);
      }
      const doc: QueryDefinitionDoc = {
        queryDefinitionId: id,
        name: input.name,
        queryString: input.queryString,
        logGroupNames: input.logGroupNames,
        lastModified: now(ctx),
        queryLanguage: input.queryLanguage ?? 'CWLI',
      };
      await state.commit([{ op: 'put', key: queryDefinitionKey(ctx.accountId, ctx.region, id), doc }]);
      return { queryDefinitionId: id };
    },
    DescribeQueryDefinitions: (input, ctx) => {
      let defs = state.list<QueryDefinitionDoc>(queryDefinitionCollection(ctx.accountId, ctx.region));
      if (input.queryDefinitionNamePrefix) defs = defs.filter((q) => q.name.startsWith(input.queryDefinitionNamePrefix));
      defs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      const limit = limitCheck(input.maxResults, 1000, 1000);
      const start = readOffset(input.nextToken);
      const page = defs.slice(start, start + limit);
      return { queryDefinitions: page, nextToken: start + page.length < defs.length ? offsetToken(start + page.length) : undefined };
    },
    DeleteQueryDefinition: async (input, ctx) => {
      const key = queryDefinitionKey(ctx.accountId, ctx.region, input.queryDefinitionId);
      if (!state.get(key)) throw awsError('ResourceNotFoundException', 'The specified query definition does not exist.', 400);
      await state.commit([{ op: 'delete', key }]);
      return { success: true };
    },
    StopQuery: (input, ctx) => {
      const q = queries.get(input.queryId);
      if (!q || q.accountId !== ctx.accountId || q.region !== ctx.region) {
        throw awsError('ResourceNotFoundException', 'Query does not exist.', 400);
      }
      // Queries complete when started, so there is nothing left to stop.
      return { success: false };
    },
    DescribeQueries: (input, ctx) => {
      let list = [...queries.values()].filter((q) => q.accountId === ctx.accountId && q.region === ctx.region).map((q) => q.info);
      if (input.logGroupName) list = list.filter((q) => q.logGroupName === input.logGroupName);
      if (input.status) list = list.filter((q) => q.status === input.status);
      list.reverse();
      const limit = limitCheck(input.maxResults, 1000, 1000);
      const start = readOffset(input.nextToken);
      const page = list.slice(start, start + limit);
      return { queries: page, nextToken: start + page.length < list.length ? offsetToken(start + page.length) : undefined };
    },

    CreateLogGroup: async (input, ctx) => {
      const name: string = input.logGroupName;
      if (input.kmsKeyId) checkKmsKey(ctx, input.kmsKeyId, name);
      checkTags(input.tags);
      const key = groupKey(ctx.accountId, ctx.region, name);
      const exists = () => awsError('ResourceAlreadyExistsException', 'The specified log group already exists', 400);
      if (state.get(key)) throw exists();
      const doc = newLogGroup(ctx.accountId, ctx.region, name, now(ctx), {
        kmsKeyId: input.kmsKeyId,
        logGroupClass: input.logGroupClass ?? 'STANDARD',
        _tags: { ...(input.tags ?? {}) },
      });
      if (input.deletionProtectionEnabled !== undefined) doc.deletionProtectionEnabled = input.deletionProtectionEnabled;
      try {
        await state.commit([{ op: 'create', key, doc }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw exists();
        throw e;
      }
      return {};
    },
    DeleteLogGroup: async (input, ctx) => {
      const g = load(ctx, input.logGroupName);
      if (g.deletionProtectionEnabled) {
        throw awsError('ValidationException', 'Log group deletion protection is enabled. Disable it before deleting the log group.', 400);
      }
      const ops: Parameters<typeof state.commit>[0] = [{ op: 'delete', key: groupKey(ctx.accountId, ctx.region, g.logGroupName) }];
      for (const s of streamsOf(ctx, g.logGroupName)) ops.push(...deleteStreamOps(state, ctx.accountId, ctx.region, g.logGroupName, s.logStreamName));
      await state.commit(ops);
      return {};
    },
    DescribeLogGroups: (input, ctx) => {
      if (input.logGroupNamePrefix && input.logGroupNamePattern) {
        throw invalidParameter('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
      }
      const limit = limitCheck(input.limit, 50, 50);
      let groups = state.list<LogGroupDoc>(groupCollection(ctx.accountId, ctx.region));
      groups.sort((a, b) => (a.logGroupName < b.logGroupName ? -1 : a.logGroupName > b.logGroupName ? 1 : 0));
      if (input.logGroupNamePrefix) groups = groups.filter((g) => g.logGroupName.startsWith(input.logGroupNamePrefix));
      if (input.logGroupNamePattern) {
        const p = String(input.logGroupNamePattern).toLowerCase();
        groups = groups.filter((g) => g.logGroupName.toLowerCase().includes(p));
      }
      if (input.logGroupClass) groups = groups.filter((g) => g.logGroupClass === input.logGroupClass);
      if (input.logGroupIdentifiers) {
        const want = new Set((input.logGroupIdentifiers as string[]).map((x) => groupNameOf({ logGroupIdentifier: x })));
        groups = groups.filter((g) => want.has(g.logGroupName));
      }
      const start = readOffset(input.nextToken);
      const page = groups.slice(start, start + limit);
      return { logGroups: page.map(renderGroup), nextToken: start + page.length < groups.length ? offsetToken(start + page.length) : undefined };
    },
    PutRetentionPolicy: async (input, ctx) => {
      const days: number = input.retentionInDays;
      if (!RETENTION_DAYS.includes(days)) {
        throw invalidParameter(
          `1 validation error detected: Value '${days}' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`,
        );
      }
      await update(ctx, input.logGroupName, (g) => {
        g.retentionInDays = days;
      });
      return {};
    },
    DeleteRetentionPolicy: async (input, ctx) => {
      await update(ctx, input.logGroupName, (g) => {
        delete g.retentionInDays;
      });
      return {};
    },
    AssociateKmsKey: async (input, ctx) => {
      const name = input.logGroupName ?? (input.resourceIdentifier ? groupNameFromArn(input.resourceIdentifier) : undefined);
      if (!name) throw invalidParameter('Either the parameter logGroupName or resourceIdentifier must be specified.');
      load(ctx, name);
      checkKmsKey(ctx, input.kmsKeyId, name);
      await update(ctx, name, (g) => {
        g.kmsKeyId = input.kmsKeyId;
      });
      return {};
    },
    DisassociateKmsKey: async (input, ctx) => {
      const name = input.logGroupName ?? (input.resourceIdentifier ? groupNameFromArn(input.resourceIdentifier) : undefined);
      if (!name) throw invalidParameter('Either the parameter logGroupName or resourceIdentifier must be specified.');
      await update(ctx, name, (g) => {
        delete g.kmsKeyId;
      });
      return {};
    },
    PutLogGroupDeletionProtection: async (input, ctx) => {
      await update(ctx, groupNameOf(input), (g) => {
        g.deletionProtectionEnabled = input.deletionProtectionEnabled;
      });
      return {};
    },

    TagResource: async (input, ctx) => {
      const name = groupNameFromArn(input.resourceArn);
      const g = load(ctx, name);
      checkTags(input.tags, g._tags);
      await update(ctx, name, (cur) => {
        Object.assign(cur._tags, input.tags);
      });
      return {};
    },
    UntagResource: async (input, ctx) => {
      await update(ctx, groupNameFromArn(input.resourceArn), (g) => {
        for (const k of input.tagKeys as string[]) delete g._tags[k];
      });
      return {};
    },
    ListTagsForResource: (input, ctx) => ({ tags: { ...load(ctx, groupNameFromArn(input.resourceArn))._tags } }),
    TagLogGroup: async (input, ctx) => {
      const g = load(ctx, input.logGroupName);
      checkTags(input.tags, g._tags);
      await update(ctx, input.logGroupName, (cur) => {
        Object.assign(cur._tags, input.tags);
      });
      return {};
    },
    UntagLogGroup: async (input, ctx) => {
      await update(ctx, input.logGroupName, (g) => {
        for (const k of input.tags as string[]) delete g._tags[k];
      });
      return {};
    },
    ListTagsLogGroup: (input, ctx) => ({ tags: { ...load(ctx, input.logGroupName)._tags } }),

    CreateLogStream: async (input, ctx) => {
      load(ctx, input.logGroupName);
      const key = streamKey(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName);
      const exists = () => awsError('ResourceAlreadyExistsException', 'The specified log stream already exists', 400);
      if (state.get(key)) throw exists();
      try {
        await state.commit([{ op: 'create', key, doc: newLogStream(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName, now(ctx)) }]);
      } catch (e) {
        if (isStoreError(e, 'KeyExists')) throw exists();
        throw e;
      }
      return {};
    },
    DeleteLogStream: async (input, ctx) => {
      load(ctx, input.logGroupName);
      if (!state.get(streamKey(ctx.accountId, ctx.region, input.logGroupName, input.logStreamName))) throw streamNotFound();
      await state.commit(deleteStreamOps(state, ctx.accountId, ctx.region, input.logGroupName, input.logStreamName));
      return {};
    },
    DescribeLogStreams: (input, ctx) => {
      const name = groupNameOf(input);
      load(ctx, name);
      const limit = limitCheck(input.limit, 50, 50);
      const orderBy: string = input.orderBy ?? 'LogStreamName';
      if (orderBy === 'LastEventTime' && input.logStreamNamePrefix) {
        throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
      }
      let streams = streamsOf(ctx, name);
      if (input.logStreamNamePrefix) streams = streams.filter((s) => s.logStreamName.startsWith(input.logStreamNamePrefix));
      if (orderBy === 'LastEventTime') {
        streams.sort((a, b) => (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || (a.logStreamName < b.logStreamName ? -1 : 1));
      } else {
        streams.sort((a, b) => (a.logStreamName < b.logStreamName ? -1 : a.logStreamName > b.logStreamName ? 1 : 0));
      }
      if (input.descending) streams.reverse();
      const start = readOffset(input.nextToken);
      const page = streams.slice(start, start + limit);
      return { logStreams: page.map(renderStream), nextToken: start + page.length < streams.length ? offsetToken(start + page.length) : undefined };
    },

    PutLogEvents: async (input, ctx) => {
      const events = (input.logEvents as { timestamp: number; message: string }[]).map((e) => ({ timestamp: Number(e.timestamp), message: e.message }));
      const r = await appendEvents(state, ctx.accountId, ctx.region, input.logGroupName, input.logStreamName, events, now(ctx));
      return { nextSequenceToken: r.nextSequenceToken, rejectedLogEventsInfo: r.rejectedLogEventsInfo };
    },
    GetLogEvents: (input, ctx) => {
      const name = groupNameOf(input);
      const g = load(ctx, name);
      if (!state.get(streamKey(ctx.accountId, ctx.region, name, input.logStreamName))) throw streamNotFound();
      const limit = limitCheck(input.limit, 10000, 10000);
      let events = streamEvents(state, ctx.accountId, ctx.region, g, input.logStreamName, now(ctx));
      if (input.startTime !== undefined) events = events.filter((e) => e.timestamp >= input.startTime);
      if (input.endTime !== undefined) events = events.filter((e) => e.timestamp < input.endTime);
      let from: number;
      let to: number;
      const token: string | undefined = input.nextToken;
      if (token) {
        const m = /^([fb])\/(\d{1,56})$/.exec(token);
        if (!m) throw invalidParameter('The specified nextToken is invalid.');
        const n = Math.min(Number(m[2]), events.length);
        if (m[1] === 'f') {
          from = n;
          to = Math.min(events.length, n + limit);
        } else {
          to = n;
          from = Math.max(0, n - limit);
        }
      } else if (input.startFromHead) {
        from = 0;
        to = Math.min(events.length, limit);
      } else {
        to = events.length;
        from = Math.max(0, to - limit);
      }
      // A response carries at most 1 MB of events.
      let bytes = 0;
      if ((token && token.startsWith('b')) || (!token && !input.startFromHead)) {
        let k = to;
        while (k > from && bytes + Buffer.byteLength(events[k - 1]!.message) + 26 <= MAX_RESPONSE_BYTES) bytes += Buffer.byteLength(events[--k]!.message) + 26;
        from = k;
      } else {
        let k = from;
        while (k < to && bytes + Buffer.byteLength(events[k]!.message) + 26 <= MAX_RESPONSE_BYTES) bytes += Buffer.byteLength(events[k++]!.message) + 26;
        to = k;
      }
      const tok = (d: 'f' | 'b', n: number) => `${d}/${String(n).padStart(56, '0')}`;
      return {
        events: events.slice(from, to).map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
        nextForwardToken: tok('f', to),
        nextBackwardToken: tok('b', from),
      };
    },
    FilterLogEvents: (input, ctx) => {
      const name = groupNameOf(input);
      const g = load(ctx, name);
      if (input.logStreamNames && input.logStreamNamePrefix) {
        throw invalidParameter('Cannot specify both logStreamNames and logStreamNamePrefix.');
      }
      const match = compileFilterPattern(input.filterPattern);
      const limit = limitCheck(input.limit, 10000, 10000);
      let streams = streamsOf(ctx, name);
      if (input.logStreamNames) {
        const want = new Set(input.logStreamNames as string[]);
        streams = streams.filter((s) => want.has(s.logStreamName));
      }
      if (input.logStreamNamePrefix) streams = streams.filter((s) => s.logStreamName.startsWith(input.logStreamNamePrefix));
      const all: StoredEvent[] = [];
      for (const s of streams) {
        for (const e of streamEvents(state, ctx.accountId, ctx.region, g, s.logStreamName, now(ctx))) {
          if (input.startTime !== undefined && e.timestamp < input.startTime) continue;
          if (input.endTime !== undefined && e.timestamp > input.endTime) continue;
          if (match(e.message)) all.push(e);
        }
      }
      if (streams.length > 1) all.sort((a, b) => a.timestamp - b.timestamp || (a.logStreamName < b.logStreamName ? -1 : a.logStreamName > b.logStreamName ? 1 : a.seq - b.seq));
      const start = readOffset(input.nextToken);
      let page = all.slice(start, start + limit);
      let bytes = 0;
      const fit = page.findIndex((e) => (bytes += Buffer.byteLength(e.message) + 26) > MAX_RESPONSE_BYTES);
      if (fit >= 0) page = page.slice(0, Math.max(fit, 1));
      return {
        events: page.map((e) => ({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime, eventId: eventIdOf(e) })),
        searchedLogStreams: streams.map((s) => ({ logStreamName: s.logStreamName, searchedCompletely: true })),
        nextToken: start + page.length < all.length ? offsetToken(start + page.length) : undefined,
      };
    },

    PutMetricFilter: async (input, ctx) => {
      compileFilterPattern(input.filterPattern);
      const g = load(ctx, input.logGroupName);
      if (!g._metricFilters.some((f) => f.filterName === input.filterName) && g._metricFilters.length >= MAX_METRIC_FILTERS) {
        throw awsError('LimitExceededException', 'Resource limit exceeded.', 400);
      }
      await update(ctx, input.logGroupName, (cur) => {
        const f = {
          filterName: input.filterName,
          filterPattern: input.filterPattern,
          metricTransformations: input.metricTransformations,
          creationTime: now(ctx),
          logGroupName: input.logGroupName,
          applyOnTransformedLogs: input.applyOnTransformedLogs ?? false,
        };
        const i = cur._metricFilters.findIndex((x) => x.filterName === input.filterName);
        if (i >= 0) cur._metricFilters[i] = f;
        else cur._metricFilters.push(f);
      });
      return {};
    },
    DescribeMetricFilters: (input, ctx) => {
      let filters: Record<string, unknown>[];
      if (input.logGroupName) filters = [...load(ctx, input.logGroupName)._metricFilters];
      else filters = state.list<LogGroupDoc>(groupCollection(ctx.accountId, ctx.region)).flatMap((g) => g._metricFilters);
      if (input.filterNamePrefix) filters = filters.filter((f) => String(f.filterName).startsWith(input.filterNamePrefix));
      if (input.metricName || input.metricNamespace) {
        filters = filters.filter((f) =>
          (f.metricTransformations as { metricName: string; metricNamespace: string }[]).some(
            (t) => (!input.metricName || t.metricName === input.metricName) && (!input.metricNamespace || t.metricNamespace === input.metricNamespace),
          ),
        );
      }
      const limit = limitCheck(input.limit, 50, 50);
      const start = readOffset(input.nextToken);
      const page = filters.slice(start, start + limit);
      return { metricFilters: page, nextToken: start + page.length < filters.length ? offsetToken(start + page.length) : undefined };
    },
    DeleteMetricFilter: async (input, ctx) => {
      const g = load(ctx, input.logGroupName);
      if (!g._metricFilters.some((f) => f.filterName === input.filterName)) {
        throw awsError('ResourceNotFoundException', 'The specified metric filter does not exist.', 400);
      }
      await update(ctx, input.logGroupName, (cur) => {
        cur._metricFilters = cur._metricFilters.filter((f) => f.filterName !== input.filterName);
      });
      return {};
    },
    TestMetricFilter: (input) => {
      const match = compileFilterPattern(input.filterPattern);
      const messages = input.logEventMessages as string[];
      return {
        matches: messages.flatMap((m, i) => (match(m) ? [{ eventNumber: i + 1, eventMessage: m, extractedValues: {} }] : [])),
      };
    },
    PutSubscriptionFilter: async (input, ctx) => {
      compileFilterPattern(input.filterPattern);
      const g = load(ctx, input.logGroupName);
      if (!g._subscriptionFilters.some((f) => f.filterName === input.filterName) && g._subscriptionFilters.length >= MAX_SUBSCRIPTION_FILTERS) {
        throw awsError('LimitExceededException', 'Resource limit exceeded.', 400);
      }
      await update(ctx, input.logGroupName, (cur) => {
        const f = {
          filterName: input.filterName,
          logGroupName: input.logGroupName,
          filterPattern: input.filterPattern,
          destinationArn: input.destinationArn,
          roleArn: input.roleArn,
          distribution: input.distribution ?? 'ByLogStream',
          applyOnTransformedLogs: input.applyOnTransformedLogs ?? false,
          creationTime: now(ctx),
        };
        const i = cur._subscriptionFilters.findIndex((x) => x.filterName === input.filterName);
        if (i >= 0) cur._subscriptionFilters[i] = f;
        else cur._subscriptionFilters.push(f);
      });
      return {};
    },
    DescribeSubscriptionFilters: (input, ctx) => {
      let filters = [...load(ctx, input.logGroupName)._subscriptionFilters];
      if (input.filterNamePrefix) filters = filters.filter((f) => String(f.filterName).startsWith(input.filterNamePrefix));
      const limit = limitCheck(input.limit, 50, 50);
      const start = readOffset(input.nextToken);
      const page = filters.slice(start, start + limit);
      return { subscriptionFilters: page, nextToken: start + page.length < filters.length ? offsetToken(start + page.length) : undefined };
    },
    DeleteSubscriptionFilter: async (input, ctx) => {
      const g = load(ctx, input.logGroupName);
      if (!g._subscriptionFilters.some((f) => f.filterName === input.filterName)) {
        throw awsError('ResourceNotFoundException', 'The specified subscription filter does not exist.', 400);
      }
      await update(ctx, input.logGroupName, (cur) => {
        cur._subscriptionFilters = cur._subscriptionFilters.filter((f) => f.filterName !== input.filterName);
      });
      return {};
    },

    PutResourcePolicy: async (input, ctx) => {
      if (input.resourceArn) throw invalidParameter('Resource-scoped policies are not supported by localeks; omit resourceArn.');
      const name: string = input.policyName ?? '';
      if (!name) throw invalidParameter('policyName is required.');
      try {
        JSON.parse(input.policyDocument);
      } catch {
        throw invalidParameter('Invalid policy document.');
      }
      const all = state.list<ResourcePolicyDoc>(resourcePolicyCollection(ctx.accountId, ctx.region));
      const cur = all.find((p) => p.policyName === name);
      if (input.expectedRevisionId && cur && cur.revisionId !== input.expectedRevisionId) {
        throw awsError('OperationAbortedException', 'The expected revision ID does not match the current revision ID.', 400);
      }
      if (!cur && all.length >= MAX_RESOURCE_POLICIES) throw awsError('LimitExceededException', 'Resource limit exceeded.', 400);
      const doc: ResourcePolicyDoc = { policyName: name, policyDocument: input.policyDocument, lastUpdatedTime: now(ctx), revisionId: String(Number(cur?.revisionId ?? 0) + 1) };
      await state.commit([{ op: 'put', key: resourcePolicyKey(ctx.accountId, ctx.region, name), doc }]);
      return { resourcePolicy: { ...doc, policyScope: 'ACCOUNT' }, revisionId: doc.revisionId };
    },
    DescribeResourcePolicies: (input, ctx) => {
      const all = state.list<ResourcePolicyDoc>(resourcePolicyCollection(ctx.accountId, ctx.region));
      const limit = limitCheck(input.limit, 50, 50);
      const start = readOffset(input.nextToken);
      const page = all.slice(start, start + limit);
      return {
        resourcePolicies: page.map((p) => ({ ...p, policyScope: 'ACCOUNT' })),
        nextToken: start + page.length < all.length ? offsetToken(start + page.length) : undefined,
      };
    },
    DeleteResourcePolicy: async (input, ctx) => {
      const key = resourcePolicyKey(ctx.accountId, ctx.region, input.policyName ?? '');
      if (!state.get(key)) throw awsError('ResourceNotFoundException', `Policy with name [${input.policyName}] does not exist`, 400);
      await state.commit([{ op: 'delete', key }]);
      return {};
    },
  };
  return { service: 'logs', operations };
}
