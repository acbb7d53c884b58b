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
