// `almanac report MODEL@VERSION`: writes monitor's model-risk report (monitor::BuildModelRiskReport)
// to an HTML file, and prints it to PDF through headless Chromium on request.
#include "cli/commands_report.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "almanac/models.h"
#include "almanac/core/json.h"
#include "almanac/monitor.h"
#include "almanac/monitor/risk_report.h"

namespace almanac::cli {

int RunReport(const GlobalOptions& g, const ReportArgs& a) {
  const size_t at = a.ref.find('@');
  if (at == std::string::npos || at == 0 || at + 1 == a.ref.size())
    return ReportError(InvalidArgumentError("expected MODEL@VERSION (e.g. gdp@3 or gdp@production), got " + QuoteForMessage(a.ref)));
  const std::string name = a.ref.substr(0, at), which = a.ref.substr(at + 1);
  auto ws = Workspace::Open(g.workspace);
  if (!ws.ok()) return ReportError(ws.status());
  auto artifacts = store::OpenArtifactStore("file:" + (*ws)->artifacts_dir());
  if (!artifacts.ok()) return ReportError(artifacts.status());
  models::ForecasterRegistry models;
  models::RegisterBuiltinModels(models);
  monitor::ModelRiskReportOptions options;
  // The optional risk files (JSON), read before any work.
  auto read_json = [](const std::string& option, const std::string& file) -> Result<Json> {
    std::ifstream in(file, std::ios::binary);
    if (!in) return NotFoundError(option + ": cannot read " + file);
    std::stringstream text;
    text << in.rdbuf();
    auto j = ParseJson(text.str());
    if (!j.ok()) return InvalidArgumentError(option + " " + file + ": not valid JSON: " + j.status().message());
    return std::move(*j);
  };
  if (!a.risk.empty()) {
    auto j = read_json("--risk", a.risk);
    if (!j.ok()) return ReportError(j.status());
    options.risk = std::move(*j);
    options.risk_source = a.risk;
  }
  if (!a.var_backtest.empty()) {
    auto j = read_json("--var-backtest", a.var_backtest);
    if (!j.ok()) return ReportError(j.status());
    options.var_backtest = std::move(*j);
    options.var_backtest_source = a.var_backtest;
  }
  auto report = monitor::BuildModelRiskReport((*ws)->store(), **artifacts, models, name, which, SystemClock(), options);
  if (!report.ok()) return ReportError(report.status());
  const std::string& h = report->html;
  const std::string out = a.output.empty() ? name + "-v" + std::to_string(report->version) + "-report.html" : a.output;
  {
    std::ofstream f(out, std::ios::binary);
    if (!f) return ReportError(PermissionDeniedError("cannot write " + out));
    f << h;
    if (!f) return ReportError(DataLossError("writing " + out + " failed"));
  }
  if (!g.quiet) std::cerr << "wrote " << out << " (" << h.size() << " bytes)\n";
  if (!a.pdf.empty()) {
    // Print through headless Chromium (the same engine the HTML is tested with).
    const char* browser = nullptr;
    for (const char* b : {"chromium", "chromium-browser", "google-chrome"})
      if (std::system(("command -v " + std::string(b) + " >/dev/null 2>&1").c_str()) == 0) {
        browser = b;
        break;
      }
    if (browser == nullptr)
      return ReportError(FailedPreconditionError("--pdf needs Chromium (Debian package 'chromium'); the HTML report is in " + out));
    std::error_code ec;
    const std::string abs_html = std::filesystem::absolute(out, ec).string();
    const std::string abs_pdf = std::filesystem::absolute(a.pdf, ec).string();
    std::filesystem::remove(abs_pdf, ec);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string print = "--print-to-pdf=" + abs_pdf;
      const std::string url = "file://" + abs_html;
      const int null_fd = ::open("/dev/null", O_WRONLY);
      if (null_fd >= 0) {
        ::dup2(null_fd, 1);
        ::dup2(null_fd, 2);
      }
      ::execlp(browser, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", print.c_str(),
               url.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !std::filesystem::exists(abs_pdf))
      return ReportError(InternalError("Chromium could not print " + out + " to " + a.pdf));
    if (!g.quiet) std::cerr << "wrote " << a.pdf << "\n";
  }
  return kExitOk;
}

}  // namespace almanac::cli
