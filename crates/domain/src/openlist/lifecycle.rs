//! An entry's life (A9–A11) as a state machine: the one place that says which status an entry
//! moves to. Everything else asks here.
//!
//! ```text
//!   Draft ──add ticket accepted──► Published ◄──modify accepted (updatable again)──┐
//!     │                              │  ▲                                           │
//!     │                              │  └──────────── Suspended                     │
//!     └─ add accepted, frequency ────┴─ modify accepted, frequency "static" ──► Static
//!        "static" (A10.2)                                                           │
//!   Published, Static, Suspended ──remove ticket accepted (A11.2)──► Withdrawn ◄────┘
//! ```

use super::ticket::TicketKind;
use super::vocab::{DatasetStatus, UpdateFrequency};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an entry that is {from} cannot take a {kind} ticket")]
pub struct StatusError {
    pub from: DatasetStatus,
    pub kind: TicketKind,
}

impl DatasetStatus {
    /// On the open list: what providers review yearly and change only through tickets.
    pub fn is_listed(self) -> bool {
        matches!(
            self,
            DatasetStatus::Published | DatasetStatus::Static | DatasetStatus::Suspended
        )
    }

    /// Edited directly by its provider (a draft); a listed entry changes only through a ticket
    /// (A11.1).
    pub fn is_editable(self) -> bool {
        self == DatasetStatus::Draft
    }

    /// Whether a ticket of `kind` may be opened on an entry in this status: "add" for a draft,
    /// the others for a listed entry.
    pub fn accepts(self, kind: TicketKind) -> Result<(), StatusError> {
        let fits = match kind {
            TicketKind::Add => self == DatasetStatus::Draft,
            TicketKind::Modify | TicketKind::Retype | TicketKind::Remove => self.is_listed(),
        };
        if fits {
            Ok(())
        } else {
            Err(StatusError { from: self, kind })
        }
    }

    /// The status once a ticket of `kind` is accepted, the proposal promising `frequency`: a
    /// draft is published; an entry whose source can no longer be updated (frequency "static")
    /// becomes static data and stays open with its history (A10.2), and is published again when
    /// it is updated again; a removal withdraws it (A11.2).
    pub fn after_accepted(
        self,
        kind: TicketKind,
        frequency: UpdateFrequency,
    ) -> Result<DatasetStatus, StatusError> {
        self.accepts(kind)?;
        Ok(match (kind, self, frequency) {
            (TicketKind::Remove, _, _) => DatasetStatus::Withdrawn,
            // A correction of static data (its frequency still "static") leaves it static.
            (
                _,
                DatasetStatus::Draft | DatasetStatus::Published | DatasetStatus::Static,
                UpdateFrequency::Static,
            ) => DatasetStatus::Static,
            (_, DatasetStatus::Draft | DatasetStatus::Static, _) => DatasetStatus::Published,
            (_, other, _) => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DatasetStatus::*;

    #[test]
    fn every_status_and_ticket_kind_moves_as_the_rules_say() {
        let monthly = UpdateFrequency::Monthly;
        let static_ = UpdateFrequency::Static;
        let add = TicketKind::Add;
        let modify = TicketKind::Modify;
        let remove = TicketKind::Remove;
        for (from, kind, freq, to) in [
            (Draft, add, monthly, Some(Published)),
            (Draft, add, static_, Some(Static)),
            (Draft, modify, monthly, None),
            (Draft, remove, monthly, None),
            (Published, add, monthly, None),
            (Published, modify, monthly, Some(Published)),
            (Published, modify, static_, Some(Static)),
            (Published, remove, monthly, Some(Withdrawn)),
            (Static, modify, monthly, Some(Published)),
            (Static, modify, static_, Some(Static)),
            (Static, remove, static_, Some(Withdrawn)),
            (Suspended, modify, monthly, Some(Suspended)),
            (Suspended, remove, monthly, Some(Withdrawn)),
            (Withdrawn, add, monthly, None),
            (Withdrawn, modify, monthly, None),
            (Withdrawn, remove, monthly, None),
        ] {
            assert_eq!(
                from.after_accepted(kind, freq).ok(),
                to,
                "{from} {kind} {freq}"
            );
        }
        // Whatever happens, a withdrawn entry never comes back, and nothing returns to draft.
        for &from in DatasetStatus::ALL {
            for &kind in TicketKind::ALL {
                for &freq in UpdateFrequency::ALL {
                    if let Ok(to) = from.after_accepted(kind, freq) {
                        assert_ne!(to, Draft);
                        assert_ne!(from, Withdrawn);
                    }
                }
            }
        }
    }
}
