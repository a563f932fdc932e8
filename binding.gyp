{
  "targets": [
    {
      "target_name": "sealog_native",
      "sources": ["native/sealog_native.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
