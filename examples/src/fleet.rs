//! The multi-host example's stores, kept in PostgreSQL tables: VMs and the
//! blobs they use, each a GC module locked with a [`PgLocker`], so that GC
//! workers on several hosts (here: processes) sharing the database exclude
//! each other and the writers.
//!
//! ```text
//! SCHEMA.vms(id, deleted)        VMs; writers soft-delete them
//! SCHEMA.vm_blobs(vm, blob)      the blobs each VM uses
//! SCHEMA.blobs(digest)           the blob store
//! SCHEMA.probe(epoch, clashes)  the mutual-exclusion probe
//! SCHEMA.stats(worker, ...)      what each worker did
//! ```

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context;
use gc_core::{
    CollectOutcome, Declarations, GcError, GcModule, KindInfo, Locker, Orchestrator, Others, PgLocker, Provider,
    RefKind, Snapshot, Targets,
};
use tokio_postgres::{Client, NoTls};

/// Blobs that a live VM uses.
pub struct BlobRefs;
impl RefKind for BlobRefs {
    type Id = String;
}

/// A data connection (the locks have connections of their own).
pub async fn connect(url: &str) -> anyhow::Result<Client> {
    let config: tokio_postgres::Config = url.parse().context("invalid PostgreSQL URL")?;
    let server = PgLocker::from_config(config.clone(), "", "").server().to_owned();
    let (client, connection) = config
        .connect(NoTls)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {server}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// A schema name is spliced into SQL: only letters, digits and `_`.
fn check_schema(schema: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(
        !schema.is_empty() && schema.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "schema {schema:?}: use letters, digits and _ only"
    );
    Ok(schema)
}

/// Creates the schema's tables, empty.
pub async fn create(client: &Client, schema: &str) -> anyhow::Result<()> {
    let s = check_schema(schema)?;
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {s} CASCADE;
             CREATE SCHEMA {s};
             CREATE TABLE {s}.vms (id text PRIMARY KEY, deleted boolean NOT NULL DEFAULT false);
             CREATE TABLE {s}.vm_blobs (vm text NOT NULL, blob text NOT NULL);
             CREATE TABLE {s}.blobs (digest text PRIMARY KEY);
             CREATE TABLE {s}.probe (epoch bigint NOT NULL, clashes bigint NOT NULL);
             INSERT INTO {s}.probe VALUES (0, 0);
             CREATE TABLE {s}.stats (worker int, cycles int, busy int, collected bigint);"
        ))
        .await
        .context("creating the tables")?;
    Ok(())
}

/// The two stores of one schema, and their locks.
pub struct Fleet {
    /// The VM store.
    pub vms: VmTable,
    /// The blob store.
    pub blobs: BlobTable,
}

impl Fleet {
    /// Connects to the stores of `schema`.
    pub async fn open(url: &str, schema: &str) -> anyhow::Result<Fleet> {
        let schema = check_schema(schema)?.to_owned();
        Ok(Fleet {
            vms: VmTable {
                db: connect(url).await?,
                locker: PgLocker::new(url, &schema, "vm")?,
                schema: schema.clone(),
            },
            blobs: BlobTable {
                db: connect(url).await?,
                locker: PgLocker::new(url, &schema, "blobs")?,
                schema,
                probe_pause: Duration::from_millis(20),
            },
        })
    }

    /// An orchestrator over both stores.
    pub fn orchestrator(self) -> Result<Orchestrator, GcError> {
        Orchestrator::builder().module(self.blobs).module(self.vms).build()
    }
}

/// VMs: soft-deleted ones are garbage; live ones pin their blobs.
pub struct VmTable {
    db: Client,
    locker: PgLocker,
    schema: String,
}

/// What the VM module reads.
pub struct VmSnapshot {
    deleted: Vec<String>,
    pinned: HashSet<String>,
}

impl Snapshot for VmSnapshot {
    fn provide<'a>(&'a self, refs: &mut Provider<'a>) {
        refs.refs::<BlobRefs>(&self.pinned);
    }
    fn provided_kinds() -> Option<Vec<KindInfo>> {
        Some(vec![KindInfo::of::<BlobRefs>()])
    }
}

impl GcModule for VmTable {
    type Snapshot = VmSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "vm"
    }
    fn locker(&self) -> &dyn Locker {
        &self.locker
    }
    async fn read(&self) -> anyhow::Result<VmSnapshot> {
        let s = &self.schema;
        let deleted = self
            .db
            .query(&format!("SELECT id FROM {s}.vms WHERE deleted"), &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let pinned = self
            .db
            .query(
                &format!(
                    "SELECT DISTINCT b.blob FROM {s}.vm_blobs b JOIN {s}.vms v ON v.id = b.vm WHERE NOT v.deleted"
                ),
                &[],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(VmSnapshot { deleted, pinned })
    }
    fn resolve(&self, snap: &VmSnapshot, _: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let mut targets = Targets::new();
        targets.extend(snap.deleted.iter().cloned(), "deleted VM");
        Ok(targets)
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        let s = &self.schema;
        // Idempotent: deleting rows already gone deletes nothing.
        self.db
            .execute(&format!("DELETE FROM {s}.vm_blobs WHERE vm = ANY($1)"), &[&ids])
            .await?;
        self.db
            .execute(&format!("DELETE FROM {s}.vms WHERE id = ANY($1) AND deleted"), &[&ids])
            .await?;
        Ok(CollectOutcome::all(ids))
    }
    fn declare(&self, d: &mut Declarations<String>) {
        d.consumes_nothing();
    }
}

/// Blobs: garbage once no live VM uses them.
pub struct BlobTable {
    db: Client,
    locker: PgLocker,
    schema: String,
    probe_pause: Duration,
}

/// What the blob module reads.
pub struct BlobSnapshot {
    digests: Vec<String>,
}

impl Snapshot for BlobSnapshot {
    fn provided_kinds() -> Option<Vec<KindInfo>> {
        Some(Vec::new())
    }
    fn population(&self) -> Option<usize> {
        Some(self.digests.len())
    }
}

impl BlobTable {
    /// The mutual-exclusion probe, run while this worker holds every lock:
    /// read the epoch, pause, and bump it only if nobody else did meanwhile.
    /// A second cycle running at the same time would bump it first, and the
    /// overlap is counted.
    async fn probe(&self) -> anyhow::Result<()> {
        let s = &self.schema;
        let epoch: i64 = self
            .db
            .query_one(&format!("SELECT epoch FROM {s}.probe"), &[])
            .await?
            .get(0);
        tokio::time::sleep(self.probe_pause).await;
        let bumped = self
            .db
            .execute(
                &format!("UPDATE {s}.probe SET epoch = epoch + 1 WHERE epoch = $1"),
                &[&epoch],
            )
            .await?;
        if bumped == 0 {
            self.db
                .execute(&format!("UPDATE {s}.probe SET clashes = clashes + 1"), &[])
                .await?;
        }
        Ok(())
    }
}

impl GcModule for BlobTable {
    type Snapshot = BlobSnapshot;
    type Id = String;
    fn name(&self) -> &str {
        "blobs"
    }
    fn locker(&self) -> &dyn Locker {
        &self.locker
    }
    async fn read(&self) -> anyhow::Result<BlobSnapshot> {
        self.probe().await?;
        let s = &self.schema;
        let digests = self
            .db
            .query(&format!("SELECT digest FROM {s}.blobs"), &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        Ok(BlobSnapshot { digests })
    }
    fn resolve(&self, snap: &BlobSnapshot, others: &Others<'_>) -> anyhow::Result<Targets<String>> {
        let pinned = others.refs::<BlobRefs>()?;
        let mut targets = Targets::new();
        targets.extend(
            snap.digests.iter().filter(|d| !pinned.contains(d)).cloned(),
            "no live VM uses it",
        );
        Ok(targets)
    }
    async fn collect(&self, ids: Vec<String>) -> anyhow::Result<CollectOutcome<String>> {
        let s = &self.schema;
        self.db
            .execute(&format!("DELETE FROM {s}.blobs WHERE digest = ANY($1)"), &[&ids])
            .await?;
        Ok(CollectOutcome::all(ids))
    }
    fn declare(&self, d: &mut Declarations<String>) {
        d.targets_are::<BlobRefs>();
    }
}

/// A writer: creates a VM using a new blob and an old one, soft-deletes an
/// older VM, and adds an orphan blob, all under both stores' locks (taken in
/// the GC's order, blobs then vm).
pub async fn write_once(url: &str, db: &Client, schema: &str, n: u64) -> anyhow::Result<()> {
    let s = check_schema(schema)?;
    let blobs_lock = PgLocker::new(url, s, "blobs")?.lock().await?;
    let vm_lock = PgLocker::new(url, s, "vm")?.lock().await?;
    let (vm, blob, orphan) = (format!("vm-{n}"), format!("blob-{n}"), format!("orphan-{n}"));
    db.batch_execute("BEGIN").await?;
    db.execute(&format!("INSERT INTO {s}.blobs VALUES ($1), ($2)"), &[&blob, &orphan])
        .await?;
    db.execute(&format!("INSERT INTO {s}.vms VALUES ($1, false)"), &[&vm])
        .await?;
    db.execute(&format!("INSERT INTO {s}.vm_blobs VALUES ($1, $2)"), &[&vm, &blob])
        .await?;
    // Also pin a blob of an earlier VM, if it is still there.
    db.execute(
        &format!("INSERT INTO {s}.vm_blobs SELECT $1, digest FROM {s}.blobs WHERE digest = $2"),
        &[&vm, &format!("blob-{}", n / 2)],
    )
    .await?;
    if n.is_multiple_of(3) {
        db.execute(
            &format!("UPDATE {s}.vms SET deleted = true WHERE id = $1"),
            &[&format!("vm-{}", n / 3)],
        )
        .await?;
    }
    db.batch_execute("COMMIT").await?;
    vm_lock.release().await?;
    blobs_lock.release().await?;
    Ok(())
}

/// What a worker did.
#[derive(Debug, Default, Clone, Copy)]
pub struct WorkerStats {
    /// Cycles that ran.
    pub cycles: i32,
    /// Cycles that found a lock busy (another worker, a writer).
    pub busy: i32,
    /// IDs collected.
    pub collected: i64,
}

/// A GC worker: runs `cycles` cycles (retrying busy ones), then records
/// what it did in the stats table.
pub async fn run_worker(url: &str, schema: &str, worker: i32, cycles: i32) -> anyhow::Result<WorkerStats> {
    let stats_db = connect(url).await?;
    let gc = Fleet::open(url, schema).await?.orchestrator()?;
    let mut stats = WorkerStats::default();
    while stats.cycles < cycles {
        match gc.run().await {
            Ok(report) => {
                report.check()?;
                stats.cycles += 1;
                stats.collected += i64::try_from(report.total_collected())?;
            }
            Err(GcError::Skipped { .. }) => {
                stats.busy += 1;
                tokio::time::sleep(Duration::from_millis(5 + u64::try_from(worker)? * 3)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let s = check_schema(schema)?;
    stats_db
        .execute(
            &format!("INSERT INTO {s}.stats VALUES ($1, $2, $3, $4)"),
            &[&worker, &stats.cycles, &stats.busy, &stats.collected],
        )
        .await?;
    Ok(stats)
}

/// What the checks found after the workers stopped.
#[derive(Debug)]
pub struct Outcome {
    /// Per worker: (worker, cycles, busy, collected).
    pub workers: Vec<(i32, i32, i32, i64)>,
    /// Cycles the probe saw running at the same time as another.
    pub overlaps: i64,
    /// Blobs that a live VM uses but that are gone.
    pub pinned_lost: i64,
    /// Garbage left after one final cycle (orphan blobs, deleted VMs).
    pub garbage_left: i64,
    /// Live VMs, and the blobs they pin.
    pub live_vms: i64,
}

/// Runs one last cycle, then checks the invariants.
pub async fn check(url: &str, schema: &str) -> anyhow::Result<Outcome> {
    let s = check_schema(schema)?;
    let gc = Fleet::open(url, schema).await?.orchestrator()?;
    gc.run().await?.check()?;
    let db = connect(url).await?;
    let one = |sql: String| {
        let db = &db;
        async move { anyhow::Ok(db.query_one(&sql, &[]).await?.get::<_, i64>(0)) }
    };
    let workers = db
        .query(
            &format!("SELECT worker, cycles, busy, collected FROM {s}.stats ORDER BY worker"),
            &[],
        )
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();
    Ok(Outcome {
        workers,
        overlaps: one(format!("SELECT clashes FROM {s}.probe")).await?,
        pinned_lost: one(format!(
            "SELECT count(*) FROM {s}.vm_blobs b JOIN {s}.vms v ON v.id = b.vm \
             WHERE NOT v.deleted AND b.blob NOT IN (SELECT digest FROM {s}.blobs)"
        ))
        .await?,
        garbage_left: one(format!(
            "SELECT (SELECT count(*) FROM {s}.vms WHERE deleted) + (SELECT count(*) FROM {s}.blobs d \
             WHERE NOT EXISTS (SELECT 1 FROM {s}.vm_blobs b JOIN {s}.vms v ON v.id = b.vm \
             WHERE b.blob = d.digest AND NOT v.deleted))"
        ))
        .await?,
        live_vms: one(format!("SELECT count(*) FROM {s}.vms WHERE NOT deleted")).await?,
    })
}
