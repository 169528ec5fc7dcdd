// Trainer: bit-exact resume, self-play pool, evaluation, and failure reporting.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/rl/policy_agent.hpp"
#include "ludus/train/trainer.hpp"

namespace ludus::rl {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string temp_dir(const std::string& name) {
  // One directory per test and process: ctest runs tests in parallel.
  const auto d = fs::temp_directory_path() /
                 ("ludus_trainer_test_" + name + "_" + std::to_string(static_cast<long long>(::getpid())));
  fs::remove_all(d);
  return d.string();
}

TrainConfig small_config(const std::string& run_dir) {
  ConfigTree t = ConfigTree::from_string(R"(
env: reach
game: {team_size: 1, max_ticks: 40, target_score: 2, approach_reward: 0.1}
threads: 1
total_steps: 100000000
epochs: 2
minibatches: 2
checkpoint_every: 1
network: {hidden: 16, layers: 2}
grpo: {groups: 2, group_size: 4, kl_coef: 0.05}
opponents: {enabled: true, bots: "random,lazy", bot_prob: 0.5, snapshot_every: 1, pool_size: 2}
eval: {every: 0, matches: 2, replays: 0, opponent: lazy}
)",
                                         "test config");
  t.apply_override("run_dir=" + run_dir);
  return bind_options<TrainConfig>(t);
}

std::vector<std::string> metrics_without_timing(const std::string& run_dir) {
  std::ifstream in(fs::path(run_dir) / "metrics.csv");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
    if (f.size() > 3) f[2] = f[3] = "";  // elapsed_s, sps
    std::string joined;
    for (const auto& c : f) joined += c + ",";
    rows.push_back(joined);
  }
  return rows;
}

TEST(Trainer, ResumeAfterAStopIsBitExact) {
  const auto dir_a = temp_dir("a"), dir_b = temp_dir("b");
  auto a = Trainer::create(small_config(dir_a));
  a->train([](const UpdateStats& s) { return s.update < 4; });
  ASSERT_EQ(a->updates_done(), 4);

  auto b = Trainer::create(small_config(dir_b));
  b->train([](const UpdateStats& s) { return s.update < 2; });
  ASSERT_EQ(b->updates_done(), 2);
  b.reset();  // the process "dies" here; only files remain
  auto c = Trainer::resume(dir_b);
  EXPECT_EQ(c->updates_done(), 2);
  c->train([](const UpdateStats& s) { return s.update < 4; });
  ASSERT_EQ(c->updates_done(), 4);

  const auto pa = a->policy()->named_parameters(), pc = c->policy()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), *pc.find(p.key()))) << p.key() << " differs";
  EXPECT_EQ(metrics_without_timing(dir_a), metrics_without_timing(dir_b));
  EXPECT_EQ(a->samples_done(), c->samples_done());
  EXPECT_TRUE(fs::exists(fs::path(dir_b) / "pool")) << "self-play snapshots are written";
  // TensorBoard: one event file per process (the first run and the resume).
  int event_files = 0;
  for (const auto& f : fs::directory_iterator(fs::path(dir_b) / "tb"))
    event_files += f.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  EXPECT_EQ(event_files, 2);
  fs::remove_all(dir_a);
  fs::remove_all(dir_b);
}

// grpo.start carry: each group's game goes on across updates in rollout_ticks pieces (a
// 35-tick game in 10-tick pieces: 10, 10, 10, 5, then a new game), and a resume continues
// the games in progress bit for bit.
TEST(Trainer, CarryPlaysEachGameOnAcrossUpdatesAndResumesExactly) {
  const auto carry_config = [](const std::string& dir, GroupStart start) {
    auto c = small_config(dir);
    c.game = ConfigTree::from_string("{team_size: 1, max_ticks: 35, target_score: 1000, approach_reward: 0.1}", "game");
    c.rollout_ticks = 10;
    c.grpo.start = start;
    return c;
  };
  const int64_t rows = 2 * 4;  // groups x group_size, one learner agent each
  for (const GroupStart start : {GroupStart::carry, GroupStart::reset}) {
    const auto dir = temp_dir(std::string("carry_") + std::string(enum_name(start, kGroupStartNames)));
    auto t = Trainer::create(carry_config(dir, start));
    std::vector<int64_t> per_update;
    int64_t before = 0;
    for (int u = 0; u < 5; ++u) {
      const auto s = t->update();
      per_update.push_back(s.samples - before);
      before = s.samples;
    }
    if (start == GroupStart::carry)
      EXPECT_EQ(per_update, (std::vector<int64_t>{10 * rows, 10 * rows, 10 * rows, 5 * rows, 10 * rows}));
    else
      EXPECT_EQ(per_update, std::vector<int64_t>(5, 10 * rows)) << "reset starts a new game every update";
    fs::remove_all(dir);
  }

  const auto dir_a = temp_dir("carry_a"), dir_b = temp_dir("carry_b");
  auto a = Trainer::create(carry_config(dir_a, GroupStart::carry));
  a->train([](const UpdateStats& s) { return s.update < 4; });
  auto b = Trainer::create(carry_config(dir_b, GroupStart::carry));
  b->train([](const UpdateStats& s) { return s.update < 2; });
  b.reset();
  auto c = Trainer::resume(dir_b);
  c->train([](const UpdateStats& s) { return s.update < 4; });
  const auto pa = a->policy()->named_parameters(), pc = c->policy()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), *pc.find(p.key()))) << p.key() << " differs";
  EXPECT_EQ(metrics_without_timing(dir_a), metrics_without_timing(dir_b));
  fs::remove_all(dir_a);
  fs::remove_all(dir_b);

  auto bad = carry_config(temp_dir("carry_bad"), GroupStart::carry);
  bad.rollout_ticks = 0;
  try {
    Trainer::create(bad);
    ADD_FAILURE() << "carry without rollout_ticks was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("rollout_ticks"));
  }
  fs::remove_all(bad.run_dir);
}

// optim.anneal linear: the learning rates fall with agent-steps from lr to anneal_to x lr,
// and a resumed run continues the schedule bit for bit.
TEST(Trainer, LinearAnnealingFollowsAgentStepsAndResumesExactly) {
  const auto annealed = [](const std::string& dir) {
    auto c = small_config(dir);
    c.optim.anneal = Anneal::linear;
    c.optim.anneal_to = 0.1;
    c.total_steps = 4 * 2 * 4 * 40;  // 4 updates of 2 groups x 4 rollouts x 40 ticks
    return c;
  };
  const auto dir_a = temp_dir("anneal_a"), dir_b = temp_dir("anneal_b");
  auto a = Trainer::create(annealed(dir_a));
  std::vector<double> muon;
  for (int u = 0; u < 3; ++u) {
    a->update();
    muon.push_back(a->learning_rates().first);
  }
  const double lr = annealed(dir_a).optim.lr, adam = annealed(dir_a).optim.adam_lr;
  EXPECT_DOUBLE_EQ(muon[0], lr) << "the first update runs at the full rate";
  EXPECT_LT(muon[1], muon[0]);
  EXPECT_LT(muon[2], muon[1]);
  EXPECT_GE(muon[2], 0.1 * lr);
  EXPECT_NEAR(a->learning_rates().second / adam, muon[2] / lr, 1e-9) << "both rates follow one schedule";
  auto b = Trainer::create(annealed(dir_b));
  b->train([](const UpdateStats& s) { return s.update < 2; });
  b.reset();
  auto c = Trainer::resume(dir_b);
  c->update();
  EXPECT_DOUBLE_EQ(c->learning_rates().first, muon[2]);
  const auto pa = a->policy()->named_parameters(), pc = c->policy()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), *pc.find(p.key()))) << p.key() << " differs";
  fs::remove_all(dir_a);
  fs::remove_all(dir_b);
}

TEST(Trainer, ResumeSkipsACorruptLatestCheckpoint) {
  const auto dir = temp_dir("corrupt");
  auto t = Trainer::create(small_config(dir));
  t->train([](const UpdateStats& s) { return s.update < 2; });
  t.reset();
  std::ofstream(fs::path(dir) / "checkpoints" / "ckpt_0000003.pt", std::ios::trunc) << "garbage";
  auto r = Trainer::resume(dir);
  EXPECT_EQ(r->updates_done(), 2);
  fs::remove_all(dir);
}

TEST(Trainer, EvaluationCountsEveryMatch) {
  const auto dir = temp_dir("eval");
  auto t = Trainer::create(small_config(dir));
  const auto e = t->evaluate(6, "random", 1, (fs::path(dir) / "replays" / "e").string());
  EXPECT_EQ(e.wins + e.draws + e.losses, 6);
  EXPECT_LE(e.low(), e.win_rate());
  EXPECT_GE(e.high(), e.win_rate());
  EXPECT_TRUE(fs::exists(fs::path(dir) / "replays" / "e_m0.rpl"));
  fs::remove_all(dir);
}

// A game that reads actions every 60 ticks (Codewars) gets one sample per decision, not
// per tick: 600 ticks are at most 10 decisions per learner squad.
TEST(Trainer, OneSamplePerDecisionOfTheGame) {
  const auto dir = temp_dir("decisions");
  ConfigTree t = ConfigTree::from_string(R"(
env: codewars
game: {size: duel, max_ticks: 600, decision_ticks: 60, obs_grid: 4}
threads: 1
total_steps: 1
epochs: 1
minibatches: 1
network: {hidden: 16, layers: 1}
grpo: {groups: 2, group_size: 2, drop_degenerate: false}
opponents: {bots: "rush"}
eval: {every: 0, matches: 2, replays: 0, opponent: rush}
)",
                                         "test config");
  t.apply_override("run_dir=" + dir);
  auto tr = Trainer::create(bind_options<TrainConfig>(t));
  const UpdateStats s = tr->update();
  const int envs = 4, squads = 1, decisions = 600 / 60;
  EXPECT_GE(s.samples, envs * squads);
  EXPECT_LE(s.samples, envs * squads * decisions);
  const auto e = tr->evaluate(2, "rush", 0, "");
  EXPECT_EQ(e.wins + e.draws + e.losses, 2);
  fs::remove_all(dir);
}

// Env worker threads change where the games run, not what they produce (torch threads
// stay 1): the same run on 1 and 2 workers writes the same metrics. Each update says
// where its time went, and the parts add up to no more than the update's wall time.
TEST(Trainer, EnvWorkerThreadsLeaveTheRunUnchangedAndUpdatesSplitTheirTime) {
  std::vector<std::vector<std::string>> metrics;
  std::vector<std::shared_ptr<Trainer>> runs;
  for (int threads : {1, 2}) {
    const auto dir = temp_dir("threads" + std::to_string(threads));
    auto cfg = small_config(dir);
    cfg.threads = threads;
    cfg.torch_threads = 1;
    std::shared_ptr<Trainer> tr = Trainer::create(cfg);
    double elapsed = 0;
    tr->train([&](const UpdateStats& s) {
      EXPECT_GT(s.env_s, 0.0);
      EXPECT_GE(s.rollout_s, 0.0);
      EXPECT_GT(s.learn_s, 0.0);
      EXPECT_GT(s.optim_s, 0.0);
      EXPECT_LE(s.env_s + s.rollout_s + s.learn_s + s.optim_s, s.elapsed_s - elapsed + 1e-6);
      elapsed = s.elapsed_s;
      return s.update < 3;
    });
    metrics.push_back(metrics_without_timing(dir));
    runs.push_back(tr);
    fs::remove_all(dir);
  }
  ASSERT_EQ(metrics[0].size(), 4u);  // header and 3 updates
  EXPECT_EQ(metrics[0], metrics[1]);
  const auto p1 = runs[0]->policy()->named_parameters(), p2 = runs[1]->policy()->named_parameters();
  for (const auto& p : p1) EXPECT_TRUE(torch::equal(p.value(), *p2.find(p.key()))) << p.key() << " differs";
}

// overlap: the next update's games are played on a second thread (by the policy before
// this update) while the learner trains. Checkpoint updates do not overlap, so a run
// stopped at a checkpoint and resumed matches one that was never stopped; and the lag
// changes the run (it is not the serial trainer under another name).
TEST(Trainer, OverlapPlaysTheNextGamesBesideTheLearnerAndResumesExactly) {
  const auto overlap_config = [](const std::string& dir, bool overlap) {
    auto c = small_config(dir);
    c.overlap = overlap;
    c.checkpoint_every = 3;
    return c;
  };
  const auto dir_a = temp_dir("overlap_a"), dir_b = temp_dir("overlap_b"), dir_s = temp_dir("overlap_serial");
  auto a = Trainer::create(overlap_config(dir_a, true));
  a->train([](const UpdateStats& s) {
    EXPECT_GT(s.env_s, 0.0) << "update " << s.update;
    EXPECT_GT(s.learn_s, 0.0);
    EXPECT_GT(s.optim_s, 0.0);
    EXPECT_GT(s.sps, 0.0);
    return s.update < 7;
  });
  ASSERT_EQ(a->updates_done(), 7);
  auto b = Trainer::create(overlap_config(dir_b, true));
  b->train([](const UpdateStats& s) { return s.update < 3; });
  b.reset();
  auto c = Trainer::resume(dir_b);
  ASSERT_EQ(c->updates_done(), 3);
  c->train([](const UpdateStats& s) { return s.update < 7; });
  const auto pa = a->policy()->named_parameters(), pc = c->policy()->named_parameters();
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), *pc.find(p.key()))) << p.key() << " differs";
  EXPECT_EQ(metrics_without_timing(dir_a), metrics_without_timing(dir_b));
  auto s = Trainer::create(overlap_config(dir_s, false));
  s->train([](const UpdateStats& st) { return st.update < 7; });
  EXPECT_NE(metrics_without_timing(dir_a), metrics_without_timing(dir_s));
  for (const auto& d : {dir_a, dir_b, dir_s}) fs::remove_all(d);
}

// outcome_reward adds its win / draw / loss value to the learner's last decision of each
// finished game. The first update's games do not depend on it (the policy is the same), so
// its mean return moves by exactly the mean bonus of the outcomes.
TEST(Trainer, OutcomeRewardAddsTheResultsValueToEachFinishedGame) {
  std::vector<UpdateStats> first;
  for (bool bonus : {false, true}) {
    const auto dir = temp_dir(bonus ? "outcome_on" : "outcome_off");
    auto cfg = small_config(dir);
    cfg.opponents.enabled = false;
    if (bonus) cfg.outcome_reward = OutcomeRewardConfig{10.0, 3.0, -7.0};
    auto tr = Trainer::create(cfg);
    first.push_back(tr->update());
    fs::remove_all(dir);
  }
  const auto& s = first[0];
  EXPECT_EQ(s.train_win, first[1].train_win);
  EXPECT_EQ(s.train_draw, first[1].train_draw);
  EXPECT_GT(s.train_win + s.train_draw, 0.0);
  EXPECT_LT(s.train_win, 1.0);
  // Every game of 40 ticks finishes; one learner row per env (1v1).
  const double want = 10.0 * s.train_win + 3.0 * s.train_draw - 7.0 * (1.0 - s.train_win - s.train_draw);
  EXPECT_NEAR(first[1].mean_return - s.mean_return, want, 1e-4);
}

// eval.set plays the evaluation under other game options (a fast-mode run evaluated at
// the rules): the evaluation replays record those options and the full match length.
TEST(Trainer, EvalSetChangesTheGameForEvaluationOnly) {
  const auto dir = temp_dir("eval_set");
  ConfigTree t = ConfigTree::from_string(R"(
env: codeball
game: {team_size: 1, max_ticks: 40, microticks: 5, decision_ticks: 2, action_mode: discrete, observe_score_time: false}
hold_ticks: 4
threads: 1
total_steps: 1
epochs: 1
minibatches: 1
network: {hidden: 16, layers: 1}
grpo: {groups: 2, group_size: 2, baseline: step, gamma: 0.9, batch_scale: true}
opponents: {bots: "random"}
eval: {every: 0, matches: 2, replays: 1, opponent: random, set: "max_ticks=90 decision_ticks=1"}
)",
                                         "test config");
  t.apply_override("run_dir=" + dir);
  auto tr = Trainer::create(bind_options<TrainConfig>(t));
  const UpdateStats s = tr->update();
  EXPECT_EQ(tr->decision_every(), 4) << "lcm of the game's 2 and hold_ticks 4";
  EXPECT_LE(s.samples, 4 * 10) << "training decides every 4 of its 40 ticks";
  const auto ckpt = (fs::path(dir) / "c.pt").string();
  tr->save(ckpt);
  EXPECT_EQ(trained_decision_interval(load_checkpoint(ckpt).meta), 4) << "a policy agent keeps the rhythm";
  const auto e = tr->evaluate(2, "random", 1, (fs::path(dir) / "replays" / "e").string());
  EXPECT_EQ(e.wins + e.draws + e.losses, 2);
  ReplayReader r((fs::path(dir) / "replays" / "e_m0.rpl").string());
  EXPECT_THAT(r.header().env_options_yaml, HasSubstr("max_ticks: 90"));
  EXPECT_THAT(r.header().env_options_yaml, HasSubstr("decision_ticks: 1"));
  EXPECT_THAT(r.header().env_options_yaml, HasSubstr("microticks: 5"));
  EXPECT_EQ(r.result().ticks, 90);
  fs::remove_all(dir);
}

// A policy trained to decide every 3 ticks keeps that rhythm in a game that reads every
// tick: it samples at calls 0 and 3 and repeats its action in between.
TEST(PolicyAgentHold, DecidesEveryHoldTicksInAGameThatReadsEveryTick) {
  auto env = make_env("reach", ConfigTree::from_string("{team_size: 1}", "test"));
  const EnvSpec& spec = env->spec();
  ASSERT_EQ(spec.decision_interval, 1);
  PolicyNet net(spec.obs_dim(), spec.action_space, NetworkOptions{}, false);
  PolicyAgent agent(net, /*greedy=*/false, "test");
  agent.hold_ticks(3);
  agent.reset(*env, 0, 7);
  std::vector<float> obs(static_cast<size_t>(spec.num_agents * spec.obs_dim()), 0.1f);
  const auto dim = static_cast<size_t>(spec.action_dim());
  std::vector<std::vector<float>> rows;
  const std::vector<int> ids = spec.team_agents(0);
  for (int call = 0; call < 6; ++call) {
    std::vector<float> actions(static_cast<size_t>(spec.num_agents) * dim, 0.0f);
    agent.act(*env, obs.data(), ids, actions.data());
    rows.emplace_back(actions.begin() + static_cast<std::ptrdiff_t>(ids[0] * dim),
                      actions.begin() + static_cast<std::ptrdiff_t>((ids[0] + 1) * dim));
  }
  EXPECT_EQ(rows[0], rows[1]);
  EXPECT_EQ(rows[0], rows[2]);
  EXPECT_NE(rows[0], rows[3]) << "a new sample at the fourth call";
  EXPECT_EQ(rows[3], rows[5]);
}

TEST(Trainer, NonFiniteLossesStopTrainingWithAClearMessage) {
  const auto dir = temp_dir("nan");
  auto cfg = small_config(dir);
  cfg.max_bad_updates = 2;
  cfg.total_steps = 5000;  // a bound, should the failure go unnoticed
  auto t = Trainer::create(cfg);
  {
    // A weight gone bad (as after a diverged step): every loss is NaN from now on.
    torch::NoGradGuard no_grad;
    t->policy()->parameters().front().fill_(NAN);
  }
  try {
    t->train();
    FAIL() << "training with NaN weights did not stop";
  } catch (const TrainingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("non-finite"));
    EXPECT_THAT(e.what(), HasSubstr("2 consecutive updates"));
  }
  fs::remove_all(dir);
}

TEST(Trainer, UnknownGameOrBadConfigIsRefusedBeforeTraining) {
  ConfigTree t;
  t.apply_override("grpo.advantage=median");
  EXPECT_THROW(bind_options<TrainConfig>(t), ConfigError);
  auto cfg = small_config(temp_dir("unknown"));
  cfg.env = "no-such-game";
  EXPECT_THROW(Trainer::create(cfg), std::invalid_argument);
}

TEST(Trainer, CheckRoutesExactlyTheNetworksHiddenMatricesToMuonAndWritesNothing) {
  auto cfg = small_config(temp_dir("check"));
  cfg.network.layers = 3;
  const std::string muon = Trainer::check(cfg);
  EXPECT_THAT(muon, HasSubstr("reach: 8 envs of 2 agents"));
  const auto line_of = [](const std::string& table, const std::string& name) {
    const auto at = table.find(name + " ");
    return at == std::string::npos ? std::string() : table.substr(at, table.find('\n', at) - at);
  };
  for (const char* hidden : {"policy.2.weight", "policy.4.weight"})
    EXPECT_THAT(line_of(muon, hidden), HasSubstr("muon")) << muon;
  for (const char* edge : {"policy.0.weight", "policy.6.weight", "policy.2.bias"})
    EXPECT_THAT(line_of(muon, edge), HasSubstr("adamw")) << muon;
  cfg.optim.optimizer = OptimizerChoice::adamw;
  EXPECT_THAT(Trainer::check(cfg), ::testing::Not(HasSubstr("muon")));
  EXPECT_FALSE(fs::exists(cfg.run_dir));

  cfg.opponents.bots = "random,lazzy";
  try {
    Trainer::create(cfg);
    ADD_FAILURE() << "an unknown bot was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("opponents.bots: agent 'lazzy' is unknown"));
  }
  EXPECT_FALSE(fs::exists(cfg.run_dir));  // refused before the run directory is written
}

// Kickstarting: with a teacher, the loss gains -log pi(teacher action) on the learner's
// own samples, so the policy comes to pick the teacher's actions; the weight falls
// linearly with agent-steps and is zero (no teacher asked) after kickstart.steps.
TEST(Trainer, KickstartTeachesTheTeachersActionsAndFadesOut) {
  const auto dir = temp_dir("kickstart");
  auto cfg = small_config(dir);
  cfg.opponents.enabled = false;
  cfg.grpo.kl_coef = 0;
  cfg.entropy_coef = 0;
  cfg.kickstart.teacher = "greedy";
  cfg.kickstart.coef = 5.0;
  auto tr = Trainer::create(cfg);
  const UpdateStats first = tr->update();
  EXPECT_DOUBLE_EQ(first.kickstart, 5.0);
  EXPECT_NEAR(first.teacher_nll, std::log(9.0), 0.1) << "a fresh policy is near uniform over Reach's 9 actions";
  double late = 0;
  for (int u = 0; u < 60; ++u) {
    const UpdateStats s = tr->update();
    if (u >= 55) late += s.teacher_nll / 5;
  }
  EXPECT_LT(late, first.teacher_nll - 0.7) << "the imitation loss does not fall";
  fs::remove_all(dir);

  // Fading out: the weight after s samples is coef x (1 - s / steps), then 0.
  KickstartConfig k;
  k.teacher = "greedy", k.coef = 2.0, k.steps = 1000;
  EXPECT_DOUBLE_EQ(k.weight(0), 2.0);
  EXPECT_DOUBLE_EQ(k.weight(250), 1.5);
  EXPECT_DOUBLE_EQ(k.weight(5000), 0.0);
  const auto dir2 = temp_dir("kickstart_fade");
  auto cfg2 = small_config(dir2);
  cfg2.opponents.enabled = false;
  cfg2.kickstart = k;
  auto tr2 = Trainer::create(cfg2);
  const UpdateStats a = tr2->update();
  const UpdateStats b = tr2->update();
  EXPECT_DOUBLE_EQ(a.kickstart, 2.0);
  EXPECT_NEAR(b.kickstart, 2.0 * (1.0 - static_cast<double>(a.samples) / 1000.0), 1e-12);
  while (tr2->samples_done() < 1000) tr2->update();
  const UpdateStats done = tr2->update();
  EXPECT_EQ(done.kickstart, 0.0);
  EXPECT_EQ(done.teacher_nll, 0.0);
  fs::remove_all(dir2);

  cfg2.kickstart.teacher = "chaser";  // not a Reach agent
  try {
    Trainer::create(cfg2);
    ADD_FAILURE() << "a teacher that cannot play the game was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("kickstart.teacher"));
  }
}

// init_checkpoint starts a run from another run's weights and refuses a checkpoint of
// another network or game, naming the key.
TEST(Trainer, InitCheckpointStartsFromAnotherRunsWeightsAndRefusesMisfits) {
  const auto dir = temp_dir("init_src");
  auto cfg = small_config(dir);
  auto src = Trainer::create(cfg);
  src->update();
  const auto ckpt = (fs::path(dir) / "src.pt").string();
  src->save(ckpt);

  const auto dir2 = temp_dir("init_dst");
  auto cfg2 = small_config(dir2);
  cfg2.seed = 99;  // other initial weights, were it not for init_checkpoint
  cfg2.init_checkpoint = ckpt;
  auto dst = Trainer::create(cfg2);
  const auto want = src->policy()->named_parameters();
  for (const auto& p : dst->policy()->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), *want.find(p.key()))) << p.key();
  fs::remove_all(dir2);

  cfg2.network.hidden = 32;
  try {
    Trainer::create(cfg2);
    ADD_FAILURE() << "a checkpoint of another network was accepted";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("init_checkpoint: parameter"));
  }
  cfg2.network.hidden = 16;
  cfg2.init_checkpoint = (fs::path(dir) / "missing.pt").string();
  EXPECT_THROW(Trainer::create(cfg2), ConfigError);
  EXPECT_FALSE(fs::exists(dir2));
  fs::remove_all(dir);
}

// init_new_inputs: a 1v1 Codeball policy starts a 2v2 run whose observation adds a
// teammate slot and a second opponent slot. The input layers get zero weights for the new
// columns, so the wider policy acts exactly as the checkpoint's on the columns it knew.
TEST(Trainer, InitNewInputsWidensTheInputLayerWithZeroWeights) {
  const auto codeball = [](const std::string& dir, const std::string& game) {
    ConfigTree t =
        ConfigTree::from_string("game: {microticks: 5, max_ticks: 20, action_mode: discrete, " + game + "}" + R"(
env: codeball
threads: 1
algo: ppo
epochs: 1
minibatches: 1
network: {hidden: 16, layers: 2}
grpo: {groups: 2, group_size: 2}
opponents: {bots: random}
eval: {every: 0, matches: 2, replays: 0, opponent: random}
)",
                                "test config");
    t.apply_override("run_dir=" + dir);
    return bind_options<TrainConfig>(t);
  };
  const auto dir = temp_dir("widen_src");
  auto src = Trainer::create(codeball(dir, "team_size: 1"));
  const auto ckpt = (fs::path(dir) / "src.pt").string();
  src->save(ckpt);

  const auto dir2 = temp_dir("widen_dst");
  auto cfg = codeball(dir2, "team_size: 2, observe_teammates: 1, observe_opponents: 2");
  cfg.seed = 99;
  cfg.init_checkpoint = ckpt;
  cfg.init_new_inputs = "21-28, 37-44";
  auto dst = Trainer::create(cfg);
  {
    std::vector<int64_t> old_cols;
    for (int64_t c = 0; c < 57; ++c)
      if (!(c >= 21 && c <= 28) && !(c >= 37 && c <= 44)) old_cols.push_back(c);
    ASSERT_EQ(old_cols.size(), 41u);
    torch::manual_seed(5);
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({6, 57});
    const auto narrow = x.index_select(1, torch::tensor(old_cols, torch::kLong));
    EXPECT_TRUE(torch::allclose(dst->policy()->forward(x), src->policy()->forward(narrow), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(dst->policy()->value(x), src->policy()->value(narrow), 1e-5, 1e-6))
        << "the value head's input layer is widened too";
  }
  {
    // The new inputs now reach the policy once their weights move: one update gives them
    // a gradient.
    dst->update();
    torch::NoGradGuard no_grad;
    int widened = 0;
    for (const auto& p : dst->policy()->named_parameters())
      if (p.value().dim() == 2 && p.value().size(1) == 57) {
        ++widened;
        EXPECT_GT(p.value().narrow(1, 21, 8).abs().sum().item<double>(), 0) << p.key() << ": teammate columns";
      }
    EXPECT_EQ(widened, 2) << "the policy's and the value head's input layers";
  }
  fs::remove_all(dir2);

  // Misfits are refused, naming the key.
  const std::pair<const char*, const char*> bad[] = {
      {"21-28", "init_checkpoint"},         // 49 known columns, the checkpoint has 41
      {"21-28,37-60", "init_new_inputs"},   // past the observation's end
      {"21-28,37-x", "init_new_inputs"},    // not a number
      {"21-28,28-35", "init_new_inputs"}};  // a column twice
  for (const auto& [text, key] : bad) {
    cfg.init_new_inputs = text;
    try {
      Trainer::create(cfg);
      ADD_FAILURE() << "init_new_inputs '" << text << "' was accepted";
    } catch (const ConfigError& e) {
      EXPECT_THAT(e.what(), HasSubstr(key)) << text;
    }
  }
  cfg.init_new_inputs = "21-28,37-44";
  cfg.init_checkpoint.clear();
  EXPECT_THROW(Trainer::create(cfg), ConfigError) << "init_new_inputs without init_checkpoint";
  fs::remove_all(dir2);
  fs::remove_all(dir);
}

// grpo.seat_baseline: in a team game each seat of a group is a baseline group of its own.
TEST(Trainer, SeatBaselineGivesEachSeatOfAGroupItsOwnBaseline) {
  const auto dir = temp_dir("seats");
  auto cfg = small_config(dir);
  cfg.opponents.enabled = false;
  ConfigTree g = ConfigTree::from_string("{team_size: 2, max_ticks: 40, target_score: 2, approach_reward: 0.1}", "g");
  cfg.game = g;
  for (const bool per_seat : {false, true}) {
    cfg.grpo.seat_baseline = per_seat;
    auto t = Trainer::create(cfg);
    const auto rows = t->learner_rows();
    const auto groups = t->baseline_groups();
    ASSERT_EQ(rows.size(), 2u * 4 * 2);  // groups x games x seats
    ASSERT_EQ(groups.size(), rows.size());
    for (size_t r = 0; r < rows.size(); ++r) {
      const int64_t group = static_cast<int64_t>(r) / 8, seat = static_cast<int64_t>(r) % 2;
      const int64_t env = static_cast<int64_t>(r) / 2, side = group % 2;
      EXPECT_EQ(rows[r], env * 4 + side * 2 + seat) << "row " << r;
      EXPECT_EQ(groups[r], per_seat ? group * 2 + seat : group) << "row " << r;
    }
    const auto st = t->update();
    EXPECT_TRUE(std::isfinite(st.loss));
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace ludus::rl
