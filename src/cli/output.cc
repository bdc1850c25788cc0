#include "cli/output.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <ostream>

namespace almanac::cli {

Result<OutputFormat> ParseOutputFormat(std::string_view text) {
  const std::string t = ToLower(text);
  if (t == "table") return OutputFormat::kTable;
  if (t == "json") return OutputFormat::kJson;
  if (t == "csv") return OutputFormat::kCsv;
  return InvalidArgumentError("unknown output format " + QuoteForMessage(text) + ": expected table, json or csv");
}

std::string CellText(const Json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return FormatDouble(v.get<double>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return CompactJson(v);
}

std::string CsvEscape(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

namespace {
// Numbers in aligned tables: four decimals at most, without trailing zeros (CSV and JSON keep
// full precision).
std::string TableText(const Json& v) {
  if (!v.is_number_float()) return CellText(v);
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) >= 1e15 || (d != 0 && std::fabs(d) < 1e-4)) return FormatDouble(d);
  std::string s = FormatFixed(d, 4);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s;
}

// Display width of UTF-8 text (code points).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}
}  // namespace

void Print(std::ostream& out, const Table& t, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    Json arr = Json::array();
    for (const auto& row : t.rows) {
      Json obj = Json::object();
      for (size_t i = 0; i < t.columns.size() && i < row.size(); ++i) obj[t.columns[i]] = row[i];
      arr.push_back(std::move(obj));
    }
    out << PrettyJson(arr) << "\n";
    return;
  }
  if (format == OutputFormat::kCsv) {
    for (size_t i = 0; i < t.columns.size(); ++i) out << (i ? "," : "") << CsvEscape(t.columns[i]);
    out << "\n";
    for (const auto& row : t.rows) {
      for (size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << CsvEscape(CellText(row[i]));
      out << "\n";
    }
    return;
  }
  std::vector<size_t> w(t.columns.size());
  std::vector<bool> numeric(t.columns.size(), true);
  for (size_t i = 0; i < t.columns.size(); ++i) w[i] = Width(t.columns[i]);
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : t.rows) {
    std::vector<std::string> r;
    for (size_t i = 0; i < row.size() && i < w.size(); ++i) {
      r.push_back(TableText(row[i]));
      w[i] = std::max(w[i], Width(r.back()));
      if (!row[i].is_number() && !row[i].is_null()) numeric[i] = false;
    }
    cells.push_back(std::move(r));
  }
  auto line = [&](const std::vector<std::string>& r, bool header) {
    std::string s;
    for (size_t i = 0; i < r.size(); ++i) {
      const size_t pad = w[i] - Width(r[i]);
      if (i) s += "  ";
      if (numeric[i] && !header) s += std::string(pad, ' ') + r[i];
      else s += r[i] + (i + 1 < r.size() ? std::string(pad, ' ') : "");
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out << s << "\n";
  };
  line(t.columns, true);
  for (const auto& r : cells) line(r, false);
}

void PrintRecord(std::ostream& out, const std::vector<std::pair<std::string, Json>>& fields, OutputFormat format) {
  if (format == OutputFormat::kJson) {
    Json obj = Json::object();
    for (const auto& [k, v] : fields) obj[k] = v;
    out << PrettyJson(obj) << "\n";
    return;
  }
  if (format == OutputFormat::kCsv) {
    out << "field,value\n";
    for (const auto& [k, v] : fields) out << CsvEscape(k) << "," << CsvEscape(CellText(v)) << "\n";
    return;
  }
  size_t w = 0;
  for (const auto& [k, v] : fields) w = std::max(w, k.size());
  for (const auto& [k, v] : fields) out << k << ":" << std::string(w - k.size() + 1, ' ') << CellText(v) << "\n";
}

Result<std::unique_ptr<OutputTarget>> OutputTarget::Open(const std::string& path) {
  auto t = std::make_unique<OutputTarget>();
  if (path.empty() || path == "-") {
    t->out_ = &std::cout;
    return t;
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgumentError("cannot write " + path + ": it is a directory");
  auto f = std::make_unique<std::ofstream>(path, std::ios::binary);
  if (!*f) return PermissionDeniedError("cannot write " + path);
  t->out_ = f.get();
  t->file_ = std::move(f);
  return t;
}

Json Ts(int64_t micros) { return micros == 0 ? Json(nullptr) : Json(FormatTimestamp(micros)); }

}  // namespace almanac::cli
