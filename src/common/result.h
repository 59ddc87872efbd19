// Result<T>: a value or an Error, with std::expected's member names so it can become
// an alias for std::expected once the compiler has it.
#pragma once

#include <cassert>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace qsplit {

enum class ErrorCode {
  kInvalidArgument,  // bad user input: config, regex, resource, request
  kNotFound,         // a named thing (queue, resource, session) does not exist
  kAlreadyExists,
  kFailedPrecondition,  // the request is valid but the current state refuses it
  kUnavailable,         // a broker or server could not be reached; retrying may help
  kPermissionDenied,
  kTimeout,
  kCancelled,  // ended by the caller (a watch stopped, qsplitd stopping)
  kInternal,
};

const char* errorCodeName(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // The same error with "context: " put in front of its message.
  Error withContext(const std::string& context) const {
    return Error(code_, context + ": " + message_);
  }

 private:
  ErrorCode code_;
  std::string message_;
};

// Constructs the error alternative of a Result, as std::unexpected does.
struct Unexpected {
  Error error;
};
inline Unexpected fail(ErrorCode code, std::string message) {
  return Unexpected{Error(code, std::move(message))};
}
inline Unexpected fail(Error error) { return Unexpected{std::move(error)}; }

template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected u) : state_(std::in_place_index<1>, std::move(u.error)) {}
  template <class U>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::decay_t<U>, Result> &&
             !std::is_same_v<std::decay_t<U>, Unexpected> && !std::is_same_v<std::decay_t<U>, T>)
  Result(U&& value) : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const { assert(ok_); }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool ok_ = true;
};

inline Result<void> ok() { return {}; }

}  // namespace qsplit

#define QSPLIT_CONCAT_INNER(a, b) a##b
#define QSPLIT_CONCAT(a, b) QSPLIT_CONCAT_INNER(a, b)

// QSPLIT_TRY(expr): returns the error of a failed Result<...> expression from the caller.
#define QSPLIT_TRY(expr)                                                   \
  do {                                                                     \
    auto&& qsplit_try_result_ = (expr);                                    \
    if (!qsplit_try_result_) return ::qsplit::fail(qsplit_try_result_.error()); \
  } while (0)

// QSPLIT_ASSIGN_OR_RETURN(decl, expr): `decl = value of expr`, or return its error.
#define QSPLIT_ASSIGN_OR_RETURN(decl, expr) \
  QSPLIT_ASSIGN_OR_RETURN_IMPL(QSPLIT_CONCAT(qsplit_result_, __LINE__), decl, expr)
#define QSPLIT_ASSIGN_OR_RETURN_IMPL(tmp, decl, expr)   \
  auto tmp = (expr);                                    \
  if (!tmp) return ::qsplit::fail(tmp.error());         \
  decl = std::move(tmp).value()
