//! How findings become actions: the mode (`citus_sidecar.mode`) and per-rule overrides
//! (`citus_sidecar.rule_overrides`).

use crate::finding::{Finding, RuleId, Severity};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn f(rule: RuleId) -> Finding {
        Finding::new(rule, "m")
    }

    #[test]
    fn enforce_blocks_blocking_rules_and_warns_the_rest() {
        let o = RuleOverrides::default();
        assert_eq!(action(&f(RuleId::ShardCountColocation), Mode::Enforce, &o), Action::Error);
        assert_eq!(action(&f(RuleId::NullableDistributionColumn), Mode::Enforce, &o), Action::Warning);
        assert_eq!(action(&f(RuleId::ShardCountColocation), Mode::Warn, &o), Action::Warning);
        assert_eq!(action(&f(RuleId::ShardCountColocation), Mode::Off, &o), Action::Ignore);
    }

    #[test]
    fn overrides_only_loosen() {
        let o = RuleOverrides::parse("shard-count-colocation=warn, no-replica-identity = OFF").unwrap();
        assert_eq!(action(&f(RuleId::ShardCountColocation), Mode::Enforce, &o), Action::Warning);
        assert_eq!(action(&f(RuleId::NoReplicaIdentity), Mode::Enforce, &o), Action::Ignore);
        assert_eq!(action(&f(RuleId::EnumDistributionColumn), Mode::Enforce, &o), Action::Error);
        // warn on a warning rule stays a warning
        let o = RuleOverrides::parse("shard-count-nodes=warn").unwrap();
        assert_eq!(action(&f(RuleId::ShardCountNodes), Mode::Enforce, &o), Action::Warning);
    }

    #[test]
    fn bad_overrides_are_rejected_with_a_reason() {
        assert!(RuleOverrides::parse("").unwrap().get(RuleId::ShardCountRange).is_none());
        assert!(RuleOverrides::parse("bogus=off").unwrap_err().contains("unknown rule"));
        assert!(RuleOverrides::parse("shard-count-range").unwrap_err().contains("form"));
        assert!(RuleOverrides::parse("shard-count-range=error").unwrap_err().contains("warn or off"));
        // the last mention of a rule wins
        let o = RuleOverrides::parse("shard-count-range=off,shard-count-range=warn").unwrap();
        assert_eq!(o.get(RuleId::ShardCountRange), Some(RuleOverride::Warn));
    }
}
