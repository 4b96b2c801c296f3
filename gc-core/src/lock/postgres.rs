//! A PostgreSQL advisory lock: exclusion across hosts that share one
//! database.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use super::{HeldLock, LockGuard, Locker};
use crate::LockError;

const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// How long `check()` waits for the server before calling the lock lost.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// A session-level PostgreSQL advisory lock (`pg_try_advisory_lock`), held
/// on a dedicated connection for the life of the guard: for fleets of hosts
/// whose stores live in one database, where a flock excludes nobody.
///
/// - The key is [`PgLocker::advisory_key`]`(namespace, name)`: FNV-1a (64
///   bit) over the namespace's bytes, a zero byte, and the name's bytes, as a
///   signed 64-bit integer. It depends on nothing but those strings, so every
///   host and every version of this crate computes the same key.
/// - Each `try_lock` opens its own connection; the guard keeps it, and the
///   lock lives exactly as long as that session. Do not connect through a
///   transaction-mode pooler (PgBouncer's `pool_mode = transaction`): it
///   hands the session to other clients between transactions, so the lock
///   would be held by, and released with, someone else's session. Session
///   mode or a direct connection is required.
/// - Release unlocks and closes the connection; dropping the guard closes
///   the connection, which releases the lock on the server.
/// - [`LockGuard::check`] fails when the connection is gone or the lock is no
///   longer in `pg_locks` (its backend was terminated, the server restarted),
///   so the orchestrator collects nothing.
/// - Errors name the server, the database and the user, never the password.
///
/// Connections use no TLS.
///
/// ```no_run
/// use gc_core::{Locker, PgLocker};
///
/// # async fn f() -> Result<(), gc_core::LockError> {
/// let locker = PgLocker::new("postgres://gc:secret@db.internal/fleet", "vmhost", "images")?;
/// if let Some(guard) = locker.try_lock().await? {
///     // ... no other host holds "vmhost"/"images" now
///     guard.release().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PgLocker {
    config: Arc<Config>,
    server: Arc<str>,
    key: i64,
}

impl fmt::Debug for PgLocker {
    // Config's Debug redacts the password; this shows even less.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgLocker")
            .field("server", &self.server)
            .field("key", &self.key)
            .finish()
    }
}

impl PgLocker {
    /// A locker on the lock `namespace`/`name` of the server at `url` (a
    /// `postgres://` URL or a `key=value` connection string).
    ///
    /// ```
    /// let locker = gc_core::PgLocker::new("postgres://gc:secret@localhost/fleet", "vmhost", "images").unwrap();
    /// assert_eq!(locker.server(), "localhost:5432/fleet as gc");
    /// assert!(gc_core::PgLocker::new("postgres://[", "vmhost", "images").is_err());
    /// ```
    pub fn new(url: &str, namespace: &str, name: &str) -> Result<Self, LockError> {
        // The string may hold a password: the error must not repeat it.
        let config = Config::from_str(url)
            .map_err(|e| LockError::backend(format!("invalid PostgreSQL connection string: {e}")))?;
        Ok(Self::from_config(config, namespace, name))
    }

    /// A locker from a parsed configuration.
    ///
    /// ```
    /// let mut config = tokio_postgres::Config::new();
    /// config.host("db1").port(6432).dbname("fleet").user("gc");
    /// let locker = gc_core::PgLocker::from_config(config, "vmhost", "vm");
    /// assert_eq!(locker.server(), "db1:6432/fleet as gc");
    /// ```
    pub fn from_config(config: Config, namespace: &str, name: &str) -> Self {
        PgLocker {
            server: describe(&config).into(),
            key: Self::advisory_key(namespace, name),
            config: Arc::new(config),
        }
    }

    /// The advisory lock key of `namespace`/`name`: stable across hosts and
    /// versions (see the type's documentation).
    ///
    /// ```
    /// use gc_core::PgLocker;
    /// assert_eq!(PgLocker::advisory_key("vmhost", "images"), PgLocker::advisory_key("vmhost", "images"));
    /// assert_ne!(PgLocker::advisory_key("vmhost", "images"), PgLocker::advisory_key("vmhost", "vm"));
    /// // FNV-1a of the single zero byte between two empty strings:
    /// assert_eq!(PgLocker::advisory_key("", ""), 0xaf63_bd4c_8601_b7df_u64 as i64);
    /// ```
    pub fn advisory_key(namespace: &str, name: &str) -> i64 {
        const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
        const PRIME: u64 = 0x0000_0100_0000_01b3;
        let mut hash = OFFSET;
        for byte in namespace.bytes().chain([0]).chain(name.bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(PRIME);
        }
        // The key is the hash's 64 bits, read as PostgreSQL's bigint.
        hash as i64
    }

    /// This locker's key.
    ///
    /// ```
    /// let locker = gc_core::PgLocker::new("host=localhost", "ns", "m").unwrap();
    /// assert_eq!(locker.key(), gc_core::PgLocker::advisory_key("ns", "m"));
    /// ```
    pub fn key(&self) -> i64 {
        self.key
    }

    /// The server, database and user, as errors name them.
    ///
    /// ```
    /// let locker = gc_core::PgLocker::new("host=/run/postgresql dbname=gc", "ns", "m").unwrap();
    /// assert_eq!(locker.server(), "/run/postgresql/gc");
    /// ```
    pub fn server(&self) -> &str {
        &self.server
    }

    async fn connect(&self) -> Result<Session, LockError> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(|e| LockError::backend(format!("connecting to PostgreSQL at {}: {e}", self.server)))?;
        let task = tokio::spawn(async move {
            // Ends when the client is dropped or the server goes away.
            let _ = connection.await;
        });
        Ok(Session {
            client,
            task,
            server: Arc::clone(&self.server),
            key: self.key,
        })
    }
}

/// "host:port/dbname as user", without the password.
fn describe(config: &Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, host)| {
            let port = config.get_ports().get(i).or(config.get_ports().first());
            match host {
                Host::Tcp(name) => format!("{name}:{}", port.copied().unwrap_or(5432)),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            }
        })
        .collect();
    let mut out = if hosts.is_empty() {
        "(no host)".to_owned()
    } else {
        hosts.join(",")
    };
    if let Some(db) = config.get_dbname() {
        out.push('/');
        out.push_str(db);
    }
    if let Some(user) = config.get_user() {
        out.push_str(" as ");
        out.push_str(user);
    }
    out
}

/// One dedicated connection.
struct Session {
    client: Client,
    task: JoinHandle<()>,
    server: Arc<str>,
    key: i64,
}

impl Session {
    fn error(&self, what: &str, e: tokio_postgres::Error) -> LockError {
        LockError::backend(format!("{what} on PostgreSQL at {}: {e}", self.server))
    }

    async fn try_acquire(&self) -> Result<bool, LockError> {
        let row = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&self.key])
            .await
            .map_err(|e| self.error("pg_try_advisory_lock", e))?;
        Ok(row.get(0))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Closing the connection ends the session, and with it the lock:
        // the Drop fallback.
        self.task.abort();
    }
}

#[async_trait]
impl Locker for PgLocker {
    async fn try_lock(&self) -> Result<Option<LockGuard>, LockError> {
        let session = self.connect().await?;
        if session.try_acquire().await? {
            Ok(Some(LockGuard::new(PgHeld { session })))
        } else {
            Ok(None)
        }
    }

    async fn lock(&self) -> Result<LockGuard, LockError> {
        // One connection for the whole wait; dropping this future drops it.
        let session = self.connect().await?;
        let mut backoff = FIRST_BACKOFF;
        loop {
            if session.try_acquire().await? {
                return Ok(LockGuard::new(PgHeld { session }));
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}

struct PgHeld {
    session: Session,
}

#[async_trait]
impl HeldLock for PgHeld {
    async fn release(self: Box<Self>) -> Result<(), LockError> {
        let s = &self.session;
        let unlocked: bool = s
            .client
            .query_one("SELECT pg_advisory_unlock($1)", &[&s.key])
            .await
            .map_err(|e| s.error("pg_advisory_unlock", e))?
            .get(0);
        if unlocked {
            Ok(())
        } else {
            Err(LockError::Lost {
                reason: format!("the advisory lock was no longer held on PostgreSQL at {}", s.server),
            })
        }
        // Dropping self closes the connection.
    }

    async fn check(&self) -> Result<(), LockError> {
        let s = &self.session;
        // A bigint advisory key shows in pg_locks as classid (high 32 bits),
        // objid (low 32 bits) and objsubid 1.
        let (high, low) = ((s.key >> 32) & 0xffff_ffff, s.key & 0xffff_ffff);
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&high, &low];
        let query = s.client.query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
             AND pid = pg_backend_pid() AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
            &params,
        );
        let held: i64 = match tokio::time::timeout(CHECK_TIMEOUT, query).await {
            Ok(Ok(row)) => row.get(0),
            Ok(Err(e)) => {
                return Err(LockError::Lost {
                    reason: format!("the lock's connection to PostgreSQL at {} failed: {e}", s.server),
                });
            }
            Err(_) => {
                return Err(LockError::Lost {
                    reason: format!("PostgreSQL at {} did not answer within {CHECK_TIMEOUT:?}", s.server),
                });
            }
        };
        if held > 0 {
            Ok(())
        } else {
            Err(LockError::Lost {
                reason: format!(
                    "the advisory lock is no longer in pg_locks on PostgreSQL at {}",
                    s.server
                ),
            })
        }
    }
}
