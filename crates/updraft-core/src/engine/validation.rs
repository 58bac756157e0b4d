//! Checks a file must pass before any request is made for it.

use serde::{Deserialize, Serialize};

use crate::text::Quoted;
use crate::{Error, cat};

/// What files an engine accepts. Defaults: any size S3 stores, any type, any number.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Validation {
    /// The smallest file accepted, in bytes.
    pub min_size: Option<u64>,
    /// The largest file accepted, in bytes.
    pub max_size: Option<u64>,
    /// Content types accepted (`image/png`, or `image/*` for a family); empty: any.
    pub allowed_types: Vec<String>,
    /// File extensions accepted, without the dot, any case; empty: any.
    pub allowed_extensions: Vec<String>,
    /// How many files the engine holds at most.
    pub max_files: Option<u32>,
}

impl Validation {
    /// Checks file `name` of `size` bytes and `content_type`, with `held` files already
    /// held.
    ///
    /// # Errors
    /// [`Error::FileRejected`] naming the file and the rule it breaks.
    pub fn check(
        &self,
        name: &str,
        size: u64,
        content_type: Option<&str>,
        held: usize,
    ) -> Result<(), Error> {
        let reject = |reason: String| {
            Err(Error::FileRejected {
                name: name.to_owned(),
                reason,
            })
        };
        if let Some(max) = self.max_files
            && held >= max as usize
        {
            return reject(cat!("at most {} files may be added", max));
        }
        if let Some(min) = self.min_size
            && size < min
        {
            return reject(cat!(
                "it is {} bytes, below the minimum of {} bytes",
                size,
                min
            ));
        }
        if let Some(max) = self.max_size
            && size > max
        {
            return reject(cat!(
                "it is {} bytes, above the maximum of {} bytes",
                size,
                max
            ));
        }
        if !self.allowed_extensions.is_empty() {
            let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
            if !self
                .allowed_extensions
                .iter()
                .any(|a| a.trim_start_matches('.').eq_ignore_ascii_case(ext))
            {
                return reject(cat!(
                    "its extension {} is not one of: {}",
                    Quoted(ext),
                    crate::error::join(&self.allowed_extensions, ", ")
                ));
            }
        }
        if !self.allowed_types.is_empty() {
            let ty = content_type.unwrap_or("").to_ascii_lowercase();
            let ok = self.allowed_types.iter().any(|a| {
                let a = a.to_ascii_lowercase();
                match a.strip_suffix("/*") {
                    Some(family) => ty.split('/').next() == Some(family),
                    None => a == ty,
                }
            });
            if !ok {
                return reject(cat!(
                    "its type {} is not one of: {}",
                    Quoted(&ty),
                    crate::error::join(&self.allowed_types, ", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rule_rejects_with_a_reason() {
        let v = Validation {
            min_size: Some(1),
            max_size: Some(100),
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            allowed_extensions: vec!["jpg".into(), ".PDF".into()],
            max_files: Some(2),
        };
        assert!(v.check("a.JPG", 10, Some("image/jpeg"), 0).is_ok());
        assert!(v.check("a.pdf", 10, Some("application/pdf"), 1).is_ok());
        let msg = |r: Result<(), Error>| r.unwrap_err().to_string();
        assert!(msg(v.check("a.jpg", 10, Some("image/jpeg"), 2)).contains("at most 2 files"));
        assert!(msg(v.check("a.jpg", 0, Some("image/jpeg"), 0)).contains("below the minimum"));
        assert!(msg(v.check("a.jpg", 101, Some("image/jpeg"), 0)).contains("above the maximum"));
        assert!(msg(v.check("a.exe", 10, Some("image/jpeg"), 0)).contains("\"exe\""));
        let m = msg(v.check("a.jpg", 10, Some("text/html"), 0));
        assert!(m.contains("\"a.jpg\"") && m.contains("text/html"), "{m}");
        assert!(Validation::default().check("x", 0, None, 99_999).is_ok());
    }
}
