/**
 * The AWS query protocol (IAM, STS, Auto Scaling, ELBv2) and its EC2 variant.
 *
 * Input: form-encoded parameters (body, or the URL for GET/presigned
 * requests). Query: structure members by locationName or member name, lists
 * as `Name.member.N` (`Name.N` when flattened; `Name=` for an empty list),
 * maps as `Name.entry.N.key/value`. EC2: members by queryName, else the
 * capitalized locationName, else the member name; every list is `Name.N`.
 *
 * Output: XML. Query: `<OpResponse xmlns><OpResult>..</OpResult>
 * <ResponseMetadata><RequestId>` and errors as `<ErrorResponse><Error>
 * <Type/><Code/><Message/></Error><RequestId/>`. EC2: `<OpResponse xmlns>
 * <requestId/>..` and errors as `<Response><Errors><Error><Code/><Message/>
 * </Error></Errors><RequestID/></Response>`.
 */
import type { Operation, ServiceModel, Shape, ShapeRef } from '../model.ts';
import { shapeCompiler } from './shape-compiler.ts';
import {
  lcfirst,
  parseTextScalar,
  type Protocol,
  type WireRequest,
  type WireResponse,
  ucfirst,
} from '../protocol.ts';
import { AwsServiceError } from '../types.ts';
import { xmlEscape } from '../xml.ts';
import { createXmlCodec } from './xml-codec.ts';

/** A node of the parameter tree built from dotted keys: a text leaf, or children by key segment. */
type Node = string | { [k: string]: Node };
type Reader = (node: Node, path: string) => unknown;

/** mergedParams returns the query-string and form-body parameters of a request (memoized on it). */
export function mergedParams(req: WireRequest): URLSearchParams {
  if (req.params) return req.params;
  const p = new URLSearchParams(req.query);
  const ct = String(req.headers['content-type'] ?? '');
  if (req.body.length > 0 && (ct === '' || ct.startsWith('application/x-www-form-urlencoded'))) {
    for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) p.append(k, v);
  }
  req.params = p;
  return p;
}

function buildTree(params: URLSearchParams): { [k: string]: Node } {
  const root: { [k: string]: Node } = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version' || key.startsWith('X-Amz-')) continue;
    const segs = key.split('.');
    let cur = root;
    for (let i = 0; i < segs.length - 1; i++) {
      const s = segs[i]!;
      let next = cur[s];
      if (next === undefined || typeof next === 'string') {
        const obj: { [k: string]: Node } = {};
        if (typeof next === 'string') obj[''] = next;
        cur[s] = next = obj;
      }
      cur = next;
    }
    const last = segs[segs.length - 1]!;
    const existing = cur[last];
    if (existing !== undefined && typeof existing === 'object') existing[''] = value;
    else cur[last] = value;
  }
  return root;
}

/** Child nodes keyed 1..N, in numeric order. */
function indexed(node: Node | undefined): Node[] {
  if (node === undefined || typeof node === 'string') return [];
  return Object.keys(node)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => node[k]!);
}

/** The query protocol for a model (ec2 when the model's protocol is ec2). */
export function createQueryProtocol(model: ServiceModel): Protocol {
  const ec2 = model.metadata.protocol === 'ec2';
  const ns = ec2 ? model.metadata.xmlNamespace!.replace(/\/?$/, '/') : model.metadata.xmlNamespace ?? '';
  const xml = createXmlCodec(model);

  const memberWireName = (name: string, ref: ShapeRef): string =>
    ec2 ? ref.queryName ?? (ref.locationName ? ucfirst(ref.locationName) : name) : ref.locationName ?? name;

  const reader = shapeCompiler<Reader>(model, compileReader);

  function compileReader(s: Shape): Reader {
    switch (s.type) {
      case 'structure': {
        const members = Object.entries(s.members ?? {}).map(([m, ref]) => ({ m, wire: memberWireName(m, ref), read: reader(ref.shape) }));
        return (node, path) => {
          const out: Record<string, unknown> = {};
          if (typeof node === 'string') return out;
          for (const { m, wire, read } of members) {
            const child = node[wire];
            if (child !== undefined) out[m] = read(child, path ? `${path}.${lcfirst(m)}` : lcfirst(m));
          }
          return out;
        };
      }
      case 'list': {
        const item = reader(s.member!.shape);
        const memberName = s.member!.locationName ?? 'member';
        const flat = ec2 || s.flattened === true;
        return (node, path) => {
          if (typeof node === 'string') return [];
          const items = indexed(flat ? node : node[memberName]);
          return items.map((x, i) => item(x, `${path}.${i + 1}.member`));
        };
      }
      case 'map': {
        const kname = s.key!.locationName ?? 'key';
        const vname = s.value!.locationName ?? 'value';
        const key = reader(s.key!.shape);
        const val = reader(s.value!.shape);
        return (node, path) => {
          const out: Record<string, unknown> = {};
          if (typeof node === 'string') return out;
          for (const e of indexed(s.flattened ? node : node.entry)) {
            if (typeof e === 'string' || e[kname] === undefined) continue;
            const k = String(key(e[kname]!, path));
            out[k] = e[vname] === undefined ? '' : val(e[vname]!, `${path}.${k}`);
          }
          return out;
        };
      }
      default:
        return (node, path) => parseTextScalar(s, typeof node === 'string' ? node : (node[''] as string | undefined) ?? '', path);
    }
  }

  const xmlHeaders = (requestId: string) => ({ 'content-type': 'text/xml', 'x-amzn-requestid': requestId });

  return {
    name: ec2 ? 'ec2' : 'query',
    operationOf(req) {
      const action = mergedParams(req).get('Action') ?? '';
      return { name: action && Object.hasOwn(model.operations, action) ? action : undefined, requested: action };
    },
    parseInput(op: Operation, req: WireRequest) {
      if (!op.input) return {};
      const tree = buildTree(mergedParams(req));
      return reader(op.input.shape)(tree, '') as Record<string, unknown>;
    },
    serializeOutput(op: Operation, output: unknown, requestId: string): WireResponse {
      const out: string[] = [`<?xml version="1.0" encoding="UTF-8"?>\n<${op.name}Response xmlns="${ns}">`];
      if (ec2) {
        out.push(`<requestId>${requestId}</requestId>`);
        if (op.output) xml.write(op.output.shape, output ?? {}, out);
      } else {
        const wrapper = op.output?.resultWrapper;
        if (op.output && wrapper) {
          out.push(`<${wrapper}>`);
          xml.write(op.output.shape, output ?? {}, out);
          out.push(`</${wrapper}>`);
        }
        out.push(`<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`);
      }
      out.push(`</${op.name}Response>`);
      return { status: 200, headers: xmlHeaders(requestId), body: out.join('') };
    },
    serializeError(err: AwsServiceError, requestId: string): WireResponse {
      const body = ec2
        ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
        : `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${ns}"><Error><Type>${err.senderFault ? 'Sender' : 'Receiver'}</Type><Code>${xmlEscape(err.code)}</Code><Message>${xmlEscape(err.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      return { status: err.status, headers: xmlHeaders(requestId), body };
    },
    unknownOperation(requested: string, known: boolean) {
      if (requested === '') return new AwsServiceError('MissingAction', 'Missing Action', 400);
      if (ec2) {
        return new AwsServiceError(
          'InvalidAction',
          known ? `The action ${requested} is not implemented by localeks yet.` : `The action ${requested} is not valid for this web service.`,
          400,
        );
      }
      return new AwsServiceError(
        'InvalidAction',
        known
          ? `Operation ${requested} for version ${model.metadata.apiVersion} is not implemented by localeks yet.`
          : `Could not find operation ${requested} for version ${model.metadata.apiVersion}`,
        400,
      );
    },
  };
}

