#pragma once

#include <napi.h>

namespace lowbit_addon {
void register_cpu(Napi::Env env, Napi::Object exports);
void register_gemm(Napi::Env env, Napi::Object exports);
void register_quantize(Napi::Env env, Napi::Object exports);
void register_binary(Napi::Env env, Napi::Object exports);
void register_conv_f32(Napi::Env env, Napi::Object exports);
void register_program(Napi::Env env, Napi::Object exports);
void register_conv_s8(Napi::Env env, Napi::Object exports);
void register_elementwise(Napi::Env env, Napi::Object exports);
void register_pool(Napi::Env env, Napi::Object exports);
void register_layout(Napi::Env env, Napi::Object exports);
void register_int4(Napi::Env env, Napi::Object exports);
void register_qelementwise(Napi::Env env, Napi::Object exports);
void register_stats(Napi::Env env, Napi::Object exports);
}  // namespace lowbit_addon
