//! A map of a version's points (A25.6), drawn on the server as SVG so it needs no script and no
//! tile server: the points over a grid of longitudes and latitudes, with the district seats
//! named for orientation. The rows themselves stay in the preview table beside it.

use std::fmt::Write;

use data::arrow::array::{Array, AsArray, RecordBatch};
use data::arrow::datatypes::{Float64Type, Schema};
use domain::openlist::dataset::DataItem;
use domain::openlist::rules::ValueCheck;
use domain::openlist::vocab::FieldType;

/// Points drawn at most: beyond, every n-th row, evenly through the version.
pub const MAX_POINTS: usize = 5_000;

const WIDTH: f64 = 640.0;

/// The seats of Shanghai's districts, to name places on the map: (name, longitude, latitude),
/// rounded to a hundredth of a degree.
const SEATS: &[(&str, f64, f64)] = &[
    ("黄浦", 121.48, 31.23),
    ("徐汇", 121.44, 31.19),
    ("长宁", 121.42, 31.22),
    ("静安", 121.45, 31.23),
    ("普陀", 121.40, 31.25),
    ("虹口", 121.49, 31.26),
    ("杨浦", 121.53, 31.26),
    ("闵行", 121.38, 31.11),
    ("宝山", 121.49, 31.41),
    ("嘉定", 121.27, 31.38),
    ("浦东", 121.54, 31.22),
    ("金山", 121.34, 30.74),
    ("松江", 121.23, 31.03),
    ("青浦", 121.12, 31.15),
    ("奉贤", 121.47, 30.92),
    ("崇明", 121.40, 31.62),
];

/// Where a version's coordinates are: a column of points, or of longitudes and latitudes.
pub enum Coordinates {
    Points(usize),
    Pair { lng: usize, lat: usize },
}

fn is(item: &DataItem, check: ValueCheck, words: &[&str]) -> bool {
    item.rules.check == Some(check)
        || words
            .iter()
            .any(|w| item.name.eq_ignore_ascii_case(w) || item.label == *w)
}

/// The columns of `schema` (named as `items`) that hold coordinates, if any.
pub fn coordinates(items: &[DataItem], schema: &Schema) -> Option<Coordinates> {
    let index = |name: &str| schema.index_of(name).ok();
    if let Some(i) = items
        .iter()
        .find(|i| i.field_type == FieldType::Geometry)
        .and_then(|i| index(&i.name))
    {
        return Some(Coordinates::Points(i));
    }
    let decimal = |i: &&DataItem| i.field_type == FieldType::Decimal;
    let lng = items.iter().filter(decimal).find(|i| {
        is(
            i,
            ValueCheck::Longitude,
            &["lng", "lon", "longitude", "经度"],
        )
    })?;
    let lat = items
        .iter()
        .filter(decimal)
        .find(|i| is(i, ValueCheck::Latitude, &["lat", "latitude", "纬度"]))?;
    Some(Coordinates::Pair {
        lng: index(&lng.name)?,
        lat: index(&lat.name)?,
    })
}

/// The point of row `row` of `batch`, if it has one.
pub fn point(batch: &RecordBatch, at: &Coordinates, row: usize) -> Option<(f64, f64)> {
    match at {
        Coordinates::Points(c) => {
            let wkt = batch.column(*c).as_string_opt::<i32>()?;
            wkt.is_valid(row)
                .then(|| data::cells::point(wkt.value(row)))
                .flatten()
        }
        Coordinates::Pair { lng, lat } => {
            let x = batch.column(*lng).as_primitive_opt::<Float64Type>()?;
            let y = batch.column(*lat).as_primitive_opt::<Float64Type>()?;
            (x.is_valid(row) && y.is_valid(row)).then(|| (x.value(row), y.value(row)))
        }
    }
}

/// The points of `batch`, every `step`-th row.
pub fn points(batch: &RecordBatch, at: &Coordinates) -> Vec<(f64, f64)> {
    let n = batch.num_rows();
    let step = n.div_ceil(MAX_POINTS).max(1);
    (0..n)
        .step_by(step)
        .filter_map(|r| point(batch, at, r))
        .collect()
}

/// The map of `points` inside `area`, as SVG; points outside it are left out (the quality
/// gate reports them).
pub fn svg(points: &[(f64, f64)], area: &data::rules::Area, label: &str) -> String {
    let mid = ((area.south + area.north) / 2.0).to_radians().cos();
    let span_x = (area.east - area.west) * mid;
    let span_y = area.north - area.south;
    let height = (WIDTH * span_y / span_x).round();
    let x = |lng: f64| (lng - area.west) * mid / span_x * WIDTH;
    let y = |lat: f64| (area.north - lat) / span_y * height;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{}"><rect width="{WIDTH}" height="{height}" fill="#f4f7fb" stroke="#8a99ad"/>"##,
        escape(label)
    );
    // A grid every quarter degree.
    let mut g = (area.west * 4.0).ceil() / 4.0;
    while g <= area.east {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" y1="0" x2="{0:.1}" y2="{height}" stroke="#d5dde8"/>"##,
            x(g)
        );
        g += 0.25;
    }
    let mut g = (area.south * 4.0).ceil() / 4.0;
    while g <= area.north {
        let _ = write!(
            s,
            r##"<line x1="0" y1="{0:.1}" x2="{WIDTH}" y2="{0:.1}" stroke="#d5dde8"/>"##,
            y(g)
        );
        g += 0.25;
    }
    s.push_str(r##"<g fill="#0b57a4" fill-opacity="0.55">"##);
    for &(lng, lat) in points {
        if area.contains(lng, lat) {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.2"/>"#,
                x(lng),
                y(lat)
            );
        }
    }
    s.push_str("</g>");
    s.push_str(r##"<g font-size="13" fill="#1f2933" text-anchor="middle">"##);
    for (name, lng, lat) in SEATS {
        if area.contains(*lng, *lat) {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}">{name}</text>"#,
                x(*lng),
                y(*lat) - 4.0
            );
        }
    }
    s.push_str("</g></svg>");
    s
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_inside_the_area_are_drawn_and_others_left_out() {
        let area = data::rules::SHANGHAI;
        let svg = svg(&[(121.47, 31.23), (116.40, 39.90)], &area, "2 <points>");
        assert_eq!(svg.matches("<circle").count(), 1);
        assert!(svg.contains("aria-label=\"2 &lt;points&gt;\""));
        assert!(svg.contains(">黄浦</text>"));
    }
}
