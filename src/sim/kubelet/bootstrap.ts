/**
 * What a self-managed node's user data tells its kubelet, read the way the
 * EKS AMIs read it (pure):
 *
 * - Amazon Linux 2: `/etc/eks/bootstrap.sh <cluster> [--kubelet-extra-args '--node-labels=k=v,... --register-with-taints=k=v:Effect']`;
 * - Amazon Linux 2023: a nodeadm `NodeConfig` (`apiVersion: node.eks.aws/v1alpha1`,
 *   `spec.cluster.name`, optional `spec.kubelet.flags`), alone or in a
 *   MIME multi-part document;
 * - Bottlerocket: `[settings.kubernetes]` `cluster-name = "<cluster>"`.
 *
 * User data without any of these does not join a cluster.
 */
export interface BootstrapInfo {
  clusterName: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
}

function decode(userData: string): string {
  const t = userData.trim();
  if (/^[A-Za-z0-9+/=\s]+$/.test(t) && t.length % 4 === 0) {
    const s = Buffer.from(t, 'base64').toString('utf8');
    if (!s.includes('\uFFFD')) return s;
  }
  return userData;
}

function flagValues(text: string, flag: string): string[] {
  const re = new RegExp(`--${flag}[= ]['"]?([^'"\\s]+)`, 'g');
  return [...text.matchAll(re)].map((m) => m[1]!);
}

/**
 * kubeletMaxPods is the max pods a node's user data gives its kubelet, or
 * undefined (the EKS value for the instance type then): the kubelet flag
 * `--max-pods=N` (AL2's --kubelet-extra-args, AL2023 nodeadm
 * spec.kubelet.flags), nodeadm's `spec.kubelet.config.maxPods: N`, or
 * Bottlerocket's `max-pods = N` in [settings.kubernetes].
 */
export function kubeletMaxPods(userData: string | undefined): number | undefined {
  if (!userData) return undefined;
  const text = decode(userData);
  const m = /--max-pods[= ]['"]?(\d+)/.exec(text) ?? /^\s*maxPods:\s*['"]?(\d+)/m.exec(text) ?? /^\s*max-pods\s*=\s*(\d+)/m.exec(text);
  const n = m ? Number(m[1]) : NaN;
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** parseBootstrap returns the cluster a node's user data joins, with its kubelet labels and taints, or undefined. */
export function parseBootstrap(userData: string | undefined): BootstrapInfo | undefined {
  if (!userData) return undefined;
  const text = decode(userData);
  let clusterName: string | undefined;
  const al2 = /\/etc\/eks\/bootstrap\.sh\s+['"]?([A-Za-z0-9][A-Za-z0-9_-]*)/.exec(text);
  if (al2) clusterName = al2[1];
  if (!clusterName && /kind:\s*NodeConfig/.test(text)) {
    const m = /cluster:\s*\n(?:\s+\S.*\n)*?\s+name:\s*['"]?([A-Za-z0-9][A-Za-z0-9_-]*)/.exec(text.slice(text.search(/kind:\s*NodeConfig/)));
    if (m) clusterName = m[1];
  }
  if (!clusterName) {
    const br = /cluster-name\s*=\s*"([A-Za-z0-9][A-Za-z0-9_-]*)"/.exec(text);
    if (br) clusterName = br[1];
  }
  if (!clusterName) return undefined;
  const labels: Record<string, string> = {};
  for (const v of flagValues(text, 'node-labels')) {
    for (const kv of v.split(',')) {
      const i = kv.indexOf('=');
      if (i > 0) labels[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  const taints: BootstrapInfo['taints'] = [];
  for (const v of flagValues(text, 'register-with-taints')) {
    for (const t of v.split(',')) {
      const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
      if (m) taints.push({ key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3]! });
    }
  }
  return { clusterName, labels, taints };
}
