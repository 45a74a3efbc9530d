// The table of compiled depthwise paths, the shared packing and per-call
// preparation, and the split of one convolution over the thread pool.
//
// Depthwise kernels need fewer variants than the GEMM: the avxvnni path runs its
// rows kernel (vpdpbusd over 4 kernel columns) for stride-1 rows and the avx2
// per-pixel kernels otherwise (avx2's own rows kernel on int16 pairs only runs
// weights packed for avx2), amx runs the avx512vnni ones and neondot the neon ones.
#include <algorithm>

#include "lowbit/depthwise_s8.h"
#include "lowbit/thread_pool.h"

namespace lowbit {

namespace ref { extern const DepthwisePath kDepthwisePath; }
#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const DepthwisePath kDepthwisePath; }
#endif
#if LOWBIT_HAVE_AVXVNNI
namespace avxvnni { extern const DepthwisePath kDepthwisePath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const DepthwisePath kDepthwisePath; }
#endif
#if LOWBIT_HAVE_NEON
namespace neon { extern const DepthwisePath kDepthwisePath; }
#endif

const DepthwisePath& depthwise_ref_path() { return ref::kDepthwisePath; }

const DepthwisePath& depthwise_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVXVNNI
    case Isa::kAvxVnni:
      return avxvnni::kDepthwisePath;
#endif
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
#if !LOWBIT_HAVE_AVXVNNI
    case Isa::kAvxVnni:
#endif
      return avx2::kDepthwisePath;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      return avx512vnni::kDepthwisePath;
#endif
#if LOWBIT_HAVE_NEON
    case Isa::kNeon:
    case Isa::kNeonDot:
      return neon::kDepthwisePath;
#endif
    default:
      return ref::kDepthwisePath;
  }
}

namespace {
constexpr size_t kChannelPad = 64;

inline int32_t wrapping_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
}  // namespace

void pack_depthwise(const DepthwisePath& path, const void* w, bool w_signed, size_t channels,
                    size_t kh, size_t kw, const std::vector<int32_t>& zero_point,
                    PackedDepthwise* out) {
  const size_t taps = kh * kw;
  out->isa = path.isa;
  out->channels = channels;
  out->kh = kh;
  out->kw = kw;
  out->w_signed = w_signed;
  out->zero_point = zero_point;
  out->cp = (channels + kChannelPad - 1) / kChannelPad * kChannelPad;
  out->weight_sum.assign(out->cp, 0);
  for (size_t c = 0; c < channels; ++c) {
    const int32_t zw = zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : c];
    int32_t sum = 0;  // |sum| <= 255 * taps: wraps only past 8 million taps, like ref
    for (size_t t = 0; t < taps; ++t) {
      const size_t i = c * taps + t;
      const int32_t v = w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
      sum = static_cast<int32_t>(static_cast<uint32_t>(sum) + static_cast<uint32_t>(v - zw));
    }
    out->weight_sum[c] = sum;
  }
  path.pack(w, w_signed, channels, kh, kw, zero_point, out);
}

void prepare_depthwise(const PackedDepthwise& w, const Requantization* rq, int32_t x_zero_point,
                       bool x_signed, const Conv2dGeometry& g, DepthwiseParams* out) {
  const size_t cp = w.cp, channels = w.channels;
  DepthwiseParams& p = *out;
  p.x_zero_point = x_zero_point;
  p.kind = rq == nullptr ? DepthwiseOutput::kInt32
                         : rq->mode == RequantMode::kFp32 ? DepthwiseOutput::kFp32 : DepthwiseOutput::kFixedpoint;
  p.rq = rq != nullptr ? *rq : Requantization{};
  p.out_signed = rq != nullptr && rq->out_signed;
  p.zero_point = rq != nullptr ? rq->zero_point : 0;
  p.qmin = rq != nullptr ? rq->qmin : 0;
  p.qmax = rq != nullptr ? rq->qmax : 0;
  // As requantize_one: clamp before rounding, in the domain without the zero point.
  p.lo = static_cast<float>(p.qmin - p.zero_point);
  p.hi = static_cast<float>(p.qmax - p.zero_point);
  p.hardswish = rq != nullptr && rq->hardswish;
  p.hardswish_k = p.hardswish ? rq->hardswish_k : 0.0f;
  p.init.assign(cp, 0);
  p.scale.assign(cp, 0.0f);  // padded channels: 0, never stored
  p.multiplier.assign(cp, 0);
  p.left_shift.assign(cp, 0);
  p.right_shift.assign(cp, 0);
  p.round_mask.assign(cp, 0);
  p.neg_right_shift.assign(cp, 0);
  for (size_t c = 0; c < channels; ++c) {
    // sum (x - zx)(w - zw) = sum x (w - zw) - zx * sum (w - zw), all wrapping; the
    // kernels accumulate x * (w - zw) on top of init.
    int32_t init = wrapping_mul(-x_zero_point, w.weight_sum[c]);
    if (rq != nullptr && !rq->bias.empty()) {
      init = fixedpoint::wrapping_add(init, rq->bias[rq->bias.size() == 1 ? 0 : c]);
    }
    p.init[c] = init;
    if (p.kind == DepthwiseOutput::kFp32) {
      p.scale[c] = rq->scale[rq->scale.size() == 1 ? 0 : c];
    } else if (p.kind == DepthwiseOutput::kFixedpoint) {
      // As requantize_one: the multiplier's count decides for the shift too.
      const size_t i = rq->multiplier.size() == 1 ? 0 : c;
      const int32_t shift = rq->shift[i];
      const int32_t right = shift > 0 ? 0 : -shift;
      p.multiplier[c] = rq->multiplier[i];
      p.left_shift[c] = shift > 0 ? shift : 0;
      p.right_shift[c] = right;
      p.round_mask[c] = static_cast<int32_t>((int64_t{1} << right) - 1);
      p.neg_right_shift[c] = -right;
    }
  }
  p.padding_row.assign(cp + kChannelPad, static_cast<uint8_t>(x_zero_point));
  const DepthwisePath& path = depthwise_path(w.isa);
  if (path.finish_params != nullptr) path.finish_params(w, x_signed, g, &p);
}

namespace {
// Below this many multiply-adds one thread is done before a second could help
// (handing work to a worker costs 5-30 us); below the second, sleeping workers
// are left asleep (see gemm_paths.cc).
constexpr size_t kMinParallelWork = size_t{1} << 20;
constexpr size_t kMinWakeWork = size_t{1} << 24;
constexpr size_t kTasksPerThread = 4;
}  // namespace

void depthwise_conv(const DepthwisePath& path, const DepthwiseArgs& args, ThreadPool* pool) {
  const size_t rows = args.n * args.oh;
  if (rows == 0 || args.ow == 0 || args.c == 0) return;
  const size_t work = rows * args.ow * args.c * args.geometry.taps();
  const size_t threads = pool != nullptr ? pool->threads() : 1;
  if (threads <= 1 || work < kMinParallelWork || rows < 2) {
    path.run(args, 0, rows);
    return;
  }
  const size_t tasks = std::min(rows, threads * kTasksPerThread);
  pool->parallel_for(tasks, [&](size_t t) {
    const size_t r0 = rows * t / tasks, r1 = rows * (t + 1) / tasks;
    if (r0 < r1) path.run(args, r0, r1);
  }, work >= kMinWakeWork);
}

}  // namespace lowbit
