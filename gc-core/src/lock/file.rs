//! A lock file with flock: excludes other tasks of this process and other
//! processes on the same host.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::OwnedMutexGuard;

use super::{HeldLock, LocalLocker, LockGuard, Locker};
use crate::LockError;

/// How long `lock()` sleeps between flock attempts, at first and at most.
const FIRST_BACKOFF: Duration = Duration::from_millis(1);
const MAX_BACKOFF: Duration = Duration::from_millis(50);

/// An exclusive lock on a lock file, held with `flock` (std's
/// [`File::try_lock`]), plus an in-process lock so that tasks of one process
/// exclude each other too. Clones share the in-process lock.
///
/// The lock file is created when missing, but its directory is not: a
/// missing directory is [`LockError::MissingDirectory`], naming the path.
/// A lock held by another process makes [`try_lock`](Locker::try_lock)
/// return `None`.
///
/// ```
/// use gc_core::{FileLocker, Locker};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir()?;
/// let locker = FileLocker::new(dir.path().join("images.lock"));
/// let guard = locker.try_lock().await?.expect("free");
/// assert!(locker.try_lock().await?.is_none());
/// guard.release().await?;
///
/// let nowhere = FileLocker::new(dir.path().join("missing/images.lock"));
/// let err = nowhere.try_lock().await.unwrap_err();
/// assert!(err.to_string().contains("missing"), "{err}");
/// # Ok::<_, Box<dyn std::error::Error>>(()) }).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct FileLocker {
    path: Arc<PathBuf>,
    local: LocalLocker,
}

impl FileLocker {
    /// A locker on the lock file at `path`. Nothing is touched on disk until
    /// the lock is first taken.
    ///
    /// ```
    /// let locker = gc_core::FileLocker::new("/var/lib/vmhost/images/.lock");
    /// assert_eq!(locker.path().to_str(), Some("/var/lib/vmhost/images/.lock"));
    /// ```
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileLocker {
            path: Arc::new(path.into()),
            local: LocalLocker::new(),
        }
    }

    /// The lock file.
    ///
    /// ```
    /// let locker = gc_core::FileLocker::new("store.lock");
    /// assert_eq!(locker.path(), std::path::Path::new("store.lock"));
    /// ```
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<File, LockError> {
        let path = self.path.as_path();
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(LockError::MissingDirectory {
                dir: dir.to_path_buf(),
                path: path.to_path_buf(),
            });
        }
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| match source.kind() {
                // The directory vanished between the check and the open.
                io::ErrorKind::NotFound => LockError::MissingDirectory {
                    dir: dir.to_path_buf(),
                    path: path.to_path_buf(),
                },
                _ => LockError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            })
    }

    /// One flock attempt while holding the in-process lock.
    fn try_flock(&self, local: OwnedMutexGuard<()>) -> Result<Result<LockGuard, OwnedMutexGuard<()>>, LockError> {
        let file = self.open()?;
        match file.try_lock() {
            Ok(()) => Ok(Ok(LockGuard::new(FileHeld {
                file,
                path: Arc::clone(&self.path),
                _local: local,
            }))),
            Err(TryLockError::WouldBlock) => Ok(Err(local)),
            Err(TryLockError::Error(source)) => Err(LockError::Io {
                path: self.path.to_path_buf(),
                source,
            }),
        }
    }
}

#[async_trait]
impl Locker for FileLocker {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        let Some(local) = self.local.try_acquire() else {
            return Ok(None);
        };
        Ok(self.try_flock(local)?.ok())
    }

    async fn lock(&self) -> Result<LockGuard, LockError> {
        // Wait in-process first, so that local waiters queue fairly; then poll
        // flock, which has no async form. Dropping this future at any await
        // drops the in-process guard and any open file, leaving nothing held.
        let mut local = self.local.acquire().await;
        let mut backoff = FIRST_BACKOFF;
        loop {
            match self.try_flock(local)? {
                Ok(guard) => return Ok(guard),
                Err(back) => local = back,
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

struct FileHeld {
    // Closing the file releases the flock: that is the Drop fallback.
    file: File,
    path: Arc<PathBuf>,
    _local: OwnedMutexGuard<()>,
}

#[async_trait]
impl HeldLock for FileHeld {
    async fn release(self: Box<Self>) -> Result<(), LockError> {
        self.file.unlock().map_err(|source| LockError::Io {
            path: self.path.to_path_buf(),
            source,
        })
    }

    async fn check(&self) -> Result<(), LockError> {
        // If the lock file was removed or replaced, another process can lock
        // the new file at that path: our flock no longer excludes anyone.
        same_file(&self.file, &self.path)
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> Result<(), LockError> {
    use std::os::unix::fs::MetadataExt;
    let held = file.metadata().map_err(|source| LockError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match std::fs::metadata(path) {
        Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => Ok(()),
        Ok(_) => Err(LockError::Lost {
            reason: format!("lock file {} was replaced", path.display()),
        }),
        Err(e) => Err(LockError::Lost {
            reason: format!("lock file {} is gone: {e}", path.display()),
        }),
    }
}

#[cfg(not(unix))]
fn same_file(_file: &File, path: &Path) -> Result<(), LockError> {
    if path.exists() {
        Ok(())
    } else {
        Err(LockError::Lost {
            reason: format!("lock file {} is gone", path.display()),
        })
    }
}
