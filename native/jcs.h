// RFC 8785 canonical JSON straight from JSON text (native/jcs.c).
#pragma once
#include <node_api.h>

void jcs_define(napi_env env, napi_value exports);
