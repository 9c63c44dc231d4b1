//! The shift on a running till: its report now, and the handover that closes it. The till
//! holds the journal's one-process lock, so a handover never races a sale of this till.

use super::till::Till;
use crate::shift::{self, Report, ShiftError};

impl Till {
    /// The open shift as it stands now.
    pub fn shift_report(&self) -> Result<Report, ShiftError> {
        shift::current(
            &self.journal,
            &self.config.merchant.device_info,
            self.clock.unix_ms(),
        )
    }

    /// Hand over: close the open shift now and keep its report in the journal.
    pub fn hand_over(&mut self) -> Result<Report, ShiftError> {
        let now = self.clock.unix_ms();
        shift::close(&mut self.journal, &self.config.merchant.device_info, now)
    }
}
