#!/usr/bin/env python3
"""Independent verifier for the sealog on-disk format (segments + checkpoints).

Usage: verify_sealog.py --data DIR --key PUBKEYFILE [--origin ORIGIN]
       verify_sealog.py --self-test
Prints one JSON object; exit 0 = ok, 1 = a check failed, 2 = usage error.
Standard library only (+ /usr/bin/lz4); Ed25519 from `cryptography` if present,
otherwise the pure-Python ed25519.py next to this file.
"""
import argparse, base64, binascii, hashlib, json, math, os, re, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ed25519 as pure_ed25519  # noqa: E402

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.exceptions import InvalidSignature
except ImportError:
    Ed25519PublicKey = None

RECORD_FIELDS = {"seq", "prev", "ts", "stream", "level", "type", "source", "event", "redactions"}
SUFFIX_RE = re.compile(rb',"hash":"([0-9a-f]{64})"\}\Z')
SEG_RE = re.compile(r"^(\d{10})\.seg\.lz4$")
CKPT_RE = re.compile(r"^(\d{20})\.ckpt$")
ZERO_HASH = "0" * 64


class Fail(Exception):
    pass


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
        elif c < 0x20 or 0xD800 <= c <= 0xDFFF:  # controls, lone surrogates
            out.append("\\u%04x" % c)
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


def no_dup_keys(pairs):
    d = {}
    for k, val in pairs:
        if k in d:
            raise Fail("duplicate JSON key %r" % k)
        d[k] = val
    return d


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
def load_key(path):
    line = open(path, "rb").read().decode("utf-8").rstrip("\n")
    try:
        name, rest = line.split("+", 1)
        keyid_hex, b64 = rest.split("+", 1)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise Fail("malformed public key line %r" % line)
    if not name or len(keyid_hex) != 8 or len(raw) != 33 or raw[0] != 1:
        raise Fail("malformed public key line %r" % line)
    want = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4]
    if want.hex() != keyid_hex:
        raise Fail("key id %s in key file != computed %s" % (keyid_hex, want.hex()))
    return name, want, raw[1:]


def parse_checkpoint(path, key, origin):
    name, keyid, pub = key
    data = open(path, "rb").read()
    text, sep, sigs = data.partition(b"\n\n")
    if not sep or not sigs.endswith(b"\n"):
        raise Fail("%s: not a signed note" % path)
    lines = text.decode("utf-8").split("\n")
    if len(lines) != 3:
        raise Fail("%s: expected 3 note lines, got %d" % (path, len(lines)))
    if origin is not None and lines[0] != origin:
        raise Fail("%s: origin %r != %r" % (path, lines[0], origin))
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Fail("%s: bad tree size %r" % (path, lines[1]))
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        root = b""
    if len(root) != 32:
        raise Fail("%s: bad root hash %r" % (path, lines[2]))
    good = 0
    for sl in sigs.decode("utf-8").split("\n")[:-1]:
        m = re.fullmatch(r"\u2014 (\S+) (\S+)", sl)
        if not m:
            raise Fail("%s: malformed signature line %r" % (path, sl))
        try:
            blob = base64.b64decode(m.group(2), validate=True)
        except binascii.Error:
            raise Fail("%s: bad base64 in signature line" % path)
        if m.group(1) != name or blob[:4] != keyid:
            continue
        if len(blob) != 68 or not ed25519_verify(pub, text + b"\n", blob[4:]):
            raise Fail("%s: invalid signature by pinned key %s" % (path, name))
        good += 1
    if not good:
        raise Fail("%s: no signature by pinned key %s" % (path, name))
    return int(lines[1]), root


# ---- main verification -----------------------------------------------------
def verify(data_dir, key_path, origin, st):
    key = load_key(key_path)
    ckpts = {}
    cdir = os.path.join(data_dir, "checkpoints")
    for fn in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
        m = CKPT_RE.match(fn)
        if not m:
            raise Fail("unexpected file in checkpoints/: %r" % fn)
        size, root = parse_checkpoint(os.path.join(cdir, fn), key, origin)
        if size != int(m.group(1)):
            raise Fail("%s: tree size %d != file name" % (fn, size))
        ckpts[size] = root
    sdir = os.path.join(data_dir, "segments")
    segs = sorted(int(m.group(1)) for m in map(SEG_RE.match, os.listdir(sdir)) if m)
    if segs != list(range(1, len(segs) + 1)):
        raise Fail("segment numbers not contiguous from 1: %r" % segs)
    st["segments"] = len(segs)
    tree, prev, n = Merkle(), ZERO_HASH, 0

    def check_ckpt():
        if n in ckpts:
            if tree.root() != ckpts[n]:
                raise Fail("checkpoint %d: root mismatch" % n)
            st["checkpoints_checked"] += 1

    check_ckpt()
    for num in segs:
        path = os.path.join(sdir, "%010d.seg.lz4" % num)
        proc = subprocess.Popen(["/usr/bin/lz4", "-dc", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            for line in proc.stdout:
                where = "segment %d record seq=%d" % (num, n)
                if not line.endswith(b"\n"):
                    raise Fail(where + ": last line not newline-terminated")
                L = line[:-1]
                m = SUFFIX_RE.search(L)
                if not m:
                    raise Fail(where + ": line does not end with hash suffix: %r" % L[-80:])
                body = L[:-75] + b"}"
                try:
                    obj = json.loads(body.decode("utf-8"), object_pairs_hook=no_dup_keys, parse_constant=bad_constant)
                except (UnicodeDecodeError, ValueError) as e:
                    raise Fail(where + ": body not valid JSON: %s" % e)
                if not isinstance(obj, dict):
                    raise Fail(where + ": body is not an object")
                canon = jcs(obj).encode("utf-8")
                if canon != body:
                    raise Fail(where + ": body not JCS-canonical: got %r want %r" % (body[:300], canon[:300]))
                leaf = hashlib.sha256(b"\x00" + body).digest()
                if leaf.hex() != m.group(1).decode():
                    raise Fail(where + ": hash mismatch (stored %s, computed %s)" % (m.group(1).decode(), leaf.hex()))
                if set(obj) != RECORD_FIELDS:
                    raise Fail(where + ": fields %r != expected %r" % (sorted(obj), sorted(RECORD_FIELDS)))
                if type(obj["seq"]) is not int or obj["seq"] != n:
                    raise Fail(where + ": seq is %r, expected %d" % (obj["seq"], n))
                if obj["prev"] != prev:
                    raise Fail(where + ": prev %r != previous hash %s" % (obj["prev"], prev))
                prev, n = leaf.hex(), n + 1
                tree.add(leaf)
                st["records"] = n
                check_ckpt()
        finally:
            proc.stdout.close()
            err = proc.stderr.read()
            rc = proc.wait()
        if rc != 0:
            raise Fail("lz4 -dc failed on %s (rc %d): %s" % (path, rc, err.decode(errors="replace").strip()))
    beyond = sorted(s for s in ckpts if s > n)
    if beyond:
        raise Fail("checkpoint(s) with tree size > %d records: %r" % (n, beyond))


def self_test():
    sk = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pk = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
                        "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    bad = sig[:-1] + bytes([sig[-1] ^ 1])
    checks = {
        "ed25519_pure_pubkey": pure_ed25519.public_key_from_secret(sk) == pk,
        "ed25519_pure_vector1": pure_ed25519.verify(pk, b"", sig) and not pure_ed25519.verify(pk, b"", bad),
        "ed25519_active_vector1": ed25519_verify(pk, b"", sig) and not ed25519_verify(pk, b"x", sig),
        "jcs_numbers": [es_number(x) for x in (0.85, 1e21, 1e20, 1e-6, 1e-7, -1.5, 123.0, 5e-324, 1.7976931348623157e308)]
        == ["0.85", "1e+21", "100000000000000000000", "0.000001", "1e-7", "-1.5", "123", "5e-324", "1.7976931348623157e+308"],
        "jcs_object": jcs({"\u20ac": 1, "\r": 2, "\U0001F600": 3, "b": ["\u00e9\x1f\"\\\n"]})
        == '{"\\r":2,"b":["\u00e9\\u001f\\"\\\\\\n"],"\u20ac":1,"\U0001F600":3}',
    }
    t, leaves = Merkle(), [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(7)]

    def mth(ls):
        if len(ls) == 1:
            return ls[0]
        k = 1 << ((len(ls) - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + mth(ls[:k]) + mth(ls[k:])).digest()
    ok = True
    for i, leaf in enumerate(leaves):
        t.add(leaf)
        ok = ok and t.root() == mth(leaves[: i + 1])
    checks["merkle_incremental"] = ok
    checks["ed25519_backend"] = "cryptography" if Ed25519PublicKey else "pure-python"
    good = all(v for k, v in checks.items() if k != "ed25519_backend")
    print(json.dumps({"ok": good, "self_test": checks}))
    return 0 if good else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data")
    ap.add_argument("--key")
    ap.add_argument("--origin")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    st = {"ok": False, "records": 0, "checkpoints_checked": 0, "segments": 0}
    if not args.data or not args.key or not os.path.isdir(args.data) or not os.path.isfile(args.key):
        st["error"] = "usage: --data DIR (existing directory) and --key PUBKEYFILE (existing file) are required"
        print(json.dumps(st))
        return 2
    try:
        verify(args.data, args.key, args.origin, st)
        st["ok"] = True
    except (Fail, OSError, UnicodeDecodeError) as e:
        st["error"] = str(e)
    print(json.dumps(st))
    return 0 if st["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
