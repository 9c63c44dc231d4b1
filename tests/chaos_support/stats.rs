//! What a chaos run did, counted (printed with the run, and checked for coverage).

/// Counts over one seed (summed over a run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub seeds: u64,
    pub sales: u64,
    /// Final journal states at the end of the seed.
    pub paid: u64,
    pub failed: u64,
    pub reversed: u64,
    pub reversed_refunded: u64,
    pub unresolved_left: u64,
    /// Sales aborted mid-way (in-process kill), and recoveries aborted.
    pub crashes: u64,
    pub recovery_crashes: u64,
    pub restarts: u64,
    /// Sales settled by `recover` / `retry_pending`.
    pub recovered: u64,
    /// Unresolved outcomes shown (later settled or left pending).
    pub unresolved_shown: u64,
    pub cancels: u64,
    pub customer_actions: u64,
    pub faults: u64,
    pub busy_refusals: u64,
    pub duplicate_refusals: u64,
}

impl Stats {
    /// Add `o` into `self`.
    pub fn add(&mut self, o: &Stats) {
        let Stats {
            seeds,
            sales,
            paid,
            failed,
            reversed,
            reversed_refunded,
            unresolved_left,
            crashes,
            recovery_crashes,
            restarts,
            recovered,
            unresolved_shown,
            cancels,
            customer_actions,
            faults,
            busy_refusals,
            duplicate_refusals,
        } = o;
        self.seeds += seeds;
        self.sales += sales;
        self.paid += paid;
        self.failed += failed;
        self.reversed += reversed;
        self.reversed_refunded += reversed_refunded;
        self.unresolved_left += unresolved_left;
        self.crashes += crashes;
        self.recovery_crashes += recovery_crashes;
        self.restarts += restarts;
        self.recovered += recovered;
        self.unresolved_shown += unresolved_shown;
        self.cancels += cancels;
        self.customer_actions += customer_actions;
        self.faults += faults;
        self.busy_refusals += busy_refusals;
        self.duplicate_refusals += duplicate_refusals;
    }
}
