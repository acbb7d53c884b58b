/**
 * Kubernetes resource quantities (apimachinery pkg/api/resource): "100m",
 * "0.5", "2", "128Mi", "1G", "1e3", "1.5Gi". Values are kept as numbers of
 * milli-units (for cpu) or base units (for bytes and counts): the precision
 * scheduling and quota need, without arbitrary-precision arithmetic.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY_RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

/** isQuantity tells whether s is a valid quantity string (upstream's regex, as in validation errors). */
export function isQuantity(s: string): boolean {
  return QUANTITY_RE.test(s.trim());
}

/**
 * parseQuantity returns the value of a quantity in base units (cores,
 * bytes, counts). Numbers are accepted as they are. Throws for invalid input
 * with upstream's message ("quantities must match the regular expression ...").
 */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = QUANTITY_RE.exec(q.trim());
  if (!m) throw new Error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  const n = Number(m[1]);
  if (m[2]) return n * BINARY[m[2]]!;
  if (m[3]) return n * 10 ** Number(m[3].slice(1));
  return n * DECIMAL[m[4] ?? '']!;
}

/** milliValue returns a quantity in thousandths, rounded up (as Quantity.MilliValue for cpu). */
export function milliValue(q: string | number): number {
  return Math.ceil(parseQuantity(q) * 1000 - 1e-9);
}

/** value returns a quantity rounded up to a whole unit (as Quantity.Value for memory and counts). */
export function value(q: string | number): number {
  return Math.ceil(parseQuantity(q) - 1e-9);
}

/** formatMilliCpu renders milli-cores the way kubectl shows them: "250m", "2". */
export function formatMilliCpu(milli: number): string {
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** formatBytes renders bytes with the largest exact binary suffix: "512Mi", "15Gi", "1000". */
export function formatBytes(bytes: number): string {
  for (const s of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const f = BINARY[s]!;
    if (bytes >= f && bytes % f === 0) return `${bytes / f}${s}`;
  }
  return String(bytes);
}
