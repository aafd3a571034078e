//! The one-transaction escape hatch: `citus_sidecar.allow_once(rule, reason)` lets one named
//! blocking rule through, with a reason, until the end of the transaction. It is kept in the
//! transaction-local setting `citus_sidecar.allow_once` as lines of `rule-id:reason`.

use crate::finding::RuleId;

/// Longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hatch {
    pub rule: RuleId,
    pub reason: String,
}

/// Checks the arguments of `allow_once`; the error is the message to raise.
pub fn validate(rule: Option<&str>, reason: Option<&str>) -> Result<Hatch, String> {
    let rule_text = rule.map(str::trim).unwrap_or("");
    let rule = RuleId::parse(rule_text).ok_or_else(|| {
        let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
        if rule_text.is_empty() {
            format!(
                "allow_once needs a rule id; known rules: {}",
                known.join(", ")
            )
        } else {
            format!(
                "unknown rule \"{}\"; known rules: {}",
                truncate(rule_text, 64),
                known.join(", ")
            )
        }
    })?;
    let reason = reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(format!(
            "allow_once for {rule} needs a reason: say why this is safe, e.g. SELECT citus_sidecar.allow_once('{rule}', 'ticket OPS-123: repair after failed move');"
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!(
            "the reason is longer than {MAX_REASON_CHARS} characters"
        ));
    }
    if reason.contains('\n') || reason.contains('\0') {
        return Err("the reason must be a single line".to_string());
    }
    Ok(Hatch {
        rule,
        reason: reason.to_string(),
    })
}

/// The setting's value for a list of hatches.
pub fn encode(hatches: &[Hatch]) -> String {
    hatches
        .iter()
        .map(|h| format!("{}:{}", h.rule, h.reason))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses the setting's value; None when it is malformed.
pub fn decode(value: &str) -> Option<Vec<Hatch>> {
    value
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (rule, reason) = line.split_once(':')?;
            validate(Some(rule), Some(reason)).ok()
        })
        .collect()
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn needs_a_known_rule_and_a_reason() {
        assert!(validate(None, Some("x"))
            .unwrap_err()
            .contains("needs a rule id"));
        assert!(validate(Some("nope"), Some("x"))
            .unwrap_err()
            .contains("unknown rule \"nope\""));
        assert!(validate(Some("metadata-hand-edit"), None)
            .unwrap_err()
            .contains("needs a reason"));
        assert!(validate(Some("metadata-hand-edit"), Some("   "))
            .unwrap_err()
            .contains("needs a reason"));
        assert!(
            validate(Some("metadata-hand-edit"), Some(&"x".repeat(1001)))
                .unwrap_err()
                .contains("longer")
        );
        assert!(validate(Some("metadata-hand-edit"), Some("a\nb"))
            .unwrap_err()
            .contains("single line"));
        let h = validate(Some(" metadata-hand-edit "), Some(" OPS-1 ")).unwrap();
        assert_eq!(h.rule, RuleId::MetadataHandEdit);
        assert_eq!(h.reason, "OPS-1");
    }

    #[test]
    fn round_trips() {
        let hs = vec![
            validate(Some("metadata-hand-edit"), Some("fix: placement 7")).unwrap(),
            validate(Some("shard-count-colocation"), Some("new tenant type")).unwrap(),
        ];
        assert_eq!(decode(&encode(&hs)), Some(hs));
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode("garbage"), None);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(rule in ".{0,80}", reason in ".{0,1200}") {
            let _ = validate(Some(&rule), Some(&reason));
            let _ = decode(&format!("{rule}:{reason}"));
        }
    }
}
