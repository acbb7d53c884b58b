/**
 * The gateway's error catalog: which code, status and wording each protocol
 * family uses for the errors the gateway itself raises (validation, missing
 * or bad credentials, clock skew, internal failures, unknown services). One
 * table, one place (STYLE.md section 8).
 */
import type { ProtocolName } from './model.ts';
import { lcfirst, ucfirst } from './protocol.ts';
import { AwsServiceError } from './types.ts';
import { describeProblem, type Problem } from './validate.ts';

/** The code a service uses for input that fails its model's constraints. */
const VALIDATION_CODE: Record<string, { code: string; status: number }> = {
  eks: { code: 'InvalidParameterException', status: 400 },
  kms: { code: 'ValidationException', status: 400 },
  logs: { code: 'InvalidParameterException', status: 400 },
  iam: { code: 'ValidationError', status: 400 },
  sts: { code: 'ValidationError', status: 400 },
  autoscaling: { code: 'ValidationError', status: 400 },
  elbv2: { code: 'ValidationError', status: 400 },
  route53: { code: 'InvalidInput', status: 400 },
};

function coralPath(path: (string | number)[], protocol: ProtocolName): string {
  const parts: string[] = [];
  for (const p of path) {
    if (typeof p === 'number') parts.push(`${p}`, 'member');
    else parts.push(protocol === 'rest-json' || protocol === 'json' ? p : lcfirst(p));
  }
  return parts.join('.');
}

function ec2Path(path: (string | number)[]): string {
  return path.map((p) => (typeof p === 'number' ? String(p) : ucfirst(p))).join('.');
}

/**
 * validationError renders model-constraint problems the way the service does:
 * EC2 answers MissingParameter / InvalidParameterValue for the first problem;
 * the others answer their validation code with Coral's
 * "N validation error(s) detected: Value ... at '...' failed to satisfy constraint: ...".
 */
export function validationError(service: string, protocol: ProtocolName, problems: Problem[]): AwsServiceError {
  if (protocol === 'ec2') {
    const p = problems[0]!;
    if (p.kind === 'required') return new AwsServiceError('MissingParameter', `The request must contain the parameter ${ec2Path(p.path)}`, 400);
    return new AwsServiceError('InvalidParameterValue', `Value (${String(p.value)}) for parameter ${ec2Path(p.path)} is invalid. ${p.constraint}`, 400);
  }
  const shown = problems.slice(0, 10);
  const n = problems.length;
  const message = `${n} validation error${n === 1 ? '' : 's'} detected: ${shown.map((p) => describeProblem(p, coralPath(p.path, protocol))).join('; ')}`;
  return decodeError(service, protocol, message);
}

/** decodeError is the service's validation error with a given message (undecodable values). */
export function decodeError(service: string, protocol: ProtocolName, message: string): AwsServiceError {
  if (protocol === 'ec2') return new AwsServiceError('InvalidParameterValue', message, 400);
  const v = VALIDATION_CODE[service] ?? (protocol === 'query' ? { code: 'ValidationError', status: 400 } : { code: 'ValidationException', status: 400 });
  return new AwsServiceError(v.code, message, v.status);
}

/** missingAuthenticationToken: an unsigned request to an operation that needs a signature. */
export function missingAuthenticationToken(protocol: ProtocolName | 'unknown'): AwsServiceError {
  if (protocol === 'json' || protocol === 'rest-json' || protocol === 'unknown') {
    return new AwsServiceError('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
  }
  if (protocol === 'ec2') return new AwsServiceError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
  return new AwsServiceError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
}

/** invalidClientToken: the access key is not known (only with IAM enforcement). */
export function invalidClientToken(protocol: ProtocolName): AwsServiceError {
  const msg = 'The security token included in the request is invalid.';
  switch (protocol) {
    case 'ec2':
      return new AwsServiceError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    case 'json':
      return new AwsServiceError('UnrecognizedClientException', msg, 400);
    case 'rest-json':
      return new AwsServiceError('UnrecognizedClientException', msg, 403);
    default:
      return new AwsServiceError('InvalidClientTokenId', msg, 403);
  }
}

/** expiredToken: temporary credentials past their expiration (only with IAM enforcement). */
export function expiredToken(protocol: ProtocolName): AwsServiceError {
  const msg = 'The security token included in the request is expired';
  switch (protocol) {
    case 'ec2':
      return new AwsServiceError('RequestExpired', 'Request has expired.', 400);
    case 'json':
      return new AwsServiceError('ExpiredTokenException', msg, 400);
    case 'rest-json':
      return new AwsServiceError('ExpiredTokenException', msg, 403);
    default:
      return new AwsServiceError('ExpiredToken', msg, 403);
  }
}

/** signatureMismatch: the signature does not verify, or its time is off (message says which). */
export function signatureMismatch(protocol: ProtocolName, message?: string): AwsServiceError {
  const msg =
    message ??
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
  switch (protocol) {
    case 'ec2':
      return message ? new AwsServiceError('RequestExpired', `Request has expired. ${message}`, 400) : new AwsServiceError('AuthFailure', 'AWS was not able to validate the provided access credentials', 401);
    case 'json':
      return new AwsServiceError('InvalidSignatureException', msg, 400);
    case 'rest-json':
      return new AwsServiceError('InvalidSignatureException', msg, 403);
    default:
      return new AwsServiceError('SignatureDoesNotMatch', msg, 403);
  }
}

/** internalError: anything unexpected, rendered without details (the cause is logged). */
export function internalError(service: string, protocol: ProtocolName): AwsServiceError {
  if (service === 'eks') return new AwsServiceError('ServerException', 'An internal error occurred. Try your request again.', 500);
  if (service === 'iam') return new AwsServiceError('ServiceFailure', 'An internal error occurred. Try your request again.', 500);
  if (protocol === 'ec2') return new AwsServiceError('InternalError', 'An internal error has occurred', 500);
  return new AwsServiceError('InternalFailure', 'The request processing has failed because of an unknown error, exception or failure.', 500);
}

/** unknownService: the credential scope names a signing service localeks does not emulate. */
export function unknownService(signingName: string, known: string[]): AwsServiceError {
  return new AwsServiceError(
    'InvalidSignatureException',
    `Credential should be scoped to correct service: '${signingName}' is not a service localeks emulates (it serves ${known.join(', ')}).`,
    400,
  );
}

/** dryRunOperation: EC2's answer to a valid request with DryRun=true. */
export function dryRunOperation(): AwsServiceError {
  return new AwsServiceError('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);
}
