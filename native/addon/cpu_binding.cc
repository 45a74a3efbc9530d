// cpu.*: features, the chosen kernel path, forcing a path, thread count.
#include <atomic>

#include "args.h"
#include "bindings.h"
#include "lowbit/thread_pool.h"
#include "state.h"

namespace lowbit_addon {
namespace {
std::atomic<int> g_active_isa{-1};
}  // namespace

lowbit::Isa best_isa() {
  // AMX is opt-in (LOWBIT_ISA=amx or cpu.setIsa('amx')): its kernels are tested
  // bit for bit against ref on a software tile model, but have not yet run on AMX
  // hardware, so the default stays on the vector paths until they have.
  static const lowbit::Isa order[] = {lowbit::Isa::kAvx512Vnni, lowbit::Isa::kAvxVnni,
                                      lowbit::Isa::kAvx2, lowbit::Isa::kNeonDot, lowbit::Isa::kNeon};
  for (auto isa : order) {
    if (lowbit::gemm_path(isa) != nullptr && lowbit::cpu_supports(isa)) return isa;
  }
  return lowbit::Isa::kRef;
}

lowbit::Isa active_isa() {
  int v = g_active_isa.load();
  if (v < 0) {
    v = static_cast<int>(best_isa());
    g_active_isa.store(v);
  }
  return static_cast<lowbit::Isa>(v);
}

const lowbit::GemmPath& active_gemm_path() { return *lowbit::gemm_path(active_isa()); }

std::string select_isa(lowbit::Isa isa) {
  if (!lowbit::cpu_supports(isa)) {
    return std::string("this CPU cannot run the ") + lowbit::isa_name(isa) + " path";
  }
  if (lowbit::gemm_path(isa) == nullptr) {
    return std::string("this build of lowbit has no ") + lowbit::isa_name(isa) + " kernels";
  }
  g_active_isa.store(static_cast<int>(isa));
  return "";
}

namespace {

Napi::Value CpuFeatures(const Napi::CallbackInfo& info) {
  Args args(info, "cpuFeatures", 0);
  const auto& f = lowbit::cpu_features();
  Napi::Object o = Napi::Object::New(info.Env());
  const std::pair<const char*, bool> fields[] = {
      {"avx2", f.avx2}, {"fma", f.fma}, {"f16c", f.f16c}, {"avxvnni", f.avxvnni},
      {"avx512f", f.avx512f}, {"avx512bw", f.avx512bw}, {"avx512vl", f.avx512vl},
      {"avx512vnni", f.avx512vnni}, {"avx512vpopcntdq", f.avx512vpopcntdq}, {"avx512vbmi", f.avx512vbmi}, {"amxint8", f.amxint8},
      {"neon", f.neon}, {"dotprod", f.dotprod}, {"i8mm", f.i8mm}};
  for (const auto& [name, value] : fields) o.Set(name, Napi::Boolean::New(info.Env(), value));
  return o;
}

Napi::Value Isas(const Napi::CallbackInfo& info) {
  Args args(info, "isas", 0);
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t i = 0;
  for (int v = 0; v < static_cast<int>(lowbit::Isa::kCount); ++v) {
    const auto isa = static_cast<lowbit::Isa>(v);
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("name", lowbit::isa_name(isa));
    o.Set("compiled", lowbit::gemm_path(isa) != nullptr);
    o.Set("supported", lowbit::cpu_supports(isa));
    out.Set(i++, o);
  }
  return out;
}

Napi::Value GetIsa(const Napi::CallbackInfo& info) {
  Args args(info, "getIsa", 0);
  return Napi::String::New(info.Env(), lowbit::isa_name(active_isa()));
}

Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Args args(info, "setIsa", 1);
  const std::string name = args.string(0, "isa");
  lowbit::Isa isa;
  if (!lowbit::parse_isa(name, &isa)) {
    args.fail(kIsa, "unknown kernel path '" + name +
                        "' (expected one of ref, avx2, avxvnni, avx512vnni, amx, neon, neondot)");
  }
  const std::string why = select_isa(isa);
  if (!why.empty()) args.fail(kIsa, why);
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args args(info, "setThreads", 1);
  const size_t n = args.size(0, "threads");
  if (n > 1024) args.fail(kRange, "threads must be at most 1024, got " + std::to_string(n));
  lowbit::set_threads(n);
  return info.Env().Undefined();
}

Napi::Value GetThreads(const Napi::CallbackInfo& info) {
  Args args(info, "getThreads", 0);
  return Napi::Number::New(info.Env(), static_cast<double>(lowbit::default_thread_pool().size()));
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Args args(info, "setErrorClass", 1);
  if (!args[0].IsFunction()) args.fail(kArg, "expected a constructor");
  set_error_class(info.Env(), args[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

void register_cpu(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeatures, "cpuFeatures"));
  exports.Set("isas", Napi::Function::New(env, Isas, "isas"));
  exports.Set("getIsa", Napi::Function::New(env, GetIsa, "getIsa"));
  exports.Set("setIsa", Napi::Function::New(env, SetIsa, "setIsa"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads, "getThreads"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
}

}  // namespace lowbit_addon
