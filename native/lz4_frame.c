// LZ4 frames with liblz4, for the compress stage (built only where liblz4 is found: see binding.gyp).
//   lz4Compressor()           -> an opaque compressor: one LZ4F context and one output buffer, both kept
//   lz4Frame(compressor, src) -> Promise<Buffer>: src as one standard LZ4 frame (independent blocks of up to 4 MiB,
//                                content checksum on), compressed on libuv's pool; one call at a time per compressor.
// Why not lz4-napi: its Rust allocator (mimalloc) keeps ~50 MiB of freed output buffers per pool thread under
// load. Here the frame is written into the compressor's own buffer and copied out at its exact size.
#include <lz4frame.h>
#include <node_api.h>
#include <stdlib.h>

#include "lz4_frame.h"

typedef struct {
  LZ4F_cctx *cctx;
  char *out;
  size_t cap;
  int busy;
} compressor;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref src_ref;
  napi_ref comp_ref;
  compressor *c;
  const char *src;
  size_t len;
  size_t written;
  LZ4F_errorCode_t err;
} job;

static const LZ4F_preferences_t PREFS = {
  .frameInfo = {.blockSizeID = LZ4F_max4MB, .blockMode = LZ4F_blockIndependent, .contentChecksumFlag = LZ4F_contentChecksumEnabled},
  .autoFlush = 1,
};

static void compressor_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  compressor *c = data;
  LZ4F_freeCompressionContext(c->cctx);
  free(c->out);
  free(c);
}

static napi_value lz4_compressor(napi_env env, napi_callback_info info) {
  (void)info;
  compressor *c = calloc(1, sizeof *c);
  napi_value ext;
  if (!c || LZ4F_isError(LZ4F_createCompressionContext(&c->cctx, LZ4F_VERSION))) {
    free(c);
    napi_throw_error(env, NULL, "lz4Compressor: out of memory");
    return NULL;
  }
  if (napi_create_external(env, c, compressor_free, NULL, &ext) != napi_ok) {
    compressor_free(env, c, NULL);
    napi_throw_error(env, NULL, "lz4Compressor: cannot create the compressor");
    return NULL;
  }
  return ext;
}

// On the pool: no JS, no allocation. Begin, one update (whole blocks go straight from src), end.
static void execute(napi_env env, void *data) {
  (void)env;
  job *j = data;
  compressor *c = j->c;
  size_t r = LZ4F_compressBegin(c->cctx, c->out, c->cap, &PREFS);
  size_t at = r;
  if (!LZ4F_isError(r)) at += r = LZ4F_compressUpdate(c->cctx, c->out + at, c->cap - at, j->src, j->len, NULL);
  if (!LZ4F_isError(r)) at += r = LZ4F_compressEnd(c->cctx, c->out + at, c->cap - at, NULL);
  if (LZ4F_isError(r)) j->err = r;
  else j->written = at;
}

static void complete(napi_env env, napi_status status, void *data) {
  job *j = data;
  j->c->busy = 0;
  napi_value result;
  void *copy;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "lz4Frame: cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (j->err) {
    napi_value msg;
    napi_create_string_utf8(env, LZ4F_getErrorName(j->err), NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else if (napi_create_buffer_copy(env, j->written, j->c->out, &copy, &result) != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "lz4Frame: cannot allocate the frame", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else {
    napi_resolve_deferred(env, j->deferred, result);
  }
  napi_delete_reference(env, j->src_ref);
  napi_delete_reference(env, j->comp_ref);
  napi_delete_async_work(env, j->work);
  free(j);
}

static napi_value lz4_frame(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  compressor *c;
  void *src;
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_get_value_external(env, argv[0], (void **)&c) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], NULL, &len, &src, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "lz4Frame(compressor, src): a compressor from lz4Compressor() and a Buffer or Uint8Array");
    return NULL;
  }
  if (c->busy) {
    napi_throw_error(env, NULL, "lz4Frame: this compressor is still compressing the previous frame");
    return NULL;
  }
  // The buffer grows to the largest frame asked for and stays: batches are capped (batch.max_bytes).
  size_t bound = LZ4F_HEADER_SIZE_MAX + LZ4F_compressBound(len, &PREFS);
  if (bound > c->cap) {
    char *out = malloc(bound);
    if (!out) {
      napi_throw_error(env, NULL, "lz4Frame: out of memory");
      return NULL;
    }
    free(c->out);
    c->out = out;
    c->cap = bound;
  }
  job *j = calloc(1, sizeof *j);
  napi_value promise, name;
  if (!j) {
    napi_throw_error(env, NULL, "lz4Frame: out of memory");
    return NULL;
  }
  j->c = c;
  j->src = src;
  j->len = len;
  // src and the compressor stay alive (and src's bytes in place) until complete() runs.
  napi_status s = napi_create_reference(env, argv[1], 1, &j->src_ref);
  if (s == napi_ok) s = napi_create_reference(env, argv[0], 1, &j->comp_ref);
  if (s == napi_ok) s = napi_create_string_utf8(env, "sealog.lz4Frame", NAPI_AUTO_LENGTH, &name);
  if (s == napi_ok) s = napi_create_async_work(env, NULL, name, execute, complete, j, &j->work);
  if (s == napi_ok) s = napi_create_promise(env, &j->deferred, &promise);
  if (s == napi_ok) s = napi_queue_async_work(env, j->work);
  if (s != napi_ok) {
    if (j->src_ref) napi_delete_reference(env, j->src_ref);
    if (j->comp_ref) napi_delete_reference(env, j->comp_ref);
    if (j->work) napi_delete_async_work(env, j->work);
    free(j);
    napi_throw_error(env, NULL, "lz4Frame: cannot queue the work");
    return NULL;
  }
  c->busy = 1;
  return promise;
}

void lz4_frame_define(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"lz4Compressor", NULL, lz4_compressor, NULL, NULL, NULL, napi_enumerable, NULL},
    {"lz4Frame", NULL, lz4_frame, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
