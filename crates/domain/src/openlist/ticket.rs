//! Open-list change tickets (A11): the state machine and the rules about documents.
//!
//! ```text
//!   submit ──► Submitted ──accept──► Accepted
//!                 │   ▲
//!          return │   │ resubmit
//!                 ▼   │
//!               Returned ──cancel──► Cancelled   (Submitted may be cancelled too)
//! ```

use serde::Serialize;

use super::vocab::OpenType;
use crate::names::string_enum as names;

names!(TicketKind {
    Add => "add",
    Modify => "modify",
    /// A modification that changes the open type.
    Retype => "retype",
    Remove => "remove",
});

names!(TicketState {
    Submitted => "submitted",
    Returned => "returned",
    Accepted => "accepted",
    Cancelled => "cancelled",
});

names!(ReturnReason {
    /// 无合理理由调整
    NoReasonableReason => "no_reasonable_reason",
    /// 提供信息不全
    IncompleteInformation => "incomplete_information",
    /// 不符合分级分类规则
    ViolatesClassification => "violates_classification",
    /// 其他不符合要求的情形
    Other => "other",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a ticket that is {from} cannot be {attempted}")]
pub struct TransitionError {
    pub from: TicketState,
    pub attempted: &'static str,
}

impl TicketState {
    pub fn is_open(self) -> bool {
        matches!(self, TicketState::Submitted | TicketState::Returned)
    }

    pub fn accept(self) -> Result<TicketState, TransitionError> {
        match self {
            TicketState::Submitted => Ok(TicketState::Accepted),
            from => Err(TransitionError {
                from,
                attempted: "accepted",
            }),
        }
    }

    /// Returning needs at least one of the four reasons of A11.3; the type makes sure.
    pub fn give_back(self, _reasons: &Reasons) -> Result<TicketState, TransitionError> {
        match self {
            TicketState::Submitted => Ok(TicketState::Returned),
            from => Err(TransitionError {
                from,
                attempted: "returned",
            }),
        }
    }

    pub fn resubmit(self) -> Result<TicketState, TransitionError> {
        match self {
            TicketState::Returned => Ok(TicketState::Submitted),
            from => Err(TransitionError {
                from,
                attempted: "resubmitted",
            }),
        }
    }

    pub fn cancel(self) -> Result<TicketState, TransitionError> {
        match self {
            TicketState::Submitted | TicketState::Returned => Ok(TicketState::Cancelled),
            from => Err(TransitionError {
                from,
                attempted: "cancelled",
            }),
        }
    }
}

/// The reasons a ticket is returned for: never empty, no repeats (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Reasons(Vec<ReturnReason>);

impl Reasons {
    pub fn new(mut reasons: Vec<ReturnReason>) -> Option<Reasons> {
        reasons.sort();
        reasons.dedup();
        if reasons.is_empty() {
            None
        } else {
            Some(Reasons(reasons))
        }
    }

    pub fn as_slice(&self) -> &[ReturnReason] {
        &self.0
    }
}

/// The kind a change is, given the current and proposed open types.
pub fn classify_change(requested: TicketKind, from: OpenType, to: OpenType) -> TicketKind {
    match requested {
        TicketKind::Modify | TicketKind::Retype if from != to => TicketKind::Retype,
        TicketKind::Retype => TicketKind::Modify,
        other => other,
    }
}

/// Whether a change must come with an explanation document (A11.2): a move to a stricter open
/// type, and — by the same intent — taking an open entry off the list.
pub fn needs_document(kind: TicketKind, from: OpenType, to: OpenType) -> bool {
    match kind {
        TicketKind::Retype => from.is_downgrade_to(to),
        TicketKind::Remove => from != OpenType::NotOpen,
        TicketKind::Add | TicketKind::Modify => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use OpenType::*;
    use TicketState::*;

    #[test]
    fn the_state_machine() {
        let reasons = Reasons::new(vec![ReturnReason::Other]).unwrap();
        assert_eq!(Submitted.accept(), Ok(Accepted));
        assert_eq!(Submitted.give_back(&reasons), Ok(Returned));
        assert_eq!(Returned.resubmit(), Ok(Submitted));
        assert_eq!(Returned.cancel(), Ok(Cancelled));
        for done in [Accepted, Cancelled] {
            assert!(done.accept().is_err() && done.give_back(&reasons).is_err());
            assert!(done.resubmit().is_err() && done.cancel().is_err());
            assert!(!done.is_open());
        }
        assert!(Returned.accept().is_err());
        assert!(Submitted.resubmit().is_err());
    }

    #[test]
    fn a_return_needs_a_reason() {
        assert!(Reasons::new(vec![]).is_none());
        let r = Reasons::new(vec![
            ReturnReason::Other,
            ReturnReason::IncompleteInformation,
            ReturnReason::Other,
        ])
        .unwrap();
        assert_eq!(
            r.as_slice(),
            [ReturnReason::IncompleteInformation, ReturnReason::Other]
        );
    }

    #[test]
    fn downgrades_and_removals_need_a_document() {
        assert_eq!(
            classify_change(TicketKind::Modify, Unconditional, Conditional),
            TicketKind::Retype
        );
        assert_eq!(
            classify_change(TicketKind::Modify, Conditional, Conditional),
            TicketKind::Modify
        );
        assert!(needs_document(
            TicketKind::Retype,
            Unconditional,
            Conditional
        ));
        assert!(needs_document(TicketKind::Retype, Conditional, NotOpen));
        assert!(!needs_document(
            TicketKind::Retype,
            Conditional,
            Unconditional
        ));
        assert!(needs_document(
            TicketKind::Remove,
            Unconditional,
            Unconditional
        ));
        assert!(!needs_document(
            TicketKind::Modify,
            Unconditional,
            Unconditional
        ));
    }
}
