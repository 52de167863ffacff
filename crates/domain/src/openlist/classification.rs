//! The classification guide (分级分类指南, A13) and grading (A13.2, A14).
//!
//! A guide has dimensions; each dimension has levels; each level names the most open type it
//! allows. A grading picks one level per dimension, and the levels combine by "most restrictive
//! wins": the permitted open type is the strictest of the chosen levels' types. That is A14
//! read literally: anything that must not open makes the data non-open; else anything that
//! needs conditions makes it conditional; everything else is unconditional. Each level also
//! carries the open conditions it suggests and the safeguards it asks for, and the guide's
//! examples are checked against its own rule whenever a guide is loaded.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::vocab::{ConditionKind, OpenType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guide {
    pub title_zh: String,
    pub title_en: String,
    #[serde(default)]
    pub method_zh: String,
    pub dimensions: Vec<Dimension>,
    #[serde(default)]
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub description_zh: String,
    pub levels: Vec<Level>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The most open type data at this level may have.
    pub open_type: OpenType,
    /// Open conditions this level calls for (A13 (三), A15), suggested to the provider.
    #[serde(default)]
    pub conditions: Vec<SuggestedCondition>,
    /// Risk controls and safeguards for this level (A13 (一)).
    #[serde(default)]
    pub measures_zh: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuggestedCondition {
    pub kind: ConditionKind,
    pub text_zh: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub title_zh: String,
    pub levels: BTreeMap<String, String>,
    pub open_type: OpenType,
    #[serde(default)]
    pub explanation_zh: String,
}

/// A level chosen for each dimension, by dimension code.
pub type Grading = BTreeMap<String, String>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuideError {
    #[error("the guide is not valid TOML: {0}")]
    Syntax(String),
    #[error("the guide has no dimensions")]
    NoDimensions,
    #[error("dimension {0:?} appears twice")]
    DuplicateDimension(String),
    #[error("dimension {0:?} has no levels")]
    NoLevels(String),
    #[error("level {1:?} appears twice in dimension {0:?}")]
    DuplicateLevel(String, String),
    #[error("codes are lower-case letters, digits and underscores: {0:?}")]
    BadCode(String),
    #[error("example {0:?}: {1}")]
    Example(String, GradingError),
    #[error("example {title:?} says {stated} but the guide gives {computed}")]
    ExampleDisagrees {
        title: String,
        stated: OpenType,
        computed: OpenType,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum GradingError {
    #[error("no level chosen for dimension {dimension:?}")]
    MissingDimension { dimension: String },
    #[error("unknown dimension {dimension:?}")]
    UnknownDimension { dimension: String },
    #[error("dimension {dimension:?} has no level {level:?}")]
    UnknownLevel { dimension: String, level: String },
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Guide {
    /// Parses and checks a guide, including that every example agrees with the rule.
    pub fn from_toml(text: &str) -> Result<Guide, GuideError> {
        let guide: Guide = toml::from_str(text).map_err(|e| GuideError::Syntax(e.to_string()))?;
        guide.check()?;
        Ok(guide)
    }

    /// The default guide shipped with Kaifang: A14's three categories crossed with the general /
    /// important / core levels of GB/T 43697-2024.
    pub fn default_guide() -> Guide {
        Guide::from_toml(DEFAULT_GUIDE_TOML).expect("the bundled guide is valid")
    }

    fn check(&self) -> Result<(), GuideError> {
        if self.dimensions.is_empty() {
            return Err(GuideError::NoDimensions);
        }
        let mut seen = std::collections::BTreeSet::new();
        for d in &self.dimensions {
            if !valid_code(&d.code) {
                return Err(GuideError::BadCode(d.code.clone()));
            }
            if !seen.insert(&d.code) {
                return Err(GuideError::DuplicateDimension(d.code.clone()));
            }
            if d.levels.is_empty() {
                return Err(GuideError::NoLevels(d.code.clone()));
            }
            let mut levels = std::collections::BTreeSet::new();
            for l in &d.levels {
                if !valid_code(&l.code) {
                    return Err(GuideError::BadCode(l.code.clone()));
                }
                if !levels.insert(&l.code) {
                    return Err(GuideError::DuplicateLevel(d.code.clone(), l.code.clone()));
                }
            }
        }
        for ex in &self.examples {
            let computed = self
                .permitted_open_type(&ex.levels)
                .map_err(|e| GuideError::Example(ex.title_zh.clone(), e))?;
            if computed != ex.open_type {
                return Err(GuideError::ExampleDisagrees {
                    title: ex.title_zh.clone(),
                    stated: ex.open_type,
                    computed,
                });
            }
        }
        Ok(())
    }

    fn level(&self, dimension: &str, level: &str) -> Result<&Level, GradingError> {
        let d = self
            .dimensions
            .iter()
            .find(|d| d.code == dimension)
            .ok_or_else(|| GradingError::UnknownDimension {
                dimension: dimension.to_owned(),
            })?;
        d.levels
            .iter()
            .find(|l| l.code == level)
            .ok_or_else(|| GradingError::UnknownLevel {
                dimension: dimension.to_owned(),
                level: level.to_owned(),
            })
    }

    /// Every problem with a grading: unknown dimensions or levels, dimensions left out.
    pub fn check_grading(&self, grading: &Grading) -> Vec<GradingError> {
        let mut errors = Vec::new();
        for (dim, level) in grading {
            if let Err(e) = self.level(dim, level) {
                errors.push(e);
            }
        }
        for d in &self.dimensions {
            if !grading.contains_key(&d.code) {
                errors.push(GradingError::MissingDimension {
                    dimension: d.code.clone(),
                });
            }
        }
        errors
    }

    /// The open type a complete grading permits: the strictest of its levels' types.
    pub fn permitted_open_type(&self, grading: &Grading) -> Result<OpenType, GradingError> {
        if let Some(e) = self.check_grading(grading).into_iter().next() {
            return Err(e);
        }
        let strictest = self
            .dimensions
            .iter()
            .map(|d| self.level(&d.code, &grading[&d.code]).map(|l| l.open_type))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or(OpenType::NotOpen);
        Ok(strictest)
    }

    /// The open conditions the chosen levels suggest, in dimension order, without repeats.
    pub fn suggested_conditions(&self, grading: &Grading) -> Vec<SuggestedCondition> {
        let mut out: Vec<SuggestedCondition> = Vec::new();
        for d in &self.dimensions {
            if let Some(Ok(level)) = grading.get(&d.code).map(|l| self.level(&d.code, l)) {
                for c in &level.conditions {
                    if !out.contains(c) {
                        out.push(c.clone());
                    }
                }
            }
        }
        out
    }
}

pub const DEFAULT_GUIDE_TOML: &str = include_str!("../../guides/default.toml");

#[cfg(test)]
mod tests {
    use super::*;

    fn grading(pairs: &[(&str, &str)]) -> Grading {
        pairs
            .iter()
            .map(|(d, l)| (d.to_string(), l.to_string()))
            .collect()
    }

    fn benign() -> Grading {
        grading(&[
            ("security_level", "general"),
            ("personal_information", "none"),
            ("trade_secret", "none"),
            ("legal_restriction", "none"),
            ("processing_demand", "ordinary"),
            ("access_pattern", "one_off"),
        ])
    }

    #[test]
    fn the_default_guide_follows_article_14() {
        let g = Guide::default_guide();
        assert_eq!(
            g.permitted_open_type(&benign()),
            Ok(OpenType::Unconditional)
        );

        let mut continuous = benign();
        continuous.insert("access_pattern".into(), "continuous".into());
        assert_eq!(
            g.permitted_open_type(&continuous),
            Ok(OpenType::Conditional)
        );

        let mut personal = continuous.clone();
        personal.insert("personal_information".into(), "identifiable".into());
        assert_eq!(g.permitted_open_type(&personal), Ok(OpenType::NotOpen));

        // De-identified personal information may open (A14 (一)), as the rest allows.
        let mut deid = benign();
        deid.insert("personal_information".into(), "deidentified".into());
        assert_eq!(g.permitted_open_type(&deid), Ok(OpenType::Unconditional));

        let mut core = benign();
        core.insert("security_level".into(), "core".into());
        assert_eq!(g.permitted_open_type(&core), Ok(OpenType::NotOpen));
    }

    #[test]
    fn incomplete_or_unknown_gradings_are_refused_with_every_problem() {
        let g = Guide::default_guide();
        let errors = g.check_grading(&grading(&[("security_level", "secret"), ("colour", "red")]));
        assert!(errors.contains(&GradingError::UnknownLevel {
            dimension: "security_level".into(),
            level: "secret".into()
        }));
        assert!(errors.contains(&GradingError::UnknownDimension {
            dimension: "colour".into()
        }));
        assert!(errors.contains(&GradingError::MissingDimension {
            dimension: "trade_secret".into()
        }));
    }

    #[test]
    fn a_guide_whose_example_contradicts_its_rule_is_refused() {
        let broken = DEFAULT_GUIDE_TOML.replacen(
            "open_type = \"not_open\"\nexplanation_zh",
            "open_type = \"unconditional\"\nexplanation_zh",
            1,
        );
        assert!(matches!(
            Guide::from_toml(&broken),
            Err(GuideError::ExampleDisagrees { .. })
        ));
        assert!(matches!(
            Guide::from_toml("dimensions = []\ntitle_zh=\"x\"\ntitle_en=\"x\""),
            Err(GuideError::NoDimensions)
        ));
        assert!(matches!(
            Guide::from_toml("not toml ["),
            Err(GuideError::Syntax(_))
        ));
    }

    #[test]
    fn conditional_levels_suggest_conditions() {
        let g = Guide::default_guide();
        let mut continuous = benign();
        continuous.insert("access_pattern".into(), "continuous".into());
        let kinds: Vec<ConditionKind> = g
            .suggested_conditions(&continuous)
            .iter()
            .map(|c| c.kind)
            .collect();
        assert!(
            kinds.contains(&ConditionKind::TechnicalCapability),
            "{kinds:?}"
        );
    }
}
