#include "control/queue_places.h"

#include <gtest/gtest.h>

namespace qsplit::control {
namespace {

config::SqsNamePlace place(std::string variable, bool is_url = false,
                           std::optional<std::string> key = std::nullopt) {
  config::SqsNamePlace p;
  p.container = "main";
  p.variable = std::move(variable);
  p.is_url = is_url;
  p.json_key = std::move(key);
  return p;
}

TEST(QueuePlaces, AValueKeepsItsForm) {
  EXPECT_EQ(placeValue("orders", place("Q"), "mirrord-tmp-1-orders"), "mirrord-tmp-1-orders");
  EXPECT_EQ(placeValue("https://sqs.eu-west-1.amazonaws.com/123/orders", place("Q", true), "tmp"),
            "https://sqs.eu-west-1.amazonaws.com/123/tmp");
  EXPECT_EQ(placeValue(R"({"in":"orders","out":"results"})", place("Q", false, "in"), "tmp"),
            R"({"in":"tmp","out":"results"})");
  EXPECT_EQ(placeValue(R"({"in":"http://h/1/orders"})", place("Q", true, "in"), "tmp"),
            R"({"in":"http://h/1/tmp"})");
}

TEST(QueuePlaces, ApplyingRewritesEveryPlaceInItsContainer) {
  config::ContainerEnv env{{"main", {{"A", "orders"}, {"B", "other"}}}};
  applyPlaces(env, {place("A"), place("C")}, "tmp");
  EXPECT_EQ(env["main"]["A"], "tmp");
  EXPECT_EQ(env["main"]["B"], "other");
  EXPECT_EQ(env["main"]["C"], "tmp");  // a fallbackName variable is added
}

TEST(QueuePlaces, JsonRoundTrip) {
  auto places = placesFromJson(placesToJson({place("A", true), place("B", false, "k")}));
  ASSERT_TRUE(places);
  ASSERT_EQ(places->size(), 2u);
  EXPECT_TRUE((*places)[0].is_url);
  EXPECT_EQ(*(*places)[1].json_key, "k");
  EXPECT_FALSE(placesFromJson(nlohmann::json::array({{{"variable", "A"}}})));
}

}  // namespace
}  // namespace qsplit::control
