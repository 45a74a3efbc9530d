// lowbit_kernel_bench: single-threaded int8 GEMM microbenchmark over the
// compiled paths. Weights are packed once, outside the timing, as at load.
//
//   lowbit_kernel_bench [path...] [MxNxK...] [--a=u8|s8] [--b=u8|s8]
//                       [--out=int32|fp32|fixedpoint] [--zb] [--seconds=S]
//
// Paths default to every compiled SIMD path the CPU supports (name `ref` to
// include the scalar ground truth); shapes default to the project's standard
// set. Each sample times enough back-to-back calls to last ~2 ms; the line per
// path and shape reports the median sample (ms per call) and GOPS = 2*M*N*K / t,
// by the wall clock and by the thread's CPU time (cpu-GOPS: what the kernel
// achieves while it has a core, robust when other jobs share the machine).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "lowbit/cpu.h"
#include "lowbit/gemm.h"

using namespace lowbit;

namespace {

struct Shape {
  size_t m, n, k;
};

const Shape kDefaultShapes[] = {{512, 512, 512}, {1, 1024, 1024},  {16, 1024, 1024}, {64, 512, 512},
                                {196, 576, 64},  {256, 256, 256}, {1024, 1024, 1024}};

double now_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// CPU time of this thread: on a machine shared with other jobs it excludes the
// time the thread waited for a core, so it measures the kernel, not the load.
double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

bool parse_shape(const char* s, Shape* out) {
  unsigned long m, n, k;
  char tail;
  if (std::sscanf(s, "%lux%lux%lu%c", &m, &n, &k, &tail) != 3 || !m || !n || !k) return false;
  *out = {m, n, k};
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: lowbit_kernel_bench [path...] [MxNxK...] [--a=u8|s8] [--b=u8|s8]\n"
               "                           [--out=int32|fp32|fixedpoint] [--zb] [--seconds=S]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Isa> isas;
  std::vector<Shape> shapes;
  bool a_signed = false, b_signed = true, nonzero_zb = false;
  std::string out = "int32";
  double seconds = 0.4;  // per path and shape
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    Isa isa;
    Shape shape;
    if (arg == "--a=u8" || arg == "--a=s8") {
      a_signed = arg == "--a=s8";
    } else if (arg == "--b=u8" || arg == "--b=s8") {
      b_signed = arg == "--b=s8";
    } else if (arg.rfind("--out=", 0) == 0) {
      out = arg.substr(6);
      if (out != "int32" && out != "fp32" && out != "fixedpoint") return usage();
    } else if (arg == "--zb") {
      nonzero_zb = true;
    } else if (arg.rfind("--seconds=", 0) == 0) {
      seconds = std::atof(arg.c_str() + 10);
    } else if (parse_isa(arg, &isa)) {
      if (gemm_path(isa) == nullptr || !cpu_supports(isa)) {
        std::fprintf(stderr, "path %s is not compiled in or not supported by this CPU\n", arg.c_str());
        return 1;
      }
      isas.push_back(isa);
    } else if (parse_shape(arg.c_str(), &shape)) {
      shapes.push_back(shape);
    } else {
      return usage();
    }
  }
  if (isas.empty()) {
    for (int i = 0; i < static_cast<int>(Isa::kCount); ++i) {
      const auto isa = static_cast<Isa>(i);
      if (isa != Isa::kRef && gemm_path(isa) != nullptr && cpu_supports(isa)) isas.push_back(isa);
    }
  }
  if (shapes.empty()) shapes.assign(std::begin(kDefaultShapes), std::end(kDefaultShapes));

  std::printf("# A=%s B=%s out=%s zb=%s, 1 thread, median over samples\n", a_signed ? "s8" : "u8",
              b_signed ? "s8" : "u8", out.c_str(), nonzero_zb ? "nonzero" : "zero");
  std::printf("%-12s %16s %10s %10s %10s %8s\n", "path", "MxNxK", "ms", "GOPS", "cpu-GOPS", "samples");
  std::mt19937 rng(42);
  for (const Shape& s : shapes) {
    std::vector<uint8_t> a(s.m * s.k), b(s.k * s.n);
    for (auto& v : a) v = static_cast<uint8_t>(rng());
    for (auto& v : b) v = static_cast<uint8_t>(rng());
    // Symmetric int8 weights have zb = 0; uint8 weights are centred at 128.
    std::vector<int32_t> b_zp = {nonzero_zb ? 3 : (b_signed ? 0 : 128)};
    Requantization rq;
    rq.mode = out == "fixedpoint" ? RequantMode::kFixedpoint : RequantMode::kFp32;
    rq.scale.assign(s.n, 1.0f / (64.0f * static_cast<float>(s.k)));
    rq.multiplier.assign(s.n, 1 << 30);
    rq.shift.assign(s.n, -10);
    rq.bias.assign(s.n, 1000);
    rq.zero_point = 128;
    std::vector<uint8_t> c(s.m * s.n * 4);
    for (Isa isa : isas) {
      const GemmPath& path = *gemm_path(isa);
      PackedMatrix packed;
      pack_matrix(path, b.data(), b_signed, s.k, s.n, s.n, b_zp, &packed);
      GemmArgs args;
      args.m = s.m;
      args.a = a.data();
      args.a_stride = s.k;
      args.a_signed = a_signed;
      args.a_zero_point = a_signed ? -3 : 125;
      args.b = &packed;
      args.rq = out == "int32" ? nullptr : &rq;
      args.c = c.data();
      args.c_stride = s.n;

      gemm(path, args);  // warm up caches and the clock
      double t0 = now_seconds();
      gemm(path, args);
      const double one = std::max(now_seconds() - t0, 1e-7);
      const size_t calls = std::max<size_t>(1, static_cast<size_t>(2e-3 / one));
      std::vector<double> samples, cpu_samples;
      const double start = now_seconds();
      while (samples.size() < 5 || (now_seconds() - start < seconds && samples.size() < 1000)) {
        t0 = now_seconds();
        const double c0 = thread_seconds();
        for (size_t i = 0; i < calls; ++i) gemm(path, args);
        cpu_samples.push_back((thread_seconds() - c0) / static_cast<double>(calls));
        samples.push_back((now_seconds() - t0) / static_cast<double>(calls));
      }
      auto median = [](std::vector<double>& v) {
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return v[v.size() / 2];
      };
      const double t = median(samples), cpu_t = std::max(median(cpu_samples), 1e-9);
      const double ops = 2.0 * static_cast<double>(s.m) * s.n * s.k;
      const double gops = ops / t * 1e-9, cpu_gops = ops / cpu_t * 1e-9;
      char shape[48];
      std::snprintf(shape, sizeof(shape), "%zux%zux%zu", s.m, s.n, s.k);
      std::printf("%-12s %16s %10.4f %10.1f %10.1f %8zu\n", isa_name(isa), shape, t * 1e3, gops, cpu_gops,
                  samples.size());
      std::fflush(stdout);
    }
  }
  return 0;
}
