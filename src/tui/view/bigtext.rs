//! A 5-row block font for amounts and result words: readable from across the counter and
//! without colour. Characters it lacks are drawn as a blank cell.

use ratatui::text::Line;

/// Rows of the font.
pub const HEIGHT: usize = 5;

fn glyph(c: char) -> [&'static str; HEIGHT] {
    match c.to_ascii_uppercase() {
        '0' => ["###", "# #", "# #", "# #", "###"],
        '1' => [" # ", "## ", " # ", " # ", "###"],
        '2' => ["###", "  #", "###", "#  ", "###"],
        '3' => ["###", "  #", "###", "  #", "###"],
        '4' => ["# #", "# #", "###", "  #", "  #"],
        '5' => ["###", "#  ", "###", "  #", "###"],
        '6' => ["###", "#  ", "###", "# #", "###"],
        '7' => ["###", "  #", "  #", "  #", "  #"],
        '8' => ["###", "# #", "###", "# #", "###"],
        '9' => ["###", "# #", "###", "  #", "###"],
        '.' => [" ", " ", " ", " ", "#"],
        '¥' => ["# #", " # ", "###", " # ", " # "],
        'A' => ["###", "# #", "###", "# #", "# #"],
        'C' => ["###", "#  ", "#  ", "#  ", "###"],
        'D' => ["## ", "# #", "# #", "# #", "## "],
        'E' => ["###", "#  ", "## ", "#  ", "###"],
        'F' => ["###", "#  ", "## ", "#  ", "#  "],
        'G' => ["###", "#  ", "# #", "# #", "###"],
        'H' => ["# #", "# #", "###", "# #", "# #"],
        'I' => ["###", " # ", " # ", " # ", "###"],
        'L' => ["#  ", "#  ", "#  ", "#  ", "###"],
        'N' => ["#  #", "## #", "# ##", "#  #", "#  #"],
        'O' => ["###", "# #", "# #", "# #", "###"],
        'P' => ["###", "# #", "###", "#  ", "#  "],
        'R' => ["## ", "# #", "## ", "# #", "# #"],
        'S' => ["###", "#  ", "###", "  #", "###"],
        'T' => ["###", " # ", " # ", " # ", " # "],
        'U' => ["# #", "# #", "# #", "# #", "###"],
        'V' => ["# #", "# #", "# #", "# #", " # "],
        _ => ["  ", "  ", "  ", "  ", "  "],
    }
}

/// `text` in the block font, one space between characters, each cell doubled in width.
pub fn lines(text: &str) -> Vec<Line<'static>> {
    (0..HEIGHT)
        .map(|row| {
            let mut s = String::new();
            for (i, c) in text.chars().enumerate() {
                if i > 0 {
                    s.push(' ');
                }
                for cell in glyph(c)[row].chars() {
                    s.push_str(if cell == '#' { "██" } else { "  " });
                }
            }
            Line::from(s)
        })
        .collect()
}

/// Columns `text` needs in the block font.
pub fn width(text: &str) -> usize {
    let cells: usize = text.chars().map(|c| glyph(c)[0].chars().count() * 2).sum();
    cells + text.chars().count().saturating_sub(1)
}
