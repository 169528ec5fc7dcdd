// `ludus replay --info`: validate a replay file and print what it holds.
#include <fmt/core.h>

#include <sstream>

#include "commands.hpp"
#include "ludus/engine/replay.hpp"

namespace ludus::cli {

void print_replay_info(const std::string& path, bool recover) {
  ReplayReader reader(path, recover ? ReplayMode::recover : ReplayMode::strict);
  const ReplayHeader& h = reader.header();
  fmt::print("replay:   {}\nformat:   {}\nenv:      {}\nseed:     {}\nludus:    {}\ncreated:  {}\n", path,
             h.format_version, h.env_name, h.seed, h.ludus_version, h.created_utc);
  if (h.tick_rate_hz > 0) fmt::print("rate:     {} ticks/s\n", h.tick_rate_hz);
  std::string agents;
  for (const auto& a : h.agents) agents += (agents.empty() ? "" : ", ") + a;
  fmt::print("agents:   {}\nframes:   {}\n", agents, reader.num_frames());
  if (reader.num_frames() > 0) {
    // frame() returns a reference into its chunk cache: read one value at a time.
    const int64_t first_tick = reader.frame(0).tick;
    const int64_t last_tick = reader.frame(reader.num_frames() - 1).tick;
    fmt::print("ticks:    {} .. {}\n", first_tick, last_tick);
  }
  if (reader.complete()) {
    std::string scores;
    for (double s : reader.result().team_scores) scores += fmt::format("{}{:g}", scores.empty() ? "" : " : ", s);
    fmt::print("result:   {} ({}), {} ticks\n", scores,
               reader.result().winner < 0 ? std::string("draw") : fmt::format("team {} wins", reader.result().winner),
               reader.result().ticks);
  } else {
    fmt::print("warning:  {}\n", reader.warning());
  }
  fmt::print("options:\n");
  std::stringstream ss(h.env_options_yaml);
  for (std::string line; std::getline(ss, line);) fmt::print("  {}\n", line);
  // Decode every frame so that a damaged file is reported now, not during playback.
  for (int64_t i = 0; i < reader.num_frames(); ++i) reader.frame(i);
  fmt::print("all {} frames decode and pass their checksums\n", reader.num_frames());
}

}  // namespace ludus::cli
