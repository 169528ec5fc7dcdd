// League: who the learner plays (scripted bots, self-play snapshots, itself), their seats
// and networks, Elo ratings, the snapshot pool, and evaluation matches.
#include "trainer_impl.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "ludus/engine/match.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/version.hpp"
#include "ludus/rl/policy_agent.hpp"
#include "ludus/rl/checkpoint.hpp"

namespace ludus::rl {

namespace fs = std::filesystem;

double EvalResult::win_rate() const {
  const int n = wins + draws + losses;
  return n > 0 ? static_cast<double>(wins) / n : 0.0;
}

double EvalResult::low() const {
  const double n = wins + draws + losses, z = 1.96;
  if (n == 0) return 0;
  const double p = win_rate(), d = 1 + z * z / n;
  // Exactly 0 at p = 0 (rounding would otherwise print "-0").
  return std::max(0.0, (p + z * z / (2 * n) - z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d);
}

double EvalResult::high() const {
  const double n = wins + draws + losses, z = 1.96;
  if (n == 0) return 1;
  const double p = win_rate(), d = 1 + z * z / n;
  return std::min(1.0, (p + z * z / (2 * n) + z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / d);
}

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

// Per group: a scripted bot, a self-play snapshot, or the policy itself.
std::vector<std::string> Trainer::choose_opponents() {
  auto& im = *impl_;
  const auto bots = split_agent_list(cfg_.opponents.bots);
  std::vector<std::string> group_opponent(static_cast<size_t>(cfg_.grpo.groups));
  for (auto& opp : group_opponent) {
    const bool snapshot = cfg_.opponents.enabled && !im.pool.empty() && im.rng.uniform() >= cfg_.opponents.bot_prob;
    if (snapshot) {
      opp = "snapshot:" + im.pool[im.rng.below(static_cast<uint32_t>(im.pool.size()))];
    } else if (!bots.empty()) {
      opp = bots[im.rng.below(static_cast<uint32_t>(bots.size()))];
    } else {
      opp = "self";
    }
  }
  return group_opponent;
}

// Scripted bots per env, opponent networks per name (snapshots cached), kickstart teachers.
Trainer::Seating Trainer::seat_opponents(std::vector<std::string> group_opponent, const std::vector<uint64_t>& seeds,
                                         double kick) {
  auto& im = *impl_;
  const int N = im.num_envs, K = cfg_.grpo.group_size;
  Seating seats;
  seats.group_opponent = std::move(group_opponent);
  seats.env_bot.resize(static_cast<size_t>(N));
  seats.opp_ids.resize(static_cast<size_t>(N));
  for (int e = 0; e < N; ++e) {
    const int g = e / K, side = im.group_side[static_cast<size_t>(g)];
    for (int team = 0; team < im.spec.num_teams; ++team)
      if (team != side)
        for (int a : im.spec.team_agents(team)) seats.opp_ids[static_cast<size_t>(e)].push_back(a);
    const std::string& opp = seats.group_opponent[static_cast<size_t>(g)];
    if (opp.rfind("snapshot:", 0) == 0 || opp == "self") {
      seats.net_groups[opp].push_back(e);
    } else {
      auto& bot = seats.env_bot[static_cast<size_t>(e)];
      bot = make_agent(opp, cfg_.env);
      bot->reset(im.vec->env(e), 1 - side, seeds[static_cast<size_t>(e)] + static_cast<uint64_t>(e));
    }
  }
  // Kickstarting: a teacher per env, playing the learner's side, asked at every decision.
  if (kick > 0) {
    seats.teacher.resize(static_cast<size_t>(N));
    seats.learner_ids.resize(static_cast<size_t>(N));
    for (size_t e = 0; e < seats.teacher.size(); ++e) {
      const int side = im.group_side[e / static_cast<size_t>(K)];
      for (int a : im.spec.team_agents(side)) seats.learner_ids[e].push_back(a);
      seats.teacher[e] = make_agent(cfg_.kickstart.teacher, cfg_.env);
      seats.teacher[e]->reset(im.vec->env(static_cast<int>(e)), side, seeds[e] + 7919 * (e + 1));
    }
  }
  for (const auto& [name, envs] : seats.net_groups) {
    if (name == "self") {
      seats.nets.insert_or_assign(name, policy_);
      continue;
    }
    const std::string path = name.substr(9);
    auto it = im.snapshot_cache.find(path);
    if (it == im.snapshot_cache.end()) {
      auto ck = load_checkpoint(path);
      ck.net->to(im.device);
      ck.net->eval();
      it = im.snapshot_cache.emplace(path, ck.net).first;
    }
    seats.nets.insert_or_assign(name, it->second);
  }
  return seats;
}

// Opponent networks act at decisions too (batched); their actions are held.
void Trainer::act_opponent_nets(Seating& seats, const PolicyNet& net_of_learner, Rng& rng) {
  auto& im = *impl_;
  const int A = im.spec.num_agents;
  const int64_t AD = im.adim;
  const auto& head = net_of_learner->head();
  const auto all_obs = im.obs_view();
  float* vec_act = im.vec->actions();
  for (const auto& [name, envs] : seats.net_groups) {
    std::vector<int64_t> rows;
    for (int e : envs)
      for (int a : seats.opp_ids[static_cast<size_t>(e)]) rows.push_back(static_cast<int64_t>(e) * A + a);
    const auto rt = torch::tensor(rows, torch::kLong);
    auto& net = seats.nets.at(name);
    const auto o = net->forward(all_obs.index_select(0, rt).to(im.device)).to(torch::kCPU);
    std::vector<float> oa(rows.size() * static_cast<size_t>(AD)), oe(oa.size());
    const auto ls = net->log_std().defined() ? net->log_std().detach().to(torch::kCPU) : torch::Tensor();
    head.sample(o, ls, rng, /*greedy=*/false, oa.data(), oe.data());
    for (size_t k = 0; k < rows.size(); ++k) std::copy_n(oe.data() + k * AD, AD, vec_act + rows[k] * AD);
  }
}

// After an update: the KL reference's refresh and the self-play pool's newest snapshot.
void Trainer::update_league() {
  auto& im = *impl_;
  if (cfg_.grpo.kl_coef > 0 && cfg_.algo != Algo::ppo && cfg_.grpo.ref_every > 0 && update_ % cfg_.grpo.ref_every == 0)
    trainer_detail::copy_parameters(im.ref, policy_);
  if (!cfg_.opponents.enabled || update_ % cfg_.opponents.snapshot_every != 0) return;
  const auto path = (fs::path(run_dir_) / "pool" / fmt::format("snap_{:07d}.pt", update_)).string();
  if (is_main()) save_checkpoint(path, policy_meta(), policy_);
  // Ranks need not share rank 0's filesystem: each keeps the snapshot in memory.
  PolicyNet snap(im.obs_dim, im.spec.action_space, cfg_.network, cfg_.algo == Algo::ppo);
  trainer_detail::copy_parameters(snap, policy_);
  snap->to(im.device);
  snap->eval();
  im.snapshot_cache.insert_or_assign(path, snap);
  im.pool.push_back(path);
  while (static_cast<int>(im.pool.size()) > cfg_.opponents.pool_size) {
    im.snapshot_cache.erase(im.pool.front());
    std::error_code ec;
    if (is_main()) fs::remove(im.pool.front(), ec);
    im.pool.erase(im.pool.begin());
  }
}

EvalResult Trainer::evaluate(int matches, const std::string& opponent, int replays, const std::string& replay_prefix) {
  auto& im = *impl_;
  EvalResult res;
  auto env = make_env(cfg_.env, im.eval_game);
  PolicyAgent learner(policy_, /*greedy=*/true, "learner");
  learner.hold_ticks(static_cast<int>(decision_every()));  // decide as in training, also in a rules game
  auto opp = make_agent(opponent, cfg_.env);
  torch::NoGradGuard no_grad;
  policy_->eval();
  // Several ranks split the matches (same seeds and sides as one process would play);
  // rank 0 plays the first ones and records their replays.
  const int first = static_cast<int>(static_cast<int64_t>(matches) * rank() / world_size());
  const int last = static_cast<int>(static_cast<int64_t>(matches) * (rank() + 1) / world_size());
  for (int m = first; m < last; ++m) {
    const int side = m % std::max(1, im.spec.num_teams);
    std::vector<Agent*> agents(static_cast<size_t>(im.spec.num_teams), opp.get());
    agents[static_cast<size_t>(side)] = &learner;
    std::unique_ptr<ReplayWriter> writer;
    if (m < replays && !replay_prefix.empty() && is_main()) {
      ReplayHeader h;
      h.env_name = cfg_.env;
      h.env_options_yaml = im.eval_game_yaml;
      h.seed = 1000000 + static_cast<uint64_t>(m);
      for (int t = 0; t < im.spec.num_teams; ++t) h.agents.push_back(t == side ? "learner" : opponent);
      h.ludus_version = version();
      h.created_utc = utc_now();
      h.tick_rate_hz = im.spec.tick_rate_hz;
      const auto path = fmt::format("{}_m{}.rpl", replay_prefix, m);
      fs::create_directories(fs::path(path).parent_path());
      writer = std::make_unique<ReplayWriter>(path, h);
    }
    MatchOptions mo;
    mo.seed = 1000000 + static_cast<uint64_t>(m);  // fixed evaluation seeds, distinct from training
    mo.replay = writer.get();
    const MatchResult r = run_match(*env, agents, mo);
    if (r.winner == side)
      ++res.wins;
    else if (r.winner < 0)
      ++res.draws;
    else
      ++res.losses;
  }
  policy_->train();
  std::vector<double> v{static_cast<double>(res.wins), static_cast<double>(res.draws), static_cast<double>(res.losses)};
  dist_->all_reduce_sum(v, "gathering evaluation results");
  res.wins = static_cast<int>(v[0]);
  res.draws = static_cast<int>(v[1]);
  res.losses = static_cast<int>(v[2]);
  return res;
}

}  // namespace ludus::rl
