// Makes every protobuf message a CAF 0.17 message type: serializers write the protobuf wire
// bytes as one string, deserializers parse them back (a parse failure is an error, never a
// crash), everything else (to_string, test output) sees ShortDebugString(). The templates live
// in each proto package's namespace so argument-dependent lookup finds them; proto.hpp and
// internal.hpp put them there (via pb_inspect.hpp), so including either is enough.
#pragma once

#include "troupe/messages/internal.hpp"
#include "troupe/messages/proto.hpp"
