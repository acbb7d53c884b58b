/**
 * The field structure of every built-in type, taken from the generated
 * models of @kubernetes/client-node (their attributeTypeMap: field names,
 * types and formats, generated from upstream's OpenAPI). Used to serve
 * OpenAPI component schemas (kubectl explain) and to find unknown fields for
 * fieldValidation. Loaded lazily in the background; until it is loaded (or if
 * the package is absent) callers fall back to their own tables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

type ModelClass = { getAttributeTypeMap(): Attribute[] };
let models: Record<string, unknown> | null | undefined;
let loading: Promise<void> | undefined;

/** Starts loading the models (once); resolves when done (or failed). */
export function loadModels(): Promise<void> {
  return (loading ??= import('@kubernetes/client-node').then(
    async (m) => {
      const all: Record<string, unknown> = { ...(m as unknown as Record<string, unknown>) };
      // flowcontrol v1beta3 (served deprecated by 1.29-1.31): its model files ship with client-node but are no longer exported.
      try {
        const dir = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
        for (const f of readdirSync(dir)) {
          const c = /^(V1beta3\w+)\.js$/.exec(f)?.[1];
          if (!c || c in all) continue;
          const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
          if (mod[c]) all[c] = mod[c];
        }
      } catch {
        /* the exported models are enough */
      }
      models = all;
    },
    () => {
      models = null;
    },
  ));
}

/** True once the models are available. */
export function modelsReady(): boolean {
  return !!models;
}

/** The attributes of a model class, undefined when unknown or not loaded. */
export function attributes(className: string): Attribute[] | undefined {
  const c = models?.[className] as ModelClass | undefined;
  return c && typeof c.getAttributeTypeMap === 'function' ? c.getAttributeTypeMap() : undefined;
}

/** The model class of a kind: V1Deployment, V2HorizontalPodAutoscaler, CoreV1Event, EventsV1Event. */
export function modelClassOf(group: string, version: string, kind: string): string | undefined {
  const key = `${group}/${version}/${kind}`;
  if (classOfKind.has(key)) return classOfKind.get(key);
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  const c = kind === 'Event' || kind === 'EventList' ? `${group === '' ? 'Core' : 'Events'}${v}${kind}` : `${v}${kind}`;
  const found = attributes(c) ? c : undefined;
  // Remembered once the models are loaded (before, every kind looks unknown).
  if (models) classOfKind.set(key, found);
  return found;
}

/** modelClassOf's answers (every write asks for its kind's class twice). */
const classOfKind = new Map<string, string | undefined>();

/** Element type of Array<T> / map types, or undefined for plain types. */
export function unwrap(type: string): { kind: 'array' | 'map' | 'plain'; inner: string } {
  let m = /^Array<(.*)>$/.exec(type);
  if (m) return { kind: 'array', inner: m[1]! };
  m = /^\{ \[key: string\]: (.*); \}$/.exec(type);
  if (m) return { kind: 'map', inner: m[1]! };
  return { kind: 'plain', inner: type };
}

/** A field of a model class with its type unwrapped, and whether that type is itself a model class. */
interface FieldInfo {
  kind: 'array' | 'map' | 'plain';
  inner: string;
  model: boolean;
}

/** Fields by JSON name per model class, computed once (the write path checks every body against them). */
const fieldIndex = new Map<string, Map<string, FieldInfo>>();

function fieldsOf(className: string): Map<string, FieldInfo> | undefined {
  let m = fieldIndex.get(className);
  if (m) return m;
  const attrs = attributes(className);
  if (!attrs) return undefined;
  m = new Map();
  for (const a of attrs) {
    const t = unwrap(a.type);
    m.set(a.baseName, { ...t, model: !!attributes(t.inner) });
  }
  fieldIndex.set(className, m);
  return m;
}

/** Unknown fields of obj against a model class ("spec.containers[0].imagee"). */
export function unknownModelFields(className: string, obj: unknown, path: string, out: string[]): void {
  const fields = fieldsOf(className);
  if (!fields || !obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  for (const k in obj as Record<string, unknown>) {
    const v = (obj as Record<string, unknown>)[k];
    const t = fields.get(k);
    if (!t) {
      out.push(path ? `${path}.${k}` : k);
      continue;
    }
    if (v === null || typeof v !== 'object' || !t.model) continue;
    const p = path ? `${path}.${k}` : k;
    if (t.kind === 'array' && Array.isArray(v)) v.forEach((x, i) => unknownModelFields(t.inner, x, `${p}[${i}]`, out));
    else if (t.kind === 'map') for (const [mk, mv] of Object.entries(v)) unknownModelFields(t.inner, mv, `${p}.${mk}`, out);
    else unknownModelFields(t.inner, v, p, out);
  }
}

/** Drops fields the type does not have, in place (what decoding into a typed object does upstream). */
export function pruneModelFields(className: string, obj: unknown): void {
  const fields = fieldsOf(className);
  if (!fields || !obj || typeof obj !== 'object' || Array.isArray(obj)) return;
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const t = fields.get(k);
    if (!t) {
      delete o[k];
      continue;
    }
    const v = o[k];
    if (v === null || typeof v !== 'object') continue;
    if (!t.model) continue;
    if (t.kind === 'array' && Array.isArray(v)) for (const x of v) pruneModelFields(t.inner, x);
    else if (t.kind === 'map') for (const mv of Object.values(v)) pruneModelFields(t.inner, mv);
    else pruneModelFields(t.inner, v);
  }
}

/** What a model class's declaration says besides types: descriptions and required fields. */
export interface ModelDocs {
  description?: string;
  fields: Map<string, string>;
  required: string[];
}

const docsCache = new Map<string, ModelDocs | null>();
let modelsDir: string | null | undefined;

/**
 * The description of a model class and of its fields, and its required
 * fields, from client-node's declaration file (generated from upstream's
 * OpenAPI: JSDoc comments carry the descriptions, non-optional properties the
 * required fields). Undefined when the file is missing. Read once per class.
 */
export function modelDocs(className: string): ModelDocs | undefined {
  const hit = docsCache.get(className);
  if (hit !== undefined) return hit ?? undefined;
  if (modelsDir === undefined) {
    try {
      modelsDir = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
    } catch {
      modelsDir = null;
    }
  }
  let text: string | undefined;
  if (modelsDir && /^\w+$/.test(className)) {
    try {
      text = readFileSync(join(modelsDir, `${className}.d.ts`), 'utf8');
    } catch {
      /* no declaration */
    }
  }
  if (!text) {
    docsCache.set(className, null);
    return undefined;
  }
  const docs: ModelDocs = { fields: new Map(), required: [] };
  const unescape = (c: string) =>
    c
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, ''))
      .join('\n')
      .trim()
      .replace(/\\(["'\\/])/g, '$1');
  const re = /(?:\/\*\*\n((?:[ \t]*\*(?!\/).*\n)*?)[ \t]*\*\/\n)?[ \t]*(?:export declare class (\w+)|'([^']+)'(\?)?:)/g;
  for (const m of text.matchAll(re)) {
    const comment = m[1] !== undefined ? unescape(m[1]) : undefined;
    if (m[2]) {
      if (comment) docs.description = comment;
    } else if (m[3]) {
      if (comment) docs.fields.set(m[3], comment);
      if (!m[4]) docs.required.push(m[3]);
    }
  }
  docsCache.set(className, docs);
  return docs;
}
