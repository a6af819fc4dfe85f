//! The process-wide memory budget: every call reserves its plugin's
//! `memory` limit from it before an instance exists, so all calls together
//! can never make the host hold more than `total_memory`, whatever the
//! number of plugins and their concurrency.
//!
//! A call that finds no room waits in its plugin's queue (at most its
//! timeout), then fails naming the budget. One plugin may hold at most
//! [`PLUGIN_SHARE_PERCENT`] of the budget, so a plugin flooded with calls
//! cannot starve the others.

use std::sync::Arc;

use tokio::sync::{Semaphore, SemaphorePermit};

/// The share of the machine's memory the budget defaults to.
pub const DEFAULT_TOTAL_MEMORY_PERCENT: u64 = 50;
/// The share of the budget one plugin's calls may hold at once.
pub const PLUGIN_SHARE_PERCENT: u64 = 50;
/// Reservations are counted in units of this many bytes.
const UNIT: u64 = 1024;

/// The budget, shared by every plugin of a runtime.
#[derive(Debug, Clone)]
pub(crate) struct MemoryBudget {
    total: u64,
    free: Arc<Semaphore>,
}

impl MemoryBudget {
    pub(crate) fn new(total: u64) -> Self {
        let units = (total / UNIT).min(Semaphore::MAX_PERMITS as u64) as usize;
        Self {
            total,
            free: Arc::new(Semaphore::new(units)),
        }
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// The most one plugin's calls may hold at once.
    pub(crate) fn plugin_share(&self) -> u64 {
        percent(self.total, PLUGIN_SHARE_PERCENT)
    }

    /// A plugin's own allowance within this budget.
    pub(crate) fn share(&self) -> PluginShare {
        let units = (self.plugin_share() / UNIT).min(Semaphore::MAX_PERMITS as u64) as usize;
        PluginShare {
            budget: self.clone(),
            free: Arc::new(Semaphore::new(units)),
        }
    }
}

/// One plugin's allowance: its own cap within the process budget.
#[derive(Debug)]
pub(crate) struct PluginShare {
    budget: MemoryBudget,
    free: Arc<Semaphore>,
}

/// Memory reserved for one call, given back when dropped.
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    _share: SemaphorePermit<'a>,
    _total: SemaphorePermit<'a>,
}

impl PluginShare {
    /// Reserve `bytes` at once if both the plugin's share and the process
    /// budget have room.
    pub(crate) fn try_reserve(&self, bytes: u64) -> Option<Reservation<'_>> {
        let units = u32::try_from(bytes.div_ceil(UNIT)).ok()?;
        let share = self.free.try_acquire_many(units).ok()?;
        let total = self.budget.free.try_acquire_many(units).ok()?;
        Some(Reservation {
            _share: share,
            _total: total,
        })
    }

    /// Reserve `bytes` from the plugin's share and then from the process
    /// budget, waiting for room. `None` if `bytes` can never fit.
    pub(crate) async fn reserve(&self, bytes: u64) -> Option<Reservation<'_>> {
        let units = u32::try_from(bytes.div_ceil(UNIT)).ok()?;
        let share = self.free.acquire_many(units).await.ok()?;
        let total = self.budget.free.acquire_many(units).await.ok()?;
        Some(Reservation {
            _share: share,
            _total: total,
        })
    }

    /// Whether a call of `bytes` can ever be admitted.
    pub(crate) fn fits(&self, bytes: u64) -> bool {
        bytes <= self.budget.plugin_share()
    }

    /// The plugin's share and the whole budget, in bytes.
    pub(crate) fn sizes(&self) -> (u64, u64) {
        (self.budget.plugin_share(), self.budget.total())
    }
}

/// Half of the memory this process may use: the smaller of the machine's
/// RAM (`/proc/meminfo`) and the cgroup's limit (`memory.max`), or 4 GiB
/// where neither can be read.
pub fn default_total_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kib| kib * 1024)
        });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let available = match (meminfo, cgroup) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => 8 << 30,
    };
    percent(available, DEFAULT_TOTAL_MEMORY_PERCENT)
}

fn percent(bytes: u64, percent: u64) -> u64 {
    (u128::from(bytes) * u128::from(percent) / 100) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_wait_for_room_and_one_plugin_holds_at_most_its_share() {
        let budget = MemoryBudget::new(400 << 20);
        let (greedy, other) = (budget.share(), budget.share());
        // A plugin gets half the budget: two 100 MiB calls, not a third.
        let a = greedy.reserve(100 << 20).await.unwrap();
        let _b = greedy.reserve(100 << 20).await.unwrap();
        let third = greedy.reserve(100 << 20);
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        // The other plugin still has its half.
        let _c = other.reserve(100 << 20).await.unwrap();
        let _d = other.reserve(100 << 20).await.unwrap();
        drop(a);
        assert!(third.await.is_some(), "room again once a call ends");
        assert!(!greedy.fits(201 << 20));
        assert!(greedy.fits(200 << 20));
    }

    #[test]
    fn the_default_is_half_of_this_machine() {
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let kib: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap();
        let total = default_total_memory();
        assert!(total > 0 && total <= kib * 1024 / 2, "{total} of {kib} KiB");
    }
}
