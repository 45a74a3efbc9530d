// The lowbit addon: node-addon-api glue only. It checks every argument, wraps
// buffers and calls the plain C++ kernels in native/kernels through dispatch.
#include <napi.h>

#include "bindings.h"

namespace lowbit_addon {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  register_cpu(env, exports);
  register_program(env, exports);
  register_gemm(env, exports);
  register_quantize(env, exports);
  register_binary(env, exports);
  register_conv_s8(env, exports);
  register_conv_f32(env, exports);
  register_elementwise(env, exports);
  register_pool(env, exports);
  register_layout(env, exports);
  register_int4(env, exports);
  register_qelementwise(env, exports);
  register_stats(env, exports);
  return exports;
}

}  // namespace lowbit_addon

static Napi::Object InitLowbit(Napi::Env env, Napi::Object exports) {
  return lowbit_addon::Init(env, exports);
}

NODE_API_MODULE(lowbit, InitLowbit)
