// Photos: type sniffing from bytes, upload limits, metadata removal on small hand-built
// images of each format (structurally valid, not decodable), robustness against
// truncated and mutated input, and the store round trip.
#include "libs/photos/photos.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/core/status.h"
#include "libs/storage/test_dir.h"

namespace civic::photos {
namespace {

using Uploads = google::protobuf::RepeatedPtrField<common::v1::PhotoUpload>;

// What the test images hide in their metadata, and what must never be served.
bool HasSecrets(absl::string_view bytes) {
  return absl::StrContains(bytes, "GPS") || absl::StrContains(bytes, "Canon");
}

std::string Be16(uint64_t v) { return {static_cast<char>(v >> 8), static_cast<char>(v)}; }
std::string Be32(uint64_t v) { return absl::StrCat(Be16((v >> 16) & 0xFFFF), Be16(v & 0xFFFF)); }
std::string Be64(uint64_t v) { return absl::StrCat(Be32(v >> 32), Be32(v & 0xFFFFFFFF)); }
std::string Le32(uint64_t v) {
  return {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
          static_cast<char>(v >> 24)};
}

// A big-endian TIFF header followed by tag-ish bytes naming the place and the camera.
const std::string kTiff = absl::StrCat(absl::string_view("MM\0\x2a\0\0\0\x08", 8),
                                       "GPSLatitude=10.7725;Model=Canon EOS 5D");

// ---------------------------------------------------------------------------- JPEG

std::string JpegSegment(unsigned char marker, absl::string_view payload) {
  return absl::StrCat(std::string{'\xFF', static_cast<char>(marker)}, Be16(payload.size() + 2),
                      payload);
}

struct Jpeg {
  std::string bytes;     // with metadata
  std::string expected;  // what the public copy must be
  std::string scan;      // SOS segment, entropy-coded data and EOI
};

Jpeg MakeJpeg(bool trailer = false) {
  const std::string soi = "\xFF\xD8";
  const std::string app0 =
      JpegSegment(0xE0, absl::string_view("JFIF\0\x01\x02\0\0\x01\0\x01\0\0", 14));
  const std::string exif = JpegSegment(0xE1, absl::StrCat(absl::string_view("Exif\0\0", 6), kTiff));
  const std::string xmp = JpegSegment(
      0xE1, absl::StrCat(absl::string_view("http://ns.adobe.com/xap/1.0/\0", 29),
                         "<x:xmpmeta><exif:GPSLatitude>10,46N</exif:GPSLatitude></x:xmpmeta>"));
  const std::string icc =
      JpegSegment(0xE2, absl::StrCat(absl::string_view("ICC_PROFILE\0\x01\x01", 14), "profile"));
  const std::string mpf = JpegSegment(0xE2, absl::string_view("MPF\0MM\0\x2a GPS", 12));
  const std::string iptc = JpegSegment(0xED, "Photoshop 3.0 8BIM GPS city");
  const std::string comment = JpegSegment(0xFE, "Shot on a Canon");
  const std::string dqt = JpegSegment(0xDB, absl::StrCat(std::string(1, '\0'), std::string(64, '\x01')));
  const std::string sof0 =
      JpegSegment(0xC0, absl::string_view("\x08\x00\x08\x00\x08\x01\x01\x11\x00", 9));
  const std::string dht = JpegSegment(
      0xC4, absl::StrCat(std::string(1, '\0'), std::string(1, '\x01'), std::string(15, '\0'),
                         std::string(1, '\0')));
  const std::string sos = JpegSegment(0xDA, absl::string_view("\x01\x01\x00\x00\x3F\x00", 6));
  const std::string entropy("\x12\x34\xFF\x00\x56\xFF\xD0\x78\x9A", 9);  // stuffing, RST0
  const std::string eoi = "\xFF\xD9";

  Jpeg jpeg;
  jpeg.scan = absl::StrCat(sos, entropy, eoi);
  jpeg.bytes = absl::StrCat(soi, app0, exif, xmp, icc, mpf, iptc, comment, dqt, sof0, dht,
                            jpeg.scan);
  if (trailer) jpeg.bytes += absl::StrCat("\xFF\xD8", exif, "GPS trailer");
  jpeg.expected = absl::StrCat(soi, app0, icc, dqt, sof0, dht, jpeg.scan);
  return jpeg;
}

// ----------------------------------------------------------------------------- PNG

uint32_t Crc32(absl::string_view bytes) {
  uint32_t crc = 0xFFFFFFFF;
  for (unsigned char c : bytes) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
  }
  return ~crc;
}

std::string PngChunk(absl::string_view type, absl::string_view data) {
  const std::string typed = absl::StrCat(type, data);
  return absl::StrCat(Be32(data.size()), typed, Be32(Crc32(typed)));
}

struct Png {
  std::string bytes;
  std::string expected;
  std::string idat;
};

Png MakePng() {
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  const std::string ihdr =
      PngChunk("IHDR", absl::StrCat(Be32(1), Be32(1), absl::string_view("\x08\x02\0\0\0", 5)));
  const std::string exif = PngChunk("eXIf", kTiff);
  const std::string text = PngChunk("tEXt", absl::string_view("Comment\0Canon EOS, GPS on", 25));
  const std::string itxt = PngChunk("iTXt", absl::string_view("XML:com.adobe.xmp\0\0\0\0\0GPS", 25));
  const std::string time = PngChunk("tIME", absl::string_view("\x07\xE8\x05\x11\x0A\x1E\x00", 7));
  const std::string phys = PngChunk("pHYs", absl::string_view("\0\0\x0B\x13\0\0\x0B\x13\x01", 9));
  Png png;
  png.idat = PngChunk("IDAT", absl::string_view("\x78\x9C\x63\x60\x60\x60\x00\x00\x00\x04\x00\x01", 12));
  const std::string iend = PngChunk("IEND", "");
  png.bytes = absl::StrCat(signature, ihdr, exif, text, itxt, time, phys, png.idat, iend);
  png.expected = absl::StrCat(signature, ihdr, phys, png.idat, iend);
  return png;
}

// ---------------------------------------------------------------------------- WebP

std::string RiffChunk(absl::string_view fourcc, absl::string_view data) {
  std::string chunk = absl::StrCat(fourcc, Le32(data.size()), data);
  if (data.size() % 2 == 1) chunk.push_back('\0');
  return chunk;
}

std::string Riff(absl::string_view chunks) {
  return absl::StrCat("RIFF", Le32(4 + chunks.size()), "WEBP", chunks);
}

struct Webp {
  std::string bytes;
  std::string expected;
  std::string vp8l;
};

Webp MakeWebp() {
  // Flags: EXIF (0x08) and XMP (0x04); canvas 1x1 (stored minus one, 24 bits each).
  const std::string vp8x_with = RiffChunk("VP8X", absl::string_view("\x0C\0\0\0\0\0\0\0\0\0", 10));
  const std::string vp8x_without = RiffChunk("VP8X", absl::string_view("\0\0\0\0\0\0\0\0\0\0", 10));
  Webp webp;
  webp.vp8l = RiffChunk("VP8L", absl::string_view("\x2F\0\0\0\x10", 5));  // odd: padded
  const std::string exif = RiffChunk("EXIF", kTiff);
  const std::string xmp = RiffChunk("XMP ", "<x:xmpmeta>Canon, GPS</x:xmpmeta>");
  webp.bytes = Riff(absl::StrCat(vp8x_with, webp.vp8l, exif, xmp));
  webp.expected = Riff(absl::StrCat(vp8x_without, webp.vp8l));
  return webp;
}

// ---------------------------------------------------------------------------- HEIC

std::string IsoBox(absl::string_view type, absl::string_view payload) {
  return absl::StrCat(Be32(8 + payload.size()), type, payload);
}

std::string FullBox(absl::string_view type, int version, absl::string_view payload) {
  return IsoBox(type, absl::StrCat(std::string(1, static_cast<char>(version)),
                                   std::string(3, '\0'), payload));
}

enum class IlocLayout {
  kVersion0,            // 4-byte offsets and lengths, no base offset
  kVersion1BaseOffset,  // base offset (4 bytes) + 8-byte extent offsets
  kIdat,                // the Exif item lives in the meta box's idat (method 1)
};

struct Heic {
  std::string bytes;
  struct Span {
    size_t offset;
    size_t length;
  };
  std::vector<Span> metadata;  // where the Exif and XMP item data are in `bytes`
};

Heic MakeHeic(IlocLayout layout) {
  const std::string ftyp = IsoBox("ftyp", absl::StrCat("heic", Be32(0), "mif1", "heic"));
  const std::string hdlr =
      FullBox("hdlr", 0, absl::StrCat(Be32(0), "pict", std::string(12, '\0'), std::string(1, '\0')));
  const std::string pitm = FullBox("pitm", 0, Be16(1));
  const std::string iinf = FullBox(
      "iinf", 0,
      absl::StrCat(Be16(3),
                   FullBox("infe", 2, absl::StrCat(Be16(1), Be16(0), "hvc1", std::string(1, '\0'))),
                   FullBox("infe", 2, absl::StrCat(Be16(2), Be16(0), "Exif", std::string(1, '\0'))),
                   FullBox("infe", 2,
                           absl::StrCat(Be16(3), Be16(0), "mime", std::string(1, '\0'),
                                        absl::string_view("application/rdf+xml\0", 20)))));
  const std::string image = "HEVC-CODED-PIXELS-0123456789abcdef";
  const std::string exif = absl::StrCat(Be32(6), absl::string_view("Exif\0\0", 6), kTiff);
  const std::string xmp = "<x:xmpmeta><tiff:Make>Canon</tiff:Make></x:xmpmeta>";
  const bool in_idat = layout == IlocLayout::kIdat;
  const std::string idat = in_idat ? IsoBox("idat", exif) : "";
  const std::string mdat_payload = absl::StrCat(image, in_idat ? "" : exif, xmp);

  // item id → (offset relative to mdat's payload or idat's, length, method)
  struct Item {
    uint32_t id;
    uint64_t offset;
    uint64_t length;
    int method;
  };
  const std::vector<Item> items = {
      {1, 0, image.size(), 0},
      {2, in_idat ? 0 : image.size(), exif.size(), in_idat ? 1 : 0},
      {3, image.size() + (in_idat ? 0 : exif.size()), xmp.size(), 0},
  };
  // The iloc box's size does not depend on the offsets, so lay out twice.
  auto make_meta = [&](uint64_t mdat_data) {
    std::string entries;
    for (const Item& item : items) {
      const uint64_t absolute = item.method == 1 ? item.offset : mdat_data + item.offset;
      switch (layout) {
        case IlocLayout::kVersion0:
          absl::StrAppend(&entries, Be16(item.id), Be16(0), Be16(1), Be32(absolute),
                          Be32(item.length));
          break;
        case IlocLayout::kVersion1BaseOffset:
          absl::StrAppend(&entries, Be16(item.id), Be16(0), Be16(0), Be32(mdat_data), Be16(1),
                          Be64(item.offset), Be32(item.length));
          break;
        case IlocLayout::kIdat:
          absl::StrAppend(&entries, Be16(item.id), Be16(item.method), Be16(0), Be16(1),
                          Be32(absolute), Be32(item.length));
          break;
      }
    }
    // offset_size << 4 | length_size, base_offset_size << 4 | index_size
    const std::string sizes = layout == IlocLayout::kVersion1BaseOffset
                                  ? std::string("\x84\x40", 2)
                                  : std::string("\x44\x00", 2);
    const std::string iloc = FullBox("iloc", layout == IlocLayout::kVersion0 ? 0 : 1,
                                     absl::StrCat(sizes, Be16(items.size()), entries));
    return FullBox("meta", 0, absl::StrCat(hdlr, pitm, iinf, iloc, idat));
  };
  const size_t meta_size = make_meta(0).size();
  const uint64_t mdat_data = ftyp.size() + meta_size + 8;
  const std::string meta = make_meta(mdat_data);

  Heic heic;
  heic.bytes = absl::StrCat(ftyp, meta, IsoBox("mdat", mdat_payload));
  if (in_idat) {
    heic.metadata.push_back({heic.bytes.find(exif), exif.size()});
  } else {
    heic.metadata.push_back({mdat_data + image.size(), exif.size()});
  }
  heic.metadata.push_back({heic.bytes.find(xmp), xmp.size()});
  return heic;
}

// --------------------------------------------------------------------------- tests

Uploads MakeUploads(const std::vector<std::pair<std::string, std::string>>& files) {
  Uploads uploads;
  for (const auto& [data, name] : files) {
    common::v1::PhotoUpload* photo = uploads.Add();
    photo->set_data(data);
    photo->set_file_name(name);
  }
  return uploads;
}

std::vector<FieldViolation> Check(const Uploads& uploads, const PhotoLimits& limits = {}) {
  FieldErrors errors;
  CheckPhotos(uploads, limits, errors);
  return errors.violations();
}

TEST_CASE("the image type comes from the bytes", "[photos]") {
  REQUIRE(SniffImageType(MakeJpeg().bytes) == ImageType::kJpeg);
  REQUIRE(SniffImageType(MakePng().bytes) == ImageType::kPng);
  REQUIRE(SniffImageType(MakeWebp().bytes) == ImageType::kWebp);
  REQUIRE(SniffImageType(MakeHeic(IlocLayout::kVersion0).bytes) == ImageType::kHeic);
  // A HEIF brand among the compatible brands is enough.
  REQUIRE(SniffImageType(IsoBox("ftyp", absl::StrCat("abcd", Be32(0), "isom", "mif1"))) ==
          ImageType::kHeic);
  REQUIRE(SniffImageType(IsoBox("ftyp", absl::StrCat("mp42", Be32(0), "isom", "mp41"))) ==
          ImageType::kUnknown);
  REQUIRE(SniffImageType(IsoBox("ftyp", absl::StrCat("avif", Be32(0), "mif1", "miaf"))) ==
          ImageType::kUnknown);
  REQUIRE(SniffImageType(absl::StrCat("RIFF", Le32(4), "WAVE")) == ImageType::kUnknown);
  REQUIRE(SniffImageType("\xFF\xD8") == ImageType::kUnknown);
  REQUIRE(SniffImageType("") == ImageType::kUnknown);
  REQUIRE(SniffImageType("GIF89a") == ImageType::kUnknown);

  REQUIRE(ContentTypeOf(ImageType::kJpeg) == "image/jpeg");
  REQUIRE(ContentTypeOf(ImageType::kPng) == "image/png");
  REQUIRE(ContentTypeOf(ImageType::kWebp) == "image/webp");
  REQUIRE(ContentTypeOf(ImageType::kHeic) == "image/heic");
}

TEST_CASE("a PNG named photo.jpg is accepted, a text file named photo.jpg is not",
          "[photos]") {
  REQUIRE(Check(MakeUploads({{MakePng().bytes, "photo.jpg"}})).empty());
  REQUIRE(SniffImageType(MakePng().bytes) == ImageType::kPng);

  const auto violations = Check(MakeUploads({{MakePng().bytes, "a.png"},
                                             {"just some text, honestly", "photo.jpg"}}));
  REQUIRE(violations.size() == 1);
  REQUIRE(violations[0].field == "photos[1]");
  REQUIRE(violations[0].description ==
          "is not a JPEG, PNG, WebP or HEIC image (a file named photo.jpg is not enough)");
  // Without an image-like name there is nothing to say about it.
  REQUIRE(Check(MakeUploads({{"text", "notes.txt"}}))[0].description ==
          "is not a JPEG, PNG, WebP or HEIC image");
}

TEST_CASE("photo sizes, counts and emptiness are limited", "[photos]") {
  SECTION("11 MiB is refused with its size") {
    std::string big = MakeJpeg().bytes;
    big.resize(11 << 20, 'x');  // after EOI: still a well-formed JPEG
    const auto violations = Check(MakeUploads({{big, "big.jpg"}}));
    REQUIRE(violations.size() == 1);
    REQUIRE(violations[0].field == "photos[0]");
    REQUIRE(violations[0].description == "is 11 MiB; at most 10 MiB");
  }
  SECTION("a size just over the limit never reads as the limit") {
    std::string big = MakeJpeg().bytes;
    big.resize(13002342, 'x');  // 12.39999 MiB
    REQUIRE(Check(MakeUploads({{big, ""}}))[0].description == "is 12.4 MiB; at most 10 MiB");
    big.resize((10 << 20) + 1);
    REQUIRE(Check(MakeUploads({{big, ""}}))[0].description == "is 10.1 MiB; at most 10 MiB");
  }
  SECTION("exactly the limit is accepted") {
    std::string big = MakeJpeg().bytes;
    big.resize(10 << 20, 'x');
    REQUIRE(Check(MakeUploads({{big, ""}})).empty());
  }
  SECTION("the limits are configurable") {
    std::string jpeg = MakeJpeg().bytes;
    jpeg.resize(1500, 'x');
    const auto violations = Check(MakeUploads({{jpeg, ""}, {jpeg, ""}, {jpeg, ""}}),
                                  PhotoLimits{.max_photos = 2, .max_bytes = 1000});
    REQUIRE(violations.size() == 4);
    REQUIRE(violations[0].field == "photos");
    REQUIRE(violations[0].description == "at most 2 photos; got 3");
    REQUIRE(violations[1].description == "is 1.5 KiB; at most 1000 bytes");
  }
  SECTION("6 photos are refused") {
    std::vector<std::pair<std::string, std::string>> files(6, {MakeJpeg().bytes, "p.jpg"});
    const auto violations = Check(MakeUploads(files));
    REQUIRE(violations.size() == 1);
    REQUIRE(violations[0].field == "photos");
    REQUIRE(absl::StartsWith(violations[0].description, "at most 5 photos"));
    files.pop_back();
    REQUIRE(Check(MakeUploads(files)).empty());
  }
  SECTION("an empty photo is refused") {
    const auto violations = Check(MakeUploads({{MakePng().bytes, ""}, {"", "empty.png"}}));
    REQUIRE(violations.size() == 1);
    REQUIRE(violations[0].field == "photos[1]");
    REQUIRE(violations[0].description == "is empty");
  }
  SECTION("a malformed image is refused by type") {
    const std::string png = MakePng().bytes;
    const auto violations = Check(MakeUploads({{png.substr(0, png.size() - 5), "cut.png"}}));
    REQUIRE(violations.size() == 1);
    REQUIRE(violations[0].description == "is not a valid PNG file");
  }
}

TEST_CASE("JPEG: Exif, XMP, IPTC, comments and trailing images go, the image stays",
          "[photos]") {
  const Jpeg jpeg = MakeJpeg(/*trailer=*/true);
  REQUIRE(HasSecrets(jpeg.bytes));
  auto stripped = StripMetadata(ImageType::kJpeg, jpeg.bytes);
  REQUIRE(stripped.ok());
  REQUIRE_FALSE(HasSecrets(*stripped));
  REQUIRE(*stripped == jpeg.expected);  // JFIF, ICC, tables, frame kept in order
  REQUIRE(absl::EndsWith(*stripped, jpeg.scan));
  REQUIRE(StripMetadata(ImageType::kJpeg, *stripped).value() == *stripped);
}

TEST_CASE("PNG: eXIf and text chunks go, IDAT stays", "[photos]") {
  const Png png = MakePng();
  REQUIRE(HasSecrets(png.bytes));
  auto stripped = StripMetadata(ImageType::kPng, png.bytes);
  REQUIRE(stripped.ok());
  REQUIRE_FALSE(HasSecrets(*stripped));
  REQUIRE_FALSE(absl::StrContains(*stripped, "tIME"));
  REQUIRE(*stripped == png.expected);
  REQUIRE(absl::StrContains(*stripped, png.idat));
  REQUIRE(StripMetadata(ImageType::kPng, *stripped).value() == *stripped);
}

TEST_CASE("WebP: EXIF and XMP chunks go, their flags are cleared, the size is fixed",
          "[photos]") {
  const Webp webp = MakeWebp();
  REQUIRE(HasSecrets(webp.bytes));
  auto stripped = StripMetadata(ImageType::kWebp, webp.bytes);
  REQUIRE(stripped.ok());
  REQUIRE_FALSE(HasSecrets(*stripped));
  REQUIRE(*stripped == webp.expected);
  REQUIRE(absl::StrContains(*stripped, webp.vp8l));
  REQUIRE(static_cast<unsigned char>((*stripped)[20]) == 0);  // VP8X flags
  REQUIRE(stripped->substr(4, 4) == Le32(stripped->size() - 8));
}

TEST_CASE("HEIC: Exif and XMP items are zeroed in place, everything else is unchanged",
          "[photos]") {
  for (IlocLayout layout :
       {IlocLayout::kVersion0, IlocLayout::kVersion1BaseOffset, IlocLayout::kIdat}) {
    CAPTURE(static_cast<int>(layout));
    const Heic heic = MakeHeic(layout);
    REQUIRE(HasSecrets(heic.bytes));
    auto stripped = StripMetadata(ImageType::kHeic, heic.bytes);
    REQUIRE(stripped.ok());
    REQUIRE_FALSE(HasSecrets(*stripped));
    REQUIRE(stripped->size() == heic.bytes.size());
    std::vector<bool> in_metadata(heic.bytes.size(), false);
    for (const Heic::Span& span : heic.metadata) {
      for (size_t i = 0; i < span.length; ++i) in_metadata[span.offset + i] = true;
    }
    for (size_t i = 0; i < heic.bytes.size(); ++i) {
      if (in_metadata[i]) {
        REQUIRE((*stripped)[i] == '\0');
      } else if ((*stripped)[i] != heic.bytes[i]) {
        FAIL("byte " << i << " outside the metadata items changed");
      }
    }
    REQUIRE(absl::StrContains(*stripped, "HEVC-CODED-PIXELS-0123456789abcdef"));
  }
}

TEST_CASE("truncated images are INVALID_ARGUMENT, whatever the cut", "[photos]") {
  const std::vector<std::pair<ImageType, std::string>> images = {
      {ImageType::kJpeg, MakeJpeg().bytes},
      {ImageType::kPng, MakePng().bytes},
      {ImageType::kWebp, MakeWebp().bytes},
      {ImageType::kHeic, MakeHeic(IlocLayout::kVersion0).bytes},
      {ImageType::kHeic, MakeHeic(IlocLayout::kIdat).bytes},
  };
  for (const auto& [type, bytes] : images) {
    REQUIRE(StripMetadata(type, bytes).ok());
    for (size_t length = 0; length < bytes.size(); ++length) {
      CAPTURE(NameOf(type), length);
      auto result = StripMetadata(type, absl::string_view(bytes).substr(0, length));
      REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
      REQUIRE(result.status().message() == absl::StrCat("photo is not a valid ", NameOf(type), " file"));
    }
  }
  REQUIRE(StripMetadata(ImageType::kUnknown, "hello").status().code() ==
          absl::StatusCode::kInvalidArgument);
}

TEST_CASE("mutated images never crash and never grow", "[photos]") {
  const std::vector<std::pair<ImageType, std::string>> images = {
      {ImageType::kJpeg, MakeJpeg(true).bytes},
      {ImageType::kPng, MakePng().bytes},
      {ImageType::kWebp, MakeWebp().bytes},
      {ImageType::kHeic, MakeHeic(IlocLayout::kVersion0).bytes},
      {ImageType::kHeic, MakeHeic(IlocLayout::kVersion1BaseOffset).bytes},
      {ImageType::kHeic, MakeHeic(IlocLayout::kIdat).bytes},
  };
  std::mt19937 rng(20240517);
  for (const auto& [type, original] : images) {
    for (int round = 0; round < 3000; ++round) {
      std::string bytes = original;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < flips; ++i) {
        bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
      }
      auto result = StripMetadata(type, bytes);
      if (result.ok()) {
        REQUIRE(result->size() <= bytes.size());
        if (type == ImageType::kHeic) REQUIRE(result->size() == bytes.size());
      } else {
        REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
      }
    }
  }
}

TEST_CASE("photos are stored with the caller's batch and served without metadata",
          "[photos]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), PhotoStore::Keyspaces()});
  REQUIRE(store.ok());
  PhotoStore photos(store->get());
  const Jpeg jpeg = MakeJpeg();
  const Png png = MakePng();
  const Heic heic = MakeHeic(IlocLayout::kVersion0);
  const Uploads uploads = MakeUploads(
      {{jpeg.bytes, "IMG_0001.JPG"}, {png.bytes, "photo.jpg"}, {heic.bytes, "IMG_0002.HEIC"}});

  storage::Batch batch(store->get());
  const absl::Time now = absl::FromUnixSeconds(1'715'900'000);
  auto ids = photos.Add(uploads, batch, now);
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 3);
  REQUIRE((*ids)[0] < (*ids)[1]);
  REQUIRE((*ids)[1] < (*ids)[2]);
  // Nothing is visible before the caller writes the batch.
  REQUIRE(photos.GetPublic((*ids)[0]).status().code() == absl::StatusCode::kNotFound);
  REQUIRE((*store)->Write(batch).ok());

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"image/jpeg", jpeg.expected},
      {"image/png", png.expected},
      {"image/heic", StripMetadata(ImageType::kHeic, heic.bytes).value()},
  };
  for (size_t i = 0; i < ids->size(); ++i) {
    auto served = photos.GetPublic((*ids)[i]);
    REQUIRE(served.ok());
    REQUIRE(served->photo_id() == (*ids)[i]);
    REQUIRE(served->content_type() == expected[i].first);
    REQUIRE(served->data() == expected[i].second);
    REQUIRE_FALSE(HasSecrets(served->data()));

    // The original, kept privately, still has everything.
    auto raw = (*store)->Get(kPhotosCf, (*ids)[i]);
    REQUIRE(raw.ok());
    REQUIRE(raw->has_value());
    common::v1::PhotoContent original;
    REQUIRE(original.ParseFromString(**raw));
    REQUIRE(original.photo_id() == (*ids)[i]);
    REQUIRE(original.content_type() == expected[i].first);
    REQUIRE(original.data() == uploads[static_cast<int>(i)].data());
    REQUIRE(HasSecrets(original.data()));
  }

  auto unknown = photos.GetPublic("01HXXXXXXXXXXXXXXXXXXXXXXX");
  REQUIRE(unknown.status().code() == absl::StatusCode::kNotFound);
  REQUIRE(ReasonOf(unknown.status()) == "PHOTO_NOT_FOUND");
}

TEST_CASE("a batch gets no photo when one of them is refused", "[photos]") {
  storage::TestDir dir;
  auto store = storage::Store::Open({dir.path(), PhotoStore::Keyspaces()});
  REQUIRE(store.ok());
  PhotoStore photos(store->get());
  storage::Batch batch(store->get());
  const std::string png = MakePng().bytes;
  auto ids = photos.Add(
      MakeUploads({{png, "ok.png"}, {png.substr(0, png.size() / 2), "cut.png"}}), batch,
      absl::FromUnixSeconds(1'715'900'000));
  REQUIRE(ids.status().code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(absl::StartsWith(ids.status().message(), "photos[1]"));
  REQUIRE(batch.empty());
}

TEST_CASE("photo keyspaces keep large values in blob files", "[photos]") {
  const rocksdb::ColumnFamilyOptions options = BlobColumnOptions();
  REQUIRE(options.enable_blob_files);
  REQUIRE(options.min_blob_size == 64 << 10);
  REQUIRE(options.blob_compression_type == rocksdb::kNoCompression);
  REQUIRE(options.enable_blob_garbage_collection);
  REQUIRE(PhotoStore::Keyspaces() == std::vector<std::string>{kPhotosCf, kPublicPhotosCf});
}

}  // namespace
}  // namespace civic::photos
