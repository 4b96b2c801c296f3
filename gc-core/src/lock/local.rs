//! An in-process lock.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::{HeldLock, LockGuard, Locker};
use crate::LockError;

/// A lock shared by the tasks of one process. Clones share the lock.
///
/// Use it for stores that only one process opens; use
/// [`FileLocker`](crate::FileLocker) when other processes open the store too.
///
/// ```
/// use gc_core::{LocalLocker, Locker};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let gc_side = LocalLocker::new();
/// let writer_side = gc_side.clone();
/// let writing = writer_side.lock().await?;
/// assert!(gc_side.try_lock().await?.is_none());
/// drop(writing);
/// assert!(!gc_side.is_locked());
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[derive(Clone, Default, Debug)]
pub struct LocalLocker {
    mutex: Arc<Mutex<()>>,
}

impl LocalLocker {
    /// A new, free lock.
    ///
    /// ```
    /// assert!(!gc_core::LocalLocker::new().is_locked());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether anyone holds the lock right now.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::{LocalLocker, Locker};
    /// let locker = LocalLocker::new();
    /// let guard = locker.lock().await?;
    /// assert!(locker.is_locked());
    /// # drop(guard); Ok::<_, gc_core::LockError>(()) }).unwrap();
    /// ```
    pub fn is_locked(&self) -> bool {
        self.mutex.try_lock().is_err()
    }

    pub(crate) fn try_acquire(&self) -> Option<OwnedMutexGuard<()>> {
        Arc::clone(&self.mutex).try_lock_owned().ok()
    }

    pub(crate) async fn acquire(&self) -> OwnedMutexGuard<()> {
        Arc::clone(&self.mutex).lock_owned().await
    }
}

// Holding the mutex guard is the lock; dropping it releases.
struct LocalHeld {
    _guard: OwnedMutexGuard<()>,
}

#[async_trait]
impl HeldLock for LocalHeld {
    async fn release(self: Box<Self>) -> Result<(), LockError> {
        drop(self);
        Ok(())
    }
}

#[async_trait]
impl Locker for LocalLocker {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        Ok(self.try_acquire().map(|g| LockGuard::new(LocalHeld { _guard: g })))
    }

    async fn lock(&self) -> Result<LockGuard, LockError> {
        Ok(LockGuard::new(LocalHeld {
            _guard: self.acquire().await,
        }))
    }
}
