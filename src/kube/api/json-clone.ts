/**
 * Deep copy of a JSON value (Kubernetes objects as decoded from JSON, YAML or
 * protobuf: plain objects, arrays, strings, numbers, booleans, null).
 *
 * The write path copies objects several times per request (a private copy of
 * the current object for a patch, the patch result, a status write's
 * metadata); structuredClone costs about 8 times more than this walk for a
 * small object (it serializes and deserializes). Properties holding
 * `undefined` are kept, as structuredClone keeps them. A value that is not
 * plain JSON (a class instance, a typed array) is copied by structuredClone.
 */
export function cloneJson<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const a = new Array(n);
    for (let i = 0; i < n; i++) a[i] = cloneJson(v[i]);
    return a as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const c = typeof x === 'object' && x !== null ? cloneJson(x) : x;
    // A "__proto__" key (own property from JSON.parse) must stay a property, not become the prototype.
    if (k === '__proto__') Object.defineProperty(o, k, { value: c, enumerable: true, writable: true, configurable: true });
    else o[k] = c;
  }
  return o as T;
}

/**
 * The value JSON.parse(JSON.stringify(v)) gives, without the text: members
 * holding undefined (or functions) are left out, undefined array elements
 * become null, non-finite numbers null and -0 0; a value that is not plain
 * JSON (a class instance, an object with toJSON) goes through the text. The
 * watch cache takes the object a write produced this way instead of parsing
 * the stored JSON again.
 */
export function jsonCopy<T>(v: T): T {
  return copyValue(v, false) as T;
}

function copyValue(v: unknown, inArray: boolean): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? (v === 0 ? 0 : v) : null;
    case 'object': {
      if (v === null) return null;
      if (Array.isArray(v)) {
        const n = v.length;
        const a = new Array(n);
        for (let i = 0; i < n; i++) a[i] = copyValue(v[i], true);
        return a;
      }
      const proto = Object.getPrototypeOf(v);
      if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v));
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        const c = copyValue(x, false);
        if (k === '__proto__') Object.defineProperty(o, k, { value: c, enumerable: true, writable: true, configurable: true });
        else o[k] = c;
      }
      return o;
    }
    default:
      // undefined, functions, symbols: dropped as members (above), null in arrays; bigint throws as JSON.stringify does.
      if (typeof v === 'bigint') return JSON.parse(JSON.stringify(v));
      return inArray ? null : undefined;
  }
}

/**
 * Whether jsonCopy(v) would equal v member for member: plain objects (of
 * Object.prototype) and arrays only, no member holding undefined, a function or a symbol, no
 * undefined array element, only finite numbers and no -0. Reads without
 * allocating (cheaper than the copy it can save).
 */
export function isPlainJson(v: unknown): boolean {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0);
    case 'object': {
      if (v === null) return true;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i])) return false;
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype || typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
      const keys = Object.keys(v);
      for (let i = 0; i < keys.length; i++) if (!isPlainJson((v as Record<string, unknown>)[keys[i]!])) return false;
      return true;
    }
    default:
      return false;
  }
}
