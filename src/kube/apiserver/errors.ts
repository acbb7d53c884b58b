/**
 * API errors as metav1.Status (apimachinery/pkg/api/errors). Every failure the
 * API server answers is a StatusError built by one of these constructors; the
 * handler writes `err.status` with `err.status.code`. Anything thrown that is
 * not a StatusError becomes InternalError (500) and is logged as a bug.
 */
import { type StoreError, isStoreError } from '../../store/backend.ts';
import type { Status } from '../api/types.ts';

/** A group + resource, e.g. {group:'apps', resource:'deployments'}; prints as "deployments.apps". */
export interface GroupResource {
  group: string;
  resource: string;
}

export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** An error carrying a metav1.Status. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message);
    this.name = 'StatusError';
    this.status = status;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): string {
    return this.status.reason ?? '';
  }
}

export function isStatusError(e: unknown, reason?: string): e is StatusError {
  return e instanceof StatusError && (reason === undefined || e.status.reason === reason);
}

function failure(code: number, reason: string, message: string, details?: Status['details']): StatusError {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return new StatusError(s);
}

/** A successful Status (used by deletes that do not return the object). */
export function successStatus(details?: Status['details']): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

export function newNotFound(gr: GroupResource, name: string): StatusError {
  return failure(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group || undefined, kind: gr.resource });
}

/** 404 for a path the server does not serve. */
export function newGenericNotFound(): StatusError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function newAlreadyExists(gr: GroupResource, name: string): StatusError {
  return failure(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group || undefined, kind: gr.resource });
}

export function newConflict(gr: GroupResource, name: string, err: string): StatusError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${err}`, {
    name,
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** The optimistic-concurrency message of upstream's storage layer. */
export const OBJECT_MODIFIED = 'the object has been modified; please apply your changes to the latest version and try again';

/** One field error (apimachinery/pkg/util/validation/field.Error). */
export interface FieldError {
  type:
    | 'FieldValueRequired'
    | 'FieldValueInvalid'
    | 'FieldValueNotSupported'
    | 'FieldValueForbidden'
    | 'FieldValueDuplicate'
    | 'FieldValueTooLong'
    | 'FieldValueTooMany'
    | 'FieldValueNotFound'
    | 'FieldValueTypeInvalid'
    | 'InternalError';
  field: string;
  value?: unknown;
  detail?: string;
}

function fmtValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && '__go' in (v as object)) return String((v as { __go: string }).__go);
  return JSON.stringify(v);
}

/** field.Error.ErrorBody(): the message without the field path. */
export function fieldErrorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case 'FieldValueRequired':
      s = 'Required value';
      break;
    case 'FieldValueForbidden':
      s = 'Forbidden';
      break;
    case 'FieldValueTooLong':
      s = 'Too long';
      break;
    case 'FieldValueTooMany':
      s = 'Too many';
      break;
    case 'InternalError':
      s = 'Internal error';
      break;
    case 'FieldValueInvalid':
      s = `Invalid value: ${fmtValue(e.value)}`;
      break;
    case 'FieldValueNotSupported':
      s = `Unsupported value: ${fmtValue(e.value)}`;
      break;
    case 'FieldValueDuplicate':
      s = `Duplicate value: ${fmtValue(e.value)}`;
      break;
    case 'FieldValueNotFound':
      s = `Not found: ${fmtValue(e.value)}`;
      break;
    case 'FieldValueTypeInvalid':
      s = `Invalid value: ${fmtValue(e.value)}`;
      break;
  }
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export const fieldErr = {
  required: (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail }),
  invalid: (field: string, value: unknown, detail = ''): FieldError => ({ type: 'FieldValueInvalid', field, value, detail }),
  notSupported: (field: string, value: unknown, valid: string[]): FieldError => ({
    type: 'FieldValueNotSupported',
    field,
    value,
    detail: valid.length ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(', ')}` : '',
  }),
  forbidden: (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail }),
  duplicate: (field: string, value: unknown): FieldError => ({ type: 'FieldValueDuplicate', field, value }),
  notFound: (field: string, value: unknown): FieldError => ({ type: 'FieldValueNotFound', field, value }),
  tooLong: (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `may not be more than ${max} bytes` }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'FieldValueTypeInvalid', field, value, detail }),
};

/** 422 Invalid: `Pod "x" is invalid: [a, b]` with one cause per field error. */
export function newInvalid(gk: { group: string; kind: string }, name: string, errs: FieldError[]): StatusError {
  const strs = errs.map((e) => `${e.field}: ${fieldErrorBody(e)}`);
  const agg = strs.length === 1 ? strs[0]! : `[${strs.join(', ')}]`;
  const qk = gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
  return failure(422, 'Invalid', `${qk} "${name}" is invalid: ${agg}`, {
    name,
    group: gk.group || undefined,
    kind: gk.kind,
    causes: errs.map((e) => ({ reason: e.type, message: fieldErrorBody(e), field: e.field })),
  });
}

export function newBadRequest(message: string): StatusError {
  return failure(400, 'BadRequest', message);
}

export function newMethodNotSupported(gr: GroupResource, action: string): StatusError {
  return failure(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${qualified(gr)}"`, {
    group: gr.group || undefined,
    kind: gr.resource,
  });
}

/** 410 Expired (etcd compaction, expired continue tokens). */
export function newResourceExpired(message: string): StatusError {
  return failure(410, 'Expired', message);
}

export function newGone(message: string): StatusError {
  return failure(410, 'Gone', message);
}

export function newForbidden(gr: GroupResource, name: string, err: string): StatusError {
  const what = name ? `${qualified(gr)} "${name}"` : qualified(gr);
  return failure(403, 'Forbidden', `${what} is forbidden: ${err}`, { name: name || undefined, group: gr.group || undefined, kind: gr.resource });
}

export function newTooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return failure(429, 'TooManyRequests', message, { retryAfterSeconds });
}

export function newInternalError(err: unknown): StatusError {
  const msg = err instanceof Error ? err.message : String(err);
  return failure(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

export function newTimeout(message: string, retryAfterSeconds = 0): StatusError {
  return failure(504, 'Timeout', message, { retryAfterSeconds });
}

export function newServiceUnavailable(message: string): StatusError {
  return failure(503, 'ServiceUnavailable', message);
}

export function newUnsupportedMediaType(types: string[]): StatusError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${types.join(', ')}`);
}

export function newNotAcceptable(message: string): StatusError {
  return failure(406, 'NotAcceptable', message);
}

export function newRequestEntityTooLarge(message: string): StatusError {
  return failure(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);
}

/**
 * Translates a store error for one object (storage/errors: Interpret*Error):
 * KeyNotFound→404, KeyExists→409 AlreadyExists, Conflict→409 Conflict,
 * Compacted→410 Expired, Unavailable→504 Timeout, else 500.
 */
export function interpretStoreError(e: unknown, gr: GroupResource, name: string): StatusError {
  if (e instanceof StatusError) return e;
  if (isStoreError(e)) {
    const se = e as StoreError;
    switch (se.code) {
      case 'KeyNotFound':
        return newNotFound(gr, name);
      case 'KeyExists':
        return newAlreadyExists(gr, name);
      case 'Conflict':
        return newConflict(gr, name, OBJECT_MODIFIED);
      case 'Compacted':
        return newResourceExpired(`The resourceVersion for the provided watch is too old.`);
      case 'FutureRevision':
        return newTimeout(`Too large resource version`, 1);
      case 'Unavailable':
        return newTimeout(`etcdserver: request timed out`, 1);
      default:
        return newInternalError(se);
    }
  }
  return newInternalError(e);
}
