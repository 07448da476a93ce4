//! Finding and opening inputs: files, folder trees (walked recursively,
//! files in byte order of their path), gzip files, and standard input.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::decode::{self, Decoding, GZIP_MAGIC};

/// One input: a file, standard input, or a blob.
#[derive(Clone, Debug)]
pub struct Input {
    /// The path as given, or as found under a given folder; `-` for
    /// standard input; the URL of a blob.
    pub name: String,
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    Stdin,
    File(PathBuf),
    /// Bytes already in memory (a file handed over by Spark).
    Memory(std::sync::Arc<[u8]>),
    #[cfg(feature = "azure")]
    Blob(crate::blob::Blob),
}

/// Inputs are the same when their names are: a file named twice is
/// read once.
impl PartialEq for Input {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Input {}

impl Input {
    /// A file, named as given.
    pub fn file(path: impl AsRef<Path>) -> Input {
        let path = path.as_ref();
        Input {
            name: path.display().to_string(),
            source: Source::File(path.to_owned()),
        }
    }

    /// Bytes already in memory, read as the file `name` would be (gzip,
    /// Avro and exports decoded).
    pub fn bytes(
        name: impl Into<String>,
        data: impl Into<std::sync::Arc<[u8]>>,
    ) -> Input {
        Input { name: name.into(), source: Source::Memory(data.into()) }
    }

    /// Standard input.
    pub fn stdin() -> Input {
        Input { name: "-".into(), source: Source::Stdin }
    }

    /// The file's path; `None` for standard input and blobs.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(p) => Some(p),
            _ => None,
        }
    }

    /// True when the file is gzip: it starts with gzip's magic bytes, or
    /// its name ends in `.gz` (a `.gz` that is not gzip is then reported
    /// as damaged, not read as text). Standard input and blobs are
    /// sniffed as they are read.
    pub fn is_gzip(&self) -> bool {
        if self.name.ends_with(".gz") {
            return true;
        }
        let Some(p) = self.path() else { return false };
        let mut magic = [0u8; 2];
        File::open(p).and_then(|mut f| f.read_exact(&mut magic)).is_ok()
            && magic == GZIP_MAGIC
    }

    /// The input's size in bytes as stored (compressed, for gzip), when
    /// known.
    pub fn size(&self) -> Option<u64> {
        match &self.source {
            Source::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Stdin => None,
            Source::Memory(m) => Some(m.len() as u64),
            #[cfg(feature = "azure")]
            Source::Blob(b) => Some(b.size()),
        }
    }

    /// True for a blob (read over the network).
    pub fn is_blob(&self) -> bool {
        #[cfg(feature = "azure")]
        if let Source::Blob(_) = self.source {
            return true;
        }
        false
    }

    /// A streaming reader of the input as JSON Lines: gzip inflated,
    /// Avro and export files decoded, with the default [`Decoding`].
    ///
    /// # Errors
    ///
    /// When the input cannot be opened, or its first bytes cannot be
    /// decoded.
    pub fn reader(&self) -> io::Result<Box<dyn Read + Send>> {
        self.reader_with(&Decoding::default())
    }

    /// [`reader`](Input::reader), decoding as `how` says.
    ///
    /// # Errors
    ///
    /// As [`reader`](Input::reader).
    pub fn reader_with(
        &self,
        how: &Decoding,
    ) -> io::Result<Box<dyn Read + Send>> {
        let raw: Box<dyn Read + Send> = match &self.source {
            Source::Stdin => Box::new(io::stdin()),
            Source::File(p) => Box::new(File::open(p)?),
            Source::Memory(m) => {
                Box::new(io::Cursor::new(std::sync::Arc::clone(m)))
            }
            #[cfg(feature = "azure")]
            Source::Blob(b) => b.reader(),
        };
        decode::json_lines(raw, self.name.ends_with(".gz"), how)
    }

    /// Whether the input is a plain file of JSON Lines, which can be
    /// mapped (anything else is decoded as a stream).
    pub(crate) fn mappable(&self) -> bool {
        let Some(p) = self.path() else { return false };
        if self.name.ends_with(".gz") {
            return false;
        }
        match decode::head_of(p) {
            Ok(head) => {
                !head.starts_with(&GZIP_MAGIC)
                    && decode::content_of(&head) == decode::Content::Lines
            }
            // The stream reports the error.
            Err(_) => false,
        }
    }
}

/// Expands the given paths into input files in the order replay reads
/// them: all files in byte order of their path (so runs are reproducible
/// whatever the file system returns), standard input (`-`) first.
///
/// # Errors
///
/// When a given path does not exist or a folder cannot be read.
pub fn discover(paths: &[PathBuf]) -> io::Result<Vec<Input>> {
    discover_with(paths, &|_| true)
}

/// [`discover`], keeping of the files found under folders only those
/// `keep` accepts (`--glob '*.json'`: the `SOURCES.md` beside the data is
/// no export). Files named themselves are always read.
///
/// # Errors
///
/// As [`discover`].
pub fn discover_with(
    paths: &[PathBuf],
    keep: &dyn Fn(&Path) -> bool,
) -> io::Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::stdin());
            continue;
        }
        if let Some(url) = p.to_str().filter(|s| is_url(s)) {
            blobs(url, keep, &mut out)?;
            continue;
        }
        let meta = std::fs::metadata(p).map_err(|e| with_path(p, e))?;
        if meta.is_dir() {
            walk(p, keep, &mut out)?;
        } else {
            out.push(Input::file(p));
        }
    }
    out.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    out.dedup();
    Ok(out)
}

/// Whether `s` names blobs (Azure Blob Storage or ADLS Gen2) rather than
/// a path: `az://`, `abfss://`, `https://<account>.blob.core.windows.net/`, ….
pub fn is_url(s: &str) -> bool {
    #[cfg(feature = "azure")]
    return crate::blob::is_url(s);
    #[cfg(not(feature = "azure"))]
    return s.contains("://");
}

#[cfg(feature = "azure")]
fn blobs(
    url: &str,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<Input>,
) -> io::Result<()> {
    for (name, blob) in crate::blob::list(url, keep)? {
        out.push(Input { name, source: Source::Blob(blob) });
    }
    Ok(())
}

#[cfg(not(feature = "azure"))]
fn blobs(
    url: &str,
    _: &dyn Fn(&Path) -> bool,
    _: &mut Vec<Input>,
) -> io::Result<()> {
    Err(io::Error::other(format!(
        "{url}: this build reads no blobs (iocmatch-replay's `azure` feature is off)"
    )))
}

fn walk(
    dir: &Path,
    keep: &dyn Fn(&Path) -> bool,
    out: &mut Vec<Input>,
) -> io::Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| with_path(dir, e))? {
        let entry = entry.map_err(|e| with_path(dir, e))?;
        let path = entry.path();
        let ty = entry.file_type().map_err(|e| with_path(&path, e))?;
        if ty.is_dir() {
            walk(&path, keep, out)?;
        } else if ty.is_file() || (ty.is_symlink() && path.is_file()) {
            // Hidden files (editor swap files, .DS_Store) are no exports.
            let hidden = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if !hidden && keep(&path) {
                out.push(Input::file(&path));
            }
        }
    }
    Ok(())
}

fn with_path(p: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// Whether replay may memory-map plain files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapChoice(bool);

impl MmapChoice {
    /// Map files when possible, falling back to reading.
    ///
    /// # Safety
    ///
    /// A mapped file that another process truncates or changes while it
    /// is read may crash or give wrong results. Exports are written once
    /// and not changed afterwards, so callers replaying finished exports
    /// may accept that risk.
    pub unsafe fn auto() -> MmapChoice {
        MmapChoice(true)
    }

    /// Never map; always read (the safe default).
    pub fn never() -> MmapChoice {
        MmapChoice(false)
    }

    /// Whether mapping is allowed.
    pub(crate) fn allowed(self) -> bool {
        self.0
    }

    /// Maps `path` if allowed and possible.
    pub(crate) fn open(self, path: &Path) -> Option<memmap2::Mmap> {
        if !self.0 {
            return None;
        }
        let file = File::open(path).ok()?;
        // SAFETY: the caller chose `auto`, accepting that the file must not
        // change while mapped (see `MmapChoice::auto`). Pages are faulted
        // in by the workers, a chunk at a time (see `prefault`).
        let map = unsafe { memmap2::MmapOptions::new().map(&file) }.ok()?;
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        Some(map)
    }
}

/// Faults in the pages of `part` (a range of `map`) in one call: far
/// cheaper than a fault per page, and done by the worker that is about
/// to read them, so both threads share the work. Best effort: kernels
/// older than 5.14 refuse the advice and pages fault in one by one.
pub(crate) fn prefault(map: &memmap2::Mmap, part: &[u8]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let offset =
            (part.as_ptr() as usize).saturating_sub(map.as_ptr() as usize);
        let start = offset - offset % PAGE;
        let len = (offset + part.len()).min(map.len()) - start;
        let _ = map.advise_range(memmap2::Advice::PopulateRead, start, len);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (map, part);
}
