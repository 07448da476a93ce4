//! Azurite, Microsoft's Azure Storage emulator, started for a test on a
//! loopback port with nothing kept on disk, and seeded the way Defender
//! writes its export: containers per table, append blobs grown block by
//! block. `object_store` (which replay reads with) cannot create
//! containers, so requests are signed here with the emulator's
//! well-known shared key.
//!
//! `.ci/run` installs Azurite into `tools/azurite` (`npm ci`); set
//! `IOCMATCH_AZURITE` to another `azurite-blob` to use that one.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// The emulator's account and key (public, the same in every Azurite).
pub const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2021-08-06";

/// A running Azurite blob service; stopped when dropped.
pub struct Azurite {
    /// `None` for one this process did not start ([`Azurite::connect`]).
    child: Option<Child>,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    agent: ureq::Agent,
}

/// Where Azurite is: `IOCMATCH_AZURITE`, else `tools/azurite` of this
/// workspace; `None` when it is not installed.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IOCMATCH_AZURITE") {
        return Some(PathBuf::from(p));
    }
    let here = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../azurite/node_modules/.bin/azurite-blob");
    here.exists().then_some(here)
}

impl Azurite {
    /// Starts Azurite on a free loopback port and waits until it answers.
    ///
    /// # Errors
    ///
    /// When it is not installed or does not start.
    pub fn start() -> Result<Azurite, String> {
        let bin = binary().ok_or(
            "Azurite is not installed (npm ci --prefix tools/azurite)",
        )?;
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new(&bin)
            .args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .args([
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--silent",
                "--skipApiVersionCheck",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut az = Azurite {
            child: Some(child),
            endpoint: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let exited = az
                .child
                .as_mut()
                .is_some_and(|c| c.try_wait().ok().flatten().is_some());
            if Instant::now() > deadline || exited {
                return Err(format!("Azurite did not start on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(az)
    }

    /// An Azurite already running at `endpoint` (`http://127.0.0.1:10000`).
    pub fn connect(endpoint: &str) -> Azurite {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        Azurite {
            child: None,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            agent,
        }
    }

    /// Uploads a folder in Defender's storage layout: each top folder a
    /// container, each file an append blob (in blocks of at most 4 MiB,
    /// Azure's limit per append, cut at line ends). Returns the
    /// containers' `az://` URLs.
    ///
    /// # Errors
    ///
    /// When a file cannot be read or Azurite refuses.
    pub fn upload_export(&self, export: &Path) -> Result<Vec<String>, String> {
        let mut containers = std::collections::BTreeSet::new();
        for rel in files_under(export).map_err(|e| e.to_string())? {
            let rel_s = rel
                .to_str()
                .ok_or("a file name is not UTF-8")?
                .replace('\\', "/");
            let Some((container, name)) = rel_s.split_once('/') else {
                continue;
            };
            if containers.insert(container.to_owned()) {
                self.create_container(container)?;
            }
            let data =
                std::fs::read(export.join(&rel)).map_err(|e| e.to_string())?;
            // Blocks of at most 4 MiB (Azure's limit per append), cut at
            // line ends.
            let mut blocks = Vec::new();
            let mut rest = &data[..];
            while !rest.is_empty() {
                let mut n = rest.len().min(4 << 20);
                if n < rest.len() {
                    n = rest[..n]
                        .iter()
                        .rposition(|&b| b == b'\n')
                        .map_or(n, |i| i + 1);
                }
                blocks.push(&rest[..n]);
                rest = &rest[n..];
            }
            self.append_blob(container, name, &blocks)?;
        }
        Ok(containers.into_iter().map(|c| format!("az://{c}/")).collect())
    }

    /// The environment `object_store` (and so replay) needs to reach it.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [
            ("AZURE_STORAGE_USE_EMULATOR", "true".into()),
            ("AZURITE_BLOB_STORAGE_URL", self.endpoint.clone()),
        ]
    }

    /// Creates a container.
    ///
    /// # Errors
    ///
    /// When Azurite refuses.
    pub fn create_container(&self, name: &str) -> Result<(), String> {
        self.send("PUT", name, &[("restype", "container")], &[], b"")
    }

    /// Writes a blob as Defender does: an append blob, `blocks` appended
    /// one after the other.
    ///
    /// # Errors
    ///
    /// When Azurite refuses.
    pub fn append_blob(
        &self,
        container: &str,
        name: &str,
        blocks: &[&[u8]],
    ) -> Result<(), String> {
        let path = format!("{container}/{name}");
        self.send(
            "PUT",
            &path,
            &[],
            &[("x-ms-blob-type", "AppendBlob")],
            b"",
        )?;
        for block in blocks.iter().filter(|b| !b.is_empty()) {
            self.send("PUT", &path, &[("comp", "appendblock")], &[], block)?;
        }
        Ok(())
    }

    /// Writes a block blob in one request.
    ///
    /// # Errors
    ///
    /// When Azurite refuses.
    pub fn block_blob(
        &self,
        container: &str,
        name: &str,
        data: &[u8],
    ) -> Result<(), String> {
        self.send(
            "PUT",
            &format!("{container}/{name}"),
            &[],
            &[("x-ms-blob-type", "BlockBlob")],
            data,
        )
    }

    /// One request, signed with the shared key (Azure Storage's
    /// "SharedKey" scheme; path-style URLs name the account twice in the
    /// signed resource).
    fn send(
        &self,
        verb: &str,
        path: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(), String> {
        let date = jiff::Timestamp::now()
            .strftime("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let mut ms: Vec<(String, String)> = vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
        ];
        ms.extend(
            headers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), (*v).to_owned())),
        );
        ms.sort();
        let content_type = "application/octet-stream";
        let length = if body.is_empty() {
            String::new()
        } else {
            body.len().to_string()
        };
        let mut to_sign =
            format!("{verb}\n\n\n{length}\n\n{content_type}\n\n\n\n\n\n\n");
        for (k, v) in &ms {
            to_sign.push_str(&format!("{k}:{v}\n"));
        }
        to_sign.push_str(&format!("/{ACCOUNT}/{ACCOUNT}/{path}"));
        let mut q: Vec<_> = query.to_vec();
        q.sort();
        for (k, v) in &q {
            to_sign.push_str(&format!("\n{k}:{v}"));
        }
        let key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            &B64.decode(KEY).map_err(|e| e.to_string())?,
        );
        let signature =
            B64.encode(ring::hmac::sign(&key, to_sign.as_bytes()).as_ref());
        let query: String = q
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let url = format!(
            "{}/{ACCOUNT}/{path}{}{query}",
            self.endpoint,
            if query.is_empty() { "" } else { "?" }
        );
        let mut req = ureq::http::Request::builder()
            .method(verb)
            .uri(&url)
            .header(
                "Authorization",
                format!("SharedKey {ACCOUNT}:{signature}"),
            )
            .header("Content-Type", content_type);
        for (k, v) in &ms {
            req = req.header(k.as_str(), v.as_str());
        }
        let req = req.body(body.to_vec()).map_err(|e| e.to_string())?;
        let resp =
            self.agent.run(req).map_err(|e| format!("{verb} {url}: {e}"))?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            Ok(())
        } else {
            let text = resp.into_body().read_to_string().unwrap_or_default();
            Err(format!("{verb} {url}: {status}: {text}"))
        }
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Every file under `dir`, relative to it, in order.
///
/// # Errors
///
/// When a folder cannot be read.
pub fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_path_buf());
            }
        }
    }
    out.sort();
    Ok(out)
}
