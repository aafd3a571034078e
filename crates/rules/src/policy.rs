//! How findings become actions: the mode (`citus_sidecar.mode`) and per-rule overrides
//! (`citus_sidecar.rule_overrides`).

use crate::finding::{Finding, RuleId, Severity};
use crate::hatch::Hatch;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Blocking rules raise an ERROR; warning rules a WARNING.
    Enforce,
    /// Every finding is a WARNING.
    Warn,
    /// The guard does nothing.
    Off,
}

/// A per-rule override can only loosen a rule: to `warn` or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOverride {
    Warn,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Error,
    Warning,
    Ignore,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleOverrides(Vec<(RuleId, RuleOverride)>);

impl RuleOverrides {
    /// Parses `rule=warn, other-rule=off`. An empty string is no overrides.
    pub fn parse(s: &str) -> Result<RuleOverrides, String> {
        let mut v = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (rule, what) = item
                .split_once('=')
                .ok_or_else(|| format!("\"{item}\" is not of the form rule=warn or rule=off"))?;
            let (rule, what) = (rule.trim(), what.trim());
            let rule = RuleId::parse(rule).ok_or_else(|| {
                let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown rule \"{rule}\"; known rules: {}", known.join(", "))
            })?;
            let what = match what.to_ascii_lowercase().as_str() {
                "warn" => RuleOverride::Warn,
                "off" => RuleOverride::Off,
                _ => return Err(format!("\"{what}\" is not warn or off")),
            };
            v.retain(|(r, _)| *r != rule);
            v.push((rule, what));
        }
        Ok(RuleOverrides(v))
    }

    pub fn get(&self, rule: RuleId) -> Option<RuleOverride> {
        self.0.iter().find(|(r, _)| *r == rule).map(|(_, o)| *o)
    }
}

/// What to do with one finding.
pub fn action(f: &Finding, mode: Mode, overrides: &RuleOverrides) -> Action {
    if mode == Mode::Off {
        return Action::Ignore;
    }
    let base = match (f.severity, mode) {
        (Severity::Block, Mode::Enforce) => Action::Error,
        _ => Action::Warning,
    };
    match overrides.get(f.rule) {
        Some(RuleOverride::Off) => Action::Ignore,
        Some(RuleOverride::Warn) if base == Action::Error => Action::Warning,
        _ => base,
    }
}

/// What the guard decided about one statement, for the decision log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Warned,
    Blocked,
    AllowedByHatch,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allowed => "allowed",
            Verdict::Warned => "warned",
            Verdict::Blocked => "blocked",
            Verdict::AllowedByHatch => "allowed-by-hatch",
        }
    }
}

/// The findings sorted into what to say and what to stop.
#[derive(Debug)]
pub struct Outcome<'a> {
    pub verdict: Verdict,
    /// Findings to emit as WARNINGs (including blocking ones let through by a hatch).
    pub warnings: Vec<&'a Finding>,
    /// The finding to raise as an ERROR.
    pub error: Option<&'a Finding>,
    /// The hatch that let a blocking finding through.
    pub hatch: Option<&'a Hatch>,
}

/// Sorts findings under the mode, the overrides and the transaction's escape hatches.
pub fn apply<'a>(
    findings: &'a [Finding],
    mode: Mode,
    overrides: &RuleOverrides,
    hatches: &'a [Hatch],
) -> Outcome<'a> {
    let mut out = Outcome {
        verdict: Verdict::Allowed,
        warnings: Vec::new(),
        error: None,
        hatch: None,
    };
    for f in findings {
        match action(f, mode, overrides) {
            Action::Ignore => {}
            Action::Warning => out.warnings.push(f),
            Action::Error => match hatches.iter().find(|h| h.rule == f.rule) {
                Some(h) => {
                    out.warnings.push(f);
                    out.hatch.get_or_insert(h);
                }
                None => {
                    out.error.get_or_insert(f);
                }
            },
        }
    }
    out.verdict = if out.error.is_some() {
        Verdict::Blocked
    } else if out.hatch.is_some() {
        Verdict::AllowedByHatch
    } else if !out.warnings.is_empty() {
        Verdict::Warned
    } else {
        Verdict::Allowed
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hatch_lets_its_rule_through_only() {
        let fs = vec![f(RuleId::MetadataHandEdit), f(RuleId::ShardCountColocation)];
        let o = RuleOverrides::default();
        let h = vec![crate::hatch::validate(Some("metadata-hand-edit"), Some("OPS-1")).unwrap()];
        let out = apply(&fs[..1], Mode::Enforce, &o, &h);
        assert_eq!(out.verdict, Verdict::AllowedByHatch);
        assert_eq!(out.hatch.unwrap().reason, "OPS-1");
        let out = apply(&fs, Mode::Enforce, &o, &h);
        assert_eq!(out.verdict, Verdict::Blocked);
        assert_eq!(out.error.unwrap().rule, RuleId::ShardCountColocation);
        assert_eq!(apply(&[], Mode::Enforce, &o, &h).verdict, Verdict::Allowed);
        assert_eq!(
            apply(&fs[..1], Mode::Warn, &o, &[]).verdict,
            Verdict::Warned
        );
    }

    fn f(rule: RuleId) -> Finding {
        Finding::new(rule, "m")
    }

    #[test]
    fn enforce_blocks_blocking_rules_and_warns_the_rest() {
        let o = RuleOverrides::default();
        assert_eq!(
            action(&f(RuleId::ShardCountColocation), Mode::Enforce, &o),
            Action::Error
        );
        assert_eq!(
            action(&f(RuleId::NullableDistributionColumn), Mode::Enforce, &o),
            Action::Warning
        );
        assert_eq!(
            action(&f(RuleId::ShardCountColocation), Mode::Warn, &o),
            Action::Warning
        );
        assert_eq!(
            action(&f(RuleId::ShardCountColocation), Mode::Off, &o),
            Action::Ignore
        );
    }

    #[test]
    fn overrides_only_loosen() {
        let o =
            RuleOverrides::parse("shard-count-colocation=warn, no-replica-identity = OFF").unwrap();
        assert_eq!(
            action(&f(RuleId::ShardCountColocation), Mode::Enforce, &o),
            Action::Warning
        );
        assert_eq!(
            action(&f(RuleId::NoReplicaIdentity), Mode::Enforce, &o),
            Action::Ignore
        );
        assert_eq!(
            action(&f(RuleId::EnumDistributionColumn), Mode::Enforce, &o),
            Action::Error
        );
        // warn on a warning rule stays a warning
        let o = RuleOverrides::parse("shard-count-nodes=warn").unwrap();
        assert_eq!(
            action(&f(RuleId::ShardCountNodes), Mode::Enforce, &o),
            Action::Warning
        );
    }

    #[test]
    fn bad_overrides_are_rejected_with_a_reason() {
        assert!(RuleOverrides::parse("")
            .unwrap()
            .get(RuleId::ShardCountRange)
            .is_none());
        assert!(RuleOverrides::parse("bogus=off")
            .unwrap_err()
            .contains("unknown rule"));
        assert!(RuleOverrides::parse("shard-count-range")
            .unwrap_err()
            .contains("form"));
        assert!(RuleOverrides::parse("shard-count-range=error")
            .unwrap_err()
            .contains("warn or off"));
        // the last mention of a rule wins
        let o = RuleOverrides::parse("shard-count-range=off,shard-count-range=warn").unwrap();
        assert_eq!(o.get(RuleId::ShardCountRange), Some(RuleOverride::Warn));
    }
}
