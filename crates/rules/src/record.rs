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
    /// The table's OID, for distribution calls (the split check finds a table's last call by it,
    /// whatever its name is now).
    pub relid: Option<u32>,
    /// `colocate_with` as the called function reads it (`none`, `default`, or a table), for
    /// distribution calls that say where the table goes.
    pub colocate_with: Option<&'a str>,
}

/// Longest statement text kept, in characters.
pub const MAX_STATEMENT_CHARS: usize = 4000;

impl Decision<'_> {
    pub fn to_json_line(&self) -> String {
        let statement: String = self.statement.chars().take(MAX_STATEMENT_CHARS).collect();
        let rules: Vec<String> = self.rules.iter().map(|r| json_string(r)).collect();
        // Fields after "reason" only when there is something to say: lines of other decisions
        // stay as 0.1.0 wrote them.
        let mut call = String::new();
        if let Some(relid) = self.relid {
            call.push_str(&format!(",\"relid\":{relid}"));
        }
        if let Some(cw) = self.colocate_with {
            call.push_str(&format!(",\"colocate_with\":{}", json_string(cw)));
        }
        format!(
            "{{\"at\":{},\"pid\":{},\"role\":{},\"database\":{},\"subject\":{},\"table\":{},\"statement\":{},\"rules\":[{}],\"verdict\":{},\"reason\":{}{call}}}\n",
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

/// Where the decision log keeps a record. Records of superusers and every use of the escape
/// hatch share one file with the log's whole budget; every other role has a file of its own with
/// a smaller one. So a role that floods the log with blocked attempts rotates only its own
/// records: it can push out neither the hatch records nor the decisions of any other role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shelf {
    Privileged,
    Role(u32),
}

impl Shelf {
    pub fn of(superuser: bool, verdict: &str, role_oid: u32) -> Shelf {
        if superuser || verdict == "allowed-by-hatch" {
            Shelf::Privileged
        } else {
            Shelf::Role(role_oid)
        }
    }

    /// The file name, in the log's directory (`decisions.jsonl` is 0.1.0's one file).
    pub fn file_name(self) -> String {
        match self {
            Shelf::Privileged => "decisions.jsonl".to_string(),
            Shelf::Role(oid) => format!("decisions-role-{oid}.jsonl"),
        }
    }

    /// Bytes its file may hold before it is rotated (the log keeps one rotated file per shelf):
    /// the setting for the privileged shelf, a sixteenth of it (at least 256 kB) per role.
    pub fn budget(self, setting_bytes: u64) -> u64 {
        match self {
            Shelf::Privileged => setting_bytes,
            Shelf::Role(_) => (setting_bytes / 16).max(256 * 1024),
        }
    }

    /// Is `name` one of the log's files (current or rotated)?
    pub fn is_log_file(name: &str) -> bool {
        let base = name.strip_suffix(".1").unwrap_or(name);
        base == "decisions.jsonl"
            || base
                .strip_prefix("decisions-role-")
                .and_then(|r| r.strip_suffix(".jsonl"))
                .is_some_and(|oid| !oid.is_empty() && oid.bytes().all(|b| b.is_ascii_digit()))
    }
}

/// The `at` of a record line (it comes first in every line [`Decision::to_json_line`] writes),
/// to merge the shelves in time order.
pub fn line_time(line: &str) -> Option<i64> {
    let rest = line.strip_prefix("{\"at\":")?;
    let end = rest.find(|c: char| c != '-' && !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

/// The distribution-call record of a log line: one the guard wrote with a `relid` (0.2.0 and
/// later); None for any other line.
pub fn call_record(line: &str) -> Option<crate::split::CallRecord> {
    if !line.contains("\"relid\":") {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    Some(crate::split::CallRecord {
        at: v.get("at")?.as_i64()?,
        database: v.get("database")?.as_str()?.to_string(),
        relid: u32::try_from(v.get("relid")?.as_u64()?).ok()?,
        verdict: v.get("verdict")?.as_str()?.to_string(),
        colocate_with: v
            .get("colocate_with")
            .and_then(|c| c.as_str())
            .map(str::to_string),
    })
}

/// `colocate_with` of a distribution call as its function reads it, for the decision log: the
/// keyword (`default`, `none`) or the table, or None when the call leaves it to Citus
/// (alter_distributed_table without it, undistribute_table).
pub fn colocate_with_of(call: &crate::DistCall) -> Option<String> {
    use crate::{ColocateWith, DistCall};
    let cw = match call {
        DistCall::CreateDistributedTable { colocate_with, .. }
        | DistCall::UpdateDistributedTableColocation { colocate_with, .. } => Some(colocate_with),
        DistCall::AlterDistributedTable { colocate_with, .. } => colocate_with.as_ref(),
        DistCall::UndistributeTable { .. } => None,
    }?;
    Some(match cw {
        ColocateWith::Default => "default".to_string(),
        ColocateWith::None => "none".to_string(),
        ColocateWith::Table(t) => t.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_flooding_the_log_fills_only_its_own_shelf() {
        // an application role's blocked attempts: its own file, a sixteenth of the budget
        let app = Shelf::of(false, "blocked", 16384);
        assert_eq!(app, Shelf::Role(16384));
        assert_eq!(app.file_name(), "decisions-role-16384.jsonl");
        assert_eq!(app.budget(64 << 20), 4 << 20);
        assert_eq!(
            Shelf::Role(1).budget(1 << 20),
            256 * 1024,
            "never below 256 kB"
        );
        // superusers and hatch records share the privileged file and the whole budget
        assert_eq!(Shelf::of(true, "blocked", 10), Shelf::Privileged);
        assert_eq!(
            Shelf::of(false, "allowed-by-hatch", 16384),
            Shelf::Privileged
        );
        assert_eq!(Shelf::Privileged.file_name(), "decisions.jsonl");
        assert_eq!(Shelf::Privileged.budget(64 << 20), 64 << 20);
        for (name, ok) in [
            ("decisions.jsonl", true),
            ("decisions.jsonl.1", true),
            ("decisions-role-16384.jsonl", true),
            ("decisions-role-16384.jsonl.1", true),
            ("decisions-role-.jsonl", false),
            ("decisions-role-../x.jsonl", false),
            ("other.jsonl", false),
        ] {
            assert_eq!(Shelf::is_log_file(name), ok, "{name}");
        }
    }

    #[test]
    fn record_lines_say_when_they_were_made_first() {
        let d = Decision {
            at: 814_000_000_123,
            pid: 1,
            role: "r",
            database: "d",
            subject: "s",
            table: None,
            statement: "",
            rules: &[],
            verdict: "allowed",
            reason: None,
            relid: None,
            colocate_with: None,
        };
        assert_eq!(line_time(&d.to_json_line()), Some(814_000_000_123));
        assert_eq!(line_time("{\"pid\":1}"), None);
    }

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
            relid: None,
            colocate_with: None,
        };
        let line = d.to_json_line();
        assert_eq!(line.matches('\n').count(), 1);
        assert!(line.ends_with("\"reason\":null}\n"));
        assert!(line.contains(r#""role":"app\"x""#));
        assert!(line.contains(r#""statement":"SELECT 'a\\b'\n;""#));
        assert_eq!(json_string("\u{1}"), "\"\\u0001\"");
        assert!(call_record(&line).is_none(), "no relid: not a call record");
    }

    #[test]
    fn distribution_calls_carry_their_table_and_colocation() {
        let d = Decision {
            at: 42,
            pid: 2,
            role: "r",
            database: "app \"x\"",
            subject: "create_distributed_table",
            table: Some("orders"),
            statement: "SELECT create_distributed_table('orders', 'user_id', colocate_with => 'none') -- \"relid\":1",
            rules: &[],
            verdict: "allowed",
            reason: None,
            relid: Some(16385),
            colocate_with: Some("none"),
        };
        let line = d.to_json_line();
        assert!(
            line.ends_with(",\"relid\":16385,\"colocate_with\":\"none\"}\n"),
            "{line}"
        );
        let r = call_record(&line).expect("a call record");
        assert_eq!(
            (
                r.at,
                r.database.as_str(),
                r.relid,
                r.verdict.as_str(),
                r.colocate_with.as_deref()
            ),
            (42, "app \"x\"", 16385, "allowed", Some("none"))
        );
        assert_eq!(line_time(&line), Some(42));
        assert_eq!(rules_and_verdict(&line).unwrap().1, "allowed");
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
            relid: None,
            colocate_with: None,
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
