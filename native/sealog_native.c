// sealog's native helpers: what Node has no API for.
//   peerCred(fd)            -> { pid, uid, gid } of the peer of a connected Unix socket (SO_PEERCRED)
//   notify(path, message)   -> sends one datagram on an AF_UNIX SOCK_DGRAM socket (sd_notify);
//                              a path starting with '@' is in the abstract namespace.
//   sha256Into(out, a[, b[, c]]) -> writes SHA-256 of a, b, c end to end into out's first 32 bytes. OpenSSL's
//                              own SHA-256 (the copy inside Node), called directly: node:crypto spends
//                              ~4 µs a call fetching the digest by name, ten times the hashing itself
//                              for a 600-byte record.
//   leafHashHex, merkleAppend  -> RFC 9162 hashes for the seal stage and the Merkle tree (native/tlog_hash.c).
//   lz4Compressor(), lz4Frame(compressor, src) -> LZ4 frames with liblz4, where it was found at build
//                              time (native/lz4_frame.c; binding.gyp).
//   jcsFromJson(src, start, end, dst, pos) -> RFC 8785 form of a JSON text (native/jcs.c).
// Plain N-API (ABI-stable); liblz4 the only other dependency, and optional. Errors are thrown as JS errors with errno's text.
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
// The low-level SHA-256 calls are deprecated in OpenSSL 3 in favour of EVP, whose per-call fetch is the cost avoided here.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "jcs.h"
#ifdef SEALOG_LZ4
#include "lz4_frame.h"
#endif
#include "tlog_hash.h"

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static int set_int(napi_env env, napi_value obj, const char *name, int64_t v) {
  napi_value n;
  if (napi_create_int64(env, v, &n) != napi_ok) return 0;
  return napi_set_named_property(env, obj, name, n) == napi_ok;
}

static napi_value peer_cred(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "peerCred(fd): fd must be a number");
    return NULL;
  }
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return throw_errno(env, "getsockopt(SO_PEERCRED)", errno);
  napi_value obj;
  if (napi_create_object(env, &obj) != napi_ok || !set_int(env, obj, "pid", cred.pid) || !set_int(env, obj, "uid", cred.uid) || !set_int(env, obj, "gid", cred.gid)) {
    napi_throw_error(env, NULL, "peerCred: cannot build result");
    return NULL;
  }
  return obj;
}

// Copies a JS string argument into buf (NUL-terminated); returns its length or -1 after throwing.
static ssize_t string_arg(napi_env env, napi_value v, char *buf, size_t cap, const char *what) {
  size_t len;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, what);
    return -1;
  }
  if (len + 1 > cap) {
    napi_throw_range_error(env, NULL, what);
    return -1;
  }
  napi_get_value_string_utf8(env, v, buf, cap, &len);
  return (ssize_t)len;
}

static napi_value notify(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    napi_throw_type_error(env, NULL, "notify(path, message): two strings expected");
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  ssize_t plen = string_arg(env, argv[0], addr.sun_path, sizeof addr.sun_path, "notify: path must be a string shorter than sun_path");
  if (plen < 0) return NULL;
  if (plen == 0) {
    napi_throw_range_error(env, NULL, "notify: empty socket path");
    return NULL;
  }
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace: no trailing NUL counts
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen + (addr.sun_path[0] ? 1 : 0));

  static char msg[4096];
  ssize_t mlen = string_arg(env, argv[1], msg, sizeof msg, "notify: message must be a string under 4096 bytes");
  if (mlen < 0) return NULL;

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket(AF_UNIX, SOCK_DGRAM)", errno);
  ssize_t n;
  do n = sendto(fd, msg, (size_t)mlen, MSG_NOSIGNAL, (struct sockaddr *)&addr, alen);
  while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n < 0) return throw_errno(env, "sendto(NOTIFY_SOCKET)", err);
  return NULL;
}

static napi_value sha256_into(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void *out;
  size_t outLen;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_typedarray_info(env, argv[0], NULL, &outLen, &out, NULL, NULL) != napi_ok || outLen < SHA256_DIGEST_LENGTH) {
    napi_throw_type_error(env, NULL, "sha256Into(out, a[, b[, c]]): out must be a Uint8Array of at least 32 bytes");
    return NULL;
  }
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  for (size_t i = 1; i < argc; i++) {
    void *data;
    size_t len;
    if (napi_get_typedarray_info(env, argv[i], NULL, &len, &data, NULL, NULL) != napi_ok) {
      napi_throw_type_error(env, NULL, "sha256Into: every input must be a Buffer or Uint8Array");
      return NULL;
    }
    SHA256_Update(&ctx, data, len);
  }
  SHA256_Final(out, &ctx);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"peerCred", NULL, peer_cred, NULL, NULL, NULL, napi_enumerable, NULL},
    {"notify", NULL, notify, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sha256Into", NULL, sha256_into, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  tlog_hash_define(env, exports);
  jcs_define(env, exports);
#ifdef SEALOG_LZ4
  lz4_frame_define(env, exports);
#endif
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
