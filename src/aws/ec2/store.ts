/**
 * Ec2Store: the EC2 view of AwsState for one account and region. Every EC2
 * resource is a JSON document in the model's own output shape (a `Vpc`, a
 * `Subnet`, ...) plus private members prefixed with `_`, stored under
 * `/aws/ec2/<account>/<region>/<type>/<id>`.
 *
 * Writes that check invariants across documents (CIDR overlap, dependency
 * checks, IP allocation) run under `exclusive()`, one at a time per account
 * and region in this process, so that check and commit cannot interleave.
 */
import { type AwsState, awsKey, collectionPrefix, type Scope, type StateOp } from '../core/state.ts';

/** Document types (the `<type>` segment of the store key). */
export const T = {
  vpc: 'vpc',
  subnet: 'subnet',
  securityGroup: 'security-group',
  routeTable: 'route-table',
  networkAcl: 'network-acl',
  dhcpOptions: 'dhcp-options',
  internetGateway: 'internet-gateway',
  natGateway: 'nat-gateway',
  address: 'address',
  launchTemplate: 'launch-template',
  keyPair: 'key-pair',
  instance: 'instance',
  networkInterface: 'network-interface',
  vpcEndpoint: 'vpc-endpoint',
  egressOnlyInternetGateway: 'egress-only-internet-gateway',
  volume: 'volume',
} as const;

export type DocType = (typeof T)[keyof typeof T];

/** A stored EC2 document: model members plus `_private` members. */
export type Doc = Record<string, any>;

const locks = new Map<string, Promise<unknown>>();

export class Ec2Store {
  constructor(
    readonly state: AwsState,
    readonly scope: Scope,
  ) {}

  key(type: string, id: string): string {
    return awsKey(this.scope, 'ec2', type, id);
  }

  get<D extends Doc = Doc>(type: string, id: string): D | undefined {
    if (typeof id !== 'string') return undefined;
    return this.state.get<D>(this.key(type, id));
  }

  revision(type: string, id: string): number {
    return this.state.revision(this.key(type, id));
  }

  list<D extends Doc = Doc>(type: string): D[] {
    return this.state.list<D>(collectionPrefix(this.scope, 'ec2', type));
  }

  /** put returns a commit op writing doc at (type, id). */
  put(type: string, id: string, doc: Doc): StateOp {
    return { op: 'put', key: this.key(type, id), doc };
  }

  /** putIfUnchanged is put with compare-and-swap on the revision this process last read (another replica's write fails the commit). */
  putIfUnchanged(type: string, id: string, doc: Doc): StateOp {
    return { op: 'put', key: this.key(type, id), doc, expectedRevision: this.revision(type, id) };
  }

  del(type: string, id: string): StateOp {
    return { op: 'delete', key: this.key(type, id) };
  }

  commit(ops: StateOp[]): Promise<number> {
    return this.state.commit(ops);
  }

  /** exclusive runs fn after every earlier exclusive fn of this account and region has settled. */
  exclusive<R>(fn: () => Promise<R> | R): Promise<R> {
    const k = `${this.scope.accountId}/${this.scope.region}`;
    const prev = locks.get(k) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    locks.set(k, tail);
    void tail.then(() => {
      if (locks.get(k) === tail) locks.delete(k);
    });
    return run;
  }
}

/** out copies a stored document without its `_private` members (what clients see). */
export function out<D extends Doc>(doc: D): D {
  const r: Doc = {};
  for (const k in doc) if (k.charCodeAt(0) !== 95 /* _ */) r[k] = doc[k];
  return r as D;
}

/** clone deep-copies a stored document before changing it. */
export function clone<D>(doc: D): D {
  return structuredClone(doc);
}
