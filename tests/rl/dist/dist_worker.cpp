// One rank of the multi-process tests (rl_dist_test starts several): joins the job the
// launcher variables describe, trains or steps, and writes its parameters to a file.
//
//   rl_dist_worker train RUN_DIR UPDATES TIMEOUT_S OUT [KEY=VALUE...] [fail=RANK:UPDATE]
//                                                         trains a new run for UPDATES updates
//                                                         (rank RANK throws after update UPDATE)
//   rl_dist_worker resume RUN_DIR UPDATES TIMEOUT_S OUT  continues RUN_DIR up to UPDATES updates
//   rl_dist_worker step - STEPS TIMEOUT_S OUT            STEPS optimizer steps on a fixed batch,
//                                                         split over the ranks
// OUT gets "_rank<R>.pt": the parameters, in named_parameters order (torch::save).
#include <fmt/core.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "ludus/engine/config.hpp"
#include "ludus/rl/dist.hpp"
#include "ludus/rl/grpo.hpp"
#include "ludus/rl/optim/hybrid.hpp"
#include "ludus/rl/policy.hpp"
#include "ludus/train/trainer.hpp"

namespace {

using namespace ludus;

rl::TrainConfig small_config(const std::string& run_dir, double timeout_s, const std::vector<std::string>& sets) {
  ConfigTree t = ConfigTree::from_string(R"(
env: reach
game: {team_size: 1, max_ticks: 30, target_score: 2, approach_reward: 0.1}
threads: 1
total_steps: 100000000
epochs: 2
minibatches: 2
checkpoint_every: 2
network: {hidden: 16, layers: 2}
grpo: {groups: 2, group_size: 4, kl_coef: 0.05}
opponents: {enabled: true, bots: "random,lazy", bot_prob: 0.5, snapshot_every: 1, pool_size: 2}
eval: {every: 0, matches: 4, replays: 1, opponent: lazy}
)",
                                         "dist worker config");
  t.apply_override("run_dir=" + run_dir);
  t.apply_override(fmt::format("dist.timeout_s={}", timeout_s));
  for (const auto& kv : sets) t.apply_override(kv);
  return bind_options<rl::TrainConfig>(t);
}

void write_params(const std::vector<torch::Tensor>& params, const std::string& out, int rank) {
  std::vector<torch::Tensor> copy;
  for (const auto& p : params) copy.push_back(p.detach().to(torch::kCPU).clone());
  torch::save(copy, fmt::format("{}_rank{}.pt", out, rank));
}

// The data-parallel arithmetic of a GRPO minibatch on a fixed batch: rank r holds rows
// [r N / W, (r + 1) N / W); the loss is a weighted mean over the whole batch.
void step_fixed_batch(rl::dist::Context& ctx, int steps, const std::string& out) {
  const int64_t N = 48, D = 6;
  torch::manual_seed(7);
  rl::NetworkOptions net_opts;
  net_opts.hidden = 16;
  net_opts.layers = 2;
  rl::PolicyNet net(D, ActionSpace::discrete(3), net_opts, /*value_head=*/false);
  rl::optim::HybridOptions ho;
  ho.muon = rl::optim::MuonOptions(0.02);
  ho.adamw = torch::optim::AdamWOptions(1e-3).weight_decay(0.01);
  rl::optim::HybridOptimizer opt(net->named_parameters(), ho);

  torch::manual_seed(11);
  const auto obs = torch::randn({N, D}), act = torch::randint(0, 3, {N, 1}).to(torch::kFloat);
  const auto adv = torch::randn({N}), old = torch::full({N}, -1.1);
  auto w = torch::rand({N});
  w.index_put_({torch::indexing::Slice(0, N, 5)}, 0.0f);  // some dropped samples, as drop_degenerate does
  const double total_w = w.sum().item<double>();

  const int64_t lo = N * ctx.rank() / ctx.world_size(), hi = N * (ctx.rank() + 1) / ctx.world_size();
  const auto sl = torch::indexing::Slice(lo, hi);
  std::vector<torch::Tensor> params = net->parameters();
  for (int k = 0; k < steps; ++k) {
    opt.zero_grad();
    const auto o = net->forward(obs.index({sl}));
    const auto logp = net->head().log_prob(o, net->log_std(), act.index({sl}));
    const auto surr = rl::clipped_surrogate(logp, old.index({sl}), adv.index({sl}), 0.2, 0.28);
    const auto loss = (w.index({sl}) * -surr).sum() / (total_w / ctx.world_size());
    loss.backward();
    std::vector<double> extra{loss.item<double>()};
    ctx.average_gradients(params, extra);
    torch::nn::utils::clip_grad_norm_(params, 1.0);
    opt.step();
  }
  write_params(params, out, ctx.rank());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    fmt::print(stderr, "usage: {} train|resume|step RUN_DIR UPDATES TIMEOUT_S OUT [KEY=VALUE...]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1], run_dir = argv[2], out = argv[5];
  const int updates = std::atoi(argv[3]);
  const double timeout_s = std::atof(argv[4]);
  std::vector<std::string> sets;
  int fail_rank = -1, fail_update = -1;
  for (int i = 6; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("fail=", 0) == 0) {
      fail_rank = std::atoi(a.c_str() + 5);
      fail_update = std::atoi(a.c_str() + a.find(':') + 1);
    } else {
      sets.push_back(a);
    }
  }
  std::shared_ptr<rl::dist::Context> ctx;
  try {
    const auto env = rl::dist::launch_env_from_environment();
    ctx = rl::dist::Context::create(env, rl::dist::DistOptions{timeout_s, 30.0});
    if (mode == "step") {
      step_fixed_batch(*ctx, updates, out);
    } else {
      auto trainer = mode == "train" ? rl::Trainer::create(small_config(run_dir, timeout_s, sets), ctx)
                                     : rl::Trainer::resume(run_dir, ctx);
      if (trainer->updates_done() < updates)
        trainer->train([&](const rl::UpdateStats& s) {
          if (ctx->rank() == fail_rank && s.update == fail_update)
            throw std::runtime_error(fmt::format("injected failure after update {}", s.update));
          return s.update < updates;
        });
      write_params(trainer->policy()->parameters(), out, ctx->rank());
    }
    ctx->finish();
  } catch (const std::exception& e) {
    if (ctx) ctx->report_failure(e.what());
    fmt::print(stderr, "worker: {}\n", e.what());
    return 1;
  }
  return 0;
}
