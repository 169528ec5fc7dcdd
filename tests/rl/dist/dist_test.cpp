// Multi-process training over loopback: launcher variables, ranks in lockstep, the same
// step as one process on the same total batch, resume, and failing ranks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "ludus/rl/dist.hpp"

extern char** environ;

namespace ludus::rl::dist {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// ---- launcher variables ---------------------------------------------------------------

LaunchEnv parse(const std::map<std::string, std::string>& vars) {
  return parse_launch_env([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string parse_error(const std::map<std::string, std::string>& vars) {
  try {
    parse(vars);
  } catch (const DistError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(LaunchEnv, NoVariablesMeanOneProcess) {
  const auto e = parse({});
  EXPECT_EQ(e.world_size, 1);
  EXPECT_EQ(e.rank, 0);
}

TEST(LaunchEnv, ReadsWhatTorchrunSets) {
  const auto e = parse({{"RANK", "3"},
                        {"WORLD_SIZE", "4"},
                        {"LOCAL_RANK", "1"},
                        {"MASTER_ADDR", "10.0.0.7"},
                        {"MASTER_PORT", "29511"},
                        {"TORCHELASTIC_USE_AGENT_STORE", "True"}});
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29511);
  EXPECT_TRUE(e.agent_store);
}

TEST(LaunchEnv, MalformedVariablesAreNamed) {
  const std::map<std::string, std::string> ok = {
      {"RANK", "1"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&](const std::string& k, const std::string& v) {
    auto m = ok;
    m[k] = v;
    return m;
  };
  auto without = [&](const std::string& k) {
    auto m = ok;
    m.erase(k);
    return m;
  };
  EXPECT_THAT(parse_error(with("RANK", "2")), HasSubstr("RANK='2': expected 0 to 1 (WORLD_SIZE=2)"));
  EXPECT_THAT(parse_error(with("RANK", "one")), HasSubstr("RANK='one'"));
  EXPECT_THAT(parse_error(with("RANK", "-1")), HasSubstr("RANK='-1'"));
  EXPECT_THAT(parse_error(with("WORLD_SIZE", "0")), HasSubstr("WORLD_SIZE='0'"));
  EXPECT_THAT(parse_error(with("WORLD_SIZE", "2x")), HasSubstr("WORLD_SIZE='2x'"));
  EXPECT_THAT(parse_error(with("MASTER_PORT", "70000")), HasSubstr("MASTER_PORT='70000'"));
  EXPECT_THAT(parse_error(with("MASTER_PORT", "")), HasSubstr("MASTER_PORT=''"));
  EXPECT_THAT(parse_error(with("LOCAL_RANK", "x")), HasSubstr("LOCAL_RANK='x'"));
  EXPECT_THAT(parse_error(with("MASTER_ADDR", "")), HasSubstr("MASTER_ADDR is empty"));
  EXPECT_THAT(parse_error(without("RANK")), HasSubstr("RANK is not set"));
  EXPECT_THAT(parse_error(without("MASTER_ADDR")), HasSubstr("MASTER_ADDR is not set"));
  EXPECT_THAT(parse_error(without("MASTER_PORT")), HasSubstr("MASTER_PORT is not set"));
  EXPECT_THAT(parse_error({{"RANK", "1"}}), HasSubstr("RANK='1' is set but WORLD_SIZE is not"));
}

// ---- ranks as processes ------------------------------------------------------------------

#ifdef LUDUS_HAVE_DIST

std::string temp_dir(const std::string& name) {
  const auto d = fs::temp_directory_path() / fmt::format("ludus_dist_test_{}_{}", name, ::getpid());
  fs::remove_all(d);
  fs::create_directories(d);
  return d.string();
}

// A port the kernel just handed out (and took back): where rank 0 hosts the store.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    ADD_FAILURE() << "cannot bind a loopback port";
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Rank {
  pid_t pid = -1;
  std::string log;  // stdout and stderr
};

// Starts `world` workers (rank 0 hosts the store) with the given arguments.
std::vector<Rank> start_ranks(int world, const std::vector<std::string>& args, const std::string& dir) {
  const int port = free_port();
  std::vector<Rank> ranks(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r) {
    auto& rk = ranks[static_cast<size_t>(r)];
    rk.log = fmt::format("{}/rank{}_{}.log", dir, r, port);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    if (world > 1) {
      env.push_back(fmt::format("RANK={}", r));
      env.push_back(fmt::format("WORLD_SIZE={}", world));
      env.push_back("MASTER_ADDR=127.0.0.1");
      env.push_back(fmt::format("MASTER_PORT={}", port));
    }
    std::vector<std::string> argv = {LUDUS_DIST_WORKER};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv, cenv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    for (auto& kv : env) cenv.push_back(kv.data());
    cenv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, rk.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    EXPECT_EQ(posix_spawn(&rk.pid, cargv[0], &fa, nullptr, cargv.data(), cenv.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
  }
  return ranks;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits up to `limit_s` for the rank; returns its wait status, or -1 after killing it.
int wait_rank(Rank& r, double limit_s) {
  const auto t0 = Clock::now();
  for (;;) {
    int status = 0;
    if (::waitpid(r.pid, &status, WNOHANG) == r.pid) return status;
    if (std::chrono::duration<double>(Clock::now() - t0).count() > limit_s) {
      ::kill(r.pid, SIGKILL);
      ::waitpid(r.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Runs a job to the end; every rank must succeed.
void run_job(int world, const std::vector<std::string>& args, const std::string& dir) {
  auto ranks = start_ranks(world, args, dir);
  for (auto& r : ranks) {
    const int status = wait_rank(r, 120);
    EXPECT_TRUE(status == 0) << "a rank failed (status " << status << "):\n" << read_file(r.log);
  }
}

std::vector<torch::Tensor> load_params(const std::string& path) {
  std::vector<torch::Tensor> v;
  torch::load(v, path);
  return v;
}

void expect_identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                      const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << what << ": parameter " << i << " differs";
}

TEST(Dist, TwoRanksTakeTheStepOneProcessTakesOnTheWholeBatch) {
  const auto dir = temp_dir("step");
  run_job(2, {"step", "-", "6", "20", dir + "/two"}, dir);
  run_job(1, {"step", "-", "6", "20", dir + "/one"}, dir);
  run_job(1, {"step", "-", "0", "20", dir + "/init"}, dir);
  const auto r0 = load_params(dir + "/two_rank0.pt"), r1 = load_params(dir + "/two_rank1.pt");
  const auto one = load_params(dir + "/one_rank0.pt"), init = load_params(dir + "/init_rank0.pt");
  expect_identical(r0, r1, "rank 0 vs rank 1");
  ASSERT_EQ(r0.size(), one.size());
  double moved = 0;
  for (size_t i = 0; i < r0.size(); ++i) {
    EXPECT_TRUE(torch::allclose(r0[i], one[i], /*rtol=*/1e-4, /*atol=*/1e-5))
        << "parameter " << i << ": max difference " << (r0[i] - one[i]).abs().max().item<double>();
    moved += (one[i] - init[i]).abs().max().item<double>();
  }
  EXPECT_GT(moved, 1e-3) << "the steps changed the parameters";
  fs::remove_all(dir);
}

TEST(Dist, TwoRanksTrainInLockstepAndOnlyRankZeroWrites) {
  const auto dir = temp_dir("lockstep");
  const auto run = dir + "/run";
  run_job(2, {"train", run, "3", "20", dir + "/p"}, dir);
  expect_identical(load_params(dir + "/p_rank0.pt"), load_params(dir + "/p_rank1.pt"), "rank 0 vs rank 1");
  std::ifstream metrics(run + "/metrics.csv");
  int rows = 0;
  for (std::string line; std::getline(metrics, line);) ++rows;
  EXPECT_EQ(rows, 1 + 3) << "one metrics row per update, from rank 0 alone";
  EXPECT_TRUE(fs::exists(run + "/checkpoints/ckpt_0000003.pt"));
  EXPECT_TRUE(fs::exists(run + "/pool/snap_0000003.pt"));
  fs::remove_all(dir);
}

// The evaluation columns (win, draw, loss, low, high) of metrics.csv at `update`.
std::vector<std::string> eval_columns(const std::string& run, int update) {
  std::ifstream in(run + "/metrics.csv");
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) f.push_back(c);
    while (f.size() < 19) f.emplace_back();  // trailing empty columns
    if (f[0] == std::to_string(update)) return {f.end() - 5, f.end()};
  }
  return {};
}

TEST(Dist, TwoRanksPlayingTheSameGamesTrainExactlyLikeOneProcess) {
  // Both ranks sample rank 0's games: the job's batch is one process's batch twice, whose
  // mean loss and gradients are one process's, so every step must match it bit for bit.
  const auto dir = temp_dir("same");
  run_job(2, {"train", dir + "/two", "3", "20", dir + "/two", "dist.same_games=true", "eval.every=2"}, dir);
  run_job(1, {"train", dir + "/one", "3", "20", dir + "/one", "eval.every=2"}, dir);
  const auto two = load_params(dir + "/two_rank0.pt");
  expect_identical(two, load_params(dir + "/two_rank1.pt"), "rank 0 vs rank 1");
  expect_identical(two, load_params(dir + "/one_rank0.pt"), "2 ranks on the same games vs 1 process");
  // Evaluation split over the ranks counts the same matches one process plays.
  const auto e2 = eval_columns(dir + "/two", 2), e1 = eval_columns(dir + "/one", 2);
  ASSERT_EQ(e1.size(), 5u);
  EXPECT_FALSE(e1[0].empty()) << "update 2 was evaluated";
  EXPECT_EQ(e2, e1);
  fs::remove_all(dir);
}

TEST(Dist, ResumeIsExactWithTheSameWorldSizeAndWorksWithAnother) {
  const auto dir = temp_dir("resume");
  run_job(2, {"train", dir + "/a", "4", "20", dir + "/a"}, dir);
  run_job(2, {"train", dir + "/b", "2", "20", dir + "/b2"}, dir);
  run_job(2, {"resume", dir + "/b", "4", "20", dir + "/b"}, dir);
  expect_identical(load_params(dir + "/a_rank0.pt"), load_params(dir + "/b_rank0.pt"), "straight vs resumed");
  expect_identical(load_params(dir + "/b_rank0.pt"), load_params(dir + "/b_rank1.pt"), "resumed rank 0 vs rank 1");
  // The same checkpoint continues in one process and in three.
  run_job(1, {"resume", dir + "/b", "5", "20", dir + "/c"}, dir);
  run_job(3, {"resume", dir + "/a", "5", "20", dir + "/d"}, dir);
  expect_identical(load_params(dir + "/d_rank0.pt"), load_params(dir + "/d_rank2.pt"), "3 ranks after resume");
  for (const auto& t : load_params(dir + "/c_rank0.pt")) EXPECT_TRUE(torch::isfinite(t).all().item<bool>());
  fs::remove_all(dir);
}

// Starts a long job, waits until it trains, then does `harm` to rank `victim`; the other
// rank must fail within the timeout (plus the diagnosis) and name the victim.
void expect_failure_named(int victim, int harm_signal) {
  const double timeout_s = 3;
  const auto dir = temp_dir(fmt::format("harm{}_{}", victim, harm_signal));
  auto ranks = start_ranks(2, {"train", dir + "/run", "100000", fmt::format("{}", timeout_s), dir + "/p"}, dir);
  const auto t_start = Clock::now();
  // Trained a few updates: rank 0 has written metrics rows.
  for (;;) {
    std::ifstream m(dir + "/run/metrics.csv");
    int rows = 0;
    for (std::string line; std::getline(m, line);) ++rows;
    if (rows >= 3) break;
    ASSERT_LT(std::chrono::duration<double>(Clock::now() - t_start).count(), 60) << read_file(ranks[0].log);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto& v = ranks[static_cast<size_t>(victim)];
  auto& other = ranks[static_cast<size_t>(1 - victim)];
  ::kill(v.pid, harm_signal);
  const auto t_harm = Clock::now();
  const int status = wait_rank(other, timeout_s + 40);
  const double took = std::chrono::duration<double>(Clock::now() - t_harm).count();
  ::kill(v.pid, SIGKILL);
  int ignored = 0;
  ::waitpid(v.pid, &ignored, 0);
  const std::string log = read_file(other.log);
  ASSERT_NE(status, -1) << "the surviving rank hung:\n" << log;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << log;
  // The timeout, then about 1 s to name the rank on an idle machine; the slack keeps a
  // loaded machine (ctest -j, other work) from failing it, and stays far below the 60 s
  // default timeout the rank would wait were dist.timeout_s ignored.
  EXPECT_LT(took, timeout_s + 15) << log;
  EXPECT_THAT(log, HasSubstr(fmt::format("rank {}: ", 1 - victim)));
  EXPECT_THAT(log, HasSubstr(fmt::format("lost contact with rank {}", victim)));
  fs::remove_all(dir);
}

TEST(Dist, AKilledRankFailsTheOtherWithinTheTimeout) { expect_failure_named(1, SIGKILL); }
TEST(Dist, AStoppedRankFailsTheOtherWithinTheTimeout) { expect_failure_named(1, SIGSTOP); }
TEST(Dist, LosingRankZeroAndItsStoreFailsTheOther) { expect_failure_named(0, SIGKILL); }

TEST(Dist, ARankThatFailsIsQuotedByTheOthers) {
  const auto dir = temp_dir("quoted");
  fs::create_directories(dir + "/run");
  std::ofstream(dir + "/run/config.yaml") << "env: reach\n";  // rank 0 refuses to overwrite a run
  auto ranks = start_ranks(2, {"train", dir + "/run", "2", "10", dir + "/p"}, dir);
  const int s0 = wait_rank(ranks[0], 30), s1 = wait_rank(ranks[1], 30);
  EXPECT_NE(s0, 0);
  EXPECT_NE(s1, 0);
  EXPECT_THAT(read_file(ranks[1].log), HasSubstr("rank 0: " + dir + "/run already holds a run"));
  fs::remove_all(dir);
}

TEST(Dist, AnErrorInRankZeroMidTrainingIsQuotedByTheOthers) {
  // Rank 0 hosts the store: it must stay up long enough for rank 1 to read why it stops.
  const auto dir = temp_dir("midfail");
  auto ranks = start_ranks(2, {"train", dir + "/run", "100", "20", dir + "/p", "fail=0:2"}, dir);
  const auto t0 = Clock::now();
  const int s0 = wait_rank(ranks[0], 60), s1 = wait_rank(ranks[1], 60);
  const double took = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(s0) && WEXITSTATUS(s0) == 1) << read_file(ranks[0].log);
  const auto log1 = read_file(ranks[1].log);
  EXPECT_TRUE(WIFEXITED(s1) && WEXITSTATUS(s1) == 1) << log1;
  EXPECT_THAT(log1, HasSubstr("rank 0 failed: injected failure after update 2"));
  EXPECT_LT(took, 20) << "rank 1 learnt of the failure before its timeout (20 s)";
  fs::remove_all(dir);
}

#endif

}  // namespace
}  // namespace ludus::rl::dist
