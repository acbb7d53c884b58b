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
  /**
   * watch opens a watch (`path` includes `watch=1` and its query) and calls
   * onEvent with each event object (`{type, object}`) as it arrives. `ended`
   * resolves when the server ends the stream (or with a non-200 status, which
   * it carries) and rejects on a connection error; close() ends it early.
   */
  watch(path: string, onEvent: (event: { type: string; object: any }) => void): { ended: Promise<{ status: number }>; close(): void };
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
  const target = (path: string) => base.pathname.replace(/\/$/, '') + path;
  return {
    watch(path, onEvent) {
      let req: ReturnType<typeof https.request> | undefined;
      const ended = new Promise<{ status: number }>((resolve, reject) => {
        req = https.request({ host: base.hostname, port: base.port, method: 'GET', path: target(path), headers: { authorization: `Bearer ${bearer()}`, accept: 'application/json' }, agent }, (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
            return;
          }
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (text: string) => {
            buf += text;
            for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line) onEvent(JSON.parse(line));
            }
          });
          res.on('end', () => resolve({ status: 200 }));
          res.on('error', reject);
          res.on('close', () => resolve({ status: 200 }));
        });
        req.on('error', reject);
        req.end();
      });
      return { ended, close: () => req?.destroy() };
    },
    request(method, path, body) {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { authorization: `Bearer ${bearer()}`, accept: 'application/json' };
      if (data !== undefined) headers['content-type'] = method === 'PATCH' ? 'application/merge-patch+json' : 'application/json';
      return new Promise((resolve, reject) => {
        const req = https.request({ host: base.hostname, port: base.port, method, path: target(path), headers, agent }, (res) => {
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
