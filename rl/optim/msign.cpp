// Newton–Schulz msign and the shipped coefficient schedules.
#include "ludus/rl/optim/msign.hpp"

#include <torch/torch.h>

#include <array>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace ludus::rl::optim {
namespace {

NsSchedule divided_by(std::string name, std::vector<NsCoefficients> steps, double divisor) {
  for (auto& step : steps) {
    step.a /= divisor;
    step.b /= divisor;
    step.c /= divisor;
  }
  return NsSchedule{std::move(name), std::move(steps)};
}

const std::array<NsSchedule, 4>& shipped_schedules() {
  static const std::array<NsSchedule, 4> schedules{
      NsSchedule{"keller",
                 {{3.4445, -4.7750, 2.0315},
                  {3.4445, -4.7750, 2.0315},
                  {3.4445, -4.7750, 2.0315},
                  {3.4445, -4.7750, 2.0315},
                  {3.4445, -4.7750, 2.0315}}},
      NsSchedule{"quintic5",
                 {{4.0848, -6.8946, 2.9270},
                  {3.9505, -6.3029, 2.6377},
                  {3.7418, -5.5913, 2.3037},
                  {2.8769, -3.1427, 1.2046},
                  {2.8366, -3.0525, 1.2012}}},
      NsSchedule{"polar_express",
                 {{8.28721201814563, -23.595886519098837, 17.300387312530933},
                  {4.107059111542203, -2.9478499167379106, 0.5448431082926601},
                  {3.9486908534822946, -2.908902115962949, 0.5518191394370137},
                  {3.3184196573706015, -2.488488024314874, 0.51004894012372},
                  {2.300652019954817, -1.6689039845747493, 0.4188073119525673}}},
      divided_by("you6",
                 {{3955, -8306, 5008},
                  {3735, -6681, 3463},
                  {3799, -6499, 3211},
                  {4019, -6385, 2906},
                  {2677, -3029, 1162},
                  {2172, -1833, 682}},
                 /*divisor=*/1024.0),
  };
  return schedules;
}

const NsCoefficients& coefficients_at(const NsSchedule& schedule, int64_t step) {
  const auto last = static_cast<int64_t>(schedule.steps.size()) - 1;
  return schedule.steps[static_cast<size_t>(std::min(step, last))];
}

// beta·base + alpha·(left @ right) as one BLAS call: separate elementwise passes cost
// more than the matmul itself for small matrices (thread handoffs per op).
torch::Tensor scaled_product_plus(const torch::Tensor& base, const torch::Tensor& left, const torch::Tensor& right,
                                  double beta, double alpha) {
  return base.dim() == 2 ? torch::addmm(base, left, right, beta, alpha)
                         : torch::baddbmm(base, left, right, beta, alpha);
}

void check_schedule_and_steps(const NsSchedule& schedule, int64_t steps) {
  TORCH_CHECK(!schedule.steps.empty(), "Newton-Schulz schedule '", schedule.name,
              "' has no entries; expected at least one (a, b, c)");
  TORCH_CHECK(steps >= 1, "Newton-Schulz steps must be >= 1, got ", steps);
}

}  // namespace

const NsSchedule& ns_schedule(std::string_view name) {
  for (const auto& schedule : shipped_schedules()) {
    if (schedule.name == name) {
      return schedule;
    }
  }
  std::ostringstream message;
  message << "unknown Newton-Schulz schedule '" << name << "'; valid names:";
  for (const auto& schedule : shipped_schedules()) {
    message << ' ' << schedule.name;
  }
  throw std::invalid_argument(message.str());
}

std::vector<std::string> ns_schedule_names() {
  std::vector<std::string> names;
  for (const auto& schedule : shipped_schedules()) {
    names.push_back(schedule.name);
  }
  return names;
}

NsSchedule make_ns_schedule(std::string name, std::vector<NsCoefficients> steps) {
  if (steps.empty()) {
    throw std::invalid_argument("Newton-Schulz schedule '" + name +
                                "' has no entries; expected at least one (a, b, c)");
  }
  for (size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    if (!std::isfinite(step.a) || !std::isfinite(step.b) || !std::isfinite(step.c)) {
      std::ostringstream message;
      message << "Newton-Schulz schedule '" << name << "' entry " << i << " is (" << step.a << ", " << step.b << ", "
              << step.c << "); expected finite coefficients";
      throw std::invalid_argument(message.str());
    }
  }
  return NsSchedule{std::move(name), std::move(steps)};
}

NsSchedule with_safety_factor(const NsSchedule& schedule, double factor) {
  if (!(factor >= 1.0) || !std::isfinite(factor)) {
    throw std::invalid_argument("safety factor must be finite and >= 1, got " + std::to_string(factor));
  }
  NsSchedule scaled = schedule;
  std::ostringstream name;
  name << schedule.name << "_sf" << factor;
  scaled.name = name.str();
  for (auto& step : scaled.steps) {
    step.a /= factor;
    step.b /= std::pow(factor, 3);
    step.c /= std::pow(factor, 5);
  }
  return scaled;
}

torch::Tensor ns_scalar_map(const torch::Tensor& sigma, const NsSchedule& schedule, int64_t steps) {
  check_schedule_and_steps(schedule, steps);
  auto x = sigma.to(torch::kFloat64);
  for (int64_t step = 0; step < steps; ++step) {
    const auto& k = coefficients_at(schedule, step);
    const auto x2 = x * x;
    x = x * (k.a + x2 * (k.b + k.c * x2));
  }
  return x;
}

torch::Tensor msign(const torch::Tensor& g, const NsSchedule& schedule, int64_t steps,
                    c10::optional<torch::ScalarType> compute_dtype) {
  check_schedule_and_steps(schedule, steps);
  TORCH_CHECK(g.dim() == 2 || g.dim() == 3, "msign expects [m, n] or [B, m, n], got shape ", g.sizes());
  TORCH_CHECK(g.is_floating_point(), "msign expects a floating-point tensor, got ", g.scalar_type());
  TORCH_CHECK(!compute_dtype.has_value() || c10::isFloatingType(*compute_dtype),
              "msign compute dtype must be floating point, got ", *compute_dtype);
  const bool tall = g.size(-2) > g.size(-1);
  auto x = g.to(compute_dtype.value_or(g.scalar_type()));
  if (tall) {
    x = x.transpose(-2, -1);
  }
  x = x / (torch::linalg::matrix_norm(x, "fro", /*dim=*/{-2, -1}, /*keepdim=*/true,
                                      /*dtype=*/c10::nullopt) +
           1e-7);
  for (int64_t step = 0; step < steps; ++step) {
    const auto& k = coefficients_at(schedule, step);
    const auto gram = torch::matmul(x, x.transpose(-2, -1));
    const auto poly = scaled_product_plus(gram, gram, gram, /*beta=*/k.b, /*alpha=*/k.c);
    x = scaled_product_plus(x, poly, x, /*beta=*/k.a, /*alpha=*/1.0);
  }
  if (tall) {
    x = x.transpose(-2, -1);
  }
  return x.to(g.scalar_type()).contiguous();
}

torch::Tensor msign(const torch::Tensor& g, const NsSchedule& schedule) {
  return msign(g, schedule, static_cast<int64_t>(schedule.steps.size()));
}

}  // namespace ludus::rl::optim
