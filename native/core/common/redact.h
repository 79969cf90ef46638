#pragma once
// Credentials in URLs (rtsp://user:pass@host/...) must never reach logs, stats, events or errors.
// RedactUrl("rtsp://admin:secret@cam/1") == "rtsp://***@cam/1". Also redacts query values named like secrets.
#include <string>

namespace camtrack {

inline std::string RedactUrl(const std::string& url) {
  std::string out = url;
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t host_start = scheme + 3;
    const size_t path_start = out.find_first_of("/?#", host_start);
    const size_t at = out.rfind('@', path_start == std::string::npos ? std::string::npos : path_start);
    if (at != std::string::npos && at >= host_start) out.replace(host_start, at - host_start, "***");
  }
  // ?token=…, &password=…, &key=… → value replaced.
  static const char* kSecretKeys[] = {"token=", "password=", "passwd=", "pass=", "key=", "secret=", "auth="};
  for (const char* key : kSecretKeys) {
    size_t pos = 0;
    const std::string k(key);
    while ((pos = out.find(k, pos)) != std::string::npos) {
      if (pos > 0 && out[pos - 1] != '?' && out[pos - 1] != '&') { pos += k.size(); continue; }
      const size_t v = pos + k.size();
      const size_t end = out.find_first_of("&#", v);
      out.replace(v, (end == std::string::npos ? out.size() : end) - v, "***");
      pos = v + 3;
    }
  }
  return out;
}

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
