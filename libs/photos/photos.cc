// Byte-level image surgery: every format is walked as a flat sequence of length-prefixed
// segments (JPEG markers, PNG chunks, RIFF chunks, ISO BMFF boxes), each length checked
// against its container before use. There is no recursion; the only nesting followed is
// HEIF's fixed meta → iinf/iloc/idat, and nothing is allocated beyond a copy of the input.
#include "libs/photos/photos.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/ids.h"

namespace civic::photos {
namespace {

constexpr char kDomain[] = "photos.civicdesk";
constexpr absl::string_view kNotAnImage = "is not a JPEG, PNG, WebP or HEIC image";

unsigned char ByteAt(absl::string_view in, size_t i) {
  return static_cast<unsigned char>(in[i]);
}

// Big- and little-endian reads; the caller has checked that the bytes exist.
uint64_t ReadBe(absl::string_view in, size_t pos, int width) {
  uint64_t value = 0;
  for (int i = 0; i < width; ++i) value = (value << 8) | ByteAt(in, pos + i);
  return value;
}
uint32_t ReadLe32(absl::string_view in, size_t pos) {
  return static_cast<uint32_t>(ByteAt(in, pos)) |
         static_cast<uint32_t>(ByteAt(in, pos + 1)) << 8 |
         static_cast<uint32_t>(ByteAt(in, pos + 2)) << 16 |
         static_cast<uint32_t>(ByteAt(in, pos + 3)) << 24;
}
void WriteLe32(std::string& out, size_t pos, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[pos + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

constexpr uint32_t FourCc(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[0])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[3]));
}

absl::Status Malformed(ImageType type) {
  return absl::InvalidArgumentError(
      absl::StrCat("photo is not a valid ", NameOf(type), " file"));
}

// Appends to the copy being built; a null `out` means "validate only".
void Append(std::string* out, absl::string_view bytes) {
  if (out != nullptr) out->append(bytes.data(), bytes.size());
}

// ---------------------------------------------------------------------------- JPEG

// Which segments before (or between) scans survive. APPn are kept only when known to
// carry nothing about the place or the camera: APP0 (JFIF/JFXX), APP2 ICC profiles and
// APP14 (Adobe colour transform, needed to decode). Everything else that is not metadata
// (tables, frame and scan headers, restart interval, ...) is kept.
bool KeepJpegSegment(unsigned char marker, absl::string_view payload) {
  if (marker == 0xFE) return false;  // COM
  if (marker < 0xE0 || marker > 0xEF) return true;
  if (marker == 0xE0 || marker == 0xEE) return true;
  if (marker == 0xE2) return absl::StartsWith(payload, absl::string_view("ICC_PROFILE\0", 12));
  return false;  // APP1 Exif/XMP, APP13 IPTC, APP2 MPF/FPXR, APP11 JUMBF, makers' APPn
}

absl::Status WalkJpeg(absl::string_view in, std::string* out) {
  const size_t n = in.size();
  if (n < 4 || ByteAt(in, 0) != 0xFF || ByteAt(in, 1) != 0xD8) return Malformed(ImageType::kJpeg);
  Append(out, in.substr(0, 2));
  size_t pos = 2;
  bool in_scan = false;
  bool seen_scan = false;
  // Every iteration moves `pos` forward by at least one byte.
  for (;;) {
    if (in_scan) {
      // Entropy-coded data runs to the next marker; inside it FF is followed by a
      // stuffed 00 or a restart marker.
      size_t p = pos;
      for (;;) {
        p = in.find('\xFF', p);
        if (p == absl::string_view::npos || p + 1 >= n) return Malformed(ImageType::kJpeg);
        const unsigned char next = ByteAt(in, p + 1);
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
          p += 2;
          continue;
        }
        break;
      }
      Append(out, in.substr(pos, p - pos));
      pos = p;
    }
    if (pos >= n || ByteAt(in, pos) != 0xFF) return Malformed(ImageType::kJpeg);
    size_t m = pos;
    while (m < n && ByteAt(in, m) == 0xFF) ++m;  // fill bytes
    if (m >= n) return Malformed(ImageType::kJpeg);
    const unsigned char marker = ByteAt(in, m);
    if (marker == 0xD9) {  // EOI: the end of the image; whatever follows is dropped
      if (!seen_scan) return Malformed(ImageType::kJpeg);
      Append(out, "\xFF\xD9");
      return absl::OkStatus();
    }
    if (marker == 0x00 || marker == 0xD8) return Malformed(ImageType::kJpeg);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // TEM, RSTn: no length
      Append(out, in.substr(pos, m + 1 - pos));
      pos = m + 1;
      continue;
    }
    if (n - m < 3) return Malformed(ImageType::kJpeg);
    const size_t length = ReadBe(in, m + 1, 2);  // counts itself, not the marker
    if (length < 2 || length > n - (m + 1)) return Malformed(ImageType::kJpeg);
    const size_t end = m + 1 + length;
    if (KeepJpegSegment(marker, in.substr(m + 3, length - 2))) {
      Append(out, in.substr(pos, end - pos));
    }
    pos = end;
    in_scan = marker == 0xDA;  // SOS
    seen_scan = seen_scan || in_scan;
  }
}

// ----------------------------------------------------------------------------- PNG

constexpr absl::string_view kPngSignature("\x89PNG\r\n\x1a\n", 8);

// Ancillary chunks that only say how to render the pixels (or animate them, APNG).
// Every other ancillary chunk (eXIf, tEXt, zTXt, iTXt, tIME, private ones) is dropped:
// a decoder may ignore any ancillary chunk, and unknown ones may carry anything.
bool KeepPngAncillary(absl::string_view type) {
  static constexpr absl::string_view kKeep[] = {
      "tRNS", "cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "cICP", "mDCv",
      "cLLi", "bKGD", "hIST", "pHYs", "sPLT", "acTL", "fcTL", "fdAT"};
  return std::find(std::begin(kKeep), std::end(kKeep), type) != std::end(kKeep);
}

absl::Status WalkPng(absl::string_view in, std::string* out) {
  const size_t n = in.size();
  if (!absl::StartsWith(in, kPngSignature)) return Malformed(ImageType::kPng);
  Append(out, kPngSignature);
  size_t pos = kPngSignature.size();
  bool first = true;
  for (;;) {  // every chunk is at least 12 bytes
    if (n - pos < 12) return Malformed(ImageType::kPng);  // no IEND
    const uint64_t length = ReadBe(in, pos, 4);
    if (length > 0x7FFFFFFF || length > n - pos - 12) return Malformed(ImageType::kPng);
    const absl::string_view type = in.substr(pos + 4, 4);
    for (char c : type) {
      if (!absl::ascii_isalpha(static_cast<unsigned char>(c))) return Malformed(ImageType::kPng);
    }
    if (first && (type != "IHDR" || length != 13)) return Malformed(ImageType::kPng);
    first = false;
    const size_t end = pos + 12 + length;  // length, type, data, CRC
    const bool critical = absl::ascii_isupper(static_cast<unsigned char>(type[0]));
    if (critical || KeepPngAncillary(type)) Append(out, in.substr(pos, end - pos));
    pos = end;
    if (type == "IEND") return absl::OkStatus();  // whatever follows is dropped
  }
}

// ---------------------------------------------------------------------------- WebP

constexpr unsigned char kVp8xExifFlag = 0x08;
constexpr unsigned char kVp8xXmpFlag = 0x04;

bool KeepWebpChunk(absl::string_view fourcc) {
  static constexpr absl::string_view kKeep[] = {"VP8 ", "VP8L", "VP8X", "ALPH",
                                                "ANIM", "ANMF", "ICCP"};
  return std::find(std::begin(kKeep), std::end(kKeep), fourcc) != std::end(kKeep);
}

absl::Status WalkWebp(absl::string_view in, std::string* out) {
  const size_t n = in.size();
  if (n < 12 || in.substr(0, 4) != "RIFF" || in.substr(8, 4) != "WEBP") {
    return Malformed(ImageType::kWebp);
  }
  const size_t riff_size = ReadLe32(in, 4);
  if (riff_size < 4 || riff_size > n - 8) return Malformed(ImageType::kWebp);
  const size_t end = 8 + riff_size;  // bytes after the RIFF chunk are dropped
  Append(out, in.substr(0, 12));
  std::optional<size_t> vp8x_flags;  // where VP8X's flag byte is in `out`
  size_t pos = 12;
  bool first = true;
  while (pos < end) {  // every chunk is at least 8 bytes
    if (end - pos < 8) return Malformed(ImageType::kWebp);
    const absl::string_view fourcc = in.substr(pos, 4);
    const uint64_t size = ReadLe32(in, pos + 4);
    const uint64_t padded = size + (size & 1);
    if (padded > end - pos - 8) return Malformed(ImageType::kWebp);
    if (first && fourcc != "VP8 " && fourcc != "VP8L" && fourcc != "VP8X") {
      return Malformed(ImageType::kWebp);
    }
    if (fourcc == "VP8X") {  // only ever first, and exactly once
      if (!first || size < 10) return Malformed(ImageType::kWebp);
      if (out != nullptr) vp8x_flags = out->size() + 8;
    }
    first = false;
    const size_t chunk_end = pos + 8 + padded;
    if (KeepWebpChunk(fourcc)) Append(out, in.substr(pos, chunk_end - pos));
    pos = chunk_end;
  }
  if (first) return Malformed(ImageType::kWebp);  // no image chunk at all
  if (out != nullptr) {
    if (vp8x_flags) {
      (*out)[*vp8x_flags] = static_cast<char>(static_cast<unsigned char>((*out)[*vp8x_flags]) &
                                              ~(kVp8xExifFlag | kVp8xXmpFlag));
    }
    WriteLe32(*out, 4, static_cast<uint32_t>(out->size() - 8));  // <= the input's size
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------- HEIC

// Real files have one or two metadata items with one extent each; far more is hostile.
constexpr size_t kMaxMetadataExtents = 1024;

struct Box {
  uint32_t type = 0;
  size_t payload = 0;  // first byte after the header
  size_t end = 0;      // one past the last byte
};

// The ISO BMFF box whose header starts at `pos`, which must lie entirely within
// [pos, limit). Size 0 means "to the end of the container", size 1 a 64-bit size.
std::optional<Box> ReadBox(absl::string_view in, size_t pos, size_t limit) {
  if (pos > limit || limit - pos < 8) return std::nullopt;
  uint64_t size = ReadBe(in, pos, 4);
  size_t header = 8;
  if (size == 1) {
    if (limit - pos < 16) return std::nullopt;
    size = ReadBe(in, pos + 8, 8);
    header = 16;
  } else if (size == 0) {
    size = limit - pos;
  }
  Box box;
  box.type = static_cast<uint32_t>(ReadBe(in, pos + 4, 4));
  if (box.type == FourCc("uuid")) header += 16;
  if (size < header || size > limit - pos) return std::nullopt;
  box.payload = pos + header;
  box.end = pos + static_cast<size_t>(size);
  return box;
}

// Sequential big-endian reads within [pos, end); every read checks the bounds.
class BoxReader {
 public:
  BoxReader(absl::string_view in, size_t pos, size_t end) : in_(in), pos_(pos), end_(end) {}

  // Reads a `width`-byte unsigned integer; width 0 reads nothing and yields 0.
  bool Read(int width, uint64_t& value) {
    if (end_ - pos_ < static_cast<size_t>(width)) return false;
    value = ReadBe(in_, pos_, width);
    pos_ += width;
    return true;
  }
  bool Skip(size_t bytes) {
    if (end_ - pos_ < bytes) return false;
    pos_ += bytes;
    return true;
  }
  size_t pos() const { return pos_; }

 private:
  absl::string_view in_;
  size_t pos_;
  size_t end_;
};

struct Range {
  uint64_t begin;
  uint64_t end;
};

// The ids of the metadata items ('Exif', and 'mime' items, which hold XMP) declared by
// an iinf box, sorted.
absl::Status MetadataItems(absl::string_view in, const Box& iinf, std::vector<uint32_t>& ids) {
  BoxReader r(in, iinf.payload, iinf.end);
  uint64_t version = 0;
  uint64_t count = 0;
  if (!r.Read(1, version) || !r.Skip(3) || !r.Read(version == 0 ? 2 : 4, count)) {
    return Malformed(ImageType::kHeic);
  }
  size_t pos = r.pos();
  // Each entry is a box of at least 8 bytes, so a lying count fails within the box.
  for (uint64_t i = 0; i < count; ++i) {
    std::optional<Box> infe = ReadBox(in, pos, iinf.end);
    if (!infe) return Malformed(ImageType::kHeic);
    pos = infe->end;
    if (infe->type != FourCc("infe")) continue;
    BoxReader e(in, infe->payload, infe->end);
    uint64_t infe_version = 0;
    uint64_t id = 0;
    if (!e.Read(1, infe_version) || infe_version > 3 || !e.Skip(3) ||
        !e.Read(infe_version == 3 ? 4 : 2, id) || !e.Skip(2)) {  // skips the protection index
      return Malformed(ImageType::kHeic);
    }
    bool metadata = true;  // versions 0 and 1 describe MIME-typed items only
    if (infe_version >= 2) {
      uint64_t item_type = 0;
      if (!e.Read(4, item_type)) return Malformed(ImageType::kHeic);
      metadata = item_type == FourCc("Exif") || item_type == FourCc("mime");
    }
    if (metadata) ids.push_back(static_cast<uint32_t>(id));
  }
  std::sort(ids.begin(), ids.end());
  return absl::OkStatus();
}

// Adds to `ranges` the file byte ranges holding the data of the items in `ids`, as the
// iloc box places them (construction method 0: file offsets; 1: offsets into `idat`).
absl::Status MetadataRanges(absl::string_view in, const Box& iloc, const std::optional<Box>& idat,
                            const std::vector<uint32_t>& ids, std::vector<Range>& ranges) {
  const auto malformed = [] { return Malformed(ImageType::kHeic); };
  BoxReader r(in, iloc.payload, iloc.end);
  uint64_t version = 0;
  uint64_t sizes = 0;
  uint64_t more_sizes = 0;
  if (!r.Read(1, version) || version > 2 || !r.Skip(3) || !r.Read(1, sizes) ||
      !r.Read(1, more_sizes)) {
    return malformed();
  }
  const int offset_size = static_cast<int>(sizes >> 4);
  const int length_size = static_cast<int>(sizes & 0xF);
  const int base_offset_size = static_cast<int>(more_sizes >> 4);
  const int index_size = version == 0 ? 0 : static_cast<int>(more_sizes & 0xF);
  for (int size : {offset_size, length_size, base_offset_size, index_size}) {
    if (size != 0 && size != 4 && size != 8) return malformed();
  }
  const int id_size = version < 2 ? 2 : 4;
  uint64_t count = 0;
  if (!r.Read(id_size, count)) return malformed();
  // Each item takes at least 6 bytes, so a lying count fails within the box.
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t id = 0;
    uint64_t method = 0;
    uint64_t data_reference = 0;
    uint64_t base = 0;
    uint64_t extents = 0;
    if (!r.Read(id_size, id) || (version >= 1 && !r.Read(2, method)) ||
        !r.Read(2, data_reference) || !r.Read(base_offset_size, base) || !r.Read(2, extents)) {
      return malformed();
    }
    method &= 0xF;
    // Data in another file (data_reference != 0) is not in this one to remove.
    const bool wanted = data_reference == 0 &&
                        std::binary_search(ids.begin(), ids.end(), static_cast<uint32_t>(id));
    if (index_size + offset_size + length_size == 0) {
      // Zero-width extents read nothing; a length of 0 means "everything", which we
      // will not guess at for metadata.
      if (wanted && extents > 0) return malformed();
      continue;
    }
    for (uint64_t e = 0; e < extents; ++e) {
      uint64_t index = 0;
      uint64_t offset = 0;
      uint64_t length = 0;
      if (!r.Read(index_size, index) || !r.Read(offset_size, offset) ||
          !r.Read(length_size, length)) {
        return malformed();
      }
      if (!wanted) continue;
      // Construction method 2 (data from other items) is not used for metadata by any
      // writer we know; refusing beats publishing what we could not find.
      if (length == 0 || method > 1 || ranges.size() >= kMaxMetadataExtents) return malformed();
      uint64_t container_begin = 0;
      uint64_t container_end = in.size();
      if (method == 1) {
        if (!idat) return malformed();
        container_begin = idat->payload;
        container_end = idat->end;
      }
      const uint64_t room = container_end - container_begin;
      if (base > room || offset > room - base || length > room - base - offset) {
        return malformed();
      }
      const uint64_t begin = container_begin + base + offset;
      ranges.push_back({begin, begin + length});
    }
  }
  return absl::OkStatus();
}

// The metadata ranges of one top-level meta box.
absl::Status HeifMetaRanges(absl::string_view in, const Box& meta, std::vector<Range>& ranges) {
  if (meta.end - meta.payload < 4) return Malformed(ImageType::kHeic);
  std::optional<Box> iinf;
  std::optional<Box> iloc;
  std::optional<Box> idat;
  for (size_t pos = meta.payload + 4; pos < meta.end;) {  // after version and flags
    std::optional<Box> child = ReadBox(in, pos, meta.end);
    if (!child) return Malformed(ImageType::kHeic);
    pos = child->end;
    std::optional<Box>* slot = child->type == FourCc("iinf")   ? &iinf
                               : child->type == FourCc("iloc") ? &iloc
                               : child->type == FourCc("idat") ? &idat
                                                               : nullptr;
    if (slot == nullptr) continue;
    if (slot->has_value()) return Malformed(ImageType::kHeic);  // at most one of each
    *slot = child;
  }
  if (!iinf) return absl::OkStatus();  // no items, no metadata items
  std::vector<uint32_t> ids;
  CIVIC_RETURN_IF_ERROR(MetadataItems(in, *iinf, ids));
  if (ids.empty()) return absl::OkStatus();
  if (!iloc) return Malformed(ImageType::kHeic);  // items with nowhere to be
  return MetadataRanges(in, *iloc, idat, ids, ranges);
}

absl::Status WalkHeic(absl::string_view in, std::string* out) {
  std::vector<Range> ranges;
  bool first = true;
  bool has_meta = false;
  for (size_t pos = 0; pos < in.size();) {
    std::optional<Box> box = ReadBox(in, pos, in.size());
    if (!box) return Malformed(ImageType::kHeic);
    pos = box->end;
    if (first && box->type != FourCc("ftyp")) return Malformed(ImageType::kHeic);
    first = false;
    if (box->type == FourCc("meta")) {
      has_meta = true;
      CIVIC_RETURN_IF_ERROR(HeifMetaRanges(in, *box, ranges));
    }
  }
  // Without a meta box there is no image, and nowhere we could have looked for Exif.
  if (!has_meta) return Malformed(ImageType::kHeic);
  if (out == nullptr) return absl::OkStatus();
  out->assign(in.data(), in.size());
  // Overlapping ranges are merged first, so zeroing touches each byte at most once.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.begin < b.begin; });
  uint64_t zeroed_to = 0;
  for (const Range& range : ranges) {
    const uint64_t begin = std::max(range.begin, zeroed_to);
    if (begin >= range.end) continue;
    std::memset(out->data() + begin, 0, range.end - begin);
    zeroed_to = range.end;
  }
  return absl::OkStatus();
}

absl::Status Walk(ImageType type, absl::string_view bytes, std::string* out) {
  switch (type) {
    case ImageType::kJpeg:
      return WalkJpeg(bytes, out);
    case ImageType::kPng:
      return WalkPng(bytes, out);
    case ImageType::kWebp:
      return WalkWebp(bytes, out);
    case ImageType::kHeic:
      return WalkHeic(bytes, out);
    case ImageType::kUnknown:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("photo ", kNotAnImage));
}

// "12.4 MiB", "900 KiB", "17 bytes": one decimal, rounded up or down, so that a size just
// over a limit never prints the same as the limit.
std::string FormatSize(int64_t bytes, bool round_up) {
  constexpr int64_t kKiB = 1024;
  constexpr int64_t kMiB = 1024 * kKiB;
  if (bytes < kKiB) return absl::StrCat(bytes, " bytes");
  const int64_t unit = bytes >= kMiB ? kMiB : kKiB;
  const int64_t remainder_tenths = (bytes % unit) * 10;
  int64_t tenths = bytes / unit * 10 + remainder_tenths / unit;
  if (round_up && remainder_tenths % unit != 0) ++tenths;
  const absl::string_view name = unit == kMiB ? " MiB" : " KiB";
  if (tenths % 10 == 0) return absl::StrCat(tenths / 10, name);
  return absl::StrCat(tenths / 10, ".", tenths % 10, name);
}

// Whether the client's file name claims to be an image (and is short and printable
// enough to quote back).
bool NamedLikeAnImage(absl::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (absl::ascii_iscntrl(static_cast<unsigned char>(c))) return false;
  }
  const size_t dot = name.rfind('.');
  if (dot == absl::string_view::npos) return false;
  const std::string extension = absl::AsciiStrToLower(name.substr(dot + 1));
  for (absl::string_view image : {"jpg", "jpeg", "jpe", "jfif", "png", "webp", "heic", "heif",
                                  "hif"}) {
    if (extension == image) return true;
  }
  return false;
}

}  // namespace

ImageType SniffImageType(absl::string_view bytes) {
  const size_t n = bytes.size();
  if (n >= 3 && ByteAt(bytes, 0) == 0xFF && ByteAt(bytes, 1) == 0xD8 &&
      ByteAt(bytes, 2) == 0xFF) {
    return ImageType::kJpeg;
  }
  if (absl::StartsWith(bytes, kPngSignature)) return ImageType::kPng;
  if (n >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    return ImageType::kWebp;
  }
  if (n >= 16 && bytes.substr(4, 4) == "ftyp") {
    const uint64_t size = std::min<uint64_t>(ReadBe(bytes, 0, 4), n);
    if (size < 16) return ImageType::kUnknown;
    const auto heif_brand = [](absl::string_view brand) {
      for (absl::string_view b : {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1",
                                  "msf1"}) {
        if (brand == b) return true;
      }
      return false;
    };
    const absl::string_view major = bytes.substr(8, 4);
    if (major == "avif" || major == "avis") return ImageType::kUnknown;  // AV1, not HEVC
    if (heif_brand(major)) return ImageType::kHeic;
    // Compatible brands follow the minor version, up to the end of the box.
    for (size_t pos = 16; pos + 4 <= size; pos += 4) {
      if (heif_brand(bytes.substr(pos, 4))) return ImageType::kHeic;
    }
  }
  return ImageType::kUnknown;
}

absl::string_view ContentTypeOf(ImageType type) {
  switch (type) {
    case ImageType::kJpeg:
      return "image/jpeg";
    case ImageType::kPng:
      return "image/png";
    case ImageType::kWebp:
      return "image/webp";
    case ImageType::kHeic:
      return "image/heic";
    case ImageType::kUnknown:
      break;
  }
  return "application/octet-stream";
}

absl::string_view NameOf(ImageType type) {
  switch (type) {
    case ImageType::kJpeg:
      return "JPEG";
    case ImageType::kPng:
      return "PNG";
    case ImageType::kWebp:
      return "WebP";
    case ImageType::kHeic:
      return "HEIC";
    case ImageType::kUnknown:
      break;
  }
  return "unknown";
}

absl::StatusOr<std::string> StripMetadata(ImageType type, absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  CIVIC_RETURN_IF_ERROR(Walk(type, bytes, &out));
  return out;
}

absl::Status CheckImageStructure(ImageType type, absl::string_view bytes) {
  return Walk(type, bytes, nullptr);
}

void CheckPhotos(const google::protobuf::RepeatedPtrField<common::v1::PhotoUpload>& photos,
                 const PhotoLimits& limits, FieldErrors& errors) {
  if (photos.size() > limits.max_photos) {
    errors.Add("photos", absl::StrCat("at most ", limits.max_photos, " photos; got ",
                                      photos.size()));
  }
  for (int i = 0; i < photos.size(); ++i) {
    const common::v1::PhotoUpload& photo = photos[i];
    const absl::string_view data = photo.data();
    std::string field = absl::StrCat("photos[", i, "]");
    if (data.empty()) {
      errors.Add(std::move(field), "is empty");
      continue;
    }
    const int64_t size = static_cast<int64_t>(data.size());
    if (size > limits.max_bytes) {
      errors.Add(std::move(field), absl::StrCat("is ", FormatSize(size, /*round_up=*/true),
                                                "; at most ",
                                                FormatSize(limits.max_bytes, /*round_up=*/false)));
      continue;
    }
    const ImageType type = SniffImageType(data);
    if (type == ImageType::kUnknown) {
      std::string message = absl::StrCat(kNotAnImage);
      if (NamedLikeAnImage(photo.file_name())) {
        absl::StrAppend(&message, " (a file named ", photo.file_name(), " is not enough)");
      }
      errors.Add(std::move(field), std::move(message));
    } else if (!CheckImageStructure(type, data).ok()) {
      errors.Add(std::move(field), absl::StrCat("is not a valid ", NameOf(type), " file"));
    }
  }
}

rocksdb::ColumnFamilyOptions BlobColumnOptions() {
  rocksdb::ColumnFamilyOptions options;
  options.OptimizeForPointLookup(16);
  options.enable_blob_files = true;
  options.min_blob_size = 64 << 10;
  options.blob_compression_type = rocksdb::kNoCompression;
  options.enable_blob_garbage_collection = true;
  return options;
}

std::vector<std::string> PhotoStore::Keyspaces() { return {kPhotosCf, kPublicPhotosCf}; }

absl::StatusOr<std::vector<std::string>> PhotoStore::Add(
    const google::protobuf::RepeatedPtrField<common::v1::PhotoUpload>& photos, storage::Batch& batch,
    absl::Time now) const {
  // Check every photo before putting any, so a refusal leaves `batch` as it was.
  std::vector<ImageType> types;
  types.reserve(photos.size());
  for (int i = 0; i < photos.size(); ++i) {
    const ImageType type = SniffImageType(photos[i].data());
    absl::Status status = CheckImageStructure(type, photos[i].data());
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("photos[", i, "]: ", status.message()));
    }
    types.push_back(type);
  }
  std::vector<std::string> ids;
  ids.reserve(photos.size());
  for (int i = 0; i < photos.size(); ++i) {
    const std::string& data = photos[i].data();
    // Cannot fail: the structure was checked above.
    CIVIC_ASSIGN_OR_RETURN(std::string stripped, StripMetadata(types[i], data));
    common::v1::PhotoContent content;
    content.set_photo_id(NewSortableId(now));
    content.set_content_type(std::string(ContentTypeOf(types[i])));
    content.set_data(data);
    batch.Put(kPhotosCf, content.photo_id(), content.SerializeAsString());
    content.set_data(std::move(stripped));
    batch.Put(kPublicPhotosCf, content.photo_id(), content.SerializeAsString());
    ids.push_back(content.photo_id());
  }
  return ids;
}

absl::StatusOr<common::v1::PhotoContent> PhotoStore::GetPublic(const std::string& photo_id) const {
  CIVIC_ASSIGN_OR_RETURN(std::optional<std::string> raw,
                         store_->Get(kPublicPhotosCf, photo_id));
  if (!raw) {
    return WithReason(absl::NotFoundError("no photo has that id"), "PHOTO_NOT_FOUND", kDomain);
  }
  common::v1::PhotoContent content;
  if (!content.ParseFromString(*raw)) {
    return absl::DataLossError(absl::StrCat("photo ", photo_id, " is unreadable"));
  }
  return content;
}

}  // namespace civic::photos
