/**
 * The AWS gateway: one HTTP handler for every emulated AWS service.
 *
 * For each request it finds the service from the SigV4 credential scope
 * (Authorization header or presigned query), or, for an unsigned request,
 * from X-Amz-Target / the query Action of an operation AWS allows unsigned
 * (STS AssumeRoleWithWebIdentity); finds the operation with the service's
 * wire protocol (rest-json, json, query, ec2, rest-xml); resolves the caller
 * (see identity.ts) and, with IAM enforcement, verifies the signature, the
 * session token and the signing time; parses and validates the input against
 * the official model; calls the provider; and renders the output or error in
 * the protocol. Providers never see HTTP, and clients never see a stack trace.
 *
 * @example
 * const gw = createAwsGateway({ providers: createProviders(deps), deps });
 * http.createServer((req, res) => void gw.handle(req, res)).listen(4566);
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AwsDeps } from './deps.ts';
import {
  decodeError,
  dryRunOperation,
  expiredToken,
  internalError,
  invalidClientToken,
  missingAuthenticationToken,
  signatureMismatch,
  unknownService,
  validationError,
} from './errors.ts';
import { resolveCaller } from './identity.ts';
import { loadModel, type Operation, type ServiceModel } from './model.ts';
import { DecodeError, type Protocol, type WireRequest, type WireResponse } from './protocol.ts';
import { createJsonProtocol } from './protocols/json.ts';
import { createQueryProtocol, mergedParams } from './protocols/query.ts';
import { createRestJsonProtocol } from './protocols/rest-json.ts';
import { createRestXmlProtocol } from './protocols/rest-xml.ts';
import { checkSigningTime, parseSigV4, verifySigV4 } from './sigv4.ts';
import { AwsServiceError, type AwsProvider, type RequestContext } from './types.ts';
import { xmlEscape } from './xml.ts';
import { validateInput } from './validate.ts';
import { readBody } from '../../util/read-body.ts';

/** What the gateway reports after each request (for metrics). */
export interface AwsRequestInfo {
  service: string;
  operation: string;
  status: number;
  durationMs: number;
  accountId: string;
  region: string;
  requestId: string;
  errorCode?: string;
}

export interface AwsGatewayOptions {
  providers: AwsProvider[];
  deps: AwsDeps;
  onRequest?: (info: AwsRequestInfo) => void;
}

/** SigV4 signing names (credential scope service) -> model names under src/aws/models. */
export const SIGNING_NAME_TO_MODEL: Readonly<Record<string, string>> = {
  eks: 'eks',
  ec2: 'ec2',
  iam: 'iam',
  sts: 'sts',
  autoscaling: 'autoscaling',
  kms: 'kms',
  logs: 'logs',
  elasticloadbalancing: 'elbv2',
  route53: 'route53',
  'eks-auth': 'eks-auth',
};

/** JSON-protocol X-Amz-Target prefixes -> model names (for unsigned json requests). */
const TARGET_PREFIX_TO_MODEL: Readonly<Record<string, string>> = { TrentService: 'kms', Logs_20140328: 'logs' };

/** Query-protocol API versions -> model names (for unsigned query requests). */
const QUERY_VERSION_TO_MODEL: Readonly<Record<string, string>> = {
  '2011-06-15': 'sts',
  '2010-05-08': 'iam',
  '2011-01-01': 'autoscaling',
  '2015-12-01': 'elbv2',
  '2016-11-15': 'ec2',
};

const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Response headers a browser SDK must be able to read. */
const CORS_EXPOSE = 'x-amzn-requestid, x-amzn-errortype, x-amz-request-id, x-amz-id-2, location, date, etag';
const DEFAULT_REGION = 'us-east-1';

interface Service {
  name: string;
  model: ServiceModel;
  protocol: Protocol;
  provider: AwsProvider | undefined;
  /** error code -> HTTP status, from the model's error shapes. */
  errorStatus: Map<string, number>;
}

function isNoAuth(op: Operation): boolean {
  return op.authtype === 'none' || (op.auth?.includes('smithy.api#noAuth') ?? false);
}

function createProtocol(model: ServiceModel): Protocol {
  switch (model.metadata.protocol) {
    case 'rest-json':
      return createRestJsonProtocol(model);
    case 'json':
      return createJsonProtocol(model);
    case 'query':
    case 'ec2':
      return createQueryProtocol(model);
    case 'rest-xml':
      return createRestXmlProtocol(model);
    default:
      throw new Error(`unsupported protocol ${String(model.metadata.protocol)}`);
  }
}

const readRequestBody = (req: IncomingMessage): Promise<Buffer> =>
  readBody(req, MAX_BODY_BYTES, () => new AwsServiceError('RequestEntityTooLarge', `Request body exceeds ${MAX_BODY_BYTES} bytes`, 413));

/** Renders an error before the service (and so its protocol) is known: JSON for JSON-looking requests, else query XML. */
function fallbackError(err: AwsServiceError, req: WireRequest, requestId: string): WireResponse {
  const ct = String(req.headers['content-type'] ?? '');
  if (req.headers['x-amz-target'] !== undefined || ct.includes('json')) {
    return {
      status: err.status,
      headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': err.code },
      body: JSON.stringify({ __type: err.code, message: err.message }),
    };
  }
  return {
    status: err.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${err.senderFault ? 'Sender' : 'Receiver'}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
  };
}

/**
 * createAwsGateway returns the handler the server mounts on the AWS port for
 * every path not under /_localeks/. `handle` never rejects: every failure is
 * answered in the service's protocol (unexpected ones as a logged 500).
 */
export function createAwsGateway(opts: AwsGatewayOptions): { handle(req: IncomingMessage, res: ServerResponse): Promise<void> } {
  const { deps } = opts;
  const providers = new Map(opts.providers.map((p) => [p.service, p]));
  const services = new Map<string, Service>();
  const knownSigningNames = Object.keys(SIGNING_NAME_TO_MODEL);

  function service(name: string): Service {
    let s = services.get(name);
    if (!s) {
      const model = loadModel(name);
      const errorStatus = new Map<string, number>();
      for (const [shapeName, shape] of Object.entries(model.shapes)) {
        // Modeled errors without an HTTP status (json services) are 400, or 500 for server faults.
        if (shape.exception) errorStatus.set(shape.error?.code ?? shapeName, shape.error?.httpStatusCode ?? (shape.fault ? 500 : 400));
      }
      s = { name, model, protocol: createProtocol(model), provider: providers.get(name), errorStatus };
      services.set(name, s);
    }
    return s;
  }

  /** The service of an unsigned request, when it names one. */
  function unsignedService(wire: WireRequest): string | undefined {
    const target = wire.headers['x-amz-target'];
    if (typeof target === 'string') return TARGET_PREFIX_TO_MODEL[target.slice(0, target.indexOf('.'))];
    const ct = String(wire.headers['content-type'] ?? '');
    if (wire.query.has('Action') || ct.startsWith('application/x-www-form-urlencoded')) {
      const params = mergedParams(wire);
      const action = params.get('Action') ?? '';
      const version = params.get('Version') ?? '';
      const byVersion = QUERY_VERSION_TO_MODEL[version];
      if (byVersion) return byVersion;
      const sts = loadModel('sts').operations[action];
      if (sts && isNoAuth(sts)) return 'sts';
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      // CORS preflight from a browser SDK: allow any origin, method and header, as emulators do.
      req.resume();
      res.writeHead(204, {
        'access-control-allow-origin': String(req.headers.origin ?? '*'),
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
        'access-control-max-age': '86400',
      });
      res.end();
      return;
    }
    const t0 = performance.now();
    const requestId = randomUUID();
    const info: AwsRequestInfo = { service: '', operation: '', status: 500, durationMs: 0, accountId: deps.config.defaultAccountId, region: DEFAULT_REGION, requestId };
    const url = req.url ?? '/';
    const qi = url.indexOf('?');
    const rawPath = qi < 0 ? url : url.slice(0, qi);
    const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
    const wire: WireRequest = { method: req.method ?? 'GET', path: rawPath, query: new URLSearchParams(rawQuery), headers: req.headers, body: Buffer.alloc(0) };
    let svc: Service | undefined;
    let response: WireResponse;
    try {
      wire.body = await readRequestBody(req);
      const sig = parseSigV4(req.headers, wire.query);
      let modelName: string | undefined;
      if (sig) {
        info.region = sig.region || DEFAULT_REGION;
        modelName = SIGNING_NAME_TO_MODEL[sig.service];
        if (!modelName) throw unknownService(sig.service, knownSigningNames);
      } else {
        modelName = unsignedService(wire);
        if (!modelName) throw missingAuthenticationToken('unknown');
      }
      svc = service(modelName);
      info.service = svc.name;
      const { protocol, model } = svc;
      const found = protocol.operationOf(wire);
      if (!found.name) throw protocol.unknownOperation(found.requested, false);
      const op = model.operations[found.name]!;
      info.operation = op.name;
      const noAuth = isNoAuth(op);
      if (!sig && !noAuth) throw missingAuthenticationToken(protocol.name);

      const caller = resolveCaller(deps.state, deps.config, noAuth || !sig ? '' : sig.accessKeyId);
      info.accountId = caller.accountId;
      if (deps.config.enforceIam && sig && !noAuth) {
        if (!caller.known || caller.inactive || !caller.secret) throw invalidClientToken(protocol.name);
        if (caller.sessionToken !== undefined && sig.securityToken !== caller.sessionToken) throw invalidClientToken(protocol.name);
        if (caller.expiresAtMs !== undefined && caller.expiresAtMs <= deps.clock.nowMs()) throw expiredToken(protocol.name);
        // Signing time: within 15 minutes of the simulated clock, or of the real one (clients keep real
        // time while a test advances the simulated clock to expire tokens).
        let skew = checkSigningTime(sig, deps.clock.nowMs());
        if (skew && skew.kind !== 'no-date' && !checkSigningTime(sig, Date.now())) skew = undefined;
        if (skew?.kind === 'no-date') throw new AwsServiceError('IncompleteSignature', skew.message, 400);
        if (sig.presigned && !(sig.expiresSeconds !== undefined && sig.expiresSeconds > 0 && sig.expiresSeconds <= 604800)) {
          throw new AwsServiceError('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds (one week).', 400);
        }
        if (skew) throw signatureMismatch(protocol.name, skew.message);
        const ok = verifySigV4({ method: wire.method, rawPath, rawQuery, rawHeaders: req.rawHeaders, body: wire.body }, sig, caller.secret);
        if (!ok) throw signatureMismatch(protocol.name);
      }

      const handler = svc.provider?.operations[op.name];
      if (!handler) throw protocol.unknownOperation(op.name, true);

      let input: Record<string, unknown>;
      try {
        input = protocol.parseInput(op, wire);
      } catch (e) {
        if (e instanceof DecodeError) throw decodeError(svc.name, protocol.name, e.message);
        throw e;
      }
      const problems = validateInput(model, op.input?.shape, input);
      if (problems.length > 0) throw validationError(svc.name, protocol.name, problems);
      // EC2's DryRun: the request is well-formed and (without IAM policies to evaluate) permitted.
      if (protocol.name === 'ec2' && input.DryRun === true) throw dryRunOperation();

      const ctx: RequestContext = {
        accountId: caller.accountId,
        region: info.region,
        requestId,
        service: svc.name,
        operation: op.name,
        accessKeyId: sig?.accessKeyId ?? '',
        callerArn: caller.arn,
        callerUserId: caller.userId,
        now: () => deps.clock.now(),
      };
      const output = await handler(input, ctx);
      response = protocol.serializeOutput(op, output, requestId);
    } catch (e) {
      let err: AwsServiceError;
      if (e instanceof AwsServiceError) {
        err = e;
        const modeled = svc?.errorStatus.get(err.code);
        if (modeled !== undefined && modeled !== err.status) err = new AwsServiceError(err.code, err.message, modeled, err.fields);
      } else {
        deps.log.error({ err: e, requestId, service: info.service, operation: info.operation }, 'aws request failed unexpectedly');
        err = svc ? internalError(svc.name, svc.protocol.name) : new AwsServiceError('InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500);
      }
      info.errorCode = err.code;
      try {
        response = svc ? svc.protocol.serializeError(err, requestId) : fallbackError(err, wire, requestId);
      } catch (e2) {
        deps.log.error({ err: e2, requestId }, 'aws error rendering failed');
        response = fallbackError(err, wire, requestId);
      }
    }
    info.status = response.status;
    if (!res.headersSent) {
      response.headers['access-control-allow-origin'] = '*';
      response.headers['access-control-expose-headers'] = CORS_EXPOSE;
      res.writeHead(response.status, response.headers);
      res.end(response.body);
    }
    info.durationMs = performance.now() - t0;
    deps.log.debug(info, 'aws request');
    opts.onRequest?.(info);
  }

  return {
    handle: (req, res) =>
      handle(req, res).catch((e) => {
        deps.log.error({ err: e }, 'aws gateway failed');
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('internal error');
        } else res.destroy();
      }),
  };
}
