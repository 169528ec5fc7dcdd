// The `ludus` Python module: games as Gymnasium-shaped vector and single envs whose
// numpy arrays view ludus's own buffers, scripted bots (or a checkpoint) as opponents,
// snapshots, replays, plugins and the game list. The GIL is released while stepping.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ludus/engine/agent.hpp"
#include "ludus/engine/bytes.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/frame.hpp"
#include "ludus/engine/plugin.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/engine/vec_env.hpp"
#include "ludus/engine/version.hpp"
#ifdef LUDUS_PY_VIZ
#include <SDL.h>

#include "ludus/viz/viewer.hpp"
#endif

namespace py = pybind11;

namespace ludus::python {
namespace {

// Keyword arguments as game options: each becomes a `key=value` override, so a bad name
// or value is refused by the game's own option checks (ConfigError -> ValueError).
ConfigTree options_from(const py::kwargs& kw) {
  ConfigTree tree;
  for (const auto& [k, v] : kw) {
    const std::string key = py::str(k);
    std::string value;
    if (py::isinstance<py::bool_>(v))
      value = v.cast<bool>() ? "true" : "false";
    else if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v) || py::isinstance<py::str>(v))
      value = py::str(v);
    else
      throw py::type_error("game option '" + key + "': expected a bool, int, float or str, got " +
                           std::string(py::str(py::type::of(v).attr("__name__"))));
    tree.apply_override(key + "=" + value);
  }
  return tree;
}

// An observation or action space, described with plain attributes that map one-to-one
// onto gymnasium.spaces (Box, Discrete, MultiDiscrete): see ludus/__init__.py.
struct Space {
  std::string kind;  // "box", "discrete", "multi_discrete"
  std::vector<int64_t> shape;
  std::string dtype;
  std::optional<std::vector<float>> low, high;
  std::optional<int64_t> n;
  std::optional<std::vector<int64_t>> nvec;

  std::string repr() const {
    std::ostringstream os;
    os << "ludus.Space(" << kind << ", shape=(";
    for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
    os << (shape.size() == 1 ? ",)" : ")") << ", dtype=" << dtype;
    if (n) os << ", n=" << *n;
    os << ")";
    return os.str();
  }
};

Space observation_space(const EnvSpec& s) {
  Space sp;
  sp.kind = "box";
  sp.shape = s.obs_shape;
  sp.dtype = "float32";
  return sp;  // unbounded: low/high None (gymnasium: -inf..inf)
}

Space action_space(const EnvSpec& s) {
  Space sp;
  const auto& a = s.action_space;
  switch (a.kind) {
    case SpaceKind::discrete:
      sp.kind = "discrete";
      sp.n = a.nvec.at(0);
      sp.dtype = "int64";
      break;
    case SpaceKind::multi_discrete:
      sp.kind = "multi_discrete";
      sp.shape = {static_cast<int64_t>(a.nvec.size())};
      sp.nvec = std::vector<int64_t>(a.nvec.begin(), a.nvec.end());
      sp.dtype = "int64";
      break;
    case SpaceKind::box:
      sp.kind = "box";
      sp.shape = {static_cast<int64_t>(a.low.size())};
      sp.low = a.low;
      sp.high = a.high;
      sp.dtype = "float32";
      break;
  }
  return sp;
}

// A view of `n` contiguous-or-strided floats owned by `owner` (no copy).
template <class T>
py::array view(const T* data, std::vector<py::ssize_t> shape, std::vector<py::ssize_t> strides_elems,
               const py::object& owner) {
  std::vector<py::ssize_t> strides;
  for (auto s : strides_elems) strides.push_back(s * static_cast<py::ssize_t>(sizeof(T)));
  return py::array(py::dtype::of<T>(), shape, strides, data, owner);
}

std::string shape_text(const std::vector<py::ssize_t>& s) {
  std::string t = "(";
  for (size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + (s.size() == 1 ? ",)" : ")");
}

// The memory the arrays handed to Python view: the VecEnv's buffers and the module's own.
// Every array keeps it alive through a capsule (not through the VectorEnv object), so an
// array may outlive its VectorEnv, and the VectorEnv keeps its views from one step to the
// next without a reference cycle.
struct Buffers {
  std::unique_ptr<VecEnv> vec;
  std::vector<float> obs_copy, final_copy, rew_copy;  // learner rows, when not one block per env
  std::vector<uint8_t> term, trunc, ended;            // bool-sized, viewed as numpy bool
  std::vector<int32_t> winner;                        // per env: winner of the episode that just ended
};

// N envs of one game stepped together (ludus::VecEnv). With an opponent, the learner
// controls one team (its agents' rows only); the opponent's agent acts for the other.
// step() and reset() return the same array objects every call (views whose contents the
// next call overwrites), so a call allocates no arrays.
class VectorEnv {
 public:
  VectorEnv(const std::string& game, int num_envs, int threads, uint64_t seed, const std::string& opponent,
            int learner_team, bool until_decision, const py::kwargs& kw)
      : game_(game), seed_(seed), until_decision_(until_decision) {
    if (num_envs < 1) throw py::value_error("num_envs must be at least 1, got " + std::to_string(num_envs));
    if (threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(threads));
    const ConfigTree options = options_from(kw);
    const EnvEntry& entry = EnvRegistry::global().get(game);
    std::vector<std::unique_ptr<Env>> envs;
    for (int i = 0; i < num_envs; ++i) envs.push_back(entry.create(options));
    options_yaml_ = entry.effective_options(options, false);
    buf_->vec = std::make_unique<VecEnv>(std::move(envs), threads);
    vec_ = buf_->vec.get();
    const EnvSpec& s = vec_->spec();
    if (opponent.empty()) {
      for (int a = 0; a < s.num_agents; ++a) learners_.push_back(a);
    } else {
      if (learner_team < 0 || learner_team >= s.num_teams)
        throw py::value_error("learner_team must be in [0, " + std::to_string(s.num_teams) + "), got " +
                              std::to_string(learner_team));
      if (s.num_teams != 2)
        throw py::value_error("an opponent needs a two-team game; '" + game + "' has " + std::to_string(s.num_teams) +
                              " teams");
      learners_ = s.team_agents(learner_team);
      opponent_ = opponent;
      opp_team_ = 1 - learner_team;
      opp_ids_ = s.team_agents(opp_team_);
      for (int e = 0; e < num_envs; ++e) opponents_.push_back(make_agent(opponent, game));
    }
    // Learner rows are viewed in place when they are one contiguous block per env.
    contiguous_ = true;
    for (size_t i = 1; i < learners_.size(); ++i) contiguous_ = contiguous_ && learners_[i] == learners_[i - 1] + 1;
    if (!contiguous_) {
      buf_->obs_copy.resize(static_cast<size_t>(num_envs) * learners_.size() * static_cast<size_t>(s.obs_dim()));
      buf_->final_copy.resize(buf_->obs_copy.size());
      buf_->rew_copy.resize(static_cast<size_t>(num_envs) * learners_.size());
    }
    const auto n = static_cast<size_t>(num_envs);
    buf_->term.resize(n);
    buf_->trunc.resize(n);
    buf_->ended.resize(n);
    buf_->winner.resize(n);
    make_views();
  }

  int num_envs() const { return vec_->num_envs(); }
  int num_agents() const { return static_cast<int>(learners_.size()); }
  int64_t env_ticks() const { return env_ticks_; }
  std::vector<int> agent_teams() const {
    std::vector<int> t;
    for (int a : learners_) t.push_back(spec().agent_team[static_cast<size_t>(a)]);
    return t;
  }
  const EnvSpec& spec() const { return vec_->spec(); }
  const std::string& options_yaml() const { return options_yaml_; }

  py::tuple reset(std::optional<uint64_t> seed) {
    if (seed) seed_ = *seed;
    {
      py::gil_scoped_release nogil;
      vec_->reset(seed_);
      reset_opponents_all();
      gather();
    }
    py::dict info;
    return py::make_tuple(obs_, info);
  }

  py::tuple step(const py::array& actions_in) {
    const EnvSpec& s = spec();
    const auto N = static_cast<py::ssize_t>(num_envs()), A = static_cast<py::ssize_t>(learners_.size());
    const py::ssize_t AD = s.action_dim();
    std::vector<py::ssize_t> want{N, A};
    if (s.action_space.kind != SpaceKind::discrete) want.push_back(AD);
    auto acts = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(actions_in);
    if (!acts) throw py::value_error("actions must be a numeric array of shape " + shape_text(want));
    std::vector<py::ssize_t> got(acts.shape(), acts.shape() + acts.ndim());
    // A discrete game also takes [N, A, 1].
    const bool ok =
        got == want || (s.action_space.kind == SpaceKind::discrete && got == std::vector<py::ssize_t>{N, A, 1});
    if (!ok)
      throw py::value_error("actions must have shape " + shape_text(want) + " (num_envs, agents" +
                            std::string(s.action_space.kind == SpaceKind::discrete ? "" : ", action_dim") + "), got " +
                            shape_text(got));
    const float* a = acts.data();
    for (py::ssize_t i = 0; i < N * A; ++i)
      if (!s.action_space.contains(a + i * AD)) {
        std::ostringstream os;
        os << "action of env " << i / A << ", agent " << learners_[static_cast<size_t>(i % A)] << " is not in "
           << s.action_space.describe();
        throw py::value_error(os.str());
      }
    {
      py::gil_scoped_release nogil;
      float* dst = vec_->actions();
      const auto total = static_cast<py::ssize_t>(s.num_agents);
      for (py::ssize_t e = 0; e < N; ++e)
        for (py::ssize_t k = 0; k < A; ++k)
          std::copy_n(a + (e * A + k) * AD, AD, dst + (e * total + learners_[static_cast<size_t>(k)]) * AD);
      // The opponent acts, and (to the next decision) the recorder draws, on the env's own
      // worker thread before each tick; with until_decision every tick up to the next
      // decision is played in one pass of the pool, otherwise one tick.
      const VecEnv::BeforeTick before_tick = [&](int i, int t, float* row) {
        if (t > 0)
          if (auto it = recorders_.find(i); it != recorders_.end()) {
            Frame frame;
            vec_->env(i).draw(frame);
            it->second->add(frame);
          }
        if (!opponents_.empty())
          opponents_[static_cast<size_t>(i)]->act(
              vec_->env(i), vec_->obs() + static_cast<int64_t>(i) * total * s.obs_dim(), opp_ids_, row);
      };
      const VecEnv::BeforeTick none;
      const auto& hook = !opponents_.empty() || (until_decision_ && !recorders_.empty()) ? before_tick : none;
      env_ticks_ += until_decision_ ? vec_->step_to_decision(hook) : vec_->step_ticks(1, hook);
      for (auto it = recorders_.begin(); it != recorders_.end();) {
        const int e = it->first;
        if (vec_->terminated()[e] || vec_->truncated()[e]) {
          it->second->finish(vec_->finished_result(e));
          it = recorders_.erase(it);
        } else {
          record_frame(e, *it->second);
          ++it;
        }
      }
      auto& b = *buf_;
      for (size_t e = 0; e < b.term.size(); ++e) {
        b.term[e] = vec_->terminated()[e] != 0;
        b.trunc[e] = vec_->truncated()[e] != 0;
        b.ended[e] = b.term[e] || b.trunc[e];
        // The winning team of each episode that ended in this step (-1: a draw; other envs 0).
        b.winner[e] = b.ended[e] ? vec_->finished_result(static_cast<int>(e)).winner : 0;
        if (b.ended[e] && !opponents_.empty())
          opponents_[e]->reset(vec_->env(static_cast<int>(e)), opp_team_,
                               seed_ + 7919 * (static_cast<uint64_t>(vec_->episodes(static_cast<int>(e))) + e));
      }
      gather();
    }
    py::dict info;
    info["final_obs"] = final_obs_;
    info["_final_obs"] = ended_;
    info["winner"] = winner_;
    return py::make_tuple(obs_, rewards_, term_, trunc_, info);
  }

  // Env i's current state as pixels: [height, width, 3] uint8 RGB, drawn by the
  // visualizer's renderer (the same picture as `ludus viz`, without a window).
  py::array render(int i, int width, int height, bool hud) {
    check_env(i);
    if (width < 32 || height < 32 || width > 8192 || height > 8192) throw py::value_error(fmt_size(width, height));
#ifdef LUDUS_PY_VIZ
    Frame frame;
    vec_->env(i).draw(frame);
    if (!canvas_ || canvas_->width() != width || canvas_->height() != height)
      canvas_ = std::make_unique<viz::Canvas>(width, height);
    viz::Camera camera;
    viz::HudInfo info;
    info.tick_rate_hz = spec().tick_rate_hz;
    for (int t = 0; t < spec().num_teams; ++t)
      info.team_names.push_back(!opponents_.empty() && t == opp_team_ ? opponent_ : "team " + std::to_string(t));
    canvas_->render(frame, camera, hud ? &info : nullptr);
    const SDL_Surface* surf = canvas_->surface();
    py::array_t<uint8_t> out({height, width, 3});
    auto px = out.mutable_unchecked<3>();
    for (int y = 0; y < height; ++y) {
      const auto* row =
          static_cast<const uint8_t*>(surf->pixels) + static_cast<size_t>(y) * static_cast<size_t>(surf->pitch);
      for (int x = 0; x < width; ++x)
        for (int c = 0; c < 3; ++c) px(y, x, c) = row[4 * x + c];  // RGBA32: bytes R, G, B, A
    }
    return out;
#else
    (void)hud;
    throw std::runtime_error(
        "render: this ludus was built without the visualizer (SDL2: libsdl2-dev, libsdl2-ttf-dev, "
        "libsdl2-image-dev, libstb-dev)");
#endif
  }

  // Records env i into a replay from its current state on: one frame per step, finished
  // (with the match result) when its episode ends or on stop_replay. The frame of an
  // episode's very last tick is not in it (the env has reset by the time it could be drawn).
  void start_replay(int i, const std::string& path, std::vector<std::string> agents) {
    check_env(i);
    const EnvSpec& s = spec();
    ReplayHeader h;
    h.env_name = game_;
    h.env_options_yaml = options_yaml_;
    h.seed = seed_;
    if (agents.empty())
      for (int t = 0; t < s.num_teams; ++t)
        agents.push_back(!opponents_.empty() && t == opp_team_ ? opponent_ : "python");
    if (static_cast<int>(agents.size()) != s.num_teams)
      throw py::value_error("agents: one name per team (" + std::to_string(s.num_teams) + "), got " +
                            std::to_string(agents.size()));
    h.agents = std::move(agents);
    h.ludus_version = version();
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    h.created_utc = buf;
    h.tick_rate_hz = s.tick_rate_hz;
    auto w = std::make_unique<ReplayWriter>(path, h);
    record_frame(i, *w);
    recorders_[i] = std::move(w);
  }

  // Finishes env i's replay now (result so far); returns its path, or None if none ran.
  std::optional<std::string> stop_replay(int i) {
    auto it = recorders_.find(i);
    if (it == recorders_.end()) return std::nullopt;
    it->second->finish(vec_->env(i).result());
    std::string path = it->second->path();
    recorders_.erase(it);
    return path;
  }

  py::bytes save_state(int i) {
    check_env(i);
    std::vector<uint8_t> out;
    vec_->env(i).save_state(out);
    return {reinterpret_cast<const char*>(out.data()), out.size()};
  }

  void load_state(int i, const py::bytes& b) {
    check_env(i);
    const std::string s = b;
    vec_->env(i).load_state(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    vec_->observe(i);
    gather();
  }

  // The arrays step() and reset() hand out, made once: views of buf_ owned by owner_.
  void make_views() {
    owner_ = py::capsule(new std::shared_ptr<Buffers>(buf_),
                         [](void* p) { delete static_cast<std::shared_ptr<Buffers>*>(p); });
    const auto N = static_cast<py::ssize_t>(num_envs()), A = static_cast<py::ssize_t>(learners_.size());
    obs_ = rows_view(vec_->obs(), buf_->obs_copy.data());
    final_obs_ = rows_view(vec_->final_obs(), buf_->final_copy.data());  // same layout as obs
    rewards_ = contiguous_ ? view(vec_->rewards() + learners_.front(), {N, A}, {spec().num_agents, 1}, owner_)
                           : view(buf_->rew_copy.data(), {N, A}, {A, 1}, owner_);
    const auto flags = [&](const std::vector<uint8_t>& v) {
      return view(reinterpret_cast<const bool*>(v.data()), {N}, {1}, owner_);
    };
    term_ = flags(buf_->term);
    trunc_ = flags(buf_->trunc);
    ended_ = flags(buf_->ended);
    winner_ = view(buf_->winner.data(), {N}, {1}, owner_);
  }

  std::string repr() const {
    return "ludus.VectorEnv('" + game_ + "', num_envs=" + std::to_string(num_envs()) +
           ", agents=" + std::to_string(num_agents()) + ", threads=" + std::to_string(vec_->num_threads()) + ")";
  }

 private:
  void check_env(int i) const {
    if (i < 0 || i >= num_envs())
      throw py::index_error("env index " + std::to_string(i) + " out of range [0, " + std::to_string(num_envs()) + ")");
  }

  void record_frame(int i, ReplayWriter& w) {
    frame_.clear();
    vec_->env(i).draw(frame_);
    w.add(frame_);
  }

  void reset_opponents_all() {
    for (size_t e = 0; e < opponents_.size(); ++e)
      opponents_[e]->reset(vec_->env(static_cast<int>(e)), opp_team_, seed_ + 7919 * e);
  }

  // The learner's rows of an [num_envs, num_agents, obs...] buffer: a strided view of
  // `all`, or of `copy` when the learner's agents are not one block per env.
  py::array rows_view(const float* all, const float* copy) const {
    const EnvSpec& s = spec();
    const auto N = static_cast<py::ssize_t>(num_envs()), A = static_cast<py::ssize_t>(learners_.size());
    const py::ssize_t D = s.obs_dim();
    std::vector<py::ssize_t> shape{N, A};
    for (auto d : s.obs_shape) shape.push_back(d);
    std::vector<py::ssize_t> strides{(contiguous_ ? static_cast<py::ssize_t>(s.num_agents) : A) * D, D};
    std::vector<py::ssize_t> tail;
    py::ssize_t inner = 1;
    for (auto it = s.obs_shape.rbegin(); it != s.obs_shape.rend(); ++it) {
      tail.insert(tail.begin(), inner);
      inner *= *it;
    }
    strides.insert(strides.end(), tail.begin(), tail.end());
    return view(contiguous_ ? all + learners_.front() * D : copy, shape, strides, owner_);
  }

  // Non-contiguous learner rows are copied into their own buffers.
  void gather() {
    if (contiguous_) return;
    const EnvSpec& s = spec();
    const int64_t D = s.obs_dim(), A = static_cast<int64_t>(learners_.size());
    for (int e = 0; e < num_envs(); ++e)
      for (int64_t k = 0; k < A; ++k) {
        const int64_t src = static_cast<int64_t>(e) * s.num_agents + learners_[static_cast<size_t>(k)];
        std::copy_n(vec_->obs() + src * D, D, buf_->obs_copy.data() + (e * A + k) * D);
        std::copy_n(vec_->final_obs() + src * D, D, buf_->final_copy.data() + (e * A + k) * D);
        buf_->rew_copy[static_cast<size_t>(e * A + k)] = vec_->rewards()[src];
      }
  }

  std::string game_, options_yaml_;
  uint64_t seed_ = 0;
  static std::string fmt_size(int w, int h) {
    return "render: width and height must be in [32, 8192], got " + std::to_string(w) + "x" + std::to_string(h);
  }
  std::shared_ptr<Buffers> buf_ = std::make_shared<Buffers>();
  VecEnv* vec_ = nullptr;  // buf_->vec
  py::object owner_;       // capsule holding a reference to buf_: the base of every array below
  py::object obs_, final_obs_, rewards_, term_, trunc_, ended_, winner_;
#ifdef LUDUS_PY_VIZ
  std::unique_ptr<viz::Canvas> canvas_;  // kept between calls: making one loads the font
#endif
  std::vector<int> learners_, opp_ids_;
  int opp_team_ = 1;
  std::vector<std::unique_ptr<Agent>> opponents_;
  bool contiguous_ = true;
  std::string opponent_;
  bool until_decision_ = false;
  int64_t env_ticks_ = 0;  // ticks stepped by step(), summed over the envs
  std::map<int, std::unique_ptr<ReplayWriter>> recorders_;
  Frame frame_;
};

py::dict replay_info(const std::string& path, bool recover) {
  ReplayReader r(path, recover ? ReplayMode::recover : ReplayMode::strict);
  py::dict d;
  const auto& h = r.header();
  d["game"] = h.env_name;
  d["options"] = h.env_options_yaml;
  d["seed"] = h.seed;
  d["agents"] = h.agents;
  d["ludus_version"] = h.ludus_version;
  d["created_utc"] = h.created_utc;
  d["tick_rate_hz"] = h.tick_rate_hz;
  d["frames"] = r.num_frames();
  d["complete"] = r.complete();
  d["warning"] = r.warning();
  const auto& res = r.result();
  d["winner"] = res.winner;
  d["team_scores"] = res.team_scores;
  d["ticks"] = res.ticks;
  return d;
}

// The C++ VecEnv stepped directly with the given actions [T, num_envs, num_agents(,
// action_dim)], no Python wrapper in between: returns the observations [T, num_envs,
// num_agents, obs_dim] and rewards [T, num_envs, num_agents] (what the tests compare the
// module's arrays with).
py::tuple reference_rollout(const std::string& game, int num_envs, uint64_t seed,
                            const py::array_t<float, py::array::c_style | py::array::forcecast>& actions,
                            const py::kwargs& kw) {
  const ConfigTree options = options_from(kw);
  const EnvEntry& entry = EnvRegistry::global().get(game);
  std::vector<std::unique_ptr<Env>> envs;
  for (int i = 0; i < num_envs; ++i) envs.push_back(entry.create(options));
  VecEnv vec(std::move(envs), 1);
  const EnvSpec& s = vec.spec();
  const int64_t N = num_envs, A = s.num_agents, AD = s.action_dim(), D = s.obs_dim();
  if (actions.ndim() < 1 || actions.size() % (N * A * AD) != 0)
    throw py::value_error("actions must be [T, num_envs, num_agents(, action_dim)]");
  const int64_t T = actions.shape(0);
  py::array_t<float> obs({T, N, A, D}), rew({T, N, A});
  vec.reset(seed);
  for (int64_t t = 0; t < T; ++t) {
    std::copy_n(actions.data() + t * N * A * AD, N * A * AD, vec.actions());
    vec.step();
    std::copy_n(vec.obs(), N * A * D, obs.mutable_data() + t * N * A * D);
    std::copy_n(vec.rewards(), N * A, rew.mutable_data() + t * N * A);
  }
  return py::make_tuple(obs, rew);
}

}  // namespace
}  // namespace ludus::python

PYBIND11_MODULE(_ludus, m) {
  using namespace ludus;
  using namespace ludus::python;
  m.doc() = "ludus: physics games, scripted bots, replays and plugins as Gymnasium-shaped envs";
  m.attr("__version__") = ludus::version();

  static py::exception<ConfigError> config_error(m, "ConfigError", PyExc_ValueError);
  static py::exception<FormatError> format_error(m, "FormatError", PyExc_ValueError);
  static py::exception<ReplayError> replay_error(m, "ReplayError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      config_error(e.what());
    } catch (const FormatError& e) {
      format_error(e.what());
    } catch (const ReplayError& e) {
      replay_error(e.what());
    }
  });

  py::class_<Space>(m, "Space", "An observation or action space (see to_gymnasium())")
      .def_readonly("kind", &Space::kind)
      .def_property_readonly("shape", [](const Space& s) { return py::tuple(py::cast(s.shape)); })
      .def_readonly("dtype", &Space::dtype)
      .def_readonly("low", &Space::low)
      .def_readonly("high", &Space::high)
      .def_readonly("n", &Space::n)
      .def_readonly("nvec", &Space::nvec)
      .def("__repr__", &Space::repr);

  py::class_<VectorEnv>(m, "VectorEnv", "N envs of one game stepped together; arrays view ludus's buffers")
      .def(py::init([](const std::string& game, int num_envs, int threads, uint64_t seed, const std::string& opponent,
                       int learner_team, bool until_decision, const py::kwargs& kw) {
             return std::make_unique<VectorEnv>(game, num_envs, threads, seed, opponent, learner_team, until_decision,
                                                kw);
           }),
           py::arg("game"), py::arg("num_envs") = 1, py::arg("threads") = 1, py::arg("seed") = 0,
           py::arg("opponent") = "", py::arg("learner_team") = 0, py::arg("until_decision") = false)
      .def(
          "reset", [](VectorEnv& v, std::optional<uint64_t> seed) { return v.reset(seed); },
          py::arg("seed") = py::none())
      .def(
          "step", [](VectorEnv& v, const py::array& a) { return v.step(a); }, py::arg("actions"))
      .def("start_replay", &VectorEnv::start_replay, py::arg("index"), py::arg("path"),
           py::arg("agents") = std::vector<std::string>{},
           "record env `index` into a replay file until its episode ends (or stop_replay)")
      .def("stop_replay", &VectorEnv::stop_replay, py::arg("index"), "finish env `index`'s replay now; its path")
      .def("render", &VectorEnv::render, py::arg("index") = 0, py::arg("width") = 640, py::arg("height") = 480,
           py::arg("hud") = false,
           "env `index` as an RGB image, a [height, width, 3] uint8 array (the visualizer's picture)")
      .def("save_state", &VectorEnv::save_state, py::arg("index"))
      .def("load_state", &VectorEnv::load_state, py::arg("index"), py::arg("state"))
      .def_property_readonly("num_envs", &VectorEnv::num_envs)
      .def_property_readonly("num_agents", &VectorEnv::num_agents)
      .def_property_readonly("observation_space", [](const VectorEnv& v) { return observation_space(v.spec()); })
      .def_property_readonly("action_space", [](const VectorEnv& v) { return action_space(v.spec()); })
      .def_property_readonly("options", &VectorEnv::options_yaml)
      .def_property_readonly("decision_interval", [](const VectorEnv& v) { return v.spec().decision_interval; })
      .def_property_readonly("env_ticks", &VectorEnv::env_ticks,
                             "ticks step() has played so far, summed over the envs (num_envs per call, or more "
                             "with until_decision)")
      .def_property_readonly("max_ticks", [](const VectorEnv& v) { return v.spec().max_ticks; })
      .def_property_readonly("agent_teams", &VectorEnv::agent_teams, "team of each agent in the arrays")
      .def("__repr__", &VectorEnv::repr);

  m.def(
      "envs",
      [] {
        py::list out;
        for (const auto& name : EnvRegistry::global().names()) {
          const EnvEntry& e = EnvRegistry::global().get(name);
          auto env = e.create(ConfigTree());
          const EnvSpec& s = env->spec();
          py::dict d;
          d["name"] = name;
          d["description"] = e.description;
          d["num_agents"] = s.num_agents;
          d["num_teams"] = s.num_teams;
          d["observation_space"] = observation_space(s);
          d["action_space"] = action_space(s);
          d["max_ticks"] = s.max_ticks;
          d["decision_interval"] = s.decision_interval;
          d["options"] = e.effective_options(ConfigTree(), true);
          py::list agents;
          for (const auto& a : agents_for(name)) agents.append(a);
          d["agents"] = agents;
          out.append(d);
        }
        return out;
      },
      "Every registered game: name, description, spaces, options (YAML with comments), agents");
  m.def("_reference_rollout", &reference_rollout, py::arg("game"), py::arg("num_envs"), py::arg("seed"),
        py::arg("actions"), "the C++ VecEnv stepped with these actions (for tests)");
  m.def("load_plugin", &load_plugin, py::arg("path"), "Loads a game plugin (.so); returns the games it added");
  m.def("replay_info", &replay_info, py::arg("path"), py::arg("recover") = false,
        "A replay's header and result (ReplayError if it is damaged)");
}
