//! The personal-information scan of an upload (A14.1, A25.7): every value of every column goes
//! through the detectors while the file is ingested, and at the end each column is judged from
//! the share of its values that hold a kind — a share too large for look-alikes (order
//! numbers, credit codes, timestamps) to reach by chance — read together with what the column
//! is called and what the rest of the rows hold: an address, a landline or a precise point is
//! someone's when the column says "home" or the rows also identify people.

use domain::openlist::dataset::DataItem;
use domain::openlist::rules::ValueCheck;
use domain::openlist::vocab::FieldType;
use domain::privacy::{DeidRule, PiKind, PrivacyPlan};
use serde::{Deserialize, Serialize};

use super::detect::{Hit, decimals, detect};

/// Example rows kept per column and kind.
pub const EXAMPLES: usize = 5;
/// Digits after the point from which a coordinate places a door rather than a street
/// (four decimals of a degree: about ten metres).
pub const PRECISE_DECIMALS: usize = 4;

/// A kind of personal information found in a column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PiFinding {
    /// The data item's field name.
    pub item: String,
    /// The file's header for it.
    pub header: String,
    pub kind: PiKind,
    /// Values in the column, and those holding the kind.
    pub values: u64,
    pub count: u64,
    /// `count / values`, 0–1.
    pub share: f64,
    /// Lines of the file (the header is line 1) with the value masked.
    pub examples: Vec<PiExample>,
    /// How it is dealt with: the item's de-identification rule, or an operator's exception.
    pub handled: Option<Handling>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PiExample {
    pub line: u64,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Handling {
    /// The item's rule, by its code.
    Rule { rule: String },
    /// An operator let the kind be opened in this item, for a reason on record.
    Exception,
}

/// What the scan found, kept with the version's quality report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PiReport {
    pub findings: Vec<PiFinding>,
    /// Findings neither a rule nor an exception deals with.
    pub unhandled: u64,
    /// Whether the unhandled findings stop the version (unconditional data).
    pub blocks: bool,
}

impl PiReport {
    pub fn refuses(&self) -> bool {
        self.blocks && self.unhandled > 0
    }
}

/// What the privacy guard applies to an ingestion.
#[derive(Debug, Clone, Default)]
pub struct PrivacyOptions {
    pub plan: PrivacyPlan,
    /// The secret of the entry's pseudonyms.
    pub secret: Vec<u8>,
    /// (item, kind) an operator allowed to be opened.
    pub exceptions: Vec<(String, PiKind)>,
    /// Whether unhandled personal information refuses the version.
    pub block: bool,
}

#[derive(Debug, Clone, Default)]
struct KindCount {
    strong: u64,
    weak: u64,
    examples: Vec<PiExample>,
}

#[derive(Debug, Clone)]
struct ColumnScan {
    values: u64,
    kinds: Vec<KindCount>,
    /// For coordinates: values written to the door.
    precise: u64,
    precise_examples: Vec<PiExample>,
    coordinate: bool,
    /// Whether a value of the column's type can be any kind the detectors look for: a date,
    /// a time or a yes/no cannot, and is counted without being looked at (a cell that is not
    /// of the type is a wrong-typed finding, and never written to the version).
    detected: bool,
}

/// One data item's scan, fed that item's values.
pub struct ScanLane<'s> {
    column: &'s mut ColumnScan,
    hits: Vec<Hit>,
}

impl ScanLane<'_> {
    /// Scans the value `cell` (trimmed, not empty), found at `line`.
    pub fn cell(&mut self, line: u64, cell: &str) {
        self.column.cell(line, cell, &mut self.hits);
    }
}

impl ColumnScan {
    fn cell(&mut self, line: u64, cell: &str, hits: &mut Vec<Hit>) {
        self.values += 1;
        if self.coordinate {
            let precise = match crate::cells::point(cell) {
                Some(_) => {
                    let inner = cell.trim_end_matches(')');
                    inner
                        .split_whitespace()
                        .all(|part| decimals(part) >= PRECISE_DECIMALS)
                }
                None => decimals(cell) >= PRECISE_DECIMALS,
            };
            if precise {
                self.precise += 1;
                if self.precise_examples.len() < EXAMPLES {
                    self.precise_examples.push(PiExample {
                        line,
                        value: masked(cell),
                    });
                }
            }
            return;
        }
        if !self.detected {
            return;
        }
        detect(cell, hits);
        for hit in hits.iter() {
            let count = &mut self.kinds[index(hit.kind)];
            if hit.strong {
                count.strong += 1;
            } else {
                count.weak += 1;
            }
            if count.examples.len() < EXAMPLES {
                count.examples.push(PiExample {
                    line,
                    value: masked(cell),
                });
            }
        }
    }
}

/// The scan of one ingestion: fed each item's cells through its lane ([`Scanner::lanes`]),
/// judged at the end.
pub struct Scanner {
    columns: Vec<ColumnScan>,
}

fn index(kind: PiKind) -> usize {
    PiKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

/// A value as shown in the report: most characters hidden.
pub fn masked(value: &str) -> String {
    let chars: Vec<char> = value.chars().take(64).collect();
    let n = chars.len();
    let (head, tail) = ((n / 4).min(3), (n / 4).min(2));
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < head || i >= n - tail { *c } else { '*' })
        .collect()
}

impl Scanner {
    pub fn new(items: &[DataItem]) -> Self {
        Scanner {
            columns: items
                .iter()
                .map(|d| ColumnScan {
                    values: 0,
                    kinds: vec![KindCount::default(); PiKind::ALL.len()],
                    precise: 0,
                    precise_examples: Vec::new(),
                    coordinate: is_coordinate(d),
                    detected: !matches!(
                        d.field_type,
                        FieldType::Date | FieldType::DateTime | FieldType::Boolean
                    ),
                })
                .collect(),
        }
    }

    /// Each item's scan on its own, in the items' order, for scanning them side by side.
    pub fn lanes(&mut self) -> Vec<ScanLane<'_>> {
        self.columns
            .iter_mut()
            .map(|column| ScanLane {
                column,
                hits: Vec::new(),
            })
            .collect()
    }

    /// Judges each column. `headers` are the file's headers of the items (empty when absent).
    pub fn finish(
        self,
        items: &[DataItem],
        headers: &[String],
        options: &PrivacyOptions,
    ) -> PiReport {
        let contexts: Vec<Context> = items.iter().map(Context::of).collect();
        let mut findings: Vec<PiFinding> = Vec::new();
        let finding = |p: usize, kind, count: u64, examples: &[PiExample]| {
            let values = self.columns[p].values;
            PiFinding {
                item: items[p].name.clone(),
                header: headers.get(p).cloned().unwrap_or_default(),
                kind,
                values,
                count,
                share: if values == 0 {
                    0.0
                } else {
                    count as f64 / values as f64
                },
                examples: examples.to_vec(),
                handled: None,
            }
        };
        // Direct identifiers first: they decide whether the rows are about people.
        for (p, column) in self.columns.iter().enumerate() {
            if column.values == 0 {
                continue;
            }
            for &kind in PiKind::ALL {
                if needs_people(kind) {
                    continue;
                }
                let c = &column.kinds[index(kind)];
                if contexts[p].flags(kind, c.strong, c.weak, column.values) {
                    findings.push(finding(p, kind, c.strong + c.weak, &c.examples));
                }
            }
        }
        let about_people = findings.iter().any(|f| f.kind != PiKind::Email);
        for (p, column) in self.columns.iter().enumerate() {
            if column.values == 0 {
                continue;
            }
            let context = &contexts[p];
            let personal = about_people || context.home;
            for &kind in PiKind::ALL {
                if !needs_people(kind) || !personal {
                    continue;
                }
                if kind == PiKind::HomeLocation {
                    let share = column.precise as f64 / column.values as f64;
                    if column.coordinate && share >= 0.5 {
                        findings.push(finding(p, kind, column.precise, &column.precise_examples));
                    }
                    continue;
                }
                let c = &column.kinds[index(kind)];
                if context.flags(kind, c.strong, c.weak, column.values) {
                    findings.push(finding(p, kind, c.strong + c.weak, &c.examples));
                }
            }
        }
        findings.sort_by_key(|f| (items.iter().position(|d| d.name == f.item), index(f.kind)));
        for f in &mut findings {
            f.handled = handling(f, options);
        }
        let unhandled = findings.iter().filter(|f| f.handled.is_none()).count() as u64;
        PiReport {
            findings,
            unhandled,
            blocks: options.block,
        }
    }
}

/// How a finding is dealt with under `options`.
fn handling(f: &PiFinding, options: &PrivacyOptions) -> Option<Handling> {
    if let Some(rule) = options.plan.rules.get(&f.item) {
        let deals = match rule {
            DeidRule::Suppress | DeidRule::Mask { .. } | DeidRule::Pseudonym => true,
            DeidRule::AddressTo { .. } => f.kind == PiKind::Address,
            DeidRule::Grid { metres } => f.kind == PiKind::HomeLocation && *metres >= 100,
            _ => false,
        };
        if deals {
            return Some(Handling::Rule {
                rule: rule.code().to_owned(),
            });
        }
    }
    options
        .exceptions
        .iter()
        .any(|(item, kind)| *item == f.item && *kind == f.kind)
        .then_some(Handling::Exception)
}

/// Kinds that are personal only in rows about people (or where the column says "home").
fn needs_people(kind: PiKind) -> bool {
    matches!(
        kind,
        PiKind::Address | PiKind::Landline | PiKind::HomeLocation
    )
}

fn is_coordinate(d: &DataItem) -> bool {
    match d.field_type {
        FieldType::Geometry => true,
        FieldType::Decimal => {
            matches!(
                d.rules.check,
                Some(ValueCheck::Longitude | ValueCheck::Latitude)
            ) || Context::words(d, &["经度", "纬度", "lng", "lon", "lat", "坐标"])
        }
        _ => false,
    }
}

/// What a column's field name and label say about it.
struct Context {
    /// Words naming each kind.
    named: Vec<bool>,
    /// The column numbers things (orders, serials, codes), and no kind's word says otherwise.
    serial: bool,
    /// The column is about where someone lives.
    home: bool,
}

const SERIAL_LABELS: &[&str] = &[
    "订单", "单号", "编号", "流水", "序号", "批次", "代码", "编码", "order", "serial", "code",
    "_no", "number", "seq",
];
const HOME_LABELS: &[&str] = &[
    "住址", "住所", "居住", "家庭", "户籍", "家住", "现住", "常住", "home", "residen",
];

fn kind_labels(kind: PiKind) -> &'static [&'static str] {
    match kind {
        PiKind::ResidentId => &[
            "身份证",
            "证件号",
            "id_card",
            "idcard",
            "id_no",
            "id_number",
        ],
        PiKind::Mobile | PiKind::Landline => {
            &["电话", "手机", "联系方式", "phone", "mobile", "tel"]
        }
        PiKind::Email => &["邮箱", "邮件", "email", "mail"],
        PiKind::BankCard => &["卡号", "银行", "账号", "帐号", "card", "account"],
        PiKind::Passport => &["护照", "passport"],
        PiKind::TravelPermit => &["通行证", "台胞证", "permit"],
        PiKind::LicencePlate => &["车牌", "号牌", "plate"],
        PiKind::PersonName => &[
            "姓名",
            "名字",
            "联系人",
            "法定代表人",
            "法人代表",
            "负责人",
            "申请人",
            "户主",
            "患者",
            "病人",
            "学生",
            "员工",
            "职工",
            "业主",
            "驾驶员",
            "司机",
            "当事人",
            "person",
            "full_name",
            "contact",
            "owner",
            "patient",
            "applicant",
        ],
        PiKind::Address => &["地址", "住址", "address", "addr"],
        PiKind::HomeLocation => &["经度", "纬度", "坐标", "位置", "location"],
    }
}

/// Shares of a column's values above which look-alikes cannot explain the kind, when nothing
/// in the column's name says what it holds.
fn unnamed_share(kind: PiKind) -> f64 {
    match kind {
        // Random 16–19-digit numbers pass the Luhn check and a scheme prefix about 2 % of
        // the time; a column of cards passes every time.
        PiKind::BankCard => 0.5,
        PiKind::PersonName => 0.6,
        _ => 0.2,
    }
}

/// Strong hits (check characters, words beside numbers) are evidence from this share on.
const STRONG_SHARE: f64 = 0.001;
/// With the column named for the kind, this share suffices.
const NAMED_SHARE: f64 = 0.01;

impl Context {
    fn words(d: &DataItem, words: &[&str]) -> bool {
        let name = d.name.to_ascii_lowercase();
        words
            .iter()
            .any(|w| name.contains(w) || d.label.contains(w))
    }

    fn of(d: &DataItem) -> Context {
        let named: Vec<bool> = PiKind::ALL
            .iter()
            .map(|k| Context::words(d, kind_labels(*k)))
            .collect();
        Context {
            serial: Context::words(d, SERIAL_LABELS) && !named.iter().any(|n| *n),
            home: Context::words(d, HOME_LABELS),
            named,
        }
    }

    fn flags(&self, kind: PiKind, strong: u64, weak: u64, values: u64) -> bool {
        let count = strong + weak;
        if count == 0 || values == 0 {
            return false;
        }
        let numeric = matches!(
            kind,
            PiKind::Mobile
                | PiKind::Landline
                | PiKind::BankCard
                | PiKind::Passport
                | PiKind::TravelPermit
        );
        if self.serial && numeric && strong == 0 {
            return false;
        }
        let share = count as f64 / values as f64;
        (strong > 0 && strong as f64 / values as f64 >= STRONG_SHARE)
            || (self.named[index(kind)] && share >= NAMED_SHARE)
            || share >= unnamed_share(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_hide_most_of_themselves() {
        assert_eq!(masked("11010519491231002X"), "110*************2X");
        assert_eq!(masked("张伟"), "**");
        assert_eq!(masked("13812345678"), "13*******78");
    }
}
