/**
 * The contract between the AWS gateway and the per-service providers.
 *
 * The gateway (aws/core/gateway.ts) owns everything about the wire: it finds
 * the service from the SigV4 credential scope, parses the request with the
 * service's protocol (rest-json, json, query, ec2, rest-xml) into an input
 * object shaped exactly like the official service model's input shape (member
 * names as in the model: `clusterName` for EKS, `VpcId` for EC2), validates it
 * against the model (required members, enums, lengths, ranges, patterns),
 * calls the provider's handler, and serializes the output or the error.
 *
 * Providers see typed inputs and a RequestContext, never HTTP. Values in
 * inputs and outputs: strings, numbers, booleans, Date for timestamps, Buffer
 * for blobs, arrays for lists, plain objects for structures and maps.
 */

/** Who is calling and where. */
export interface RequestContext {
  /** 12-digit account id the request acts in. */
  accountId: string;
  /** Region from the SigV4 scope (us-east-1 when unsigned). */
  region: string;
  /** Request id returned to the client (x-amzn-RequestId / RequestId). */
  requestId: string;
  /** The model's service name (eks, ec2, iam, ...). */
  service: string;
  /** The model's operation name (CreateCluster, DescribeVpcs, ...). */
  operation: string;
  /** Access key id the request was signed with ('' when unsigned). */
  accessKeyId: string;
  /** The caller's ARN (root, IAM user, or assumed-role session). */
  callerArn: string;
  /** The IAM principal id (AROA.../AIDA... or the account id for root). */
  callerUserId: string;
  /** Simulated now (see sim/clock.ts). */
  now(): Date;
}

/** A provider's implementation of one operation. */
export type OperationHandler = (input: any, ctx: RequestContext) => Promise<any> | any;

/** A service implementation: handlers for the operations it supports. */
export interface AwsProvider {
  /** The model name under src/aws/models (eks, ec2, iam, sts, autoscaling, kms, logs, elbv2, route53). */
  readonly service: string;
  /** Handlers keyed by operation name. An operation without a handler answers the protocol's "not implemented" error. */
  readonly operations: Record<string, OperationHandler>;
}

/**
 * AwsServiceError is the one error type providers throw on purpose. The
 * gateway renders it in the service's protocol: code in x-amzn-ErrorType /
 * __type / <Code>, the status, the message, and (rest-json) any extra
 * members the model's error shape defines (e.g. clusterName, nodegroupName).
 */
export class AwsServiceError extends Error {
  readonly code: string;
  readonly status: number;
  /** True for client errors (Sender), false for server errors (Receiver). */
  readonly senderFault: boolean;
  /** Extra members of the error shape (rest-json/json only). */
  readonly fields: Record<string, unknown>;

  constructor(code: string, message: string, status = 400, fields: Record<string, unknown> = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.status = status;
    this.senderFault = status < 500;
    this.fields = fields;
  }
}

/** awsError builds an AwsServiceError (for brevity in providers). */
export function awsError(code: string, message: string, status = 400, fields: Record<string, unknown> = {}): AwsServiceError {
  return new AwsServiceError(code, message, status, fields);
}
