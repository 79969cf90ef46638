// VideoSource packet mode (the demux half of the NVDEC path, gpu_frame_source.h), checked without a GPU: the Annex-B
// access units it hands out decode — with libavcodec standing in for NVDEC — to exactly the frames of the normal
// CPU path, with the same time stamps once stamped back with StampFrame(); loops continue the time line;
// SwitchToCpuDecode() right after Open() gives the plain CPU path.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "core/decode/annexb_reader.h"
#include "core/decode/video_source.h"
#include "test_assets.h"
#include "test_main.h"

extern "C" {
#include <libavcodec/avcodec.h>
}

using camtrack::decode::SourceOptions;
using camtrack::decode::VideoSource;

namespace {

// SOURCES.md: walking.mp4 is H.264 High 1280x720, 341 frames, B-frames (has_b_frames=1).
constexpr int kWalkingFrames = 341;

// A file read with file semantics; every field set, as SourceOptions has no defaults (the schema holds them).
SourceOptions FileOptions(const std::string& path, bool loop) {
  SourceOptions o;
  o.url = path;
  o.rtsp_transport = "tcp";
  o.open_timeout_ms = 10000;
  o.read_timeout_ms = 10000;
  o.loop = loop;
  o.decoder_threads = 1;
  o.live = camtrack::decode::LiveMode::kFile;
  return o;
}

// All frames of the plain CPU path: pts in ms, in display order.
std::vector<int64_t> CpuPtsMs(const std::string& path, bool loop, int max_frames) {
  SourceOptions o = FileOptions(path, loop);
  VideoSource src(o);
  src.Open();
  std::vector<int64_t> out;
  AVFrame* f = nullptr;
  while (int(out.size()) < max_frames && src.NextFrame(&f)) out.push_back(src.last_pts_ms());
  return out;
}

// Packet mode, decoded by a libavcodec H.264 decoder fed Annex-B only (no extradata: like NVDEC's parser), every
// output frame stamped with the packet pts it carries (what GpuFrameSource does with DeviceFrame::pts()).
struct PacketRun {
  std::vector<int64_t> pts_ms;
  int packets = 0;
  int packets_with_sps = 0;  // access units carrying an SPS (NAL type 7)
  bool all_start_codes = true;
};

PacketRun DecodePackets(const std::string& path, bool loop, int max_frames) {
  SourceOptions o = FileOptions(path, loop);
  o.packets_only = true;
  VideoSource src(o);
  src.Open();
  PacketRun run;
  CT_EXPECT(src.packets_only());
  CT_EXPECT(std::string(src.codec_name()) == "h264");
  CT_EXPECT(src.width() == 1280 && src.height() == 720);
  CT_EXPECT(src.yuv420_8bit());
  size_t extra_size = 0;
  const uint8_t* extra = src.extradata(&extra_size);
  CT_EXPECT(extra != nullptr && extra_size > 4 && extra[0] == 0 && extra[1] == 0);  // Annex-B parameter sets
  const AVCodec* codec = avcodec_find_decoder(AV_CODEC_ID_H264);
  AVCodecContext* dec = avcodec_alloc_context3(codec);
  CT_EXPECT(avcodec_open2(dec, codec, nullptr) == 0);
  AVPacket* pkt = av_packet_alloc();
  AVFrame* frame = av_frame_alloc();
  auto drain = [&] {
    while (avcodec_receive_frame(dec, frame) == 0) {
      src.StampFrame(frame->pts);
      run.pts_ms.push_back(src.last_pts_ms());
    }
  };
  for (;;) {
    if (int(run.pts_ms.size()) >= max_frames) break;
    const uint8_t* data = nullptr;
    size_t size = 0;
    int64_t pts = 0;
    if (!src.NextPacket(&data, &size, &pts)) {
      avcodec_send_packet(dec, nullptr);
      drain();
      if (src.RewindForLoop()) {
        avcodec_flush_buffers(dec);
        continue;
      }
      break;
    }
    ++run.packets;
    run.all_start_codes = run.all_start_codes && size > 4 && data[0] == 0 && data[1] == 0 &&
                          (data[2] == 1 || (data[2] == 0 && data[3] == 1));
    camtrack::decode::AnnexBSplitter nals(data, size, /*hevc=*/false);
    camtrack::decode::AnnexBNal nal;
    while (nals.NextNal(&nal))
      if (nal.type == 7) {
        ++run.packets_with_sps;
        break;
      }
    av_new_packet(pkt, int(size));
    std::memcpy(pkt->data, data, size);
    pkt->pts = pts;
    avcodec_send_packet(dec, pkt);
    av_packet_unref(pkt);
    drain();
  }
  CT_EXPECT(src.counters().packets.load() == uint64_t(run.packets));
  CT_EXPECT(src.counters().decoded.load() == uint64_t(run.pts_ms.size()));
  av_frame_free(&frame);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  return run;
}

}  // namespace

CT_TEST(video_source_packet_mode_gives_annexb_units_that_decode_to_the_cpu_paths_frames) {
  const std::string path = ct_test::AssetPath("videos/walking.mp4");
  const std::vector<int64_t> cpu = CpuPtsMs(path, false, 1 << 20);
  const PacketRun run = DecodePackets(path, false, 1 << 20);
  CT_EXPECT(int(cpu.size()) == kWalkingFrames);
  CT_EXPECT(run.packets == kWalkingFrames);   // one access unit per packet, audio not returned
  CT_EXPECT(run.all_start_codes);
  CT_EXPECT(run.packets_with_sps == 3);       // SOURCES.md: 3 keyframes; mp4toannexb puts SPS/PPS before each
  CT_EXPECT(run.pts_ms == cpu);               // same frames, same time line
}

CT_TEST(video_source_packet_mode_loops_with_a_continuous_time_line) {
  const std::string path = ct_test::AssetPath("videos/walking.mp4");
  const int n = kWalkingFrames + 60;
  const std::vector<int64_t> cpu = CpuPtsMs(path, true, n);
  const PacketRun run = DecodePackets(path, true, n);
  CT_EXPECT(int(run.pts_ms.size()) == n);
  CT_EXPECT(run.pts_ms == cpu);
  for (size_t i = 1; i < run.pts_ms.size(); ++i) CT_EXPECT(run.pts_ms[i] > run.pts_ms[i - 1]);
}

CT_TEST(video_source_switch_to_cpu_decode_after_open_is_the_plain_cpu_path) {
  const std::string path = ct_test::AssetPath("videos/walking.mp4");
  SourceOptions o = FileOptions(path, /*loop=*/false);
  o.packets_only = true;
  VideoSource src(o);
  src.Open();
  src.SwitchToCpuDecode();
  CT_EXPECT(!src.packets_only());
  std::vector<int64_t> pts;
  AVFrame* f = nullptr;
  while (src.NextFrame(&f)) pts.push_back(src.last_pts_ms());
  CT_EXPECT(pts == CpuPtsMs(path, false, 1 << 20));
  CT_EXPECT(src.counters().packets.load() == uint64_t(kWalkingFrames));
}
