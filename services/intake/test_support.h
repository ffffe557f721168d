// Shared fixtures for intake's tests: the real category catalogue and in-memory peers.
#pragma once

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "services/intake/catalog.h"
#include "services/intake/peers.h"

namespace civic::intake {

inline std::filesystem::path SharedData() {
  const char* env = std::getenv("CIVIC_SHARED_DATA");
  return env ? std::filesystem::path(env)
             : std::filesystem::path(CIVIC_SOURCE_DIR) / ".." / "shared" / "data";
}

// Routing that sends everything to one unit, or is "down".
class FakeRouting : public RoutingClient {
 public:
  absl::StatusOr<routing::v1::RouteDecision> Route(
      const routing::v1::RouteRequest& request) override {
    std::lock_guard lock(mu);
    if (down) return absl::UnavailableError("routing is down");
    if (request.category() == "poison") return absl::InvalidArgumentError("bad category");
    routing::v1::RouteDecision d;
    d.mutable_unit()->set_id("hcm.district_pc.760");
    d.mutable_area()->set_district_code("760");
    d.set_sla_hours(72);
    return d;
  }
  std::mutex mu;
  bool down = false;
};

// Cases that remember what was opened, idempotently per report, or is "down".
class FakeCases : public CasesClient {
 public:
  absl::StatusOr<cases::v1::Case> OpenCase(const cases::v1::OpenCaseRequest& request) override {
    std::lock_guard lock(mu);
    if (down) return absl::UnavailableError("cases is down");
    ++calls;
    requests[request.report_id()] = request;
    auto [it, inserted] = opened.try_emplace(request.report_id());
    if (inserted) {
      it->second.set_case_id("case-" + request.report_id());
      it->second.set_report_id(request.report_id());
      it->second.set_tracking_code(request.tracking_code());
      it->second.set_status(common::v1::CASE_STATUS_NEW);
      *it->second.mutable_unit() = request.unit();
      order.push_back(request.report_id());
    }
    return it->second;
  }
  absl::StatusOr<cases::v1::Case> GetCaseByReport(const std::string& report_id) override {
    std::lock_guard lock(mu);
    auto it = opened.find(report_id);
    if (it == opened.end()) return absl::NotFoundError("no case");
    return it->second;
  }
  // As cases' rule: only the case's own reporter, only a resolved case, only once. A
  // rating of 1-2 reopens the case, any other closes it.
  absl::StatusOr<cases::v1::Case> RateResolution(
      const cases::v1::RateResolutionRequest& request) override {
    std::lock_guard lock(mu);
    if (down) return absl::UnavailableError("cases is down");
    rate_requests.push_back(request);
    cases::v1::Case* found = nullptr;
    for (auto& [report_id, c] : opened) {
      if (c.case_id() == request.case_id() && c.report_id() == report_id) found = &c;
    }
    if (found == nullptr || found->tracking_code() != request.tracking_code()) {
      return absl::NotFoundError("no case");
    }
    if (found->status() != common::v1::CASE_STATUS_RESOLVED || found->has_satisfaction()) {
      return absl::FailedPreconditionError("only a resolved case can be rated, once");
    }
    if (request.rating() <= 2) {
      found->set_status(common::v1::CASE_STATUS_REOPENED);
    } else {
      found->set_status(common::v1::CASE_STATUS_CLOSED);
      found->mutable_satisfaction()->set_rating(request.rating());
      found->mutable_satisfaction()->set_comment(request.comment());
    }
    return *found;
  }
  std::mutex mu;
  bool down = false;
  int calls = 0;
  std::vector<cases::v1::RateResolutionRequest> rate_requests;
  std::map<std::string, cases::v1::Case> opened;
  std::map<std::string, cases::v1::OpenCaseRequest> requests;
  std::vector<std::string> order;
};

}  // namespace civic::intake
