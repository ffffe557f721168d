// Photos from citizens (with their reports) and from units (with replies): recognising
// the image type from the bytes, removing location and camera metadata before anyone but
// the owning service sees a photo, and storing both copies in that service's RocksDB in
// the same batch as the record they belong to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "civic/common/v1/common.pb.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/core/status.h"
#include "libs/storage/store.h"
#include "rocksdb/options.h"

namespace civic::photos {

// Keyspaces of the photo store. Both hold serialized common::v1::PhotoContent under the photo id.
inline constexpr char kPhotosCf[] = "photos";                // original, private: may hold GPS
inline constexpr char kPublicPhotosCf[] = "photos_public";  // metadata removed, served

enum class ImageType { kUnknown, kJpeg, kPng, kWebp, kHeic };

// The image type from the leading bytes alone (never the file name): JPEG FF D8 FF, the
// PNG signature, RIFF....WEBP, or an ISO BMFF `ftyp` box at offset 4 whose major or a
// compatible brand is a HEIF brand (heic heix hevc hevx heim heis mif1 msf1) and whose
// major brand is not AVIF's. kUnknown otherwise. Looks at no more than the `ftyp` box.
ImageType SniffImageType(absl::string_view bytes);

// "image/jpeg", "image/png", "image/webp", "image/heic"; "application/octet-stream" for
// kUnknown.
absl::string_view ContentTypeOf(ImageType type);

// "JPEG", "PNG", "WebP", "HEIC"; "unknown" for kUnknown.
absl::string_view NameOf(ImageType type);

// The public copy of an image: location, camera and free-text metadata removed, the
// image data itself byte-for-byte unchanged.
//  - JPEG: drops APP1 (Exif, XMP), APP13 (Photoshop/IPTC), COM and the APP2 "MPF"
//    index, and anything after the image's EOI (where phones append further images,
//    each with its own Exif). Keeps APP0, APP2 ICC profiles, APP14, tables, frames and
//    the scans verbatim.
//  - PNG: keeps critical chunks and the rendering-related ancillary chunks (tRNS, cHRM,
//    gAMA, iCCP, sBIT, sRGB, cICP, mDCv, cLLi, bKGD, hIST, pHYs, sPLT and APNG's acTL,
//    fcTL, fdAT); drops every other ancillary chunk, eXIf tEXt zTXt iTXt tIME included,
//    and anything after IEND. Chunk framing is checked, CRC values are not.
//  - WebP: keeps VP8, VP8L, VP8X, ALPH, ANIM, ANMF and ICCP chunks, drops EXIF, XMP and
//    unknown chunks, clears VP8X's Exif and XMP flags and rewrites the RIFF size.
//  - HEIC: same length as the input; the data of every 'Exif' and 'mime' (XMP) item of
//    each top-level `meta` box, located through `iloc` (construction method 0 or 1), is
//    overwritten with zeros, so every offset in the file stays valid.
// Errors: INVALID_ARGUMENT "photo is not a valid <type> file" when the structure is
// malformed (truncated, a length running past its container, a missing end marker, ...)
// or "photo is not a JPEG, PNG, WebP or HEIC image" for kUnknown. Never reads outside
// `bytes`, never recurses, and allocates at most the size of the input.
absl::StatusOr<std::string> StripMetadata(ImageType type, absl::string_view bytes);

// As StripMetadata, without building the copy: OK exactly when StripMetadata would be.
absl::Status CheckImageStructure(ImageType type, absl::string_view bytes);

struct PhotoLimits {
  int max_photos = 5;
  int64_t max_bytes = 10 << 20;  // per photo
};

// Adds a violation per problem to `errors`: on "photos" when there are more than
// `limits.max_photos`, and on "photos[i]" when photo i is empty, larger than
// `limits.max_bytes`, not a recognised image ("is not a JPEG, PNG, WebP or HEIC image"),
// or malformed ("is not a valid PNG file"). A photo StripMetadata would refuse is always
// reported here, so PhotoStore::Add cannot fail on photos that passed.
void CheckPhotos(const google::protobuf::RepeatedPtrField<common::v1::PhotoUpload>& photos,
                 const PhotoLimits& limits, FieldErrors& errors);

// RocksDB options for the photo keyspaces: values of 64 KiB and more go to blob files
// (integrated BlobDB) instead of the LSM tree, uncompressed (images are compressed
// already), with blob garbage collection during compaction. Otherwise as the store's
// other keyspaces (OptimizeForPointLookup(16)).
rocksdb::ColumnFamilyOptions BlobColumnOptions();

// Photos in a service's store: the original (private, for staff; may hold location) and the
// public copy, under one sortable id. Thread-safe (the store is).
class PhotoStore {
 public:
  // `store` is not owned, must outlive this, and must have been opened with Keyspaces().
  explicit PhotoStore(storage::Store* store) : store_(store) {}

  // kPhotosCf and kPublicPhotosCf; both are meant to be opened with BlobColumnOptions().
  static std::vector<std::string> Keyspaces();

  // Assigns each photo an id (NewSortableId(now)), makes its public copy and puts both
  // copies into `batch`, so that they become durable with whatever else the caller
  // writes in it. Returns the ids in upload order. Nothing is written to the store here.
  // Errors: INVALID_ARGUMENT when a photo is not a recognised, well-formed image
  // (CheckPhotos reports these per field first); `batch` then holds none of the photos.
  // Limits (count, size) are CheckPhotos' business, not enforced here.
  absl::StatusOr<std::vector<std::string>> Add(
      const google::protobuf::RepeatedPtrField<common::v1::PhotoUpload>& photos,
      storage::Batch& batch, absl::Time now) const;

  // The public copy. NOT_FOUND when no photo has that id; DATA_LOSS when the stored value
  // is unreadable; UNAVAILABLE / INTERNAL on storage errors.
  absl::StatusOr<common::v1::PhotoContent> GetPublic(const std::string& photo_id) const;

 private:
  storage::Store* store_;
};

}  // namespace civic::photos
