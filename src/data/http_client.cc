// libcurl GET with retries, backoff with jitter, Retry-After, conditional requests, a body
// cap and a per-client rate limit. Every message goes through Redact() first.
#include <algorithm>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "almanac/data.h"
#include "data/libcurl.h"

namespace almanac::data {
namespace {

bool IsRetryableStatus(long s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504; }

bool IsRetryableCurl(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
      return true;
    default:
      return false;
  }
}

// Parses Retry-After: delta-seconds or an HTTP-date. -1 when absent or unreadable.
int64_t ParseRetryAfter(std::string_view v) {
  v = Trim(v);
  if (v.empty()) return -1;
  if (std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return v.size() > 9 ? INT32_MAX : std::stoll(std::string(v));
  const time_t when = Curl().getdate(std::string(v).c_str(), nullptr);
  if (when < 0) return -1;
  const int64_t delta = static_cast<int64_t>(when) - static_cast<int64_t>(std::time(nullptr));
  return std::max<int64_t>(0, delta);
}

struct Transfer {
  std::string body;
  int64_t max_bytes = 0;
  bool too_large = false;
  std::string content_type, etag, last_modified, retry_after;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (static_cast<int64_t>(t->body.size() + len) > t->max_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->body.append(data, len);
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  // A new status line (redirects, 100-continue) starts a new header block.
  if (line.rfind("HTTP/", 0) == 0) {
    t->content_type.clear();
    t->etag.clear();
    t->last_modified.clear();
    t->retry_after.clear();
    return len;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  const std::string name = ToLower(line.substr(0, colon));
  const std::string value(Trim(line.substr(colon + 1)));
  if (name == "content-type") t->content_type = value;
  else if (name == "etag") t->etag = value;
  else if (name == "last-modified") t->last_modified = value;
  else if (name == "retry-after") t->retry_after = value;
  return len;
}

}  // namespace

std::string RedactSecrets(std::string_view text, const std::vector<std::string>& secrets) {
  std::string out(text);
  for (const auto& s : secrets) {
    if (s.size() < 4) continue;  // too short to be a key; would mangle ordinary text
    size_t pos = 0;
    while ((pos = out.find(s, pos)) != std::string::npos) {
      out.replace(pos, s.size(), "***");
      pos += 3;
    }
  }
  for (const char* name : {"api_key=", "apikey=", "key=", "token=", "access_token="}) {
    size_t pos = 0;
    const size_t nlen = std::strlen(name);
    while ((pos = out.find(name, pos)) != std::string::npos) {
      // Only as a query parameter name (after ? or &), not inside another word.
      if (pos == 0 || (out[pos - 1] != '?' && out[pos - 1] != '&')) {
        pos += nlen;
        continue;
      }
      const size_t start = pos + nlen;
      size_t end = out.find_first_of("&# \t\r\n'\")", start);
      if (end == std::string::npos) end = out.size();
      if (out.compare(start, end - start, "***") != 0) out.replace(start, end - start, "***");
      pos = start + 3;
    }
  }
  return out;
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
  std::mt19937_64 rng;
  std::chrono::steady_clock::time_point next_request{};
  ~Impl() {
    if (curl != nullptr) Curl().easy_cleanup(curl);
  }
};

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)), impl_(std::make_unique<Impl>()) {}
HttpClient::~HttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options) {
  if (options.connect_timeout_ms <= 0 || options.timeout_ms <= 0)
    return InvalidArgumentError("HTTP timeouts must be positive");
  if (options.max_retries < 0 || options.max_retries > 20) return InvalidArgumentError("HTTP retries must be 0..20");
  if (options.max_body_bytes <= 0) return InvalidArgumentError("max_body_bytes must be positive");
  if (options.requests_per_minute < 0) return InvalidArgumentError("requests_per_minute must not be negative");
  ALMANAC_RETURN_IF_ERROR(LoadLibCurl().status());
  if (!options.sleep) options.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  std::unique_ptr<HttpClient> c(new HttpClient(std::move(options)));
  c->impl_->curl = Curl().easy_init();
  if (c->impl_->curl == nullptr) return InternalError("libcurl could not create a handle");
  c->impl_->rng.seed(c->options_.jitter_seed != 0 ? c->options_.jitter_seed : std::random_device{}());
  return c;
}

std::string HttpClient::Redact(std::string_view text) const { return RedactSecrets(text, options_.secrets); }

Result<HttpResponse> HttpClient::Get(const HttpRequest& request) {
  CURL* curl = impl_->curl;
  const std::string shown = Redact(request.url);
  Status last;
  for (int attempt = 0;; ++attempt) {
    // Rate limit: space request starts evenly.
    if (options_.requests_per_minute > 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now < impl_->next_request)
        options_.sleep(std::chrono::duration_cast<std::chrono::milliseconds>(impl_->next_request - now));
      impl_->next_request = std::max(now, impl_->next_request) +
                            std::chrono::microseconds(static_cast<int64_t>(60e6 / options_.requests_per_minute));
    }
    Transfer t;
    t.max_bytes = options_.max_body_bytes;
    Curl().easy_reset(curl);
    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = Curl().slist_append(headers, h.c_str());
    if (!request.etag.empty()) headers = Curl().slist_append(headers, ("If-None-Match: " + request.etag).c_str());
    if (!request.last_modified.empty())
      headers = Curl().slist_append(headers, ("If-Modified-Since: " + request.last_modified).c_str());
    char errbuf[CURL_ERROR_SIZE] = {0};
    Curl().easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    Curl().easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    Curl().easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    Curl().easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    Curl().easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    Curl().easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    Curl().easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    Curl().easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    Curl().easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
    Curl().easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout_ms));
    Curl().easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    Curl().easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    Curl().easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    Curl().easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    Curl().easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!options_.ca_file.empty()) Curl().easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
    Curl().easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
    Curl().easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // gzip/deflate when the server offers it
    Curl().easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body_bytes));
    Curl().easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    Curl().easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    const CURLcode rc = Curl().easy_perform(curl);
    Curl().slist_free_all(headers);
    long status = 0;
    Curl().easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    bool retry = false;
    int64_t retry_after = -1;
    if (rc != CURLE_OK) {
      const std::string why = Redact(errbuf[0] != 0 ? errbuf : Curl().easy_strerror(rc));
      if (t.too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return ResourceExhaustedError("GET " + shown + ": the response exceeds the limit of " +
                                      std::to_string(options_.max_body_bytes) + " bytes (max_body_bytes)");
      if (rc == CURLE_OPERATION_TIMEDOUT)
        last = DeadlineExceededError("GET " + shown + ": timed out (" + why + ")");
      else if (rc == CURLE_PARTIAL_FILE)
        last = DataLossError("GET " + shown + ": the response body was truncated (" + why + ")");
      else
        last = UnavailableError("GET " + shown + ": " + why);
      retry = IsRetryableCurl(rc);
      if (!retry) return last;
    } else if (status == 304 || (status >= 200 && status < 300)) {
      HttpResponse r;
      r.status = status;
      r.body = std::move(t.body);
      r.content_type = std::move(t.content_type);
      r.etag = std::move(t.etag);
      r.last_modified = std::move(t.last_modified);
      r.attempts = attempt + 1;
      return r;
    } else {
      std::string snippet = t.body.substr(0, 200);
      for (char& c : snippet)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = ' ';
      const std::string msg = "GET " + shown + ": HTTP " + std::to_string(status) +
                              (snippet.empty() ? "" : " (" + Redact(snippet) + ")");
      if (IsRetryableStatus(status)) {
        retry = true;
        retry_after = ParseRetryAfter(t.retry_after);
        last = UnavailableError(msg);
      } else if (status == 404) {
        return NotFoundError(msg);
      } else if (status == 401 || status == 403) {
        return PermissionDeniedError(msg);
      } else {
        return InvalidArgumentError(msg);
      }
    }
    if (attempt >= options_.max_retries)
      return Status(last.code(), last.message() + " (gave up after " + std::to_string(attempt + 1) + " attempt" +
                                     (attempt == 0 ? "" : "s") + ")");
    int64_t wait_ms;
    if (retry_after >= 0) {
      if (retry_after > options_.max_retry_after_s)
        return UnavailableError(last.message() + "; the server asks to retry after " + std::to_string(retry_after) +
                                " s, more than max_retry_after_s=" + std::to_string(options_.max_retry_after_s));
      wait_ms = retry_after * 1000;
    } else {
      // Full jitter: uniform in [0, min(cap, base * 2^attempt)].
      const int64_t ceiling =
          std::min<int64_t>(options_.max_backoff_ms, static_cast<int64_t>(options_.initial_backoff_ms) << std::min(attempt, 20));
      wait_ms = std::uniform_int_distribution<int64_t>(ceiling / 2, std::max<int64_t>(ceiling / 2, ceiling))(impl_->rng);
    }
    options_.sleep(std::chrono::milliseconds(wait_ms));
  }
}

}  // namespace almanac::data
