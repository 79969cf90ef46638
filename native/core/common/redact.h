#pragma once
// Credentials in URLs (rtsp://user:pass@host/...) must never reach logs, stats, events or errors.
// RedactUrl("rtsp://admin:secret@cam/1") == "rtsp://***@cam/1". Also redacts query values named like secrets.
// RedactSecretsIn() does the same for every URL inside a text (FFmpeg's log lines).
#include <algorithm>
#include <string>

namespace camtrack {

namespace redact_detail {
// Position of `lower_key` (lower-case ASCII) in `text` at or after `from`, ignoring ASCII case; npos when absent.
inline size_t FindNoCase(const std::string& text, const std::string& lower_key, size_t from) {
  for (size_t i = from; i + lower_key.size() <= text.size(); ++i) {
    size_t j = 0;
    while (j < lower_key.size()) {
      char c = text[i + j];
      if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
      if (c != lower_key[j]) break;
      ++j;
    }
    if (j == lower_key.size()) return i;
  }
  return std::string::npos;
}
}  // namespace redact_detail

// Redacts the secrets of every URL inside free text (FFmpeg's log lines, a URL on its own): the user-info of each
// `scheme://user:pass@host` and the values of query parameters named like secrets. A URL ends at whitespace or a
// quote.
inline std::string RedactSecretsIn(std::string text) {
  static constexpr const char* kUrlEnd = " \t\r\n\"'";
  size_t pos = 0;
  while ((pos = text.find("://", pos)) != std::string::npos) {
    const size_t host_start = pos + 3;
    const size_t url_end = std::min(text.find_first_of(kUrlEnd, host_start), text.size());
    const size_t path_start = std::min(text.find_first_of("/?#", host_start), url_end);
    // The last '@' before the path: a password may itself contain '@'.
    size_t at = text.rfind('@', path_start);
    if (at == std::string::npos || at < host_start) {
      // No '@' before the first '/', '?' or '#', yet the text before it has a ':' (not an IPv6 literal) and the URL
      // has an '@' further on: a password with an unencoded '/', '?' or '#' (`rtsp://admin:pa/ss@cam/1`). The
      // user-info then runs to the URL's last '@'. This redacts too much when a host:port URL has an '@' in its
      // path (`http://cam:8080/a@b` → `http://***@b`), and never leaks a part of such a password.
      const size_t colon = text.find(':', host_start);
      const size_t last_at = url_end > host_start ? text.rfind('@', url_end - 1) : std::string::npos;
      if (text[host_start] != '[' && colon < path_start && last_at != std::string::npos && last_at > path_start)
        at = last_at;
    }
    if (at != std::string::npos && at >= host_start) {
      text.replace(host_start, at - host_start, "***");
      pos = host_start + 3;
    } else {
      pos = host_start;
    }
  }
  // ?token=…, &password=…, &API_KEY=… → value replaced (parameter names in any case).
  static const char* kSecretKeys[] = {"token=",   "access_token=", "password=", "passwd=",   "pass=", "key=",
                                      "api_key=", "apikey=",       "secret=",   "signature=", "auth="};
  for (const char* key : kSecretKeys) {
    size_t kpos = 0;
    const std::string k(key);
    while ((kpos = redact_detail::FindNoCase(text, k, kpos)) != std::string::npos) {
      if (kpos > 0 && text[kpos - 1] != '?' && text[kpos - 1] != '&') { kpos += k.size(); continue; }
      const size_t v = kpos + k.size();
      const size_t end = std::min(text.find_first_of(std::string("&#") + kUrlEnd, v), text.size());
      text.replace(v, end - v, "***");
      kpos = v + 3;
    }
  }
  return text;
}

inline std::string RedactUrl(const std::string& url) { return RedactSecretsIn(url); }

// Replaces every occurrence of the raw URL (and its credentials) inside a message by the redacted form.
inline std::string RedactIn(std::string message, const std::string& url) {
  if (url.empty()) return message;
  const std::string red = RedactUrl(url);
  size_t pos = 0;
  while ((pos = message.find(url, pos)) != std::string::npos) {
    message.replace(pos, url.size(), red);
    pos += red.size();
  }
  return message;
}

}  // namespace camtrack
