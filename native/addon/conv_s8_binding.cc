// PackedConvS8 / convS8: the int8 convolution (lowbit/conv_s8.h) through the
// active kernel path, NHWC activations, weights packed once from ONNX layout.
#include <memory>
#include <string>

#include "args.h"
#include "bindings.h"
#include "lowbit/conv_s8.h"
#include "lowbit/thread_pool.h"
#include "op_call.h"
#include "state.h"
#include "wrapped.h"

namespace lowbit_addon {
namespace {

// Kernel extents, pads, strides and dilations up to this: far beyond any real
// model, and small enough that no index product can overflow.
constexpr size_t kMaxGeometry = size_t{1} << 20;

class PackedConvS8Handle : public Napi::ObjectWrap<PackedConvS8Handle> {
 public:
  static Napi::Function Define(Napi::Env env) {
    Napi::Function fn = DefineClass(env, "PackedConvS8", {
        InstanceAccessor("m", &PackedConvS8Handle::GetM, nullptr),
        InstanceAccessor("cg", &PackedConvS8Handle::GetCg, nullptr),
        InstanceAccessor("kh", &PackedConvS8Handle::GetKh, nullptr),
        InstanceAccessor("kw", &PackedConvS8Handle::GetKw, nullptr),
        InstanceAccessor("groups", &PackedConvS8Handle::GetGroups, nullptr),
        InstanceAccessor("depthwise", &PackedConvS8Handle::GetDepthwise, nullptr),
        InstanceAccessor("isa", &PackedConvS8Handle::GetIsa, nullptr),
        InstanceAccessor("byteLength", &PackedConvS8Handle::GetByteLength, nullptr),
    });
    ctor_ = new Napi::FunctionReference(Napi::Persistent(fn));
    return fn;
  }

  // new PackedConvS8(w: Int8Array|Uint8Array [m, cg, kh, kw], m, cg, kh, kw, groups,
  //                  wZeroPoint: Int32Array of 0, 1 or m values)
  explicit PackedConvS8Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PackedConvS8Handle>(info) {
    Args args(info, "PackedConvS8", 7);
    const size_t m = args.size(1, "m"), cg = args.size(2, "cg"), kh = args.size(3, "kh"),
                 kw = args.size(4, "kw"), groups = args.size(5, "groups");
    if (m == 0 || cg == 0 || kh == 0 || kw == 0 || groups == 0) {
      args.fail(kShape, "m, cg, kh, kw and groups must be positive, got m=" + std::to_string(m) + " cg=" +
                            std::to_string(cg) + " kh=" + std::to_string(kh) + " kw=" + std::to_string(kw) +
                            " groups=" + std::to_string(groups));
    }
    if (kh > kMaxGeometry || kw > kMaxGeometry) args.fail(kRange, "kernel extents must be at most 2^20");
    if (m % groups != 0) {
      args.fail(kShape, "m = " + std::to_string(m) + " output channels are not a multiple of groups = " +
                            std::to_string(groups));
    }
    checked_mul(args, groups, cg, "C = groups x cg");
    const size_t taps = checked_mul(args, kh, kw, "kh x kw");
    const size_t k = checked_mul(args, taps, cg, "K = kh x kw x cg");
    const size_t count = checked_mul(args, m, k, "w");
    if (k > (size_t{1} << 31)) args.fail(kShape, "K = kh x kw x cg = " + std::to_string(k) + " is too large");
    bool w_signed = false;
    const void* w = args.bytes(0, "w", count, &w_signed);
    std::vector<int32_t> zp;
    if (!args[6].IsTypedArray()) args.fail(kArg, "wZeroPoint must be an Int32Array");
    if (args[6].As<Napi::TypedArray>().ElementLength() != 0) {
      size_t got = 0;
      const int32_t* z = args.params<int32_t>(6, "wZeroPoint", napi_int32_array, m, &got);
      const int32_t lo = w_signed ? -128 : 0, hi = w_signed ? 127 : 255;
      for (size_t i = 0; i < got; ++i) {
        if (z[i] < lo || z[i] > hi) {
          args.fail(kRange, "wZeroPoint[" + std::to_string(i) + "] = " + std::to_string(z[i]) +
                                " is outside the " + (w_signed ? "int8" : "uint8") + " range");
        }
      }
      zp.assign(z, z + got);
    }
    lowbit::pack_conv_s8(active_isa(), w, w_signed, m, cg, kh, kw, groups, zp, &packed_);
  }

  const lowbit::PackedConvS8& packed() const { return packed_; }

  static const PackedConvS8Handle& From(const Args& args, size_t i, const char* what) {
    if (!args[i].IsObject() || !args[i].As<Napi::Object>().InstanceOf(ctor_->Value())) {
      args.fail(kArg, std::string(what) + " must be a PackedConvS8 (from ops.packConvInt8)");
    }
    return *Unwrap(args[i].As<Napi::Object>());
  }

 private:
  Napi::Value Number(const Napi::CallbackInfo& info, size_t v) {
    return Napi::Number::New(info.Env(), static_cast<double>(v));
  }
  Napi::Value GetM(const Napi::CallbackInfo& info) { return Number(info, packed_.m); }
  Napi::Value GetCg(const Napi::CallbackInfo& info) { return Number(info, packed_.cg); }
  Napi::Value GetKh(const Napi::CallbackInfo& info) { return Number(info, packed_.kh); }
  Napi::Value GetKw(const Napi::CallbackInfo& info) { return Number(info, packed_.kw); }
  Napi::Value GetGroups(const Napi::CallbackInfo& info) { return Number(info, packed_.groups); }
  Napi::Value GetDepthwise(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), packed_.depthwise);
  }
  Napi::Value GetIsa(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), lowbit::isa_name(packed_.isa));
  }
  Napi::Value GetByteLength(const Napi::CallbackInfo& info) {
    size_t bytes = packed_.dw.data.size() + 4 * packed_.dw.weight_sum.size();
    for (const auto& b : packed_.group_b) {
      bytes += b.data.size() + 4 * (b.column_sum.size() + b.zero_point_s8.size());
    }
    return Number(info, bytes);
  }

  lowbit::PackedConvS8 packed_;
  static Napi::FunctionReference* ctor_;
};

Napi::FunctionReference* PackedConvS8Handle::ctor_ = nullptr;

// convS8(packed, x, n, h, w, c, xZeroPoint, geometry: Int32Array [padTop, padLeft,
//        padBottom, padRight, strideH, strideW, dilationH, dilationW], out,
//        requantization|null[, program])
// x: [n, h, w, c] uint8/int8; out: [n, oh, ow, m], int32 without an output stage.
Napi::Value ConvS8(const Napi::CallbackInfo& info) {
  OpCall call(info, "convS8", 10);
  const Args& args = call.args();
  const PackedConvS8Handle& handle = PackedConvS8Handle::From(args, 0, "packed");
  const lowbit::PackedConvS8& packed = handle.packed();
  if (packed.isa != active_isa()) {
    args.fail(kIsa, std::string("packed was packed for the ") + lowbit::isa_name(packed.isa) +
                        " path but the active path is " + lowbit::isa_name(active_isa()) + "; pack it again");
  }
  const size_t n = args.size(2, "n"), h = args.size(3, "h"), wd = args.size(4, "w"), c = args.size(5, "c");
  if (c != packed.channels()) {
    args.fail(kShape, "x has " + std::to_string(c) + " channels, the weights expect " +
                          std::to_string(packed.channels()) + " (groups " + std::to_string(packed.groups) +
                          " x " + std::to_string(packed.cg) + ")");
  }
  if (h == 0 || wd == 0) args.fail(kShape, "h and w must be positive");
  const int32_t* geo = args.typed<int32_t>(7, "geometry", napi_int32_array, 8);
  static const char* const kGeoNames[] = {"padTop", "padLeft", "padBottom", "padRight",
                                          "strideH", "strideW", "dilationH", "dilationW"};
  for (size_t i = 0; i < 8; ++i) {
    const int64_t lo = i < 4 ? 0 : 1;
    if (geo[i] < lo || static_cast<size_t>(geo[i]) > kMaxGeometry) {
      args.fail(kRange, std::string(kGeoNames[i]) + " must be an integer in [" + std::to_string(lo) +
                            ", 2^20], got " + std::to_string(geo[i]));
    }
  }
  lowbit::Conv2dGeometry g;
  g.kh = packed.kh;
  g.kw = packed.kw;
  g.pad_top = static_cast<size_t>(geo[0]);
  g.pad_left = static_cast<size_t>(geo[1]);
  g.pad_bottom = static_cast<size_t>(geo[2]);
  g.pad_right = static_cast<size_t>(geo[3]);
  g.stride_h = static_cast<size_t>(geo[4]);
  g.stride_w = static_cast<size_t>(geo[5]);
  g.dilation_h = static_cast<size_t>(geo[6]);
  g.dilation_w = static_cast<size_t>(geo[7]);
  if (h > (size_t{1} << 31) || wd > (size_t{1} << 31)) args.fail(kShape, "h and w must be at most 2^31");
  const size_t oh = g.out_h(h), ow = g.out_w(wd);
  if (oh == 0 || ow == 0) {
    args.fail(kShape, "the " + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " kernel (dilated " +
                          std::to_string(g.dilation_h * (g.kh - 1) + 1) + "x" +
                          std::to_string(g.dilation_w * (g.kw - 1) + 1) + ") does not fit the padded " +
                          std::to_string(h) + "x" + std::to_string(wd) + " input");
  }
  const size_t in_count = checked_mul(args, checked_mul(args, checked_mul(args, n, h, "x"), wd, "x"), c, "x");
  bool x_signed = false;
  const lowbit::BufferRef x = call.bytes(1, "x", in_count, &x_signed);
  const int32_t x_zp = args.int32(6, "xZeroPoint", x_signed ? -128 : 0, x_signed ? 127 : 255);
  const size_t pixels = checked_mul(args, checked_mul(args, n, oh, "out"), ow, "out");
  const size_t out_count = checked_mul(args, pixels, packed.m, "out");

  const lowbit::Requantization* rq = nullptr;
  lowbit::BufferRef out;
  if (args.is_null(9)) {
    out = call.tensor<int32_t>(8, "out", napi_int32_array, out_count);
  } else {
    rq = &RequantizationHandle::From(args, 9, "requantization").rq();
    const size_t channels = rq->channels();
    if (channels != 1 && channels != packed.m) {
      args.fail(kShape, "requantization has " + std::to_string(channels) + " channels, the output has " +
                            std::to_string(packed.m));
    }
    out = rq->out_signed ? call.tensor<int8_t>(8, "out", napi_int8_array, out_count)
                         : call.tensor<uint8_t>(8, "out", napi_uint8_array, out_count);
    call.keep(args[9].As<Napi::Object>());
  }
  call.keep(args[0].As<Napi::Object>());

  auto plan = std::make_shared<lowbit::ConvS8Plan>();
  lowbit::prepare_conv_s8(packed, n, h, wd, g, x_signed, x_zp, rq, plan.get());
  std::shared_ptr<const lowbit::ConvS8Plan> ready = std::move(plan);
  const lowbit::PackedConvS8* weights = &packed;
  const double macs = static_cast<double>(pixels) * static_cast<double>(packed.m) *
                      static_cast<double>(packed.kh * packed.kw * packed.cg);
  return call.finish(packed.depthwise ? "conv_s8_depthwise" : "conv_s8", [=](uint8_t* arena) {
    lowbit::conv_s8(*weights, *ready, x.get<const uint8_t>(arena), out.get<uint8_t>(arena),
                    &lowbit::default_thread_pool());
  }, 2.0 * macs);
}

}  // namespace

void register_conv_s8(Napi::Env env, Napi::Object exports) {
  exports.Set("PackedConvS8", PackedConvS8Handle::Define(env));
  exports.Set("convS8", Napi::Function::New(env, ConvS8, "convS8"));
}

}  // namespace lowbit_addon
