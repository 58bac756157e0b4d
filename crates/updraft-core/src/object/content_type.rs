//! The `Content-Type` of an upload, from its file name's extension.
//!
//! A compact built-in table of the common web, media, document and archive types
//! rather than `mime_guess`: that crate's ~1,500-entry table added 70.7 KB raw /
//! 24.8 KB gzip to a `wasm32-unknown-unknown` probe (opt-level `z`, LTO), most of
//! the 30 KB gzip budget of the whole browser API; this table and its lookup add
//! 3.4 KB raw / 1.4 KB gzip to the same probe. A site that needs another type sets
//! [`super::ObjectProperties::content_type`] itself.

/// The type S3 and browsers assume for unknown bytes.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Extension (lowercase) → media type.
const TABLE: &[(&str, &str)] = &[
    // text and web
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("tsv", "text/tab-separated-values"),
    ("md", "text/markdown"),
    ("ics", "text/calendar"),
    ("vtt", "text/vtt"),
    ("srt", "application/x-subrip"),
    ("yaml", "application/yaml"),
    ("yml", "application/yaml"),
    ("wasm", "application/wasm"),
    // images
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("heic", "image/heic"),
    ("heif", "image/heif"),
    ("jxl", "image/jxl"),
    ("bmp", "image/bmp"),
    ("ico", "image/vnd.microsoft.icon"),
    ("svg", "image/svg+xml"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("psd", "image/vnd.adobe.photoshop"),
    // audio
    ("mp3", "audio/mpeg"),
    ("wav", "audio/wav"),
    ("ogg", "audio/ogg"),
    ("oga", "audio/ogg"),
    ("opus", "audio/opus"),
    ("flac", "audio/flac"),
    ("m4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("weba", "audio/webm"),
    ("mid", "audio/midi"),
    ("midi", "audio/midi"),
    // video
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("mov", "video/quicktime"),
    ("avi", "video/x-msvideo"),
    ("mkv", "video/x-matroska"),
    ("ogv", "video/ogg"),
    ("mpeg", "video/mpeg"),
    ("mpg", "video/mpeg"),
    ("3gp", "video/3gpp"),
    ("ts", "video/mp2t"),
    // documents
    ("pdf", "application/pdf"),
    ("rtf", "application/rtf"),
    ("doc", "application/msword"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("odt", "application/vnd.oasis.opendocument.text"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("epub", "application/epub+zip"),
    // archives and binaries
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("bz2", "application/x-bzip2"),
    ("xz", "application/x-xz"),
    ("zst", "application/zstd"),
    ("7z", "application/x-7z-compressed"),
    ("rar", "application/vnd.rar"),
    ("iso", "application/x-iso9660-image"),
    ("dmg", "application/x-apple-diskimage"),
    ("apk", "application/vnd.android.package-archive"),
    // fonts and 3-D
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("glb", "model/gltf-binary"),
    ("gltf", "model/gltf+json"),
];

/// The media type for `file_name` from its extension (case-insensitive), or
/// [`DEFAULT_CONTENT_TYPE`].
///
/// ```
/// use updraft_core::object::content_type_for;
/// assert_eq!(content_type_for("Holiday.JPG"), "image/jpeg");
/// assert_eq!(content_type_for("notes"), "application/octet-stream");
/// ```
pub fn content_type_for(file_name: &str) -> &'static str {
    // Byte-wise on purpose: `str` pattern searching costs wasm size, and every byte
    // looked for is ASCII.
    let b = file_name.as_bytes();
    let start = b
        .iter()
        .rposition(|&c| c == b'/' || c == b'\\')
        .map_or(0, |i| i + 1);
    let base = &b[start..];
    let Some(dot) = base.iter().rposition(|&c| c == b'.').filter(|&i| i > 0) else {
        return DEFAULT_CONTENT_TYPE;
    };
    let ext = &base[dot + 1..];
    TABLE
        .iter()
        .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(ext))
        .map_or(DEFAULT_CONTENT_TYPE, |(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_types() {
        assert_eq!(content_type_for("a.png"), "image/png");
        assert_eq!(content_type_for("A.PnG"), "image/png");
        assert_eq!(content_type_for("x.tar.gz"), "application/gzip");
        assert_eq!(content_type_for("dir.d/file"), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for(".png"), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for("a."), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for("a.unknown"), DEFAULT_CONTENT_TYPE);
        assert_eq!(content_type_for("ü.ÜBER"), DEFAULT_CONTENT_TYPE);
        assert!(TABLE.len() >= 60);
    }

    #[test]
    fn table_is_lowercase_and_unique() {
        for (i, (ext, ty)) in TABLE.iter().enumerate() {
            assert_eq!(*ext, ext.to_ascii_lowercase());
            assert!(ty.contains('/'));
            assert!(TABLE[..i].iter().all(|(e, _)| e != ext), "{ext} twice");
        }
    }
}
