// CivicDesk's protos as a serialized google.protobuf.FileDescriptorSet that keeps their
// comments: generated C++ code never carries source info, and the gateway's OpenAPI
// document takes its descriptions from the comments (services/gateway/openapi.h).
#pragma once

#include <string_view>

namespace civic::proto {

// The bytes of `protoc --include_imports --include_source_info` over every proto of
// civic_proto (proto/CMakeLists.txt), embedded at build time. Files come in dependency
// order (imports first), so they can be added to a DescriptorPool one by one. Static
// storage: the view stays valid for the life of the program.
std::string_view CommentedDescriptorSet();

}  // namespace civic::proto
