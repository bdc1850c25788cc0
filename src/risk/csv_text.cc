#include "risk/csv_text.h"

#include "almanac/core/format.h"

namespace almanac::risk {

std::vector<std::string> SplitCsvLine(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back(Trim(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.emplace_back(Trim(cur));
  return out;
}

std::vector<std::pair<int, std::string>> CsvLines(std::string_view text, bool skip_comments) {
  std::vector<std::pair<int, std::string>> out;
  int number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view trimmed = Trim(line);
    if (!trimmed.empty() && !(skip_comments && trimmed[0] == '#')) out.emplace_back(number, std::string(line));
    if (end == text.size()) break;
    start = end + 1;
  }
  return out;
}

}  // namespace almanac::risk
