// Pooling channel-row kernels with NEON: float max / average on q registers
// (../../common/f32-pool-impl.h), byte max with umax / smax.
#include <arm_neon.h>

#include "../../common/f32-pool-impl.h"

namespace lowbit {
namespace neon {
namespace {

void max_u8(const uint8_t* const* rows, size_t taps, size_t c, uint8_t* out) {
  simd::max_bytes<uint8_t, uint8x16_t, 16>(
      rows, taps, c, out, [](const uint8_t* p) { return vld1q_u8(p); }, [](uint8_t* p, uint8x16_t v) { vst1q_u8(p, v); },
      [](uint8x16_t a, uint8x16_t b) { return vmaxq_u8(a, b); });
}
void max_s8(const int8_t* const* rows, size_t taps, size_t c, int8_t* out) {
  simd::max_bytes<int8_t, int8x16_t, 16>(
      rows, taps, c, out, [](const int8_t* p) { return vld1q_s8(p); }, [](int8_t* p, int8x16_t v) { vst1q_s8(p, v); },
      [](int8x16_t a, int8x16_t b) { return vmaxq_s8(a, b); });
}

}  // namespace

extern const PoolPath kPoolPath = {Isa::kNeon, simd::max_f32<simd::VecNeon>, max_u8, max_s8,
                                   simd::avg_f32<simd::VecNeon>};

}  // namespace neon
}  // namespace lowbit
