/**
 * runBoto3 runs a python3 snippet with boto3 configured for localeks.
 *
 * The snippet sees `client(service)` (a boto3 client for the endpoint and
 * region with test credentials and no retries), `session`, `ClientError`,
 * and sets `result`; the helper prints `result` as JSON (datetimes as ISO
 * strings, bytes as base64). An uncaught botocore ClientError becomes
 * `error: { Code, Message, HTTPStatusCode }` instead of a traceback.
 *
 * @example
 *   const r = await runBoto3(server.awsEndpoint, `result = client('ec2').describe_vpcs()['Vpcs']`);
 *   assert.equal(r.error, undefined, r.stderr);
 *   r.json.length;
 */
import { awsCliEnv, type AwsCliOptions } from './aws-cli.ts';
import { runProcess } from './exec.ts';

export interface Boto3Result {
  code: number;
  stdout: string;
  stderr: string;
  /** The snippet's `result`, as JSON. */
  json: any;
  /** Set when the snippet raised a botocore ClientError. */
  error?: { Code: string; Message: string; HTTPStatusCode: number };
}

const PRELUDE = `
import base64, datetime, json, sys, os
import boto3, botocore
from botocore.config import Config
from botocore.exceptions import ClientError
_endpoint = os.environ['LOCALEKS_ENDPOINT']
session = boto3.session.Session(region_name=os.environ['AWS_DEFAULT_REGION'])
_cfg = Config(retries={'max_attempts': 1, 'mode': 'standard'})
def client(service, **kw):
    return session.client(service, endpoint_url=_endpoint, config=_cfg, **kw)
def _default(o):
    if isinstance(o, (datetime.datetime, datetime.date)):
        return o.isoformat()
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(o).decode()
    if hasattr(o, 'read'):
        return base64.b64encode(o.read()).decode()
    return str(o)
result = None
try:
    exec(compile(sys.stdin.read(), '<snippet>', 'exec'))
except ClientError as e:
    err = e.response.get('Error', {})
    print(json.dumps({'__boto3_error__': {'Code': err.get('Code', ''), 'Message': err.get('Message', ''),
        'HTTPStatusCode': e.response.get('ResponseMetadata', {}).get('HTTPStatusCode', 0)}}))
    sys.exit(3)
print(json.dumps(result, default=_default))
`;

/** runBoto3 never throws for a failing snippet: check `code` and `error`. */
export async function runBoto3(endpoint: string, snippet: string, opts: AwsCliOptions = {}): Promise<Boto3Result> {
  const env = awsCliEnv({ ...opts, env: { ...opts.env, LOCALEKS_ENDPOINT: endpoint } });
  const r = await runProcess('python3', ['-c', PRELUDE], { env, input: snippet });
  let json: any;
  let error: Boto3Result['error'];
  const lines = r.stdout.trim().split('\n');
  const last = lines[lines.length - 1] ?? '';
  if (last) {
    try {
      json = JSON.parse(last);
    } catch {
      json = undefined;
    }
  }
  if (json && typeof json === 'object' && '__boto3_error__' in json) {
    error = json.__boto3_error__;
    json = undefined;
  }
  return { ...r, json, error };
}

/** boto3Json runs a snippet and returns its result, throwing on any failure. */
export async function boto3Json(endpoint: string, snippet: string, opts: AwsCliOptions = {}): Promise<any> {
  const r = await runBoto3(endpoint, snippet, opts);
  if (r.code !== 0) throw new Error(`boto3 snippet failed (${r.code}): ${r.error ? `${r.error.Code}: ${r.error.Message}` : r.stderr.trim()}`);
  return r.json;
}
