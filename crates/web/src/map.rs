//! A map of a version's points (A25.6), drawn on the server as SVG so it needs no script: by
//! default the points over a grid of longitudes and latitudes, with the district seats named
//! for orientation; when the operator names a tile server ([`Tiles`]), the points in Web
//! Mercator over that server's tiles, still without a script. The rows themselves stay in the
//! preview table beside it.

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

/// A tile server the operator configured (`[map]`): an address template with `{z}`, `{x}` and
/// `{y}` for 256-pixel Web Mercator tiles, and the credit its terms ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tiles {
    template: String,
    origin: String,
    attribution: String,
}

/// Zoom levels tile servers commonly serve.
const MAX_ZOOM: u32 = 18;
const TILE: f64 = 256.0;

impl Tiles {
    /// Checks an address template: http(s), a host, each of `{z}`, `{x}`, `{y}`, and nothing
    /// that could end the attribute it is written into.
    pub fn parse(template: &str, attribution: &str) -> Result<Self, String> {
        let template = template.trim();
        let rest = template
            .strip_prefix("https://")
            .or_else(|| template.strip_prefix("http://"))
            .ok_or("the tile address must start with https:// or http://")?;
        let host = rest.split('/').next().unwrap_or_default();
        if host.is_empty() || host.contains(['{', '}', '@']) {
            return Err("the tile address must name its server before any {z}, {x} or {y}".into());
        }
        for part in ["{z}", "{x}", "{y}"] {
            if !template.contains(part) {
                return Err(format!("the tile address must contain {part}"));
            }
        }
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"'<>`\\".contains(c))
        {
            return Err("the tile address may not contain spaces, quotes or angle brackets".into());
        }
        if attribution.trim().is_empty() {
            return Err(
                "a tile server's terms ask for its credit: set map.tile_attribution".into(),
            );
        }
        let scheme = if template.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        Ok(Self {
            template: template.to_owned(),
            origin: format!("{scheme}://{host}"),
            attribution: attribution.trim().to_owned(),
        })
    }

    /// Where the tiles come from, for the pages' Content-Security-Policy.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    fn url(&self, z: u32, x: i64, y: i64) -> String {
        self.template
            .replace("{z}", &z.to_string())
            .replace("{x}", &x.to_string())
            .replace("{y}", &y.to_string())
    }
}

/// Web Mercator pixel coordinates at zoom 0 (a world 256 pixels wide).
fn mercator(lng: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-85.05112878, 85.05112878).to_radians();
    let x = (lng + 180.0) / 360.0 * TILE;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * TILE;
    (x, y)
}

/// The map of `points` inside `area` over `tiles`: the zoom at which the area is at most
/// `WIDTH` pixels wide, the tiles that cover it, and the points and the credit on top.
pub fn svg_over_tiles(
    points: &[(f64, f64)],
    area: &data::rules::Area,
    tiles: &Tiles,
    label: &str,
) -> String {
    let (west, north) = mercator(area.west, area.north);
    let (east, south) = mercator(area.east, area.south);
    let span = (east - west).max(f64::MIN_POSITIVE);
    let zoom = ((WIDTH / span).log2().floor().max(0.0) as u32).min(MAX_ZOOM);
    let scale = f64::from(1u32 << zoom);
    let (x0, y0) = (west * scale, north * scale);
    let (w, h) = ((east - west) * scale, (south - north) * scale);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="{x0:.1} {y0:.1} {w:.1} {h:.1}" width="100%" role="img" aria-label="{}"><rect x="{x0:.1}" y="{y0:.1}" width="{w:.1}" height="{h:.1}" fill="#f4f7fb"/>"##,
        escape(label)
    );
    let last = (1i64 << zoom) - 1;
    let tx = ((x0 / TILE).floor() as i64).max(0)..=(((x0 + w) / TILE).floor() as i64).min(last);
    let ty = ((y0 / TILE).floor() as i64).max(0)..=(((y0 + h) / TILE).floor() as i64).min(last);
    s.push_str("<g>");
    for y in ty {
        for x in tx.clone() {
            let _ = write!(
                s,
                r#"<image href="{}" x="{}" y="{}" width="256" height="256"/>"#,
                escape(&tiles.url(zoom, x, y)),
                x * 256,
                y * 256
            );
        }
    }
    s.push_str(
        r##"</g><g fill="#0b57a4" fill-opacity="0.7" stroke="#ffffff" stroke-width="0.6">"##,
    );
    for &(lng, lat) in points {
        if area.contains(lng, lat) {
            let (px, py) = mercator(lng, lat);
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="2.6"/>"#,
                px * scale,
                py * scale
            );
        }
    }
    let _ = write!(
        s,
        r##"</g><rect x="{:.1}" y="{:.1}" width="{w:.1}" height="16" fill="#ffffff" fill-opacity="0.8"/><text x="{:.1}" y="{:.1}" font-size="11" fill="#1f2933" text-anchor="end">{}</text></svg>"##,
        x0,
        y0 + h - 16.0,
        x0 + w - 4.0,
        y0 + h - 4.0,
        escape(&tiles.attribution)
    );
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

    #[test]
    fn tile_addresses_that_could_break_out_or_lack_a_part_are_refused() {
        let ok = Tiles::parse("https://tiles.example.org/{z}/{x}/{y}.png", "© 示例").unwrap();
        assert_eq!(ok.origin(), "https://tiles.example.org");
        for bad in [
            "ftp://tiles.example.org/{z}/{x}/{y}.png",
            "https://tiles.example.org/{z}/{x}.png",
            "https://{z}.example.org/{x}/{y}.png",
            "https://tiles.example.org/{z}/{x}/{y}.png\" onload=\"x",
            "https://tiles.example.org/{z}/{x}/{y}.png><script>",
            "https://user@tiles.example.org/{z}/{x}/{y}.png",
        ] {
            assert!(Tiles::parse(bad, "© 示例").is_err(), "{bad}");
        }
        assert!(Tiles::parse("https://tiles.example.org/{z}/{x}/{y}.png", " ").is_err());
    }

    #[test]
    fn the_tiles_cover_the_area_and_points_fall_on_the_right_tile() {
        let tiles = Tiles::parse("https://t.example.org/{z}/{x}/{y}.png", "© T").unwrap();
        let area = data::rules::SHANGHAI;
        // Shanghai's 1.35° of longitude are 491 pixels wide at zoom 9 and 983 at zoom 10, so
        // the map is drawn at zoom 9. The People's Square, 121.4737° E 31.2304° N, lies on tile
        // 9/428/209 (worked out by hand from the Web Mercator formulas).
        let svg = svg_over_tiles(&[(121.4737, 31.2304)], &area, &tiles, "1");
        assert!(svg.contains("https://t.example.org/9/428/209.png"), "{svg}");
        assert!(!svg.contains("https://t.example.org/10/"));
        let tx = 428;
        // The point is drawn inside the tile that holds it.
        let cx: f64 = svg
            .split("<circle cx=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!((cx / 256.0).floor() as i64, tx);
        assert!(svg.contains(">© T</text>"));
        assert_eq!(svg.matches("<circle").count(), 1);
    }
}
