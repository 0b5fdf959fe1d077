#!/usr/bin/env python3
"""Writes shapes.json beside this file: for every wire type of protocol/src (each struct
that derives Deserialize, and each `wire_event!`), a JSON sample with EVERY field present,
its leaves marking their Rust type (an integer leaf is the type's largest value, or its
smallest for signed types). The property tests in roundtrip.rs mutate these samples
(random strings, numbers within range, arrays of any length, extra keys where a struct
flattens a map) and check that each mutant decodes and round-trips unchanged.

Run it again after adding a wire type or field (roundtrip.rs fails until you do):
    python3 protocol/tests/protocol/shapes.py
"""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, "..", "..", "src"))

INT = {
    "u8": 255, "u16": 65535, "u32": 4294967295, "u64": 18446744073709551615,
    "usize": 18446744073709551615, "i8": -128, "i16": -32768, "i32": -2147483648,
    "i64": -9223372036854775808,
}
# Fields whose value other fields depend on: kept as written, never mutated.
FIXED = {"cid": "messaging:general", "channel_type": "messaging", "channel_id": "general"}
# Unit enums on the wire: their names (a sample is `{ONE_OF: names}`; a mutant picks one).
ENUMS = {"PushProvider": ["firebase", "apn", "huawei", "xiaomi"]}
ONE_OF = "__one_of__"
EXTRA = "__extra__"  # marks an object that takes extra keys (a flattened map)
REQUIRED = "__required__"  # the keys a struct cannot do without


def parse_structs():
    structs = {}
    for root, _, files in os.walk(SRC):
        for f in sorted(files):
            if f.endswith(".rs"):
                parse_file(open(os.path.join(root, f)).read(), structs)
    return structs


def parse_file(text, structs):
    lines = text.split("\n")
    i = 0
    derive_de = False
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#[derive(") and "Deserialize" in line:
            derive_de = True
        m = re.match(r'pub struct (\w+)( = "([^"]+)")?[^{;(]*\{$', line)
        if m and (derive_de or m.group(3)):
            name, event = m.group(1), m.group(3)
            fields, i = parse_fields(lines, i + 1)
            structs[name] = {"fields": fields, "event": event}
            derive_de = False
            continue
        if line.startswith("pub struct") or line.startswith("pub enum"):
            derive_de = False
        i += 1


def parse_fields(lines, i):
    fields = []
    attrs = ""
    depth = 1
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("//"):
            i += 1
            continue
        if line.startswith("#["):
            attr = line
            while not attr.rstrip().endswith("]") and i + 1 < len(lines):
                i += 1
                attr += " " + lines[i].strip()
            attrs += attr
            i += 1
            continue
        if line == "}" and depth == 1:
            return fields, i + 1
        m = re.match(r"pub (\w+): (.+),$", line)
        if m:
            rename = re.search(r'rename = "([^"]+)"', attrs)
            fields.append({
                "optional": "default" in attrs or m.group(2).startswith("Option<"),
                "name": m.group(1),
                "wire": rename.group(1) if rename else m.group(1),
                "type": m.group(2),
                "flatten": "flatten" in attrs,
                "skip": re.search(r"serde\(skip\)", attrs) is not None,
            })
        attrs = ""
        i += 1
    return fields, i


def sample_of(ty, structs, field, depth, path=()):
    ty = ty.strip()
    for wrapper in ("Option", "Box"):
        if ty.startswith(wrapper + "<"):
            return sample_of(ty[len(wrapper) + 1:-1], structs, field, depth, path)
    if ty.startswith("Vec<"):
        return [sample_of(ty[4:-1], structs, field, depth, path)]
    if ty.startswith(("Map<String", "BTreeMap<String", "HashMap<String")):
        inner = ty.split(",", 1)[1].strip()[:-1]
        return {"key": sample_of(inner, structs, field, depth, path)}
    if ty == "String":
        return FIXED.get(field, "text")
    if ty == "bool":
        return True
    if ty in INT:
        return INT[ty]
    if ty in ("f64", "f32"):
        return 1.5
    if ty == "Value":
        return {"any": "json"}
    if ty in ENUMS:
        return {ONE_OF: ENUMS[ty]}
    if ty in structs:
        # A struct inside itself (a message's quoted message, a thread's messages' channel
        # ...) is cut like a deep one: the samples stay small and finite.
        if depth > 4 or ty in path:
            return {}
        return sample_struct(ty, structs, depth + 1, path)
    raise SystemExit(f"shapes.py: no sample for type {ty} (field {field})")


def sample_struct(name, structs, depth=0, path=()):
    s = structs[name]
    path = path + (name,)
    out = {}
    if s["event"]:
        out["type"] = s["event"]
    for f in s["fields"]:
        if f["skip"]:
            continue
        if f["flatten"] and f["type"] in structs:
            # A flattened struct: its fields (and the ones it requires) sit inline.
            inner = sample_struct(f["type"], structs, depth + 1, path)
            inner_required = inner.pop(REQUIRED, [])
            out.update(inner)
            out.setdefault(REQUIRED, []).extend(inner_required)
            continue
        if f["flatten"]:
            out[EXTRA] = True
            continue
        if name == "Channel" and f["name"] == "id":
            out[f["wire"]] = "general"
            continue
        if name == "Channel" and f["name"] == "kind":
            out[f["wire"]] = "messaging"
            continue
        out[f["wire"]] = sample_of(f["type"], structs, f["name"], depth, path)
    required = sorted(out.pop(REQUIRED, []) + [
        f["wire"] for f in s["fields"]
        if not f["optional"] and not f["flatten"] and not f["skip"]])
    if required:
        out[REQUIRED] = required
    return out


def main():
    structs = parse_structs()
    shapes = {n: sample_struct(n, structs) for n in sorted(structs)}
    path = os.path.join(HERE, "shapes.json")
    with open(path, "w") as f:
        json.dump(shapes, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(shapes)} shapes to {path}")


if __name__ == "__main__":
    main()
