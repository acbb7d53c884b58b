#!/usr/bin/env python3
"""Regenerate src/kube/api/protobuf-table.json from upstream's generated.proto files.

kube-apiserver and client-go speak `application/vnd.kubernetes.protobuf`: the
bytes `k8s\\0` followed by a runtime.Unknown whose `raw` is the typed object in
protobuf. The field numbers and wire types of every built-in type are defined
by the `generated.proto` files of kubernetes/api and kubernetes/apimachinery
(go-to-protobuf output). This script reads those files out of git mirrors of
the two repositories, and the Go struct tags beside them (`types.go` and
friends) for what the .proto files do not say but the JSON form needs: the JSON
name of each field (`uID` is `uid`), whether the field is inlined in JSON
(`json:",inline"`, e.g. Volume.volumeSource) and whether a zero value is left
out of JSON (a non-pointer `omitempty` field). It writes one compact table; the
decoder is src/kube/api/protobuf.ts. The output is generated: never edit it by
hand, re-run this script:

    npm run gen:kube-proto -- [API_GIT_DIR] [APIMACHINERY_GIT_DIR] [APIEXTENSIONS_GIT_DIR]

The git directories default to the mirrors the `fetch` tool leaves under
/work/.mirror (github:kubernetes/api, github:kubernetes/apimachinery,
github:kubernetes/apiextensions-apiserver for CustomResourceDefinitions).

Table shape:
  {"source": {...commits},
   "packages": {"k8s.io.api.apps.v1": "apps/v1", ...}   # proto package -> group/version
   "messages": {"k8s.io.api.apps.v1.Deployment": [[num, json, type, flags, keyType?]...]},
   "lists": ["k8s.io.api.authentication.v1.ExtraValue", ...]}  # messages whose JSON is their `items` array
flags: 1 repeated, 2 map, 4 omit zero scalar (non-pointer omitempty), 8 inline in JSON.
type: a proto scalar (string, int32, int64, bool, bytes, double, float, uint32, uint64, sint32...)
or a fully qualified message name without the leading dot; for a map, type is the value's
type and keyType follows the flags.
"""
import json, os, re, subprocess, sys

DEFAULT_API = "/work/.mirror/kubernetes+api/repo"
DEFAULT_MACHINERY = "/work/.mirror/kubernetes+apimachinery/repo"
DEFAULT_APIEXTENSIONS = "/work/.mirror/kubernetes+apiextensions-apiserver/repo"
APIEXTENSIONS_DIRS = ["pkg/apis/apiextensions/v1"]
MACHINERY_DIRS = ["pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/api/resource", "pkg/util/intstr"]
SCALARS = {"string", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "bytes", "double", "float", "fixed32", "fixed64", "sfixed32", "sfixed64"}

def git(repo, *args):
    return subprocess.run(["git", "--git-dir", repo, *args], check=True, capture_output=True, text=True).stdout

def files(repo):
    return git(repo, "ls-tree", "-r", "--name-only", "HEAD").split("\n")

def show(repo, path):
    return git(repo, "show", f"HEAD:{path}")

FIELD = re.compile(r"^\s*(optional|repeated)\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAPF = re.compile(r"^\s*map\s*<\s*([\w.]+)\s*,\s*([\w.]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")

def parse_proto(text):
    """(package, {message: {"fields": [...], "comment": str}})"""
    pkg = re.search(r"^package\s+([\w.]+)\s*;", text, re.M).group(1)
    msgs = {}
    comment, cur = [], None
    for line in text.split("\n"):
        s = line.strip()
        if cur is None:
            if s.startswith("//"):
                comment.append(s)
                continue
            m = re.match(r"^message\s+(\w+)\s*\{", s)
            if m:
                cur = {"fields": [], "comment": "\n".join(comment)}
                msgs[m.group(1)] = cur
            comment = []
            continue
        if s == "}":
            cur = None
            continue
        m = MAPF.match(line)
        if m:
            cur["fields"].append({"label": "map", "key": m.group(1), "type": m.group(2), "name": m.group(3), "num": int(m.group(4))})
            continue
        m = FIELD.match(line)
        if m:
            cur["fields"].append({"label": m.group(1), "type": m.group(2), "name": m.group(3), "num": int(m.group(4))})
    return pkg, msgs

def qualify(pkg, t):
    if t in SCALARS:
        return t
    if t.startswith("."):
        return t[1:]
    return f"{pkg}.{t}"

TAG = re.compile(r"`([^`]*)`\s*(//.*)?$")

def parse_go_structs(text):
    """{TypeName: {protoName: {"json": name, "omitempty": bool, "inline": bool, "pointer": bool}}}"""
    out = {}
    cur = None
    depth = 0
    for line in text.split("\n"):
        if cur is None:
            m = re.match(r"^type\s+(\w+)\s+struct\s*\{\s*$", line)
            if m:
                cur = out.setdefault(m.group(1), {})
                depth = 1
            continue
        s = line.strip()
        if s.startswith("//") or not s:
            continue
        depth += s.count("{") - s.count("}")
        if depth <= 0:
            cur = None
            continue
        m = TAG.search(s)
        if not m:
            continue
        tags = dict(re.findall(r'(\w+):"([^"]*)"', m.group(1)))
        if "protobuf" not in tags:
            continue
        pname = re.search(r"name=(\w+)", tags["protobuf"])
        pnum = re.match(r"\w+,(\d+),", tags["protobuf"])
        if not pname and not pnum:
            continue
        head = s[: m.start()].split()
        gotype = head[-1] if head else ""
        jparts = tags.get("json", "").split(",")
        jname = jparts[0]
        # An embedded struct (no field name) without a JSON name is inlined by encoding/json.
        inline = "inline" in jparts[1:] or (len(head) == 1 and not jname)
        if not jname and not inline:
            jname = head[0] if head else pname.group(1)
        entry = {
            "json": jname,
            "omitempty": "omitempty" in jparts[1:],
            "inline": inline,
            "pointer": gotype.startswith("*"),
        }
        # Keyed by proto name and by field number (a few tags, e.g. EphemeralContainer's, carry no name).
        if pname:
            cur[pname.group(1)] = entry
        if pnum:
            cur["#" + pnum.group(1)] = entry
    return out

def collect(repo, dirs):
    """Yields (dir, proto text, merged go structs, group name or None)."""
    all_files = files(repo)
    for d in dirs:
        proto = f"{d}/generated.proto"
        if proto not in all_files:
            continue
        structs = {}
        group = None
        for f in all_files:
            if os.path.dirname(f) != d or not f.endswith(".go") or f.endswith("_test.go") or os.path.basename(f).startswith("zz_generated"):
                continue
            src = show(repo, f)
            for k, v in parse_go_structs(src).items():
                structs.setdefault(k, {}).update(v)
            g = re.search(r'\bGroupName\s*=\s*"([^"]*)"', src)
            if g:
                group = g.group(1)
        yield d, show(repo, proto), structs, group

def main():
    api = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_API
    machinery = sys.argv[2] if len(sys.argv) > 2 else DEFAULT_MACHINERY
    apiext = sys.argv[3] if len(sys.argv) > 3 else DEFAULT_APIEXTENSIONS
    api_dirs = sorted(os.path.dirname(f) for f in files(api) if f.endswith("/generated.proto"))
    packages, messages, lists = {}, {}, []
    for repo, dirs in ((api, api_dirs), (machinery, MACHINERY_DIRS), (apiext, APIEXTENSIONS_DIRS)):
        for d, text, structs, group in collect(repo, dirs):
            pkg, msgs = parse_proto(text)
            version = d.rsplit("/", 1)[-1]
            if group is not None and re.match(r"^v\d", version):
                packages[pkg] = f"{group}/{version}" if group else version
            for name, m in sorted(msgs.items()):
                full = f"{pkg}.{name}"
                go = structs.get(name, {})
                if "+protobuf.nullable=true" in m["comment"] and [f["name"] for f in m["fields"]] == ["items"]:
                    lists.append(full)
                rows = []
                for f in m["fields"]:
                    g = go.get(f["name"]) or go.get("#%d" % f["num"], {})
                    flags = 0
                    if f["label"] == "repeated":
                        flags |= 1
                    if f["label"] == "map":
                        flags |= 2
                    t = qualify(pkg, f["type"])
                    if f["label"] == "optional" and t in SCALARS and g.get("omitempty") and not g.get("pointer"):
                        flags |= 4
                    if g.get("inline"):
                        flags |= 8
                    row = [f["num"], g.get("json") or f["name"], t, flags]
                    if f["label"] == "map":
                        row.append(qualify(pkg, f["key"]))
                    rows.append(row)
                messages[full] = rows
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "kube", "api", "protobuf-table.json")
    table = {
        "source": {
            "kubernetes/api": git(api, "rev-parse", "HEAD").strip(),
            "kubernetes/apimachinery": git(machinery, "rev-parse", "HEAD").strip(),
            "kubernetes/apiextensions-apiserver": git(apiext, "rev-parse", "HEAD").strip(),
        },
        "packages": dict(sorted(packages.items())),
        "lists": sorted(lists),
        "messages": dict(sorted(messages.items())),
    }
    with open(out, "w") as f:
        json.dump(table, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out}: {len(packages)} packages, {len(messages)} messages, {len(lists)} list types")

if __name__ == "__main__":
    main()
