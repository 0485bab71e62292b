// Tests of the human-readable Cedar schema parser: declarations, name resolution and
// error positions.
#include <gtest/gtest.h>

#include <string>

#include "policy/schema.h"

namespace custos::policy {
namespace {

Schema MustParse(std::string_view text) {
  Result<Schema> r = Schema::ParseCedarSchema(text, "s.cedarschema");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Schema();
}

std::string ErrorOf(std::string_view text) {
  Result<Schema> r = Schema::ParseCedarSchema(text, "s.cedarschema");
  EXPECT_FALSE(r.ok());
  return r.ok() ? std::string() : r.status().message();
}

TEST(SchemaCedarTest, EntitiesWithParentsShapesAndTags) {
  Schema s = MustParse(R"(
    // photo sharing
    entity UserGroup;
    entity User in [UserGroup] = {
      name: String,
      age?: Long,
      "quoted attr": Bool,
    } tags Set<String>;
    entity Album, Photo in [Album] { owner: User };
  )");
  ASSERT_EQ(s.entity_types().size(), 4u);
  const EntityTypeSchema* user = s.FindEntityType("User");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->member_of_types, std::vector<std::string>{"UserGroup"});
  ASSERT_EQ(user->shape.attributes.size(), 3u);
  EXPECT_TRUE(user->shape.Find("name")->required);
  EXPECT_FALSE(user->shape.Find("age")->required);
  EXPECT_EQ(user->shape.Find("age")->type->kind, SchemaType::Kind::kLong);
  EXPECT_EQ(user->shape.Find("quoted attr")->type->kind, SchemaType::Kind::kBool);
  ASSERT_NE(user->tags, nullptr);
  EXPECT_EQ(user->tags->ToString(), "Set<String>");

  const EntityTypeSchema* photo = s.FindEntityType("Photo");
  ASSERT_NE(photo, nullptr);
  EXPECT_EQ(photo->member_of_types, std::vector<std::string>{"Album"});
  EXPECT_EQ(photo->shape.Find("owner")->type->ToString(), "User");
  EXPECT_EQ(s.FindEntityType("Album")->member_of_types, std::vector<std::string>{"Album"});
  EXPECT_EQ(s.FindEntityType("UserGroup")->tags, nullptr);
  EXPECT_EQ(s.FindEntityType("Nope"), nullptr);
}

TEST(SchemaCedarTest, EnumeratedEntityTypes) {
  Schema s = MustParse(R"(entity Color enum ["red", "green", "\u{1F600}"];)");
  const EntityTypeSchema* c = s.FindEntityType("Color");
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->enum_ids.has_value());
  EXPECT_EQ(*c->enum_ids, (std::vector<std::string>{"red", "green", "\xF0\x9F\x98\x80"}));
}

TEST(SchemaCedarTest, ActionsAppliesToAndGroups) {
  Schema s = MustParse(R"(
    entity User; entity Photo;
    action readOnly;
    action "view", edit in [readOnly] appliesTo {
      principal: User,
      resource: [Photo],
      context: { ip: ipaddr, when?: __cedar::datetime }
    };
    action delete in Action::"edit" appliesTo { principal: [User], resource: Photo };
  )");
  EXPECT_EQ(s.actions().size(), 4u);
  const ActionSchema* view = s.FindAction("Action", "view");
  ASSERT_NE(view, nullptr);
  EXPECT_TRUE(view->has_applies_to);
  EXPECT_EQ(view->principal_types, std::vector<std::string>{"User"});
  EXPECT_EQ(view->resource_types, std::vector<std::string>{"Photo"});
  ASSERT_EQ(view->member_of.size(), 1u);
  EXPECT_EQ(view->member_of[0], (ActionUid{"Action", "readOnly"}));
  EXPECT_EQ(view->context.Find("ip")->type->ToString(), "ipaddr");
  EXPECT_FALSE(view->context.Find("when")->required);

  const ActionSchema* read_only = s.FindAction("Action", "readOnly");
  ASSERT_NE(read_only, nullptr);
  EXPECT_FALSE(read_only->has_applies_to);
  EXPECT_TRUE(read_only->principal_types.empty());

  // delete in edit in readOnly: transitive ancestors.
  EXPECT_EQ(s.ActionAncestors(ActionUid{"Action", "delete"}),
            (std::vector<ActionUid>{{"Action", "edit"}, {"Action", "readOnly"}}));
  EXPECT_TRUE(s.IsActionEntityType("Action"));
  EXPECT_FALSE(s.IsActionEntityType("User"));
}

TEST(SchemaCedarTest, NamespacesQualifyNames) {
  Schema s = MustParse(R"(
    entity Global;
    namespace App::Core {
      entity User in [Group, Global];
      entity Group;
      action view appliesTo { principal: User, resource: Global };
    }
  )");
  EXPECT_NE(s.FindEntityType("App::Core::User"), nullptr);
  EXPECT_EQ(s.FindEntityType("User"), nullptr);
  EXPECT_EQ(s.FindEntityType("App::Core::User")->member_of_types,
            (std::vector<std::string>{"App::Core::Group", "Global"}));
  const ActionSchema* view = s.FindAction("App::Core::Action", "view");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->principal_types, std::vector<std::string>{"App::Core::User"});
  EXPECT_EQ(s.FindAction("Action", "view"), nullptr);
  EXPECT_TRUE(s.IsActionEntityType("App::Core::Action"));
}

TEST(SchemaCedarTest, CommonTypesResolveAndTakePrecedence) {
  Schema s = MustParse(R"(
    type Addr = { street: String, zip?: Long };
    entity Person = { home: Addr, tags: Set<Addr> };
    namespace N {
      type Id = String;
      entity Thing = { id: Id, where: Addr, ext: decimal };
    }
  )");
  EXPECT_EQ(s.FindEntityType("Person")->shape.Find("home")->type->ToString(),
            "{street: String, zip?: Long}");
  EXPECT_EQ(s.FindEntityType("Person")->shape.Find("tags")->type->ToString(),
            "Set<{street: String, zip?: Long}>");
  const EntityTypeSchema* thing = s.FindEntityType("N::Thing");
  ASSERT_NE(thing, nullptr);
  EXPECT_EQ(thing->shape.Find("id")->type->kind, SchemaType::Kind::kString);
  // Unqualified names fall back to the empty namespace.
  EXPECT_EQ(thing->shape.Find("where")->type->kind, SchemaType::Kind::kRecord);
  EXPECT_EQ(thing->shape.Find("ext")->type->ToString(), "decimal");
}

TEST(SchemaCedarTest, CommonTypeShadowsEntityAndBuiltin) {
  Schema s = MustParse(R"(
    namespace N {
      type decimal = Long;        // shadows the extension type inside N
      entity E = { a: decimal, b: __cedar::decimal, c: Target, d: N::Target, e: Other };
      entity Target;
      type Other = Target;        // a common type may share a name with an entity type...
      entity Other;               // ... and wins when the name is resolved
    }
  )");
  const EntityTypeSchema* e = s.FindEntityType("N::E");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->shape.Find("a")->type->kind, SchemaType::Kind::kLong);
  EXPECT_EQ(e->shape.Find("b")->type->ToString(), "decimal");
  EXPECT_EQ(e->shape.Find("c")->type->ToString(), "N::Target");
  EXPECT_EQ(e->shape.Find("d")->type->ToString(), "N::Target");
  EXPECT_EQ(e->shape.Find("e")->type->ToString(), "N::Target");
}

TEST(SchemaCedarTest, ShadowingTheEmptyNamespaceIsAnError) {
  EXPECT_EQ(ErrorOf("entity User;\nnamespace Demo { entity User; }"),
            "s.cedarschema:2:25: entity type `Demo::User` shadows `User` declared in the empty "
            "namespace; rename one of them");
  EXPECT_EQ(ErrorOf("type Id = String;\nnamespace Demo { entity Id; }"),
            "s.cedarschema:2:25: entity type `Demo::Id` shadows `Id` declared in the empty "
            "namespace; rename one of them");
  EXPECT_EQ(ErrorOf("entity User;\nnamespace Demo { type User = String; }"),
            "s.cedarschema:2:23: common type `Demo::User` shadows `User` declared in the empty "
            "namespace; rename one of them");
  EXPECT_EQ(ErrorOf("action read;\nnamespace Demo { action read; }"),
            "s.cedarschema:2:25: action \"read\" in namespace `Demo` shadows the action of that "
            "name in the empty namespace; rename one of them");
  // An action may share its name with a type.
  MustParse("entity read;\nnamespace Demo { action read; }");
}

TEST(SchemaCedarTest, AnnotationsAreKept) {
  Schema s = MustParse(R"(
    @doc("a user") @internal
    entity User = { @doc("x") name: String };
    @doc("reading") action read;
  )");
  const EntityTypeSchema* u = s.FindEntityType("User");
  ASSERT_NE(u, nullptr);
  EXPECT_EQ(u->annotations.at("doc"), "a user");
  EXPECT_EQ(u->annotations.at("internal"), "");
  EXPECT_EQ(s.FindAction("Action", "read")->annotations.at("doc"), "reading");
}

TEST(SchemaCedarTest, DescendantTypesFollowMemberOfTransitively) {
  Schema s = MustParse(R"(
    entity Org; entity Team in [Org]; entity User in [Team]; entity Doc;
  )");
  EXPECT_EQ(s.DescendantTypes("Org"), (std::vector<std::string>{"Org", "Team", "User"}));
  EXPECT_EQ(s.DescendantTypes("Doc"), (std::vector<std::string>{"Doc"}));
  EXPECT_TRUE(s.DescendantTypes("Nope").empty());
}

TEST(SchemaCedarTest, ErrorsCarryExactPositions) {
  EXPECT_EQ(ErrorOf("entity User\nentity Photo;"),
            "s.cedarschema:2:1: expected `in`, '{', `tags` or ';' in the entity declaration, "
            "found `entity`");
  EXPECT_EQ(ErrorOf("entity User = { name String };"),
            "s.cedarschema:1:22: expected ':' after attribute name `name`, found `String`");
  EXPECT_EQ(ErrorOf("entity A;\n  entity B = { x: Nope };"),
            "s.cedarschema:2:19: unknown type `Nope`; declare it as an entity type or a common "
            "type (`type Nope = ...;`)");
  EXPECT_EQ(ErrorOf("entity A in [B];"),
            "s.cedarschema:1:14: unknown entity type `B`; declare it with `entity B;` or fix "
            "the name");
  EXPECT_EQ(ErrorOf("action a in [b];"),
            "s.cedarschema:1:14: unknown action group \"b\"; declare it as an action in this "
            "namespace");
  EXPECT_EQ(ErrorOf("entity A = { a: Long, a: String };"),
            "s.cedarschema:1:23: attribute `a` is declared twice in this record; remove one");
  EXPECT_EQ(ErrorOf("entity A;\nentity A;"),
            "s.cedarschema:2:8: entity type `A` is declared twice; remove one");
  EXPECT_EQ(ErrorOf("entity A = { s: \"abc };"),
            "s.cedarschema:1:17: unterminated string literal; add the closing '\"'");
  EXPECT_EQ(ErrorOf("entity A # ;"), "s.cedarschema:1:10: unexpected character '#'");
  EXPECT_EQ(ErrorOf("namespace __cedar { entity A; }"),
            "s.cedarschema:1:1: the namespace `__cedar` is reserved; choose another name");
  EXPECT_EQ(ErrorOf("type Long = String;"),
            "s.cedarschema:1:6: `Long` is reserved and cannot name a common type");
  EXPECT_EQ(ErrorOf("entity A = { a: __cedar::Foo };"),
            "s.cedarschema:1:17: unknown builtin type `__cedar::Foo`; __cedar:: names Bool, "
            "Long, String, ipaddr, decimal, datetime and duration");
  EXPECT_EQ(ErrorOf("entity A = { a: Set<Long };"),
            "s.cedarschema:1:26: expected '>' closing Set<...>, found '}'");
  EXPECT_EQ(ErrorOf("entity E enum [];"),
            "s.cedarschema:1:16: expected a string literal in the enum list, found ']'");
}

TEST(SchemaCedarTest, ColumnsCountCharactersNotBytes) {
  // "é" is two bytes in UTF-8 but one column.
  EXPECT_EQ(ErrorOf("entity A = { \"é\": Nope };"),
            "s.cedarschema:1:19: unknown type `Nope`; declare it as an entity type or a common "
            "type (`type Nope = ...;`)");
}

TEST(SchemaCedarTest, CyclesAreRejected) {
  EXPECT_EQ(ErrorOf("type A = B;\ntype B = { x: A };"),
            "s.cedarschema:2:15: common type `A` refers to itself; a common type cannot be "
            "recursive");
  std::string err = ErrorOf("action a in b; action b in a;");
  EXPECT_NE(err.find("is (transitively) a member of itself"), std::string::npos) << err;
}

TEST(SchemaCedarTest, ContextMustBeARecord) {
  EXPECT_EQ(ErrorOf("entity U; type C = Long;\n"
                    "action a appliesTo { principal: U, resource: U, context: C };"),
            "s.cedarschema:2:58: the context of action \"a\" must be a record type, not Long");
  Schema s = MustParse(
      "entity U; type C = { n: Long };\n"
      "action a appliesTo { principal: U, resource: U, context: C };");
  EXPECT_EQ(s.FindAction("Action", "a")->context.Find("n")->type->kind, SchemaType::Kind::kLong);
}

TEST(SchemaCedarTest, DeepNestingIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "Set<";
  Result<Schema> r = Schema::ParseCedarSchema("entity A = { a: " + deep, "deep");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("types nest too deeply"), std::string::npos);
  std::string records;
  for (int i = 0; i < 5000; ++i) records += "{a: ";
  r = Schema::ParseCedarSchema("entity A = " + records, "deep");
  ASSERT_FALSE(r.ok());
}

TEST(SchemaCedarTest, ExponentiallyLargeTypesAreRejected) {
  // Each common type doubles the one before: 2^40 nodes when written out.
  std::string text = "type T0 = { a: Long };\n";
  for (int i = 1; i <= 40; ++i) {
    text += "type T" + std::to_string(i) + " = { a: T" + std::to_string(i - 1) + ", b: T" +
            std::to_string(i - 1) + " };\n";
  }
  Result<Schema> r = Schema::ParseCedarSchema(text + "entity E = { x: T40 };", "big");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "big:42:8: the types of entity type `E` expand to more than 100000 nodes; "
            "simplify them");
  // Error messages that print such a type stay short.
  r = Schema::ParseCedarSchema(text +
                                   "entity U; action a appliesTo { principal: U, resource: "
                                   "U, context: Set<T40> };",
                               "big");
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 700u);
}

TEST(SchemaCedarTest, EmptyInputIsAnEmptySchema) {
  Schema s = MustParse("  // nothing\n");
  EXPECT_TRUE(s.entity_types().empty());
  EXPECT_TRUE(s.actions().empty());
}

TEST(SchemaCedarTest, SharedSampleSchemasParse) {
  for (const char* name : {"sandbox_a/schema.cedarschema", "sandbox_b/schema.cedarschema",
                           "sandbox_b/schema_exts.cedarschema"}) {
    std::string path = std::string(CUSTOS_SHARED_DIR) + "/cedar/sample-data/" + name;
    FILE* f = fopen(path.c_str(), "rb");
    ASSERT_NE(f, nullptr) << path;
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) text.append(buf, n);
    fclose(f);
    Result<Schema> r = Schema::ParseCedarSchema(text, name);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_NE(r->FindAction("Action", "view"), nullptr);
    EXPECT_NE(r->FindEntityType("Photo"), nullptr);
  }
}

}  // namespace
}  // namespace custos::policy
