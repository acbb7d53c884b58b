/**
 * The AWS JSON protocol, versions 1.0 and 1.1 (KMS, CloudWatch Logs): POST /
 * with `X-Amz-Target: <targetPrefix>.<Operation>`, a JSON body of the input
 * shape, a JSON body of the output shape, and errors as
 * `{"__type": code, "message": ...}`.
 */
import type { Operation, ServiceModel } from '../model.ts';
import { DecodeError, type Protocol, type WireRequest, type WireResponse } from '../protocol.ts';
import { AwsServiceError } from '../types.ts';
import { createJsonCodec } from './json-codec.ts';

/** parseJsonBody parses a request body as JSON (empty body = {}), or throws SerializationException. */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new AwsServiceError('SerializationException', 'Invalid JSON in the request body', 400);
  }
}

/** decodeOrSerializationError runs a decode and turns a DecodeError into SerializationException. */
export function decodeOrSerializationError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DecodeError) throw new AwsServiceError('SerializationException', e.message, 400);
    throw e;
  }
}

export function createJsonProtocol(model: ServiceModel): Protocol {
  const codec = createJsonCodec(model);
  const prefix = `${model.metadata.targetPrefix}.`;
  const contentType = `application/x-amz-json-${model.metadata.jsonVersion ?? '1.0'}`;
  return {
    name: 'json',
    operationOf(req: WireRequest) {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.startsWith(prefix) ? target.slice(prefix.length) : '';
      return { name: op && Object.hasOwn(model.operations, op) ? op : undefined, requested: target };
    },
    parseInput(op: Operation, req: WireRequest) {
      if (!op.input) return {};
      const body = parseJsonBody(req.body);
      return decodeOrSerializationError(() => codec.read(op.input!.shape, body) as Record<string, unknown>);
    },
    serializeOutput(op: Operation, output: unknown, requestId: string): WireResponse {
      const body = op.output ? JSON.stringify(codec.write(op.output.shape, output ?? {})) : '{}';
      return { status: 200, headers: { 'content-type': contentType, 'x-amzn-requestid': requestId }, body };
    },
    serializeError(err: AwsServiceError, requestId: string): WireResponse {
      return {
        status: err.status,
        headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
        body: JSON.stringify({ __type: err.code, message: err.message, ...err.fields }),
      };
    },
    unknownOperation(requested: string, known: boolean) {
      return new AwsServiceError(
        'UnknownOperationException',
        known ? `Operation ${requested} is not implemented by localeks yet.` : requested ? `Unknown operation ${requested}` : 'Missing X-Amz-Target header',
        400,
      );
    },
  };
}
