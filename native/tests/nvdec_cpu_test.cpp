// NVDEC decoder, what can be checked without a GPU: it reports "unavailable" with a clear reason and never
// crashes; bad options are rejected before any driver is touched; an empty DeviceFrame is inert. And the Annex-B
// access-unit splitter that feeds it: hand-made H.264 / HEVC byte streams with known boundaries, and (with the
// shared assets) walking.mp4 through libavcodec's h264_mp4toannexb: 341 access units, byte-identical to the
// filter's packets. Decoding itself is verified on a GPU by native/tests/gpu/nvdec_gpu_test.cpp.
#include <dlfcn.h>

#include <cstdint>
#include <string>
#include <vector>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
}

#include "common/error.h"
#include "decode/annexb_reader.h"
#include "decode/nvdec_decoder.h"
#include "test_assets.h"
#include "test_main.h"

namespace {

using camtrack::Error;
using camtrack::ErrorCode;
using camtrack::decode::AnnexBNal;
using camtrack::decode::AnnexBSplitter;
using camtrack::decode::DeviceFrame;
using camtrack::decode::NvdecCodec;
using camtrack::decode::NvdecDecoder;
using camtrack::decode::NvdecOptions;

constexpr int kWalkingFrames = 341;  // SOURCES.md / ffprobe: walking.mp4, 1280x720 H.264 High, 341 frames

bool CanLoad(const char* lib) {
  void* h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (h) dlclose(h);
  return h != nullptr;
}

ErrorCode ConstructCode(const NvdecOptions& o, std::string* message) {
  try {
    NvdecDecoder dec(o);
  } catch (const Error& e) {
    *message = e.what();
    return e.code();
  }
  *message = "";
  return ErrorCode::kInternal;  // "constructed fine"
}

std::vector<std::vector<uint8_t>> SplitAll(const std::vector<uint8_t>& bs, bool hevc) {
  AnnexBSplitter sp(bs.data(), bs.size(), hevc);
  std::vector<std::vector<uint8_t>> out;
  const uint8_t* au = nullptr;
  size_t n = 0;
  while (sp.NextAccessUnit(&au, &n)) out.emplace_back(au, au + n);
  return out;
}

void Append(std::vector<uint8_t>* v, std::initializer_list<uint8_t> bytes) { v->insert(v->end(), bytes); }

}  // namespace

CT_TEST(nvdec_probe_reports_reason_and_never_throws) {
  const camtrack::cuda::FeatureStatus st = NvdecDecoder::Probe(0);
  std::printf("      NVDEC probe: available=%d reason='%s'\n", st.available, st.reason.c_str());
  CT_EXPECT(st.available == st.reason.empty());
  if (!CanLoad("libcuda.so.1")) {
    CT_EXPECT(!st.available);
    CT_EXPECT(st.reason.find("libcuda.so.1") != std::string::npos);
  }
  // A device that cannot exist: unavailable with a reason everywhere (no driver, or no such ordinal).
  const camtrack::cuda::FeatureStatus bad = NvdecDecoder::Probe(4096);
  CT_EXPECT(!bad.available);
  CT_EXPECT(!bad.reason.empty());
}

CT_TEST(nvdec_unavailable_decoder_throws_unsupported_with_the_reason) {
  const camtrack::cuda::FeatureStatus st = NvdecDecoder::Probe(0);
  if (st.available) CT_SKIP("NVDEC is available here (camtrack_gpu_tests covers decoding)");
  for (NvdecCodec codec : {NvdecCodec::kH264, NvdecCodec::kHevc}) {
    NvdecOptions o;
    o.codec = codec;
    std::string msg;
    const ErrorCode code = ConstructCode(o, &msg);
    CT_EXPECT(code == ErrorCode::kUnsupported);
    CT_EXPECT(msg.find("NVDEC unavailable") != std::string::npos);
    CT_EXPECT(msg.find(st.reason) != std::string::npos);  // the same reason Probe() gives
  }
  // Repeated attempts stay clean (the loader's failure is cached, nothing leaks or crashes).
  for (int i = 0; i < 3; ++i) {
    std::string msg;
    CT_EXPECT(ConstructCode(NvdecOptions{}, &msg) == ErrorCode::kUnsupported);
  }
}

CT_TEST(nvdec_bad_options_are_invalid_argument_before_any_driver_call) {
  std::string msg;
  NvdecOptions o;
  o.surface_pool_size = 0;
  CT_EXPECT(ConstructCode(o, &msg) == ErrorCode::kInvalidArgument);
  CT_EXPECT(msg.find("surface_pool_size") != std::string::npos);
  o.surface_pool_size = 65;
  CT_EXPECT(ConstructCode(o, &msg) == ErrorCode::kInvalidArgument);
  o = NvdecOptions{};
  o.device = -1;
  CT_EXPECT(ConstructCode(o, &msg) == ErrorCode::kInvalidArgument);
  o = NvdecOptions{};
  o.max_display_delay = 17;
  CT_EXPECT(ConstructCode(o, &msg) == ErrorCode::kInvalidArgument);
}

CT_TEST(nvdec_empty_device_frame_is_inert) {
  DeviceFrame f;
  CT_EXPECT(!f.valid());
  CT_EXPECT(f.y().data == nullptr && f.uv().data == nullptr);
  f.Release();
  f.Release(nullptr);
  DeviceFrame g(std::move(f));
  CT_EXPECT(!g.valid());
  CT_EXPECT(ct_test::ThrowsCode(ErrorCode::kInvalidState, [&] { g.SynchronizeReady(); }));
}

CT_TEST(annexb_h264_access_units_from_hand_made_stream) {
  std::vector<uint8_t> bs;
  Append(&bs, {0x12, 0x34});                                // junk before the first start code: skipped
  const size_t au0 = bs.size();
  Append(&bs, {0, 0, 0, 1, 0x09, 0xf0});                    // AUD
  Append(&bs, {0, 0, 0, 1, 0x67, 0x64, 0x00, 0x1f});        // SPS
  Append(&bs, {0, 0, 1, 0x68, 0xee, 0x3c, 0x80});           // PPS (3-byte start code)
  Append(&bs, {0, 0, 1, 0x65, 0x88, 0x84, 0x00});           // IDR slice, first_mb_in_slice = 0 (bit '1')
  Append(&bs, {0, 0, 1, 0x65, 0x40, 0x11});                 // IDR slice 2 of the same picture (first_mb != 0)
  const size_t au1 = bs.size();
  Append(&bs, {0, 0, 0, 1, 0x41, 0x9a, 0x02});              // P slice, first_mb = 0: new AU
  Append(&bs, {0, 0, 1, 0x06, 0x05, 0x01, 0x80});           // SEI: starts the next AU (current has a picture)
  const size_t au2 = bs.size() - 7;
  Append(&bs, {0, 0, 1, 0x01, 0xe0, 0x00});                 // non-IDR slice, first_mb = 0, same AU as the SEI
  Append(&bs, {0, 0, 1, 0x0c, 0xff, 0xff});                 // filler (12): stays in the AU
  const auto aus = SplitAll(bs, false);
  CT_EXPECT(aus.size() == 3);
  CT_EXPECT(aus[0] == std::vector<uint8_t>(bs.begin() + au0, bs.begin() + au1));
  CT_EXPECT(aus[1] == std::vector<uint8_t>(bs.begin() + au1, bs.begin() + au2));
  CT_EXPECT(aus[2] == std::vector<uint8_t>(bs.begin() + au2, bs.end()));

  AnnexBSplitter sp(bs.data(), bs.size(), false);
  AnnexBNal nal;
  std::vector<int> types;
  while (sp.NextNal(&nal)) types.push_back(nal.type);
  CT_EXPECT((types == std::vector<int>{9, 7, 8, 5, 5, 1, 6, 1, 12}));
  // Nothing at all, and a buffer with no start code: no AU, no crash.
  CT_EXPECT(SplitAll({}, false).empty());
  CT_EXPECT(SplitAll({1, 2, 3, 0, 0}, false).empty());
}

CT_TEST(annexb_hevc_access_units_from_hand_made_stream) {
  std::vector<uint8_t> bs;
  Append(&bs, {0, 0, 0, 1, 0x40, 0x01, 0x0c});              // VPS (32)
  Append(&bs, {0, 0, 0, 1, 0x42, 0x01, 0x01});              // SPS (33)
  Append(&bs, {0, 0, 0, 1, 0x44, 0x01, 0xc1});              // PPS (34)
  Append(&bs, {0, 0, 1, 0x4e, 0x01, 0x05});                 // prefix SEI (39)
  Append(&bs, {0, 0, 1, 0x26, 0x01, 0xaf, 0x10});           // IDR_W_RADL (19), first_slice_segment_in_pic = 1
  Append(&bs, {0, 0, 1, 0x26, 0x01, 0x2f, 0x10});           // second slice segment of the same picture
  Append(&bs, {0, 0, 1, 0x50, 0x01, 0x07});                 // suffix SEI (40): stays in this AU
  const size_t au1 = bs.size();
  Append(&bs, {0, 0, 0, 1, 0x02, 0x01, 0xd0, 0x00});        // TRAIL_R (1), first slice: new AU
  const size_t au2 = bs.size();
  Append(&bs, {0, 0, 0, 1, 0x46, 0x01, 0x50});              // AUD (35): new AU
  Append(&bs, {0, 0, 1, 0x00, 0x01, 0xe0});                 // TRAIL_N (0), first slice
  const auto aus = SplitAll(bs, true);
  CT_EXPECT(aus.size() == 3);
  CT_EXPECT(aus[0] == std::vector<uint8_t>(bs.begin(), bs.begin() + au1));
  CT_EXPECT(aus[1] == std::vector<uint8_t>(bs.begin() + au1, bs.begin() + au2));
  CT_EXPECT(aus[2] == std::vector<uint8_t>(bs.begin() + au2, bs.end()));
}

// walking.mp4 → h264_mp4toannexb (as `ffmpeg -bsf:v h264_mp4toannexb -f h264` writes it): the splitter must give
// back exactly the filter's packets, one per frame.
CT_TEST(annexb_splits_walking_into_the_demuxers_packets) {
  const std::string path = ct_test::AssetPath("videos/walking.mp4");
  AVFormatContext* fmt = nullptr;
  CT_EXPECT(avformat_open_input(&fmt, path.c_str(), nullptr, nullptr) == 0);
  CT_EXPECT(avformat_find_stream_info(fmt, nullptr) >= 0);
  const int vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  CT_EXPECT(vs >= 0);
  AVBSFContext* bsf = nullptr;
  CT_EXPECT(av_bsf_alloc(av_bsf_get_by_name("h264_mp4toannexb"), &bsf) == 0);
  avcodec_parameters_copy(bsf->par_in, fmt->streams[vs]->codecpar);
  bsf->time_base_in = fmt->streams[vs]->time_base;
  CT_EXPECT(av_bsf_init(bsf) == 0);
  std::vector<std::vector<uint8_t>> packets;
  std::vector<uint8_t> stream;
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (av_bsf_receive_packet(bsf, pkt) == 0) {
      packets.emplace_back(pkt->data, pkt->data + pkt->size);
      stream.insert(stream.end(), pkt->data, pkt->data + pkt->size);
      av_packet_unref(pkt);
    }
  };
  while (av_read_frame(fmt, pkt) >= 0) {
    if (pkt->stream_index == vs) {
      av_bsf_send_packet(bsf, pkt);  // takes the reference
      drain();
    } else {
      av_packet_unref(pkt);
    }
  }
  av_bsf_send_packet(bsf, nullptr);
  drain();
  av_packet_free(&pkt);
  av_bsf_free(&bsf);
  avformat_close_input(&fmt);

  const auto aus = SplitAll(stream, false);
  std::printf("      walking.mp4: %zu packets, %zu bytes Annex-B, %zu access units\n", packets.size(), stream.size(),
              aus.size());
  CT_EXPECT(packets.size() == static_cast<size_t>(kWalkingFrames));
  CT_EXPECT(aus.size() == packets.size());
  size_t same = 0;
  for (size_t i = 0; i < aus.size() && i < packets.size(); ++i) same += aus[i] == packets[i];
  CT_EXPECT(same == packets.size());
}
