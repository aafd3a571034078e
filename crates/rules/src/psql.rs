//! Migration scripts are usually psql scripts: besides SQL they hold psql meta-commands
//! (`\set ON_ERROR_STOP on`, `\connect db`) and the data of `COPY ... FROM stdin` (every line up
//! to `\.`). Neither is SQL, and PostgreSQL's parser stops at them with a bare "syntax error".
//! [`blank_client_side`] replaces them with spaces, keeping every newline, so byte offsets,
//! line and column numbers of the SQL that remains are those of the original script.

/// What was blanked, by line (1-based), for notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blanked {
    /// A psql meta-command (the whole line).
    MetaCommand { line: usize, text: String },
    /// The data lines of a `COPY ... FROM stdin` and its `\.` terminator.
    CopyData { first_line: usize, last_line: usize },
}

/// The script with psql meta-commands and COPY data replaced by spaces (same length, same
/// newlines), and what was replaced.
pub fn blank_client_side(script: &str) -> (String, Vec<Blanked>) {
    let mut out: Vec<u8> = script.as_bytes().to_vec();
    let mut blanked = Vec::new();
    let bytes = script.as_bytes();
    let mut i = 0;
    let mut stmt_start = 0;
    let line_of = |pos: usize| bytes[..pos].iter().filter(|&&b| b == b'\n').count() + 1;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\\' => {
                // Outside quotes and comments a backslash is never SQL (no operator has one);
                // psql reads it as a meta-command up to the end of the line, wherever it stands:
                // at the start of a line, after a comment, or inside a statement that continues
                // on the next line. `\g` and its kin (\gset, \gx, \gexec, \gdesc) also end
                // the statement, as `;` would.
                let end = line_end(bytes, i);
                let text = String::from_utf8_lossy(&bytes[i..end]).trim().to_string();
                blank(&mut out, i, end);
                if bytes.get(i + 1) == Some(&b'g') {
                    out[i] = b';';
                    stmt_start = end;
                }
                blanked.push(Blanked::MetaCommand {
                    line: line_of(i),
                    text,
                });
                i = end;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = line_end(bytes, i);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(bytes, i);
            }
            b'\'' => {
                // E'...' strings allow backslash escapes; standard strings only ''.
                let escapes = i > 0
                    && matches!(bytes[i - 1], b'E' | b'e')
                    && (i < 2 || !is_ident(bytes[i - 2]));
                i = quoted_end(bytes, i, b'\'', escapes);
            }
            b'"' => i = quoted_end(bytes, i, b'"', false),
            b'$' if i == 0 || !is_ident(bytes[i - 1]) => match dollar_tag(bytes, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = find(bytes, body, tag)
                        .map(|e| e + tag.len())
                        .unwrap_or(bytes.len());
                }
                None => i += 1,
            },
            b';' => {
                // What is left of the statement once meta-commands inside it are blanked.
                let stmt = String::from_utf8_lossy(&out[stmt_start..i]).into_owned();
                i += 1;
                stmt_start = i;
                if is_copy_from_stdin(&stmt) {
                    // The data starts on the next line and ends with a line "\.".
                    let data = line_end(bytes, i).saturating_add(1).min(bytes.len());
                    let mut k = data;
                    let mut end = bytes.len();
                    while k < bytes.len() {
                        let e = line_end(bytes, k);
                        if bytes[k..e]
                            .iter()
                            .copied()
                            .filter(|c| *c != b'\r')
                            .eq(*b"\\.")
                        {
                            end = e;
                            break;
                        }
                        k = (e + 1).min(bytes.len());
                        if e >= bytes.len() {
                            break;
                        }
                    }
                    if data < bytes.len() {
                        blanked.push(Blanked::CopyData {
                            first_line: line_of(data),
                            last_line: line_of(end.min(bytes.len()).max(data)),
                        });
                        blank(&mut out, data, end);
                        i = end;
                        stmt_start = end;
                    }
                }
            }
            _ => i += 1,
        }
    }
    (String::from_utf8(out).unwrap_or_default(), blanked)
}

/// `sql` without its comments (`--` to the end of the line, nested `/* */`), quoted strings,
/// identifiers and dollar-quoted bodies left as they are. With `blank_quotes`, what is inside
/// quotes becomes spaces too (for tests: what is left is the statement's code).
pub fn strip_comments(sql: &str, blank_quotes: bool) -> String {
    let b = sql.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let end = match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                // PostgreSQL's scanner ends it at a carriage return too
                i = b[i..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .map_or(b.len(), |p| i + p);
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i = block_comment_end(b, i);
                out.push(b' ');
                continue;
            }
            b'\'' => {
                let escapes =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && (i < 2 || !is_ident(b[i - 2]));
                quoted_end(b, i, b'\'', escapes)
            }
            b'"' => quoted_end(b, i, b'"', false),
            b'$' if i == 0 || !is_ident(b[i - 1]) => match dollar_tag(b, i) {
                Some(tag) => find(b, i + tag.len(), tag)
                    .map(|e| e + tag.len())
                    .unwrap_or(b.len()),
                None => i + 1,
            },
            _ => i + 1,
        };
        if blank_quotes && end > i + 1 {
            out.push(b[i]);
            out.extend(
                b[i + 1..end - 1]
                    .iter()
                    .map(|c| if *c == b'\n' { b'\n' } else { b' ' }),
            );
            out.push(b[end - 1]);
        } else {
            out.extend_from_slice(&b[i..end]);
        }
        i = end;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map(|p| from + p)
        .unwrap_or(b.len())
}

fn blank(out: &mut [u8], from: usize, to: usize) {
    for c in &mut out[from..to] {
        if *c != b'\n' {
            *c = b' ';
        }
    }
}

fn block_comment_end(b: &[u8], start: usize) -> usize {
    // Block comments nest in PostgreSQL.
    let mut depth = 0;
    let mut i = start;
    while i + 1 < b.len() {
        if b[i] == b'/' && b[i + 1] == b'*' {
            depth += 1;
            i += 2;
        } else if b[i] == b'*' && b[i + 1] == b'/' {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

fn quoted_end(b: &[u8], start: usize, q: u8, escapes: bool) -> usize {
    let mut i = start + 1;
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if b.get(i + 1) == Some(&q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

/// `$tag$` starting at `start`, if it is one.
fn dollar_tag(b: &[u8], start: usize) -> Option<&[u8]> {
    let mut i = start + 1;
    while i < b.len() && b[i] != b'$' {
        if !(b[i].is_ascii_alphabetic()
            || b[i] == b'_'
            || b[i] >= 0x80
            || (i > start + 1 && b[i].is_ascii_digit()))
        {
            return None;
        }
        i += 1;
    }
    (i < b.len()).then(|| &b[start..=i])
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// The byte offset in `sql` where its first token starts: whitespace, `--` comments and (nested)
/// `/* */` comments skipped. PostgreSQL's parser counts a statement from the end of the one before
/// it, comments included; a person counts from its first word.
pub fn leading_noise(sql: &str) -> usize {
    let b = sql.as_bytes();
    let mut i = 0;
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if b[i..].starts_with(b"--") {
            i = line_end(b, i);
        } else if b[i..].starts_with(b"/*") {
            i = block_comment_end(b, i);
        } else {
            return i.min(b.len());
        }
    }
}

/// `COPY ... FROM STDIN` (any case, any options), comments aside.
fn is_copy_from_stdin(stmt: &str) -> bool {
    let words: Vec<String> = stmt
        .lines()
        .map(|l| l.split("--").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ','))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
        .collect();
    words.first().is_some_and(|w| w == "copy")
        && words.windows(2).any(|w| w[0] == "from" && w[1] == "stdin")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_data_and_meta_commands_become_spaces_and_everything_keeps_its_place() {
        let script = "\\set ON_ERROR_STOP on\nCREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n\\.\nSELECT 1;\n";
        let (sql, blanked) = blank_client_side(script);
        assert_eq!(sql.len(), script.len());
        assert_eq!(sql.lines().count(), script.lines().count());
        assert_eq!(
            sql,
            "                     \nCREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n \n \n  \nSELECT 1;\n"
        );
        assert_eq!(
            blanked,
            vec![
                Blanked::MetaCommand {
                    line: 1,
                    text: "\\set ON_ERROR_STOP on".into()
                },
                Blanked::CopyData {
                    first_line: 4,
                    last_line: 6
                },
            ]
        );
    }

    #[test]
    fn backslashes_and_copy_words_inside_sql_are_left_alone() {
        for script in [
            "SELECT E'\\\\x';\n",
            "SELECT 'COPY t FROM stdin;';\nSELECT 1;\n",
            "SELECT $$\n\\not a meta command\n$$;\n",
            "COPY t FROM '/tmp/file';\nSELECT 1;\n",
            "/* COPY t FROM stdin; */ SELECT 1;\n",
            "COPY (SELECT 1) TO stdout;\nSELECT 2;\n",
        ] {
            assert_eq!(
                blank_client_side(script),
                (script.to_string(), vec![]),
                "{script}"
            );
        }
    }

    #[test]
    fn meta_commands_after_comments_and_inside_statements_are_blanked() {
        let script = "COPY t FROM stdin;\n1\n\\.\n\\echo data\nCOPY t FROM stdin;\n2\n\\.\n-- set up\n\\set ON_ERROR_STOP on\n/* x */ \\timing\nSELECT\n\\echo mid\n1;\nSELECT 2 \\gset\nSELECT 3;\n";
        let (sql, blanked) = blank_client_side(script);
        assert_eq!(sql.len(), script.len());
        assert_eq!(
            sql,
            "COPY t FROM stdin;\n \n  \n          \nCOPY t FROM stdin;\n \n  \n-- set up\n                     \n/* x */        \nSELECT\n         \n1;\nSELECT 2 ;    \nSELECT 3;\n"
        );
        let lines: Vec<usize> = blanked
            .iter()
            .map(|b| match b {
                Blanked::MetaCommand { line, .. } => *line,
                Blanked::CopyData { first_line, .. } => *first_line,
            })
            .collect();
        assert_eq!(lines, vec![2, 4, 6, 9, 10, 12, 14]);
    }

    #[test]
    fn a_statement_starts_at_its_first_word() {
        assert_eq!(leading_noise("  SELECT 1"), 2);
        assert_eq!(
            leading_noise("\n-- why\n/* a /* nested */ b */\n  SELECT 1"),
            33
        );
        assert_eq!(leading_noise("-- only a comment"), 17);
        assert_eq!(leading_noise("/* unterminated"), 15);
        assert_eq!(leading_noise(""), 0);
    }

    #[test]
    fn copy_without_terminator_blanks_to_the_end() {
        let (sql, b) = blank_client_side("copy t from STDIN with (format csv);\na,b\nc,d");
        assert_eq!(sql, "copy t from STDIN with (format csv);\n   \n   ");
        assert_eq!(
            b,
            vec![Blanked::CopyData {
                first_line: 2,
                last_line: 3
            }]
        );
    }
}

/// Line and column numbers of byte offsets in a script, as check_ddl and the command-line tool
/// report them (1-based; columns in characters). Answers for increasing offsets on the same line
/// reuse the previous one's count.
pub struct Positions<'a> {
    text: &'a str,
    starts: Vec<usize>,
    last: (usize, usize, usize),
}

impl<'a> Positions<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Positions {
            text,
            starts,
            last: (0, 0, 1),
        }
    }

    /// 1-based line and column (in characters) of byte offset `at`.
    pub fn at(&mut self, at: usize) -> (i32, i32) {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= at);
        let (last_line, last_at, last_col) = self.last;
        let col = if last_line == line && last_at <= at {
            last_col + self.text[last_at..at].chars().count()
        } else {
            self.text[self.starts[line - 1]..at].chars().count() + 1
        };
        self.last = (line, at, col);
        (line as i32, col as i32)
    }
}

/// A statement as written and where it starts, from the parser's location `loc` and length
/// `len` (0: to the end) in `sql`, the text the parser read (`original` with client-side lines
/// blanked, byte for byte the same length). Parsers disagree on where a statement starts
/// (before PostgreSQL 18, right after the `;` before it); both agree on its first word, which
/// is where both front ends point.
pub fn statement_at(
    sql: &str,
    original: &str,
    loc: usize,
    len: usize,
    positions: &mut Positions,
) -> (String, (i32, i32)) {
    let end = if len == 0 {
        sql.len()
    } else {
        (loc + len).min(sql.len())
    };
    let start = loc.min(end);
    let lead = leading_noise(&sql[start..end]);
    let text = original
        .get(start + lead..end)
        .unwrap_or("")
        .trim()
        .to_string();
    (text, positions.at(start + lead))
}

/// Line `line` (1-based) of `original` as written, cut at 120 characters (for a syntax error's
/// DETAIL).
pub fn line_as_written(original: &str, line: i32) -> String {
    let mut text: String = original
        .lines()
        .nth((line.max(1) - 1) as usize)
        .unwrap_or("")
        .chars()
        .take(120)
        .collect();
    if text.chars().count() == 120 {
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod position_tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let text = "SELECT 1;\nSELECT 'é', 2;";
        let mut p = Positions::new(text);
        assert_eq!(p.at(0), (1, 1));
        assert_eq!(p.at(10), (2, 1));
        let after_e = text.find(", 2").unwrap();
        assert_eq!(p.at(after_e), (2, 11));
    }

    #[test]
    fn a_statement_starts_at_its_first_word() {
        let sql = "SELECT 1;\n  -- note\n  SELECT 2;";
        let loc = sql.find(';').unwrap() + 1;
        let mut p = Positions::new(sql);
        let (text, at) = statement_at(sql, sql, loc, sql.len() - loc - 1, &mut p);
        assert_eq!(text, "SELECT 2");
        assert_eq!(at, (3, 3));
    }

    #[test]
    fn a_long_line_is_cut() {
        let line = "x".repeat(200);
        assert_eq!(line_as_written(&line, 1).len(), 123);
        assert_eq!(line_as_written("a\nb", 2), "b");
        assert_eq!(line_as_written("a", 5), "");
    }
}
