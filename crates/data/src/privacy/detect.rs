//! What one value holds that may be personal information. Each detector answers for a single
//! cell, quickly: most cells are rejected by their length and the kinds of character they hold
//! before any check runs. Whether a column holds personal information is decided from these
//! answers over all its values, in [`super::scan`].

use domain::privacy::PiKind;

/// A detection in one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub kind: PiKind,
    /// The value is this kind beyond doubt (a check character, an e-mail address, a number
    /// next to a word that names it), not merely shaped like it.
    pub strong: bool,
}

/// The kinds found in `cell` (trimmed, non-empty), at most one hit per kind, into `out`.
pub fn detect(cell: &str, out: &mut Vec<Hit>) {
    out.clear();
    let bytes = cell.as_bytes();
    // Counted in 32 bits and flagged by or-ing bytes, so the loop takes many bytes at a time.
    let (mut digits, mut at, mut high, mut upper) = (0u32, false, 0u8, false);
    for &b in bytes {
        digits += u32::from(b.is_ascii_digit());
        at |= b == b'@';
        high |= b;
        upper |= b.is_ascii_uppercase();
    }
    let (digits, ascii) = (digits as usize, high.is_ascii());
    if at && let Some(hit) = email(cell) {
        push(out, hit);
    }
    if digits >= 7 {
        numbers(cell, ascii, digits, out);
    }
    if ascii {
        if (8..=11).contains(&bytes.len()) && digits >= 7 {
            documents(cell, out);
        }
        return;
    }
    if digits >= 1
        && let Some(hit) = address(cell)
    {
        push(out, hit);
    }
    // A plate's province is followed by a capital letter: without one, no cell is a plate.
    if upper && let Some(hit) = licence_plate(cell) {
        push(out, hit);
    }
    if digits == 0 && person_name(cell) {
        push(
            out,
            Hit {
                kind: PiKind::PersonName,
                strong: false,
            },
        );
    }
}

fn push(out: &mut Vec<Hit>, hit: Hit) {
    match out.iter_mut().find(|h| h.kind == hit.kind) {
        Some(h) => h.strong |= hit.strong,
        None => out.push(hit),
    }
}

/// Words that, just before a number, say what it is.
const PHONE_WORDS: &[&str] = &["电话", "手机", "联系方式", "tel", "Tel", "TEL", "致电"];
const CARD_WORDS: &[&str] = &["卡号", "银行卡", "账号", "帐号"];
const ID_WORDS: &[&str] = &["身份证", "证件号"];
/// Words that say a number is not a person's: order and serial numbers.
const SERIAL_WORDS: &[&str] = &["订单", "单号", "编号", "流水", "序号", "批次", "No.", "NO."];

fn said_before(cell: &str, at: usize, words: &[&str]) -> bool {
    let from = cell.floor_char_boundary(at.saturating_sub(18));
    let before = &cell[from..at];
    words.iter().any(|w| before.contains(w))
}

/// Numbers: resident ID numbers, mobile and landline numbers, bank cards. A whole cell that
/// is the number (spaces and dashes allowed in phones and cards) or a number among words.
fn numbers(cell: &str, ascii: bool, digits: usize, out: &mut Vec<Hit>) {
    // The whole cell, read as one number.
    if ascii && cell.len() <= 24 {
        let mut compact = [0u8; 24];
        let mut n = 0;
        let mut only_digits_and_separators = true;
        let mut plus = false;
        for (i, &b) in cell.as_bytes().iter().enumerate() {
            match b {
                b'0'..=b'9' => {
                    compact[n] = b;
                    n += 1;
                }
                b'X' | b'x' if i == cell.len() - 1 => {
                    compact[n] = b'X';
                    n += 1;
                }
                b' ' | b'-' => {}
                b'+' if i == 0 => plus = true,
                b'(' | b')' => {}
                // Most cells with digits (codes, amounts, coordinates) stop being one
                // number at their first other character.
                _ => {
                    only_digits_and_separators = false;
                    break;
                }
            }
        }
        if only_digits_and_separators {
            let number = &compact[..n];
            whole_number(number, plus, out);
            return;
        }
    }
    // Digit runs among other characters.
    if digits < 11 {
        return;
    }
    let bytes = cell.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let mut end = i;
        if i < bytes.len() && (bytes[i] == b'X' || bytes[i] == b'x') && end - start == 17 {
            end += 1;
            i += 1;
        }
        // A run glued to letters is a code, not a number on its own.
        let glued = (start > 0 && bytes[start - 1].is_ascii_alphabetic())
            || (end < bytes.len() && bytes[end].is_ascii_alphabetic());
        if glued {
            continue;
        }
        let run = &bytes[start..end];
        // Looked for only when a run has a shape worth it (most runs are not).
        let serial = || said_before(cell, start, SERIAL_WORDS);
        match run.len() {
            // Among words an identifier is one; an order number says so before it.
            18 if resident_id(run) && !serial() => push(
                out,
                Hit {
                    kind: PiKind::ResidentId,
                    strong: !ascii || said_before(cell, start, ID_WORDS),
                },
            ),
            11 if mobile(run) && !serial() => push(
                out,
                Hit {
                    kind: PiKind::Mobile,
                    strong: said_before(cell, start, PHONE_WORDS) || !ascii && start > 0,
                },
            ),
            15..=19 if bank_card(run) && !serial() => push(
                out,
                Hit {
                    kind: PiKind::BankCard,
                    strong: said_before(cell, start, CARD_WORDS),
                },
            ),
            _ => {}
        }
    }
    if let Some(hit) = landline_in(cell) {
        push(out, hit);
    }
}

fn whole_number(number: &[u8], plus: bool, out: &mut Vec<Hit>) {
    let n = if let Some(rest) = number.strip_prefix(b"0086") {
        rest
    } else if plus && let Some(rest) = number.strip_prefix(b"86") {
        rest
    } else {
        number
    };
    let weak = |kind| Hit {
        kind,
        strong: false,
    };
    match n.len() {
        // About one random 18-digit number in a thousand passes the checks: a value on its
        // own is evidence only as part of a column of them.
        18 if resident_id(n) => push(out, weak(PiKind::ResidentId)),
        11 if mobile(n) => push(out, weak(PiKind::Mobile)),
        _ => {}
    }
    if (15..=19).contains(&n.len()) && bank_card(n) {
        push(out, weak(PiKind::BankCard));
    }
    if n.first() == Some(&b'0') && (10..=12).contains(&n.len()) && landline_digits(n) {
        push(out, weak(PiKind::Landline));
    }
}

/// 18 characters: 17 digits and a check character (GB 11643), a real birth date between 1900
/// and 2100, a first digit that is a region's.
pub fn resident_id(n: &[u8]) -> bool {
    if n.len() != 18 || !n[..17].iter().all(u8::is_ascii_digit) || n[0] == b'0' {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let sum: u32 = n[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    if n[17].to_ascii_uppercase() != CHECK[(sum % 11) as usize] {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        n[r].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (y, m, d) = (num(6..10), num(10..12), num(12..14));
    (1900..=2100).contains(&y) && chrono::NaiveDate::from_ymd_opt(y as i32, m, d).is_some()
}

/// 11 digits: 1, then a carrier's second digit (3–9).
fn mobile(n: &[u8]) -> bool {
    n.len() == 11 && n[0] == b'1' && (b'3'..=b'9').contains(&n[1])
}

/// 15 to 19 digits with a right Luhn check digit and a card scheme's prefix (UnionPay 62,
/// Visa 4, Mastercard 51–55 and 22–27, American Express 34 and 37, JCB 35, Discover 60 and
/// 65).
fn bank_card(n: &[u8]) -> bool {
    if !n.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let prefix = (n[0] - b'0') * 10 + (n[1] - b'0');
    let scheme = matches!(prefix, 62 | 40..=49 | 51..=55 | 22..=27 | 34 | 37 | 35 | 60 | 65);
    if !scheme {
        return false;
    }
    let mut sum = 0u32;
    for (i, d) in n.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// A landline's digits: 0, an area code, a local number of 7 or 8 digits (10–12 in all).
fn landline_digits(n: &[u8]) -> bool {
    if n[0] != b'0' || n.get(1) == Some(&b'0') || !n.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // Beijing, Shanghai, Tianjin, Chongqing and the big cities have 3-digit area codes
    // (010, 02x); the rest have 4.
    let area = if n[1] == b'1' || n[1] == b'2' { 3 } else { 4 };
    (7..=8).contains(&(n.len() - area))
}

/// `0xx-xxxxxxxx` among words.
fn landline_in(cell: &str) -> Option<Hit> {
    let bytes = cell.as_bytes();
    let mut i = 0;
    while let Some(off) = bytes[i..].iter().position(|&b| b == b'-') {
        let dash = i + off;
        i = dash + 1;
        let start = bytes[..dash]
            .iter()
            .rposition(|b| !b.is_ascii_digit())
            .map_or(0, |p| p + 1);
        let end = bytes[dash + 1..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |p| dash + 1 + p);
        if dash - start < 3 || end - dash - 1 < 7 {
            continue;
        }
        let mut n = bytes[start..dash].to_vec();
        n.extend_from_slice(&bytes[dash + 1..end]);
        if landline_digits(&n) && !said_before(cell, start, SERIAL_WORDS) {
            return Some(Hit {
                kind: PiKind::Landline,
                strong: said_before(cell, start, PHONE_WORDS),
            });
        }
    }
    None
}

/// `local@domain.tld`.
fn email(cell: &str) -> Option<Hit> {
    let at = cell.find('@')?;
    let local = cell[..at]
        .rsplit(|c: char| !(c.is_ascii_alphanumeric() || "._%+-".contains(c)))
        .next()?;
    let domain = cell[at + 1..]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .next()?;
    let (host, tld) = domain.trim_end_matches('.').rsplit_once('.')?;
    let ok = !local.is_empty()
        && !host.is_empty()
        && tld.len() >= 2
        && tld.bytes().all(|b| b.is_ascii_alphabetic());
    ok.then_some(Hit {
        kind: PiKind::Email,
        strong: true,
    })
}

/// Passport and travel permit numbers, a whole cell of 8 to 11 characters: passports E or G
/// and 8 digits (or E, a letter, 7 digits); permits for Hong Kong and Macao residents H or M
/// and 8 or 10 digits, for mainland residents to Hong Kong and Macao C, a letter or digit and
/// 7 digits.
fn documents(cell: &str, out: &mut Vec<Hit>) {
    let b = cell.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let letter = |c: u8| c.is_ascii_uppercase() && c != b'I' && c != b'O';
    let weak = |kind| Hit {
        kind,
        strong: false,
    };
    match (b[0].to_ascii_uppercase(), b.len()) {
        (b'E' | b'G', 9) if digits(&b[1..]) => push(out, weak(PiKind::Passport)),
        (b'E', 9) if letter(b[1]) && digits(&b[2..]) => push(out, weak(PiKind::Passport)),
        (b'H' | b'M', 9 | 11) if digits(&b[1..]) => push(out, weak(PiKind::TravelPermit)),
        (b'C', 9) if (letter(b[1]) || b[1].is_ascii_digit()) && digits(&b[2..]) => {
            push(out, weak(PiKind::TravelPermit))
        }
        _ => {}
    }
}

/// The one-character names of the provinces that begin a licence plate.
const PLATE_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// A vehicle plate: a province, a letter, then 5 (6 for new-energy vehicles) letters or
/// digits, optionally after a dot or a space; as the cell or among words.
fn licence_plate(cell: &str) -> Option<Hit> {
    for (i, c) in cell.char_indices() {
        if !PLATE_PROVINCES.contains(c) {
            continue;
        }
        let rest = &cell[i + c.len_utf8()..];
        let mut it = rest.chars();
        let Some(l) = it.next() else { continue };
        if !(l.is_ascii_uppercase() && l != 'I' && l != 'O') {
            continue;
        }
        let tail: String = it
            .clone()
            .skip_while(|c| *c == '·' || *c == ' ' || *c == '•')
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let digits = tail.bytes().filter(u8::is_ascii_digit).count();
        let shape = (tail.len() == 5 || tail.len() == 6)
            && digits >= 3
            && tail
                .bytes()
                .all(|b| b.is_ascii_digit() || (b.is_ascii_uppercase() && b != b'I' && b != b'O'));
        if shape {
            return Some(Hit {
                kind: PiKind::LicencePlate,
                strong: false,
            });
        }
    }
    None
}

/// The most common single-character family names.
const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝洪鞠封储陶钮裘卓";
/// Two-character family names.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "百里",
];
/// Last characters that make a word a place, an organisation or a thing, not a name.
const NOT_NAME_ENDINGS: &str = "区县市省镇乡村路街巷弄号楼室园馆院所站局委厅处科司店厂场校队社港湾桥岛湖海城州厦寺庙塔线色型类级期款费税率额量数段队组部门业";

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// A Chinese personal name as the whole cell: a family name and one or two given characters.
fn person_name(cell: &str) -> bool {
    // Han characters take three bytes each in UTF-8: a longer or shorter cell is no name.
    if !(6..=12).contains(&cell.len()) {
        return false;
    }
    let n = cell.chars().count();
    if !(2..=4).contains(&n) || !cell.chars().all(is_han) {
        return false;
    }
    let last = cell.chars().last().unwrap_or(' ');
    if NOT_NAME_ENDINGS_SET.contains(last) {
        return false;
    }
    let first = cell.chars().next().unwrap_or(' ');
    if COMPOUND_FIRSTS.contains(first)
        && let Some(c) = COMPOUND_SURNAMES.iter().find(|s| cell.starts_with(**s))
    {
        return (3..=4).contains(&n) && !c.is_empty();
    }
    n <= 3 && SURNAMES_SET.contains(first)
}

/// The characters of a list of Han characters (U+4E00 to U+9FFF), a bit each: the checks above
/// run for every short cell of Chinese text, where searching the list's bytes, or hashing into
/// a set, costs many times more. Made when the program is compiled: a list with any other
/// character does not compile.
struct HanSet([u64; HAN_WORDS]);

const HAN_FIRST: u32 = 0x4E00;
const HAN_WORDS: usize = (0x9FFF - HAN_FIRST as usize) / 64 + 1;

impl HanSet {
    const fn of(list: &str) -> Self {
        let b = list.as_bytes();
        let mut set = HanSet([0; HAN_WORDS]);
        let mut i = 0;
        while i < b.len() {
            set.add(b, i);
            i += 3;
        }
        set
    }

    /// The first characters of the words of `list`.
    const fn firsts(list: &[&str]) -> Self {
        let mut set = HanSet([0; HAN_WORDS]);
        let mut w = 0;
        while w < list.len() {
            set.add(list[w].as_bytes(), 0);
            w += 1;
        }
        set
    }

    /// Adds the character at byte `i` of `b`.
    const fn add(&mut self, b: &[u8], i: usize) {
        // Every character of the range takes three bytes in UTF-8: 1110xxxx 10xxxxxx 10xxxxxx.
        assert!(b[i] & 0xF0 == 0xE0 && i + 2 < b.len(), "a Han character");
        let c = ((b[i] as u32 & 0x0F) << 12)
            | ((b[i + 1] as u32 & 0x3F) << 6)
            | (b[i + 2] as u32 & 0x3F);
        assert!(c >= HAN_FIRST && c <= 0x9FFF, "a Han character");
        let at = (c - HAN_FIRST) as usize;
        self.0[at / 64] |= 1 << (at % 64);
    }

    fn contains(&self, c: char) -> bool {
        let Some(at) = (c as u32).checked_sub(HAN_FIRST).map(|a| a as usize) else {
            return false;
        };
        self.0
            .get(at / 64)
            .is_some_and(|w| w & (1 << (at % 64)) != 0)
    }
}

static SURNAMES_SET: HanSet = HanSet::of(SURNAMES);
static NOT_NAME_ENDINGS_SET: HanSet = HanSet::of(NOT_NAME_ENDINGS);
/// A cell can begin with a two-character family name only if it begins with one of these.
static COMPOUND_FIRSTS: HanSet = HanSet::firsts(COMPOUND_SURNAMES);

/// Characters after which an address names its road or lane.
const ROAD_MARKS: &[char] = &['路', '街', '道', '巷', '弄', '村', '里', '坊'];

/// A street address down to the door: a road (路, 街, 道…) followed by a number and 号, or a
/// room (室) or a building (幢, 栋).
fn address(cell: &str) -> Option<Hit> {
    let road = cell.find(ROAD_MARKS)?;
    let mut digits = 0;
    for c in cell[road..].chars() {
        if c.is_ascii_digit() {
            digits += 1;
            continue;
        }
        if digits > 0 && matches!(c, '号' | '室' | '幢' | '栋') {
            return Some(Hit {
                kind: PiKind::Address,
                strong: false,
            });
        }
        digits = 0;
    }
    None
}

/// Digits after the decimal point of a number written in `s`.
pub fn decimals(s: &str) -> usize {
    s.split_once('.')
        .map_or(0, |(_, f)| f.bytes().take_while(u8::is_ascii_digit).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(cell: &str) -> Vec<(PiKind, bool)> {
        let mut out = Vec::new();
        detect(cell, &mut out);
        let mut k: Vec<(PiKind, bool)> = out.iter().map(|h| (h.kind, h.strong)).collect();
        k.sort();
        k
    }

    #[test]
    fn the_lists_of_characters_are_looked_up_as_they_are_written() {
        for c in ('\u{3000}'..='\u{a000}').chain(['a', '1', ' ', '\u{20000}']) {
            assert_eq!(SURNAMES_SET.contains(c), SURNAMES.contains(c), "{c}");
            let ending = NOT_NAME_ENDINGS_SET.contains(c);
            assert_eq!(ending, NOT_NAME_ENDINGS.contains(c), "{c}");
            let begins = COMPOUND_SURNAMES.iter().any(|s| s.starts_with(c));
            assert_eq!(COMPOUND_FIRSTS.contains(c), begins, "{c}");
        }
    }

    #[test]
    fn numbers_are_told_apart_by_their_checks() {
        assert_eq!(
            kinds("11010519491231002X"),
            vec![(PiKind::ResidentId, false)]
        );
        assert_eq!(kinds("110105194912310021"), vec![]);
        assert_eq!(kinds("13812345678"), vec![(PiKind::Mobile, false)]);
        assert_eq!(kinds("+86 138-1234-5678"), vec![(PiKind::Mobile, false)]);
        assert_eq!(kinds("12812345678"), vec![]);
        assert_eq!(
            kinds("6222021234567890128"),
            vec![(PiKind::BankCard, false)]
        );
        assert_eq!(
            kinds("6222 0212 3456 7890 128"),
            vec![(PiKind::BankCard, false)]
        );
        assert_eq!(kinds("6222021234567890126"), vec![]);
        assert_eq!(kinds("021-64381234"), vec![(PiKind::Landline, false)]);
        assert_eq!(kinds("E12345678"), vec![(PiKind::Passport, false)]);
        assert_eq!(kinds("H1234567890"), vec![(PiKind::TravelPermit, false)]);
        assert_eq!(kinds("li.lei@example.com"), vec![(PiKind::Email, true)]);
    }

    #[test]
    fn numbers_among_words_are_found_and_strong_after_their_word() {
        assert_eq!(
            kinds("请联系电话13812345678张先生"),
            vec![(PiKind::Mobile, true)]
        );
        assert_eq!(
            kinds("身份证号11010519491231002X"),
            vec![(PiKind::ResidentId, true)]
        );
        assert_eq!(kinds("订单号13812345678已发货"), vec![]);
        assert_eq!(
            kinds("办公电话021-64381234转"),
            vec![(PiKind::Landline, true)]
        );
    }

    #[test]
    fn look_alikes_are_not_personal() {
        for cell in [
            // 统一社会信用代码
            "91310115MA1K3XYZ8B",
            "913101157030543915",
            // Timestamps and order numbers.
            "20240101123045",
            "1702612245123",
            "2024-01-01 12:30:45",
            "202401011234567890",
            "DD20240101000123",
            "ORD-2024-000123",
            // Places, things, prices.
            "黄浦区",
            "浦东新区",
            "王家宅路",
            "121.473701",
            "3500.00",
            "沪ICP备",
        ] {
            assert_eq!(kinds(cell), vec![], "{cell}");
        }
    }

    #[test]
    fn names_plates_and_addresses() {
        assert_eq!(kinds("张伟"), vec![(PiKind::PersonName, false)]);
        assert_eq!(kinds("欧阳娜娜"), vec![(PiKind::PersonName, false)]);
        assert_eq!(kinds("张*"), vec![]);
        assert_eq!(kinds("沪A12345"), vec![(PiKind::LicencePlate, false)]);
        assert_eq!(kinds("沪AD12345"), vec![(PiKind::LicencePlate, false)]);
        assert_eq!(
            kinds("上海市徐汇区漕溪北路398号"),
            vec![(PiKind::Address, false)]
        );
        assert_eq!(
            kinds("长宁区愚园路1088弄12号302室"),
            vec![(PiKind::Address, false)]
        );
        assert_eq!(kinds("上海市徐汇区漕溪北路"), vec![]);
    }
}
