"""Protocol conformance against botocore, for test/e2e/aws-protocol-conformance.test.ts.

  gen  SERVICES...  prints, per operation, a sample input built from the model,
                    the HTTP request botocore serializes for it, and a sample
                    output (JSON lines; timestamps as {"$ts": iso}, blobs as
                    {"$b64": ...}).
  errors SERVICES.. prints every modeled error shape (code, status, fields).
  parse             reads JSON lines {service, operation, status, headers, body}
                    (responses rendered by the gateway) and prints, per line,
                    what botocore's parser makes of them, in the same encoding.
"""
import base64
import datetime
import json
import sys

import botocore.session
from botocore import parsers, serialize
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict

TS = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
session = botocore.session.get_session()


def sample(shape, name, depth=0):
    t = shape.type_name
    if t == 'structure':
        if depth > 4:
            return None
        out = {}
        for m, ms in shape.members.items():
            if getattr(shape, 'is_document_type', False) or ms.serialization.get('eventstream') or ms.type_name == 'structure' and ms.serialization.get('payload'):
                continue
            if shape.metadata.get('union') and out:
                break
            v = sample(ms, m, depth + 1)
            if v is not None:
                out[m] = v
        # An empty structure has no wire form in the query protocols: leave it out.
        return out or None
    if t == 'list':
        if depth > 5:
            return None
        items = [x for x in (sample(shape.member, name, depth + 1) for _ in range(2)) if x is not None]
        return items or None
    if t == 'map':
        if depth > 5:
            return None
        return {f'{name}K{i}': v for i in range(2) if (v := sample(shape.value, name, depth + 1)) is not None} or None
    if t == 'string':
        return shape.enum[0] if shape.enum else f'{name}-v'
    if t in ('integer', 'long'):
        return 7
    if t in ('double', 'float'):
        return 1.5
    if t == 'boolean':
        return True
    if t == 'timestamp':
        return TS
    if t == 'blob':
        return b'blob\x00\xff'
    return None


def enc(v):
    if isinstance(v, datetime.datetime):
        return {'$ts': v.astimezone(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S')}
    if isinstance(v, (bytes, bytearray)):
        return {'$b64': base64.b64encode(bytes(v)).decode()}
    if isinstance(v, dict):
        return {k: enc(x) for k, x in v.items()}
    if isinstance(v, list):
        return [enc(x) for x in v]
    return v


def gen(names):
    for svc in names:
        model = session.get_service_model(svc)
        protocol = model.metadata['protocol']
        ser = serialize.create_serializer(protocol, include_validation=False)
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            if op.has_event_stream_input or op.has_event_stream_output:
                continue
            params = (sample(op.input_shape, 'in') or {}) if op.input_shape else {}
            rd = ser.serialize_to_request(params, op)
            prepare_request_dict(rd, endpoint_url='http://localhost')
            req = create_request_object(rd).prepare()
            body = req.body or b''
            if isinstance(body, str):
                body = body.encode()
            url = req.url[len('http://localhost'):]
            out = sample(op.output_shape, 'out') if op.output_shape else None
            print(json.dumps({
                'service': svc, 'operation': op_name, 'input': enc(params),
                'request': {'method': req.method, 'url': url or '/', 'headers': {k.lower(): v for k, v in req.headers.items()}, 'body': base64.b64encode(body).decode()},
                'output': enc(out) if out is not None else None,
            }))


def parse():
    for line in sys.stdin:
        r = json.loads(line)
        model = session.get_service_model(r['service'])
        op = model.operation_model(r['operation'])
        p = parsers.create_parser(model.metadata['protocol'])
        resp = {'status_code': r['status'], 'headers': HeadersDict(r['headers']), 'body': r['body'].encode()}
        parsed = p.parse(resp, op.output_shape)
        if r['status'] >= 300:
            # As botocore's endpoint does: modeled error fields come from parsing with the error's shape.
            shape = model.shape_for_error_code(parsed.get('Error', {}).get('Code'))
            if shape is not None:
                modeled = p.parse(resp, shape)
                modeled.pop('ResponseMetadata', None)
                parsed.update(modeled)
        meta = parsed.pop('ResponseMetadata', {})
        print(json.dumps({'service': r['service'], 'operation': r['operation'], 'parsed': enc(parsed), 'requestId': meta.get('RequestId'), 'status': meta.get('HTTPStatusCode')}))


def errors(names):
    """Every modeled error of every operation: the wire code, status and string fields botocore should read."""
    for svc in names:
        model = session.get_service_model(svc)
        seen = set()
        for op_name in model.operation_names:
            op = model.operation_model(op_name)
            for e in op.error_shapes:
                if e.name in seen:
                    continue
                seen.add(e.name)
                fields = {m: f'{m}-v' for m, ms in e.members.items() if ms.type_name == 'string' and m.lower() != 'message'}
                print(json.dumps({'service': svc, 'operation': op_name, 'shape': e.name, 'code': e.metadata.get('error', {}).get('code', e.name), 'status': e.metadata.get('error', {}).get('httpStatusCode', 400), 'fields': fields}))


if __name__ == '__main__':
    if sys.argv[1] == 'gen':
        gen(sys.argv[2:])
    elif sys.argv[1] == 'errors':
        errors(sys.argv[2:])
    else:
        parse()
