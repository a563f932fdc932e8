#!/usr/bin/env python3
"""Independent verifier for the sealog on-disk format (segments + checkpoints).

Segments removed by retention are crossed through their kept signed manifests
(removed/NNNNNNNNNN.manifest: signature, continuity, Merkle peaks -> root), and
each must be named by a sealog.retention.removed record with its manifest hash.

The key file is one verifier key, or a key ring (keys/ring.pub): keys one per
line and, for each retired key, a JSON line binding it (signed by its successor)
to the largest tree it may sign. A checkpoint or manifest signed by a retired
key past that size, or past its sealog.key.transition record, fails.

Usage: verify_sealog.py --data DIR --key PUBKEYFILE [--origin ORIGIN]
       verify_sealog.py --self-test
Prints one JSON object; exit 0 = ok, 1 = a check failed, 2 = usage error.
Standard library only (+ /usr/bin/lz4); Ed25519 from `cryptography` if present,
otherwise the pure-Python ed25519.py next to this file.
"""
import argparse, base64, binascii, hashlib, json, math, os, re, subprocess, sys

sys.dont_write_bytecode = True  # keep the source tree free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ed25519 as pure_ed25519  # noqa: E402

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.exceptions import InvalidSignature
except ImportError:
    Ed25519PublicKey = None

RECORD_FIELDS = {"seq", "prev", "ts", "stream", "level", "type", "source", "event", "redactions", "meta"}
SUFFIX_RE = re.compile(rb',"hash":"([0-9a-f]{64})"\}\Z')
SEG_RE = re.compile(r"^([0-9]{10})\.seg\.lz4$")
CKPT_RE = re.compile(r"^([0-9]{20})\.ckpt$")
TOMB_RE = re.compile(r"^([0-9]{10})\.manifest$")
ZERO_HASH = "0" * 64


class Fail(Exception):
    pass


def b64(s):
    try:
        return base64.b64decode(s, validate=True)
    except (binascii.Error, ValueError):
        return b""


def ed25519_verify(pub, msg, sig):
    if Ed25519PublicKey is not None:
        try:
            Ed25519PublicKey.from_public_bytes(pub).verify(sig, msg)
            return True
        except (InvalidSignature, ValueError):
            return False
    return pure_ed25519.verify(pub, msg, sig)


# ---- RFC 8785 (JCS) canonical JSON -----------------------------------------
def es_number(x):
    """ECMAScript Number::toString for a finite double (RFC 8785 section 3.2.2.3)."""
    if not math.isfinite(x):
        raise Fail("non-finite number")
    if x == 0:
        return "0"
    sign, x = ("-", -x) if x < 0 else ("", x)
    mant, _, exp = repr(x).partition("e")  # repr = shortest round-trip digits
    intpart, _, frac = mant.partition(".")
    digits, n = intpart + frac, len(intpart) + int(exp or 0)  # n = decimal point position
    n -= len(digits) - len(digits.lstrip("0"))
    digits = digits.strip("0")
    k = len(digits)
    if k <= n <= 21:
        s = digits + "0" * (n - k)
    elif 0 < n <= 21:
        s = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        s = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        s = digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + s


ESC = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def jcs_string(s):
    out = []
    for ch in s:
        c = ord(ch)
        if ch in ESC:
            out.append(ESC[ch])
        elif c < 0x20:
            out.append("\\u%04x" % c)
        elif 0xD800 <= c <= 0xDFFF:
            raise Fail("lone surrogate in string (not allowed by RFC 8785)")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def jcs(v):
    if v is None or isinstance(v, bool):
        return {None: "null", True: "true", False: "false"}[v]
    if isinstance(v, int):
        return str(v) if abs(v) <= 2**53 else es_number(float(v))
    if isinstance(v, float):
        return es_number(v)
    if isinstance(v, str):
        return jcs_string(v)
    if isinstance(v, list):
        return "[" + ",".join(jcs(x) for x in v) + "]"
    if isinstance(v, dict):
        keys = sorted(v, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(jcs_string(k) + ":" + jcs(v[k]) for k in keys) + "}"
    raise Fail("unexpected JSON value type %r" % type(v))


def no_dup_keys(pairs):  # json.loads hook: reject duplicate member names
    if len({k for k, _ in pairs}) != len(pairs):
        raise Fail("duplicate JSON member name in %r" % [k for k, _ in pairs])
    return dict(pairs)


def bad_constant(c):
    raise Fail("non-JSON number constant " + c)


# ---- RFC 9162 Merkle tree, incremental -------------------------------------
class Merkle:
    def __init__(self):
        self.stack = []  # (size, root) of perfect subtrees, sizes strictly decreasing

    def add(self, leaf):
        self.stack.append((1, leaf))
        while len(self.stack) > 1 and self.stack[-1][0] == self.stack[-2][0]:
            (n, right), (_, left) = self.stack.pop(), self.stack.pop()
            self.stack.append((2 * n, hashlib.sha256(b"\x01" + left + right).digest()))

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        r = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            r = hashlib.sha256(b"\x01" + left + r).digest()
        return r


# ---- key and checkpoints ---------------------------------------------------
def parse_key(line):
    name, keyid_hex, raw = (line.split("+", 2) + ["", ""])[:3]
    raw = b64(raw)
    if not name or len(keyid_hex) != 8 or len(raw) != 33 or raw[0] != 1:
        raise Fail("malformed public key line %r" % line)
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if want.hex() != keyid_hex:
        raise Fail("key id %s in key file != computed %s" % (keyid_hex, want.hex()))
    return name, want, raw[1:]


def load_ring(path):
    """Keys (name, id, raw) by their text, and {retired key text: (origin, max tree size)}."""
    keys, limits = {}, {}
    lines = [l.strip() for l in open(path, "rb").read().decode("utf-8").split("\n")]
    for line in lines:
        if line and not line.startswith("#") and not line.startswith("{"):
            keys[line] = parse_key(line)
    for line in lines:
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        if r["retired"] not in keys or r["successor"] not in keys:
            raise Fail("key ring: a retirement names a key not in the ring")
        text = "sealog key retirement\n%s\nretired %s\nsigns trees up to size %d\nsuccessor %s\n" % (
            r["origin"], r["retired"], r["tree_size"], r["successor"])
        if r["note"].partition("\n\n")[0] + "\n" != text:
            raise Fail("key ring: a retirement's note does not say what its fields say")
        note_signer("key ring retirement", r["note"].encode("utf-8"), [keys[r["successor"]]])
        limits[r["retired"]] = (r["origin"], r["tree_size"])
    if not keys:
        raise Fail("no key in %s" % path)
    return keys, limits


def load_key(path):
    """The first key of a key file or ring (for tools that check notes by one key)."""
    keys, _ = load_ring(path)
    return next(iter(keys.values()))


def signed_note_text(path, data, key):
    """The text of a signed note carrying a valid signature by the pinned key (or one of a list)."""
    return note_signer(path, data, key if isinstance(key, list) else [key])[0]


def note_signer(path, data, ring):
    """The text of a signed note carrying a valid signature by a pinned key, and that key."""
    text, sep, sigs = data.partition(b"\n\n")
    if not sep or not sigs.endswith(b"\n"):
        raise Fail("%s: not a signed note" % path)
    for sl in sigs.decode("utf-8").split("\n")[:-1]:
        m = re.fullmatch(r"\u2014 (\S+) (\S+)", sl)
        if not m:
            raise Fail("%s: malformed signature line %r" % (path, sl))
        blob = b64(m.group(2))
        for key in ring:
            name, keyid, pub = key
            if m.group(1) == name and blob[:4] == keyid:
                if len(blob) != 68 or not ed25519_verify(pub, text + b"\n", blob[4:]):
                    raise Fail("%s: invalid signature by pinned key %s" % (path, name))
                return text, key
    raise Fail("%s: no signature by a pinned key" % path)


def parse_checkpoint(path, key, origin):
    text, signer = note_signer(path, open(path, "rb").read(), key)
    lines = text.decode("utf-8").split("\n")
    if len(lines) != 3:
        raise Fail("%s: expected 3 note lines, got %d" % (path, len(lines)))
    if origin is not None and lines[0] != origin:
        raise Fail("%s: origin %r != %r" % (path, lines[0], origin))
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Fail("%s: bad tree size %r" % (path, lines[1]))
    root = b64(lines[2])
    if len(root) != 32:
        raise Fail("%s: bad root hash %r" % (path, lines[2]))
    return int(lines[1]), root, lines[0], signer


# ---- records and main verification ----------------------------------------
def check_record(line, n, prev):
    """Check one decompressed record line (seq n); return its leaf hash."""
    if not line.endswith(b"\n"):
        raise Fail("last line not newline-terminated")
    L = line[:-1]
    m = SUFFIX_RE.search(L)
    if not m:
        raise Fail("line does not end with the hash suffix: %r" % L[-80:])
    body = L[:-75] + b"}"
    try:
        obj = json.loads(body.decode("utf-8"), object_pairs_hook=no_dup_keys, parse_constant=bad_constant)
    except ValueError as e:  # includes UnicodeDecodeError
        raise Fail("body is not valid UTF-8 JSON: %s" % e)
    if not isinstance(obj, dict):
        raise Fail("body is not a JSON object")
    canon = jcs(obj).encode("utf-8")
    if canon != body:
        i = next(i for i in range(len(body) + 1) if body[i:i + 1] != canon[i:i + 1])
        raise Fail("body not JCS-canonical at byte %d: got %r, canonical %r"
                   % (i, body[max(0, i - 30):i + 30], canon[max(0, i - 30):i + 30]))
    leaf = hashlib.sha256(b"\x00" + body).digest()
    if leaf.hex() != m.group(1).decode():
        raise Fail("hash mismatch (stored %s, computed %s)" % (m.group(1).decode(), leaf.hex()))
    if set(obj) != RECORD_FIELDS:
        raise Fail("fields %r != expected %r" % (sorted(obj), sorted(RECORD_FIELDS)))
    if type(obj["seq"]) is not int or obj["seq"] != n:
        raise Fail("seq is %r, expected %d" % (obj["seq"], n))
    if obj["prev"] != prev:
        raise Fail("prev %r != previous record's hash %s" % (obj["prev"], prev))
    return leaf, obj


def verify(data_dir, key_path, origin, st):
    keys, limits = load_ring(key_path)
    key, ckpts, signed = list(keys.values()), {}, []  # signed: (tree size, signer, file)
    cdir = os.path.join(data_dir, "checkpoints")
    for fn in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
        m = CKPT_RE.match(fn)
        if not m:
            raise Fail("unexpected file in checkpoints/: %r" % fn)
        size, root, origin, signer = parse_checkpoint(os.path.join(cdir, fn), key, origin)
        signed.append((size, signer, fn))
        if size != int(m.group(1)):
            raise Fail("%s: tree size %d != file name" % (fn, size))
        ckpts[size] = root
    sdir, rdir = os.path.join(data_dir, "segments"), os.path.join(data_dir, "removed")
    segs = sorted(int(m.group(1)) for m in map(SEG_RE.match, os.listdir(sdir)) if m)
    tombs = sorted(int(m.group(1)) for m in map(TOMB_RE.match, os.listdir(rdir) if os.path.isdir(rdir) else []) if m)
    nums = sorted(set(segs) | set(tombs))
    if nums != list(range(1, len(nums) + 1)):
        raise Fail("segment numbers (present or removed) not contiguous from 1: %r" % nums)
    st["segments"], tree, prev, n = len(segs), Merkle(), ZERO_HASH, 0
    removed, named = {}, {}  # removed segment -> sha256 of its kept manifest; removal records: segment -> manifest sha256
    transitions = {}  # retired key text -> seq of its first transition record

    def check_checkpoint_at(size):
        if size in ckpts:
            if tree.root() != ckpts.pop(size):
                raise Fail("checkpoint %d: root does not match the first %d records" % (size, size))
            st["checkpoints_checked"] += 1

    check_checkpoint_at(0)
    for num in nums:
        if num not in segs:
            path = os.path.join(rdir, "%010d.manifest" % num)
            data = open(path, "rb").read()
            text, signer = note_signer(path, data, key)
            m = json.loads(text.decode("utf-8"))
            signed.append((m["tree_size"], signer, path))
            if m["segment"] != num or m["first_seq"] != n or m["prev"] != prev:
                raise Fail("%s: removed segment's manifest does not continue at seq %d" % (path, n))
            sizes = [1 << b for b in reversed(range(m["tree_size"].bit_length())) if m["tree_size"] >> b & 1]
            if len(sizes) != len(m["peaks"]):
                raise Fail("%s: %d peaks for tree size %d" % (path, len(m["peaks"]), m["tree_size"]))
            tree.stack = [(sz, bytes.fromhex(p)) for sz, p in zip(sizes, m["peaks"])]
            if tree.root() != b64(m["root"]):
                raise Fail("%s: peaks do not hash to the signed root" % path)
            for size in [c for c in ckpts if n < c < m["tree_size"]]:  # inside the removed range: unverifiable
                del ckpts[size]
            n, prev, removed[num] = m["tree_size"], m["last_hash"], hashlib.sha256(data).hexdigest()
            check_checkpoint_at(n)
            continue
        path = os.path.join(sdir, "%010d.seg.lz4" % num)
        with subprocess.Popen(["/usr/bin/lz4", "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            for line in proc.stdout:  # streamed: memory stays small
                try:
                    leaf, obj = check_record(line, n, prev)
                except Fail as e:
                    proc.kill()
                    raise Fail("segment %d, record seq=%d: %s" % (num, n, e))
                if obj["type"] == "sealog.retention.removed" and obj["stream"] == "audit" and obj["source"].get("kind") == "sealog":
                    named.setdefault(obj["event"].get("segment"), obj["event"].get("manifest_sha256"))
                if obj["type"] == "sealog.key.transition" and obj["stream"] == "audit" and obj["source"].get("kind") == "sealog":
                    old = obj["event"].get("old_key")
                    bound = min(transitions.get(old, n), n)
                    transitions[old] = bound
                prev, n = leaf.hex(), n + 1
                tree.add(leaf)
                st["records"] = n
                check_checkpoint_at(n)
            err = proc.stderr.read().decode(errors="replace").strip()
        if proc.returncode != 0:
            raise Fail("lz4 -dc %s failed (rc %d): %s" % (path, proc.returncode, err))
    if ckpts:
        raise Fail("checkpoint(s) with tree size > %d records: %r" % (n, sorted(ckpts)))
    for num, sha in removed.items():
        if named.get(num) != sha:
            raise Fail("segment %d is missing and no removal record names its signed manifest" % num)
    st["removed"] = len(removed)
    # A retired key signs no tree past its transition record, nor past the size the ring binds it to.
    bounds = {k: seq for k, seq in transitions.items()}
    for k, (o, size) in limits.items():
        if origin is None or o == origin:
            bounds[k] = min(bounds.get(k, size), size)
    for k, bound in bounds.items():
        if k not in keys:
            continue
        for size, signer, f in signed:
            if signer == keys[k] and size > bound:
                raise Fail("%s (tree size %d) is signed by a key retired at tree size %d" % (f, size, bound))


def self_test():
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sk = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")  # RFC 8032 test 1, empty message
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    nums = (0.85, 1e21, 1e20, 1e-6, 1e-7, -1.5, 123.0, 5e-324, 1.7976931348623157e308, 2**53 + 1)
    leaves = [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(9)]

    def mth(ls):  # recursive RFC 9162 definition, to cross-check the incremental one
        if len(ls) == 1:
            return ls[0]
        k = 1 << ((len(ls) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(ls[:k]) + mth(ls[k:])).digest()
    tree, roots = Merkle(), []
    for leaf in leaves:
        tree.add(leaf)
        roots.append(tree.root())
    checks = {
        "ed25519_pure_pubkey": pure_ed25519.public_key_from_secret(sk) == pk,
        "ed25519_pure_vector1": pure_ed25519.verify(pk, b"", sig) and not pure_ed25519.verify(pk, b"", bad),
        "ed25519_active_vector1": ed25519_verify(pk, b"", sig) and not ed25519_verify(pk, b"x", sig),
        "jcs_numbers": [jcs(x) for x in nums] == ["0.85", "1e+21", "100000000000000000000", "0.000001", "1e-7",
                                                  "-1.5", "123", "5e-324", "1.7976931348623157e+308", "9007199254740992"],
        "jcs_object": jcs({"\u20ac": 1, "\r": 2, "\U0001F600": 3, "b": ["\u00e9\x1f\"\\\n"]})
        == '{"\\r":2,"b":["\u00e9\\u001f\\"\\\\\\n"],"\u20ac":1,"\U0001F600":3}',
        "merkle_incremental": roots == [mth(leaves[:i + 1]) for i in range(len(leaves))],
    }
    ok = all(checks.values())
    checks["ed25519_backend"] = "cryptography" if Ed25519PublicKey else "pure-python"
    print(json.dumps({"ok": ok, "self_test": checks}))
    return 0 if ok else 1


def main():
    st = {"ok": False, "records": 0, "checkpoints_checked": 0, "segments": 0}

    def usage_error(msg):
        print(json.dumps(dict(st, error="usage: " + msg)))
        sys.exit(2)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.error = usage_error
    for opt in ("--data", "--key", "--origin"):
        ap.add_argument(opt)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.data or not args.key or not os.path.isdir(args.data) or not os.path.isfile(args.key):
        usage_error("--data DIR (an existing directory) and --key PUBKEYFILE (an existing file) are required")
    try:
        verify(args.data, args.key, args.origin, st)
        st["ok"] = True
    except (Fail, OSError, UnicodeDecodeError) as e:
        st["error"] = str(e)
    print(json.dumps(st))
    return 0 if st["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
