//! Which files go to which keys: a file goes to `PREFIX` + its name; a directory keeps its
//! own name under the prefix, as `cp -r` does.

use std::io;
use std::path::{Path, PathBuf};

use crate::Error;

/// A file to upload and the key it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub path: PathBuf,
    pub key: String,
    pub size: u64,
    /// Seconds since the epoch of the last modification, for the resume fingerprint.
    pub modified: u64,
    /// An entry of a directory that cannot be read (a dangling link, no permission): why.
    /// It fails on its own, named; the other files go ahead.
    pub unreadable: Option<String>,
}

fn utf8(p: &Path) -> Result<&str, Error> {
    p.to_str().ok_or_else(|| Error::NotUtf8 {
        path: p.to_path_buf(),
    })
}

fn metadata(path: &Path) -> Result<std::fs::Metadata, Error> {
    std::fs::metadata(path).map_err(|source| Error::FileUnreadable {
        path: path.to_path_buf(),
        source,
    })
}

/// A failed step of the walk under `root`: the path it failed on, and why.
fn walk_error(root: &Path, e: walkdir::Error) -> Error {
    let path = e.path().unwrap_or(root).to_path_buf();
    if e.loop_ancestor().is_some() {
        // A symbolic link to a directory it is in: walkdir's message names both.
        return Error::FileUnreadable {
            path,
            source: io::Error::other(e),
        };
    }
    // Any other walk error is an io::Error.
    let source = e
        .into_io_error()
        .unwrap_or_else(|| io::Error::other("the directory cannot be walked"));
    Error::FileUnreadable { path, source }
}

fn planned(path: &Path, key: String) -> Result<Planned, Error> {
    let meta = metadata(path)?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    Ok(Planned {
        path: path.to_path_buf(),
        key,
        size: meta.len(),
        modified,
        unreadable: None,
    })
}

/// Expands `paths` into files and keys. `key` names the object when one file is given.
///
/// # Errors
/// [`Error::FileUnreadable`] for a path given that does not exist or cannot be read (an
/// entry of a directory that cannot be read is planned with [`Planned::unreadable`]),
/// [`Error::NotUtf8`] for a name that is not UTF-8, [`Error::InvalidArgument`] for
/// `--key` with more than one file.
pub fn plan(paths: &[PathBuf], prefix: &str, key: Option<&str>) -> Result<Vec<Planned>, Error> {
    let mut out = Vec::new();
    for path in paths {
        let meta = metadata(path)?;
        if meta.is_dir() {
            if key.is_some() {
                return Err(Error::InvalidArgument {
                    argument: "--key",
                    problem: format!(
                        "names one object, but {} is a directory; use --prefix",
                        path.display()
                    ),
                });
            }
            let base = path
                .file_name()
                .map(|n| utf8(Path::new(n)).map(str::to_owned))
                .transpose()?
                .unwrap_or_default();
            let walk = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name();
            for entry in walk {
                let entry = match entry {
                    Ok(entry) => entry,
                    // A part of the directory that cannot be read fails on its own.
                    Err(e) => {
                        let Error::FileUnreadable { path: bad, source } = walk_error(path, e)
                        else {
                            continue;
                        };
                        let rel = bad.strip_prefix(path).unwrap_or(&bad).to_string_lossy();
                        let key = if base.is_empty() {
                            format!("{prefix}{rel}")
                        } else {
                            format!("{prefix}{base}/{rel}")
                        };
                        out.push(Planned {
                            key,
                            path: bad,
                            size: 0,
                            modified: 0,
                            unreadable: Some(source.to_string()),
                        });
                        continue;
                    }
                };
                if !entry.file_type().is_file() {
                    continue;
                }
                let rel = entry.path().strip_prefix(path).unwrap_or(entry.path());
                let parts: Vec<&str> = rel
                    .components()
                    .map(|c| utf8(Path::new(c.as_os_str())))
                    .collect::<Result<_, _>>()?;
                let key = if base.is_empty() {
                    format!("{prefix}{}", parts.join("/"))
                } else {
                    format!("{prefix}{base}/{}", parts.join("/"))
                };
                out.push(planned(entry.path(), key)?);
            }
        } else {
            let name = path
                .file_name()
                .map(|n| utf8(Path::new(n)))
                .transpose()?
                .unwrap_or_default();
            let key = match key {
                Some(k) => k.to_owned(),
                None => format!("{prefix}{name}"),
            };
            out.push(planned(path, key)?);
        }
    }
    if key.is_some() && out.len() > 1 {
        return Err(Error::InvalidArgument {
            argument: "--key",
            problem: "names one object, but several files were given; use --prefix".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_keep_their_name_under_the_prefix() {
        let d = tempfile::tempdir().unwrap();
        let photos = d.path().join("photos");
        std::fs::create_dir_all(photos.join("2024")).unwrap();
        std::fs::write(photos.join("a.jpg"), b"a").unwrap();
        std::fs::write(photos.join("2024/b.jpg"), b"bb").unwrap();
        std::fs::write(d.path().join("big"), b"ccc").unwrap();
        let got = plan(&[d.path().join("big"), photos], "alice/", None).unwrap();
        let keys: Vec<&str> = got.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(
            keys,
            ["alice/big", "alice/photos/2024/b.jpg", "alice/photos/a.jpg"]
        );
        assert_eq!(got[0].size, 3);
    }

    #[test]
    fn key_is_for_one_file() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), b"a").unwrap();
        let got = plan(&[d.path().join("a")], "", Some("x/y")).unwrap();
        assert_eq!(got[0].key, "x/y");
        assert!(plan(&[d.path().to_path_buf()], "", Some("k")).is_err());
        let err = plan(&[d.path().join("missing")], "", None).unwrap_err();
        assert!(err.to_string().contains("missing"), "{err}");
    }
}
