#!/usr/bin/python3
"""Loopback RTSP server for camtrack's tests (GStreamer gst-rtsp-server through python3-gi).

Run with the system Python (Debian: gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-{good,bad,ugly}, python3-gi):

    /usr/bin/python3 test/helpers/rtsp_server.py --port 8554 \
        --mount /walk=file:/path/walking.mp4 \
        --mount /cam=live:640x360@25,h264 \
        --mount /relay=udp:5004

Mount specs:
  file:<path>                   serve the clip's video track once per client (a new pipeline per client, so every
                                client starts at the beginning; the session ends at the clip's end). H.264, H.265
                                and MPEG-4 Part 2 tracks in MP4/MOV/MKV are passed through without re-encoding.
  live:<W>x<H>@<FPS>[,h264|h265]  an endless live camera (videotestsrc is-live=true + x264enc/x265enc, zero latency),
                                shared by all clients like a real camera.
  udp:<port>[,h264|h265]        relay of an MPEG-TS publisher on 127.0.0.1:<port>, e.g.
                                `ffmpeg -re -i clip.mp4 -c copy -f mpegts udp://127.0.0.1:<port>?pkt_size=1316`;
                                shared; survives the publisher stopping and coming back.

  file: also takes MPEG-TS files (*.ts; tsdemux, parsed and re-payloaded), e.g. a deliberately corrupted copy.

--auth USER:PASS requires RTSP basic authentication for every mount (gst-rtsp-server's RTSPAuth); clients without
or with other credentials get 401 Unauthorized.

Both RTP transports are offered (UDP and TCP interleaved); clients choose. --port 0 picks a free port.
Prints exactly one line "READY <port>" on stdout once the server is listening; exits 0 on SIGTERM/SIGINT,
2 on bad arguments (message on stderr).
"""

import argparse
import os
import re
import signal
import subprocess
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PAYLOADERS = {
    "h264": "h264parse ! rtph264pay name=pay0 pt=96 config-interval=1",
    "h265": "h265parse ! rtph265pay name=pay0 pt=96 config-interval=1",
    "mpeg4": "mpeg4videoparse ! rtpmp4vpay name=pay0 pt=96 config-interval=1",
}


def fail(message):
    print(f"rtsp_server.py: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def probe_video_codec(path):
    """Returns 'h264', 'h265' or 'mpeg4' for the first video stream of `path` (asks ffprobe: GStreamer's
    Discoverer fails on files whose audio track has no decoder installed)."""
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
             "-of", "csv=p=0", path],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        fail(f"cannot probe {path} with ffprobe: {e}")
    # A damaged MPEG-TS can make ffprobe list the stream more than once: the first line decides.
    first = next((line.strip() for line in out.stdout.splitlines() if line.strip()), "")
    codec = {"h264": "h264", "hevc": "h265", "mpeg4": "mpeg4"}.get(first)
    if codec is None:
        fail(f"unsupported or missing video stream in {path}: '{out.stdout.strip()}' {out.stderr.strip()}")
    return codec


def file_launch(path):
    if not os.path.isfile(path):
        fail(f"file not found: {path}")
    codec = probe_video_codec(path)
    loc = path.replace("\\", "\\\\").replace('"', '\\"')
    if path.lower().endswith(".ts"):
        return f'( filesrc location="{loc}" ! tsdemux ignore-pcr=true ! queue ! {PAYLOADERS[codec]} )', False
    demux = "matroskademux" if path.lower().endswith((".mkv", ".webm")) else "qtdemux"
    return f'( filesrc location="{loc}" ! {demux} name=d d.video_0 ! queue ! {PAYLOADERS[codec]} )', False


def live_launch(arg):
    m = re.fullmatch(r"(\d+)x(\d+)@(\d+)(?:,(h264|h265))?", arg)
    if not m:
        fail(f"bad live spec '{arg}', expected <W>x<H>@<FPS>[,h264|h265]")
    w, h, fps, codec = int(m[1]), int(m[2]), int(m[3]), m[4] or "h264"
    if codec == "h264":
        enc = f"x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=2000 ! video/x-h264,profile=high"
    else:
        enc = f"x265enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} bitrate=2000"
    src = (
        f"videotestsrc is-live=true pattern=ball ! video/x-raw,width={w},height={h},framerate={fps}/1 "
        f"! videoconvert ! video/x-raw,format=I420"
    )
    return f"( {src} ! {enc} ! {PAYLOADERS[codec]} )", True


def udp_launch(arg):
    m = re.fullmatch(r"(\d+)(?:,(h264|h265))?", arg)
    if not m:
        fail(f"bad udp spec '{arg}', expected <port>[,h264|h265]")
    port, codec = int(m[1]), m[2] or "h264"
    src = f'udpsrc address=127.0.0.1 port={port} caps="video/mpegts,systemstream=(boolean)true"'
    return f"( {src} ! tsdemux ignore-pcr=true ! queue ! {PAYLOADERS[codec]} )", True


def make_factory(spec):
    kind, _, arg = spec.partition(":")
    if kind == "file":
        launch, shared = file_launch(arg)
    elif kind == "live":
        launch, shared = live_launch(arg)
    elif kind == "udp":
        launch, shared = udp_launch(arg)
    else:
        fail(f"unknown mount kind '{kind}' in '{spec}' (file:, live:, udp:)")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(shared)
    # A shared live/relay media keeps running between clients; a per-client file media is torn down with its client.
    factory.set_suspend_mode(GstRtspServer.RTSPSuspendMode.NONE)
    return factory


def main():
    parser = argparse.ArgumentParser(description="loopback RTSP server for tests")
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--mount", action="append", default=[], metavar="/NAME=SPEC")
    parser.add_argument("--auth", default=None, metavar="USER:PASS")
    args = parser.parse_args()
    if not args.mount:
        fail("at least one --mount /name=spec is required")

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    role = None
    if args.auth is not None:
        user, sep, password = args.auth.partition(":")
        if not sep or not user:
            fail(f"bad --auth '{args.auth}', expected USER:PASS")
        role = "camtrack-user"
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, role)
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
        server.set_auth(auth)
    mounts = server.get_mount_points()
    for item in args.mount:
        name, sep, spec = item.partition("=")
        if not sep or not name.startswith("/"):
            fail(f"bad --mount '{item}', expected /name=spec")
        factory = make_factory(spec)
        if role is not None:
            factory.add_role_from_structure(Gst.Structure.from_string(
                f"{role}, media.factory.access=(boolean)true, media.factory.construct=(boolean)true")[0])
        mounts.add_factory(name, factory)

    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        fail(f"could not listen on {args.host}:{args.port}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda *_: (loop.quit(), False)[1])
    print(f"READY {server.get_bound_port()}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
