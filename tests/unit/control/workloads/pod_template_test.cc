#include "control/workloads/pod_template.h"

#include <gtest/gtest.h>

namespace qsplit::control {
namespace {

using nlohmann::json;

// A Deployment whose main container reads one queue from a literal, one from a ConfigMap key
// and one from an envFrom ConfigMap.
json deployment() {
  return json::parse(R"({
    "metadata": {"name": "memes", "labels": {"app": "memes"}},
    "spec": {"template": {"metadata": {"labels": {"app": "memes"}}, "spec": {"containers": [
      {"name": "main",
       "envFrom": [{"configMapRef": {"name": "env"}, "prefix": "P_"}],
       "env": [{"name": "MEME", "value": "memes"},
               {"name": "AD", "valueFrom": {"configMapKeyRef": {"name": "queues", "key": "ad"}}},
               {"name": "MAP", "value": "{\"a\":\"qa\",\"b\":\"qb\"}"},
               {"name": "LOG", "value": "info"}]},
      {"name": "sidecar"}]}}}})");
}

Result<std::map<std::string, std::string>> configMaps(const std::string& name) {
  if (name == "queues") return std::map<std::string, std::string>{{"ad", "ads"}};
  if (name == "env") return std::map<std::string, std::string>{{"EXTRA", "extras"}};
  return fail(ErrorCode::kNotFound, "configmaps \"" + name + "\" not found");
}

config::SqsNamePlace place(const std::string& variable, std::optional<std::string> key = {}) {
  return {"main", variable, std::move(key), false, false};
}

json envOf(const json& d) { return d["spec"]["template"]["spec"]["containers"][0]["env"]; }

Result<bool> patch(json& d, const std::vector<config::SqsNamePlace>& places, const std::string& from,
                   const std::string& to) {
  auto env = podTemplateEnv(d, configMaps);
  if (!env) return fail(env.error());
  return patchTemplate(d, *env, places, from, to);
}

Result<bool> restore(json& d, const std::string& original) {
  auto env = podTemplateEnv(d, configMaps);
  if (!env) return fail(env.error());
  return restoreTemplate(d, *env, original);
}

TEST(PodTemplate, EnvComesFromLiteralsConfigMapKeysAndEnvFrom) {
  auto env = podTemplateEnv(deployment(), configMaps);
  ASSERT_TRUE(env.has_value()) << env.error().message();
  EXPECT_EQ((*env)["main"]["MEME"], "memes");
  EXPECT_EQ((*env)["main"]["AD"], "ads");
  EXPECT_EQ((*env)["main"]["P_EXTRA"], "extras");
  EXPECT_TRUE((*env)["sidecar"].empty());
}

TEST(PodTemplate, AMissingConfigMapIsAnErrorUnlessOptional) {
  json d = deployment();
  d["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["configMapKeyRef"]["name"] = "gone";
  auto env = podTemplateEnv(d, configMaps);
  ASSERT_FALSE(env.has_value());
  EXPECT_EQ(env.error().message(), "container main env AD: ConfigMap gone: configmaps \"gone\" not found");
  d["spec"]["template"]["spec"]["containers"][0]["env"][1]["valueFrom"]["configMapKeyRef"]["optional"] = true;
  EXPECT_TRUE(podTemplateEnv(d, configMaps).has_value());
}

TEST(PodTemplate, PatchSetsLiteralsAndRestoreBringsBackEveryDefinition) {
  json d = deployment(), before = deployment();
  ASSERT_TRUE(*patch(d, {place("MEME")}, "memes", "fb-memes"));
  ASSERT_TRUE(*patch(d, {place("AD")}, "ads", "fb-ads"));
  ASSERT_TRUE(*patch(d, {place("P_EXTRA")}, "extras", "fb-extras"));
  EXPECT_EQ(envOf(d)[0], json({{"name", "MEME"}, {"value", "fb-memes"}}));
  EXPECT_EQ(envOf(d)[1], json({{"name", "AD"}, {"value", "fb-ads"}}));
  EXPECT_EQ(envOf(d)[4], json({{"name", "P_EXTRA"}, {"value", "fb-extras"}}));
  EXPECT_EQ(d["metadata"]["labels"][kPatchedLabel], "true");
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"][kPatchedLabel], "true");
  EXPECT_EQ(recordedPatches(d), (std::map<std::string, std::string>{
                                    {"ads", "fb-ads"}, {"extras", "fb-extras"}, {"memes", "fb-memes"}}));
  // Patching again with the same replacement changes nothing (no restart).
  EXPECT_FALSE(*patch(d, {place("MEME")}, "memes", "fb-memes"));

  ASSERT_TRUE(*restore(d, "ads"));
  ASSERT_TRUE(*restore(d, "memes"));
  ASSERT_TRUE(*restore(d, "extras"));
  EXPECT_FALSE(*restore(d, "memes"));
  d["metadata"].erase("annotations");
  EXPECT_EQ(d, before);
}

TEST(PodTemplate, TheUnpatchedEnvironmentIsReadFromThePatchedWorkload) {
  json d = deployment();
  ASSERT_TRUE(*patch(d, {place("MEME")}, "memes", "fb-memes"));
  ASSERT_TRUE(*patch(d, {place("AD")}, "ads", "fb-ads"));
  json copy = d;
  for (const auto& [original, replacement] : recordedPatches(d)) ASSERT_TRUE(*restore(copy, original));
  auto env = podTemplateEnv(copy, configMaps);
  EXPECT_EQ((*env)["main"]["MEME"], "memes");
  EXPECT_EQ((*env)["main"]["AD"], "ads");
}

TEST(PodTemplate, SomeoneElsesEditMeanwhileIsLeftInPlace) {
  json d = deployment();
  ASSERT_TRUE(*patch(d, {place("MEME")}, "memes", "fb-memes"));
  envOf(d);
  d["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "edited-by-hand";
  d["spec"]["template"]["spec"]["containers"][0]["env"].push_back({{"name", "NEW"}, {"value", "1"}});
  ASSERT_TRUE(*restore(d, "memes"));
  EXPECT_EQ(envOf(d)[0]["value"], "edited-by-hand");
  EXPECT_EQ(envOf(d).back(), json({{"name", "NEW"}, {"value", "1"}}));
  EXPECT_FALSE(d["metadata"]["labels"].contains(kPatchedLabel));
}

TEST(PodTemplate, TwoQueuesOfOneJsonMapAreRestoredOneAtATime) {
  json d = deployment(), before = deployment();
  ASSERT_TRUE(*patch(d, {place("MAP", "a")}, "qa", "fb-a"));
  ASSERT_TRUE(*patch(d, {place("MAP", "b")}, "qb", "fb-b"));
  EXPECT_EQ(json::parse(envOf(d)[2]["value"].get<std::string>()), json({{"a", "fb-a"}, {"b", "fb-b"}}));
  ASSERT_TRUE(*restore(d, "qa"));
  EXPECT_EQ(json::parse(envOf(d)[2]["value"].get<std::string>()), json({{"a", "qa"}, {"b", "fb-b"}}));
  ASSERT_TRUE(*restore(d, "qb"));
  d["metadata"].erase("annotations");
  EXPECT_EQ(d, before);
}

}  // namespace
}  // namespace qsplit::control
