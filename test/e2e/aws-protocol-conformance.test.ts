/**
 * Wire conformance of every protocol against botocore, over every operation
 * of every model: botocore serializes a sample input of each operation and
 * the gateway's protocol must parse back exactly that input; the gateway
 * serializes a sample output and botocore's parser must read back exactly that
 * output. Samples fill every member (lists and maps with two entries, nested
 * structures to depth 4), so every shape's wire naming rules are exercised.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadModel, MODEL_NAMES } from '../../src/aws/core/model.ts';
import type { Protocol, WireRequest } from '../../src/aws/core/protocol.ts';
import { createJsonProtocol } from '../../src/aws/core/protocols/json.ts';
import { createQueryProtocol } from '../../src/aws/core/protocols/query.ts';
import { createRestJsonProtocol } from '../../src/aws/core/protocols/rest-json.ts';
import { createRestXmlProtocol } from '../../src/aws/core/protocols/rest-xml.ts';
import { AwsServiceError } from '../../src/aws/core/types.ts';

const SCRIPT = fileURLToPath(new URL('./aws-protocol-conformance.py', import.meta.url));

interface Case {
  service: string;
  operation: string;
  input: unknown;
  request: { method: string; url: string; headers: Record<string, string>; body: string };
  output: unknown;
}

function protocolFor(service: string): Protocol {
  const model = loadModel(service);
  switch (model.metadata.protocol) {
    case 'rest-json':
      return createRestJsonProtocol(model);
    case 'json':
      return createJsonProtocol(model);
    case 'rest-xml':
      return createRestXmlProtocol(model);
    default:
      return createQueryProtocol(model);
  }
}

/** Values as the Python side encodes them: timestamps to the second, blobs base64. */
function encode(v: unknown): unknown {
  if (v instanceof Date) return { $ts: v.toISOString().slice(0, 19) };
  if (Buffer.isBuffer(v)) return { $b64: v.toString('base64') };
  if (Array.isArray(v)) return v.map(encode);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x)]));
  return v;
}

function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.$ts === 'string') return new Date(`${o.$ts}Z`);
    if (typeof o.$b64 === 'string') return Buffer.from(o.$b64, 'base64');
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, decode(x)]));
  }
  return v;
}

function python(args: string[], input?: string): string {
  const r = spawnSync('python3', [SCRIPT, ...args], { input, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

const cases: Case[] = python(['gen', ...MODEL_NAMES])
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);
const protocols = new Map<string, Protocol>(MODEL_NAMES.map((s) => [s, protocolFor(s)]));

test('botocore-serialized requests of every operation parse back to the same input', () => {
  assert.ok(cases.length > 1000, `only ${cases.length} operations`);
  const failures: string[] = [];
  for (const c of cases) {
    const p = protocols.get(c.service)!;
    const qi = c.request.url.indexOf('?');
    const req: WireRequest = {
      method: c.request.method,
      path: qi < 0 ? c.request.url : c.request.url.slice(0, qi),
      query: new URLSearchParams(qi < 0 ? '' : c.request.url.slice(qi + 1)),
      headers: c.request.headers,
      body: Buffer.from(c.request.body, 'base64'),
    };
    try {
      const found = p.operationOf(req);
      if (found.name !== c.operation) {
        failures.push(`${c.service}.${c.operation}: routed to ${found.name ?? 'nothing'} (${found.requested})`);
        continue;
      }
      const op = loadModel(c.service).operations[c.operation]!;
      const got = encode(p.parseInput(op, req));
      assert.deepStrictEqual(got, c.input);
    } catch (e) {
      failures.push(`${c.service}.${c.operation}: ${(e as Error).message.slice(0, 600)}`);
    }
  }
  assert.deepEqual(failures.slice(0, 15), [], `${failures.length} operations failed`);
});

test('gateway-serialized outputs of every operation parse in botocore to the same output', () => {
  const lines: string[] = [];
  const expected = new Map<string, unknown>();
  for (const c of cases) {
    if (c.output === null) continue;
    const op = loadModel(c.service).operations[c.operation]!;
    const res = protocols.get(c.service)!.serializeOutput(op, decode(c.output), 'req-1');
    lines.push(JSON.stringify({ service: c.service, operation: c.operation, status: res.status, headers: res.headers, body: res.body }));
    expected.set(`${c.service}.${c.operation}`, c.output);
  }
  const failures: string[] = [];
  for (const l of python(['parse'], `${lines.join('\n')}\n`).split('\n').filter(Boolean)) {
    const r = JSON.parse(l) as { service: string; operation: string; parsed: unknown };
    const key = `${r.service}.${r.operation}`;
    try {
      assert.deepStrictEqual(r.parsed, expected.get(key));
    } catch (e) {
      failures.push(`${key}: ${(e as Error).message.slice(0, 600)}`);
    }
  }
  assert.ok(expected.size > 900, `only ${expected.size} outputs`);
  assert.deepEqual(failures.slice(0, 15), [], `${failures.length} operations failed`);
});

test('every modeled error renders so that botocore reads its code, message, status, request id and fields', () => {
  const errs = python(['errors', ...MODEL_NAMES])
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { service: string; operation: string; shape: string; code: string; status: number; fields: Record<string, string> });
  assert.ok(errs.length > 250, `only ${errs.length} error shapes`);
  const lines = errs.map((e) => {
    const model = loadModel(e.service);
    const withFields = model.metadata.protocol === 'json' || model.metadata.protocol === 'rest-json';
    const res = protocols.get(e.service)!.serializeError(new AwsServiceError(e.code, `msg for ${e.shape}`, e.status, withFields ? e.fields : {}), 'req-err-1');
    return JSON.stringify({ service: e.service, operation: e.operation, status: res.status, headers: res.headers, body: res.body });
  });
  const failures: string[] = [];
  python(['parse'], `${lines.join('\n')}\n`)
    .split('\n')
    .filter(Boolean)
    .forEach((l, i) => {
      const e = errs[i]!;
      const r = JSON.parse(l) as { parsed: Record<string, unknown> & { Error?: { Code?: string; Message?: string } }; requestId?: string; status?: number };
      const model = loadModel(e.service);
      const withFields = model.metadata.protocol === 'json' || model.metadata.protocol === 'rest-json';
      try {
        assert.equal(r.parsed.Error?.Code, e.code);
        assert.equal(r.parsed.Error?.Message, `msg for ${e.shape}`);
        assert.equal(r.status, e.status);
        assert.equal(r.requestId, 'req-err-1');
        if (withFields) for (const [k, v] of Object.entries(e.fields)) assert.equal(r.parsed[k], v, `field ${k}`);
      } catch (err) {
        failures.push(`${e.service}.${e.shape}: ${(err as Error).message.slice(0, 300)}`);
      }
    });
  assert.deepEqual(failures.slice(0, 15), [], `${failures.length} errors failed`);
});
