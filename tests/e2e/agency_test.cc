// A unit works its case over the agency gRPC API against a running civicd, and the
// citizen sees each step through the HTTP API; another unit can neither read nor change
// the case.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "civic/cases/v1/cases.grpc.pb.h"
#include "tests/support/civic_api.h"
#include "tests/support/civicd_process.h"
#include "tests/support/http_client.h"

namespace civic::testing {
namespace {

using civic::cases::v1::Case;
using civic::cases::v1::CaseActionRequest;
using civic::cases::v1::CasesService;

// Calls as `unit` with a signed development token (agency systems proper present their
// client certificate on the mutual-TLS port: see node_agency_test.cc); "" calls with no
// identity.
grpc::Status Call(CasesService::Stub& stub, const AgencyTokens& tokens, const std::string& unit,
                  grpc::Status (CasesService::Stub::*method)(grpc::ClientContext*,
                                                             const CaseActionRequest&, Case*),
                  const Case& c, const std::string& comment, Case* out) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!unit.empty()) context.AddMetadata("authorization", tokens.BearerFor(unit));
  CaseActionRequest request;
  request.set_case_id(c.case_id());
  request.set_expected_version(c.version());
  request.set_comment(comment);
  return (stub.*method)(&context, request, out);
}

TEST_CASE("A unit accepts, works and resolves its case over gRPC, the citizen is told, "
          "another unit is refused",
          "[e2e][agency]") {
  TempDir dir;
  const AgencyTokens tokens = MakeAgencyTokens(dir.path());
  CivicdProcess civicd(dir.path(), tokens.CivicdArgs());
  civicd.Start();
  const HttpClient gateway(civicd.endpoints().gateway_http);
  auto stub = CasesService::NewStub(grpc::CreateChannel(civicd.endpoints().grpc.at("cases"),
                                                        grpc::InsecureChannelCredentials()));

  const std::vector<SampleReport> samples = LoadSampleReports(1);
  const SubmitResult submitted = SubmitReport(gateway, samples[0].request);
  REQUIRE(submitted.response.status == 200);
  const PipelineWait opened = WaitForCases(gateway, {submitted.tracking_code}, absl::Seconds(30));
  REQUIRE(opened.ok());
  const nlohmann::json status = opened.last_seen.at(submitted.tracking_code);
  const std::string unit = status["unit"]["id"].get<std::string>();
  const std::string case_id = JsonString(status, "case_id");

  Case c;
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", tokens.BearerFor(unit));
    civic::cases::v1::GetCaseRequest get;
    get.set_case_id(case_id);
    REQUIRE(stub->GetCase(&context, get, &c).ok());
    REQUIRE(c.version() == 1);
  }
  // Another unit: not found (cannot probe), cannot act; no identity: unauthenticated.
  Case ignored;
  CHECK(Call(*stub, tokens, "hcm.util_water", &CasesService::Stub::Accept, c, "", &ignored)
            .error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Call(*stub, tokens, "", &CasesService::Stub::Accept, c, "", &ignored).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);

  REQUIRE(Call(*stub, tokens, unit, &CasesService::Stub::Accept, c, "", &c).ok());
  // A stale version is refused.
  Case stale = c;
  stale.set_version(1);
  CHECK(Call(*stub, tokens, unit, &CasesService::Stub::StartWork, stale, "", &ignored)
            .error_code() == grpc::StatusCode::ABORTED);
  REQUIRE(Call(*stub, tokens, unit, &CasesService::Stub::StartWork, c, "", &c).ok());
  // Resolving needs a public text; an illegal step is FAILED_PRECONDITION.
  CHECK(Call(*stub, tokens, unit, &CasesService::Stub::Accept, c, "", &ignored).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  REQUIRE(Call(*stub, tokens, unit, &CasesService::Stub::Resolve, c, "Đã xử lý xong, cảm ơn bạn",
               &c)
              .ok());
  CHECK(c.status() == civic::common::v1::CASE_STATUS_RESOLVED);

  // The citizen sees the new status and reads the resolution in their inbox.
  const PipelineWait resolved =
      WaitForCases(gateway, {submitted.tracking_code}, absl::Seconds(30), "resolved");
  INFO(resolved.DescribePending());
  CHECK(resolved.ok());
  bool told = Eventually(
      [&] {
        const auto inbox = ListMessages(gateway, submitted.tracking_code);
        if (!inbox) return false;
        for (const auto& m : inbox->value("messages", nlohmann::json::array())) {
          if (JsonString(m, "template") == "case_resolved" &&
              JsonString(m, "body").find("Đã xử lý xong, cảm ơn bạn") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      absl::Seconds(30));
  CHECK(told);
  REQUIRE(civicd.Terminate() == 0);
}

}  // namespace
}  // namespace civic::testing
