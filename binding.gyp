{
  "targets": [
    {
      "target_name": "senet_native",
      "sources": [
        "native/addon.cc",
        "native/handle.cc",
        "native/convert.cc",
        "native/dispatch.cc",
        "native/tensor_data.cc",
        "native/autograd.cc",
        "native/runtime.cc",
        "native/allocator.cc",
        "native/profiler.cc",
        "native/jpeg.cc",
        "native/resample.cc",
        "native/distributed.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node native/find-libtorch.cjs include)",
        "native/stubs"
      ],
      "defines": [
        "NAPI_EXPERIMENTAL",
        "NAPI_CPP_EXCEPTIONS",
        "<!@(node native/find-libtorch.cjs defines)"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++1y"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter"],
      "libraries": ["-L<!(node native/find-libtorch.cjs libdir)", "<!@(node native/find-libtorch.cjs libs)", "-ljpeg"],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "GCC_ENABLE_CPP_RTTI": "YES" }
    }
  ]
}
