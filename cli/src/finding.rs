//! check_ddl's rows, per file, and how `check` prints them: compiler-style text, JSON, or
//! GitHub Actions workflow commands (annotations).

use serde::{Deserialize, Serialize};

/// One row of check_ddl (online: as the server returned it; offline: as the same code built it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// 1-based statement number in the script; 0 for notes about skipped psql lines.
    pub statement: i32,
    pub statement_text: String,
    pub rule_id: Option<String>,
    /// `block`, `warn` or `note`.
    pub severity: String,
    pub sqlstate: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub remediation: Option<String>,
    /// Where the statement starts in the script: 1-based line, column in characters.
    pub line: i32,
    pub col: i32,
}

impl Row {
    pub fn note(
        statement: i32,
        statement_text: String,
        message: String,
        line: i32,
        col: i32,
    ) -> Row {
        Row {
            statement,
            statement_text,
            rule_id: None,
            severity: "note".into(),
            sqlstate: None,
            message,
            detail: None,
            hint: None,
            remediation: None,
            line,
            col,
        }
    }
}

/// Why a file could not be checked: it does not parse (with where), or check_ddl refused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    pub message: String,
    pub line: Option<i32>,
    pub col: Option<i32>,
    pub detail: Option<String>,
}

impl FileError {
    pub fn plain(message: String) -> FileError {
        FileError {
            message,
            line: None,
            col: None,
            detail: None,
        }
    }

    /// check_ddl's syntax error: the parser's message, where, and the line as written.
    pub fn syntax(parser_message: String, line: i32, col: i32, original: &str) -> FileError {
        let text = sidecar_rules::psql::line_as_written(original, line);
        FileError {
            message: format!("the script does not parse: {parser_message}"),
            line: Some(line),
            col: Some(col),
            detail: Some(format!("line {line}: {text}")),
        }
    }

    /// check_ddl's ERROR as the server sent it: a syntax error's "(line L, column C)" becomes
    /// the position, as `FileError::syntax` has it offline.
    pub fn from_server(message: &str, detail: Option<&str>) -> FileError {
        let message = message.strip_prefix("check_ddl: ").unwrap_or(message);
        if let Some(open) = message.rfind(" (line ") {
            let tail = &message[open + 7..];
            if let Some((l, rest)) = tail.split_once(", column ") {
                if let (Ok(line), Some(c)) = (l.parse::<i32>(), rest.strip_suffix(')')) {
                    if let Ok(col) = c.parse::<i32>() {
                        return FileError {
                            message: message[..open].to_string(),
                            line: Some(line),
                            col: Some(col),
                            detail: detail.map(str::to_string),
                        };
                    }
                }
            }
        }
        FileError {
            message: message.to_string(),
            line: None,
            col: None,
            detail: detail.map(str::to_string),
        }
    }
}

/// Moves each statement's position past the comments before it, to its first token.
///
/// check_ddl reports where the parser starts a statement. PostgreSQL 18's parser starts it at its
/// first token; earlier ones right after the `;` before it, so on PostgreSQL 15 a statement
/// preceded by a comment is reported at the comment. Both are moved here to the first token (in
/// the script with psql meta-commands and COPY data blanked out, as check_ddl parses it), so a
/// finding points at the statement on every server, online and offline alike. Notes about
/// skipped psql lines (statement 0) keep their line.
pub fn at_first_token(original: &str, rows: &mut [Row]) {
    let (sql, _) = sidecar_rules::psql::blank_client_side(original);
    let b = sql.as_bytes();
    let starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    for row in rows
        .iter_mut()
        .filter(|r| r.statement > 0 && r.line > 0 && r.col > 0)
    {
        let Some(&ls) = starts.get(row.line as usize - 1) else {
            continue;
        };
        let Some((off, _)) = sql[ls..].char_indices().nth(row.col as usize - 1) else {
            continue;
        };
        let mut i = ls + off;
        loop {
            if i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            } else if b[i..].starts_with(b"--") {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            } else if b[i..].starts_with(b"/*") {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            } else {
                break;
            }
        }
        if i >= b.len() || !sql.is_char_boundary(i) {
            continue;
        }
        let line = starts.partition_point(|&s| s <= i);
        row.line = line as i32;
        row.col = sql[starts[line - 1]..i].chars().count() as i32 + 1;
    }
}

/// One checked file.
#[derive(Debug, Clone)]
pub struct FileResult {
    /// As given on the command line (`-` reads stdin, shown as `--stdin-name`).
    pub file: String,
    pub outcome: Result<Vec<Row>, FileError>,
}

/// The threshold of `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// A blocking finding fails the check (the guard would refuse the statement).
    Block,
    /// A warning fails it too.
    Warn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `file:line:col: severity[rule-id]: message`, then detail, hint and remediation.
    Text,
    /// One JSON document: every finding with its file, and the files that could not be checked.
    Json,
    /// GitHub Actions annotations (`::error file=...,line=...,col=...::...`).
    Github,
}

/// Counts of what was found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub files: usize,
    pub block: usize,
    pub warn: usize,
    pub note: usize,
    pub errors: usize,
}

/// Drops the findings of excluded rules.
pub fn exclude(results: &mut [FileResult], rules: &[String]) {
    for r in results.iter_mut() {
        if let Ok(rows) = &mut r.outcome {
            rows.retain(|row| !row.rule_id.as_ref().is_some_and(|id| rules.contains(id)));
        }
    }
}

pub fn summary(results: &[FileResult]) -> Summary {
    let mut s = Summary {
        files: results.len(),
        ..Summary::default()
    };
    for r in results {
        match &r.outcome {
            Err(_) => s.errors += 1,
            Ok(rows) => {
                for row in rows {
                    match row.severity.as_str() {
                        "block" => s.block += 1,
                        "warn" => s.warn += 1,
                        _ => s.note += 1,
                    }
                }
            }
        }
    }
    s
}

/// 2 when a file could not be checked, 1 when a finding reaches `fail_on`, else 0.
pub fn exit_code(s: &Summary, fail_on: FailOn) -> i32 {
    if s.errors > 0 {
        2
    } else if s.block > 0 || (fail_on == FailOn::Warn && s.warn > 0) {
        1
    } else {
        0
    }
}

fn indented(label: &str, text: &str) -> String {
    let mut out = String::new();
    for (i, l) in text.lines().enumerate() {
        if i == 0 {
            out.push_str(&format!("    {label}: {l}\n"));
        } else {
            out.push_str(&format!("    {:width$}  {l}\n", "", width = label.len()));
        }
    }
    out
}

pub fn render_text(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        match &r.outcome {
            Err(e) => {
                let at = match (e.line, e.col) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", r.file),
                    _ => r.file.clone(),
                };
                out.push_str(&format!("{at}: error: {}\n", e.message));
                if let Some(d) = &e.detail {
                    out.push_str(&indented("detail", d));
                }
            }
            Ok(rows) => {
                for row in rows {
                    let tag = match &row.rule_id {
                        Some(id) => format!("{}[{id}]", row.severity),
                        None => row.severity.clone(),
                    };
                    out.push_str(&format!(
                        "{}:{}:{}: {tag}: {}\n",
                        r.file, row.line, row.col, row.message
                    ));
                    for (label, v) in [
                        ("detail", &row.detail),
                        ("hint", &row.hint),
                        ("remediation", &row.remediation),
                    ] {
                        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                            out.push_str(&indented(label, v));
                        }
                    }
                }
            }
        }
    }
    out
}

/// The JSON document of `--format json`.
pub fn render_json(results: &[FileResult], s: &Summary) -> String {
    #[derive(Serialize)]
    struct Finding<'a> {
        file: &'a str,
        #[serde(flatten)]
        row: &'a Row,
    }
    #[derive(Serialize)]
    struct Error<'a> {
        file: &'a str,
        #[serde(flatten)]
        error: &'a FileError,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        version: u32,
        findings: Vec<Finding<'a>>,
        errors: Vec<Error<'a>>,
        summary: &'a Summary,
    }
    let mut doc = Doc {
        version: 1,
        findings: Vec::new(),
        errors: Vec::new(),
        summary: s,
    };
    for r in results {
        match &r.outcome {
            Ok(rows) => doc
                .findings
                .extend(rows.iter().map(|row| Finding { file: &r.file, row })),
            Err(e) => doc.errors.push(Error {
                file: &r.file,
                error: e,
            }),
        }
    }
    let mut text = serde_json::to_string_pretty(&doc).expect("plain data serializes");
    text.push('\n');
    text
}

/// A workflow command's property value: `%`, CR, LF, `:` and `,` escaped.
fn gh_property(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C")
}

/// A workflow command's message: `%`, CR and LF escaped.
fn gh_message(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub fn render_github(results: &[FileResult]) -> String {
    let mut out = String::new();
    for r in results {
        let file = gh_property(&r.file);
        match &r.outcome {
            Err(e) => {
                let mut props = format!("file={file}");
                if let (Some(l), Some(c)) = (e.line, e.col) {
                    props.push_str(&format!(",line={l},col={c}"));
                }
                let mut msg = e.message.clone();
                if let Some(d) = &e.detail {
                    msg.push_str(&format!("\n{d}"));
                }
                out.push_str(&format!(
                    "::error {props},title={}::{}\n",
                    gh_property("citus-sidecar"),
                    gh_message(&msg)
                ));
            }
            Ok(rows) => {
                for row in rows {
                    let level = match row.severity.as_str() {
                        "block" => "error",
                        "warn" => "warning",
                        _ => "notice",
                    };
                    let title = match &row.rule_id {
                        Some(id) => format!("citus-sidecar {id}"),
                        None => "citus-sidecar".into(),
                    };
                    let mut msg = row.message.clone();
                    for (label, v) in [("hint", &row.hint), ("remediation", &row.remediation)] {
                        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                            msg.push_str(&format!("\n{label}: {v}"));
                        }
                    }
                    out.push_str(&format!(
                        "::{level} file={file},line={},col={},title={}::{}\n",
                        row.line,
                        row.col,
                        gh_property(&title),
                        gh_message(&msg)
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_syntax_errors_keep_their_position() {
        let e = FileError::from_server(
            "check_ddl: the script does not parse: syntax error at or near \"SELEC\" (line 3, column 5)",
            Some("line 3:     SELEC 1"),
        );
        assert_eq!(
            e.message,
            "the script does not parse: syntax error at or near \"SELEC\""
        );
        assert_eq!((e.line, e.col), (Some(3), Some(5)));
        let e = FileError::from_server("check_ddl: the script contains a NUL character", None);
        assert_eq!(
            (e.message.as_str(), e.line),
            ("the script contains a NUL character", None)
        );
    }

    #[test]
    fn positions_move_past_leading_comments() {
        let script = "SELECT 1;\n\\echo x\n-- why\n/* a /* nested */ b */\n  SELECT 2;\n";
        let mut rows = vec![
            Row::note(2, String::new(), "m".into(), 1, 10),
            Row::note(0, String::new(), "psql".into(), 3, 1),
        ];
        at_first_token(script, &mut rows);
        assert_eq!((rows[0].line, rows[0].col), (5, 3));
        assert_eq!(
            (rows[1].line, rows[1].col),
            (3, 1),
            "notes about psql lines stay"
        );
    }

    #[test]
    fn annotations_escape_what_github_requires() {
        let mut row = Row::note(1, "x".into(), "50% done\nnext".into(), 2, 3);
        row.severity = "block".into();
        row.rule_id = Some("shard-count-colocation".into());
        row.hint = Some("a, b: c".into());
        let out = render_github(&[FileResult {
            file: "m,1.sql".into(),
            outcome: Ok(vec![row]),
        }]);
        assert_eq!(
            out,
            "::error file=m%2C1.sql,line=2,col=3,title=citus-sidecar shard-count-colocation::50%25 done%0Anext%0Ahint: a, b: c\n"
        );
    }

    #[test]
    fn exit_codes_follow_fail_on() {
        let s = Summary {
            files: 1,
            warn: 1,
            ..Summary::default()
        };
        assert_eq!(exit_code(&s, FailOn::Block), 0);
        assert_eq!(exit_code(&s, FailOn::Warn), 1);
        assert_eq!(exit_code(&Summary { block: 1, ..s }, FailOn::Block), 1);
        assert_eq!(
            exit_code(
                &Summary {
                    errors: 1,
                    block: 1,
                    ..s
                },
                FailOn::Block
            ),
            2
        );
    }
}
