// RoutingLogic: composes GeoIndex (where) and UnitDirectory (who) into a RouteDecision.
#include "services/routing/routing_logic.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status.h"
#include "services/routing/geo_index.h"
#include "services/routing/unit_directory.h"

namespace civic::routing {
namespace {

// ErrorReason domain of errors raised here.
constexpr char kDomain[] = "routing.civicdesk";
constexpr char kTriageNameVi[] = "Trung tâm điều hành (phân loại)";
constexpr char kTriageNameEn[] = "Operations centre triage";

}  // namespace

absl::StatusOr<std::unique_ptr<RoutingLogic>> RoutingLogic::Load(
    const RoutingLogicOptions& options) {
  CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<GeoIndex> geo,
                         GeoIndex::LoadDir(options.data_dir / "boundaries"));
  CIVIC_ASSIGN_OR_RETURN(std::unique_ptr<UnitDirectory> directory,
                         UnitDirectory::Load(options.data_dir / "categories.json",
                                             options.data_dir / "agencies.json"));
  return std::unique_ptr<RoutingLogic>(
      new RoutingLogic(options, std::move(geo), std::move(directory)));
}

RoutingLogic::RoutingLogic(RoutingLogicOptions options, std::unique_ptr<GeoIndex> geo,
                           std::unique_ptr<UnitDirectory> directory)
    : options_(std::move(options)),
      geo_(std::move(geo)),
      directory_(std::move(directory)) {}

RoutingLogic::~RoutingLogic() = default;

civic::common::v1::AdminArea RoutingLogic::Resolve(double lat, double lon) const {
  return geo_->Resolve(lat, lon);
}

absl::StatusOr<civic::routing::v1::RouteDecision> RoutingLogic::Route(
    const civic::routing::v1::RouteRequest& request) const {
  const CategoryInfo* category = directory_->FindCategory(request.category());
  if (category == nullptr) {
    FieldErrors errors;
    errors.Add("category",
               request.category().empty()
                   ? std::string("is required")
                   : absl::StrCat("unknown category code '", request.category(), "'"));
    return errors.ToStatus(kDomain);
  }

  civic::routing::v1::RouteDecision decision;
  geo_->ResolveInto(request.location().lat(), request.location().lon(),
                    decision.mutable_area());
  UnitChoice choice = directory_->Choose(*category, decision.area());
  civic::common::v1::UnitRef* unit = decision.mutable_unit();
  if (choice.unit != nullptr) {
    unit->set_id(choice.unit->id);
    unit->set_name_vi(choice.unit->name_vi);
    unit->set_name_en(choice.unit->name_en);
  } else {
    unit->set_id(options_.triage_unit_id);
    unit->set_name_vi(kTriageNameVi);
    unit->set_name_en(kTriageNameEn);
  }
  decision.set_priority(category->priority);
  decision.set_sla_hours(category->sla_hours);
  decision.set_rule(std::move(choice.rule));
  return decision;
}

bool RoutingLogic::HasCategory(std::string_view code) const {
  return directory_->FindCategory(code) != nullptr;
}

size_t RoutingLogic::ward_count() const { return geo_->ward_count(); }

size_t RoutingLogic::unit_count() const { return directory_->unit_count(); }

}  // namespace civic::routing
