// The table of small-m convolution kernels (lowbit/conv_s8_small_m.h), their
// shared weight packing and per-call preparation. amx runs the avx512vnni
// kernel; ref and the ARM paths have none (conv_s8 keeps its im2col GEMM there).
#include "lowbit/conv_s8_small_m.h"

namespace lowbit {

#if LOWBIT_HAVE_AVX2
namespace avx2 { extern const SmallMPath kSmallMPath; }
#endif
#if LOWBIT_HAVE_AVXVNNI
namespace avxvnni { extern const SmallMPath kSmallMPath; }
#endif
#if LOWBIT_HAVE_AVX512VNNI
namespace avx512vnni { extern const SmallMPath kSmallMPath; }
#endif

const SmallMPath* small_m_path(Isa isa) {
  switch (isa) {
#if LOWBIT_HAVE_AVX2
    case Isa::kAvx2:
      return &avx2::kSmallMPath;
#endif
#if LOWBIT_HAVE_AVXVNNI
    case Isa::kAvxVnni:
      return &avxvnni::kSmallMPath;
#endif
#if LOWBIT_HAVE_AVX512VNNI
    case Isa::kAvx512Vnni:
    case Isa::kAmx:
      return &avx512vnni::kSmallMPath;
#endif
    default:
      return nullptr;
  }
}

namespace {
inline int32_t weight_at(const void* w, bool w_signed, size_t i) {
  return w_signed ? static_cast<const int8_t*>(w)[i] : static_cast<const uint8_t*>(w)[i];
}
inline int32_t zero_point_at(const std::vector<int32_t>& zp, size_t oc) {
  return zp.empty() ? 0 : zp[zp.size() == 1 ? 0 : oc];
}
}  // namespace

bool small_m_applies(Isa isa, const void* w, bool w_signed, size_t m, size_t cg, size_t kh, size_t kw,
                     size_t groups, const std::vector<int32_t>& zero_point) {
  if (small_m_path(isa) == nullptr || groups != 1 || m == 0 || m > kSmallMMaxChannels) return false;
  if (kh == 0 || kw == 0 || cg == 0 || kh * ((kw * cg + 3) / 4) > kSmallMMaxGroups) return false;
  const size_t taps = kh * kw;
  for (size_t oc = 0; oc < m; ++oc) {
    const int32_t zw = zero_point_at(zero_point, oc);
    for (size_t i = 0; i < cg * taps; ++i) {
      const int32_t v = weight_at(w, w_signed, oc * cg * taps + i) - zw;
      if (v < -128 || v > 127) return false;  // vpdpbusd's signed operand
    }
  }
  return true;
}

void pack_small_m(const void* w, bool w_signed, size_t m, size_t c, size_t kh, size_t kw,
                  const std::vector<int32_t>& zero_point, PackedSmallM* out) {
  PackedSmallM& p = *out;
  p.m = m;
  p.mp = m <= 4 ? 4 : m <= 8 ? 8 : 16;
  p.kh = kh;
  p.kw = kw;
  p.c = c;
  p.nq = (kw * c + 3) / 4;
  p.groups = kh * p.nq;
  p.w8.resize(p.groups * p.mp * 4);  // zero-filled: padded channels and K tails weigh 0
  p.w16.resize(p.groups * p.mp * 4 * sizeof(int16_t));
  p.weight_sum.assign(p.mp, 0);
  auto* w8 = static_cast<int8_t*>(p.w8.data());
  auto* w16 = static_cast<int16_t*>(p.w16.data());
  for (size_t oc = 0; oc < m; ++oc) {
    const int32_t zw = zero_point_at(zero_point, oc);
    uint32_t sum = 0;
    for (size_t ky = 0; ky < kh; ++ky) {
      for (size_t kx = 0; kx < kw; ++kx) {
        for (size_t ci = 0; ci < c; ++ci) {
          // Byte b of kernel row ky (input order: kx outer, channel inner).
          const size_t b = kx * c + ci;
          const size_t g = ky * p.nq + b / 4;
          const int32_t v = weight_at(w, w_signed, ((oc * c + ci) * kh + ky) * kw + kx) - zw;
          w8[(g * p.mp + oc) * 4 + b % 4] = static_cast<int8_t>(v);
          w16[(g * p.mp + oc) * 4 + b % 4] = static_cast<int16_t>(v);
          sum += static_cast<uint32_t>(v);
        }
      }
    }
    p.weight_sum[oc] = static_cast<int32_t>(sum);
  }
}

void prepare_small_m(const PackedSmallM& w, const Requantization& rq, bool x_signed, int32_t x_zero_point,
                     SmallMParams* out) {
  SmallMParams& p = *out;
  const size_t mp = w.mp;
  const int32_t za = x_zero_point + (x_signed ? 128 : 0);
  p.fp32 = rq.mode == RequantMode::kFp32;
  p.pad = static_cast<uint8_t>(za);
  p.x_signed = x_signed;
  p.zero_point = rq.zero_point;
  p.qmin = rq.qmin;
  p.qmax = rq.qmax;
  p.lo = static_cast<float>(rq.qmin - rq.zero_point);
  p.hi = static_cast<float>(rq.qmax - rq.zero_point);
  p.hardswish = rq.hardswish;
  p.hardswish_k = rq.hardswish_k;
  p.init.assign(mp, 0);
  p.scale.assign(mp, 0.0f);  // padded channels: computed, never stored
  p.multiplier.assign(mp, 0);
  p.left_shift.assign(mp, 0);
  p.right_shift.assign(mp, 0);
  p.round_mask.assign(mp, 0);
  for (size_t oc = 0; oc < w.m; ++oc) {
    uint32_t init = static_cast<uint32_t>(-za) * static_cast<uint32_t>(w.weight_sum[oc]);
    if (!rq.bias.empty()) init += static_cast<uint32_t>(rq.bias[rq.bias.size() == 1 ? 0 : oc]);
    p.init[oc] = static_cast<int32_t>(init);
    if (p.fp32) {
      p.scale[oc] = rq.scale[rq.scale.size() == 1 ? 0 : oc];
    } else {
      // As requantize_one: the multiplier's count decides for the shift too.
      const size_t i = rq.multiplier.size() == 1 ? 0 : oc;
      const int32_t shift = rq.shift[i];
      const int32_t right = shift > 0 ? 0 : -shift;
      p.multiplier[oc] = rq.multiplier[i];
      p.left_shift[oc] = shift > 0 ? shift : 0;
      p.right_shift[oc] = right;
      p.round_mask[oc] = static_cast<int32_t>((int64_t{1} << right) - 1);
    }
  }
}

}  // namespace lowbit
