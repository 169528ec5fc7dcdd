// Optimizer-core benchmarks: Muon vs AdamW steps, and Newton–Schulz msign vs its bare matmuls.
// Also the networks' activation: ludus::rl::tanh against torch::tanh on a minibatch's
// hidden activations.
#include "ludus/rl/optim/msign.hpp"
#include "ludus/rl/optim/muon.hpp"
#include "ludus/rl/tanh.hpp"

#include <benchmark/benchmark.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ludus::rl::optim::Muon;
using ludus::rl::optim::MuonOptions;

struct Shape {
  int64_t rows;
  int64_t cols;
};

constexpr Shape kShapes[] = {{256, 256}, {512, 256}, {64, 512}};
constexpr int64_t kNewtonSchulzSteps = 5;

void wait_for(const torch::Device& device) {
  if (device.is_cuda()) {
    torch::cuda::synchronize();
  }
}

torch::Tensor parameter_with_grad(Shape shape, const torch::Device& device) {
  auto param = torch::randn({shape.rows, shape.cols}, torch::device(device)).requires_grad_(true);
  param.mutable_grad() = torch::randn_like(param);
  return param;
}

void set_counters(benchmark::State& state, Shape shape) {
  state.counters["params"] = static_cast<double>(shape.rows * shape.cols);
}

void muon_step(benchmark::State& state, Shape shape, torch::Device device) {
  torch::NoGradGuard no_grad;
  auto param = parameter_with_grad(shape, device);
  Muon muon({param}, MuonOptions(/*lr=*/1e-4));
  for (auto _ : state) {
    muon.step();
    wait_for(device);
  }
  set_counters(state, shape);
}

void adamw_step(benchmark::State& state, Shape shape, torch::Device device) {
  auto param = parameter_with_grad(shape, device);
  torch::optim::AdamW adamw({param}, torch::optim::AdamWOptions(/*lr=*/1e-4));
  for (auto _ : state) {
    adamw.step();
    wait_for(device);
  }
  set_counters(state, shape);
}

void msign_newton_schulz(benchmark::State& state, Shape shape, torch::Device device) {
  torch::NoGradGuard no_grad;
  const auto g = torch::randn({shape.rows, shape.cols}, torch::device(device));
  const auto& keller = ludus::rl::optim::ns_schedule("keller");
  for (auto _ : state) {
    benchmark::DoNotOptimize(ludus::rl::optim::msign(g, keller, kNewtonSchulzSteps));
    wait_for(device);
  }
  set_counters(state, shape);
}

// The floor for msign: the same 3 matmuls per step (X Xᵀ, A·A, B·X on the small
// side), into preallocated outputs, with none of the scaling, adds or copies.
void msign_bare_matmuls(benchmark::State& state, Shape shape, torch::Device device) {
  torch::NoGradGuard no_grad;
  const auto small = std::min(shape.rows, shape.cols);
  const auto large = std::max(shape.rows, shape.cols);
  const auto options = torch::device(device);
  const auto x = torch::randn({small, large}, options);
  const auto x_transposed = x.t();
  auto gram = torch::empty({small, small}, options);
  auto gram_squared = torch::empty({small, small}, options);
  auto product = torch::empty({small, large}, options);
  for (auto _ : state) {
    for (int64_t step = 0; step < kNewtonSchulzSteps; ++step) {
      torch::matmul_out(gram, x, x_transposed);
      torch::matmul_out(gram_squared, gram, gram);
      torch::matmul_out(product, gram_squared, x);
    }
    benchmark::DoNotOptimize(product.data_ptr());
    wait_for(device);
  }
  set_counters(state, shape);
}

// tanh over one learner minibatch's hidden activations (Codeball 1v1: 2,400 rows x 128),
// forward only (the rollout and the decoupled objective's pass) or forward and backward.
template <bool kOurs, bool kBackward>
void tanh_activation(benchmark::State& state) {
  const auto x = torch::randn({2400, 128}) * 2;
  const auto grad = torch::randn({2400, 128});
  for (auto _ : state) {
    if constexpr (kBackward) {
      auto in = x.detach().requires_grad_(true);
      const auto y = kOurs ? ludus::rl::tanh(in) : torch::tanh(in);
      y.backward(grad);
      benchmark::DoNotOptimize(in.grad().data_ptr());
    } else {
      torch::NoGradGuard no_grad;
      benchmark::DoNotOptimize((kOurs ? ludus::rl::tanh(x) : torch::tanh(x)).data_ptr());
    }
  }
  state.SetItemsProcessed(state.iterations() * x.numel());
}

// Built with a stream: GCC 12 reports a false -Wrestrict on `"/" + std::to_string(...)`.
std::string benchmark_name(const char* what, Shape shape, const torch::Device& device) {
  std::ostringstream name;
  name << what << '/' << shape.rows << 'x' << shape.cols << '/' << (device.is_cuda() ? "cuda" : "cpu");
  return name.str();
}

void register_all(const torch::Device& device) {
  if (!device.is_cuda()) {
    benchmark::RegisterBenchmark("Tanh/torch/2400x128/cpu", tanh_activation<false, false>)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("Tanh/ludus/2400x128/cpu", tanh_activation<true, false>)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("TanhWithBackward/torch/2400x128/cpu", tanh_activation<false, true>)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark("TanhWithBackward/ludus/2400x128/cpu", tanh_activation<true, true>)
        ->Unit(benchmark::kMicrosecond);
  }
  for (const auto shape : kShapes) {
    benchmark::RegisterBenchmark(benchmark_name("MuonStep", shape, device).c_str(), muon_step, shape, device)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(benchmark_name("AdamWStep", shape, device).c_str(), adamw_step, shape, device)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(benchmark_name("MsignNewtonSchulz5", shape, device).c_str(), msign_newton_schulz,
                                 shape, device)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(benchmark_name("MsignBareMatmuls5", shape, device).c_str(), msign_bare_matmuls, shape,
                                 device)
        ->Unit(benchmark::kMicrosecond);
  }
}

// Takes --torch_threads=N (default 2) out of argv before Google Benchmark parses it.
int take_torch_threads_flag(int& argc, char** argv) {
  constexpr std::string_view kFlag = "--torch_threads=";
  int threads = 2;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kFlag.size()) == kFlag) {
      threads = std::stoi(std::string(arg.substr(kFlag.size())));
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (threads < 1) {
    throw std::invalid_argument("--torch_threads must be >= 1, got " + std::to_string(threads));
  }
  return threads;
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(take_torch_threads_flag(argc, argv));
  torch::manual_seed(0);
  register_all(torch::Device(torch::kCPU));
  if (torch::cuda::is_available()) {
    register_all(torch::Device(torch::kCUDA));
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
