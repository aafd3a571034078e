//! One guard decision as a JSON line, for the decision log.

/// A JSON string literal.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub struct Decision<'a> {
    /// Microseconds since 2000-01-01 UTC (PostgreSQL's TimestampTz).
    pub at: i64,
    pub pid: i32,
    pub role: &'a str,
    pub database: &'a str,
    /// What was decided on: the function called, or the metadata edit.
    pub subject: &'a str,
    /// The table it concerns, when there is one.
    pub table: Option<&'a str>,
    pub statement: &'a str,
    pub rules: &'a [&'a str],
    /// allowed | warned | blocked | allowed-by-hatch
    pub verdict: &'a str,
    pub reason: Option<&'a str>,
}

/// Longest statement text kept, in characters.
pub const MAX_STATEMENT_CHARS: usize = 4000;

impl Decision<'_> {
    pub fn to_json_line(&self) -> String {
        let statement: String = self.statement.chars().take(MAX_STATEMENT_CHARS).collect();
        let rules: Vec<String> = self.rules.iter().map(|r| json_string(r)).collect();
        format!(
            "{{\"at\":{},\"pid\":{},\"role\":{},\"database\":{},\"subject\":{},\"table\":{},\"statement\":{},\"rules\":[{}],\"verdict\":{},\"reason\":{}}}\n",
            self.at,
            self.pid,
            json_string(self.role),
            json_string(self.database),
            json_string(self.subject),
            self.table.map(json_string).unwrap_or_else(|| "null".into()),
            json_string(&statement),
            rules.join(","),
            json_string(self.verdict),
            self.reason.map(json_string).unwrap_or_else(|| "null".into()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats_one_line() {
        let d = Decision {
            at: 1,
            pid: 2,
            role: "app\"x",
            database: "db",
            subject: "create_distributed_table",
            table: Some("orders"),
            statement: "SELECT 'a\\b'\n;",
            rules: &["shard-count-colocation"],
            verdict: "blocked",
            reason: None,
        };
        let line = d.to_json_line();
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with("\"reason\":null}\n"));
        assert!(line.contains(r#""role":"app\"x""#));
        assert!(line.contains(r#""statement":"SELECT 'a\\b'\n;""#));
        assert_eq!(json_string("\u{1}"), "\"\\u0001\"");
    }
}
