//! Closed vocabularies of the open list. Managed vocabularies (domains, formats, glossary) live
//! in the database; these are fixed by the rules themselves.

use crate::names::string_enum as vocab;

vocab!(
    /// 开放类型 (A14). Ordered from most restrictive to most open, so `min` is "stricter".
    OpenType {
        NotOpen => "not_open",
        Conditional => "conditional",
        Unconditional => "unconditional",
    }
);

impl OpenType {
    /// A change to a stricter type: unconditional → conditional, or anything → not open (A11.2).
    pub fn is_downgrade_to(self, to: OpenType) -> bool {
        to < self
    }
}

vocab!(
    /// 更新频率 (A9.1 (五)).
    UpdateFrequency {
        RealTime => "real_time",
        Hourly => "hourly",
        Daily => "daily",
        Weekly => "weekly",
        Monthly => "monthly",
        Quarterly => "quarterly",
        HalfYearly => "half_yearly",
        Yearly => "yearly",
        Irregular => "irregular",
        Static => "static",
    }
);

impl UpdateFrequency {
    /// The longest expected gap between two updates, in days; `None` when no rhythm is promised.
    pub fn max_gap_days(self) -> Option<i64> {
        use UpdateFrequency::*;
        match self {
            RealTime | Hourly | Daily => Some(1),
            Weekly => Some(7),
            Monthly => Some(31),
            Quarterly => Some(92),
            HalfYearly => Some(183),
            Yearly => Some(366),
            Irregular | Static => None,
        }
    }
}

vocab!(
    /// Typed relations between datasets (A9.1 (六)).
    RelationKind {
        SameSubject => "same_subject",
        TimeSeriesContinuation => "time_series_continuation",
        SpatialJoinKey => "spatial_join_key",
        DerivedFrom => "derived_from",
    }
);

vocab!(
    /// The six kinds of open condition of A15.
    ConditionKind {
        Scenario => "scenario",
        SecurityCapability => "security_capability",
        FeedbackDuty => "feedback_duty",
        TechnicalCapability => "technical_capability",
        Credit => "credit",
        Other => "other",
    }
);

vocab!(
    /// Where an entry's data comes from (A10.3): most from a department's information system;
    /// new entries may also come from data kept without one, from information already disclosed,
    /// or from unopened data made openable by de-identification (A12.1).
    EntrySource {
        InformationSystem => "information_system",
        NoInformationSystem => "no_information_system",
        Disclosure => "disclosure",
        Deidentified => "deidentified",
    }
);

// `string_enum!` declares the enum and its derives; Default is the one it does not give.
#[allow(clippy::derivable_impls)]
impl Default for EntrySource {
    fn default() -> Self {
        EntrySource::InformationSystem
    }
}

vocab!(
    /// Where an entry is in its life (A9, A10).
    DatasetStatus {
        Draft => "draft",
        Published => "published",
        Suspended => "suspended",
        Static => "static",
        Withdrawn => "withdrawn",
    }
);

vocab!(
    /// The three groups of A6 that domains belong to.
    DomainGroup {
        Economy => "economy",
        Livelihood => "livelihood",
        CityGovernance => "city_governance",
    }
);

vocab!(
    /// The kinds of field value of a data item.
    FieldType {
        Text => "text",
        Integer => "integer",
        Decimal => "decimal",
        Boolean => "boolean",
        Date => "date",
        DateTime => "datetime",
        Geometry => "geometry",
        Code => "code",
    }
);

/// The 16 districts of Shanghai, with the whole city first: (code, Chinese, English).
pub const SHANGHAI_AREAS: &[(&str, &str, &str)] = &[
    ("shanghai", "上海市", "Shanghai (whole city)"),
    ("huangpu", "黄浦区", "Huangpu"),
    ("xuhui", "徐汇区", "Xuhui"),
    ("changning", "长宁区", "Changning"),
    ("jingan", "静安区", "Jing'an"),
    ("putuo", "普陀区", "Putuo"),
    ("hongkou", "虹口区", "Hongkou"),
    ("yangpu", "杨浦区", "Yangpu"),
    ("minhang", "闵行区", "Minhang"),
    ("baoshan", "宝山区", "Baoshan"),
    ("jiading", "嘉定区", "Jiading"),
    ("pudong", "浦东新区", "Pudong New Area"),
    ("jinshan", "金山区", "Jinshan"),
    ("songjiang", "松江区", "Songjiang"),
    ("qingpu", "青浦区", "Qingpu"),
    ("fengxian", "奉贤区", "Fengxian"),
    ("chongming", "崇明区", "Chongming"),
];

pub fn area(code: &str) -> Option<(&'static str, &'static str, &'static str)> {
    SHANGHAI_AREAS.iter().copied().find(|(c, _, _)| *c == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downgrades_are_moves_to_stricter_types() {
        use OpenType::*;
        assert!(Unconditional.is_downgrade_to(Conditional));
        assert!(Unconditional.is_downgrade_to(NotOpen));
        assert!(Conditional.is_downgrade_to(NotOpen));
        assert!(!Conditional.is_downgrade_to(Unconditional));
        assert!(!NotOpen.is_downgrade_to(Conditional));
        assert!(!Conditional.is_downgrade_to(Conditional));
    }

    #[test]
    fn sixteen_districts_and_the_city() {
        assert_eq!(SHANGHAI_AREAS.len(), 17);
        assert_eq!(area("pudong").unwrap().1, "浦东新区");
    }
}
