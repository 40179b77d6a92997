#include "troupe/test/proto_filler.hpp"

#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

namespace troupe::test {

namespace {

using google::protobuf::FieldDescriptor;

std::string random_text(runtime::seeded_random& rng) {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s;
  for (auto n = 1 + rng.below(12); n > 0; --n)
    s += alphabet[rng.below(sizeof(alphabet) - 1)];
  return s;
}

std::string random_bytes(runtime::seeded_random& rng) {
  std::string s;
  for (auto n = rng.below(16); n > 0; --n)
    s += static_cast<char>(rng.below(256));
  return s;
}

void fill_field(google::protobuf::Message& msg, const FieldDescriptor* f,
                runtime::seeded_random& rng, int depth) {
  auto* refl = msg.GetReflection();
  bool rep = f->is_repeated();
  switch (f->cpp_type()) {
#define TROUPE_FILL(CPPTYPE, Setter, value)                                              \
  case FieldDescriptor::CPPTYPE:                                                         \
    if (rep)                                                                             \
      refl->Add##Setter(&msg, f, value);                                                 \
    else                                                                                 \
      refl->Set##Setter(&msg, f, value);                                                 \
    break;
    TROUPE_FILL(CPPTYPE_INT32, Int32, static_cast<int32_t>(rng.next()))
    TROUPE_FILL(CPPTYPE_INT64, Int64, static_cast<int64_t>(rng.next()))
    TROUPE_FILL(CPPTYPE_UINT32, UInt32, static_cast<uint32_t>(rng.next()))
    TROUPE_FILL(CPPTYPE_UINT64, UInt64, rng.next())
    TROUPE_FILL(CPPTYPE_DOUBLE, Double, rng.uniform() * 1000)
    TROUPE_FILL(CPPTYPE_FLOAT, Float, static_cast<float>(rng.uniform()))
    TROUPE_FILL(CPPTYPE_BOOL, Bool, rng.chance(0.5))
#undef TROUPE_FILL
    case FieldDescriptor::CPPTYPE_STRING: {
      auto value = f->type() == FieldDescriptor::TYPE_BYTES ? random_bytes(rng) : random_text(rng);
      if (rep)
        refl->AddString(&msg, f, value);
      else
        refl->SetString(&msg, f, value);
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      auto* e = f->enum_type();
      auto* v = e->value(static_cast<int>(rng.below(static_cast<uint64_t>(e->value_count()))));
      if (rep)
        refl->AddEnum(&msg, f, v);
      else
        refl->SetEnum(&msg, f, v);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      auto* sub = rep ? refl->AddMessage(&msg, f) : refl->MutableMessage(&msg, f);
      fill_message(*sub, rng, depth - 1);
      break;
    }
  }
}

} // namespace

void fill_message(google::protobuf::Message& msg, runtime::seeded_random& rng, int max_depth) {
  if (max_depth <= 0)
    return;
  auto* desc = msg.GetDescriptor();
  for (int i = 0; i < desc->field_count(); ++i) {
    auto* f = desc->field(i);
    // One member per oneof, chosen when its first member comes up.
    if (auto* oneof = f->real_containing_oneof()) {
      if (oneof->field(0) != f)
        continue;
      f = oneof->field(static_cast<int>(rng.below(static_cast<uint64_t>(oneof->field_count()))));
    }
    auto count = f->is_repeated() ? 1 + rng.below(2) : 1;
    for (uint64_t k = 0; k < count; ++k)
      fill_field(msg, f, rng, max_depth);
  }
}

} // namespace troupe::test
