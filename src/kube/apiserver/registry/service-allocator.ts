/**
 * ClusterIP and NodePort allocation for Services (kube-apiserver's
 * ipallocator / portallocator). The allocated set is derived from the
 * Services in the watch cache plus in-flight reservations, so it survives
 * restarts with no extra state; reservations guard concurrent creates.
 */
import { type FieldError, fieldErr } from '../errors.ts';
import type { KObject } from '../../api/types.ts';

export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

function ipToInt(ip: string): number {
  const p = ip.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) return NaN;
  return ((p[0]! << 24) >>> 0) + (p[1]! << 16) + (p[2]! << 8) + p[3]!;
}

function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  size: number;
  text: string;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, bits] = cidr.split('/');
  const b = Number(bits);
  const mask = b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0;
  const base = (ipToInt(ip!) & mask) >>> 0;
  return { base, size: 2 ** (32 - b), text: cidr };
}

/** The n-th address of a CIDR (1 = first usable): .1 is the kubernetes Service, .10 kube-dns. */
export function nthIp(cidr: string, n: number): string {
  return intToIp(parseCidr(cidr).base + n);
}

export class ServiceAllocator {
  private readonly cidr: Cidr;
  private readonly reservedIps = new Set<string>();
  private readonly reservedPorts = new Set<number>();

  constructor(
    serviceCidr: string,
    /** Services currently stored (from the watch cache). */
    private readonly services: () => KObject[],
  ) {
    this.cidr = parseCidr(serviceCidr || '10.100.0.0/16');
  }

  private usedIps(): Set<string> {
    const s = new Set(this.reservedIps);
    for (const svc of this.services()) for (const ip of svc.spec?.clusterIPs ?? (svc.spec?.clusterIP ? [svc.spec.clusterIP] : [])) s.add(ip);
    return s;
  }

  private usedPorts(): Set<number> {
    const s = new Set(this.reservedPorts);
    for (const svc of this.services()) for (const p of svc.spec?.ports ?? []) if (p.nodePort) s.add(p.nodePort);
    return s;
  }

  /**
   * Assigns clusterIP(s) and nodePorts to a Service being created or updated
   * (old = the stored Service). Returns field errors for requested values that
   * are out of range or taken, and a release function for the reservations.
   */
  allocate(svc: KObject, old?: KObject): { errors: FieldError[]; release: () => void } {
    const s = (svc.spec ??= {});
    const errors: FieldError[] = [];
    const ips: string[] = [];
    const ports: number[] = [];
    const release = () => {
      for (const ip of ips) this.reservedIps.delete(ip);
      for (const p of ports) this.reservedPorts.delete(p);
    };
    if (s.type === 'ExternalName') {
      delete s.clusterIP;
      delete s.clusterIPs;
    } else {
      const oldIp = old?.spec?.clusterIP;
      if (!s.clusterIP && s.clusterIPs?.[0]) s.clusterIP = s.clusterIPs[0];
      if (!s.clusterIP && oldIp) s.clusterIP = oldIp;
      if (s.clusterIP === 'None') {
        s.clusterIPs = ['None'];
      } else if (!s.clusterIP) {
        const used = this.usedIps();
        const n = Math.min(this.cidr.size - 2, 65534);
        let ip: string | undefined;
        const start = 16 + Math.floor(Math.random() * Math.max(1, n - 16));
        for (let i = 0; i < n; i++) {
          const off = 1 + ((start - 1 + i) % n);
          const cand = intToIp(this.cidr.base + off);
          if (!used.has(cand)) {
            ip = cand;
            break;
          }
        }
        if (!ip) errors.push(fieldErr.invalid('spec.clusterIPs', [], 'failed to allocate IP: range is full'));
        else {
          s.clusterIP = ip;
          this.reservedIps.add(ip);
          ips.push(ip);
        }
      } else if (s.clusterIP !== oldIp) {
        const n = ipToInt(s.clusterIP);
        const goList = `[]string{"${s.clusterIP}"}`;
        if (Number.isNaN(n)) errors.push(fieldErr.invalid('spec.clusterIPs[0]', s.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
        else if (n <= this.cidr.base || n >= this.cidr.base + this.cidr.size - 1)
          errors.push(fieldErr.invalid('spec.clusterIPs', { __go: goList }, `failed to allocate IP ${s.clusterIP}: the provided IP (${s.clusterIP}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`));
        else if (this.usedIps().has(s.clusterIP)) errors.push(fieldErr.invalid('spec.clusterIPs', { __go: goList }, `failed to allocate IP ${s.clusterIP}: provided IP is already allocated`));
        else {
          this.reservedIps.add(s.clusterIP);
          ips.push(s.clusterIP);
        }
      }
      if (s.clusterIP) s.clusterIPs = [s.clusterIP];
      if (s.clusterIP !== 'None' || s.ipFamilies === undefined) {
        s.ipFamilies ??= ['IPv4'];
        s.ipFamilyPolicy ??= 'SingleStack';
      }
    }
    const wantsNodePorts = s.type === 'NodePort' || (s.type === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
    if (wantsNodePorts) {
      const oldPorts: Array<Record<string, any>> = old?.spec?.ports ?? [];
      const mine = new Set(oldPorts.map((p) => p.nodePort).filter(Boolean));
      let used: Set<number> | undefined;
      (s.ports ?? []).forEach((p: any, i: number) => {
        if (!p || typeof p !== 'object') return;
        if (!p.nodePort) {
          const prev = oldPorts.find((o) => o.port === p.port && (o.protocol ?? 'TCP') === (p.protocol ?? 'TCP') && o.nodePort);
          if (prev) {
            p.nodePort = prev.nodePort;
            return;
          }
          used ??= this.usedPorts();
          const span = NODE_PORT_MAX - NODE_PORT_MIN + 1;
          const start = Math.floor(Math.random() * span);
          for (let k = 0; k < span; k++) {
            const cand = NODE_PORT_MIN + ((start + k) % span);
            if (!used.has(cand)) {
              p.nodePort = cand;
              used.add(cand);
              this.reservedPorts.add(cand);
              ports.push(cand);
              return;
            }
          }
          errors.push(fieldErr.invalid(`spec.ports[${i}].nodePort`, 0, 'range is full'));
        } else if (!mine.has(p.nodePort)) {
          used ??= this.usedPorts();
          if (p.nodePort < NODE_PORT_MIN || p.nodePort > NODE_PORT_MAX)
            errors.push(fieldErr.invalid(`spec.ports[${i}].nodePort`, p.nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`));
          else if (used.has(p.nodePort)) errors.push(fieldErr.invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'));
          else {
            used.add(p.nodePort);
            this.reservedPorts.add(p.nodePort);
            ports.push(p.nodePort);
          }
        }
      });
    } else {
      for (const p of s.ports ?? []) if (p && typeof p === 'object' && s.type === 'ClusterIP' && old) delete p.nodePort;
    }
    if (errors.length > 0) release();
    return { errors, release };
  }
}
