// /healthz (the process answers), /readyz (sessions resumed, serving) and /metrics.
#include "control/api/server.h"

namespace qsplit::control::api {

void addHealthRoutes(httplib::Server& server, Services services) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server.Get("/readyz", [services](const httplib::Request&, httplib::Response& res) {
    if (services.ready.load()) return res.set_content("ready\n", "text/plain");
    res.status = 503;
    res.set_content("resuming sessions\n", "text/plain");
  });
  // Unauthenticated, as Prometheus scrapes it; it holds counts and names, no secrets.
  server.Get("/metrics", [services](const httplib::Request&, httplib::Response& res) {
    res.set_content(services.sessions.metrics(), "text/plain; version=0.0.4");
  });
}

}  // namespace qsplit::control::api
