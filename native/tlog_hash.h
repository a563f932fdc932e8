// RFC 9162 (C2SP tlog) hashing for the seal stage and the Merkle tree (native/tlog_hash.c).
#pragma once
#include <node_api.h>

void tlog_hash_define(napi_env env, napi_value exports);
