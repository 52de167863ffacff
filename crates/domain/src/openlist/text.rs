//! Chinese text: word segmentation (jieba), name similarity, and the elements a dataset name
//! must show (A9.1 (一)).

use std::collections::BTreeSet;

use jieba_rs::Jieba;

use super::vocab::SHANGHAI_AREAS;

/// Words that say nothing about what a dataset is; left out of similarity and subject checks.
const STOP_WORDS: &[&str] = &[
    "的",
    "和",
    "与",
    "及",
    "或",
    "等",
    "之",
    "数据",
    "信息",
    "数据集",
    "情况",
    "相关",
    "有关",
    "列表",
    "清单",
    "表",
];

/// Word segmentation. Loading the dictionary takes a moment, so build one per app and share it.
pub struct Segmenter {
    jieba: Jieba,
}

impl Default for Segmenter {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Segmenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Segmenter")
    }
}

impl Segmenter {
    pub fn new() -> Self {
        let mut jieba = Jieba::new();
        // Place names of the city, so they segment as one word.
        for (_, zh, _) in SHANGHAI_AREAS {
            jieba.add_word(zh, Some(100_000), Some("ns"));
        }
        Self { jieba }
    }

    /// Words of `text`, lower-cased, without punctuation or white space.
    pub fn words(&self, text: &str) -> Vec<String> {
        self.jieba
            .cut(text, true)
            .into_iter()
            .map(|t| t.word.trim().to_lowercase())
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect()
    }

    /// Words for search indexing: finer cuts, so parts of long words match too.
    pub fn search_words(&self, text: &str) -> Vec<String> {
        self.jieba
            .cut_for_search(text, true)
            .into_iter()
            .map(|t| t.word.trim().to_lowercase())
            .filter(|w| w.chars().any(char::is_alphanumeric))
            .collect()
    }

    fn content_words(&self, text: &str) -> BTreeSet<String> {
        self.words(text)
            .into_iter()
            .filter(|w| !STOP_WORDS.contains(&w.as_str()))
            .collect()
    }

    /// Jaccard similarity of the content words of two names, in [0, 1].
    pub fn name_similarity(&self, a: &str, b: &str) -> f64 {
        jaccard(&self.content_words(a), &self.content_words(b))
    }

    /// The entry among `others` (id, name) whose name is most like `name`, if its similarity
    /// reaches `threshold` (in (0, 1]). Segmenting every name of a large open list on each check
    /// would be slow; but a Jaccard similarity of at least t needs at least t·|A| of the name's
    /// own content words A in common, and a shared word is part of both texts, so the others are
    /// first sifted by counting which of those words they contain as plain substrings (never
    /// fewer than they share), and only the few left are segmented.
    pub fn similar_name<'a>(
        &self,
        name: &str,
        others: &'a [(String, String)],
        threshold: f64,
    ) -> Option<(f64, &'a str, &'a str)> {
        let mine = self.content_words(name);
        let needed = (threshold * mine.len() as f64).ceil() as usize;
        let may_reach = |other: &str| {
            let other = other.to_lowercase();
            mine.iter().filter(|w| other.contains(w.as_str())).count() >= needed
        };
        others
            .iter()
            .filter(|(_, other)| may_reach(other))
            .map(|(id, other)| {
                (
                    jaccard(&mine, &self.content_words(other)),
                    id.as_str(),
                    other.as_str(),
                )
            })
            .filter(|(score, _, _)| *score >= threshold)
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// Which of the elements A9.1 (一) asks of a name are present.
    pub fn name_elements(&self, name: &str, extra_places: &[&str]) -> NameElements {
        let words = self.words(name);
        let place_words: Vec<&str> = SHANGHAI_AREAS
            .iter()
            .flat_map(|(_, zh, _)| [*zh, zh.trim_end_matches(['市', '区'])])
            .chain(["本市", "全市", "各区", "沪"])
            .chain(extra_places.iter().copied())
            .filter(|p| p.chars().count() >= 1)
            .collect();
        let is_place = |w: &str| {
            place_words
                .iter()
                .any(|p| !p.is_empty() && (w == *p || w.contains(p)))
        };
        let place = words.iter().any(|w| is_place(w))
            || place_words
                .iter()
                .any(|p| p.chars().count() >= 2 && name.contains(p));
        let is_time = |w: &str| {
            let digits = w.chars().filter(char::is_ascii_digit).count();
            (digits == 4 && (w.starts_with("19") || w.starts_with("20")))
                || TIME_WORDS
                    .iter()
                    .any(|t| w == *t || (w.ends_with(t) && w.chars().count() <= 4))
        };
        let time = words.iter().any(|w| is_time(w));
        let subject = words.iter().any(|w| {
            w.chars().count() >= 2
                && !is_place(w)
                && !is_time(w)
                && !STOP_WORDS.contains(&w.as_str())
        });
        NameElements {
            subject,
            place,
            time,
        }
    }
}

const TIME_WORDS: &[&str] = &[
    "年", "年度", "月", "月度", "季度", "日", "每日", "逐日", "逐时", "小时", "实时", "历年",
    "历史", "近年", "周", "半年",
];

/// |a ∩ b| / |a ∪ b|; two empty sets are alike.
fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.intersection(b).count() as f64;
    let all = a.union(b).count() as f64;
    shared / all
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameElements {
    pub subject: bool,
    pub place: bool,
    pub time: bool,
}

/// All-caps Latin tokens of two or more letters (GDP, AQI...): candidate abbreviations.
/// A token followed at once by a bracketed explanation, "AQI（空气质量指数）", explains itself.
pub fn unexplained_abbreviations(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_alphabetic() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric()
                    || (chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)))
            {
                i += 1;
            }
            let token: String = chars[start..i].iter().collect();
            let letters = token.chars().filter(char::is_ascii_alphabetic).count();
            let all_caps = token.chars().all(|c| !c.is_ascii_lowercase());
            let explained = matches!(chars.get(i), Some('（') | Some('('));
            if letters >= 2 && all_caps && !explained && !found.contains(&token) {
                found.push(token);
            }
        } else {
            i += 1;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_similar_name_is_the_one_a_full_comparison_finds() {
        let s = Segmenter::new();
        let names = [
            "上海市公交线路站点信息",
            "浦东新区养老机构名录",
            "上海市空气质量日报",
            "徐汇区公共停车场泊位",
            "上海市公交车辆实时位置",
            "PM2.5 监测站点",
        ];
        let others: Vec<(String, String)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("d{i}"), (*n).to_owned()))
            .collect();
        let names = [
            "上海市公交线路站点",
            "上海市公交线路站点信息",
            "浦东新区养老服务机构",
            "黄浦区图书馆",
            "pm2.5站点",
            "的",
        ];
        for threshold in [0.2, 0.5, 0.8, 1.0] {
            for name in names {
                let brute = others
                    .iter()
                    .map(|(id, n)| (s.name_similarity(name, n), id.as_str()))
                    .filter(|(score, _)| *score >= threshold)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                let found = s
                    .similar_name(name, &others, threshold)
                    .map(|(score, id, _)| (score, id));
                assert_eq!(found, brute, "{name} at {threshold}");
            }
        }
        assert!(s.similar_name("上海市公交线路", &[], 0.5).is_none());
    }

    #[test]
    fn similar_names_score_high_and_distinct_ones_low() {
        let s = Segmenter::new();
        assert!(s.name_similarity("上海市公交线路信息", "上海市公交线路数据") > 0.99);
        assert!(s.name_similarity("上海市公交线路信息", "浦东新区养老机构名录") < 0.2);
        let series = s.name_similarity("2023年上海市空气质量日报", "2024年上海市空气质量日报");
        assert!(series < 0.8, "{series}");
    }

    #[test]
    fn name_elements() {
        let s = Segmenter::new();
        let e = s.name_elements("2023年浦东新区养老机构名录", &[]);
        assert_eq!(
            e,
            NameElements {
                subject: true,
                place: true,
                time: true
            }
        );
        let e = s.name_elements("养老机构名录", &[]);
        assert!(e.subject && !e.place && !e.time);
        let e = s.name_elements("上海市", &[]);
        assert!(!e.subject && e.place);
        assert!(s.name_elements("全市公交车辆实时位置", &[]).time);
    }

    #[test]
    fn abbreviations() {
        assert_eq!(
            unexplained_abbreviations("全市GDP与CPI数据"),
            ["GDP", "CPI"]
        );
        assert!(unexplained_abbreviations("AQI（空气质量指数）").is_empty());
        assert!(unexplained_abbreviations("站点编号 id 和 Name").is_empty());
        assert_eq!(unexplained_abbreviations("PM2.5浓度"), ["PM2.5"]);
    }
}
