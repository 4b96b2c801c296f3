//! The human form of a report.

use std::fmt;
use std::time::Duration;

use super::{ModuleReport, ModuleStatus, Report};
use crate::error::count;

/// Durations as people read them: "0.42 ms", "12.3 ms", "1.50 s".
pub(crate) struct Human(pub(crate) Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_secs_f64() * 1e3;
        if ms < 10.0 {
            write!(f, "{ms:.2} ms")
        } else if ms < 1000.0 {
            write!(f, "{ms:.1} ms")
        } else {
            write!(f, "{:.2} s", ms / 1e3)
        }
    }
}

impl fmt::Display for ModuleStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ModuleStatus::Planned => "planned",
            ModuleStatus::NothingToDo => "nothing to do",
            ModuleStatus::Collected => "collected",
            ModuleStatus::PartiallyCollected => "partially collected",
            ModuleStatus::Failed => "failed",
            ModuleStatus::Skipped => "skipped",
            ModuleStatus::HeldBack => "held back",
            ModuleStatus::Withheld => "withheld",
        })
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.modules.iter().map(|m| m.name.len()).max().unwrap_or(0);
        if self.dry_run {
            writeln!(
                f,
                "GC plan (dry run, nothing collected): {} in {}, {}",
                count(self.total_targets(), "target"),
                count(self.modules.len(), "module"),
                Human(self.phases.total)
            )?;
        } else {
            writeln!(
                f,
                "GC cycle: {} collected, {} failed, of {} in {}, {}",
                self.total_collected(),
                self.total_failed(),
                count(self.total_targets(), "target"),
                count(self.modules.len(), "module"),
                Human(self.phases.total)
            )?;
        }
        for m in &self.modules {
            write_module(f, m, width)?;
        }
        let p = &self.phases;
        write!(
            f,
            "  phases: acquire {}, read {}, resolve {}",
            Human(p.acquire),
            Human(p.read),
            Human(p.resolve)
        )?;
        // A dry run has no collect phase.
        if !self.dry_run {
            write!(f, ", collect {}", Human(p.collect))?;
        }
        writeln!(f, ", release {}", Human(p.release))
    }
}

fn write_module(f: &mut fmt::Formatter<'_>, m: &ModuleReport, width: usize) -> fmt::Result {
    write!(f, "  {:<width$}  ", m.name)?;
    match m.status {
        ModuleStatus::Planned => write!(f, "{} to collect", m.targets)?,
        ModuleStatus::NothingToDo => write!(f, "nothing to do")?,
        ModuleStatus::Skipped => write!(f, "skipped: {}", m.skip_reason.as_deref().unwrap_or("?"))?,
        ModuleStatus::HeldBack => {
            let by: Vec<String> = m
                .held_back_by
                .iter()
                .map(|h| format!("{} ({})", h.module, h.kinds.join(", ")))
                .collect();
            write!(f, "held back by {}", by.join(", "))?
        }
        ModuleStatus::Withheld => write!(f, "withheld: {} targets", m.targets)?,
        status => write!(f, "{status}: {} of {}", m.collected, m.targets)?,
    }
    // A skipped module ran no callback: no durations to show.
    if m.status == ModuleStatus::Skipped {
        writeln!(f)?;
    } else {
        write!(
            f,
            "  (read {}, resolve {}",
            Human(m.durations.read),
            Human(m.durations.resolve)
        )?;
        if let Some(collect) = m.durations.collect {
            write!(f, ", collect {}", Human(collect))?;
        }
        writeln!(f, ")")?;
    }
    if let Some(error) = &m.error {
        writeln!(f, "      error: {error}")?;
    }
    if let Some(guard) = &m.guard {
        writeln!(f, "      mass-deletion guard: {guard}")?;
    }
    for (what, ids) in [("too young", &m.too_young), ("awaiting confirmation", &m.unconfirmed)] {
        if ids.count > 0 {
            let more = if ids.count > ids.sample.len() { ", ..." } else { "" };
            writeln!(
                f,
                "      withheld {} {what}: {}{more}",
                ids.count,
                ids.sample.join(", ")
            )?;
        }
    }
    for drop in &m.backstop {
        writeln!(
            f,
            "      backstop kept {}: {} still references it as {} (a bug in this module's resolve)",
            drop.id, drop.referenced_by, drop.kind
        )?;
    }
    for failed in &m.failed {
        writeln!(f, "      failed {}: {}", failed.id, failed.error)?;
    }
    for planned in &m.planned {
        writeln!(f, "      - {}: {}", planned.id, planned.reason)?;
    }
    for note in &m.notes {
        writeln!(f, "      note: {note}")?;
    }
    if let Some(error) = &m.release_error {
        writeln!(f, "      release failed: {error}")?;
    }
    Ok(())
}
