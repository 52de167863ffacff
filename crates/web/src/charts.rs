//! Charts for people who would rather look than read (A16.2): counts as horizontal bars, drawn
//! on the server as SVG with plotters and put into the page, so they need no JavaScript. The
//! same numbers are always in a list or table beside the chart, for screen readers and for
//! copying.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Bar colours with at least 4.5:1 contrast against white (WCAG 2.1 AA for the numbers drawn
/// beside them).
pub const BLUE: RGBColor = RGBColor(0x0b, 0x57, 0xa4);
pub const GREEN: RGBColor = RGBColor(0x1b, 0x6e, 0x20);

const ROW: u32 = 30;
const WIDTH: u32 = 480;
const FONT: f64 = 17.0;

/// A horizontal bar chart of `rows` (label, count), in the order given. The text is in the SVG
/// as text (the browser draws it with the page's fonts), escaped by the SVG backend.
pub fn bars(rows: &[(String, u64)], colour: RGBColor) -> String {
    let mut svg = String::new();
    if rows.is_empty() {
        return svg;
    }
    let height = ROW * rows.len() as u32 + 12;
    // Room for the longest label: CJK characters are about one font size wide.
    let label_chars = rows
        .iter()
        .map(|(l, _)| {
            l.chars()
                .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
                .sum::<f64>()
        })
        .fold(0.0, f64::max);
    let label_width = ((label_chars * FONT) as u32 + 16).min(WIDTH / 2);
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let _ = draw(&root, rows, colour, label_width, max);
        let _ = root.present();
    }
    svg
}

fn draw(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    rows: &[(String, u64)],
    colour: RGBColor,
    label_width: u32,
    max: u64,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let label_style = TextStyle::from(("sans-serif", FONT).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    let count_style = TextStyle::from(("sans-serif", FONT).into_font())
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let (width, _) = root.dim_in_pixel();
    // Leave room after the longest bar for its number.
    let bar_room = width.saturating_sub(label_width + 70).max(40) as f64;
    for (i, (label, n)) in rows.iter().enumerate() {
        let y = (i as u32 * ROW + 6) as i32;
        let middle = y + (ROW as i32 - 6) / 2;
        let x0 = label_width as i32;
        let x1 = x0 + ((*n as f64 / max as f64) * bar_room).round().max(2.0) as i32;
        root.draw(&Rectangle::new(
            [(x0, y), (x1, y + ROW as i32 - 8)],
            colour.filled(),
        ))?;
        root.draw(&Text::new(
            label.clone(),
            (x0 - 8, middle),
            label_style.clone(),
        ))?;
        root.draw(&Text::new(
            n.to_string(),
            (x1 + 6, middle),
            count_style.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_bar_and_readable_text_per_row_and_escapes_labels() {
        let svg = bars(&[("道路交通".into(), 12), ("<b>&".into(), 3)], BLUE);
        assert!(svg.starts_with("<svg") && svg.contains("viewBox"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(svg.contains(">\n道路交通\n</text>") && svg.contains(">\n12\n</text>"));
        assert!(svg.contains("&lt;b&gt;&amp;") && !svg.contains("<b>"));
        assert!(bars(&[], BLUE).is_empty());
    }
}
