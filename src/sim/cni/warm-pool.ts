/**
 * How many VPC addresses a node's aws-node (the Amazon VPC CNI's ipamd)
 * holds, given the pods using addresses on it and the aws-node DaemonSet's
 * environment. This is what makes EKS nodes "eat" subnet addresses before
 * any pod runs (seed 002): the warm pool.
 *
 * The rules follow ipamd (aws/amazon-vpc-cni-k8s pkg/ipamd/ipamd.go):
 *  - secondary-IP mode: each ENI gives (IPv4 addresses per ENI - 1)
 *    secondary addresses to pods. Without WARM_IP_TARGET/MINIMUM_IP_TARGET,
 *    ipamd keeps WARM_ENI_TARGET (default 1) whole ENIs' worth of free
 *    addresses, attaching full ENIs; with them, it keeps WARM_IP_TARGET free
 *    addresses and at least MINIMUM_IP_TARGET in total, allocating single
 *    addresses. Either way at most max ENIs.
 *  - prefix delegation (ENABLE_PREFIX_DELEGATION=true): pods take addresses
 *    from /28 prefixes (16 addresses) assigned to ENIs, up to (IPv4
 *    addresses per ENI - 1) prefixes per ENI; ipamd keeps WARM_PREFIX_TARGET
 *    (default 1) free prefixes, or enough prefixes for WARM_IP_TARGET /
 *    MINIMUM_IP_TARGET when those are set.
 *  - every ENI beyond the primary also takes its own primary address from
 *    the subnet.
 */

export interface CniConfig {
  warmEniTarget: number;
  warmIpTarget?: number;
  minimumIpTarget?: number;
  warmPrefixTarget: number;
  prefixDelegation: boolean;
  /** ENABLE_POD_ENI=true: security groups for pods (trunk ENI, branch ENIs; src/sim/cni/pod-eni.ts). */
  podEni?: boolean;
}

export const DEFAULT_CNI_CONFIG: CniConfig = { warmEniTarget: 1, warmPrefixTarget: 1, prefixDelegation: false };

/** The instance type's network limits (EC2 DescribeInstanceTypes NetworkInfo). */
export interface EniLimits {
  maxEnis: number;
  ipv4PerEni: number;
}

/** What a node holds from its subnet, beyond its own primary address. */
export interface Holdings {
  /** ENIs attached (the primary included). */
  enis: number;
  /** Addresses available to pods: secondary IPs, or prefixes x 16. */
  podAddresses: number;
  /** Prefixes held (prefix delegation only). */
  prefixes: number;
  /** Addresses taken from the subnet beyond the instance's primary IP. */
  subnetAddresses: number;
}

function intEnv(env: Record<string, string | undefined>, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/**
 * cniConfigFromEnv reads the aws-node container's environment
 * (`kubectl set env ds/aws-node -n kube-system WARM_IP_TARGET=2`). Invalid
 * numbers fall back to the defaults, as ipamd does.
 */
export function cniConfigFromEnv(env: Record<string, string | undefined>): CniConfig {
  const warmIp = intEnv(env, 'WARM_IP_TARGET');
  const minIp = intEnv(env, 'MINIMUM_IP_TARGET');
  return {
    warmEniTarget: intEnv(env, 'WARM_ENI_TARGET') ?? 1,
    warmIpTarget: warmIp && warmIp > 0 ? warmIp : undefined,
    minimumIpTarget: minIp && minIp > 0 ? minIp : undefined,
    warmPrefixTarget: intEnv(env, 'WARM_PREFIX_TARGET') ?? 1,
    prefixDelegation: (env.ENABLE_PREFIX_DELEGATION ?? 'false').toLowerCase() === 'true',
    ...((env.ENABLE_POD_ENI ?? 'false').toLowerCase() === 'true' ? { podEni: true } : {}),
  };
}

/**
 * targetHoldings returns what ipamd settles on for `assigned` pod
 * addresses. `assigned` above the node's capacity is clamped: those pods
 * cannot get an address.
 */
export function targetHoldings(cfg: CniConfig, limits: EniLimits, assigned: number): Holdings {
  const perEni = Math.max(0, limits.ipv4PerEni - 1);
  const maxEnis = Math.max(1, limits.maxEnis);
  const warmTargets = cfg.warmIpTarget !== undefined || cfg.minimumIpTarget !== undefined;
  if (cfg.prefixDelegation) {
    const maxPrefixes = perEni * maxEnis;
    let prefixes: number;
    if (warmTargets) {
      const want = Math.max(assigned + (cfg.warmIpTarget ?? 0), cfg.minimumIpTarget ?? 0);
      prefixes = Math.ceil(want / 16);
    } else {
      prefixes = Math.ceil(assigned / 16) + cfg.warmPrefixTarget;
      // A full prefix in use with warm target 0 still needs room for the next pod.
      if (cfg.warmPrefixTarget === 0 && assigned % 16 === 0) prefixes += 1;
    }
    prefixes = Math.min(Math.max(prefixes, 1), maxPrefixes);
    const enis = Math.min(maxEnis, Math.max(1, Math.ceil(prefixes / Math.max(1, perEni))));
    return { enis, prefixes, podAddresses: prefixes * 16, subnetAddresses: prefixes * 16 + (enis - 1) };
  }
  const maxIps = perEni * maxEnis;
  let ips: number;
  let enis: number;
  if (warmTargets) {
    ips = Math.min(maxIps, Math.max(assigned + (cfg.warmIpTarget ?? 0), cfg.minimumIpTarget ?? 0));
    enis = Math.max(1, Math.ceil(ips / Math.max(1, perEni)));
  } else {
    const need = cfg.warmEniTarget > 0 ? assigned + perEni * cfg.warmEniTarget : assigned + 1;
    enis = Math.min(maxEnis, Math.max(1, Math.ceil(need / Math.max(1, perEni))));
    ips = enis * perEni;
  }
  return { enis, prefixes: 0, podAddresses: ips, subnetAddresses: ips + (enis - 1) };
}

/** The CNI's event when no address could be assigned (kubelet's FailedCreatePodSandBox). */
export function ipAssignFailureMessage(podSandboxId: string): string {
  return (
    `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${podSandboxId}": ` +
    'plugin type="aws-cni" name="aws-cni" failed (add): add cmd: failed to assign an IP address to container'
  );
}
