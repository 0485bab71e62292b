// Tests of the JSON schema reader: every kind of type, namespaces, actions, errors with
// their JSON paths, and agreement with the human-readable form.
#include <gtest/gtest.h>

#include <string>

#include "policy/schema.h"

namespace custos::policy {
namespace {

Schema MustParse(std::string_view text) {
  Result<Schema> r = Schema::ParseJsonSchema(text, "s.json");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Schema();
}

std::string ErrorOf(std::string_view text) {
  Result<Schema> r = Schema::ParseJsonSchema(text, "s.json");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.status().message();
}

constexpr const char* kPhotoApp = R"({
  "PhotoApp": {
    "commonTypes": {
      "Context": {
        "type": "Record",
        "attributes": {
          "ip": {"type": "Extension", "name": "ipaddr"},
          "mfa": {"type": "Boolean", "required": false}
        }
      },
      "Name": {"type": "String"}
    },
    "entityTypes": {
      "User": {
        "memberOfTypes": ["Group"],
        "shape": {
          "type": "Record",
          "attributes": {
            "name": {"type": "Name"},
            "age": {"type": "Long", "required": false},
            "friends": {"type": "Set", "element": {"type": "Entity", "name": "User"}},
            "boss": {"type": "EntityOrCommon", "name": "User"},
            "score": {"type": "decimal"}
          }
        },
        "tags": {"type": "String"}
      },
      "Group": {},
      "Photo": {"shape": {"type": "Record", "attributes": {}, "additionalAttributes": true}},
      "Color": {"enum": ["red", "blue"]}
    },
    "actions": {
      "read": {},
      "view": {
        "memberOf": [{"id": "read"}, {"id": "read", "type": "PhotoApp::Action"}],
        "appliesTo": {
          "principalTypes": ["User"],
          "resourceTypes": ["Photo", "Color"],
          "context": {"type": "Context"}
        },
        "annotations": {"doc": "view a photo"}
      }
    }
  }
})";

TEST(SchemaJsonTest, ReadsEveryTypeForm) {
  Schema s = MustParse(kPhotoApp);
  const EntityTypeSchema* user = s.FindEntityType("PhotoApp::User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of_types, std::vector<std::string>{"PhotoApp::Group"});
  EXPECT_EQ(user->shape.Find("name")->type->kind, SchemaType::Kind::kString);
  EXPECT_FALSE(user->shape.Find("age")->required);
  EXPECT_EQ(user->shape.Find("friends")->type->ToString(), "Set<PhotoApp::User>");
  EXPECT_EQ(user->shape.Find("boss")->type->ToString(), "PhotoApp::User");
  // A bare name that is no common type falls back to builtins (here an extension type).
  EXPECT_EQ(user->shape.Find("score")->type->ToString(), "decimal");
  ASSERT_NE(user->tags, nullptr);
  EXPECT_EQ(user->tags->kind, SchemaType::Kind::kString);

  EXPECT_TRUE(s.FindEntityType("PhotoApp::Photo")->shape.additional_attributes);
  EXPECT_EQ(*s.FindEntityType("PhotoApp::Color")->enum_ids,
            (std::vector<std::string>{"red", "blue"}));

  const ActionSchema* view = s.FindAction("PhotoApp::Action", "view");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->member_of, (std::vector<ActionUid>{{"PhotoApp::Action", "read"}}));
  EXPECT_EQ(view->resource_types, (std::vector<std::string>{"PhotoApp::Photo", "PhotoApp::Color"}));
  EXPECT_EQ(view->context.Find("ip")->type->ToString(), "ipaddr");
  EXPECT_FALSE(view->context.Find("mfa")->required);
  EXPECT_EQ(view->annotations.at("doc"), "view a photo");
  EXPECT_FALSE(s.FindAction("PhotoApp::Action", "read")->has_applies_to);
}

TEST(SchemaJsonTest, SameModelAsTheHumanForm) {
  Result<Schema> human = Schema::ParseCedarSchema(R"(
    namespace PhotoApp {
      type Context = { ip: ipaddr, mfa?: Bool };
      type Name = String;
      entity User in [Group] = {
        name: Name, age?: Long, friends: Set<User>, boss: User, score: decimal
      } tags String;
      entity Group;
      entity Photo;
      entity Color enum ["red", "blue"];
      action read;
      action view in [read] appliesTo {
        principal: [User], resource: [Photo, Color], context: Context
      };
    })",
                                                  "s.cedarschema");
  ASSERT_TRUE(human.ok()) << human.status().ToString();
  Schema json = MustParse(kPhotoApp);
  ASSERT_EQ(human->entity_types().size(), json.entity_types().size());
  for (const auto& [name, et] : human->entity_types()) {
    const EntityTypeSchema* other = json.FindEntityType(name);
    ASSERT_NE(other, nullptr) << name;
    EXPECT_EQ(et.member_of_types, other->member_of_types) << name;
    EXPECT_EQ(et.enum_ids, other->enum_ids) << name;
    if (name != "PhotoApp::Photo") {  // JSON's Photo allows additional attributes
      EXPECT_TRUE(SameType(*SchemaType::Record(et.shape), *SchemaType::Record(other->shape)))
          << name;
    }
  }
  const ActionSchema* a = human->FindAction("PhotoApp::Action", "view");
  const ActionSchema* b = json.FindAction("PhotoApp::Action", "view");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->member_of, b->member_of);
  EXPECT_EQ(a->principal_types, b->principal_types);
  EXPECT_EQ(a->resource_types, b->resource_types);
  EXPECT_TRUE(SameType(*SchemaType::Record(a->context), *SchemaType::Record(b->context)));
}

TEST(SchemaJsonTest, EmptyNamespaceAndCrossNamespaceReferences) {
  Schema s = MustParse(R"({
    "": {"entityTypes": {"Org": {}}, "actions": {}},
    "App": {
      "entityTypes": {"User": {"memberOfTypes": ["Org"]}},
      "actions": {"go": {"appliesTo": {"principalTypes": ["User"], "resourceTypes": ["Org"]}}}
    }
  })");
  EXPECT_EQ(s.FindEntityType("App::User")->member_of_types, std::vector<std::string>{"Org"});
  const ActionSchema* go = s.FindAction("App::Action", "go");
  ASSERT_NE(go, nullptr);
  EXPECT_EQ(go->resource_types, std::vector<std::string>{"Org"});
  EXPECT_TRUE(go->context.attributes.empty());
}

// Paths are JSON Pointers, so the empty namespace "" shows as a leading "//".
TEST(SchemaJsonTest, ErrorsNameTheJsonPath) {
  EXPECT_EQ(ErrorOf(R"({"A": {"entityTypes": {}}})"), "s.json: at /A: missing field `actions`");
  EXPECT_EQ(ErrorOf(R"({"A": {"entityTypes": {"U": {"shape": {"type": "Record",
              "attributes": {"x": {"type": "Nope"}}}}}, "actions": {}}})"),
            "s.json: at /A/entityTypes/U/shape/attributes/x: unknown type `Nope`; declare it "
            "as an entity type or a common type (`type Nope = ...;`)");
  EXPECT_EQ(ErrorOf(R"({"": {"entityTypes": {"U": {"memberOfTypes": ["G"]}}, "actions": {}}})"),
            "s.json: at //entityTypes/U/memberOfTypes/0: unknown entity type `G`; declare it "
            "with `entity G;` or fix the name");
  EXPECT_EQ(ErrorOf(R"({"": {"entityTypes": {"U": {"bogus": 1}}, "actions": {}}})"),
            "s.json: at //entityTypes/U: unknown field `bogus`; expected one of: memberOfTypes, "
            "shape, tags, enum, annotations");
  EXPECT_EQ(ErrorOf(R"({"": {"entityTypes": {"U": {"shape": {"type": "Long"}}},
              "actions": {}}})"),
            "s.json: at //entityTypes/U/shape: the shape of entity type `U` must be a record "
            "type, not Long");
  EXPECT_EQ(ErrorOf(R"({"": {"entityTypes": {}, "actions": {"a": {"memberOf": [{"id": "b"}]}}}})"),
            "s.json: at //actions/a/memberOf/0: unknown action group \"b\"; declare it as an "
            "action in this namespace");
  EXPECT_EQ(ErrorOf(R"({"": {"commonTypes": {"Set": {"type": "Long"}}, "entityTypes": {},
              "actions": {}}})"),
            "s.json: at //commonTypes/Set: `Set` is reserved and cannot name a common type");
  EXPECT_EQ(ErrorOf(R"({"": {"entityTypes": {"U": {"shape": {"type": "Extension",
              "name": "money"}}}, "actions": {}}})"),
            "s.json: at //entityTypes/U/shape: unknown extension type `money`; expected ipaddr, "
            "decimal, datetime or duration");
  EXPECT_EQ(ErrorOf("[]"), "s.json: at /: a schema must be a JSON object of namespaces");
}

TEST(SchemaJsonTest, SyntaxErrorsHaveLineAndColumn) {
  EXPECT_EQ(ErrorOf("{\n  \"A\": {,}\n}"),
            "s.json:2:9: invalid JSON: syntax error while parsing object key - unexpected ','; "
            "expected string literal");
}

TEST(SchemaJsonTest, ParsePicksTheForm) {
  Result<Schema> json =
      Schema::Parse("\n {\"\": {\"entityTypes\": {\"U\": {}}, \"actions\": {}}}", "a");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_NE(json->FindEntityType("U"), nullptr);
  Result<Schema> human = Schema::Parse("entity U;", "b");
  ASSERT_TRUE(human.ok()) << human.status().ToString();
  EXPECT_NE(human->FindEntityType("U"), nullptr);
  EXPECT_EQ(Schema::Parse("{", "c").status().message().substr(0, 6), "c:1:2:");
}

TEST(SchemaJsonTest, HugeNumbersAreAnErrorNotAnException) {
  // Found by fuzz/schema_parser_fuzz.cc: nlohmann reports this as out_of_range.
  EXPECT_EQ(ErrorOf("[4444444444444444444444444444444444444444442222e22222]"),
            "s.json: invalid JSON: number overflow parsing "
            "'4444444444444444444444444444444444444444442222e22222'");
}

TEST(SchemaJsonTest, DeepNestingIsRejected) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "[";
  Result<Schema> r = Schema::ParseJsonSchema(deep, "deep.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nests too deeply"), std::string::npos);

  std::string type = R"({"type": "Long"})";
  for (int i = 0; i < 300; ++i) type = R"({"type": "Set", "element": )" + type + "}";
  r = Schema::ParseJsonSchema(
      R"({"": {"entityTypes": {"U": {"tags": )" + type + R"(}}, "actions": {}}})", "deep.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("types nest too deeply"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace custos::policy
