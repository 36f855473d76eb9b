//! Folding text to a comparable skeleton before looking for markers and special tokens: every
//! character maps to zero or more lower-case characters, and each folded character remembers
//! the byte where its original starts, so matches found on the fold are cut from the original.
//!
//! - invisible characters (zero-width, joiners, bidi controls, variation selectors, tag
//!   characters) and combining marks are dropped, so they cannot split a word;
//! - full-width ASCII maps to ASCII; angle-bracket and bar look-alikes map to `<`, `>`, `|`
//!   (kept out of the confusable table, which maps `|` to `l`); `▁` (DeepSeek's token spacer)
//!   maps to `_`;
//! - any other non-ASCII character goes through the UTS #39 confusable skeleton
//!   (`unicode-security`), so Cyrillic `Е`, Greek `Τ` or mathematical `𝐄` read as ASCII.

use unicode_normalization::char::is_combining_mark;
use unicode_security::confusable_detection::skeleton;

pub struct Folded {
    /// Folded, lower-cased characters.
    pub chars: Vec<char>,
    /// Byte offset in the original of each folded char; one extra entry for the end.
    pub byte_at: Vec<usize>,
}

fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
        || is_combining_mark(c)
}

fn bracket_or_bar(c: char) -> Option<char> {
    Some(match c as u32 {
        0x2329 | 0x3008 | 0x2039 | 0x27E8 | 0xFE64 | 0x276E | 0x276C | 0x2770 | 0x02C2 | 0x1438
        | 0x29FC | 0x227A => '<',
        0x232A | 0x3009 | 0x203A | 0x27E9 | 0xFE65 | 0x276F | 0x276D | 0x2771 | 0x02C3 | 0x1433
        | 0x29FD | 0x227B => '>',
        0x2223 | 0x01C0 | 0x2502 | 0x2503 | 0xFFE8 | 0x23B8 | 0x23B9 | 0x05C0 | 0x2758 => '|',
        0x2581 => '_',
        _ => return None,
    })
}

fn fold_char(c: char, out: &mut Vec<char>) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if invisible(c) {
        return;
    }
    let code = c as u32;
    if (0xFF01..=0xFF5E).contains(&code) {
        let ascii = char::from_u32(code - 0xFEE0).unwrap_or(c);
        out.push(ascii.to_ascii_lowercase());
        return;
    }
    if let Some(mapped) = bracket_or_bar(c) {
        out.push(mapped);
        return;
    }
    let mut buf = [0u8; 4];
    for s in skeleton(c.encode_utf8(&mut buf)) {
        if invisible(s) {
            continue;
        }
        out.extend(s.to_lowercase());
    }
}

pub fn fold(text: &str) -> Folded {
    let mut chars = Vec::with_capacity(text.len());
    let mut byte_at = Vec::with_capacity(text.len() + 1);
    let mut pending_start: Option<usize> = None;
    let mut scratch = Vec::with_capacity(4);
    for (i, c) in text.char_indices() {
        scratch.clear();
        fold_char(c, &mut scratch);
        if scratch.is_empty() {
            // Dropped: the next kept character's span starts here, so a cut removes it too.
            pending_start.get_or_insert(i);
            continue;
        }
        let start = pending_start.take().unwrap_or(i);
        for f in scratch.drain(..) {
            chars.push(f);
            byte_at.push(start);
        }
    }
    byte_at.push(text.len());
    Folded { chars, byte_at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(s: &str) -> String {
        fold(s).chars.into_iter().collect()
    }

    #[test]
    fn lookalikes_fold_to_ascii() {
        assert_eq!(folded("ＥＸＴ"), "ext");
        // Cyrillic Е, Х, Т; Greek Ν; mathematical bold E.
        assert_eq!(folded("\u{0415}\u{0425}\u{0422}\u{039D}"), "extn");
        assert_eq!(folded("\u{1D404}"), "e");
        assert_eq!(folded("a\u{200B}b\u{0301}c"), "abc");
        assert_eq!(folded("〈‹⟨|∣｜▁"), "<<<|||_");
        assert_eq!(folded("plain <text> | ok"), "plain <text> | ok");
    }

    #[test]
    fn offsets_point_into_the_original() {
        let f = fold("x\u{200B}Ｙz");
        assert_eq!(f.chars, vec!['x', 'y', 'z']);
        // The zero-width space belongs to the `Ｙ` after it.
        assert_eq!(f.byte_at, vec![0, 1, 7, 8]);
    }
}
