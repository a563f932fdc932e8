#!/usr/bin/env python3
"""Independent checker for sealog proof bundles and C2SP tlog-tiles (DESIGN section 10).

Written from RFC 9162 (2.1.3.2 inclusion, 2.1.4.2 consistency verification) and
c2sp.org/tlog-tiles, reusing only the key, signed-note and record checks of
verify_sealog.py.

Usage: check_bundles.py --bundle FILE --key KEYRINGFILE [--origin ORIGIN]
       check_bundles.py --tiles DIR --key KEYRINGFILE [--origin ORIGIN]
Prints one JSON object; exit 0 = valid, 1 = a check failed, 2 = usage error.
"""
import argparse, hashlib, json, os, re, sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verify_sealog import Fail, b64, check_record, load_ring, signed_note_text  # noqa: E402


def node(l, r):
    return hashlib.sha256(b"\x01" + l + r).digest()


def checkpoint_text(what, text, ring, origin):
    if not isinstance(text, str):
        raise Fail("%s is missing" % what)
    body = signed_note_text(what, text.encode("utf-8"), ring).decode("utf-8").split("\n")
    if len(body) != 3 or not re.fullmatch(r"0|[1-9][0-9]*", body[1]) or len(b64(body[2])) != 32:
        raise Fail("%s: not a checkpoint" % what)
    if origin is not None and body[0] != origin:
        raise Fail("%s: origin %r is not the pinned %r" % (what, body[0], origin))
    return body[0], int(body[1]), b64(body[2])


def proof_hashes(proof):
    if not isinstance(proof, list) or any(not isinstance(p, str) or len(b64(p)) != 32 for p in proof):
        raise Fail("proof is not a list of base64 32-byte hashes")
    return [b64(p) for p in proof]


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 section 2.1.3.2, step by step."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, proof, first_hash, second_hash):
    """RFC 9162 section 2.1.4.2, step by step."""
    if first == second:
        return not proof and first_hash == second_hash
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def check_bundle(b, key, origin):
    if b.get("type") == "sealog.inclusion.v1":
        o, size, root = checkpoint_text("checkpoint", b.get("checkpoint"), key, origin)
        if b.get("origin") != o or b.get("tree_size") != size:
            raise Fail("bundle origin/tree_size are not the checkpoint's")
        line = b.get("record", "").encode("utf-8")
        prev = json.loads(line).get("prev") if line.startswith(b"{") else None
        leaf, rec = check_record(line + b"\n", b.get("leaf_index"), prev)
        if not verify_inclusion(rec["seq"], size, leaf, proof_hashes(b.get("proof")), root):
            raise Fail("inclusion proof of seq %d does not lead to the root" % rec["seq"])
        return {"type": b["type"], "leaf_index": rec["seq"], "tree_size": size}
    if b.get("type") == "sealog.consistency.v1":
        o1, m, r1 = checkpoint_text("old_checkpoint", b.get("old_checkpoint"), key, origin)
        o2, n, r2 = checkpoint_text("new_checkpoint", b.get("new_checkpoint"), key, origin)
        if not (o1 == o2 == b.get("origin")) or b.get("old_size") != m or b.get("new_size") != n:
            raise Fail("bundle origin/sizes are not the checkpoints'")
        if not verify_consistency(m, n, proof_hashes(b.get("proof")), r1, r2):
            raise Fail("tree size %d is not consistent with %d" % (m, n))
        return {"type": b["type"], "old_size": m, "new_size": n}
    raise Fail("unknown bundle type %r" % b.get("type"))


# ---- tiles -------------------------------------------------------------------
def tile_path(level, n, width):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    return "tile/%s/%s%s" % (level, s, "" if width == 256 else ".p/%d" % width)


def read_tile(d, level, n, width):
    data = open(os.path.join(d, tile_path(level, n, width)), "rb").read()
    if len(data) != 32 * width:
        raise Fail("%s: %d bytes, expected %d" % (tile_path(level, n, width), len(data), 32 * width))
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def stored_hash(d, level, index, size):
    """The tree-level-8L hash at index, read from the tile that holds it."""
    count = size >> (8 * level)
    n = index // 256
    return read_tile(d, level, n, min(256, count - 256 * n))[index % 256]


def subtree(d, height, index, size):
    """Hash of the perfect subtree of 2^height leaves at index, from the highest tiles holding it."""
    level, r = divmod(height, 8)
    hashes = [stored_hash(d, level, index * (1 << r) + i, size) for i in range(1 << r)]
    while len(hashes) > 1:
        hashes = [node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def check_tiles(d, key, origin):
    o, size, root = checkpoint_text("checkpoint", open(os.path.join(d, "checkpoint"), encoding="utf-8").read(), key, origin)
    # The root from the tile hashes: the perfect subtrees of size's binary form, left to right, folded from the right.
    peaks, start = [], 0
    for h in range(size.bit_length() - 1, -1, -1):
        if size >> h & 1:
            peaks.append(subtree(d, h, start >> h, size))
            start += 1 << h
    r = peaks[-1] if peaks else hashlib.sha256(b"").digest()
    for p in reversed(peaks[:-1]):
        r = node(p, r)
    if r != root:
        raise Fail("the tile hashes do not recompute the checkpoint root")
    # Every entry is a record whose leaf hash is the level-0 tile's; every higher tile hash is its 256 children's.
    checked = 0
    for n in range((size + 255) // 256):
        width = min(256, size - 256 * n)
        data, leaves, prev = open(os.path.join(d, tile_path("entries", n, width)), "rb").read(), read_tile(d, 0, n, width), None
        pos = 0
        for i in range(width):
            length = int.from_bytes(data[pos:pos + 2], "big")
            line = data[pos + 2:pos + 2 + length]
            pos += 2 + length
            leaf, rec = check_record(line + b"\n", 256 * n + i, prev if prev else json.loads(line)["prev"])
            if leaf != leaves[i]:
                raise Fail("entry %d does not hash to its level-0 tile hash" % (256 * n + i))
            prev, checked = leaf.hex(), checked + 1
        if pos != len(data):
            raise Fail("entry bundle %d has trailing bytes" % n)
    for level in range(1, 5):
        for i in range(size >> (8 * level)):
            kids = [stored_hash(d, level - 1, 256 * i + j, size) for j in range(256)]
            while len(kids) > 1:
                kids = [node(kids[k], kids[k + 1]) for k in range(0, len(kids), 2)]
            if kids[0] != stored_hash(d, level, i, size):
                raise Fail("tile level %d hash %d is not the hash of its 256 children" % (level, i))
    return {"tree_size": size, "entries_checked": checked}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundle")
    ap.add_argument("--tiles")
    ap.add_argument("--key", required=True)
    ap.add_argument("--origin")
    a = ap.parse_args()
    if bool(a.bundle) == bool(a.tiles):
        print(json.dumps({"ok": False, "error": "usage: one of --bundle FILE or --tiles DIR"}))
        return 2
    try:
        key = list(load_ring(a.key)[0].values())  # the key ring: every key pinned
        if a.bundle:
            out = check_bundle(json.loads(open(a.bundle, encoding="utf-8").read()), key, a.origin)
        else:
            out = check_tiles(a.tiles, key, a.origin)
        print(json.dumps(dict(out, ok=True)))
        return 0
    except (Fail, OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
