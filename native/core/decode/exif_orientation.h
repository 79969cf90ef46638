#pragma once
// EXIF orientation of JPEG frames: reading the tag from untrusted bytes, and turning a decoded picture upright.
//
// Reading: ReadJpegExifOrientation() walks the JPEG marker segments up to the first scan, finds the first APP1
// "Exif\0\0" segment and reads IFD0's Orientation tag (0x0112) from its TIFF structure, little- or big-endian.
// Every offset and count comes from the untrusted bytes and is checked against the segment before it is used;
// anything malformed, absent or out of range gives 1 (as stored), never an error: a frame with a broken Exif block
// still decodes.
//
// Applying: after decode, on the decoded (DCT-scaled, so small) picture: OrientPixels() copies it into its upright
// layout. Not with tjTransform() before decode, because a lossless DCT-domain transform reads and re-encodes the
// whole full-size JPEG (entropy decode + encode of every coefficient: about the cost of the full decode that the
// scaled decode avoids), and its partial edge MCUs must be trimmed (TJXOPT_TRIM loses up to 15 edge pixels) or
// refused (TJXOPT_PERFECT). After decode it costs one copy of the scaled picture, and nothing at all for the usual
// orientation 1.
//
// EXIF orientation values (what the stored picture must undergo to be displayed upright):
//   1 as stored   2 mirror left-right   3 rotate 180   4 mirror top-bottom
//   5 transpose (mirror about the main diagonal)   6 rotate 90 clockwise   7 transverse   8 rotate 90 counter-clockwise
// 5..8 swap width and height.
//
// Thread-safety: pure functions.
#include <cstddef>
#include <cstdint>

namespace camtrack::decode {

// The EXIF orientation (1..8) of a JPEG, 1 when it has none or it cannot be read. Reads only `data[0, size)`.
int ReadJpegExifOrientation(const uint8_t* data, size_t size) noexcept;

// True for the orientations that swap width and height (5..8).
inline bool OrientationSwapsAxes(int orientation) noexcept { return orientation >= 5 && orientation <= 8; }

// Writes the upright version of a stored w × h picture of `bytes_per_pixel`-byte pixels (rows `src_pitch` bytes
// apart) to dst (rows `dst_pitch` bytes apart; (w, h) swapped for 5..8). Orientation 1 (or any value outside 2..8)
// is a plain copy. Source and destination must not overlap.
void OrientPixels(const uint8_t* src, ptrdiff_t src_pitch, int w, int h, int bytes_per_pixel, int orientation,
                  uint8_t* dst, ptrdiff_t dst_pitch) noexcept;

}  // namespace camtrack::decode
