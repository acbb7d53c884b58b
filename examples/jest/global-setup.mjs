// Starts an embedded localeks (memory store, instant lifecycles: a created
// cluster is ACTIVE in the CreateCluster response) for the whole jest run.
// localeks is TypeScript run by tsx: jest is started with
// NODE_OPTIONS=--import=tsx (see package.json), so this native import loads it.
import { startLocaleks } from 'localeks';

export default async function globalSetup() {
  const lx = await startLocaleks({ timingProfile: 'instant', referenceChecks: false });
  globalThis.__LOCALEKS__ = lx;
  // Test workers inherit these. The AWS SDKs and CLIs read AWS_ENDPOINT_URL.
  process.env.AWS_ENDPOINT_URL = lx.awsEndpoint;
  process.env.AWS_REGION = lx.region;
  process.env.AWS_ACCESS_KEY_ID = lx.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = lx.credentials.secretAccessKey;
  process.env.LOCALEKS_KUBE_ENDPOINT = lx.kubeEndpoint;
}
