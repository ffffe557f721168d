// Wiring of the HTTP gateway into civicd: channels to every backend, then the server.
#pragma once

#include "libs/modules/service_module.h"
#include "services/gateway/gateway_config.h"

namespace civic::gateway {

modules::ModuleSpec GatewayModuleSpec(const GatewayConfig& config,
                                      const modules::Context& context);

}  // namespace civic::gateway
