// Credential redaction (core/common/redact.h): user-info and secret-named query values of one URL (RedactUrl, used
// for messages, events and stats) and of every URL inside free text (RedactSecretsIn, used for FFmpeg's log lines).
#include <string>

#include "core/common/redact.h"
#include "test_main.h"

namespace {

using camtrack::RedactIn;
using camtrack::RedactSecretsIn;
using camtrack::RedactUrl;

CT_TEST(redact_url_password_with_unencoded_delimiters) {
  CT_EXPECT(RedactUrl("rtsp://admin:pa/ss@10.0.0.5/stream1") == "rtsp://***@10.0.0.5/stream1");
  CT_EXPECT(RedactUrl("rtsp://admin:12/34@cam:554/s?ch=1") == "rtsp://***@cam:554/s?ch=1");
  CT_EXPECT(RedactUrl("rtsp://admin:a?b#c@cam/1") == "rtsp://***@cam/1");
  CT_EXPECT(RedactUrl("rtsp://admin:a/b@c@cam/1") == "rtsp://***@cam/1");
  CT_EXPECT(RedactSecretsIn("open rtsp://u:x/y@h/s failed") == "open rtsp://***@h/s failed");
  CT_EXPECT(RedactUrl("http://cam:8080/a@b") == "http://***@b");  // redacted too far: the cost of the rule
  CT_EXPECT(RedactUrl("http://cam/user@x/y") == "http://cam/user@x/y");
  CT_EXPECT(RedactUrl("rtsp://[::1]:554/a@b") == "rtsp://[::1]:554/a@b");
}

CT_TEST(redact_url_hides_user_info_and_secret_query_values) {
  CT_EXPECT(RedactUrl("rtsp://admin:secret@cam/1") == "rtsp://***@cam/1");
  CT_EXPECT(RedactUrl("rtsp://admin:p@ss@10.0.0.5:554/s") == "rtsp://***@10.0.0.5:554/s");  // '@' in the password
  CT_EXPECT(RedactUrl("rtsp://admin@cam") == "rtsp://***@cam");
  CT_EXPECT(RedactUrl("http://cam/live?token=abc&ch=1#x") == "http://cam/live?token=***&ch=1#x");
  CT_EXPECT(RedactUrl("http://cam/a?ch=1&password=p1&key=k") == "http://cam/a?ch=1&password=***&key=***");
  // Not secrets: no user-info, a key that only ends like a secret name, an '@' in the path.
  CT_EXPECT(RedactUrl("rtsp://cam:554/live") == "rtsp://cam:554/live");
  CT_EXPECT(RedactUrl("http://cam/a?monkey=1") == "http://cam/a?monkey=1");
  CT_EXPECT(RedactUrl("http://cam/user@x/y") == "http://cam/user@x/y");
  CT_EXPECT(RedactUrl("/videos/clip.mp4") == "/videos/clip.mp4");
  // Parameter names in any case, and the common longer names.
  CT_EXPECT(RedactUrl("http://cam/s?Token=abc&API_KEY=k1&ch=2") == "http://cam/s?Token=***&API_KEY=***&ch=2");
  CT_EXPECT(RedactUrl("https://h/x?access_token=t&apikey=a&signature=s") ==
            "https://h/x?access_token=***&apikey=***&signature=***");
  CT_EXPECT(RedactUrl("http://cam/a?MONKEY=1") == "http://cam/a?MONKEY=1");
}

CT_TEST(redact_secrets_in_text_covers_every_url_and_stops_at_its_end) {
  CT_EXPECT(RedactSecretsIn("[rtsp @ 0x55] method DESCRIBE failed for rtsp://u:pw@127.0.0.1:8554/a?token=t0k: 401") ==
            "[rtsp @ 0x55] method DESCRIBE failed for rtsp://***@127.0.0.1:8554/a?token=*** 401");  // to the blank
  CT_EXPECT(RedactSecretsIn("'rtsp://a:b@h1/x' then http://c:d@h2 ok, mail me@example.org") ==
            "'rtsp://***@h1/x' then http://***@h2 ok, mail me@example.org");
  CT_EXPECT(RedactSecretsIn("Opening 'http://h/s?auth=xyz' for reading") == "Opening 'http://h/s?auth=***' for reading");
  CT_EXPECT(RedactSecretsIn("no url here: a@b") == "no url here: a@b");
  CT_EXPECT(RedactSecretsIn("") == "");
  CT_EXPECT(RedactIn("cannot open rtsp://u:p@h/x (refused)", "rtsp://u:p@h/x") == "cannot open rtsp://***@h/x (refused)");
}

}  // namespace
