// The RabbitMQ broker adapter: one server (host, vhost, credentials) and the sources, sinks
// and admin the engine uses. Every source and sink has its own connection.
#pragma once

#include <memory>
#include <string>

#include "brokers/rabbitmq/rabbitmq_admin.h"
#include "brokers/rabbitmq/rabbitmq_connection.h"
#include "core/broker.h"

namespace qsplit::rabbitmq {

struct RabbitOptions {
  RabbitSettings settings;
  uint16_t prefetch = 1000;  // deliveries a source may hold unacknowledged
};

class RabbitBroker final : public core::Broker {
 public:
  // Checks the server answers and the credentials are accepted.
  static Result<std::unique_ptr<RabbitBroker>> create(RabbitOptions options);

  core::Admin& admin() override { return *admin_; }
  RabbitAdmin& rabbitAdmin() { return *admin_; }
  Result<std::unique_ptr<core::Source>> openSource(const std::string& name,
                                                   const std::string& group) override;
  Result<std::unique_ptr<core::Sink>> openSink(const std::string& name) override;
  core::NameRules nameRules() const override { return core::rabbitNameRules(); }
  std::size_t batchSize() const override { return 250; }
  const RabbitOptions& options() const { return options_; }

 private:
  RabbitBroker(RabbitOptions options, std::unique_ptr<RabbitAdmin> admin)
      : options_(std::move(options)), admin_(std::move(admin)) {}

  RabbitOptions options_;
  std::unique_ptr<RabbitAdmin> admin_;
};

}  // namespace qsplit::rabbitmq
