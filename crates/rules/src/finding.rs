//! What a rule returns: a finding with a stable rule id, its own SQLSTATE, and the text an
//! operator reads (message, detail, hint) plus the statement that fixes it, if there is one.

use std::fmt;

/// Every rule the guard knows. The ids are stable: they appear in error messages, in the
/// decision log, in `citus_sidecar.rule_overrides` and in the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    /// A new hash-distributed table would start its own colocation group with a shard count
    /// that differs from the existing group(s) of the same distribution column type.
    ShardCountColocation,
    /// A shard count Citus itself fails to check (create_distributed_table_concurrently,
    /// alter_distributed_table).
    ShardCountRange,
    /// Fewer shards than nodes that can hold shards, or not a multiple of them.
    ShardCountNodes,
    /// Distribution column whose hash depends on node-local OIDs (enums and types built on them).
    EnumDistributionColumn,
    /// Distribution column that allows NULL.
    NullableDistributionColumn,
    /// Distribution column with a tiny domain (boolean and the like).
    TinyDomainDistributionColumn,
    /// Table without a primary key or replica identity.
    NoReplicaIdentity,
    /// INSERT/UPDATE/DELETE/TRUNCATE/ALTER on Citus metadata from a client session.
    MetadataHandEdit,
    /// A distribution call whose arguments the guard cannot know before Citus runs it.
    UncheckedCall,
}

impl RuleId {
    pub const ALL: [RuleId; 9] = [
        RuleId::ShardCountColocation,
        RuleId::ShardCountRange,
        RuleId::ShardCountNodes,
        RuleId::EnumDistributionColumn,
        RuleId::NullableDistributionColumn,
        RuleId::TinyDomainDistributionColumn,
        RuleId::NoReplicaIdentity,
        RuleId::MetadataHandEdit,
        RuleId::UncheckedCall,
    ];

    /// The stable, user-facing id.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ShardCountColocation => "shard-count-colocation",
            RuleId::ShardCountRange => "shard-count-range",
            RuleId::ShardCountNodes => "shard-count-nodes",
            RuleId::EnumDistributionColumn => "enum-distribution-column",
            RuleId::NullableDistributionColumn => "nullable-distribution-column",
            RuleId::TinyDomainDistributionColumn => "tiny-domain-distribution-column",
            RuleId::NoReplicaIdentity => "no-replica-identity",
            RuleId::MetadataHandEdit => "metadata-hand-edit",
            RuleId::UncheckedCall => "unchecked-call",
        }
    }

    /// Each rule has its own SQLSTATE in class `SC` (outside the classes PostgreSQL reserves),
    /// so a client or a migration tool can tell them apart without parsing text.
    pub fn sqlstate(self) -> &'static str {
        match self {
            RuleId::ShardCountColocation => "SC001",
            RuleId::ShardCountRange => "SC002",
            RuleId::ShardCountNodes => "SC003",
            RuleId::EnumDistributionColumn => "SC004",
            RuleId::NullableDistributionColumn => "SC005",
            RuleId::TinyDomainDistributionColumn => "SC006",
            RuleId::NoReplicaIdentity => "SC007",
            RuleId::MetadataHandEdit => "SC008",
            RuleId::UncheckedCall => "SC009",
        }
    }

    /// What the rule does when nothing overrides it.
    pub fn default_severity(self) -> Severity {
        match self {
            RuleId::ShardCountColocation
            | RuleId::ShardCountRange
            | RuleId::EnumDistributionColumn
            | RuleId::MetadataHandEdit
            | RuleId::UncheckedCall => Severity::Block,
            RuleId::ShardCountNodes
            | RuleId::NullableDistributionColumn
            | RuleId::TinyDomainDistributionColumn
            | RuleId::NoReplicaIdentity => Severity::Warn,
        }
    }

    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warn,
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    /// Primary message, PostgreSQL style: lower-case first, no trailing period.
    pub message: String,
    /// What was found.
    pub detail: String,
    /// What to do, naming the exact statement.
    pub hint: String,
    /// The statement that fixes it, when there is one.
    pub remediation: Option<String>,
}

impl Finding {
    pub fn new(rule: RuleId, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.default_severity(),
            message: message.into(),
            detail: String::new(),
            hint: String::new(),
            remediation: None,
        }
    }
    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.detail = d.into();
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = h.into();
        self
    }
    pub fn remediation(mut self, sql: impl Into<String>) -> Self {
        self.remediation = Some(sql.into());
        self
    }
    pub fn remediation_opt(mut self, sql: Option<String>) -> Self {
        self.remediation = sql;
        self
    }
    pub fn sqlstate(&self) -> &'static str {
        self.rule.sqlstate()
    }
}

/// Packs a five-character SQLSTATE the way PostgreSQL's MAKE_SQLSTATE macro does.
pub fn make_sqlstate(s: &str) -> i32 {
    let b = s.as_bytes();
    let six = |i: usize| (b.get(i).copied().unwrap_or(b'0').wrapping_sub(b'0') & 0x3F) as i32;
    six(0) | (six(1) << 6) | (six(2) << 12) | (six(3) << 18) | (six(4) << 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstate_packing_matches_postgres() {
        assert_eq!(make_sqlstate("00000"), 0);
        // ERRCODE_FEATURE_NOT_SUPPORTED, MAKE_SQLSTATE('0','A','0','0','0')
        assert_eq!(make_sqlstate("0A000"), 17 << 6);
        // ERRCODE_INTERNAL_ERROR, MAKE_SQLSTATE('X','X','0','0','0')
        assert_eq!(make_sqlstate("XX000"), 40 | (40 << 6));
    }

    #[test]
    fn ids_and_sqlstates_are_unique_and_round_trip() {
        let mut ids = std::collections::HashSet::new();
        let mut states = std::collections::HashSet::new();
        for r in RuleId::ALL {
            assert!(ids.insert(r.as_str()));
            assert!(states.insert(r.sqlstate()));
            assert_eq!(RuleId::parse(r.as_str()), Some(r));
            let s = r.sqlstate();
            assert_eq!(s.len(), 5);
            // Class SC: outside the 0-4 and A-H classes PostgreSQL reserves.
            assert!(s.starts_with("SC"));
        }
        assert_eq!(RuleId::parse("no-such-rule"), None);
    }
}
