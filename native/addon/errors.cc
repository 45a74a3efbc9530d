#include "errors.h"

namespace lowbit_addon {
namespace {
// Kept per environment (instance data), so each worker thread that loads lowbit
// has its own reference; lib/native registers the class once per load.
struct ErrorClass {
  Napi::FunctionReference ctor;
};
}  // namespace

void set_error_class(Napi::Env env, Napi::Function ctor) {
  auto* data = env.GetInstanceData<ErrorClass>();
  if (data == nullptr) {
    data = new ErrorClass();
    env.SetInstanceData(data);
  }
  data->ctor = Napi::Persistent(ctor);
}

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  auto* data = env.GetInstanceData<ErrorClass>();
  if (data != nullptr && !data->ctor.IsEmpty()) {
    Napi::Value err = data->ctor.New({Napi::String::New(env, code), Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

void fail(Napi::Env env, const char* code, const std::string& message) {
  throw make_error(env, code, message);
}

}  // namespace lowbit_addon
