//! Disk helpers shared by the four stores: listing a directory safely,
//! removing one entry idempotently, and JSON indexes written atomically.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{Context, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::names::{BadName, check_name};

/// What a store directory holds per entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory (VM run dirs, snapshot data dirs).
    Dir,
    /// A regular file (blobs, network records).
    File,
}

/// The valid entries of a directory, and the ones left alone.
#[derive(Debug, Default)]
pub struct Listing {
    /// Entry names that passed every check, sorted.
    pub names: Vec<String>,
    /// Entries left alone, and why.
    pub bad: Vec<BadName>,
}

/// Lists `dir`, keeping entries of `kind` whose names pass [`check_name`]
/// and `extra`. Symlinks are never followed: they are left alone, as is
/// anything of the wrong kind. A missing directory is an error: the store is
/// not what it should be, and reading it as empty would make everything
/// look orphaned.
pub fn list(dir: &Path, kind: EntryKind, extra: fn(&str) -> Result<&str, BadName>) -> anyhow::Result<Listing> {
    let mut listing = Listing::default();
    for entry in fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let raw = entry.file_name();
        let name = match check_name(&raw).and_then(extra) {
            Ok(name) => name.to_owned(),
            Err(bad) => {
                listing.bad.push(bad);
                continue;
            }
        };
        // DirEntry::file_type does not follow symlinks.
        let file_type = entry
            .file_type()
            .with_context(|| format!("inspecting {}", entry.path().display()))?;
        let why = if file_type.is_symlink() {
            Some("a symlink, never followed")
        } else if kind == EntryKind::Dir && !file_type.is_dir() {
            Some("not a directory")
        } else if kind == EntryKind::File && !file_type.is_file() {
            Some("not a regular file")
        } else {
            None
        };
        match why {
            Some(why) => listing.bad.push(BadName { entry: name, why }),
            None => listing.names.push(name),
        }
    }
    listing.names.sort();
    Ok(listing)
}

/// Removes the entry `name` of `dir`. An entry already gone counts as
/// removed, so that collect is idempotent; a symlink is refused, never
/// followed.
pub fn remove(dir: &Path, name: &str, kind: EntryKind) -> anyhow::Result<()> {
    let name = check_name(name.as_ref()).map_err(|bad| anyhow::anyhow!("{bad}"))?;
    let path = dir.join(name);
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("inspecting {}", path.display())),
    };
    if meta.file_type().is_symlink() {
        bail!("{} is a symlink: left alone", path.display());
    }
    let removed = match kind {
        // remove_dir_all does not follow symlinks inside the directory.
        EntryKind::Dir => fs::remove_dir_all(&path),
        EntryKind::File => fs::remove_file(&path),
    };
    match removed {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("removing {}", path.display())),
    }
}

/// Reads a JSON index. A missing index is an error, for the same reason as
/// a missing directory.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> anyhow::Result<T> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))
}

/// Writes a JSON index atomically: a crash leaves the old index or the new
/// one, never half of one.
pub fn write_json(path: &Path, value: &impl Serialize) -> anyhow::Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut file = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    file.write_all(&serde_json::to_vec_pretty(value)?)?;
    file.sync_all()?;
    fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// Runs blocking disk work off the async threads. Only for reads: if the
/// cycle is dropped, the work may finish after the locks are released,
/// which a read may do but a removal must not.
pub async fn blocking_read<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(f).await.context("read task failed")?
}
