/**
 * The CLI's Kubernetes client for one EKS cluster: HTTPS to the cluster
 * endpoint from DescribeCluster, trusting its certificate authority, with
 * an EKS token (`k8s-aws-v1.`, a presigned STS GetCallerIdentity as `aws eks
 * get-token` makes) from the CLI's credentials. It is used to wait for
 * nodes, and to create the service accounts of IRSA.
 */
import https from 'node:https';
import { createEksToken, TOKEN_LIFETIME_MS } from '../../kube/authn/eks-token.ts';
import type { AwsCredentials } from '../../aws/client/aws-client.ts';

export interface KubeClient {
  /** request sends one call; resolves with status and parsed body (never rejects for HTTP statuses). */
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
}

export interface KubeClientConfig {
  clusterName: string;
  /** https://.../clusters/<name> */
  endpoint: string;
  /** base64 PEM of the cluster CA (certificateAuthority.data) */
  caData: string;
  region: string;
  credentials: AwsCredentials;
}

/** createKubeClient returns a client that renews its token before it expires. */
export function createKubeClient(c: KubeClientConfig): KubeClient {
  const base = new URL(c.endpoint);
  const agent = new https.Agent({ keepAlive: true, ca: Buffer.from(c.caData, 'base64').toString('utf8'), maxSockets: 8 });
  let token = '';
  let tokenAt = 0;
  const bearer = () => {
    if (Date.now() - tokenAt > TOKEN_LIFETIME_MS / 2) {
      token = createEksToken({ clusterName: c.clusterName, region: c.region, ...c.credentials });
      tokenAt = Date.now();
    }
    return token;
  };
  return {
    request(method, path, body) {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { authorization: `Bearer ${bearer()}`, accept: 'application/json' };
      if (data !== undefined) headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      return new Promise((resolve, reject) => {
        const req = https.request({ host: base.hostname, port: base.port, method, path: base.pathname.replace(/\/$/, '') + path, headers, agent }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: any = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              /* not JSON */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(data);
      });
    },
  };
}

/** nodeReady reports whether a Node object's Ready condition is True. */
export function nodeReady(node: any): boolean {
  return (node?.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True');
}
