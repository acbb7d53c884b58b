#!/usr/bin/env python3
"""Regenerate src/aws/models/*.json from botocore's service models.

The official AWS service models (the same JSON that botocore, the aws CLI and
boto3 use) are the source of truth for every request/response shape, enum,
required member and error code localeks serves. This script copies the newest
model of each emulated service out of the botocore installed on the machine,
drops the prose (documentation strings) and writes minified JSON. The output
files are generated: never edit them by hand, re-run this script instead:

    npm run gen:aws-models
"""
import gzip, json, os, sys

SERVICES = ["eks", "ec2", "iam", "sts", "autoscaling", "kms", "logs", "elbv2", "route53", "eks-auth"]
DROP = {"documentation", "documentationUrl", "examples", "deprecatedMessage"}

def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node

def main():
    import botocore
    data = os.path.join(os.path.dirname(botocore.__file__), "data")
    out = os.path.join(os.path.dirname(__file__), "..", "src", "aws", "models")
    os.makedirs(out, exist_ok=True)
    for svc in SERVICES:
        versions = sorted(os.listdir(os.path.join(data, svc)))
        d = os.path.join(data, svc, versions[-1])
        path = os.path.join(d, "service-2.json.gz")
        opener = gzip.open if os.path.exists(path) else open
        path = path if os.path.exists(path) else os.path.join(d, "service-2.json")
        with opener(path, "rt") as f:
            model = strip(json.load(f))
        pag = os.path.join(d, "paginators-1.json")
        if os.path.exists(pag):
            with open(pag) as f:
                model["paginators"] = json.load(f).get("pagination", {})
        model["generatedFrom"] = f"botocore {botocore.__version__} data/{svc}/{versions[-1]}/service-2.json"
        with open(os.path.join(out, f"{svc}.json"), "w") as f:
            json.dump(model, f, separators=(",", ":"), sort_keys=True)
        print(f"{svc}: {len(model['operations'])} operations ({model['metadata']['protocol']})", file=sys.stderr)

if __name__ == "__main__":
    main()
