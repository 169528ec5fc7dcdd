// Dual directions and norms for steepest descent under a chosen norm.
#include "ludus/rl/optim/dual.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace ludus::rl::optim {
namespace {

constexpr double kDivisionFloor = 1e-12;

constexpr std::array<std::pair<NormKind, std::string_view>, 6> kNormNames{{
    {NormKind::spectral, "spectral"},
    {NormKind::rms_to_rms, "rms_to_rms"},
    {NormKind::frobenius, "frobenius"},
    {NormKind::linf_sign, "linf_sign"},
    {NormKind::colnorm, "colnorm"},
    {NormKind::rownorm, "rownorm"},
}};

constexpr std::array<std::pair<MuonScaling, std::string_view>, 3> kScalingNames{{
    {MuonScaling::none, "none"},
    {MuonScaling::original, "original"},
    {MuonScaling::moonlight, "moonlight"},
}};

template <typename Enum, size_t N>
Enum parse_name(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view name,
                std::string_view what) {
  std::string valid;
  for (const auto& [value, value_name] : table) {
    if (value_name == name) {
      return value;
    }
    valid += ' ';
    valid += value_name;
  }
  throw std::invalid_argument("unknown " + std::string(what) + " '" + std::string(name) + "'; valid names:" + valid);
}

template <typename Enum, size_t N>
std::string name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [candidate, name] : table) {
    if (candidate == value) {
      return std::string(name);
    }
  }
  throw std::invalid_argument("enum value " + std::to_string(static_cast<int>(value)) + " has no name");
}

void check_matrix(const torch::Tensor& t, const char* what) {
  TORCH_CHECK(t.dim() == 2 || t.dim() == 3, what, " expects [d_out, d_in] or [B, d_out, d_in], got shape ", t.sizes());
  TORCH_CHECK(t.is_floating_point(), what, " expects a floating-point tensor, got ", t.scalar_type());
}

double rms_to_rms_factor(const torch::Tensor& t) {
  return std::sqrt(static_cast<double>(t.size(-2)) / static_cast<double>(t.size(-1)));
}

torch::Tensor singular_values(const torch::Tensor& t) {
  return torch::linalg::svdvals(t.to(torch::kFloat64), c10::nullopt);
}

}  // namespace

std::string to_string(NormKind kind) { return name_of(kNormNames, kind); }
std::string to_string(MuonScaling scaling) { return name_of(kScalingNames, scaling); }
NormKind parse_norm_kind(std::string_view name) { return parse_name(kNormNames, name, "norm kind"); }
MuonScaling parse_muon_scaling(std::string_view name) { return parse_name(kScalingNames, name, "Muon scaling"); }

torch::Tensor dual_direction(const torch::Tensor& g, NormKind kind, const MsignConfig& msign_config) {
  check_matrix(g, "dual_direction");
  switch (kind) {
    case NormKind::spectral:
      return msign(g, msign_config.schedule, msign_config.steps, msign_config.compute_dtype);
    case NormKind::rms_to_rms:
      return msign(g, msign_config.schedule, msign_config.steps, msign_config.compute_dtype).mul_(rms_to_rms_factor(g));
    case NormKind::frobenius: {
      const auto norm = torch::linalg::matrix_norm(g, "fro", /*dim=*/{-2, -1},
                                                   /*keepdim=*/true, /*dtype=*/c10::nullopt);
      return g / norm.clamp_min(kDivisionFloor);
    }
    case NormKind::linf_sign:
      return torch::sign(g);
    case NormKind::colnorm:
      return g / g.square().sum(/*dim=*/{-2}, /*keepdim=*/true).sqrt().clamp_min(kDivisionFloor);
    case NormKind::rownorm:
      return g / g.square().sum(/*dim=*/{-1}, /*keepdim=*/true).sqrt().clamp_min(kDivisionFloor);
  }
  throw std::invalid_argument("dual_direction: unhandled norm kind " + std::to_string(static_cast<int>(kind)));
}

torch::Tensor norm_value(const torch::Tensor& w, NormKind kind) {
  check_matrix(w, "norm_value");
  const auto w64 = w.to(torch::kFloat64);
  switch (kind) {
    case NormKind::spectral:
      return std::get<0>(singular_values(w).max(/*dim=*/-1));
    case NormKind::rms_to_rms:
      return std::get<0>(singular_values(w).max(/*dim=*/-1)) / rms_to_rms_factor(w);
    case NormKind::frobenius:
      return w64.square().sum(/*dim=*/{-2, -1}).sqrt();
    case NormKind::linf_sign:
      return w64.abs().amax(/*dim=*/{-2, -1});
    case NormKind::colnorm:
      return w64.square().sum(/*dim=*/{-2}).sqrt().amax(/*dim=*/{-1});
    case NormKind::rownorm:
      return w64.square().sum(/*dim=*/{-1}).sqrt().amax(/*dim=*/{-1});
  }
  throw std::invalid_argument("norm_value: unhandled norm kind " + std::to_string(static_cast<int>(kind)));
}

torch::Tensor dual_norm_value(const torch::Tensor& g, NormKind kind) {
  check_matrix(g, "dual_norm_value");
  const auto g64 = g.to(torch::kFloat64);
  switch (kind) {
    case NormKind::spectral:
      return singular_values(g).sum(/*dim=*/-1);
    case NormKind::rms_to_rms:
      return singular_values(g).sum(/*dim=*/-1) * rms_to_rms_factor(g);
    case NormKind::frobenius:
      return g64.square().sum(/*dim=*/{-2, -1}).sqrt();
    case NormKind::linf_sign:
      return g64.abs().sum(/*dim=*/{-2, -1});
    case NormKind::colnorm:
      return g64.square().sum(/*dim=*/{-2}).sqrt().sum(/*dim=*/{-1});
    case NormKind::rownorm:
      return g64.square().sum(/*dim=*/{-1}).sqrt().sum(/*dim=*/{-1});
  }
  throw std::invalid_argument("dual_norm_value: unhandled norm kind " + std::to_string(static_cast<int>(kind)));
}

torch::Tensor schatten_dual_direction(const torch::Tensor& g, double p) {
  check_matrix(g, "schatten_dual_direction");
  if (!(p > 1.0)) {
    throw std::invalid_argument("schatten_dual_direction expects p in (1, inf], got " + std::to_string(p));
  }
  const double q = std::isinf(p) ? 1.0 : p / (p - 1.0);
  const auto [u, sigma, vh] = torch::linalg::svd(g.to(torch::kFloat64), /*full_matrices=*/false, c10::nullopt);
  // Powers of σ/σ_max cannot overflow or underflow for large q; the scale cancels.
  const auto top = std::get<0>(sigma.max(/*dim=*/-1, /*keepdim=*/true)).clamp_min(1e-300);
  const auto relative = sigma / top;
  const auto powered = relative.pow(q - 1.0);
  const auto dual_norm_power = relative.pow(q).sum(/*dim=*/-1, /*keepdim=*/true).pow((q - 1.0) / q);
  const auto weights = (powered / dual_norm_power).unsqueeze(-1);
  return torch::matmul(u, weights * vh).to(g.scalar_type());
}

torch::Tensor schatten_norm_value(const torch::Tensor& g, double p) {
  check_matrix(g, "schatten_norm_value");
  if (!(p >= 1.0)) {
    throw std::invalid_argument("schatten_norm_value expects p >= 1, got " + std::to_string(p));
  }
  const auto sigma = singular_values(g);
  if (std::isinf(p)) {
    return std::get<0>(sigma.max(/*dim=*/-1));
  }
  return sigma.pow(p).sum(/*dim=*/-1).pow(1.0 / p);
}

double muon_scale(int64_t rows, int64_t cols, MuonScaling scaling) {
  TORCH_CHECK(rows > 0 && cols > 0, "muon_scale expects a non-empty matrix, got ", rows, "x", cols);
  const auto r = static_cast<double>(rows);
  const auto c = static_cast<double>(cols);
  switch (scaling) {
    case MuonScaling::none:
      return 1.0;
    case MuonScaling::original:
      return std::sqrt(std::max(1.0, r / c));
    case MuonScaling::moonlight:
      return 0.2 * std::sqrt(std::max(r, c));
  }
  throw std::invalid_argument("muon_scale: unhandled scaling " + std::to_string(static_cast<int>(scaling)));
}

}  // namespace ludus::rl::optim
