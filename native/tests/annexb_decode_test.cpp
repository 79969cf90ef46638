// AnnexBDecoder: pushed H.264/HEVC access units and byte streams (docs/push.md).
// Helpers: push_decode_util.h.
#include "push_decode_util.h"

using namespace ct_pushdec;

// ---- H.264 / HEVC -------------------------------------------------------------------------------------------
CT_TEST(annexb_h264_access_units_decode_like_ffmpeg_with_tags_through_reordering) {
  // The first 120 access units (decode order: every reference is included) of walking.mp4's H.264 High stream
  // (B-frames, SEI, parameter sets in the first access unit) as Annex-B, one access unit per push.
  TempDir dir;
  const std::string path = dir / "walking.h264";
  ct_push::RunFfmpeg("-i " + ct_push::Quote(ct_test::AssetPath("videos/walking.mp4")) +
                     " -frames:v 120 -c:v copy -bsf:v h264_mp4toannexb -an -f h264 " + ct_push::Quote(path));
  const std::vector<std::string> want = FfmpegFrameMd5s(dir, path);
  const std::vector<Bytes> aus = AccessUnits(ct_push::ReadFile(path), false);
  CT_EXPECT(want.size() == 120 && aus.size() == 120);
  AnnexBDecoder dec(VideoOptions(VideoCodec::kH264));
  const Received r = PushAll(dec, aus);
  CT_EXPECT(r.errors.empty());
  CT_EXPECT(r.md5 == want);
  // Every access unit's tag comes back exactly once, on the picture it carried, in display order (so not sorted:
  // B-frames are decoded after the picture they precede).
  std::vector<int64_t> sorted = r.tags;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) CT_EXPECT(sorted[i] == int64_t(i));
  CT_EXPECT(!std::is_sorted(r.tags.begin(), r.tags.end()));
  CT_EXPECT(dec.waiting_for_keyframe());  // after Flush(), decoding resumes at a keyframe
}

CT_TEST(annexb_byte_stream_chunks_and_multi_unit_chunks_decode_the_same_pictures) {
  TempDir dir;
  const std::string path = EncodeStream(dir, "s.h264", false, 48, 12);
  const Bytes stream = ct_push::ReadFile(path);
  const std::vector<std::string> want = FfmpegFrameMd5s(dir, path);
  const std::vector<Bytes> aus = AccessUnits(stream, false);
  CT_EXPECT(want.size() == 48 && aus.size() == 48);
  // Arbitrary 1000-byte slices through libavcodec's parser: same pictures; each picture's tag is the slice its
  // access unit began in, and those never decrease in decode order (checked through the access units' offsets).
  {
    AnnexBDecoder dec(VideoOptions(VideoCodec::kH264, AnnexBInput::kByteStream));
    Received r;
    PictureBuffer pic;
    const size_t chunk = 1000;
    for (size_t at = 0, k = 0; at < stream.size(); at += chunk, ++k) {
      dec.Push(stream.data() + at, std::min(chunk, stream.size() - at), int64_t(k), &r.errors);
      Drain(dec, pic, &r);
    }
    dec.Flush(&r.errors);
    Drain(dec, pic, &r);
    CT_EXPECT(r.errors.empty());
    CT_EXPECT(r.md5 == want);
    // The slice each access unit starts in. libavcodec's H.264 parser puts a frame's start at its 3-byte start code
    // (00 00 01), so when a slice boundary falls inside a 4-byte one (00 00 00 01) the tag is the slice after the
    // leading zero's: either slice counts as the start. (Found on a machine set up on 2026-12-04 with Debian's
    // libavcodec59 7:5.1.9-0+deb12u1, whose encode of this clip began an access unit at byte 32999: tagged 33.)
    std::set<int64_t> starts;
    size_t offset = 0;
    for (const Bytes& au : aus) {
      for (size_t b = 0; b < 4 && b < au.size(); ++b) starts.insert(int64_t((offset + b) / chunk));
      offset += au.size();
    }
    for (int64_t t : r.tags) CT_EXPECT(starts.count(t) == 1);
  }
  // Five access units per push: same pictures, tag = the push.
  {
    AnnexBDecoder dec(VideoOptions(VideoCodec::kH264));
    Received r;
    PictureBuffer pic;
    for (size_t i = 0; i < aus.size(); i += 5) {
      Bytes chunk;
      for (size_t j = i; j < std::min(aus.size(), i + 5); ++j) chunk.insert(chunk.end(), aus[j].begin(), aus[j].end());
      dec.Push(chunk.data(), chunk.size(), int64_t(i / 5), &r.errors);
      Drain(dec, pic, &r);
    }
    dec.Flush(&r.errors);
    Drain(dec, pic, &r);
    CT_EXPECT(r.errors.empty());
    CT_EXPECT(r.md5 == want);
    std::map<int64_t, int> per_push;
    for (int64_t t : r.tags) ++per_push[t];
    CT_EXPECT(per_push.size() == 10);
    for (const auto& [tag, n] : per_push) CT_EXPECT(n == (tag < 9 ? 5 : 3));
  }
}

CT_TEST(annexb_hevc_access_units_decode_like_ffmpeg) {
  TempDir dir;
  const std::string path = EncodeStream(dir, "s.hevc", true, 36, 12);
  const std::vector<std::string> want = FfmpegFrameMd5s(dir, path);
  const std::vector<Bytes> aus = AccessUnits(ct_push::ReadFile(path), true);
  CT_EXPECT(want.size() == 36 && aus.size() == 36);
  AnnexBDecoder dec(VideoOptions(VideoCodec::kHevc));
  const Received r = PushAll(dec, aus);
  CT_EXPECT(r.errors.empty());
  CT_EXPECT(r.md5 == want);
  AnnexBDecoder bytes(VideoOptions(VideoCodec::kHevc, AnnexBInput::kByteStream));
  const Bytes stream = ct_push::ReadFile(path);
  Received rb;
  PictureBuffer pic;
  for (size_t at = 0; at < stream.size(); at += 777) {
    bytes.Push(stream.data() + at, std::min<size_t>(777, stream.size() - at), int64_t(at), &rb.errors);
    Drain(bytes, pic, &rb);
  }
  bytes.Flush(&rb.errors);
  Drain(bytes, pic, &rb);
  CT_EXPECT(rb.errors.empty() && rb.md5 == want);
}

CT_TEST(annexb_pictures_before_the_first_keyframe_are_no_keyframe_errors) {
  camtrack::decode::InstallFfmpegLogHandler();  // the parser complains about slices without parameter sets
  TempDir dir;
  for (bool hevc : {false, true}) {
    const std::string path = EncodeStream(dir, hevc ? "k.hevc" : "k.h264", hevc, 36, 12);
    const std::vector<Bytes> aus = AccessUnits(ct_push::ReadFile(path), hevc);
    const VideoCodec codec = hevc ? VideoCodec::kHevc : VideoCodec::kH264;
    // Reference: every picture's MD5 by tag, from a decode of the whole stream.
    AnnexBDecoder full(VideoOptions(codec));
    const Received all = PushAll(full, aus);
    CT_EXPECT(all.md5.size() == 36);
    std::map<int64_t, std::string> by_tag;
    for (size_t i = 0; i < all.tags.size(); ++i) by_tag[all.tags[i]] = all.md5[i];
    // The stream joined after its first keyframe. x264 puts its next IDR at access unit 12; x265 (open GOP) its next
    // CRA at decode position 10, followed by RASL pictures that reference pictures before it: libavcodec skips those
    // when it starts at that CRA (they are never output), so they are neither pictures nor errors.
    size_t key = 0, rasl = 0;
    for (size_t i = 1; i < aus.size() && !key; ++i) {
      const int t = FirstVclType(aus[i], hevc);
      if (hevc ? (t >= 16 && t <= 21) : t == 5) key = i;
    }
    for (size_t i = key + 1; hevc && i < aus.size(); ++i) {
      const int t = FirstVclType(aus[i], hevc);
      if (t == 8 || t == 9) ++rasl;  // RASL_N / RASL_R
      else if (t >= 16 && t <= 21) break;
    }
    std::printf("      %s: first keyframe after the start at access unit %zu, %zu RASL pictures after it\n",
                hevc ? "HEVC" : "H.264", key, rasl);
    CT_EXPECT(key == (hevc ? 10u : 12u));
    AnnexBDecoder dec(VideoOptions(codec));
    CT_EXPECT(dec.waiting_for_keyframe());
    const Received r = PushAll(dec, aus, 1);
    CT_EXPECT(r.errors.size() == key - 1);
    for (size_t i = 0; i < r.errors.size(); ++i) {
      CT_EXPECT(r.errors[i].fault() == FrameFault::kNoKeyframe);
      CT_EXPECT(std::string(r.errors[i].reason()) == "no_keyframe");
      CT_EXPECT(r.errors[i].tag() == int64_t(i + 1));
      CT_EXPECT(r.errors[i].code() == camtrack::ErrorCode::kDecode);
    }
    // From the keyframe on, every picture, identical to the full decode's.
    CT_EXPECT(r.md5.size() == 36 - key - rasl);
    for (size_t i = 0; i < r.tags.size(); ++i) {
      CT_EXPECT(r.tags[i] >= int64_t(key));
      CT_EXPECT(by_tag[r.tags[i]] == r.md5[i]);
    }
  }
}

CT_TEST(annexb_drop_until_keyframe_skips_to_the_next_keyframe_and_keeps_decoded_pictures) {
  TempDir dir;
  const std::string path = EncodeStream(dir, "d.h264", false, 48, 12);
  const std::vector<Bytes> aus = AccessUnits(ct_push::ReadFile(path), false);
  AnnexBDecoder full(VideoOptions(VideoCodec::kH264));
  const Received all = PushAll(full, aus);
  std::map<int64_t, std::string> by_tag;
  for (size_t i = 0; i < all.tags.size(); ++i) by_tag[all.tags[i]] = all.md5[i];

  AnnexBDecoder dec(VideoOptions(VideoCodec::kH264));
  Received r;
  PictureBuffer pic;
  for (size_t i = 0; i < 18; ++i) {
    dec.Push(aus[i].data(), aus[i].size(), int64_t(i), &r.errors);
    Drain(dec, pic, &r);
  }
  // The live policy dropped data here: the pictures already decoded still come out, then 18..23 are skipped.
  dec.DropUntilKeyframe(&r.errors);
  CT_EXPECT(dec.waiting_for_keyframe());
  for (size_t i = 18; i < aus.size(); ++i) {
    dec.Push(aus[i].data(), aus[i].size(), int64_t(i), &r.errors);
    Drain(dec, pic, &r);
  }
  dec.Flush(&r.errors);
  Drain(dec, pic, &r);
  CT_EXPECT(r.errors.size() == 6);
  for (size_t i = 0; i < r.errors.size(); ++i) {
    CT_EXPECT(r.errors[i].fault() == FrameFault::kUntilKeyframe);
    CT_EXPECT(r.errors[i].tag() == int64_t(18 + i));
  }
  std::set<int64_t> got(r.tags.begin(), r.tags.end());
  CT_EXPECT(got.size() == r.tags.size() && r.tags.size() == 18 + 24);
  for (int64_t t = 0; t < 48; ++t) CT_EXPECT(got.count(t) == (t < 18 || t >= 24 ? 1u : 0u));
  for (size_t i = 0; i < r.tags.size(); ++i) CT_EXPECT(by_tag[r.tags[i]] == r.md5[i]);
}

CT_TEST(annexb_bad_input_is_a_coded_frame_error_never_a_crash) {
  camtrack::decode::InstallFfmpegLogHandler();
  TempDir dir;
  const std::string path = EncodeStream(dir, "b.h264", false, 24, 12);
  const std::vector<Bytes> aus = AccessUnits(ct_push::ReadFile(path), false);
  PictureBuffer pic;
  {
    AnnexBDecoder dec(VideoOptions(VideoCodec::kH264));
    std::vector<FrameError> errors;
    dec.Push(nullptr, 0, 5, &errors);
    const Bytes jpeg = ct_push::ReadFile(ct_test::AssetPath("images/dog.jpg"));
    dec.Push(jpeg.data(), jpeg.size(), 6, &errors);
    const Bytes junk = {'n', 'o', 't', ' ', 'h', '2', '6', '4'};
    dec.Push(junk.data(), junk.size(), 7, &errors);
    CT_EXPECT(errors.size() == 3);
    CT_EXPECT(errors[0].fault() == FrameFault::kEmpty && errors[0].tag() == 5);
    CT_EXPECT(errors[1].fault() == FrameFault::kWrongCodec && errors[1].tag() == 6);
    CT_EXPECT(std::string(errors[1].what()).find("JPEG data where H.264 was declared") != std::string::npos);
    CT_EXPECT(errors[2].fault() == FrameFault::kCorrupt && errors[2].tag() == 7);
    // And the stream goes on.
    Received r = PushAll(dec, aus);
    CT_EXPECT(r.errors.empty() && r.md5.size() == 24);
  }
  {
    // The keyframe cut in half: libavcodec conceals what is missing; that picture is an error, not a result.
    AnnexBDecoder dec(VideoOptions(VideoCodec::kH264));
    std::vector<Bytes> cut = aus;
    cut[0].resize(cut[0].size() / 2);
    const Received r = PushAll(dec, cut);
    bool tag0_error = false;
    for (const FrameError& e : r.errors) tag0_error = tag0_error || (e.tag() == 0 && e.fault() == FrameFault::kCorrupt);
    CT_EXPECT(tag0_error);
    CT_EXPECT(std::find(r.tags.begin(), r.tags.end(), 0) == r.tags.end());
    // With keep_damaged the same picture is delivered, flagged.
    AnnexBDecoderOptions keep = VideoOptions(VideoCodec::kH264);
    keep.keep_damaged = true;
    AnnexBDecoder tolerant(keep);
    Received k;
    tolerant.Push(cut[0].data(), cut[0].size(), 0, &k.errors);
    tolerant.Flush(&k.errors);
    CT_EXPECT(tolerant.Receive(&pic, &k.errors));
    CT_EXPECT(pic.info().concealed && pic.info().tag == 0);
  }
  {
    // Over the pixel limit (320 × 180 = 57,600): refused from the parsed headers before decoding.
    AnnexBDecoderOptions o = VideoOptions(VideoCodec::kH264);
    o.max_pixels = 320 * 180 - 1;
    AnnexBDecoder dec(o);
    const Received r = PushAll(dec, aus);
    CT_EXPECT(r.md5.empty() && r.errors.size() == aus.size());
    for (const FrameError& e : r.errors) CT_EXPECT(e.fault() == FrameFault::kTooLarge);
    o.max_pixels = 320 * 180;
    AnnexBDecoder exact(o);
    CT_EXPECT(PushAll(exact, aus).md5.size() == 24);
    o.max_pixels = 0;
    CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { AnnexBDecoder bad(o); }));
    o = VideoOptions(VideoCodec::kH264);
    o.threads = 0;
    CT_EXPECT(ct_test::ThrowsCode(camtrack::ErrorCode::kInvalidArgument, [&] { AnnexBDecoder bad(o); }));
  }
}

CT_TEST(annexb_random_damage_never_crashes) {
  // Damaged access units (after the first keyframe), through both input modes: only FrameErrors, never a crash or
  // another exception; afterwards a clean stream decodes completely on the same decoder.
  camtrack::decode::InstallFfmpegLogHandler();  // libavcodec's complaints about the damage: silent, as in the addon
  TempDir dir;
  for (bool hevc : {false, true}) {
    const std::string path = EncodeStream(dir, hevc ? "m.hevc" : "m.h264", hevc, 24, 8);
    const Bytes stream = ct_push::ReadFile(path);
    const std::vector<Bytes> aus = AccessUnits(stream, hevc);
    const VideoCodec codec = hevc ? VideoCodec::kHevc : VideoCodec::kH264;
    std::mt19937 rng(hevc ? 3 : 4);
    size_t pictures = 0, errors = 0;
    for (AnnexBInput input : {AnnexBInput::kAccessUnits, AnnexBInput::kByteStream}) {
      AnnexBDecoderOptions o = VideoOptions(codec, input);
      AnnexBDecoder dec(o);
      PictureBuffer pic;
      for (int round = 0; round < 25; ++round) {
        Received r;
        for (size_t i = 0; i < aus.size(); ++i) {
          const Bytes au = i > 0 && rng() % 3 == 0 ? ct_push::Mutate(aus[i], rng, 4) : aus[i];
          dec.Push(au.data(), au.size(), int64_t(i), &r.errors);
          Drain(dec, pic, &r);
        }
        dec.Flush(&r.errors);
        Drain(dec, pic, &r);
        pictures += r.md5.size();
        errors += r.errors.size();
      }
      const Received clean = PushAll(dec, aus);
      CT_EXPECT(clean.md5.size() == 24 && clean.errors.empty());
    }
    std::printf("      %s: 50 damaged passes: %zu pictures, %zu frame errors\n", hevc ? "HEVC" : "H.264", pictures,
                errors);
  }
}
