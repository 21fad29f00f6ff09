//! Byte offsets (what the compiler's spans use) to LSP positions (lines and UTF-16 columns)
//! and back.
//!
//! In: a file's text. Out: conversions that never panic: positions past the end of a line or
//! of the file are clamped, offsets inside a multi-byte character are moved to its start.
//!
//! ```
//! use biscol_lsp::line_index::LineIndex;
//! let index = LineIndex::new("ab\né x");
//! assert_eq!(index.position(6), (1, 2)); // `x`: `é` is one UTF-16 unit, two bytes
//! assert_eq!(index.offset(1, 2), 6);
//! ```

/// Line starts of one text, for conversions.
#[derive(Clone, Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text`.
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The `(line, UTF-16 column)` of byte `offset` (clamped to the text).
    pub fn position(&self, offset: usize) -> (u32, u32) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let col: usize = self.text[self.starts[line]..offset]
            .chars()
            .map(char::len_utf16)
            .sum();
        (line as u32, col as u32)
    }

    /// The byte offset of `(line, UTF-16 column)` (clamped to the line and the text).
    pub fn offset(&self, line: u32, col: u32) -> usize {
        let Some(&start) = self.starts.get(line as usize) else {
            return self.text.len();
        };
        let end = self
            .starts
            .get(line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let mut units = 0usize;
        for (i, c) in self.text[start..end].char_indices() {
            if units >= col as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        end
    }

    /// The text.
    pub fn text(&self) -> &'a str {
        self.text
    }
}

#[cfg(test)]
mod tests {
    use super::LineIndex;

    #[test]
    fn round_trips_and_clamps() {
        let text = "a😀b\n\ncd";
        let index = LineIndex::new(text);
        assert_eq!(index.position(1), (0, 1));
        assert_eq!(index.position(5), (0, 3));
        assert_eq!(index.position(2), (0, 1), "inside the emoji");
        assert_eq!(index.offset(0, 3), 5);
        assert_eq!(index.offset(0, 99), 6);
        assert_eq!(index.offset(9, 0), text.len());
        assert_eq!(index.position(999), (2, 2));
    }
}
