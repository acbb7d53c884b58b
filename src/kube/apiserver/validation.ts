/**
 * Name, label and annotation validation with upstream's messages
 * (apimachinery/pkg/util/validation, api/validation/objectmeta.go).
 */
import { type FieldError, fieldErr } from './errors.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const MSG_DNS1123_LABEL =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
export const MSG_DNS1123_SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
export const MSG_DNS1035_LABEL =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const MSG_QUALIFIED_NAME =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const MSG_LABEL_VALUE =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Returns the problems of a DNS-1123 label (empty when valid). */
export function isDNS1123Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(v)) out.push(MSG_DNS1123_LABEL);
  return out;
}

export function isDNS1123Subdomain(v: string): string[] {
  const out: string[] = [];
  if (v.length > 253) out.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(v)) out.push(MSG_DNS1123_SUBDOMAIN);
  return out;
}

export function isDNS1035Label(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!DNS1035_LABEL.test(v)) out.push(MSG_DNS1035_LABEL);
  return out;
}

/** Path segment names (ValidatePathSegmentName): no '/', '%', '.' or '..'. */
export function isPathSegmentName(v: string): string[] {
  if (v === '.' || v === '..') return [`may not be '${v}'`];
  for (const c of ['/', '%']) if (v.includes(c)) return [`may not contain '${c}'`];
  return [];
}

/** Qualified names (label and annotation keys): [prefix/]name. */
export function isQualifiedName(v: string): string[] {
  const out: string[] = [];
  const parts = v.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) out.push('prefix part must be non-empty');
    else for (const m of isDNS1123Subdomain(prefix)) out.push(`prefix part ${m}`);
  } else {
    return [`a qualified name ${MSG_QUALIFIED_NAME.replace('name part must', 'must')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  if (name.length === 0) out.push('name part must be non-empty');
  else if (name.length > 63) out.push('name part must be no more than 63 characters');
  if (name.length > 0 && !QUALIFIED_NAME.test(name)) out.push(MSG_QUALIFIED_NAME);
  return out;
}

export function isValidLabelValue(v: string): string[] {
  const out: string[] = [];
  if (v.length > 63) out.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(v)) out.push(MSG_LABEL_VALUE);
  return out;
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of isQualifiedName(k)) errs.push(fieldErr.invalid(path, k, m));
    if (typeof v !== 'string') errs.push(fieldErr.typeInvalid(`${path}.${k}`, v, 'must be a string'));
    else for (const m of isValidLabelValue(v)) errs.push(fieldErr.invalid(path, v, m));
  }
  return errs;
}

const TOTAL_ANNOTATION_SIZE = 256 * 1024;

export function validateAnnotations(ann: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (ann === undefined || ann === null) return errs;
  let total = 0;
  for (const [k, v] of Object.entries(ann as Record<string, unknown>)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(fieldErr.invalid(path, k, m));
    total += k.length + (typeof v === 'string' ? v.length : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE) errs.push({ type: 'FieldValueTooLong', field: path, detail: `must have at most ${TOTAL_ANNOTATION_SIZE} bytes` });
  return errs;
}

export type NameValidator = (name: string) => string[];

/** ValidateObjectMeta: name (with the resource's name rule), namespace, labels, annotations, finalizers. */
export function validateObjectMeta(meta: Record<string, any>, namespaced: boolean, nameFn: NameValidator): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta.name as string | undefined;
  if (!name) {
    errs.push(fieldErr.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const m of nameFn(name)) errs.push(fieldErr.invalid('metadata.name', name, m));
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(fieldErr.required('metadata.namespace', ''));
    else for (const m of isDNS1123Label(meta.namespace)) errs.push(fieldErr.invalid('metadata.namespace', meta.namespace, m));
  } else if (meta.namespace) {
    errs.push(fieldErr.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  if (meta.finalizers !== undefined) {
    const seen = new Set<string>();
    (meta.finalizers as string[]).forEach((f, i) => {
      for (const m of isQualifiedName(f)) errs.push(fieldErr.invalid(`metadata.finalizers[${i}]`, f, m));
      if (seen.has(f)) errs.push(fieldErr.duplicate(`metadata.finalizers[${i}]`, f));
      seen.add(f);
    });
  }
  if (meta.ownerReferences !== undefined) {
    (meta.ownerReferences as Array<Record<string, any>>).forEach((r, i) => {
      const p = `metadata.ownerReferences[${i}]`;
      if (!r.apiVersion) errs.push(fieldErr.invalid(`${p}.apiVersion`, r.apiVersion ?? '', 'version must not be empty'));
      if (!r.kind) errs.push(fieldErr.invalid(`${p}.kind`, r.kind ?? '', 'kind must not be empty'));
      if (!r.name) errs.push(fieldErr.invalid(`${p}.name`, r.name ?? '', 'name must not be empty'));
      if (!r.uid) errs.push(fieldErr.invalid(`${p}.uid`, r.uid ?? '', 'uid must not be empty'));
    });
  }
  return errs;
}
