#include "troupe/tools/http_routes.hpp"

#include <chrono>
#include <string>

namespace troupe::tools {

namespace {

constexpr const char* prometheus_text = "text/plain; version=0.0.4; charset=utf-8";

runtime::http_response health() {
  return {200, "application/json", "{\"status\":\"ok\"}", {}};
}

// A JSON document, or 503 while the view has none yet (right after start).
runtime::http_response json_or_unavailable(std::string body) {
  if (!body.empty())
    return {200, "application/json", std::move(body), {}};
  return {503, "application/json", "{\"error\":\"no state snapshot yet\"}", {{"Retry-After", "1"}}};
}

} // namespace

void add_master_routes(runtime::http_server& http, const master::state_view& view,
                       const runtime::node_metrics& metrics, const leadership_view* leadership) {
  http.add_get("/health", health);
  http.add_get("/api/v1/master", [&view, leadership] {
    if (leadership)
      if (auto other = leadership->redirect("/api/v1/master"))
        return std::move(*other);
    return json_or_unavailable(view.master_json());
  });
  http.add_get("/api/v1/state", [&view, leadership] {
    if (leadership)
      if (auto other = leadership->redirect("/api/v1/state"))
        return std::move(*other);
    auto age = view.age();
    auto out = json_or_unavailable(view.state_json());
    if (age && out.status == 200)
      out.headers.emplace_back(
        "X-Troupe-State-Age-Ms",
        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*age).count()));
    return out;
  });
  http.add_get("/metrics", [&metrics] {
    return runtime::http_response{200, prometheus_text, metrics.render_text(), {}};
  });
}

void add_agent_routes(runtime::http_server& http, const agent_state_view& view,
                      const runtime::node_metrics& metrics) {
  // "registering" until a master admitted the agent (it keeps trying meanwhile).
  http.add_get("/health", [&view] {
    return runtime::http_response{200, "application/json",
                                  view.registered() ? "{\"status\":\"ok\"}"
                                                    : "{\"status\":\"registering\"}",
                                  {}};
  });
  http.add_get("/api/v1/state", [&view] { return json_or_unavailable(view.state_json()); });
  http.add_get("/metrics", [&metrics] {
    return runtime::http_response{200, prometheus_text, metrics.render_text(), {}};
  });
}

} // namespace troupe::tools
