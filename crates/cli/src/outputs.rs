//! Output files that are whole or absent: each is written under a
//! temporary name beside it and renamed when the run has finished, so an
//! interrupted run never leaves a half file that looks complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The files a run is writing.
#[derive(Debug, Default)]
pub struct Outputs {
    /// (temporary, final) names, not yet renamed.
    pending: Vec<(PathBuf, PathBuf)>,
}

impl Outputs {
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// A writer for `path`, or for stdout when it is `-`.
    pub fn create(&mut self, path: &Path) -> anyhow::Result<Box<dyn Write>> {
        if path.as_os_str() == "-" {
            return Ok(Box::new(BufWriter::new(crate::pipe::Stdout::new())));
        }
        let name =
            path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
        let tmp = path
            .with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let f = File::create(&tmp)
            .with_context(|| format!("creating {}", path.display()))?;
        self.pending.push((tmp, path.to_owned()));
        Ok(Box::new(BufWriter::with_capacity(1 << 16, f)))
    }

    /// Renames every file to its final name. Call when the writers are
    /// flushed and dropped.
    pub fn commit(mut self) -> anyhow::Result<()> {
        for (tmp, path) in std::mem::take(&mut self.pending) {
            std::fs::rename(&tmp, &path)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

impl Drop for Outputs {
    /// A run that did not commit leaves no files behind.
    fn drop(&mut self) {
        for (tmp, _) in &self.pending {
            let _ = std::fs::remove_file(tmp);
        }
    }
}
