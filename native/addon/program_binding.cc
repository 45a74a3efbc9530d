// Program: the planned graph (lowbit/program.h) and the OpCall helper that lets
// every op binding either run now or record itself into a program.
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "bindings.h"
#include "op_call.h"
#include "lowbit/thread_pool.h"

namespace lowbit_addon {

// ---- OpCall ---------------------------------------------------------------

size_t OpCall::declared(const Napi::CallbackInfo& info, size_t count) {
  return info.Length() == count + 1 && ProgramHandle::Is(info[count]) ? count + 1 : count;
}

OpCall::OpCall(const Napi::CallbackInfo& info, const char* fn, size_t count)
    : info_(info), args_(info, fn, declared(info, count)) {
  if (info.Length() == count + 1) program_ = ProgramHandle::Unwrap(info[count].As<Napi::Object>());
}

static bool dtype_type(const std::string& dtype, napi_typedarray_type* type) {
  if (dtype == "float32") *type = napi_float32_array;
  else if (dtype == "int8") *type = napi_int8_array;
  else if (dtype == "uint8" || dtype == "bit") *type = napi_uint8_array;
  else if (dtype == "int32") *type = napi_int32_array;
  else return false;
  return true;
}

// A slot's dtype as a typed-array type (recording only).
static napi_typedarray_type slot_type(const Args& args, size_t i, const char* what) {
  if (!args[i].IsObject()) args.fail(kArg, std::string(what) + " must be a slot {dtype, ref} when recording");
  Napi::Value d = args[i].As<Napi::Object>().Get("dtype");
  napi_typedarray_type type;
  if (!d.IsString() || !dtype_type(d.As<Napi::String>().Utf8Value(), &type)) {
    args.fail(kDtype, std::string(what) + " has no known dtype");
  }
  return type;
}

lowbit::BufferRef OpCall::slot(size_t i, const char* what, size_t bytes) const {
  Napi::Value r = args_[i].As<Napi::Object>().Get("ref");
  if (!r.IsNumber()) args_.fail(kArg, std::string(what) + ".ref must be a number");
  const double ref = r.As<Napi::Number>().DoubleValue();
  if (ref != static_cast<double>(static_cast<int64_t>(ref))) args_.fail(kRange, std::string(what) + ".ref must be an integer");
  lowbit::Program& program = program_->program();
  if (ref < 0) {
    size_t have = 0;
    uint8_t* p = program.constant(static_cast<size_t>(-ref - 1), &have);
    if (p == nullptr) args_.fail(kRange, std::string(what) + " names constant " + std::to_string(static_cast<int64_t>(-ref - 1)) + ", which does not exist");
    if (have < bytes) {
      args_.fail(kShape, std::string(what) + " needs " + std::to_string(bytes) + " bytes, its constant has " + std::to_string(have));
    }
    return lowbit::BufferRef::at(p);
  }
  const size_t offset = static_cast<size_t>(ref);
  if (offset > program.arena_bytes() || bytes > program.arena_bytes() - offset) {
    args_.fail(kShape, std::string(what) + " at arena offset " + std::to_string(offset) + " with " + std::to_string(bytes) +
                           " bytes passes the arena's end (" + std::to_string(program.arena_bytes()) + " bytes)");
  }
  return lowbit::BufferRef::in_arena(offset);
}

lowbit::BufferRef OpCall::tensor_of(size_t i, const char* what, napi_typedarray_type type, size_t count,
                                    size_t element_bytes) const {
  if (!recording()) return lowbit::BufferRef::at(args_.typed<uint8_t>(i, what, type, count));
  const napi_typedarray_type got = slot_type(args_, i, what);
  if (got != type) {
    args_.fail(kDtype, std::string(what) + " must be a " + typed_array_name(type) + " slot, got " + typed_array_name(got));
  }
  return slot(i, what, checked_mul(args_, count, element_bytes, what));
}

lowbit::BufferRef OpCall::bytes(size_t i, const char* what, size_t count, bool* is_signed) const {
  const napi_typedarray_type type = type_of(i, what);
  if (type != napi_int8_array && type != napi_uint8_array) {
    args_.fail(kDtype, std::string(what) + " must be int8 or uint8, got " + typed_array_name(type));
  }
  *is_signed = type == napi_int8_array;
  return tensor_of(i, what, type, count, 1);
}

napi_typedarray_type OpCall::type_of(size_t i, const char* what) const {
  if (recording()) return slot_type(args_, i, what);
  if (!args_[i].IsTypedArray()) args_.fail(kArg, std::string(what) + " must be a typed array");
  return args_[i].As<Napi::TypedArray>().TypedArrayType();
}

void OpCall::keep(const Napi::Object& object) const {
  if (recording()) program_->keep(object);
}

Napi::Value OpCall::finish(std::string label, lowbit::Step step, double cost) const {
  if (recording()) {
    program_->program().add_step(std::move(label), std::move(step), cost);
  } else {
    step(nullptr);
  }
  return info_.Env().Undefined();
}

// ---- Program ----------------------------------------------------------------

Napi::FunctionReference* ProgramHandle::ctor_ = nullptr;

Napi::Function ProgramHandle::Define(Napi::Env env) {
  Napi::Function fn = DefineClass(env, "Program", {
      InstanceMethod("addConstant", &ProgramHandle::AddConstant),
      InstanceMethod("setArenaBytes", &ProgramHandle::SetArenaBytes),
      InstanceMethod("runSync", &ProgramHandle::RunSync),
      InstanceMethod("run", &ProgramHandle::Run),
      InstanceMethod("labels", &ProgramHandle::Labels),
      StaticMethod("runParts", &ProgramHandle::RunParts),
      InstanceMethod("setProfiling", &ProgramHandle::SetProfiling),
      InstanceMethod("profile", &ProgramHandle::Profile),
      InstanceAccessor("stepCount", &ProgramHandle::GetStepCount, nullptr),
      InstanceAccessor("arenaBytes", &ProgramHandle::GetArenaBytes, nullptr),
      InstanceAccessor("cost", &ProgramHandle::GetCost, nullptr),
  });
  ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
  return fn;
}

ProgramHandle::ProgramHandle(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<ProgramHandle>(info), program_(std::make_shared<lowbit::Program>()) {
  Args args(info, "Program", 0);
}

bool ProgramHandle::Is(const Napi::Value& v) {
  return ctor_ != nullptr && v.IsObject() && v.As<Napi::Object>().InstanceOf(ctor_->Value());
}

void ProgramHandle::keep(const Napi::Object& object) { kept_.push_back(Napi::Persistent(object)); }

// addConstant(typedArray) -> id: copies the bytes into program-owned storage.
Napi::Value ProgramHandle::AddConstant(const Napi::CallbackInfo& info) {
  Args args(info, "Program.addConstant", 1);
  if (!args[0].IsTypedArray()) args.fail(kArg, "the constant must be a typed array");
  Napi::TypedArray arr = args[0].As<Napi::TypedArray>();
  const size_t bytes = arr.ByteLength();
  const auto* src = static_cast<const uint8_t*>(arr.ArrayBuffer().Data());
  if (src == nullptr && bytes > 0) args.fail(kBuffer, "the constant has no backing store (detached?)");
  size_t id = 0;
  uint8_t* dst = program_->add_constant(bytes, &id);
  if (bytes > 0) std::memcpy(dst, src + arr.ByteOffset(), bytes);
  return Napi::Number::New(info.Env(), static_cast<double>(id));
}

Napi::Value ProgramHandle::SetArenaBytes(const Napi::CallbackInfo& info) {
  Args args(info, "Program.setArenaBytes", 1);
  if (program_->step_count() > 0) args.fail(kArg, "the arena size is fixed once steps are recorded");
  program_->set_arena_bytes(args.size(0, "bytes"));
  return info.Env().Undefined();
}

namespace {

struct Binding {
  uint8_t* data;
  size_t bytes;
  size_t offset;
};

// Reads [typedArrays], [offsets] and checks each range against the arena.
std::vector<Binding> bindings(const Args& args, Napi::Value array_list, Napi::Value offset_list, const std::string& what,
                              size_t arena_bytes) {
  if (!array_list.IsArray() || !offset_list.IsArray()) {
    args.fail(kArg, what + " and their offsets must be arrays");
  }
  Napi::Array arrays = array_list.As<Napi::Array>(), offsets = offset_list.As<Napi::Array>();
  if (arrays.Length() != offsets.Length()) {
    args.fail(kShape, what + ": " + std::to_string(arrays.Length()) + " arrays but " +
                          std::to_string(offsets.Length()) + " offsets");
  }
  std::vector<Binding> out(arrays.Length());
  for (uint32_t k = 0; k < arrays.Length(); ++k) {
    Napi::Value a = arrays.Get(k), o = offsets.Get(k);
    const std::string name = what + "[" + std::to_string(k) + "]";
    if (!a.IsTypedArray()) args.fail(kArg, name + " must be a typed array");
    if (!o.IsNumber()) args.fail(kArg, name + ": its offset must be a number");
    Napi::TypedArray arr = a.As<Napi::TypedArray>();
    const double off = o.As<Napi::Number>().DoubleValue();
    const size_t bytes = arr.ByteLength();
    if (!(off >= 0) || off != static_cast<double>(static_cast<size_t>(off)) || static_cast<size_t>(off) > arena_bytes ||
        bytes > arena_bytes - static_cast<size_t>(off)) {
      std::ostringstream at;
      at << off;  // as given: 60, not 60.000000
      args.fail(kShape, name + " (" + std::to_string(bytes) + " bytes at offset " + at.str() +
                            ") does not fit the arena of " + std::to_string(arena_bytes) + " bytes");
    }
    auto* base = static_cast<uint8_t*>(arr.ArrayBuffer().Data());
    if (base == nullptr && bytes > 0) args.fail(kBuffer, name + " has no backing store (detached?)");
    out[k] = Binding{base + arr.ByteOffset(), bytes, static_cast<size_t>(off)};
  }
  return out;
}

void copy_in(const std::vector<Binding>& inputs, uint8_t* arena) {
  for (const Binding& b : inputs) std::memcpy(arena + b.offset, b.data, b.bytes);
}
void copy_out(const std::vector<Binding>& outputs, const uint8_t* arena) {
  for (const Binding& b : outputs) std::memcpy(b.data, arena + b.offset, b.bytes);
}

// Runs a program on a libuv worker thread: inputs are copied into the arena
// before it leaves (the caller may reuse its arrays at once), outputs are copied
// out on the main thread when it is done.
class RunWorker : public Napi::AsyncWorker {
 public:
  RunWorker(Napi::Env env, std::shared_ptr<lowbit::Program> program, std::unique_ptr<lowbit::AlignedBuffer> arena,
            std::vector<Binding> outputs, Napi::Array output_arrays, bool single_thread)
      : Napi::AsyncWorker(env, "lowbit.run"),
        single_thread_(single_thread),
        deferred_(Napi::Promise::Deferred::New(env)),
        program_(std::move(program)),
        arena_(std::move(arena)),
        outputs_(std::move(outputs)),
        keep_outputs_(Napi::Persistent(output_arrays.As<Napi::Object>())) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    if (single_thread_) {
      lowbit::InlineScope inline_kernels;
      program_->run(static_cast<uint8_t*>(arena_->data()));
    } else {
      program_->run(static_cast<uint8_t*>(arena_->data()));
    }
  }
  void OnOK() override {
    copy_out(outputs_, static_cast<const uint8_t*>(arena_->data()));
    program_->release_arena(std::move(arena_));
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(make_error(Env(), kInternal, "run failed: " + e.Message()).Value());
  }

 private:
  bool single_thread_;
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<lowbit::Program> program_;
  std::unique_ptr<lowbit::AlignedBuffer> arena_;
  std::vector<Binding> outputs_;
  Napi::ObjectReference keep_outputs_;
};

// One part of a batch split: its program, a private arena, and where its inputs
// and outputs live.
struct Part {
  std::shared_ptr<lowbit::Program> program;
  std::unique_ptr<lowbit::AlignedBuffer> arena;
  std::vector<Binding> in, out;
};

// Reads runParts' list of [program, inputs, inputOffsets, outputs, outputOffsets].
std::vector<Part> read_parts(const Args& args) {
  if (!args[0].IsArray()) args.fail(kArg, "parts must be an array of [program, inputs, inputOffsets, outputs, outputOffsets]");
  Napi::Array list = args[0].As<Napi::Array>();
  std::vector<Part> parts(list.Length());
  for (uint32_t k = 0; k < list.Length(); ++k) {
    const std::string name = "parts[" + std::to_string(k) + "]";
    Napi::Value v = list.Get(k);
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 5) {
      args.fail(kArg, name + " must be [program, inputs, inputOffsets, outputs, outputOffsets]");
    }
    Napi::Array part = v.As<Napi::Array>();
    if (!ProgramHandle::Is(part.Get(0u))) args.fail(kArg, name + "[0] must be a Program");
    parts[k].program = ProgramHandle::Unwrap(part.Get(0u).As<Napi::Object>())->shared();
    const size_t arena_bytes = parts[k].program->arena_bytes();
    parts[k].in = bindings(args, part.Get(1u), part.Get(2u), name + " inputs", arena_bytes);
    parts[k].out = bindings(args, part.Get(3u), part.Get(4u), name + " outputs", arena_bytes);
  }
  return parts;
}

// Runs every part at once, one thread each (the caller is one of them), each
// part's kernels kept on its own thread. copy_inputs: each thread copies its
// part's inputs in first (else they are in the arenas already).
void run_parts(std::vector<Part>& parts, bool copy_inputs) {
  // Each thread gets a whole run: the workers sleep when it is done (the next
  // batch is far off, and a spinning worker holds a core the event loop needs).
  const auto after = lowbit::ThreadPool::After::kSleep;
  lowbit::default_thread_pool().parallel_for(parts.size(), [&](size_t k) {
    lowbit::InlineScope inline_kernels;
    Part& p = parts[k];
    if (copy_inputs) copy_in(p.in, static_cast<uint8_t*>(p.arena->data()));
    p.program->run(static_cast<uint8_t*>(p.arena->data()));
    copy_out(p.out, static_cast<const uint8_t*>(p.arena->data()));
  }, true, after);
}

void release(std::vector<Part>& parts) {
  for (Part& p : parts) p.program->release_arena(std::move(p.arena));
}

// runParts on a libuv worker: one hand-off for the whole batch, the parts spread
// over the thread pool from there. Outputs are written before the promise
// settles; the output arrays are kept alive until then.
class PartsWorker : public Napi::AsyncWorker {
 public:
  PartsWorker(Napi::Env env, std::vector<Part> parts, Napi::Array list)
      : Napi::AsyncWorker(env, "lowbit.runParts"),
        deferred_(Napi::Promise::Deferred::New(env)),
        parts_(std::move(parts)),
        keep_parts_(Napi::Persistent(list.As<Napi::Object>())) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override { run_parts(parts_, false); }
  void OnOK() override {
    release(parts_);
    deferred_.Resolve(Env().Undefined());
  }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(make_error(Env(), kInternal, "run failed: " + e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Part> parts_;
  Napi::ObjectReference keep_parts_;
};

// Below this many operations a run is cheaper than a thread hop: run it inline.
constexpr double kInlineCost = 2.0e5;

}  // namespace

// runSync(inputs, inputOffsets, outputs, outputOffsets)
Napi::Value ProgramHandle::RunSync(const Napi::CallbackInfo& info) {
  Args args(info, "Program.runSync", 4);
  const lowbit::Program& p = *program_;
  std::vector<Binding> in = bindings(args, args[0], args[1], "inputs", p.arena_bytes());
  std::vector<Binding> out = bindings(args, args[2], args[3], "outputs", p.arena_bytes());
  std::unique_ptr<lowbit::AlignedBuffer> arena = p.acquire_arena();
  auto* base = static_cast<uint8_t*>(arena->data());
  copy_in(in, base);
  p.run(base);
  copy_out(out, base);
  p.release_arena(std::move(arena));
  return info.Env().Undefined();
}

// run(inputs, inputOffsets, outputs, outputOffsets[, singleThread]) -> Promise<void>
// singleThread: the kernels of this run stay on its worker thread (concurrent
// runs over parts of a batch, one core each).
Napi::Value ProgramHandle::Run(const Napi::CallbackInfo& info) {
  Args args(info, "Program.run", info.Length() == 5 ? 5 : 4);
  const bool single_thread = info.Length() == 5 && args.boolean(4, "singleThread");
  Napi::Env env = info.Env();
  std::vector<Binding> in = bindings(args, args[0], args[1], "inputs", program_->arena_bytes());
  std::vector<Binding> out = bindings(args, args[2], args[3], "outputs", program_->arena_bytes());
  std::unique_ptr<lowbit::AlignedBuffer> arena = program_->acquire_arena();
  auto* base = static_cast<uint8_t*>(arena->data());
  copy_in(in, base);
  if (program_->cost() < kInlineCost) {
    program_->run(base);
    copy_out(out, base);
    program_->release_arena(std::move(arena));
    Napi::Promise::Deferred done = Napi::Promise::Deferred::New(env);
    done.Resolve(env.Undefined());
    return done.Promise();
  }
  auto* worker = new RunWorker(env, program_, std::move(arena), std::move(out), args[2].As<Napi::Array>(), single_thread);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// Program.runParts(parts, async): the parts of one batch, run together, one
// thread each. Inputs are copied in before it returns (the caller may reuse
// its arrays at once). async: returns a Promise and runs off the event loop.
Napi::Value ProgramHandle::RunParts(const Napi::CallbackInfo& info) {
  Args args(info, "Program.runParts", 2);
  const bool async = args.boolean(1, "async");
  std::vector<Part> parts = read_parts(args);
  for (Part& p : parts) p.arena = p.program->acquire_arena();
  if (!async) {
    // The caller waits: the parts' threads copy their own inputs, side by side.
    run_parts(parts, true);
    release(parts);
    return info.Env().Undefined();
  }
  for (Part& p : parts) copy_in(p.in, static_cast<uint8_t*>(p.arena->data()));
  auto* worker = new PartsWorker(info.Env(), std::move(parts), args[0].As<Napi::Array>());
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

Napi::Value ProgramHandle::Labels(const Napi::CallbackInfo& info) {
  Napi::Array out = Napi::Array::New(info.Env(), program_->step_count());
  for (size_t i = 0; i < program_->step_count(); ++i) out.Set(static_cast<uint32_t>(i), program_->step_label(i));
  return out;
}

// setProfiling(on): time every step of later runs (a run pays two clock reads per step).
Napi::Value ProgramHandle::SetProfiling(const Napi::CallbackInfo& info) {
  Args args(info, "Program.setProfiling", 1);
  program_->set_profiling(args.boolean(0, "on"));
  return info.Env().Undefined();
}

// profile() -> seconds per step, summed over the runs since profiling was turned on.
Napi::Value ProgramHandle::Profile(const Napi::CallbackInfo& info) {
  const std::vector<double> s = program_->step_seconds();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), s.size());
  for (size_t i = 0; i < s.size(); ++i) out[i] = s[i];
  return out;
}

Napi::Value ProgramHandle::GetStepCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(program_->step_count()));
}
Napi::Value ProgramHandle::GetArenaBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(program_->arena_bytes()));
}
Napi::Value ProgramHandle::GetCost(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), program_->cost());
}

void register_program(Napi::Env env, Napi::Object exports) {
  exports.Set("Program", ProgramHandle::Define(env));
}

}  // namespace lowbit_addon
