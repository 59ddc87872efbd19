// splitComparison: whether a jq program is `LEFT == LITERAL` (or `!=`), so that sessions whose
// programs share LEFT run it once per message and compare its output with their own literals.
//
// Developers who split one queue usually write the same program with their own value
// (`.payload | fromjson | .tenant == "t1"`, `... == "t2"`): with ten sessions, libjq would run
// ten times what one run and ten comparisons decide. The split is exact, not a guess: the
// program's first output is `(first output of LEFT) == LITERAL` (jq's own jv_equal), and an
// error or no output of LEFT is no output of the program. That holds when the comparison is the
// top operator of the program's last pipe stage (pipes, `as` bindings, `def` and `label` all
// pass a constant right side through unchanged). Anything this scanner is not sure of (a
// looser operator or a keyword in that stage, a comment, string interpolation) is no split:
// the program then runs whole, as written.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace qsplit::jq {

struct Comparison {
  std::string left;     // a program of its own
  bool equal = true;    // `==`; false for `!=`
  std::string literal;  // the right side's text: a JSON scalar for the worker to accept
};

// The parts of `program`, or nothing when it is not certainly such a comparison. Whether the
// parts compile and the literal is a JSON scalar is for the caller to check.
std::optional<Comparison> splitComparison(std::string_view program);

}  // namespace qsplit::jq
