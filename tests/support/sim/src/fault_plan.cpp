#include "troupe/sim/fault_plan.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include "troupe/messages/errc.hpp"

namespace troupe::sim {

namespace {

// "1.5s", "800ms", "2" (seconds); nothing else.
bool parse_time(const std::string& word, caf::timespan& out) {
  std::string number = word;
  double scale = 1.0;
  if (word.size() > 2 && word.compare(word.size() - 2, 2, "ms") == 0) {
    number = word.substr(0, word.size() - 2);
    scale = 1e-3;
  } else if (word.size() > 1 && word.back() == 's') {
    number = word.substr(0, word.size() - 1);
  }
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(value)
      || value < 0)
    return false;
  out = std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(value * scale));
  return true;
}

caf::error bad(size_t line, const std::string& text, const std::string& why) {
  return make_error(errc::invalid_argument,
                    "fault plan line " + std::to_string(line) + " \"" + text + "\": " + why);
}

caf::expected<fault> parse_line(size_t number, const std::string& text) {
  std::istringstream in{text};
  std::vector<std::string> words;
  for (std::string w; in >> w;)
    words.push_back(w);
  fault f;
  f.text = text;
  if (words.size() < 2 || !parse_time(words[0], f.at))
    return bad(number, text, "want <time> <fault> [nodes], e.g. \"1.5s crash agent-1\"");
  const auto& verb = words[1];
  std::vector<std::string> args(words.begin() + 2, words.end());
  auto want = [&](size_t n, const char* usage) -> caf::error {
    if (args.size() != n)
      return bad(number, text, std::string{"want "} + usage);
    return caf::none;
  };
  if (verb == "partition") {
    f.kind = fault_kind::partition;
    auto bar = std::find(args.begin(), args.end(), "|");
    f.nodes.assign(args.begin(), bar);
    if (bar != args.end())
      f.others.assign(bar + 1, args.end());
    if (f.nodes.empty() || f.others.empty())
      return bad(number, text, "want \"partition A B | C D\" (two groups of nodes)");
  } else if (verb == "cut") {
    f.kind = fault_kind::cut;
    if (auto err = want(2, "\"cut FROM TO\""))
      return err;
    f.nodes = args;
  } else if (verb == "clog") {
    f.kind = fault_kind::clog;
    if (auto err = want(3, "\"clog FROM TO DELAY\" (e.g. 800ms)"))
      return err;
    if (!parse_time(args[2], f.delay))
      return bad(number, text, "\"" + args[2] + "\" is not a delay (e.g. 800ms or 2s)");
    f.nodes = {args[0], args[1]};
  } else if (verb == "disconnect") {
    f.kind = fault_kind::disconnect;
    if (auto err = want(2, "\"disconnect A B\""))
      return err;
    f.nodes = args;
  } else if (verb == "heal") {
    f.kind = fault_kind::heal;
    if (auto err = want(0, "nothing after \"heal\""))
      return err;
  } else if (verb == "crash" || verb == "stop" || verb == "restart" || verb == "fail-over"
             || verb == "expire" || verb == "freeze" || verb == "thaw") {
    f.kind = verb == "crash"     ? fault_kind::crash
             : verb == "stop"    ? fault_kind::stop
             : verb == "restart" ? fault_kind::restart
             : verb == "expire"  ? fault_kind::expire
             : verb == "freeze"  ? fault_kind::freeze
             : verb == "thaw"    ? fault_kind::thaw
                                 : fault_kind::fail_over;
    if (auto err = want(1, ("\"" + verb + " NODE\"").c_str()))
      return err;
    f.nodes = args;
  } else {
    return bad(number, text,
               "unknown fault \"" + verb
                 + "\" (partition, cut, clog, heal, disconnect, crash, stop, restart, "
                 "fail-over, expire, freeze, thaw)");
  }
  return f;
}

} // namespace

caf::expected<fault_plan> fault_plan::parse(const std::string& text) {
  std::istringstream in{text};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return parse(lines);
}

caf::expected<fault_plan> fault_plan::parse(const std::vector<std::string>& lines) {
  fault_plan plan;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto line = lines[i].substr(0, lines[i].find('#')); // a comment runs to the line's end
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos)
      continue;
    auto last = line.find_last_not_of(" \t\r");
    auto f = parse_line(i + 1, line.substr(first, last - first + 1));
    if (!f)
      return f.error();
    plan.faults_.push_back(std::move(*f));
  }
  std::stable_sort(plan.faults_.begin(), plan.faults_.end(),
                   [](const fault& a, const fault& b) { return a.at < b.at; });
  return plan;
}

fault_plan fault_plan::of(const std::string& text) {
  auto plan = parse(text);
  if (!plan)
    throw std::invalid_argument(error_message(plan.error()));
  return std::move(*plan);
}

std::string describe(const fault& f) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(f.at).count();
  auto what = f.text.substr(f.text.find_first_of(" \t"));
  return "t=" + std::to_string(ms) + "ms" + what.substr(what.find_first_not_of(" \t") - 1);
}

} // namespace troupe::sim
