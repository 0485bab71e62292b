// Feature routes: online reads (Feast's request and response shape) and point-in-time
// training sets streamed as JSON Lines. The Authorize step asks the feature store for an
// access mode per feature (FeatureStore::AuthorizeRead) and narrows it by the token's
// scope; the Audit stage appends the read's event (modes, policies) before any row is read.
#include "lineage/capture.h"
#include "server/api.h"

namespace custos::server {
namespace {

constexpr size_t kStreamChunk = 64 << 10;

// A feature outside the token's scope is denied, whatever policy says: a token narrows
// access, never widens it.
void NarrowByTokenScope(const RequestContext& ctx, features::ReadAuthorization& auth) {
  if (!ctx.token) return;
  const identity::TokenScope& scope = ctx.token->scope;
  for (features::ViewAuthorization& va : auth.views) {
    const catalog::ResolvedView& view = va.view->view;
    const std::string view_uid = policy::EntityUid("FeatureView", view.view.name).ToString();
    for (features::FeatureDecision& d : va.features) {
      if (d.mode == features::AccessMode::kDenied) continue;
      const std::string feature_uid =
          features::FeatureUid(view.view.name, view.features[d.feature].name).ToString();
      if (!scope.Allows("read", view_uid) && !scope.Allows("read", feature_uid)) {
        d.mode = features::AccessMode::kDenied;
        d.reasons.clear();
      }
    }
  }
}

Status AuthorizeFeatureRead(Instance& in, RequestContext& ctx) {
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> refs, StringList(ctx.body, "features", false));
  if (auto service = ctx.body.find("feature_service"); service != ctx.body.end()) {
    if (!service->is_string()) {
      return InvalidArgumentError("request body: \"feature_service\" must be a string");
    }
    CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> more,
                            in.features().ServiceRefs(service->get<std::string>()));
    refs.insert(refs.end(), more.begin(), more.end());
  }
  if (refs.empty()) {
    return InvalidArgumentError(
        "request body: name the features to read in \"features\" (e.g. "
        "[\"customer_transactions:txn_count_7d\"]) or a \"feature_service\"");
  }
  CUSTOS_ASSIGN_OR_RETURN(features::ReadContext context, FeatureReadContext(in, ctx));
  CUSTOS_ASSIGN_OR_RETURN(features::ReadAuthorization auth,
                          in.features().AuthorizeRead(context, in.policies().Current(), refs));
  NarrowByTokenScope(ctx, auth);
  for (const auto& va : auth.views) {
    ctx.resources.push_back(
        {"FeatureView", va.view->view.view.name, va.view->view.version.version});
    for (const auto& d : va.features) {
      for (const auto& id : d.reasons) ctx.determining_policies.push_back(id);
    }
  }
  ctx.policy_set_version = auth.policies ? auth.policies->version() : 0;
  if (auth.allowed_features() == 0) {
    ctx.decision = audit::Decision::kDeny;
    return PermissionDeniedError("no policy lets " + ctx.principal->ToString() +
                                 " read any of the requested features for purpose '" +
                                 context.purpose +
                                 "'; ask for access (POST /v1/access/requests) naming the purpose");
  }
  ctx.decision = audit::Decision::kAllow;
  ctx.feature_read = std::move(auth);
  return Status::Ok();
}

Result<catalog::ValueType> JoinKeyType(const features::ReadAuthorization& auth,
                                       const std::string& name) {
  std::string known;
  for (const auto& va : auth.views) {
    for (const features::Column& c : va.view->schema.join_keys) {
      if (c.name == name) return c.type;
      known += (known.empty() ? "" : ", ") + c.name;
    }
  }
  return InvalidArgumentError(
      "request body: \"entities\" names '" + name +
      "', which is no join key of the requested views (join keys: " + known + ")");
}

// {"customer_id": [1001, 1002]}: one column per join key, equal lengths.
Result<features::EntityKeys> ParseEntityKeys(const features::ReadAuthorization& auth,
                                             const nlohmann::json& body) {
  auto it = body.find("entities");
  if (it == body.end() || !it->is_object() || it->empty()) {
    return InvalidArgumentError(
        "request body: \"entities\" is required: an object of join key columns, e.g. "
        "{\"customer_id\": [1001, 1002]}");
  }
  features::EntityKeys keys;
  size_t rows = 0;
  for (auto column = it->begin(); column != it->end(); ++column) {
    const std::string& name = column.key();
    if (!column.value().is_array()) {
      return InvalidArgumentError("request body: \"entities\".\"" + name +
                                  "\" must be a list of key values");
    }
    if (keys.names.empty()) {
      rows = column.value().size();
    } else if (column.value().size() != rows) {
      return InvalidArgumentError(
          "request body: every \"entities\" column needs the same "
          "number of values (\"" +
          name + "\" has " + std::to_string(column.value().size()) + ", the first has " +
          std::to_string(rows) + ")");
    }
    CUSTOS_ASSIGN_OR_RETURN(catalog::ValueType type, JoinKeyType(auth, name));
    std::vector<catalog::Value> values;
    values.reserve(rows);
    for (size_t r = 0; r < column.value().size(); ++r) {
      const nlohmann::json& v = column.value()[r];
      std::string text;
      if (v.is_string()) {
        text = v.get<std::string>();
      } else if (v.is_number() || v.is_boolean()) {
        text = v.dump();
      } else {
        return InvalidArgumentError("request body: \"entities\".\"" + name + "\"[" +
                                    std::to_string(r) + "] must be a number or a string");
      }
      auto value = catalog::ParseScalarText(text, type.scalar);
      if (!value.ok()) {
        return InvalidArgumentError("request body: \"entities\".\"" + name + "\"[" +
                                    std::to_string(r) +
                                    "]: " + std::string(value.status().message()));
      }
      values.push_back(std::move(*value));
    }
    keys.names.push_back(name);
    keys.values.push_back(std::move(values));
  }
  if (rows == 0) return InvalidArgumentError("request body: \"entities\" has no rows");
  return keys;
}

// [{"customer_id": 1001, "event_timestamp": "..."}, ...] through the JSON Lines reader, so
// types and errors are those of `custos training-set --entities rows.jsonl`.
Result<features::EntityRows> ParseEntityRows(const features::ReadAuthorization& auth,
                                             const nlohmann::json& body) {
  auto it = body.find("entity_rows");
  if (it == body.end() || !it->is_array() || it->empty()) {
    return InvalidArgumentError(
        "request body: \"entity_rows\" is required: a list of objects with the join keys and "
        "\"event_timestamp\", e.g. [{\"customer_id\": 1001, \"event_timestamp\": "
        "\"2026-11-01T00:00:00Z\"}]");
  }
  features::EntityRowsSpec spec;
  for (const auto& va : auth.views) {
    for (const features::Column& c : va.view->schema.join_keys) {
      if (std::find(spec.join_keys.begin(), spec.join_keys.end(), c) == spec.join_keys.end()) {
        spec.join_keys.push_back(c);
      }
    }
  }
  std::string lines;
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_object()) {
      return InvalidArgumentError("request body: \"entity_rows\"[" + std::to_string(i) +
                                  "] must be an object");
    }
    lines += (*it)[i].dump();
    lines += '\n';
  }
  return features::ReadEntityRowsJsonl(lines, "entity_rows", spec);
}

}  // namespace

void AddFeatureRoutes(Router& router, Api& api) {
  Instance& in = api.instance();
  router.Add(
      {.id = "features.online",
       .method = http::verb::post,
       .path = "/v1/features/online",
       .summary = "Online feature values for entities (Feast's shape), per-feature access mode",
       .json_body = true,
       // A few point reads from the block cache: on the connection's thread.
       .on_worker = false,
       .audit_action = "features.online.read",
       .authorize = [&in](RequestContext& ctx) -> Status {
         CUSTOS_RETURN_IF_ERROR(AuthorizeFeatureRead(in, ctx));
         CUSTOS_ASSIGN_OR_RETURN(ctx.entity_keys, ParseEntityKeys(*ctx.feature_read, ctx.body));
         ctx.rows = ctx.entity_keys.rows();
         return Status::Ok();
       },
       .audit_event =
           [&in](const RequestContext& ctx) {
             return in.features().ReadEvent(*ctx.feature_read, ctx.route->audit_action, ctx.rows,
                                            ctx.auth_method);
           },
       .handler = [&in](RequestContext& ctx) -> Result<Reply> {
         CUSTOS_ASSIGN_OR_RETURN(
             features::OnlineResponse response,
             in.features().GetOnlineFeatures(*ctx.feature_read, ctx.entity_keys));
         return Reply::Json(response.ToJson());
       }});
  router.Add(
      {.id = "features.training_set",
       .method = http::verb::post,
       .path = "/v1/features/training-set",
       .summary = "A point-in-time correct training set, streamed as JSON Lines",
       .json_body = true,
       .audit_action = "features.training_set",
       .authorize = [&in](RequestContext& ctx) -> Status {
         CUSTOS_RETURN_IF_ERROR(AuthorizeFeatureRead(in, ctx));
         CUSTOS_ASSIGN_OR_RETURN(ctx.entity_rows, ParseEntityRows(*ctx.feature_read, ctx.body));
         ctx.rows = ctx.entity_rows->size();
         return Status::Ok();
       },
       .audit_event =
           [&in](const RequestContext& ctx) {
             return in.features().ReadEvent(*ctx.feature_read, ctx.route->audit_action, ctx.rows,
                                            ctx.auth_method);
           },
       .stream_handler = [&in](RequestContext& ctx, HttpResponse header) -> Status {
         features::TrainingSetRequest request;
         request.format = features::TrainingSetFormat::kJsonl;
         request.require_created_before_ts = ctx.body.value("created_before_ts", false);
         CUSTOS_ASSIGN_OR_RETURN(
             features::TrainingSetOutput output,
             in.features().BuildTrainingSet(*ctx.feature_read, *ctx.entity_rows, request));
         output.manifest.audit_index = *ctx.audit_index;
         // No lineage record, no training set: it is recorded before any byte is sent.
         const auto name = ctx.body.find("name");
         CUSTOS_ASSIGN_OR_RETURN(
             lineage::CapturedTrainingSet captured,
             lineage::CaptureTrainingSet(
                 in.lineage(), output.manifest,
                 name != ctx.body.end() && name->is_string() ? name->get<std::string>() : "",
                 /*path=*/""));
         header.set(http::field::content_type, "application/x-ndjson");
         std::shared_ptr<ResponseStream> stream = ctx.responder->OpenStream(std::move(header));
         ctx.stream_opened = true;
         const std::string_view data = output.data;
         for (size_t at = 0; at < data.size(); at += kStreamChunk) {
           if (!stream->Write(std::string(data.substr(at, kStreamChunk)))) {
             return UnavailableError("the client went away during the training set");
           }
         }
         // One line, whatever the manifest's own formatting.
         const nlohmann::json manifest = nlohmann::json::parse(output.manifest.ToJson());
         // The manifest first: clients recognise the last line by its leading key.
         nlohmann::ordered_json last;
         last["manifest"] = manifest;
         last["lineage"] = {{"node", captured.node_id}, {"audit_index", captured.audit_index}};
         if (!stream->Write(last.dump() + "\n")) {
           return UnavailableError("the client went away before the manifest");
         }
         stream->Finish();
         return Status::Ok();
       }});
}

}  // namespace custos::server
