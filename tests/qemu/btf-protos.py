#!/usr/bin/env python3
"""btf-protos.py - print C-like prototypes / member layouts from a BTF file via bpftool.

Usage: tests/qemu/btf-protos.py BTF_FILE ITEM...
  ITEM is  NAME              a FUNC: prints "ret NAME(type arg, ...)" (all distinct protos)
           tp:EVENT          the btf_trace_EVENT typedef (raw tracepoint / tp_btf args)
           member:S.M        layout of member M of struct S (searched inside anonymous
                             structs/unions): byte offset, size, C type, type expansion
  Missing names print "NAME: not in BTF".  Needs bpftool (-j btf dump file).
Example: tests/qemu/btf-protos.py ~/.cache/mmreplay/btf/debian-6.1-cloud.btf \\
           try_to_unmap_one tp:rss_stat member:mm_struct.rss_stat
"""
import json
import subprocess
import sys


def load(path):
    out = subprocess.run(["bpftool", "-j", "btf", "dump", "file", path, "format", "raw"],
                         check=True, capture_output=True, text=True).stdout
    types = {0: {"id": 0, "kind": "VOID", "name": "void"}}
    for t in json.loads(out)["types"]:
        types[t["id"]] = t
    return types


def tname(types, tid, inner=""):
    """C spelling of type tid, with declarator `inner` (name, *name, ...)."""
    t = types[tid]
    k, n = t["kind"], t.get("name", "(anon)")
    sp = (" " + inner) if inner else ""
    if k in ("VOID", "INT", "FLOAT", "TYPEDEF"):
        return n + sp
    if k in ("STRUCT", "UNION", "ENUM", "ENUM64"):
        kw = {"STRUCT": "struct", "UNION": "union"}.get(k, "enum")
        return "%s %s%s" % (kw, n if n != "(anon)" else "{...}", sp)
    if k == "FWD":
        return "%s %s%s" % ("union" if t.get("fwd_kind") == "union" else "struct", n, sp)
    if k == "PTR":
        tgt = types[t["type_id"]]
        if tgt["kind"] in ("FUNC_PROTO", "ARRAY"):
            return tname(types, t["type_id"], "(*%s)" % inner)
        return tname(types, t["type_id"], "*" + inner)
    if k in ("CONST", "VOLATILE", "RESTRICT"):
        q = k.lower()
        tgt = types[t["type_id"]]
        if tgt["kind"] == "PTR":
            return tname(types, t["type_id"], "%s %s" % (q, inner) if inner else q)
        return "%s %s" % (q, tname(types, t["type_id"], inner))
    if k in ("TYPE_TAG", "DECL_TAG"):
        return tname(types, t["type_id"], inner)
    if k == "ARRAY":
        return tname(types, t["type_id"], "%s[%d]" % (inner, t["nr_elems"]))
    if k == "FUNC_PROTO":
        return tname(types, t["ret_type_id"], "%s(%s)" % (inner, params(types, t)))
    return "%s<%s>%s" % (k, n, sp)


def params(types, proto):
    ps = []
    for p in proto.get("params", []):
        if p["type_id"] == 0:
            ps.append("...")
            continue
        pn = p.get("name", "")
        ps.append(tname(types, p["type_id"], "" if pn in ("", "(anon)") else pn))
    return ", ".join(ps) or "void"


def size_of(types, tid):
    t = types[tid]
    while t["kind"] in ("TYPEDEF", "CONST", "VOLATILE", "RESTRICT", "TYPE_TAG"):
        t = types[t["type_id"]]
    if t["kind"] == "ARRAY":
        return t["nr_elems"] * size_of(types, t["type_id"])
    if t["kind"] == "PTR":
        return 8
    return t.get("size", 0)


def expand(types, tid):
    """One-level expansion of typedef/struct for the layout column."""
    t = types[tid]
    while t["kind"] in ("TYPEDEF", "CONST", "VOLATILE"):
        t = types[t["type_id"]]
    if t["kind"] == "ARRAY":
        return "%s[%d]" % (expand(types, t["type_id"]), t["nr_elems"])
    if t["kind"] in ("STRUCT", "UNION"):
        ms = ["%s@%d" % (tname(types, m["type_id"], m["name"]), m["bits_offset"] // 8)
              for m in t.get("members", [])]
        n = t.get("name", "(anon)")
        return "%s %s{ %s } (%d B)" % (t["kind"].lower(), "" if n == "(anon)" else n + " ",
                                       "; ".join(ms), t["size"])
    return tname(types, t["id"]) + " (%d B)" % size_of(types, t["id"])


def find_member(types, sid, mname, base=0, path=""):
    for m in types[sid].get("members", []):
        off = base + m["bits_offset"]
        if m["name"] == mname:
            return off, m, path + mname
        inner = types[m["type_id"]]
        if m["name"] in ("", "(anon)") and inner["kind"] in ("STRUCT", "UNION"):
            r = find_member(types, inner["id"], mname, off, path + "<anon %s>." % inner["kind"].lower())
            if r:
                return r
    return None


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    types = load(sys.argv[1])
    by_name = {}
    for t in types.values():
        by_name.setdefault(t.get("name"), []).append(t)
    for item in sys.argv[2:]:
        if item.startswith("tp:"):
            ev = item[3:]
            ts = [t for t in by_name.get("btf_trace_" + ev, []) if t["kind"] == "TYPEDEF"]
            if not ts:
                print("tp:%s: not in BTF" % ev)
                continue
            print("tp:%s: typedef %s" % (ev, tname(types, ts[0]["type_id"], "btf_trace_" + ev)))
        elif item.startswith("member:"):
            sname, mname = item[7:].split(".", 1)
            ss = [t for t in by_name.get(sname, []) if t["kind"] in ("STRUCT", "UNION")]
            if not ss:
                print("%s: struct not in BTF" % item)
                continue
            r = find_member(types, ss[0]["id"], mname)
            if not r:
                print("%s: no such member" % item)
                continue
            off, m, path = r
            bits = ""
            if m.get("bitfield_size"):
                bits = " bitfield:%d" % m["bitfield_size"]
            print("%s: %s.%s offset=%d size=%d%s type=%s = %s" % (
                item, sname, path, off // 8, size_of(types, m["type_id"]), bits,
                tname(types, m["type_id"]), expand(types, m["type_id"])))
        else:
            fs = [t for t in by_name.get(item, []) if t["kind"] == "FUNC"]
            if not fs:
                print("%s: not in BTF" % item)
                continue
            seen = []
            for f in fs:
                s = tname(types, f["type_id"], item)
                if s not in seen:
                    seen.append(s)
            for s in seen:
                print("%s: %s" % (item, s))


if __name__ == "__main__":
    main()
