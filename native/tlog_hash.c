// RFC 9162 (C2SP tlog) hashes in as few N-API calls as the seal stage and the Merkle tree need:
//   leafHashHex(buf, from, to, hexAt, out, outAt) -> out[outAt..+32) = SHA-256(0x00 ‖ buf[from..to)),
//                              and its lowercase hex written into buf[hexAt..+64): a record's hash and
//                              the text of its hash member in one call, without a view or a JS hex loop.
//   merkleAppend(peaks, size, leaves, count) -> folds count packed 32-byte leaf hashes into a compact
//                              range (the perfect-subtree peaks, oldest first, of a tree of `size`
//                              leaves) in place: interior nodes SHA-256(0x01 ‖ left ‖ right), one call
//                              for a run of leaves instead of one per node.
// Each call costs ~100 ns over the hashing itself; per record these were two or three calls.
#include <node_api.h>
// The low-level SHA-256 calls are deprecated in OpenSSL 3 in favour of EVP, whose per-call fetch is the cost avoided here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stdint.h>
#include <string.h>

#include "tlog_hash.h"

static const uint8_t LEAF_PREFIX = 0x00;
static const char HEX[] = "0123456789abcdef";

static napi_value type_error(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

// A byte array argument (Buffer or Uint8Array): its data and length; 0 when it is none.
static int bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  napi_typedarray_type type;
  void *d;
  if (napi_get_typedarray_info(env, v, &type, len, &d, NULL, NULL) != napi_ok || type != napi_uint8_array) return 0;
  *data = d;
  return 1;
}

// A non-negative safe integer argument at most max; 0 when it is not one.
static int index_arg(napi_env env, napi_value v, size_t max, size_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0 && d <= (double)max) || d != (double)(int64_t)d) return 0;
  *out = (size_t)d;
  return 1;
}

static napi_value leaf_hash_hex(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  uint8_t *buf, *out;
  size_t len, outLen, from, to, hexAt, outAt;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 6 || !bytes(env, argv[0], &buf, &len) ||
      !bytes(env, argv[4], &out, &outLen))
    return type_error(env, "leafHashHex(buf, from, to, hexAt, out, outAt): buf and out must be Uint8Arrays");
  if (!index_arg(env, argv[1], len, &from) || !index_arg(env, argv[2], len, &to) || to < from || len < 64 ||
      !index_arg(env, argv[3], len - 64, &hexAt) || outLen < 32 || !index_arg(env, argv[5], outLen - 32, &outAt))
    return type_error(env, "leafHashHex: a range lies outside its array");
  uint8_t h[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &LEAF_PREFIX, 1);
  SHA256_Update(&ctx, buf + from, to - from);
  SHA256_Final(h, &ctx);
  memcpy(out + outAt, h, sizeof h);
  for (size_t i = 0; i < sizeof h; i++) {
    buf[hexAt + 2 * i] = (uint8_t)HEX[h[i] >> 4];
    buf[hexAt + 2 * i + 1] = (uint8_t)HEX[h[i] & 15];
  }
  return NULL;
}

static napi_value merkle_append(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  uint8_t *peaks, *leaves;
  size_t peaksLen, leavesLen, size, count;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || !bytes(env, argv[0], &peaks, &peaksLen) ||
      !bytes(env, argv[2], &leaves, &leavesLen))
    return type_error(env, "merkleAppend(peaks, size, leaves, count): peaks and leaves must be Uint8Arrays");
  if (!index_arg(env, argv[1], ((size_t)1 << 53) - 1, &size) || !index_arg(env, argv[3], leavesLen / 32, &count) ||
      size + count > ((size_t)1 << 53) - 1)
    return type_error(env, "merkleAppend: size or count out of range");
  // The tree's peaks as it grows: one per 1-bit of its size, so never more than the bits of its final size.
  size_t n = (size_t)__builtin_popcountll(size);
  size_t end = size + count;
  if (peaksLen < 32 * (end == 0 ? 0 : 64 - (size_t)__builtin_clzll(end))) return type_error(env, "merkleAppend: peaks has no room for the tree's peaks");
  uint8_t node[1 + 2 * SHA256_DIGEST_LENGTH];
  node[0] = 0x01;
  for (size_t i = 0; i < count; i++, size++) {
    // The new leaf, merged with a peak for each trailing 1-bit of size (RFC 9162's MTH, built incrementally).
    memcpy(node + 1 + SHA256_DIGEST_LENGTH, leaves + 32 * i, SHA256_DIGEST_LENGTH);
    for (size_t s = size; s & 1; s >>= 1) {
      memcpy(node + 1, peaks + 32 * --n, SHA256_DIGEST_LENGTH);
      uint8_t parent[SHA256_DIGEST_LENGTH];
      SHA256(node, sizeof node, parent);
      memcpy(node + 1 + SHA256_DIGEST_LENGTH, parent, sizeof parent);
    }
    memcpy(peaks + 32 * n++, node + 1 + SHA256_DIGEST_LENGTH, SHA256_DIGEST_LENGTH);
  }
  return NULL;
}

void tlog_hash_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"leafHashHex", NULL, leaf_hash_hex, NULL, NULL, NULL, napi_enumerable, NULL},
    {"merkleAppend", NULL, merkle_append, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
