//! PostgreSQL's input rules for the values a Citus call receives, reproduced exactly, once.
//!
//! The guard sees argument values after PostgreSQL converted them (its text is what the type's
//! output function prints: `t`/`f`, canonical integers), while check_ddl and a CLI see what a
//! migration script wrote (`'on'`, `' 48 '`, `'0x30'`, `TRUE`). Both go through the functions
//! here, so both read a value the way the server will.
//!
//! Sources (PostgreSQL): `src/backend/utils/adt/bool.c` (`parse_bool_with_len`, `boolin`),
//! `src/backend/utils/adt/numutils.c` (`pg_strtoint32_safe`), `src/backend/parser/scansup.c`
//! (`truncate_identifier`), `src/port/pgstrcasecmp.c` (`pg_strncasecmp`).

use std::fmt;

/// `NAMEDATALEN` of a stock PostgreSQL build: identifiers are at most 63 bytes.
pub const NAMEDATALEN: usize = 64;

/// C `isspace()` in the C locale: space, \t, \n, \v, \f, \r. (Not Rust's
/// `is_ascii_whitespace`, which leaves out \v; not Unicode whitespace: PostgreSQL rejects a
/// no-break space in front of a number.)
pub fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `pg_strncasecmp(a, b, NAMEDATALEN) == 0` for the keyword comparisons Citus makes
/// (`IsColocateWithDefault`, `IsColocateWithNone`): whole-string equality with ASCII letters
/// folded. No whitespace is trimmed. (`pg_strncasecmp` also folds high-bit bytes with the C
/// library's `tolower()`, which can never turn one into an ASCII letter, so for an ASCII
/// keyword ASCII folding is exact.)
pub fn keyword_eq(s: &str, keyword: &str) -> bool {
    // pg_strncasecmp(s, keyword, 64) stops at the keyword's NUL: text cannot contain NUL, so
    // anything longer than the keyword differs there.
    s.eq_ignore_ascii_case(keyword)
}

/// A boolean PostgreSQL's `boolin` would reject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoolError {
    /// The text as given.
    pub input: String,
}

impl fmt::Display for BoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid input syntax for type boolean: \"{}\"",
            self.input
        )
    }
}

/// `boolin`: surrounding C whitespace is skipped, then `parse_bool_with_len`: any non-empty
/// case-insensitive prefix of `true`, `false`, `yes`, `no`; `on`, `off` and their prefixes of
/// at least two characters (`o` alone is ambiguous); exactly `1` or `0`.
pub fn parse_bool(input: &str) -> Result<bool, BoolError> {
    let b = input.as_bytes();
    let start = b.iter().position(|&c| !is_c_space(c)).unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|&c| !is_c_space(c))
        .map_or(start, |i| i + 1);
    let v = &b[start..end.max(start)];
    let prefix_of = |word: &str, min: usize| {
        v.len() >= min
            && v.len() <= word.len()
            && v.eq_ignore_ascii_case(&word.as_bytes()[..v.len()])
    };
    let r = match v.first() {
        Some(b't' | b'T') if prefix_of("true", 1) => Some(true),
        Some(b'f' | b'F') if prefix_of("false", 1) => Some(false),
        Some(b'y' | b'Y') if prefix_of("yes", 1) => Some(true),
        Some(b'n' | b'N') if prefix_of("no", 1) => Some(false),
        Some(b'o' | b'O') if prefix_of("on", 2) => Some(true),
        Some(b'o' | b'O') if prefix_of("off", 2) => Some(false),
        Some(b'1') if v.len() == 1 => Some(true),
        Some(b'0') if v.len() == 1 => Some(false),
        _ => None,
    };
    r.ok_or_else(|| BoolError {
        input: input.to_string(),
    })
}

/// Why `int4in` rejects a value (the two SQLSTATEs it raises).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntError {
    /// 22P02 `invalid input syntax for type integer: "<input>"`
    Syntax(String),
    /// 22003 `value "<input>" is out of range for type integer`
    OutOfRange(String),
}

impl fmt::Display for IntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntError::Syntax(s) => write!(f, "invalid input syntax for type integer: \"{s}\""),
            IntError::OutOfRange(s) => write!(f, "value \"{s}\" is out of range for type integer"),
        }
    }
}

impl IntError {
    /// 22P02 or 22003.
    pub fn sqlstate(&self) -> &'static str {
        match self {
            IntError::Syntax(_) => "22P02",
            IntError::OutOfRange(_) => "22003",
        }
    }
}

/// Which server's integer grammar to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntGrammar {
    /// PostgreSQL 15 and older: optional sign and decimal digits only.
    Pg15,
    /// PostgreSQL 16 and newer: also `0x`/`0o`/`0b` prefixes and `_` between digits
    /// (`'1_000'`, `'0x_1A'`). A value only 16+ accepts must not be misread, so this is the
    /// default.
    Pg16,
}

/// `int4in` of PostgreSQL 16+ (`pg_strtoint32_safe`), see [`parse_int4_with`].
pub fn parse_int4(input: &str) -> Result<i32, IntError> {
    parse_int4_with(input, IntGrammar::Pg16)
}

/// `int4in`: leading and trailing C whitespace, an optional `+`/`-`, then digits; overflow is
/// an error, never a wrapped value. With [`IntGrammar::Pg16`], also a `0x`, `0o` or `0b`
/// prefix (either case) and single underscores between digits: an underscore must be followed
/// by a digit of the base and may not come first in a decimal number, but may come right after
/// a prefix (`0x_1A` is 26). `007` is decimal 7.
///
/// Errors are classified the way PostgreSQL classifies them: the overflow check runs per digit
/// with PostgreSQL's bound (`tmp > -(INT32_MIN / base)`), so `2147483650` is out of range
/// while `2147483648x` is a syntax error.
pub fn parse_int4_with(input: &str, grammar: IntGrammar) -> Result<i32, IntError> {
    let syntax = || IntError::Syntax(input.to_string());
    let range = || IntError::OutOfRange(input.to_string());
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < b.len() && b[i] == b'-' {
        neg = true;
        i += 1;
    } else if i < b.len() && b[i] == b'+' {
        i += 1;
    }
    let prefixed = |c: u8| {
        grammar == IntGrammar::Pg16
            && b.get(i) == Some(&b'0')
            && matches!(b.get(i + 1), Some(&x) if x.eq_ignore_ascii_case(&c))
    };
    let base: u64 = if prefixed(b'x') {
        i += 2;
        16
    } else if prefixed(b'o') {
        i += 2;
        8
    } else if prefixed(b'b') {
        i += 2;
        2
    } else {
        10
    };
    let digit = |c: u8| -> Option<u64> {
        let d = match c {
            b'0'..=b'9' => (c - b'0') as u64,
            b'a'..=b'f' => (c - b'a' + 10) as u64,
            b'A'..=b'F' => (c - b'A' + 10) as u64,
            _ => return None,
        };
        (d < base).then_some(d)
    };
    // |INT32_MIN| / base, as in `tmp > -(PG_INT32_MIN / base)`.
    let guard = (1u64 << 31) / base;
    let first = i;
    let mut tmp: u64 = 0;
    while i < b.len() {
        let c = b[i];
        if let Some(d) = digit(c) {
            if tmp > guard {
                return Err(range());
            }
            tmp = tmp * base + d;
            i += 1;
        } else if c == b'_' && grammar == IntGrammar::Pg16 {
            if base == 10 && i == first {
                return Err(syntax());
            }
            i += 1;
            if i >= b.len() || digit(b[i]).is_none() {
                return Err(syntax());
            }
        } else {
            break;
        }
    }
    if i == first {
        return Err(syntax());
    }
    while i < b.len() && is_c_space(b[i]) {
        i += 1;
    }
    if i != b.len() {
        return Err(syntax());
    }
    if neg {
        if tmp > 1u64 << 31 {
            return Err(range());
        }
        Ok((-(tmp as i64)) as i32)
    } else {
        i32::try_from(tmp).map_err(|_| range())
    }
}

/// PostgreSQL's `truncate_identifier` for a UTF-8 server: a name of `NAMEDATALEN` (64) bytes
/// or more is cut to at most 63 bytes, at a character boundary (`pg_mbcliplen`). Citus calls
/// it on the distribution column name before looking the column up
/// (`BuildDistributionKeyFromColumnName`, utils/distribution_column.c:145 in 13.2.2 and
/// 14.0.1), without downcasing it.
///
/// This is exact for UTF-8 (and for any single-byte encoding on ASCII names). When the server
/// encoding is neither, the glue should call PostgreSQL's own `truncate_identifier` (or
/// `pg_mbcliplen`) instead and pass the result on as the name.
pub fn truncate_identifier(name: &str) -> &str {
    if name.len() < NAMEDATALEN {
        return name;
    }
    let mut end = NAMEDATALEN - 1;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A qualified name as `stringToQualifiedNameList` reads it (regclass input, Citus's
/// `colocate_with`): dot-separated parts, each either `"quoted"` (kept as is, `""` for a quote)
/// or plain (ASCII letters downcased), each truncated to 63 bytes; whitespace around parts is
/// allowed. None for what PostgreSQL rejects as "invalid name syntax".
pub fn parse_qualified_name(input: &str) -> Option<Vec<String>> {
    let b = input.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    loop {
        while i < b.len() && is_c_space(b[i]) {
            i += 1;
        }
        let mut part = String::new();
        if i < b.len() && b[i] == b'"' {
            i += 1;
            loop {
                let close = input[i..].find('"')? + i;
                part.push_str(&input[i..close]);
                i = close + 1;
                if i < b.len() && b[i] == b'"' {
                    part.push('"');
                    i += 1;
                } else {
                    break;
                }
            }
            if part.is_empty() {
                return None;
            }
        } else {
            let start = i;
            while i < b.len() && b[i] != b'.' && !is_c_space(b[i]) {
                i += 1;
            }
            if i == start {
                return None;
            }
            part = input[start..i].to_ascii_lowercase();
        }
        parts.push(truncate_identifier(&part).to_string());
        while i < b.len() && is_c_space(b[i]) {
            i += 1;
        }
        if i == b.len() {
            return Some(parts);
        }
        if b[i] != b'.' {
            return None;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_read_like_regclass_input() {
        let ok: &[(&str, &[&str])] = &[
            ("orders", &["orders"]),
            ("Public.Orders", &["public", "orders"]),
            (" public . \"Orders\" ", &["public", "Orders"]),
            ("\"a.b\"", &["a.b"]),
            ("\"say \"\"hi\"\"\"", &["say \"hi\""]),
            ("db.s.t", &["db", "s", "t"]),
        ];
        for (input, want) in ok {
            assert_eq!(
                parse_qualified_name(input),
                Some(want.iter().map(|s| s.to_string()).collect()),
                "{input}"
            );
        }
        for bad in ["", "a..b", "\"\"", "\"open", "a b", "a."] {
            assert_eq!(parse_qualified_name(bad), None, "{bad}");
        }
        assert_eq!(
            parse_qualified_name(&"u".repeat(70)),
            Some(vec!["u".repeat(63)])
        );
    }

    /// Expected values are PostgreSQL's, written out (from bool.c's rules and `SELECT 'x'::bool`).
    #[test]
    fn booleans_read_like_boolin() {
        let cases: &[(&str, Option<bool>)] = &[
            ("t", Some(true)),
            ("tr", Some(true)),
            ("TRUE", Some(true)),
            ("  true\n", Some(true)),
            ("truex", None),
            ("f", Some(false)),
            ("FaLs", Some(false)),
            ("y", Some(true)),
            ("Yes", Some(true)),
            ("n", Some(false)),
            ("NO", Some(false)),
            ("nope", None),
            ("o", None),
            ("on", Some(true)),
            ("ON ", Some(true)),
            ("of", Some(false)),
            ("off", Some(false)),
            ("offf", None),
            ("onn", None),
            ("1", Some(true)),
            ("0", Some(false)),
            ("01", None),
            ("10", None),
            ("", None),
            ("   ", None),
            ("\x0bt\x0c", Some(true)),
            ("\u{a0}t", None),
            ("trüe", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_bool(input).ok(), *want, "input {input:?}");
        }
        assert_eq!(
            parse_bool("maybe").unwrap_err().to_string(),
            "invalid input syntax for type boolean: \"maybe\""
        );
    }

    #[test]
    fn integers_read_like_int4in_on_16_and_later() {
        use IntError::*;
        let s = |x: &str| Syntax(x.to_string());
        let r = |x: &str| OutOfRange(x.to_string());
        let cases: &[(&str, Result<i32, IntError>)] = &[
            ("48", Ok(48)),
            (" 48 ", Ok(48)),
            ("\t+48\n", Ok(48)),
            ("-48", Ok(-48)),
            ("007", Ok(7)),
            ("0", Ok(0)),
            ("-0", Ok(0)),
            ("2147483647", Ok(i32::MAX)),
            ("-2147483648", Ok(i32::MIN)),
            ("2147483648", Err(r("2147483648"))),
            ("-2147483649", Err(r("-2147483649"))),
            ("2147483650", Err(r("2147483650"))),
            ("2147483648x", Err(s("2147483648x"))),
            ("99999999999", Err(r("99999999999"))),
            ("0x30", Ok(48)),
            ("0X1a", Ok(26)),
            ("-0x80000000", Ok(i32::MIN)),
            ("0x80000000", Err(r("0x80000000"))),
            ("0o60", Ok(48)),
            ("0b110000", Ok(48)),
            ("0b2", Err(s("0b2"))),
            ("0x", Err(s("0x"))),
            ("1_000", Ok(1000)),
            ("0x_1A", Ok(26)),
            ("_1000", Err(s("_1000"))),
            ("1000_", Err(s("1000_"))),
            ("1__0", Err(s("1__0"))),
            ("4 8", Err(s("4 8"))),
            ("4.5", Err(s("4.5"))),
            ("", Err(s(""))),
            ("+", Err(s("+"))),
            ("- 1", Err(s("- 1"))),
            ("\u{a0}1", Err(s("\u{a0}1"))),
            ("1e3", Err(s("1e3"))),
        ];
        for (input, want) in cases {
            assert_eq!(&parse_int4(input), want, "input {input:?}");
        }
        assert_eq!(parse_int4("x").unwrap_err().sqlstate(), "22P02");
        assert_eq!(parse_int4("3000000000").unwrap_err().sqlstate(), "22003");
    }

    #[test]
    fn postgres_15_knows_no_prefixes_or_underscores() {
        assert_eq!(parse_int4_with("48", IntGrammar::Pg15), Ok(48));
        assert_eq!(
            parse_int4_with(" -2147483648 ", IntGrammar::Pg15),
            Ok(i32::MIN)
        );
        assert_eq!(
            parse_int4_with("0x30", IntGrammar::Pg15),
            Err(IntError::Syntax("0x30".into()))
        );
        assert_eq!(
            parse_int4_with("1_000", IntGrammar::Pg15),
            Err(IntError::Syntax("1_000".into()))
        );
    }

    #[test]
    fn identifiers_are_clipped_to_63_bytes_at_a_character_boundary() {
        let u63 = "u".repeat(63);
        let cases: Vec<(String, String)> = vec![
            ("user_id".into(), "user_id".into()),
            (u63.clone(), u63.clone()),
            (format!("{u63}_x"), u63.clone()),
            ("a".repeat(200), "a".repeat(63)),
            // 62 ASCII bytes then a 2-byte 'é': 64 bytes, clipped to 62 (the 'é' does not fit).
            (format!("{}é", "a".repeat(62)), "a".repeat(62)),
            // 61 + 'é' = 63 bytes: short enough, kept whole.
            (
                format!("{}é", "a".repeat(61)),
                format!("{}é", "a".repeat(61)),
            ),
            // 21 three-byte characters = 63 bytes, the 22nd is cut.
            ("€".repeat(22), "€".repeat(21)),
        ];
        for (input, want) in cases {
            assert_eq!(
                truncate_identifier(&input),
                want,
                "input of {} bytes",
                input.len()
            );
        }
    }

    #[test]
    fn keywords_compare_like_pg_strncasecmp() {
        let cases: &[(&str, &str, bool)] = &[
            ("default", "default", true),
            ("DEFAULT", "default", true),
            ("Default", "default", true),
            ("default ", "default", false),
            (" default", "default", false),
            ("defaul", "default", false),
            ("NONE", "none", true),
            ("nonE", "none", true),
            ("none_", "none", false),
        ];
        for (s, k, want) in cases {
            assert_eq!(keyword_eq(s, k), *want, "{s:?} vs {k:?}");
        }
    }
}
