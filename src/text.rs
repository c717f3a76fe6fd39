//! Characters that people, browsers and parsers read differently: refused wherever a
//! value ends up in a URL the browser follows or in a claim a portal shows.

/// Whether `c` is invisible when shown: format characters (zero-width space and joiners,
/// soft hyphen, word joiner, bidi marks, overrides and isolates, the byte-order mark,
/// tag characters) and the fillers and selectors that render as nothing. Such a
/// character makes one account or host look like another.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// Whether `c` is a control character or [invisible](is_invisible).
pub(crate) fn is_control_or_invisible(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_look_alike_tricks_are_invisible() {
        for c in [
            '\u{200B}',
            '\u{00AD}',
            '\u{202E}',
            '\u{2066}',
            '\u{FEFF}',
            '\u{2060}',
            '\u{E0041}',
            '\u{200D}',
            '\u{FE0F}',
        ] {
            assert!(is_invisible(c), "{:04X}", u32::from(c));
        }
        for c in ['a', 'é', 'ß', '例', ' ', '-', '\u{0301}'] {
            assert!(!is_invisible(c), "{:04X}", u32::from(c));
        }
    }
}
