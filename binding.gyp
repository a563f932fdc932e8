{
  "variables": {
    # 1 where liblz4's frame API compiles and links (scripts/probe-lz4.mjs): the addon then compresses too.
    "sealog_lz4%": "<!(node scripts/probe-lz4.mjs)"
  },
  "targets": [
    {
      "target_name": "sealog_native",
      "sources": ["native/sealog_native.c", "native/tlog_hash.c", "native/jcs.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [
        ["sealog_lz4==1", { "sources": ["native/lz4_frame.c"], "defines": ["SEALOG_LZ4"], "libraries": ["-llz4"] }]
      ]
    }
  ]
}
