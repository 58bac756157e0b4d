//! `cargo xtask bench dev`: ingest throughput of `updraft dev` on loopback (issue 4).
//!
//! Uploads the same bytes three ways in one run and prints a Markdown table:
//! written to a local file (and fsynced), sent to `updraft dev` (started in-process on
//! ephemeral ports, fresh data directory) as one PUT and as a multipart upload with
//! parallel parts, and sent the same two ways to moto (`--moto URL`, started by xtask).
//!
//! ```text
//! cargo run --release -p updraft-dev --example bench_dev -- [--size-mib N] [--parts N] [--moto URL]
//! ```

use std::error::Error;
use std::path::PathBuf;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use updraft_core::http::{Method, Request};
use updraft_core::sigv4::{Signer, SigningParams};
use updraft_core::{Credentials, Timestamp};

type Res<T> = Result<T, Box<dyn Error + Send + Sync>>;

const CHUNK: usize = 1024 * 1024;

struct Target {
    name: &'static str,
    endpoint: String,
    creds: Credentials,
    bucket: String,
}

fn now() -> Res<Timestamp> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    Ok(Timestamp(i64::try_from(secs)?))
}

impl Target {
    fn host(&self) -> &str {
        self.endpoint.trim_start_matches("http://")
    }

    /// Sends a signed request whose body is `len` bytes of a repeating pattern (or
    /// `body` when given); returns status and response body.
    async fn send(
        &self,
        method: Method,
        key: &str,
        query: &[(&str, &str)],
        len: u64,
        body: Option<&[u8]>,
    ) -> Res<(u16, String)> {
        let path = if key.is_empty() {
            format!("/{}", self.bucket)
        } else {
            format!("/{}/{key}", self.bucket)
        };
        let mut req = Request::new(method, "http", self.host(), path);
        for (k, v) in query {
            req.query.push(((*k).to_owned(), (*v).to_owned()));
        }
        Signer::new().sign(
            &mut req,
            &SigningParams::s3(&self.creds, "us-east-1", now()?),
        )?;
        let url = req.url();
        let target = url
            .get(7 + self.host().len()..)
            .ok_or("URL shorter than its host")?;
        let len = body.map_or(len, |b| b.len() as u64);
        let mut head = format!("{} {target} HTTP/1.1\r\n", method.as_str());
        for (n, v) in &req.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!(
            "content-length: {len}\r\nconnection: close\r\n\r\n"
        ));
        let mut s = TcpStream::connect(self.host()).await?;
        s.set_nodelay(true)?;
        s.write_all(head.as_bytes()).await?;
        match body {
            Some(b) => s.write_all(b).await?,
            None => {
                let chunk = vec![0x5au8; CHUNK];
                let mut left = len;
                while left > 0 {
                    let n = usize::try_from(left.min(CHUNK as u64))?;
                    s.write_all(chunk.get(..n).ok_or("chunk")?).await?;
                    left -= n as u64;
                }
            }
        }
        let mut out = Vec::new();
        s.read_to_end(&mut out).await?;
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("no HTTP status")?;
        Ok((status, text))
    }

    async fn put(&self, key: &str, size: u64) -> Res<f64> {
        let start = Instant::now();
        let (status, text) = self.send(Method::Put, key, &[], size, None).await?;
        if status != 200 {
            return Err(format!("{}: PUT answered {status}: {text}", self.name).into());
        }
        Ok(start.elapsed().as_secs_f64())
    }

    async fn multipart(&self, key: &str, size: u64, parts: u64) -> Res<f64> {
        let start = Instant::now();
        let (status, text) = self
            .send(Method::Post, key, &[("uploads", "")], 0, Some(b""))
            .await?;
        let id = text
            .split("<UploadId>")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .ok_or_else(|| format!("{}: no UploadId ({status}): {text}", self.name))?
            .to_owned();
        let part_size = size / parts;
        let mut tasks = Vec::new();
        for n in 1..=parts {
            let t = Target {
                name: self.name,
                endpoint: self.endpoint.clone(),
                creds: self.creds.clone(),
                bucket: self.bucket.clone(),
            };
            let (key, id) = (key.to_owned(), id.clone());
            tasks.push(tokio::spawn(async move {
                let n = n.to_string();
                let q = [("partNumber", n.as_str()), ("uploadId", id.as_str())];
                let (status, text) = t.send(Method::Put, &key, &q, part_size, None).await?;
                let etag = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .starts_with("etag:")
                            .then(|| l[5..].trim().to_owned())
                    })
                    .ok_or_else(|| format!("part {n}: no ETag ({status})"))?;
                Res::Ok(etag)
            }));
        }
        let mut xml = String::from("<CompleteMultipartUpload>");
        for (i, t) in tasks.into_iter().enumerate() {
            let etag = t.await??;
            xml.push_str(&format!(
                "<Part><PartNumber>{}</PartNumber><ETag>{etag}</ETag></Part>",
                i + 1
            ));
        }
        xml.push_str("</CompleteMultipartUpload>");
        let (status, text) = self
            .send(
                Method::Post,
                key,
                &[("uploadId", &id)],
                0,
                Some(xml.as_bytes()),
            )
            .await?;
        if status != 200 || text.contains("<Error>") {
            return Err(format!("{}: complete answered {status}: {text}", self.name).into());
        }
        Ok(start.elapsed().as_secs_f64())
    }
}

async fn write_file(path: &PathBuf, size: u64) -> Res<f64> {
    let start = Instant::now();
    let mut f = tokio::fs::File::create(path).await?;
    let chunk = vec![0x5au8; CHUNK];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left.min(CHUNK as u64))?;
        f.write_all(chunk.get(..n).ok_or("chunk")?).await?;
        left -= n as u64;
    }
    f.sync_all().await?;
    Ok(start.elapsed().as_secs_f64())
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size_mib: u64 = arg(&args, "--size-mib").map_or(Ok(1024), |s| s.parse())?;
    let parts: u64 = arg(&args, "--parts").map_or(Ok(8), |s| s.parse())?;
    let size = size_mib * 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("updraft-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;

    let file_secs = write_file(&dir.join("baseline.bin"), size).await?;
    std::fs::remove_file(dir.join("baseline.bin"))?;

    let stack = updraft_dev::start(&updraft_dev::DevConfig {
        data_dir: dir.join("data"),
        app_port: 0,
        s3_port: 0,
        issuer_port: 0,
        ..updraft_dev::DevConfig::default()
    })
    .await?;
    let info = stack.info();
    let dev = Target {
        name: "updraft dev",
        endpoint: info.s3_endpoint.clone(),
        creds: Credentials::new(
            info.admin_access_key_id.clone(),
            info.admin_secret_access_key.clone(),
        ),
        bucket: info.bucket.clone(),
    };
    let mut rows = vec![(
        "local file (write + fsync)".to_owned(),
        Some(file_secs),
        None,
    )];
    let put = dev.put("single.bin", size).await?;
    let mp = dev.multipart("multi.bin", size, parts).await?;
    rows.push(("updraft dev".to_owned(), Some(put), Some(mp)));
    stack.stop().await;

    if let Some(moto) = arg(&args, "--moto") {
        let m = Target {
            name: "moto",
            endpoint: moto,
            creds: Credentials::new("testing", "testing"),
            bucket: "bench".to_owned(),
        };
        m.send(Method::Put, "", &[], 0, Some(b"")).await?;
        let put = m.put("single.bin", size).await?;
        let mp = m.multipart("multi.bin", size, parts).await?;
        rows.push(("moto (server mode)".to_owned(), Some(put), Some(mp)));
    }
    let _ = std::fs::remove_dir_all(&dir);

    let mib = size_mib as f64;
    let cell = |s: Option<f64>| match s {
        Some(s) => format!(
            "{:.0} MiB/s ({:.2} s, {:.2}× file)",
            mib / s,
            s,
            file_secs / s
        ),
        None => "—".to_owned(),
    };
    println!(
        "\ningest of {size_mib} MiB on loopback (debug builds are far slower: use --release)\n"
    );
    println!("| target | one PUT | multipart, {parts} parallel parts |");
    println!("|---|---|---|");
    for (name, put, mp) in rows {
        println!("| {name} | {} | {} |", cell(put), cell(mp));
    }
    Ok(())
}
