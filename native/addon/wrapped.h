// JS-visible handles to prepared native objects: packed weights and prepared
// output stages. Prepared once, used by many calls.
#pragma once

#include <napi.h>

#include "args.h"
#include "lowbit/gemm.h"
#include "lowbit/requantize.h"

namespace lowbit_addon {

class PackedMatrixHandle : public Napi::ObjectWrap<PackedMatrixHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new PackedMatrix(b: Int8Array|Uint8Array, k, n, zeroPoint: Int32Array)
  explicit PackedMatrixHandle(const Napi::CallbackInfo& info);
  const lowbit::PackedMatrix& packed() const { return packed_; }
  // The handle from a JS value, or an E_ARG error naming `what`.
  static const PackedMatrixHandle& From(const Args& args, size_t i, const char* what);

 private:
  Napi::Value GetK(const Napi::CallbackInfo& info);
  Napi::Value GetN(const Napi::CallbackInfo& info);
  Napi::Value GetIsa(const Napi::CallbackInfo& info);
  Napi::Value GetByteLength(const Napi::CallbackInfo& info);
  lowbit::PackedMatrix packed_;
  static Napi::FunctionReference* ctor_;
};

class RequantizationHandle : public Napi::ObjectWrap<RequantizationHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  // new Requantization(mode, scale|null, multiplier|null, shift|null, bias|null,
  //                    zeroPoint, qmin, qmax, outSigned)
  explicit RequantizationHandle(const Napi::CallbackInfo& info);
  const lowbit::Requantization& rq() const { return rq_; }
  static const RequantizationHandle& From(const Args& args, size_t i, const char* what);

 private:
  Napi::Value GetChannels(const Napi::CallbackInfo& info);
  lowbit::Requantization rq_;
  static Napi::FunctionReference* ctor_;
};

}  // namespace lowbit_addon
