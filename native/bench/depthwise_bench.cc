// lowbit_depthwise_bench: single-threaded int8 depthwise convolution against
// lowbit's fp32 depthwise convolution of the same shape, per kernel path, on the
// depthwise layers of the PaddleOCR text-direction classifier (MobileNetV3-small
// x0.35, 48x192 input) and of ordinary MobileNets.
//
//   lowbit_depthwise_bench [path...] [--seconds=S] [--x=u8|s8] [--out=int32|fp32|fixedpoint]
//                          [--only=TEXT]  (layers whose label contains TEXT)
//
// Weights are packed and the call prepared once, outside the timing, as a
// recorded program step does. fp32 and int8 samples (each ~1 ms of
// back-to-back calls) alternate, so a change in the machine's load falls on
// both; each reports the median sample of the thread's CPU time per call (us).
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "lowbit/conv_f32.h"
#include "lowbit/conv_s8.h"
#include "lowbit/cpu.h"

using namespace lowbit;

namespace {

struct Layer {
  const char* label;
  size_t c, h, w, k, stride_h, stride_w;
};

const Layer kLayers[] = {
    {"cls 8ch 3x3 s(2,1) 24x96", 8, 24, 96, 3, 2, 1},    {"cls 24ch 3x3 s(2,1) 12x96", 24, 12, 96, 3, 2, 1},
    {"cls 32ch 3x3 s1 6x96", 32, 6, 96, 3, 1, 1},         {"cls 32ch 5x5 s(2,1) 6x96", 32, 6, 96, 5, 2, 1},
    {"cls 88ch 5x5 s1 3x96", 88, 3, 96, 5, 1, 1},         {"cls 40ch 5x5 s1 3x96", 40, 3, 96, 5, 1, 1},
    {"cls 48ch 5x5 s1 3x96", 48, 3, 96, 5, 1, 1},         {"cls 104ch 5x5 s(2,1) 3x96", 104, 3, 96, 5, 2, 1},
    {"cls 200ch 5x5 s1 2x96", 200, 2, 96, 5, 1, 1},       {"mbv2 144ch 3x3 s1 56x56", 144, 56, 56, 3, 1, 1},
    {"mbv2 144ch 3x3 s2 56x56", 144, 56, 56, 3, 2, 2},    {"mbv2 32ch 3x3 s2 112x112", 32, 112, 112, 3, 2, 2},
    {"mbv2 96ch 3x3 s2 112x112", 96, 112, 112, 3, 2, 2},    {"qconv 96ch 5x5 s1 3x12", 96, 3, 12, 5, 1, 1},
    {"qconv 16ch 3x3 s2 24x96", 16, 24, 96, 3, 2, 2},
};

double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Seconds per call of one ~1 ms sample.
template <class Fn>
double sample(Fn&& fn, size_t calls) {
  const double t0 = thread_seconds();
  for (size_t i = 0; i < calls; ++i) fn();
  return (thread_seconds() - t0) / static_cast<double>(calls);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int usage() {
  std::fprintf(stderr, "usage: lowbit_depthwise_bench [path...] [--seconds=S] [--x=u8|s8] [--out=int32|fp32|fixedpoint] [--only=TEXT]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Isa> isas;
  double seconds = 0.2;
  bool x_signed = false;
  std::string out_kind = "fp32", only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    Isa isa;
    if (a.rfind("--seconds=", 0) == 0) seconds = std::atof(a.c_str() + 10);
    else if (a == "--x=u8" || a == "--x=s8") x_signed = a == "--x=s8";
    else if (a.rfind("--out=", 0) == 0) out_kind = a.substr(6);
    else if (a.rfind("--only=", 0) == 0) only = a.substr(7);
    else if (parse_isa(a, &isa)) isas.push_back(isa);
    else return usage();
  }
  if (out_kind != "int32" && out_kind != "fp32" && out_kind != "fixedpoint") return usage();
  if (isas.empty()) {
    for (Isa isa : {Isa::kAvx2, Isa::kAvx512Vnni, Isa::kNeon}) {
      if (cpu_supports(isa)) isas.push_back(isa);
    }
  }
  std::mt19937 rng(7);
  std::printf("%-28s %-11s %9s %9s %7s\n", "layer", "path", "fp32 us", "int8 us", "f32/i8");
  for (Isa isa : isas) {
    if (!cpu_supports(isa)) {
      std::fprintf(stderr, "the CPU lacks the %s path\n", isa_name(isa));
      return 1;
    }
    for (const Layer& l : kLayers) {
      if (!only.empty() && std::string(l.label).find(only) == std::string::npos) continue;
      const size_t c = l.c, k = l.k, pad = k / 2, taps = k * k;
      Conv2dGeometry g;
      g.kh = g.kw = k;
      g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = pad;
      g.stride_h = l.stride_h;
      g.stride_w = l.stride_w;
      const size_t oh = g.out_h(l.h), ow = g.out_w(l.w);
      std::vector<float> xf(l.h * l.w * c), wf(c * taps), bias(c), yf(oh * ow * c);
      std::vector<int8_t> wq(c * taps);
      std::vector<uint8_t> xq(l.h * l.w * c);
      std::vector<int32_t> yq(oh * ow * c);
      for (auto& v : xf) v = static_cast<float>(rng() % 200) / 100.0f - 1.0f;
      for (auto& v : wf) v = static_cast<float>(rng() % 200) / 100.0f - 1.0f;
      for (auto& v : xq) v = static_cast<uint8_t>(rng());
      for (auto& v : wq) v = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);

      PackedConvF32 pf;
      pack_conv2d_f32(f32_path_for(isa), wf.data(), bias.data(), c, 1, k, k, c, &pf);
      Conv2dParams cp;
      cp.h = l.h;
      cp.w = l.w;
      cp.c = cp.m = cp.groups = c;
      cp.kh = cp.kw = k;
      cp.pad_top = cp.pad_left = cp.pad_bottom = cp.pad_right = pad;
      cp.stride_h = l.stride_h;
      cp.stride_w = l.stride_w;
      ConvF32Plan plan_f;
      plan_conv2d_f32(pf, cp, &plan_f);
      const F32Epilogue epilogue;

      PackedConvS8 pq;
      pack_conv_s8(isa, wq.data(), true, c, 1, k, k, c, {}, &pq);
      Requantization rq;
      rq.mode = out_kind == "fp32" ? RequantMode::kFp32 : RequantMode::kFixedpoint;
      for (size_t j = 0; j < c; ++j) {
        const float s = 0.0005f + static_cast<float>(rng() % 100) * 1e-5f;
        if (rq.mode == RequantMode::kFp32) {
          rq.scale.push_back(s);
        } else {
          int32_t mult;
          int shift;
          fixedpoint::quantize_multiplier(s, &mult, &shift);
          rq.multiplier.push_back(mult);
          rq.shift.push_back(shift);
        }
        rq.bias.push_back(static_cast<int32_t>(rng() % 2001) - 1000);
      }
      rq.zero_point = 3;
      rq.qmin = 0;
      rq.qmax = 255;
      ConvS8Plan plan_q;
      prepare_conv_s8(pq, 1, l.h, l.w, g, x_signed, x_signed ? 3 : 131, out_kind == "int32" ? nullptr : &rq, &plan_q);

      const auto run_f = [&] { conv2d_f32(pf, plan_f, xf.data(), yf.data(), epilogue, nullptr); };
      const auto run_q = [&] { conv_s8(pq, plan_q, xq.data(), yq.data(), nullptr); };
      run_f();
      run_q();
      // Calls per ~1 ms sample, from one timed call each.
      const auto calls_for = [](double per_call) { return std::max<size_t>(1, static_cast<size_t>(1e-3 / std::max(per_call, 1e-8))); };
      const size_t nf = calls_for(sample(run_f, 20)), nq = calls_for(sample(run_q, 20));
      std::vector<double> tf, tq;
      const size_t samples = std::max<size_t>(5, static_cast<size_t>(seconds / 2e-3));
      for (size_t s = 0; s < samples; ++s) {
        tf.push_back(sample(run_f, nf));
        tq.push_back(sample(run_q, nq));
      }
      const double f = median(tf) * 1e6, q = median(tq) * 1e6;
      std::printf("%-28s %-11s %9.2f %9.2f %7.2f\n", l.label, isa_name(isa), f, q, f / q);
    }
  }
  return 0;
}
