// The reference GEMM and output stage against hand-computed cases.
#include <cstring>

#include "harness.h"
#include "lowbit/gemm.h"
#include "lowbit/quantize.h"

using namespace lowbit;

TEST(ref_gemm_onnx_matmulinteger_example) {
  // The example in the ONNX MatMulInteger operator documentation.
  const uint8_t a[] = {11, 7, 3, 10, 6, 2, 9, 5, 1, 8, 4, 0};
  const uint8_t b[] = {1, 4, 2, 5, 3, 6};
  const int32_t b_zp[] = {0};
  const int32_t expected[] = {-38, -83, -44, -98, -50, -113, -56, -128};
  int32_t c[8];
  ref::gemm_s32(4, 2, 3, a, false, 3, 12, b, false, 2, b_zp, 1, c, 2);
  for (int i = 0; i < 8; ++i) CHECK_EQ(c[i], expected[i]);
}

TEST(ref_gemm_signed_and_per_column_zero_points) {
  const int8_t a[] = {-128, 127, 0, -1};   // 2 x 2
  const int8_t b[] = {-128, 5, 127, -7};   // 2 x 2
  const int32_t b_zp[] = {-3, 4};
  int32_t c[4];
  ref::gemm_s32(2, 2, 2, a, true, 2, -2, b, true, 2, b_zp, 2, c, 2);
  // (a - (-2)) * (b - zb[col])
  CHECK_EQ(c[0], (-126) * (-125) + (129) * (130));
  CHECK_EQ(c[1], (-126) * (1) + (129) * (-11));
  CHECK_EQ(c[2], (2) * (-125) + (1) * (130));
  CHECK_EQ(c[3], (2) * (1) + (1) * (-11));
}

TEST(ref_requantize_fp32_rounds_half_to_even) {
  Requantization rq;
  rq.mode = RequantMode::kFp32;
  rq.scale = {0.5f};
  rq.zero_point = 10;
  rq.qmin = 0;
  rq.qmax = 255;
  const int32_t acc[] = {1, 3, 5, -1, -3, 1000, -1000, 0};
  uint8_t out[8];
  ref::requantize(rq, acc, 1, 1, 8, out);
  const uint8_t expected[] = {10, 12, 12, 10, 8, 255, 0, 10};  // 0.5->0, 1.5->2, 2.5->2, -0.5->0, -1.5->-2
  for (int i = 0; i < 8; ++i) CHECK_EQ(int(out[i]), int(expected[i]));
}

TEST(ref_requantize_fp32_hardswish_between_scale_and_clamp) {
  // k = 1/32 (y_scale 3/16): the bends at x = -16 and +16; exact binary
  // values, so x * t lands on halves that round to even.
  Requantization rq;
  rq.mode = RequantMode::kFp32;
  rq.scale = {1.0f};
  rq.hardswish = true;
  rq.hardswish_k = 1.0f / 32;
  rq.zero_point = 10;
  rq.qmin = 0;
  rq.qmax = 105;
  const int32_t acc[] = {-20, -16, -12, -8, -4, -2, 2, 4, 8, 12, 16, 20, 100};
  uint8_t out[13];
  ref::requantize(rq, acc, 1, 1, 13, out);
  // x * clamp(x / 32 + 1/2, 0, 1): -12 -> -1.5 -> -2, 4 -> 2.5 -> 2, 12 -> 10.5 -> 10; 100 clamps.
  const uint8_t expected[] = {10, 10, 8, 8, 8, 9, 11, 12, 16, 20, 26, 30, 105};
  for (int i = 0; i < 13; ++i) CHECK_EQ(int(out[i]), int(expected[i]));
  rq.hardswish = false;  // the same stage without it: the identity below the clamp
  ref::requantize(rq, acc, 1, 1, 13, out);
  CHECK_EQ(int(out[2]), 0);
  CHECK_EQ(int(out[7]), 14);
}

TEST(ref_requantize_fixedpoint_per_channel_with_bias_and_clamp) {
  Requantization rq;
  rq.mode = RequantMode::kFixedpoint;
  rq.multiplier = {1 << 30, 1 << 30};
  rq.shift = {0, -1};   // x0.5 and x0.25
  rq.bias = {10, -10};
  rq.zero_point = -5;
  rq.qmin = -5;         // a fused ReLU: nothing below the zero point
  rq.qmax = 100;
  rq.out_signed = true;
  const int32_t acc[] = {90, 90, -90, -90, 1000, 1000};  // [3 x 2], channel = column
  int8_t out[6];
  ref::requantize(rq, acc, 3, 2, 1, out);
  CHECK_EQ(int(out[0]), 50 - 5);
  CHECK_EQ(int(out[1]), 20 - 5);
  CHECK_EQ(int(out[2]), -5);
  CHECK_EQ(int(out[3]), -5);
  CHECK_EQ(int(out[4]), 100);
  CHECK_EQ(int(out[5]), 100);
}

TEST(ref_quantize_dequantize_linear) {
  const float x[] = {-1.0f, 0.25f, 0.75f, 1.25f, 1000.0f, -1000.0f};
  const float scale[] = {0.5f};
  const int32_t zp[] = {128};
  uint8_t q[6];
  ref::quantize_linear(x, 1, 1, 6, scale, 1, zp, 1, false, q);
  const uint8_t expected[] = {126, 128, 130, 130, 255, 0};  // 0.5->0, 1.5->2, 2.5->2
  for (int i = 0; i < 6; ++i) CHECK_EQ(int(q[i]), int(expected[i]));
  float back[6];
  ref::dequantize_linear(q, ElementType::kUint8, 1, 1, 6, scale, 1, zp, 1, back);
  CHECK(back[0] == -1.0f && back[4] == 63.5f && back[5] == -64.0f);
}
