// LZ4 frames with liblz4 (native/lz4_frame.c): compiled in only where binding.gyp found liblz4.
#pragma once
#include <node_api.h>

void lz4_frame_define(napi_env env, napi_value exports);
