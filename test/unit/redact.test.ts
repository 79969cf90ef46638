/**
 * URL redaction on the TypeScript side (src/errors.ts: redactUrl, redactSecretsIn) must give exactly what the native
 * RedactUrl / RedactSecretsIn give (native/core/common/redact.h), so a camera URL reads the same in every message.
 * The cases are the native test's (native/tests/redact_test.cpp), one for one. Pure TypeScript: no addon.
 */
import { describe, expect, it } from 'vitest';

import { describeValue, redactSecretsIn, redactUrl } from '../../src/errors.js';

describe('redactUrl()', () => {
  it('hides user-info and secret query values (native redact_url_hides_user_info_and_secret_query_values)', () => {
    expect(redactUrl('rtsp://admin:secret@cam/1')).toBe('rtsp://***@cam/1');
    expect(redactUrl('rtsp://admin:p@ss@10.0.0.5:554/s')).toBe('rtsp://***@10.0.0.5:554/s'); // '@' in the password
    expect(redactUrl('rtsp://admin@cam')).toBe('rtsp://***@cam');
    expect(redactUrl('http://cam/live?token=abc&ch=1#x')).toBe('http://cam/live?token=***&ch=1#x');
    expect(redactUrl('http://cam/a?ch=1&password=p1&key=k')).toBe('http://cam/a?ch=1&password=***&key=***');
    // Not secrets: no user-info, a key that only ends like a secret name, an '@' in the path.
    expect(redactUrl('rtsp://cam:554/live')).toBe('rtsp://cam:554/live');
    expect(redactUrl('http://cam/a?monkey=1')).toBe('http://cam/a?monkey=1');
    expect(redactUrl('http://cam/user@x/y')).toBe('http://cam/user@x/y');
    expect(redactUrl('/videos/clip.mp4')).toBe('/videos/clip.mp4');
    // Parameter names in any case, and the common longer names.
    expect(redactUrl('http://cam/s?Token=abc&API_KEY=k1&ch=2')).toBe('http://cam/s?Token=***&API_KEY=***&ch=2');
    expect(redactUrl('https://h/x?access_token=t&apikey=a&signature=s')).toBe('https://h/x?access_token=***&apikey=***&signature=***');
    expect(redactUrl('http://cam/a?MONKEY=1')).toBe('http://cam/a?MONKEY=1');
  });

  it('takes the LAST @ before the path: no part of a password with @ survives (regression)', () => {
    expect(redactUrl('rtsp://admin:p@ss@10.0.0.5/stream1')).toBe('rtsp://***@10.0.0.5/stream1');
  });

  it("no part of a password with an unencoded '/', '?' or '#' survives (native redact_url_password_with_unencoded_delimiters)", () => {
    expect(redactUrl('rtsp://admin:pa/ss@10.0.0.5/stream1')).toBe('rtsp://***@10.0.0.5/stream1');
    expect(redactUrl('rtsp://admin:12/34@cam:554/s?ch=1')).toBe('rtsp://***@cam:554/s?ch=1');
    expect(redactUrl('rtsp://admin:a?b#c@cam/1')).toBe('rtsp://***@cam/1');
    expect(redactUrl('rtsp://admin:a/b@c@cam/1')).toBe('rtsp://***@cam/1');
    expect(redactSecretsIn('open rtsp://u:x/y@h/s failed')).toBe('open rtsp://***@h/s failed');
    // What it costs: a host:port URL with an '@' in its path is redacted too far; a host without a port is not.
    expect(redactUrl('http://cam:8080/a@b')).toBe('http://***@b');
    expect(redactUrl('http://cam/user@x/y')).toBe('http://cam/user@x/y');
    expect(redactUrl('rtsp://[::1]:554/a@b')).toBe('rtsp://[::1]:554/a@b');
  });
});

describe('redactSecretsIn()', () => {
  it('covers every URL in a text and stops at its end (native redact_secrets_in_text_covers_every_url_and_stops_at_its_end)', () => {
    expect(redactSecretsIn('[rtsp @ 0x55] method DESCRIBE failed for rtsp://u:pw@127.0.0.1:8554/a?token=t0k: 401')).toBe(
      '[rtsp @ 0x55] method DESCRIBE failed for rtsp://***@127.0.0.1:8554/a?token=*** 401',
    );
    expect(redactSecretsIn("'rtsp://a:b@h1/x' then http://c:d@h2 ok, mail me@example.org")).toBe(
      "'rtsp://***@h1/x' then http://***@h2 ok, mail me@example.org",
    );
    expect(redactSecretsIn("Opening 'http://h/s?auth=xyz' for reading")).toBe("Opening 'http://h/s?auth=***' for reading");
    expect(redactSecretsIn('no url here: a@b')).toBe('no url here: a@b');
    expect(redactSecretsIn('')).toBe('');
    // native RedactIn(message, url): the URL inside a message is replaced by its redacted form.
    expect(redactSecretsIn('cannot open rtsp://u:p@h/x (refused)')).toBe('cannot open rtsp://***@h/x (refused)');
  });

  it('is idempotent (a message may pass through it twice)', () => {
    const once = redactSecretsIn('rtsp://u:p@ss@h/x?token=t&key=k then http://a:b@c');
    expect(redactSecretsIn(once)).toBe(once);
  });
});

describe('describeValue()', () => {
  it('shows strings, arrays and objects with their URLs redacted, before shortening to 80 characters', () => {
    expect(describeValue('rtsp://admin:hunter2@10.0.0.5/stream1')).toBe('"rtsp://***@10.0.0.5/stream1" of type string');
    expect(describeValue(['rtsp://admin:p@ss@cam/1', 'http://cam/s?token=abc'])).toBe(
      '["rtsp://***@cam/1","http://cam/s?token=***"] of type array',
    );
    expect(describeValue({ 'rtsp://u:key@cam/2': null })).toBe('{"rtsp://***@cam/2":null} of type object');
    // Cut at 80 characters first, this would lose the '@' and show the start of the password.
    const long = `rtsp://admin:${'x'.repeat(70)}@cam/1`;
    expect(describeValue(long)).toBe('"rtsp://***@cam/1" of type string');
    expect(describeValue(3)).toBe('3 of type number');
  });
});
