#include "lowbit/pack.h"

namespace lowbit {

void pack_u8s8_panels(const void* b, bool b_signed, size_t k, size_t n, size_t b_stride,
                      const std::vector<int32_t>& zero_point, size_t nr, size_t kr,
                      size_t k_align, PackedMatrix* out) {
  const size_t kp = packed_k(k, k_align);
  const size_t panels = (n + nr - 1) / nr;
  out->nr = nr;
  out->kr = kr;
  out->data.resize(panels * kp * nr);
  out->column_sum.assign(n, 0);
  out->zero_point_s8.assign(n, 0);
  auto* dst = static_cast<int8_t*>(out->data.data());
  const auto* src = static_cast<const uint8_t*>(b);
  for (size_t col = 0; col < n; ++col) {
    const size_t panel = col / nr, lane = col % nr;
    int32_t sum = 0;
    for (size_t p = 0; p < k; ++p) {
      const uint8_t raw = src[p * b_stride + col];
      const int8_t v = b_signed ? static_cast<int8_t>(raw) : static_cast<int8_t>(raw ^ 0x80);  // raw - 128
      const size_t g = p / kr, i = p % kr;
      dst[((panel * (kp / kr) + g) * nr + lane) * kr + i] = v;
      sum += v;
    }
    out->column_sum[col] = sum;
    const int32_t zb = zero_point.empty() ? 0 : zero_point[zero_point.size() == 1 ? 0 : col];
    out->zero_point_s8[col] = b_signed ? zb : zb - 128;
  }
}

}  // namespace lowbit
