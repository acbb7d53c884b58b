/**
 * The AWS rest-json protocol (EKS): operations routed by HTTP method and the
 * model's requestUri template; input from URI labels, query string, headers
 * and a JSON body; output status from the model (http.responseCode, default
 * 200) with a JSON body; errors as `x-amzn-ErrorType: <code>` plus a JSON
 * body `{"message": ..., <error shape fields>}`.
 */
import type { Operation, ServiceModel } from '../model.ts';
import type { Protocol, WireRequest, WireResponse } from '../protocol.ts';
import { AwsServiceError } from '../types.ts';
import { decodeOrSerializationError, parseJsonBody } from './json.ts';
import { createJsonCodec } from './json-codec.ts';
import { readBindings, writeBindings } from './rest-bindings.ts';
import { createRestRouter, unknownRestOperation } from './rest-route.ts';

export function createRestJsonProtocol(model: ServiceModel): Protocol {
  const codec = createJsonCodec(model);
  const router = createRestRouter(model);
  return {
    name: 'rest-json',
    operationOf: router.operationOf,
    parseInput(op: Operation, req: WireRequest) {
      if (!op.input) return {};
      const shape = model.shapes[op.input.shape]!;
      return decodeOrSerializationError(() => {
        const body = parseJsonBody(req.body);
        const fromBody = codec.read(op.input!.shape, body) as Record<string, unknown>;
        return Object.assign(fromBody, readBindings(model, shape, req, req.route?.labels ?? {}));
      });
    },
    serializeOutput(op: Operation, output: unknown, requestId: string): WireResponse {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': requestId };
      let status = op.http.responseCode ?? 200;
      let body = '{}';
      if (op.output) {
        const o = (output ?? {}) as Record<string, unknown>;
        status = writeBindings(model, model.shapes[op.output.shape]!, o, headers) ?? status;
        body = JSON.stringify(codec.write(op.output.shape, o));
      }
      return { status, headers, body };
    },
    serializeError(err: AwsServiceError, requestId: string): WireResponse {
      return {
        status: err.status,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': err.code },
        body: JSON.stringify({ message: err.message, ...err.fields }),
      };
    },
    unknownOperation: unknownRestOperation,
  };
}
