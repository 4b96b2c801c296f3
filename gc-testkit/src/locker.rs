//! An in-memory locker with a control handle for fault injection.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use gc_core::{HeldLock, LockError, LockGuard, Locker, async_trait};
use tokio::sync::OwnedMutexGuard;

#[derive(Default)]
struct State {
    mutex: Arc<tokio::sync::Mutex<()>>,
    failures: Mutex<VecDeque<String>>,
    delay: Mutex<Duration>,
    /// Guards taken at or before this epoch report their lock as lost.
    lost_up_to: AtomicU64,
    epoch: AtomicU64,
    acquired: AtomicUsize,
    released: AtomicUsize,
    busy: AtomicUsize,
    failed: AtomicUsize,
}

impl State {
    fn next_failure(&self) -> Option<String> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).pop_front()
    }

    fn delay(&self) -> Duration {
        *self.delay.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn guard(self: &Arc<Self>, inner: OwnedMutexGuard<()>) -> LockGuard {
        self.acquired.fetch_add(1, Ordering::SeqCst);
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst) + 1;
        LockGuard::new(MemHeld {
            _inner: inner,
            state: Arc::clone(self),
            epoch,
        })
    }

    fn fail(&self, message: String) -> LockError {
        self.failed.fetch_add(1, Ordering::SeqCst);
        LockError::backend(message)
    }
}

/// An in-memory [`Locker`] whose behaviour a test steers through its
/// [`MemLockerHandle`] (tower-test's mock is the model): hold it as another
/// operation would, make attempts fail, delay them, lose a lease, and count.
///
/// ```
/// use gc_core::Locker;
/// use gc_testkit::MemLocker;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (locker, handle) = MemLocker::new();
/// let writer = handle.hold().await;           // "another operation" holds it
/// assert!(locker.try_lock().await?.is_none()); // so the GC sees it busy
/// drop(writer);
///
/// handle.fail_next("lease service unreachable");
/// assert!(locker.try_lock().await.is_err());
///
/// let guard = locker.try_lock().await?.expect("free again");
/// guard.release().await?;
/// handle.assert_all_released();
/// assert_eq!(handle.stats().busy, 1);
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemLocker {
    state: Arc<State>,
}

/// Steers and observes a [`MemLocker`]. Clones steer the same locker.
///
/// ```
/// use std::time::Duration;
/// use gc_core::Locker;
/// use gc_testkit::MemLocker;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (locker, handle) = MemLocker::new();
/// handle.delay(Duration::from_millis(5)); // every acquisition takes 5 ms
/// let guard = locker.lock().await?;
/// handle.lose_lease();                    // as if a lease ran out
/// assert!(guard.check().await.is_err());
/// drop(guard);
/// handle.assert_all_released();
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct MemLockerHandle {
    state: Arc<State>,
}

/// What a [`MemLocker`] has done so far.
///
/// ```
/// use gc_core::Locker;
/// use gc_testkit::{LockStats, MemLocker};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let (locker, handle) = MemLocker::new();
/// let guard = locker.try_lock().await?.unwrap();
/// assert!(locker.try_lock().await?.is_none());
/// guard.release().await?;
/// assert_eq!(handle.stats(), LockStats { acquired: 1, released: 1, busy: 1, failed: 0 });
/// # Ok::<_, gc_core::LockError>(()) }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockStats {
    /// Locks handed out (to the GC, to writers and to [`MemLockerHandle::hold`]).
    pub acquired: usize,
    /// Locks released, explicitly or by dropping the guard.
    pub released: usize,
    /// `try_lock` calls that found the lock held.
    pub busy: usize,
    /// Attempts failed by [`MemLockerHandle::fail_next`].
    pub failed: usize,
}

impl MemLocker {
    /// A free locker and its handle.
    ///
    /// ```
    /// let (locker, handle) = gc_testkit::MemLocker::new();
    /// assert!(!handle.is_held());
    /// # drop(locker);
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> (MemLocker, MemLockerHandle) {
        let locker = MemLocker { state: Arc::default() };
        let handle = locker.handle();
        (locker, handle)
    }

    /// Another handle on this locker.
    ///
    /// ```
    /// let (locker, _) = gc_testkit::MemLocker::new();
    /// let handle = locker.handle();
    /// assert_eq!(handle.stats().acquired, 0);
    /// ```
    pub fn handle(&self) -> MemLockerHandle {
        MemLockerHandle {
            state: Arc::clone(&self.state),
        }
    }
}

impl MemLockerHandle {
    /// Takes the lock as another operation would (a writer, another GC),
    /// waiting if it is held; release it by dropping the guard.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let (_locker, handle) = gc_testkit::MemLocker::new();
    /// let held = handle.hold().await;
    /// assert!(handle.is_held());
    /// # drop(held); });
    /// ```
    pub async fn hold(&self) -> LockGuard {
        let inner = Arc::clone(&self.state.mutex).lock_owned().await;
        self.state.guard(inner)
    }

    /// Makes the next lock attempt (`try_lock` or `lock`) fail with a
    /// [`LockError::Backend`] carrying `message`. Calls queue up.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::Locker;
    /// let (locker, handle) = gc_testkit::MemLocker::new();
    /// handle.fail_next("disk on fire");
    /// let err = locker.try_lock().await.unwrap_err();
    /// assert!(err.to_string().contains("disk on fire"));
    /// # });
    /// ```
    pub fn fail_next(&self, message: impl Into<String>) {
        self.state
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(message.into());
    }

    /// Makes every later lock attempt wait `delay` before it tries.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::Locker;
    /// let (locker, handle) = gc_testkit::MemLocker::new();
    /// handle.delay(std::time::Duration::from_millis(5));
    /// let start = std::time::Instant::now();
    /// let _guard = locker.try_lock().await.unwrap();
    /// assert!(start.elapsed() >= std::time::Duration::from_millis(5));
    /// # });
    /// ```
    pub fn delay(&self, delay: Duration) {
        *self.state.delay.lock().unwrap_or_else(PoisonError::into_inner) = delay;
    }

    /// Makes every guard handed out so far report its lock as lost from
    /// [`LockGuard::check`], as a lease-based lock does when its lease runs
    /// out.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use gc_core::Locker;
    /// let (locker, handle) = gc_testkit::MemLocker::new();
    /// let guard = locker.lock().await.unwrap();
    /// handle.lose_lease();
    /// assert!(!guard.is_held().await);
    /// # });
    /// ```
    pub fn lose_lease(&self) {
        let epoch = self.state.epoch.load(Ordering::SeqCst);
        self.state.lost_up_to.store(epoch, Ordering::SeqCst);
    }

    /// Whether anyone holds the lock now.
    ///
    /// ```
    /// let (_locker, handle) = gc_testkit::MemLocker::new();
    /// assert!(!handle.is_held());
    /// ```
    pub fn is_held(&self) -> bool {
        self.state.mutex.try_lock().is_err()
    }

    /// The counts so far.
    ///
    /// ```
    /// let (_locker, handle) = gc_testkit::MemLocker::new();
    /// assert_eq!(handle.stats(), gc_testkit::LockStats::default());
    /// ```
    pub fn stats(&self) -> LockStats {
        let s = &self.state;
        LockStats {
            acquired: s.acquired.load(Ordering::SeqCst),
            released: s.released.load(Ordering::SeqCst),
            busy: s.busy.load(Ordering::SeqCst),
            failed: s.failed.load(Ordering::SeqCst),
        }
    }

    /// Panics unless every acquisition so far was released and nothing is
    /// held now.
    ///
    /// ```
    /// let (_locker, handle) = gc_testkit::MemLocker::new();
    /// handle.assert_all_released();
    /// ```
    #[track_caller]
    pub fn assert_all_released(&self) {
        let stats = self.stats();
        assert!(
            stats.acquired == stats.released && !self.is_held(),
            "lock still held: acquired {} times, released {} times",
            stats.acquired,
            stats.released
        );
    }
}

#[async_trait]
impl Locker for MemLocker {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        let delay = self.state.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(message) = self.state.next_failure() {
            return Err(self.state.fail(message));
        }
        match Arc::clone(&self.state.mutex).try_lock_owned() {
            Ok(inner) => Ok(Some(self.state.guard(inner))),
            Err(_) => {
                self.state.busy.fetch_add(1, Ordering::SeqCst);
                Ok(None)
            }
        }
    }

    async fn lock(&self) -> Result<LockGuard, LockError> {
        let delay = self.state.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        if let Some(message) = self.state.next_failure() {
            return Err(self.state.fail(message));
        }
        let inner = Arc::clone(&self.state.mutex).lock_owned().await;
        Ok(self.state.guard(inner))
    }
}

struct MemHeld {
    _inner: OwnedMutexGuard<()>,
    state: Arc<State>,
    epoch: u64,
}

impl Drop for MemHeld {
    // Explicit release and the Drop fallback both end here: counted once.
    fn drop(&mut self) {
        self.state.released.fetch_add(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl HeldLock for MemHeld {
    async fn release(self: Box<Self>) -> Result<(), LockError> {
        drop(self);
        Ok(())
    }

    async fn check(&self) -> Result<(), LockError> {
        if self.epoch <= self.state.lost_up_to.load(Ordering::SeqCst) {
            Err(LockError::Lost {
                reason: "lease lost (MemLockerHandle::lose_lease)".to_owned(),
            })
        } else {
            Ok(())
        }
    }
}
