//! The durable backend: metadata in redb, object bytes in files named by generated ids.
//!
//! Layout of a data directory:
//!
//! ```text
//! <data-dir>/store.redb      buckets, objects, multipart uploads and parts (metadata only)
//! <data-dir>/objects/<id>   the bytes of one object, or of one part (a completed
//!                           multipart object is its parts' files, in order)
//! <data-dir>/tmp/<id>       bodies being received; emptied on every start
//! ```
//!
//! An S3 key is never part of a path: `<id>` is 128 random bits in hex. A body is written
//! to `tmp/`, fsynced, renamed into `objects/` (and the directory fsynced), and only then
//! does the metadata transaction commit. A crash before the commit leaves a file nobody
//! refers to, which [`Store::open`] deletes; a crash mid-body leaves only a `tmp/` file.
//! So a partial object is never visible, and what was committed survives a restart.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::Error;

const BUCKETS: TableDefinition<&str, &[u8]> = TableDefinition::new("buckets");
const OBJECTS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("objects");
const UPLOADS: TableDefinition<&str, &[u8]> = TableDefinition::new("uploads");
const PARTS: TableDefinition<(&str, u32), &[u8]> = TableDefinition::new("parts");

/// One CORS rule as stored (the shape of S3's `CORSRule`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<i32>,
}

/// A bucket's record.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BucketMeta {
    pub created_ms: u64,
    /// `None`: no CORS configuration (S3 then refuses every preflight).
    pub cors: Option<Vec<CorsRule>>,
    /// The CORS rules were written by `updraft dev` (not by PutBucketCors), so a start
    /// with another app origin may rewrite them.
    #[serde(default)]
    pub managed_cors: bool,
}

/// Checksums as S3 returns them: base64 digests, composite ones with a `-N` suffix.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksums {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
}

/// The properties of an object that come from the request that created it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ObjectProps {
    pub content_type: Option<String>,
    pub cache_control: Option<String>,
    pub content_disposition: Option<String>,
    pub content_encoding: Option<String>,
    pub content_language: Option<String>,
    pub metadata: BTreeMap<String, String>,
    /// The canned ACL: `private` or `public-read` (others are kept but grant nothing).
    pub acl: String,
}

/// One file of a multipart object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub file: String,
    pub size: u64,
}

/// An object's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// File name under `objects/` (empty when `segments` holds the bytes).
    pub file: String,
    /// A completed multipart object: its parts' files in order, so completing an upload
    /// moves no bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<Segment>,
    pub size: u64,
    /// Without quotes: hex MD5, or `hex-N` for multipart objects.
    pub etag: String,
    pub last_modified_ms: u64,
    pub props: ObjectProps,
    pub checksums: Checksums,
    /// `FULL_OBJECT` or `COMPOSITE` when a checksum is stored.
    pub checksum_type: Option<String>,
    pub parts_count: Option<u32>,
}

impl ObjectMeta {
    /// The files holding the bytes, in order, with their sizes.
    pub fn segments(&self) -> Vec<Segment> {
        if self.segments.is_empty() {
            vec![Segment {
                file: self.file.clone(),
                size: self.size,
            }]
        } else {
            self.segments.clone()
        }
    }
}

/// A multipart upload in progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UploadMeta {
    pub bucket: String,
    pub key: String,
    pub initiated_ms: u64,
    pub props: ObjectProps,
    pub checksum_algorithm: Option<String>,
    pub checksum_type: Option<String>,
}

/// One uploaded part.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PartMeta {
    pub file: String,
    pub size: u64,
    /// Hex MD5 of the part.
    pub etag: String,
    pub last_modified_ms: u64,
    pub checksums: Checksums,
    /// The part's CRC in the upload's full-object algorithm (CRC64NVME when none was
    /// asked for), combined into the object's checksum on completion.
    #[serde(default)]
    pub full_crc: Option<u64>,
}

/// A conditional write (`If-None-Match: *` / `If-Match: "etag"`), checked in the
/// transaction that commits the object, so two racing writers cannot both pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Precondition {
    /// Only if no object has the key.
    Absent,
    /// Only if the object exists with this ETag (without quotes), or with any (`None`).
    Matches(Option<String>),
}

impl Precondition {
    fn check(&self, current: Option<&ObjectMeta>) -> Res<()> {
        match (self, current) {
            (Precondition::Absent, None) => Ok(()),
            (Precondition::Absent, Some(_)) => Err(StoreError::PreconditionFailed),
            (Precondition::Matches(_), None) => Err(StoreError::NoSuchKey),
            (Precondition::Matches(None), Some(_)) => Ok(()),
            (Precondition::Matches(Some(e)), Some(m)) if *e == m.etag => Ok(()),
            (Precondition::Matches(Some(_)), Some(_)) => Err(StoreError::PreconditionFailed),
        }
    }
}

/// Why a store operation failed, in S3's terms where it is the caller's doing.
#[derive(Debug)]
pub(crate) enum StoreError {
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    PreconditionFailed,
    Internal(String),
}

impl<E: std::error::Error> From<E> for StoreError {
    fn from(e: E) -> Self {
        StoreError::Internal(e.to_string())
    }
}

type Res<T> = Result<T, StoreError>;

/// The store: a redb database and the `objects/` directory.
#[derive(Clone, Debug)]
pub struct Store {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    db: Database,
    objects: PathBuf,
    tmp: PathBuf,
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// 128 random bits in hex: names for files and upload ids.
pub(crate) fn random_id() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b)?;
    Ok(hex(&b))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Res<T> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Internal(format!("corrupt record: {e}")))
}

fn encode<T: Serialize>(v: &T) -> Res<Vec<u8>> {
    Ok(serde_json::to_vec(v)?)
}

fn io_err(what: &str, path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        what: what.to_owned(),
        path: path.to_owned(),
        source,
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`, empties `tmp/` and deletes object files no
    /// record refers to (left by a crash between rename and commit).
    ///
    /// # Errors
    /// [`Error::Io`] when the directories cannot be made, [`Error::Database`] when the
    /// database cannot be opened (e.g. another `updraft dev` holds it).
    pub fn open(dir: &Path) -> Result<Store, Error> {
        let objects = dir.join("objects");
        let tmp = dir.join("tmp");
        for d in [dir, &objects, &tmp] {
            std::fs::create_dir_all(d).map_err(|e| io_err("create directory", d, e))?;
        }
        if let Ok(entries) = std::fs::read_dir(&tmp) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let db_path = dir.join("store.redb");
        let db = Database::create(&db_path).map_err(|e| Error::Database {
            path: db_path.clone(),
            detail: e.to_string(),
        })?;
        let store = Store {
            inner: Arc::new(Inner { db, objects, tmp }),
        };
        store.init_tables().map_err(|e| Error::Database {
            path: db_path.clone(),
            detail: format!("{e:?}"),
        })?;
        store.sweep_orphans().map_err(|e| Error::Database {
            path: db_path,
            detail: format!("{e:?}"),
        })?;
        Ok(store)
    }

    fn init_tables(&self) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        tx.open_table(BUCKETS)?;
        tx.open_table(OBJECTS)?;
        tx.open_table(UPLOADS)?;
        tx.open_table(PARTS)?;
        tx.commit()?;
        Ok(())
    }

    fn sweep_orphans(&self) -> Res<()> {
        let mut live = HashSet::new();
        let tx = self.inner.db.begin_read()?;
        for row in tx.open_table(OBJECTS)?.iter()? {
            let (_, v) = row?;
            for seg in decode::<ObjectMeta>(v.value())?.segments() {
                live.insert(seg.file);
            }
        }
        for row in tx.open_table(PARTS)?.iter()? {
            let (_, v) = row?;
            live.insert(decode::<PartMeta>(v.value())?.file);
        }
        for e in std::fs::read_dir(&self.inner.objects)?.flatten() {
            let name = e.file_name();
            if !live.contains(name.to_string_lossy().as_ref()) {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(())
    }

    /// Path of an object file by id.
    pub(crate) fn object_path(&self, file: &str) -> PathBuf {
        self.inner.objects.join(file)
    }

    /// A fresh temporary path and the id it will have once committed.
    pub(crate) fn tmp_path(&self) -> Res<(String, PathBuf)> {
        let id = random_id()?;
        let p = self.inner.tmp.join(&id);
        Ok((id, p))
    }

    /// Moves a received, fsynced body from `tmp/` into `objects/` and fsyncs the directory.
    pub(crate) fn publish(&self, tmp: &Path, id: &str) -> Res<()> {
        std::fs::rename(tmp, self.object_path(id))?;
        std::fs::File::open(&self.inner.objects)?.sync_all()?;
        Ok(())
    }

    pub(crate) fn remove_file(&self, id: &str) {
        let _ = std::fs::remove_file(self.object_path(id));
    }

    // ---- buckets ----

    pub(crate) fn create_bucket(&self, name: &str, meta: &BucketMeta) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        {
            let mut t = tx.open_table(BUCKETS)?;
            if t.get(name)?.is_some() {
                return Err(StoreError::BucketAlreadyOwnedByYou);
            }
            t.insert(name, encode(meta)?.as_slice())?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn bucket(&self, name: &str) -> Res<BucketMeta> {
        let tx = self.inner.db.begin_read()?;
        let t = tx.open_table(BUCKETS)?;
        let v = t.get(name)?.ok_or(StoreError::NoSuchBucket)?;
        decode(v.value())
    }

    pub(crate) fn update_bucket(&self, name: &str, f: impl FnOnce(&mut BucketMeta)) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        {
            let mut t = tx.open_table(BUCKETS)?;
            let mut meta: BucketMeta = {
                let v = t.get(name)?.ok_or(StoreError::NoSuchBucket)?;
                decode(v.value())?
            };
            f(&mut meta);
            t.insert(name, encode(&meta)?.as_slice())?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn buckets(&self) -> Res<Vec<(String, BucketMeta)>> {
        let tx = self.inner.db.begin_read()?;
        let t = tx.open_table(BUCKETS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            out.push((k.value().to_owned(), decode(v.value())?));
        }
        Ok(out)
    }

    pub(crate) fn delete_bucket(&self, name: &str) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        {
            let objects = tx.open_table(OBJECTS)?;
            if objects
                .range((name, "")..)?
                .next()
                .transpose()?
                .is_some_and(|(k, _)| k.value().0 == name)
            {
                return Err(StoreError::BucketNotEmpty);
            }
            let uploads = tx.open_table(UPLOADS)?;
            for row in uploads.iter()? {
                let (_, v) = row?;
                if decode::<UploadMeta>(v.value())?.bucket == name {
                    return Err(StoreError::BucketNotEmpty);
                }
            }
            let mut t = tx.open_table(BUCKETS)?;
            if t.remove(name)?.is_none() {
                return Err(StoreError::NoSuchBucket);
            }
        }
        tx.commit()?;
        Ok(())
    }

    // ---- objects ----

    pub(crate) fn object(&self, bucket: &str, key: &str) -> Res<ObjectMeta> {
        let tx = self.inner.db.begin_read()?;
        if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
            return Err(StoreError::NoSuchBucket);
        }
        let t = tx.open_table(OBJECTS)?;
        let v = t.get((bucket, key))?.ok_or(StoreError::NoSuchKey)?;
        decode(v.value())
    }

    /// Commits an object whose file is already in `objects/`; deletes the file it replaces.
    pub(crate) fn put_object(
        &self,
        bucket: &str,
        key: &str,
        meta: &ObjectMeta,
        pre: Option<&Precondition>,
    ) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        let old = {
            if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket);
            }
            let mut t = tx.open_table(OBJECTS)?;
            if let Some(pre) = pre {
                let current = match t.get((bucket, key))? {
                    Some(v) => Some(decode::<ObjectMeta>(v.value())?),
                    None => None,
                };
                pre.check(current.as_ref())?;
            }
            let old = t.insert((bucket, key), encode(meta)?.as_slice())?;
            match old {
                Some(v) => Some(decode::<ObjectMeta>(v.value())?),
                None => None,
            }
        };
        tx.commit()?;
        if let Some(old) = old {
            self.remove_object_files(&old);
        }
        Ok(())
    }

    fn remove_object_files(&self, meta: &ObjectMeta) {
        for seg in meta.segments() {
            self.remove_file(&seg.file);
        }
    }

    /// Changes an object's record in place (not its bytes).
    pub(crate) fn update_object(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut ObjectMeta),
    ) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        {
            if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket);
            }
            let mut t = tx.open_table(OBJECTS)?;
            let mut meta: ObjectMeta = {
                let v = t.get((bucket, key))?.ok_or(StoreError::NoSuchKey)?;
                decode(v.value())?
            };
            f(&mut meta);
            t.insert((bucket, key), encode(&meta)?.as_slice())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes an object; `Ok(false)` when there was none (S3 answers 204 either way).
    pub(crate) fn delete_object(&self, bucket: &str, key: &str) -> Res<bool> {
        let tx = self.inner.db.begin_write()?;
        let old = {
            if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
                return Err(StoreError::NoSuchBucket);
            }
            let mut t = tx.open_table(OBJECTS)?;
            let old = t.remove((bucket, key))?;
            match old {
                Some(v) => Some(decode::<ObjectMeta>(v.value())?),
                None => None,
            }
        };
        tx.commit()?;
        Ok(match old {
            Some(old) => {
                self.remove_object_files(&old);
                true
            }
            None => false,
        })
    }

    /// Keys (with their records) of `bucket` that start with `prefix` and sort after
    /// `after`, in S3's order (UTF-8 bytes), calling `f` until it returns `false`.
    pub(crate) fn scan_objects(
        &self,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        mut f: impl FnMut(&str, ObjectMeta) -> bool,
    ) -> Res<()> {
        let tx = self.inner.db.begin_read()?;
        if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
            return Err(StoreError::NoSuchBucket);
        }
        let t = tx.open_table(OBJECTS)?;
        let start = match after {
            Some(a) if a >= prefix => a,
            _ => prefix,
        };
        for row in t.range((bucket, start)..)? {
            let (k, v) = row?;
            let (b, key) = k.value();
            if b != bucket || !key.starts_with(prefix) {
                break;
            }
            if after.is_some_and(|a| key <= a) {
                continue;
            }
            if !f(key, decode(v.value())?) {
                break;
            }
        }
        Ok(())
    }

    // ---- multipart ----

    pub(crate) fn create_upload(&self, meta: &UploadMeta) -> Res<String> {
        let id = random_id()?;
        let tx = self.inner.db.begin_write()?;
        {
            if tx.open_table(BUCKETS)?.get(meta.bucket.as_str())?.is_none() {
                return Err(StoreError::NoSuchBucket);
            }
            tx.open_table(UPLOADS)?
                .insert(id.as_str(), encode(meta)?.as_slice())?;
        }
        tx.commit()?;
        Ok(id)
    }

    pub(crate) fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Res<UploadMeta> {
        let tx = self.inner.db.begin_read()?;
        if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
            return Err(StoreError::NoSuchBucket);
        }
        let t = tx.open_table(UPLOADS)?;
        let v = t.get(upload_id)?.ok_or(StoreError::NoSuchUpload)?;
        let meta: UploadMeta = decode(v.value())?;
        if meta.bucket != bucket || meta.key != key {
            return Err(StoreError::NoSuchUpload);
        }
        Ok(meta)
    }

    /// Uploads of `bucket`, sorted by key then initiation time, with their ids.
    pub(crate) fn uploads(&self, bucket: &str) -> Res<Vec<(String, UploadMeta)>> {
        let tx = self.inner.db.begin_read()?;
        if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
            return Err(StoreError::NoSuchBucket);
        }
        let t = tx.open_table(UPLOADS)?;
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let meta: UploadMeta = decode(v.value())?;
            if meta.bucket == bucket {
                out.push((k.value().to_owned(), meta));
            }
        }
        out.sort_by(|a, b| {
            (a.1.key.as_str(), a.1.initiated_ms, a.0.as_str()).cmp(&(
                b.1.key.as_str(),
                b.1.initiated_ms,
                b.0.as_str(),
            ))
        });
        Ok(out)
    }

    /// Records a part whose file is in `objects/`; replaces (and deletes) an earlier one.
    pub(crate) fn put_part(&self, upload_id: &str, number: u32, meta: &PartMeta) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        let old = {
            if tx.open_table(UPLOADS)?.get(upload_id)?.is_none() {
                return Err(StoreError::NoSuchUpload);
            }
            let mut t = tx.open_table(PARTS)?;
            let old = t.insert((upload_id, number), encode(meta)?.as_slice())?;
            match old {
                Some(v) => Some(decode::<PartMeta>(v.value())?),
                None => None,
            }
        };
        tx.commit()?;
        if let Some(old) = old {
            self.remove_file(&old.file);
        }
        Ok(())
    }

    /// Parts of an upload numbered above `after`, ascending.
    pub(crate) fn parts(&self, upload_id: &str, after: u32) -> Res<Vec<(u32, PartMeta)>> {
        let tx = self.inner.db.begin_read()?;
        let t = tx.open_table(PARTS)?;
        let mut out = Vec::new();
        for row in t.range((upload_id, after.saturating_add(1))..)? {
            let (k, v) = row?;
            let (u, n) = k.value();
            if u != upload_id {
                break;
            }
            if n <= after {
                continue;
            }
            out.push((n, decode(v.value())?));
        }
        Ok(out)
    }

    /// Ends an upload: removes it and its parts, and (when `object` is given) commits the
    /// assembled object in the same transaction. Part files no longer needed are deleted.
    pub(crate) fn finish_upload(
        &self,
        upload_id: &str,
        object: Option<(&str, &str, &ObjectMeta)>,
        pre: Option<&Precondition>,
    ) -> Res<()> {
        let tx = self.inner.db.begin_write()?;
        let mut dead = Vec::new();
        {
            let mut uploads = tx.open_table(UPLOADS)?;
            if uploads.remove(upload_id)?.is_none() {
                return Err(StoreError::NoSuchUpload);
            }
            let mut parts = tx.open_table(PARTS)?;
            let mut numbers = Vec::new();
            for row in parts.range((upload_id, 0u32)..)? {
                let (k, v) = row?;
                let (u, n) = k.value();
                if u != upload_id {
                    break;
                }
                numbers.push(n);
                dead.push(decode::<PartMeta>(v.value())?.file);
            }
            for n in numbers {
                parts.remove((upload_id, n))?;
            }
            if let Some((bucket, key, meta)) = object {
                if tx.open_table(BUCKETS)?.get(bucket)?.is_none() {
                    return Err(StoreError::NoSuchBucket);
                }
                let mut t = tx.open_table(OBJECTS)?;
                if let Some(pre) = pre {
                    let current = match t.get((bucket, key))? {
                        Some(v) => Some(decode::<ObjectMeta>(v.value())?),
                        None => None,
                    };
                    pre.check(current.as_ref())?;
                }
                if let Some(old) = t.insert((bucket, key), encode(meta)?.as_slice())? {
                    dead.extend(
                        decode::<ObjectMeta>(old.value())?
                            .segments()
                            .into_iter()
                            .map(|s| s.file),
                    );
                }
            }
        }
        tx.commit()?;
        // Parts that became the object's segments stay; the others go.
        let kept: HashSet<String> = object
            .map(|(_, _, m)| m.segments.iter().map(|s| s.file.clone()).collect())
            .unwrap_or_default();
        for f in dead {
            if !kept.contains(&f) {
                self.remove_file(&f);
            }
        }
        Ok(())
    }
}
