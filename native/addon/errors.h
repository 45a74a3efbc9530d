// Errors thrown to JavaScript. Every throw carries a stable code; once lib/ has
// registered its LowbitError class, the addon throws instances of it directly.
#pragma once

#include <napi.h>

#include <string>

namespace lowbit_addon {

// Stable codes (documented in docs/errors.md and lib/errors.ts).
inline constexpr const char* kArg = "E_ARG";          // wrong kind or number of arguments
inline constexpr const char* kDtype = "E_DTYPE";      // wrong element type
inline constexpr const char* kShape = "E_SHAPE";      // lengths/shapes disagree, or sizes overflow
inline constexpr const char* kRange = "E_RANGE";      // a value outside what is allowed
inline constexpr const char* kBuffer = "E_BUFFER";    // detached or too short buffer
inline constexpr const char* kIsa = "E_ISA";          // kernel path unavailable
inline constexpr const char* kInternal = "E_INTERNAL";

// Builds the error (a LowbitError when registered) without throwing it.
Napi::Error make_error(Napi::Env env, const char* code, const std::string& message);

// Throws it as a C++ exception; node-addon-api turns that into a JS throw.
[[noreturn]] void fail(Napi::Env env, const char* code, const std::string& message);

void set_error_class(Napi::Env env, Napi::Function ctor);

}  // namespace lowbit_addon
