#include "jq/comparison.h"

#include <array>
#include <cctype>

namespace qsplit::jq {
namespace {

// Words that start or continue a construct looser than `==` (or one this scanner does not
// follow through its keywords): in the last stage, each means "no split".
constexpr std::array<std::string_view, 17> kKeywords = {
    "and", "or", "as", "def", "if", "then", "elif", "else", "end", "reduce",
    "foreach", "try", "catch", "label", "import", "include", "__loc__"};

bool isWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool isWordChar(char c) { return isWordStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The index of the quote that closes the string opened at `open`, or npos for an unterminated
// string or one with an interpolation (`\(`), which holds code this scanner does not follow.
std::size_t stringEnd(std::string_view p, std::size_t open) {
  for (std::size_t i = open + 1; i < p.size(); ++i) {
    if (p[i] == '"') return i;
    if (p[i] != '\\') continue;
    if (i + 1 < p.size() && p[i + 1] == '(') return std::string_view::npos;
    ++i;
  }
  return std::string_view::npos;
}

}  // namespace

std::optional<Comparison> splitComparison(std::string_view p) {
  int depth = 0;
  std::size_t comparison = std::string_view::npos;  // of the last stage's `==` or `!=`
  int comparisons = 0;                              // in the last stage
  bool equal = true;
  bool loose = false;  // the last stage has something looser than `==`, or a keyword
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    char next = i + 1 < p.size() ? p[i + 1] : '\0';
    if (c == '"') {
      i = stringEnd(p, i);
      if (i == std::string_view::npos) return std::nullopt;
      continue;
    }
    if (c == '#') return std::nullopt;  // a comment could hide anything
    if (c == '(' || c == '[' || c == '{') ++depth;
    if (c == ')' || c == ']' || c == '}') {
      if (--depth < 0) return std::nullopt;
    }
    if (depth > 0) continue;
    if (isWordStart(c)) {
      std::size_t end = i;
      while (end < p.size() && isWordChar(p[end])) ++end;
      char before = i > 0 ? p[i - 1] : ' ';
      std::string_view word = p.substr(i, end - i);
      if (before != '.' && before != '$' && before != '@')
        for (auto keyword : kKeywords) loose = loose || word == keyword;
      i = end - 1;
      continue;
    }
    if (c == '|' && next != '=') {  // a new stage
      comparison = std::string_view::npos;
      comparisons = 0;
      loose = false;
    } else if ((c == '=' || c == '!') && next == '=') {
      comparison = i;
      equal = c == '=';
      ++comparisons;
      ++i;
    } else if (c == ',' || c == ';' || c == '=' || c == '<' || c == '>' || c == '|' ||
               (c == '/' && next == '/') || (std::string_view("+-*/%").find(c) != std::string_view::npos && next == '=')) {
      loose = true;  // `|=` and the other assignments, `//`, `,`, `;` and the orderings
    }
  }
  if (depth != 0 || comparisons != 1 || loose) return std::nullopt;
  std::string_view left = trim(p.substr(0, comparison));
  std::string_view literal = trim(p.substr(comparison + 2));
  if (left.empty() || literal.empty()) return std::nullopt;
  return Comparison{std::string(left), equal, std::string(literal)};
}

}  // namespace qsplit::jq
