//! The `Content-Type` of an upload, from its file name's extension.
//!
//! A compact built-in table of the common web, media, document and archive types
//! rather than `mime_guess`: that crate's ~1,500-entry table added 70.7 KB raw /
//! 24.8 KB gzip to a `wasm32-unknown-unknown` probe (opt-level `z`, LTO), most of
//! the 30 KB gzip budget of the whole browser API; this table and its lookup added
//! 3.4 KB raw / 1.4 KB gzip to the same probe, and 0.4 KB gzip less since it is one
//! string (issue 16). A site that needs another type sets
//! [`super::ObjectProperties::content_type`] itself.

/// The type S3 and browsers assume for unknown bytes.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Extension (lowercase) → media type, a line each: `ext type`. One string rather than
/// a slice of pairs, whose pointers cost 8 bytes an entry and compress poorly (issue 16).
const TABLE: &str = concat!(
    // text and web
    "html text/html\n",
    "htm text/html\n",
    "css text/css\n",
    "js text/javascript\n",
    "mjs text/javascript\n",
    "json application/json\n",
    "xml application/xml\n",
    "txt text/plain\n",
    "csv text/csv\n",
    "tsv text/tab-separated-values\n",
    "md text/markdown\n",
    "ics text/calendar\n",
    "vtt text/vtt\n",
    "srt application/x-subrip\n",
    "yaml application/yaml\n",
    "yml application/yaml\n",
    "wasm application/wasm\n",
    // images
    "png image/png\n",
    "jpg image/jpeg\n",
    "jpeg image/jpeg\n",
    "gif image/gif\n",
    "webp image/webp\n",
    "avif image/avif\n",
    "heic image/heic\n",
    "heif image/heif\n",
    "jxl image/jxl\n",
    "bmp image/bmp\n",
    "ico image/vnd.microsoft.icon\n",
    "svg image/svg+xml\n",
    "tif image/tiff\n",
    "tiff image/tiff\n",
    "psd image/vnd.adobe.photoshop\n",
    // audio
    "mp3 audio/mpeg\n",
    "wav audio/wav\n",
    "ogg audio/ogg\n",
    "oga audio/ogg\n",
    "opus audio/opus\n",
    "flac audio/flac\n",
    "m4a audio/mp4\n",
    "aac audio/aac\n",
    "weba audio/webm\n",
    "mid audio/midi\n",
    "midi audio/midi\n",
    // video
    "mp4 video/mp4\n",
    "m4v video/mp4\n",
    "webm video/webm\n",
    "mov video/quicktime\n",
    "avi video/x-msvideo\n",
    "mkv video/x-matroska\n",
    "ogv video/ogg\n",
    "mpeg video/mpeg\n",
    "mpg video/mpeg\n",
    "3gp video/3gpp\n",
    "ts video/mp2t\n",
    // documents
    "pdf application/pdf\n",
    "rtf application/rtf\n",
    "doc application/msword\n",
    "docx application/vnd.openxmlformats-officedocument.wordprocessingml.document\n",
    "xls application/vnd.ms-excel\n",
    "xlsx application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n",
    "ppt application/vnd.ms-powerpoint\n",
    "pptx application/vnd.openxmlformats-officedocument.presentationml.presentation\n",
    "odt application/vnd.oasis.opendocument.text\n",
    "ods application/vnd.oasis.opendocument.spreadsheet\n",
    "odp application/vnd.oasis.opendocument.presentation\n",
    "epub application/epub+zip\n",
    // archives and binaries
    "zip application/zip\n",
    "gz application/gzip\n",
    "tgz application/gzip\n",
    "tar application/x-tar\n",
    "bz2 application/x-bzip2\n",
    "xz application/x-xz\n",
    "zst application/zstd\n",
    "7z application/x-7z-compressed\n",
    "rar application/vnd.rar\n",
    "iso application/x-iso9660-image\n",
    "dmg application/x-apple-diskimage\n",
    "apk application/vnd.android.package-archive\n",
    // fonts and 3-D
    "woff font/woff\n",
    "woff2 font/woff2\n",
    "ttf font/ttf\n",
    "otf font/otf\n",
    "glb model/gltf-binary\n",
    "gltf model/gltf+json\n",
);

/// The table's entries, as `(extension, type)`.
#[cfg(test)]
fn entries() -> impl Iterator<Item = (&'static str, &'static str)> {
    TABLE
        .split_terminator('\n')
        .filter_map(|line| line.split_once(' '))
}

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
    // Byte-wise too: each line is `ext type\n`.
    let table = TABLE.as_bytes();
    let mut at = 0;
    while at < table.len() {
        let space = at + table[at..].iter().position(|&c| c == b' ').unwrap_or(0);
        let end = space + table[space..].iter().position(|&c| c == b'\n').unwrap_or(0);
        if table[at..space].eq_ignore_ascii_case(ext) {
            return TABLE.get(space + 1..end).unwrap_or(DEFAULT_CONTENT_TYPE);
        }
        at = end + 1;
    }
    DEFAULT_CONTENT_TYPE
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
        assert!(entries().count() >= 60);
    }

    #[test]
    fn table_is_lowercase_and_unique() {
        let all: Vec<_> = entries().collect();
        assert_eq!(
            all.len(),
            TABLE.lines().count(),
            "a line without `ext type`"
        );
        for (i, (ext, ty)) in all.iter().enumerate() {
            assert_eq!(*ext, ext.to_ascii_lowercase());
            assert!(ty.contains('/') && !ty.contains(' '), "{ty}");
            assert!(all[..i].iter().all(|(e, _)| e != ext), "{ext} twice");
            // Every entry is found, at the start, middle or end of the table.
            assert_eq!(content_type_for(&format!("f.{ext}")), *ty);
        }
    }
}
