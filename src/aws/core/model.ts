/**
 * The official AWS service models (botocore JSON, see src/aws/models/) as
 * typed objects, loaded lazily on first use and cached for the process.
 */
import { readFileSync } from 'node:fs';

/** A reference to a shape from a member, list member, map key/value, or an operation's input/output. */
export interface ShapeRef {
  shape: string;
  /** rest protocols: where the member travels (uri label, query string, header, status code). */
  location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
  /** Wire name: header/label/query key (rest), element name (xml, query), EC2 output element. */
  locationName?: string;
  /** EC2 only: the input parameter name when it differs from the capitalized locationName. */
  queryName?: string;
  /** Query protocol outputs: the element wrapping the result (e.g. GetCallerIdentityResult). */
  resultWrapper?: string;
  xmlNamespace?: { uri: string };
  flattened?: boolean;
  idempotencyToken?: boolean;
  jsonvalue?: boolean;
  timestampFormat?: string;
}

export type ShapeType = 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'boolean' | 'double' | 'float' | 'timestamp' | 'blob';

export interface Shape {
  type: ShapeType;
  members?: Record<string, ShapeRef>;
  required?: string[];
  member?: ShapeRef;
  key?: ShapeRef;
  value?: ShapeRef;
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  /** Error shapes: the wire code (when it differs from the shape name) and HTTP status. */
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
  exception?: boolean;
  fault?: boolean;
  locationName?: string;
  flattened?: boolean;
  timestampFormat?: string;
  payload?: string;
  union?: boolean;
  eventstream?: boolean;
  sensitive?: boolean;
}

export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: ShapeRef;
  output?: ShapeRef;
  errors?: ShapeRef[];
  /** Smithy auth traits: ['smithy.api#noAuth'] marks an operation callable unsigned. */
  auth?: string[];
  authtype?: string;
}

export type ProtocolName = 'rest-json' | 'json' | 'query' | 'ec2' | 'rest-xml';

export interface ServiceModel {
  metadata: {
    apiVersion: string;
    endpointPrefix: string;
    protocol: ProtocolName;
    jsonVersion?: string;
    targetPrefix?: string;
    signingName?: string;
    xmlNamespace?: string;
    serviceId: string;
  };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

const cache = new Map<string, ServiceModel>();
const modelsDir = new URL('../models/', import.meta.url);

/** The model names localeks ships (files under src/aws/models). */
export const MODEL_NAMES = ['eks', 'ec2', 'iam', 'sts', 'autoscaling', 'kms', 'logs', 'elbv2', 'route53', 'eks-auth'] as const;

/** loadModel returns the parsed model src/aws/models/<name>.json (cached). Throws if absent. */
export function loadModel(name: string): ServiceModel {
  let m = cache.get(name);
  if (!m) {
    m = JSON.parse(readFileSync(new URL(`${name}.json`, modelsDir), 'utf8')) as ServiceModel;
    cache.set(name, m);
  }
  return m;
}
