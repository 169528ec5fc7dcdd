// Visualizer subcommands: `replay` (window, --info, PNG/GIF capture) and `watch` (a live match).
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "ludus/engine/agent.hpp"
#include "ludus/engine/match.hpp"
#include "ludus/engine/config.hpp"
#include "ludus/engine/registry.hpp"
#include "ludus/engine/replay.hpp"
#include "ludus/viz/gif.hpp"
#include "ludus/viz/source.hpp"
#include "ludus/viz/viewer.hpp"

namespace ludus::cli {
namespace {

// Camera and canvas flags shared by `replay` and `watch`.
struct ViewArgs {
  std::string size = "1280x800";
  bool no_hud = false, top_down = false;
  float yaw = 0, pitch = 35, zoom = 1;
  bool yaw_given = false;
  int follow = -1;
  double speed = 1, quit_after = 0;

  void add(CLI::App* cmd) {
    cmd->add_option("--size", size, "window or image size WIDTHxHEIGHT (default 1280x800)");
    cmd->add_flag("--no-hud", no_hud, "hide the score bar, clock and timeline");
    cmd->add_flag("--top-down", top_down, "3D games: look straight down");
    cmd->add_option("--yaw", yaw, "3D games: camera azimuth in degrees")->each([this](const std::string&) {
      yaw_given = true;
    });
    cmd->add_option("--pitch", pitch, "3D games: camera elevation in degrees (2 .. 89)")->check(CLI::Range(2.0, 89.5));
    cmd->add_option("--zoom", zoom, "zoom factor (1 fits the arena)")->check(CLI::Range(0.05, 50.0));
    cmd->add_option("--follow", follow, "centre on the K-th circle/sphere of each frame")
        ->check(CLI::NonNegativeNumber);
    cmd->add_option("--speed", speed, "playback speed, 0.25 .. 16")->check(CLI::Range(0.25, 16.0));
    cmd->add_option("--quit-after", quit_after, "close the window after this many seconds")
        ->check(CLI::NonNegativeNumber);
  }

  std::pair<int, int> dims() const {
    int w = 0, h = 0;
    char x = 0;
    std::istringstream in(size);
    if (!(in >> w >> x >> h) || x != 'x' || !in.eof() || w < 64 || h < 64 || w > 8192 || h > 8192)
      throw UsageError("--size " + size + ": expected WIDTHxHEIGHT, each 64 .. 8192 pixels, e.g. 1280x800");
    return {w, h};
  }

  viz::Camera camera() const {
    viz::Camera cam;
    cam.top_down = top_down;
    cam.pitch_deg = pitch;
    cam.zoom = zoom;
    cam.follow = follow;
    if (yaw_given) {
      cam.yaw_deg = yaw;
      cam.yaw_set = true;
    }
    return cam;
  }

  viz::ViewerOptions viewer(const std::string& title) const {
    viz::ViewerOptions o;
    o.title = title;
    std::tie(o.width, o.height) = dims();
    o.hud = !no_hud;
    o.quit_after_s = quit_after;
    o.camera = camera();
    return o;
  }
};

// The game's tick rate, for playing a replay in real time; 30 Hz when the game is unknown here.
double replay_tick_rate(const ReplayHeader& h) {
  if (h.tick_rate_hz > 0) return h.tick_rate_hz;  // format 2 records it
  const EnvEntry* entry = EnvRegistry::global().find(h.env_name);
  if (!entry) {
    fmt::print(stderr, "ludus: warning: game '{}' is not registered here (a plugin?); playing at 30 ticks/s\n",
               h.env_name);
    return 30;
  }
  try {
    return entry->create(ConfigTree::from_string(h.env_options_yaml, "replay header"))->spec().tick_rate_hz;
  } catch (const std::exception& e) {
    fmt::print(stderr, "ludus: warning: cannot rebuild '{}' from the replay's options ({}); playing at 30 ticks/s\n",
               h.env_name, e.what());
    return 30;
  }
}

// Opening a window: say so once when text falls back to the built-in bitmap font.
void run_window(viz::FrameSource& src, const viz::ViewerOptions& options) {
  std::string why;
  if (viz::find_font(&why).empty()) fmt::print(stderr, "ludus: warning: {}; using the built-in bitmap font\n", why);
  viz::run_viewer(src, options);
}

// Headless capture: one frame (--png), and every K ticks as PNGs (--frames) and/or a GIF (--gif).
void capture(viz::ReplaySource& src, const ViewArgs& view, const std::string& png, int64_t tick, const std::string& dir,
             const std::string& gif_path, int every) {
  const auto [w, h] = view.dims();
  viz::Canvas canvas(w, h);
  viz::Camera cam = view.camera();
  viz::HudInfo hud;
  hud.team_names = src.team_names();
  hud.tick_rate_hz = src.tick_rate_hz();
  hud.speed = view.speed;
  auto render = [&] {
    hud.progress = src.progress();
    hud.finished = src.finished();
    hud.camera = viz::camera_text(src.current(), cam);
    canvas.render(src.current(), cam, view.no_hud ? nullptr : &hud);
  };
  if (!canvas.text().fallback_reason().empty())
    fmt::print(stderr, "ludus: warning: {}; using the built-in bitmap font\n", canvas.text().fallback_reason());
  if (!png.empty()) {
    src.seek_tick(tick);
    render();
    canvas.save_png(png);
    fmt::print("wrote {} (tick {}, {}x{})\n", png, src.current().tick, w, h);
  }
  if (dir.empty() && gif_path.empty()) return;
  if (!dir.empty()) std::filesystem::create_directories(dir);
  std::unique_ptr<viz::GifWriter> gif;
  if (!gif_path.empty()) {
    const auto parent = std::filesystem::path(gif_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    const double delay_s = every / src.tick_rate_hz() / view.speed;
    gif = std::make_unique<viz::GifWriter>(gif_path, w, h, static_cast<int>(delay_s * 100 + 0.5));
  }
  int written = 0;
  int64_t next = src.reader().frame(0).tick;
  for (int64_t i = 0; i < src.reader().num_frames(); ++i) {
    const int64_t t = src.reader().frame(i).tick;
    if (t < next) continue;
    src.seek_tick(t);
    render();
    if (!dir.empty()) canvas.save_png(fmt::format("{}/frame-{:06d}.png", dir, t));
    if (gif) gif->add(canvas.surface());
    ++written;
    next = t + every;
  }
  if (!dir.empty()) fmt::print("wrote {} PNG frames to {}/ (every {} ticks)\n", written, dir, every);
  if (gif) {
    gif->finish();
    fmt::print("wrote {} ({} frames, every {} ticks, {}x{})\n", gif_path, gif->frames(), every, w, h);
  }
}

}  // namespace

void add_viz_commands(CLI::App& app) {
  struct ReplayArgs {
    std::string file, png, frames_dir, gif;
    bool info = false, recover = false;
    int64_t tick = 0;
    int every = 1;
    ViewArgs view;
  };
  auto ra = std::make_shared<ReplayArgs>();
  auto* replay = app.add_subcommand("replay", "play a replay in a window, print what it holds, or capture PNGs");
  replay->add_option("file", ra->file, "replay file")->required()->check(CLI::ExistingFile);
  replay->add_flag("--info", ra->info, "check every frame and print the header and result (no window)");
  replay->add_flag("--recover", ra->recover, "read an unfinished replay up to its last complete chunk");
  replay->add_option("--png", ra->png, "write the frame at --tick to this PNG (no window)");
  replay->add_option("--tick", ra->tick, "tick to capture with --png (the last frame at or before it)")
      ->check(CLI::NonNegativeNumber);
  replay->add_option("--frames", ra->frames_dir, "write PNG frames into this folder (no window)");
  replay->add_option("--gif", ra->gif, "write an animated GIF of the whole replay (no window; see --every)");
  replay->add_option("--every", ra->every, "with --frames / --gif: one image every K ticks")
      ->check(CLI::PositiveNumber);
  ra->view.add(replay);
  replay->callback([ra] {
    if (ra->info) {
      print_replay_info(ra->file, ra->recover);
      return;
    }
    viz::ReplaySource src(ra->file, ra->recover, 30);
    if (!src.reader().complete()) fmt::print(stderr, "ludus: warning: {}\n", src.reader().warning());
    src.set_tick_rate_hz(replay_tick_rate(src.reader().header()));
    if (!ra->png.empty() || !ra->frames_dir.empty() || !ra->gif.empty()) {
      capture(src, ra->view, ra->png, ra->tick, ra->frames_dir, ra->gif, ra->every);
      return;
    }
    src.set_speed(ra->view.speed);
    if (ra->tick > 0) src.seek_tick(ra->tick);
    run_window(src, ra->view.viewer("ludus replay: " + ra->file));
  });

  struct WatchArgs {
    std::string env = "reach", agents;
    std::vector<std::string> sets;
    uint64_t seed = 1;
    ViewArgs view;
  };
  auto wa = std::make_shared<WatchArgs>();
  auto* watch = app.add_subcommand("watch", "watch a live match in a window, simulated as it is drawn");
  watch->add_option("-e,--env", wa->env, "game name (default reach)");
  watch->add_option("-a,--agents", wa->agents, "comma-separated agent per team, e.g. greedy,random");
  watch->add_option("--set", wa->sets, "game option: key=value (e.g. team_size=3)");
  watch->add_option("-s,--seed", wa->seed, "match seed (restart replays the same seed)");
  wa->view.add(watch);
  watch->callback([wa] {
    const EnvEntry& entry = EnvRegistry::global().get(wa->env);
    ConfigTree game;
    for (const auto& s : wa->sets) game.apply_override(s);
    std::shared_ptr<Env> env = entry.create(game);
    const EnvSpec& spec = env->spec();
    std::vector<std::string> names = split_agent_list(wa->agents);
    if (names.empty()) {
      names.push_back(default_bot(wa->env));
      while (static_cast<int>(names.size()) < spec.num_teams) names.push_back("random");
    }
    if (static_cast<int>(names.size()) != spec.num_teams)
      throw UsageError(
          fmt::format("--agents lists {} agent(s); game '{}' has {} teams", names.size(), wa->env, spec.num_teams));
    auto owned = std::make_shared<std::vector<std::unique_ptr<Agent>>>();
    for (const auto& n : names) owned->push_back(make_agent(n, wa->env));
    const uint64_t seed = wa->seed;
    // Runs one match on the source's thread; publishing stops it early on restart or exit.
    struct Stop {};
    auto play = [env, owned, seed](const viz::LiveSource::Publish& publish) {
      std::vector<Agent*> agents;
      for (auto& a : *owned) agents.push_back(a.get());
      Frame frame;
      MatchOptions mo;
      mo.seed = seed;
      mo.on_tick = [&](const Env& e) {
        e.draw(frame);
        if (!publish(frame)) throw Stop{};
      };
      try {
        run_match(*env, agents, mo);
      } catch (const Stop&) {
      }
    };
    viz::LiveSource src(play, spec.tick_rate_hz, names);
    src.set_speed(wa->view.speed);
    std::string versus;
    for (const auto& n : names) versus += (versus.empty() ? "" : " vs ") + n;
    run_window(src, wa->view.viewer("ludus watch: " + wa->env + " (" + versus + ")"));
  });
}

}  // namespace ludus::cli
