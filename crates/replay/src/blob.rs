//! Azure Blob Storage and ADLS Gen2 inputs, read where they live:
//! `az://<container>/<prefix>`, `abfss://<fs>@<account>.dfs.core.windows.net/<prefix>`,
//! `https://<account>.blob.core.windows.net/<container>/<prefix>`.
//!
//! Credentials come from the environment under the Azure SDK's names
//! (`AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY`,
//! `AZURE_STORAGE_SAS_TOKEN`, `AZURE_CLIENT_ID` / `AZURE_CLIENT_SECRET` /
//! `AZURE_TENANT_ID`, `AZURE_STORAGE_USE_EMULATOR`, …), read by
//! `object_store`. A SAS token given as the URL's query is used as the
//! token and left out of every name replay prints.
//!
//! Blobs are listed once, then read in ranges: the next range downloads
//! while the current one is parsed, and several blobs download at once
//! (one reader per blob, see `ahead`), in bounded memory (two ranges
//! per blob being read).

use std::io::{self, Read};
use std::ops::Range;
use std::sync::{Arc, OnceLock};

use futures::TryStreamExt;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

/// Bytes per ranged read: large enough that a request's latency is small
/// next to its transfer, small enough to bound memory.
const RANGE: u64 = 8 << 20;

/// The URL schemes (and hosts) that name blobs.
pub fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    ["az://", "abfs://", "abfss://", "adl://", "azure://"]
        .iter()
        .any(|p| lower.starts_with(p))
        || (lower.starts_with("https://")
            && [".blob.core.windows.net", ".dfs.core.windows.net"].iter().any(
                |h| {
                    lower
                        .split('/')
                        .nth(2)
                        .is_some_and(|host| host.ends_with(h))
                },
            ))
}

/// One blob, as a replay input.
#[derive(Clone)]
pub(crate) struct Blob {
    store: Arc<dyn ObjectStore>,
    location: StorePath,
    size: u64,
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The store's Debug could show credentials.
        f.debug_struct("Blob")
            .field("location", &self.location.as_ref())
            .field("size", &self.size)
            .finish()
    }
}

impl Blob {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// A reader of the blob's bytes, a range ahead.
    pub fn reader(&self) -> Box<dyn Read + Send> {
        Box::new(Ranges {
            blob: self.clone(),
            next: 0,
            current: bytes::Bytes::new(),
            pos: 0,
            ahead: None,
        })
    }
}

/// The runtime the downloads run on, shared by a process's replays.
fn runtime() -> io::Result<&'static tokio::runtime::Runtime> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> =
        OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("iocmatch-blob")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| {
        io::Error::other(format!("cannot start the download runtime: {e}"))
    })
}

/// The blobs under `url`, in byte order of their names, each named by
/// its URL (without the query); `keep` filters them by path as folder
/// files are filtered.
///
/// # Errors
///
/// A URL that names no container, missing or refused credentials, or a
/// listing that fails.
pub(crate) fn list(
    url: &str,
    keep: &dyn Fn(&std::path::Path) -> bool,
) -> io::Result<Vec<(String, Blob)>> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        io::Error::other(format!("{}: {what}: {e}", redact(url)))
    };
    let parsed = url::Url::parse(url).map_err(|e| fail("not a URL", &e))?;
    let (root, prefix) = split(&parsed).ok_or_else(|| {
        fail("no container", &"name one, as az://<container>/<prefix>")
    })?;
    let mut plain = parsed.clone();
    plain.set_query(None);
    let mut builder =
        MicrosoftAzureBuilder::from_env().with_url(plain.as_str());
    if let Some(sas) = parsed.query().filter(|q| !q.is_empty()) {
        builder = builder.with_config(AzureConfigKey::SasKey, sas);
    }
    let store: Arc<dyn ObjectStore> =
        Arc::new(builder.build().map_err(|e| fail("cannot connect", &e))?);
    let rt = runtime()?;
    let prefix_path = (!prefix.is_empty())
        .then(|| StorePath::from(prefix.trim_end_matches('/')));
    let metas: Vec<object_store::ObjectMeta> = rt
        .block_on(store.list(prefix_path.as_ref()).try_collect())
        .map_err(|e| fail("cannot list", &e))?;
    let mut out: Vec<(String, Blob)> = metas
        .into_iter()
        .filter(|m| {
            let name = m.location.filename().unwrap_or("");
            !name.starts_with('.')
                && keep(std::path::Path::new(m.location.as_ref()))
        })
        .map(|m| {
            let name = format!("{root}{}", m.location);
            (
                name,
                Blob {
                    store: Arc::clone(&store),
                    location: m.location,
                    size: m.size,
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(out)
}

/// The URL up to the blob names (ending in `/`), and the prefix of the
/// names; `None` when the URL names no container.
fn split(u: &url::Url) -> Option<(String, String)> {
    let host = u.host_str()?;
    let path = u.path().trim_start_matches('/');
    let scheme = u.scheme();
    if scheme == "https" {
        let (container, prefix) = path.split_once('/').unwrap_or((path, ""));
        if container.is_empty() {
            return None;
        }
        return Some((
            format!("https://{host}/{container}/"),
            prefix.to_owned(),
        ));
    }
    let user = u.username();
    let authority = if user.is_empty() {
        host.to_owned()
    } else {
        format!("{user}@{host}")
    };
    Some((format!("{scheme}://{authority}/"), path.to_owned()))
}

/// `url` without its query (a SAS token is a secret).
pub(crate) fn redact(url: &str) -> &str {
    url.split_once('?').map_or(url, |(base, _)| base)
}

/// Reads a blob range by range, the next one downloading meanwhile.
struct Ranges {
    blob: Blob,
    /// The start of the range after `current`.
    next: u64,
    current: bytes::Bytes,
    pos: usize,
    ahead: Option<tokio::task::JoinHandle<object_store::Result<bytes::Bytes>>>,
}

impl Ranges {
    fn fetch(
        &self,
        range: Range<u64>,
    ) -> io::Result<tokio::task::JoinHandle<object_store::Result<bytes::Bytes>>>
    {
        let (store, location) =
            (Arc::clone(&self.blob.store), self.blob.location.clone());
        Ok(runtime()?
            .spawn(async move { store.get_range(&location, range).await }))
    }

    fn range_at(&self, start: u64) -> Option<Range<u64>> {
        (start < self.blob.size)
            .then(|| start..(start + RANGE).min(self.blob.size))
    }
}

impl Read for Ranges {
    fn read(&mut self, dst: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.current.len() {
            let Some(range) = self.range_at(self.next) else { return Ok(0) };
            let pending = match self.ahead.take() {
                Some(h) => h,
                None => self.fetch(range.clone())?,
            };
            let got = runtime()?
                .block_on(pending)
                .map_err(io::Error::other)?
                .map_err(|e| {
                    io::Error::other(format!(
                        "downloading {}: {e}",
                        self.blob.location
                    ))
                })?;
            if got.len() as u64 != range.end - range.start {
                return Err(io::Error::other(format!(
                    "{}: asked for bytes {}..{}, got {}",
                    self.blob.location,
                    range.start,
                    range.end,
                    got.len()
                )));
            }
            self.next = range.end;
            self.current = got;
            self.pos = 0;
            if let Some(r) = self.range_at(self.next) {
                self.ahead = Some(self.fetch(r)?);
            }
        }
        let n = dst.len().min(self.current.len() - self.pos);
        dst[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Drop for Ranges {
    /// A download nobody will read is stopped.
    fn drop(&mut self) {
        if let Some(h) = self.ahead.take() {
            h.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_that_name_blobs() {
        for yes in [
            "az://exports/insights-logs",
            "abfss://fs@acct.dfs.core.windows.net/x",
            "https://acct.blob.core.windows.net/c/p",
            "AZ://c",
        ] {
            assert!(is_url(yes), "{yes}");
        }
        for no in ["exports/", "https://example.com/x", "-", "/tmp/az:/x"] {
            assert!(!is_url(no), "{no}");
        }
    }

    #[test]
    fn names_are_the_url_up_to_the_blob_names() {
        let s = |u: &str| split(&url::Url::parse(u).unwrap());
        assert_eq!(s("az://c/a/b"), Some(("az://c/".into(), "a/b".into())));
        assert_eq!(
            s("abfss://fs@acct.dfs.core.windows.net/p/q"),
            Some((
                "abfss://fs@acct.dfs.core.windows.net/".into(),
                "p/q".into()
            ))
        );
        assert_eq!(
            s("https://acct.blob.core.windows.net/c/p?sv=1&sig=secret"),
            Some(("https://acct.blob.core.windows.net/c/".into(), "p".into()))
        );
        assert_eq!(s("https://acct.blob.core.windows.net/"), None);
        assert_eq!(redact("https://a/c?sig=secret"), "https://a/c");
    }
}
