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

/// The rule ids and the verdict of one decision line (for counting; the view reads the rest).
pub fn rules_and_verdict(line: &str) -> Option<(Vec<String>, String)> {
    let verdict = {
        let i = line.find("\"verdict\":\"")? + "\"verdict\":\"".len();
        let end = line[i..].find('"')?;
        line[i..i + end].to_string()
    };
    let i = line.find("\"rules\":[")? + "\"rules\":[".len();
    let end = line[i..].find(']')?;
    let rules = line[i..i + end]
        .split(',')
        .map(|r| r.trim().trim_matches('"').to_string())
        .filter(|r| !r.is_empty())
        .collect();
    Some((rules, verdict))
}

/// Metric names and labels: one sample line in the Prometheus text exposition format.
pub fn prometheus_sample(name: &str, labels: &[(&str, &str)], value: f64) -> String {
    let escape = |v: &str| {
        v.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    };
    let labels: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    let value = if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    };
    if labels.is_empty() {
        format!("{name} {value}\n")
    } else {
        format!("{name}{{{}}} {value}\n", labels.join(","))
    }
}

#[cfg(test)]
mod more_tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let d = Decision {
            at: 1,
            pid: 2,
            role: "r",
            database: "d",
            subject: "s",
            table: None,
            statement: "x",
            rules: &["a-rule", "b-rule"],
            verdict: "blocked",
            reason: None,
        };
        let (rules, verdict) = rules_and_verdict(&d.to_json_line()).unwrap();
        assert_eq!(rules, vec!["a-rule", "b-rule"]);
        assert_eq!(verdict, "blocked");
        assert!(rules_and_verdict("garbage").is_none());
    }

    #[test]
    fn prometheus_lines() {
        assert_eq!(
            prometheus_sample("m_total", &[("rule", "x\"y")], 3.0),
            "m_total{rule=\"x\\\"y\"} 3\n"
        );
        assert_eq!(prometheus_sample("g", &[], 1.5), "g 1.5\n");
    }
}
