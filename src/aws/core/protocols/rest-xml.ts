/**
 * The AWS rest-xml protocol (Route 53): operations routed by method and
 * requestUri; input from labels, query string, headers and an XML body whose
 * root is the input's locationName; output status from http.responseCode,
 * header-bound members as headers, and an XML body rooted at the output
 * shape's name in the service namespace; errors as
 * `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
 */
import type { Operation, ServiceModel } from '../model.ts';
import { type Protocol, type WireRequest, type WireResponse } from '../protocol.ts';
import { AwsServiceError } from '../types.ts';
import { parseXml, xmlEscape } from '../xml.ts';
import { readBindings, writeBindings } from './rest-bindings.ts';
import { createRestRouter, unknownRestOperation } from './rest-route.ts';
import { createXmlCodec } from './xml-codec.ts';

export function createRestXmlProtocol(model: ServiceModel): Protocol {
  const router = createRestRouter(model);
  const xml = createXmlCodec(model);
  const defaultNs = `https://${model.metadata.endpointPrefix}.amazonaws.com/doc/${model.metadata.apiVersion}/`;
  const headers = (requestId: string) => ({ 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
  return {
    name: 'rest-xml',
    operationOf: router.operationOf,
    parseInput(op: Operation, req: WireRequest) {
      if (!op.input) return {};
      const shape = model.shapes[op.input.shape]!;
      let fromBody: Record<string, unknown> = {};
      if (req.body.length > 0 && Object.values(shape.members ?? {}).some((r) => !r.location)) {
        let root;
        try {
          root = parseXml(req.body.toString('utf8'));
        } catch (e) {
          throw new AwsServiceError('MalformedXML', `The XML you provided was not well-formed: ${(e as Error).message}`, 400);
        }
        fromBody = xml.read(op.input.shape, root) as Record<string, unknown>;
      }
      return Object.assign(fromBody, readBindings(model, shape, req, req.route?.labels ?? {}));
    },
    serializeOutput(op: Operation, output: unknown, requestId: string): WireResponse {
      const h: Record<string, string> = headers(requestId);
      let status = op.http.responseCode ?? 200;
      if (!op.output) return { status, headers: h, body: '' };
      const o = (output ?? {}) as Record<string, unknown>;
      status = writeBindings(model, model.shapes[op.output.shape]!, o, h) ?? status;
      const root = op.output.locationName ?? op.output.shape;
      const ns = op.input?.xmlNamespace?.uri ?? defaultNs;
      const out = [`<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${ns}">`];
      xml.write(op.output.shape, o, out);
      out.push(`</${root}>`);
      return { status, headers: h, body: out.join('') };
    },
    serializeError(err: AwsServiceError, requestId: string): WireResponse {
      return {
        status: err.status,
        headers: headers(requestId),
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${defaultNs}"><Error><Type>${err.senderFault ? 'Sender' : 'Receiver'}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    },
    unknownOperation: unknownRestOperation,
  };
}


