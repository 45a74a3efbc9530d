// How an op binding reads its tensors and either runs now or records a step.
//
// Every op binding takes its own arguments and, optionally, one more: a Program.
//  - Immediate call (no Program): tensor arguments are typed arrays; the kernel
//    runs before the binding returns.
//  - Recording (a Program last): tensor arguments are slots, objects
//    {dtype, ref} where ref >= 0 is a byte offset into the run's arena and
//    ref < 0 names constant -(ref + 1) of the program. The binding checks every
//    size against the arena or the constant, then records the kernel call as a
//    step the program runs later, possibly on a worker thread.
// Either way the kernel sees BufferRefs and the same checked sizes.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "args.h"
#include "lowbit/program.h"

namespace lowbit_addon {

class ProgramHandle;

class OpCall {
 public:
  // `count`: the op's own arguments; a Program may follow as one more.
  OpCall(const Napi::CallbackInfo& info, const char* fn, size_t count);

  const Args& args() const { return args_; }
  bool recording() const { return program_ != nullptr; }

  // A tensor of exactly `count` elements of `type`.
  template <typename T>
  lowbit::BufferRef tensor(size_t i, const char* what, napi_typedarray_type type, size_t count) const {
    return tensor_of(i, what, type, count, sizeof(T));
  }
  // An int8 or uint8 tensor of `count` elements; sets *is_signed.
  lowbit::BufferRef bytes(size_t i, const char* what, size_t count, bool* is_signed) const;
  // Either of two element types (e.g. float32 or int32); returns the one found.
  napi_typedarray_type type_of(size_t i, const char* what) const;

  // Keeps a JS object (packed weights, ...) alive as long as the program.
  void keep(const Napi::Object& object) const;

  // Runs the step now, or appends it to the program. `cost` is a rough count of
  // operations (MACs, elements): the program uses it to decide whether a run is
  // worth a worker thread.
  Napi::Value finish(std::string label, lowbit::Step step, double cost) const;

 private:
  lowbit::BufferRef tensor_of(size_t i, const char* what, napi_typedarray_type type, size_t count,
                              size_t element_bytes) const;
  lowbit::BufferRef slot(size_t i, const char* what, size_t bytes) const;
  static size_t declared(const Napi::CallbackInfo& info, size_t count);

  const Napi::CallbackInfo& info_;
  ProgramHandle* program_ = nullptr;
  Args args_;
};

// The JS-visible Program (native/include/lowbit/program.h).
class ProgramHandle : public Napi::ObjectWrap<ProgramHandle> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit ProgramHandle(const Napi::CallbackInfo& info);
  static bool Is(const Napi::Value& v);

  lowbit::Program& program() { return *program_; }
  const std::shared_ptr<lowbit::Program>& shared() const { return program_; }
  void keep(const Napi::Object& object);

 private:
  Napi::Value AddConstant(const Napi::CallbackInfo& info);
  Napi::Value SetArenaBytes(const Napi::CallbackInfo& info);
  Napi::Value RunSync(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);
  static Napi::Value RunParts(const Napi::CallbackInfo& info);
  Napi::Value Labels(const Napi::CallbackInfo& info);
  Napi::Value SetProfiling(const Napi::CallbackInfo& info);
  Napi::Value Profile(const Napi::CallbackInfo& info);
  Napi::Value GetStepCount(const Napi::CallbackInfo& info);
  Napi::Value GetArenaBytes(const Napi::CallbackInfo& info);
  Napi::Value GetCost(const Napi::CallbackInfo& info);

  std::shared_ptr<lowbit::Program> program_;
  std::vector<Napi::ObjectReference> kept_;
  bool sealed_ = false;  // arena size fixed: no more resizing
  static Napi::FunctionReference* ctor_;
  friend class OpCall;
};

}  // namespace lowbit_addon
