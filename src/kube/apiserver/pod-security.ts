/**
 * Pod Security admission (pod-security.kubernetes.io/{enforce,warn} namespace
 * labels, levels privileged / baseline / restricted): the checks of the Pod
 * Security Standards with upstream's wording of violations.
 */
import type { KObject } from '../api/types.ts';

const BASELINE_CAPS = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

function quoteList(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

function containersPhrase(names: string[]): string {
  return names.length === 1 ? `container "${names[0]}"` : `containers ${quoteList(names)}`;
}

/** Violations of a level by a pod's metadata and spec (empty when allowed). */
export function podSecurityViolations(level: string, spec: any): string[] {
  if (level !== 'baseline' && level !== 'restricted') return [];
  const out: string[] = [];
  const containers: any[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])];
  const psc = spec?.securityContext ?? {};
  // Baseline.
  const hostNs = ['hostNetwork', 'hostPID', 'hostIPC'].filter((k) => spec?.[k] === true);
  if (hostNs.length) out.push(`host namespaces (${hostNs.map((k) => `${k}=true`).join(', ')})`);
  const priv = containers.filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  if (priv.length) out.push(`privileged (${containersPhrase(priv)} must not set securityContext.privileged=true)`);
  const caps: string[] = [];
  const capNames = new Set<string>();
  for (const c of containers) {
    for (const cap of c.securityContext?.capabilities?.add ?? []) {
      if (!BASELINE_CAPS.has(cap)) {
        if (!caps.includes(c.name)) caps.push(c.name);
        capNames.add(cap);
      }
    }
  }
  if (caps.length) out.push(`non-default capabilities (${containersPhrase(caps)} must not include ${quoteList([...capNames])} in securityContext.capabilities.add)`);
  const hostPaths = (spec?.volumes ?? []).filter((v: any) => v.hostPath).map((v: any) => v.name);
  if (hostPaths.length) out.push(`hostPath volumes (${hostPaths.length === 1 ? 'volume' : 'volumes'} ${quoteList(hostPaths)})`);
  const hostPorts: string[] = [];
  const portNums: number[] = [];
  for (const c of containers) for (const p of c.ports ?? []) if (p.hostPort) {
    if (!hostPorts.includes(c.name)) hostPorts.push(c.name);
    portNums.push(p.hostPort);
  }
  if (hostPorts.length) out.push(`hostPort (${containersPhrase(hostPorts)} ${hostPorts.length === 1 ? 'uses' : 'use'} ${portNums.length === 1 ? 'hostPort' : 'hostPorts'} ${portNums.join(', ')})`);
  const unconfined = psc.seccompProfile?.type === 'Unconfined' || containers.some((c) => c.securityContext?.seccompProfile?.type === 'Unconfined');
  if (unconfined) out.push('seccompProfile (pod or containers must not set securityContext.seccompProfile.type to "Unconfined")');
  if (level === 'baseline') return out;
  // Restricted.
  const badVols = (spec?.volumes ?? []).filter((v: any) => !Object.keys(v).some((k) => k !== 'name' && RESTRICTED_VOLUMES.has(k)));
  if (badVols.length) {
    const types = [...new Set(badVols.map((v: any) => Object.keys(v).find((k) => k !== 'name') ?? 'unknown'))] as string[];
    out.push(`restricted volume types (${badVols.length === 1 ? 'volume' : 'volumes'} ${quoteList(badVols.map((v: any) => v.name))} ${badVols.length === 1 ? 'uses' : 'use'} restricted volume ${types.length === 1 ? 'type' : 'types'} ${quoteList(types)})`);
  }
  const ape = containers.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  if (ape.length) out.push(`allowPrivilegeEscalation != false (${containersPhrase(ape)} must set securityContext.allowPrivilegeEscalation=false)`);
  const dropAll = containers.filter((c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL')).map((c) => c.name);
  if (dropAll.length) out.push(`unrestricted capabilities (${containersPhrase(dropAll)} must set securityContext.capabilities.drop=["ALL"])`);
  const addedCaps = containers.filter((c) => (c.securityContext?.capabilities?.add ?? []).some((x: string) => x !== 'NET_BIND_SERVICE')).map((c) => c.name);
  if (addedCaps.length && !caps.length) out.push(`unrestricted capabilities (${containersPhrase(addedCaps)} must not include capabilities other than "NET_BIND_SERVICE" in securityContext.capabilities.add)`);
  const nonRoot = psc.runAsNonRoot === true ? containers.filter((c) => c.securityContext?.runAsNonRoot === false) : containers.filter((c) => c.securityContext?.runAsNonRoot !== true);
  if (nonRoot.length) out.push(psc.runAsNonRoot === true ? `runAsNonRoot != true (${containersPhrase(nonRoot.map((c) => c.name))} must not set securityContext.runAsNonRoot=false)` : `runAsNonRoot != true (pod or ${containersPhrase(nonRoot.map((c) => c.name))} must set securityContext.runAsNonRoot=true)`);
  const rootUid = containers.filter((c) => (c.securityContext?.runAsUser ?? psc.runAsUser) === 0).map((c) => c.name);
  if (rootUid.length) out.push(`runAsUser=0 (${psc.runAsUser === 0 ? 'pod' : containersPhrase(rootUid)} must not set runAsUser=0)`);
  const okSeccomp = (t?: string) => t === 'RuntimeDefault' || t === 'Localhost';
  if (!okSeccomp(psc.seccompProfile?.type)) {
    const missing = containers.filter((c) => !okSeccomp(c.securityContext?.seccompProfile?.type)).map((c) => c.name);
    if (missing.length) out.push(`seccompProfile (pod or ${containersPhrase(missing)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`);
  }
  return out;
}

/** The levels a namespace asks for: enforce and warn ('' when unset). */
export function namespaceLevels(ns: KObject | undefined): { enforce: string; warn: string } {
  const l = ns?.metadata?.labels ?? {};
  return { enforce: l['pod-security.kubernetes.io/enforce'] ?? '', warn: l['pod-security.kubernetes.io/warn'] ?? '' };
}
