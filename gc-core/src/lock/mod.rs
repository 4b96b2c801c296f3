//! Lockers: what the orchestrator takes before it reads a store, and what the
//! store's own writers take while they mutate it.
//!
//! The GC's lock only excludes writers that take the same locker, so every
//! store's writers must lock it too (see `docs/modules.md`).

mod file;
mod local;
#[cfg(feature = "postgres")]
mod postgres;

use std::sync::Arc;

use async_trait::async_trait;

use crate::LockError;

pub use file::FileLocker;
pub use local::LocalLocker;
#[cfg(feature = "postgres")]
pub use postgres::PgLocker;

/// A lock over one store.
///
/// `try_lock` is what the orchestrator calls: it never waits, and `None` means
/// someone else holds the lock. `lock` is for the store's own writers: it
/// waits, and dropping its future cancels the wait without leaving anything
/// held.
///
/// ```
/// use gc_core::{LocalLocker, Locker};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let locker = LocalLocker::new();
/// let guard = locker.lock().await?;
/// assert!(locker.try_lock().await?.is_none(), "held: try_lock reports busy");
/// guard.release().await?;
/// assert!(locker.try_lock().await?.is_some());
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a Locker",
    label = "a module's lock must implement gc_core::Locker",
    note = "use gc_core::LocalLocker (one process) or gc_core::FileLocker (several processes), or implement Locker"
)]
#[async_trait]
pub trait Locker: Send + Sync {
    /// Takes the lock if it is free; `Ok(None)` if it is held elsewhere.
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError>;

    /// Waits for the lock. Dropping the returned future cancels the wait and
    /// leaves nothing held.
    async fn lock(&self) -> Result<LockGuard, LockError>;
}

#[async_trait]
impl<L: Locker + ?Sized> Locker for Arc<L> {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        (**self).try_lock().await
    }
    async fn lock(&self) -> Result<LockGuard, LockError> {
        (**self).lock().await
    }
}

#[async_trait]
impl<L: Locker + ?Sized> Locker for Box<L> {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        (**self).try_lock().await
    }
    async fn lock(&self) -> Result<LockGuard, LockError> {
        (**self).lock().await
    }
}

/// What a locker implementation hands out while its lock is held.
///
/// Implementors must also release the lock in `Drop`: that is the fallback
/// when a guard is dropped without [`LockGuard::release`], as happens when a
/// cycle's future is cancelled.
///
/// ```
/// use gc_core::{HeldLock, LockError, LockGuard};
///
/// struct Held;
/// #[async_trait::async_trait]
/// impl HeldLock for Held {
///     async fn release(self: Box<Self>) -> Result<(), LockError> {
///         Ok(()) // a real lock unlocks here, and in Drop
///     }
/// }
/// let guard = LockGuard::new(Held);
/// # drop(guard);
/// ```
#[async_trait]
pub trait HeldLock: Send + Sync {
    /// Releases the lock.
    async fn release(self: Box<Self>) -> Result<(), LockError>;

    /// `Ok(())` while the lock is still held; an error (usually
    /// [`LockError::Lost`]) when it is lost or cannot be confirmed. Lockers
    /// without leases keep the default, which always confirms.
    async fn check(&self) -> Result<(), LockError> {
        Ok(())
    }
}

/// A held lock. Release it with [`release`](Self::release); dropping it also
/// releases it, as a fallback.
///
/// ```
/// use gc_core::{LocalLocker, Locker};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let locker = LocalLocker::new();
/// let guard = locker.lock().await?;   // a writer takes the store's lock
/// // ... mutate the store ...
/// guard.release().await?;             // and releases it, reporting any error
/// assert!(!locker.is_locked());
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[must_use = "dropping a LockGuard releases the lock at once"]
pub struct LockGuard {
    held: Option<Box<dyn HeldLock>>,
}

impl LockGuard {
    /// Wraps what a locker implementation holds.
    ///
    /// ```
    /// # use gc_core::{HeldLock, LockError, LockGuard};
    /// # struct Held;
    /// # #[async_trait::async_trait]
    /// # impl HeldLock for Held {
    /// #     async fn release(self: Box<Self>) -> Result<(), LockError> { Ok(()) }
    /// # }
    /// let guard = LockGuard::new(Held);
    /// # drop(guard);
    /// ```
    pub fn new(held: impl HeldLock + 'static) -> Self {
        LockGuard {
            held: Some(Box::new(held)),
        }
    }

    /// Releases the lock and reports whether that worked.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::{LocalLocker, Locker};
    /// let locker = LocalLocker::new();
    /// let guard = locker.lock().await?;
    /// guard.release().await?;
    /// assert!(!locker.is_locked());
    /// # Ok::<_, gc_core::LockError>(()) }).unwrap();
    /// ```
    pub async fn release(mut self) -> Result<(), LockError> {
        match self.held.take() {
            Some(held) => held.release().await,
            None => Ok(()),
        }
    }

    /// `Ok(())` while the lock is still held; an error when it is lost (a
    /// lease-based lock whose lease ran out, a lock file replaced on disk).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::{LocalLocker, Locker};
    /// let guard = LocalLocker::new().lock().await?;
    /// guard.check().await?;
    /// # Ok::<_, gc_core::LockError>(()) }).unwrap();
    /// ```
    pub async fn check(&self) -> Result<(), LockError> {
        match &self.held {
            Some(held) => held.check().await,
            None => Err(LockError::Lost {
                reason: "guard already released".to_owned(),
            }),
        }
    }

    /// Whether [`check`](Self::check) confirms the lock.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::{LocalLocker, Locker};
    /// let guard = LocalLocker::new().lock().await?;
    /// assert!(guard.is_held().await);
    /// # Ok::<_, gc_core::LockError>(()) }).unwrap();
    /// ```
    pub async fn is_held(&self) -> bool {
        self.check().await.is_ok()
    }
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("released", &self.held.is_none())
            .finish()
    }
}
