//! The dry run behind `check_ddl(sql)`: a migration script's statements, one after another,
//! against a simulated copy of the cluster. Nothing is executed; each statement sees the
//! settings and the colocation groups the statements before it would have produced.

use crate::call::{describe_call, Arg, CallError, Catalog, CitusFunction};
use crate::distribution::{
    check_distribution_call, check_shard_count_setting, citus_refuses, default_group,
};
use crate::facts::*;
use crate::finding::{Finding, Severity};
use crate::metadata::{check_statement_on_name, StatementKind};

pub struct Simulation {
    pub cluster: Cluster,
    pub settings: Settings,
    next_group: u32,
}

impl Simulation {
    pub fn new(cluster: Cluster, settings: Settings) -> Self {
        let next_group = cluster.groups.iter().map(|g| g.id).max().unwrap_or(0) + 1;
        Simulation {
            cluster,
            settings,
            next_group,
        }
    }

    /// SET citus.shard_count = n (or RESET to `n`, the value it would return to).
    pub fn set_shard_count(&mut self, n: i32, how: &str) -> Vec<Finding> {
        self.settings.shard_count = n;
        check_shard_count_setting(n, how, &self.cluster)
            .into_iter()
            .collect()
    }

    pub fn set_replication_factor(&mut self, n: i32) {
        self.settings.replication_factor = n;
    }

    /// A distribution call as the script writes it: bound and described like the guard does
    /// ([`crate::call::describe_call`]), then [`Simulation::distribute`]. The error says why
    /// there is nothing to check (report it as a note).
    pub fn call(
        &mut self,
        function: CitusFunction,
        args: Vec<Arg>,
        catalog: &mut dyn Catalog,
    ) -> Result<Vec<Finding>, CallError> {
        let call = describe_call(function, args, catalog)?;
        Ok(self.distribute(&call))
    }

    /// A statement of `kind` on the relation named `schema.name` (schema None when
    /// unqualified): the metadata-hand-edit finding when it edits Citus metadata.
    pub fn statement(
        &self,
        kind: StatementKind,
        schema: Option<&str>,
        name: &str,
    ) -> Option<Finding> {
        check_statement_on_name(kind, schema, name)
    }

    /// A distribution call: its findings, and, when nothing blocks it, its effect on the
    /// simulated colocation groups. A call Citus refuses itself ([`citus_refuses`]) has no
    /// findings and no effect either.
    pub fn distribute(&mut self, call: &DistCall) -> Vec<Finding> {
        let findings = check_distribution_call(call, &self.cluster, &self.settings);
        if findings.iter().any(|f| f.severity == Severity::Block)
            || citus_refuses(call, &self.settings).is_some()
        {
            return findings;
        }
        if let DistCall::CreateDistributedTable {
            concurrently,
            table,
            distribution_column: Some(_),
            distribution_type,
            colocate_with,
            shard_count,
            ..
        } = call
        {
            if !distribution_type.eq_ignore_ascii_case("hash") {
                return findings;
            }
            let Some(col) = &table.column else {
                return findings;
            };
            let target = match colocate_with {
                ColocateWith::Default => default_group(
                    *concurrently,
                    col,
                    &self.cluster,
                    &self.settings,
                    *shard_count,
                )
                .map(|g| g.id),
                ColocateWith::None => None,
                ColocateWith::Table(t) => self
                    .cluster
                    .groups
                    .iter()
                    .find(|g| g.tables.iter().any(|x| x == t))
                    .map(|g| g.id),
            };
            match target.and_then(|id| self.cluster.groups.iter_mut().find(|g| g.id == id)) {
                Some(g) => {
                    g.tables.push(table.name.clone());
                    g.tables.sort();
                }
                None => {
                    let n = shard_count.unwrap_or(self.settings.shard_count);
                    self.cluster.groups.push(ColocationGroup {
                        id: self.next_group,
                        shard_count: n,
                        actual_shard_count: n,
                        replication_factor: self.settings.replication_factor,
                        type_oid: col.type_oid,
                        type_name: col.type_name.clone(),
                        // The collation Citus records is the one it looked the group up by.
                        collation: self.settings.colocation_collation(col, *concurrently),
                        tables: vec![table.name.clone()],
                    });
                    self.next_group += 1;
                }
            }
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::RuleId;

    fn table(name: &str) -> TableFacts {
        TableFacts {
            name: name.into(),
            has_replica_identity: true,
            colocation_id: None,
            colocated_with: vec![],
            primary_key: vec![],
            key_columns: vec![],
            column: Some(ColumnFacts {
                name: "user_id".into(),
                type_name: "bigint".into(),
                type_oid: 20,
                collation: 0,
                type_collation: 0,
                enum_based: false,
                not_null: true,
                tiny_domain: false,
            }),
        }
    }

    fn create(name: &str) -> DistCall {
        DistCall::CreateDistributedTable {
            concurrently: false,
            table: table(name),
            distribution_column: Some("user_id".into()),
            distribution_type: "hash".into(),
            colocate_with: ColocateWith::Default,
            shard_count: None,
        }
    }

    #[test]
    fn a_script_goes_through_the_same_binding_and_metadata_checks_as_the_guard() {
        use crate::call::{NotDescribed, Value};
        use crate::testing::{column, FakeCatalog, INT8};
        let mut cat = FakeCatalog::default();
        cat.add("users", vec![column("user_id", INT8)]);
        cat.add("orders", vec![column("user_id", INT8)]);
        let mut sim = Simulation::new(
            Cluster::default(),
            Settings {
                shard_count: 24,
                ..Settings::default()
            },
        );
        let call = |t: &str, extra: Vec<Arg>| {
            let mut a = vec![
                Arg::positional(Value::Text(t.into())),
                Arg::positional(Value::Text("user_id".into())),
            ];
            a.extend(extra);
            a
        };
        assert_eq!(
            sim.call(
                CitusFunction::CreateDistributedTable,
                call("users", vec![]),
                &mut cat
            ),
            Ok(vec![])
        );
        let f = sim
            .call(
                CitusFunction::CreateDistributedTable,
                call(
                    "orders",
                    vec![Arg::named("shard_count", Value::Text(" 0x30 ".into()))],
                ),
                &mut cat,
            )
            .expect("described");
        assert_eq!(
            f.iter().map(|f| f.rule).collect::<Vec<_>>(),
            vec![RuleId::ShardCountColocation]
        );
        assert_eq!(
            sim.call(
                CitusFunction::CreateDistributedTable,
                call(
                    "orders",
                    vec![Arg::named("shard_count", Value::Text("0".into()))]
                ),
                &mut cat
            ),
            Err(CallError::NotDescribed(NotDescribed::CitusRefuses {
                message: "0 is outside the valid range for parameter \"shard_count\" (1 .. 64000)"
                    .into()
            }))
        );
        assert_eq!(
            sim.cluster.groups.len(),
            1,
            "neither the blocked nor the refused call changed the groups"
        );
        let drop = sim
            .statement(StatementKind::DropTable, None, "pg_dist_node")
            .expect("a hand edit");
        assert_eq!(drop.rule, RuleId::MetadataHandEdit);
        assert_eq!(
            sim.statement(StatementKind::CommentOn, None, "pg_dist_node"),
            None
        );
    }

    #[test]
    fn a_script_that_brings_both_tables_is_caught() {
        // SET citus.shard_count = 24; SELECT create_distributed_table('users', ...);
        // SET citus.shard_count = 48; SELECT create_distributed_table('orders', ...);
        let mut sim = Simulation::new(Cluster::default(), Settings::default());
        assert!(sim.set_shard_count(24, "SET").is_empty());
        assert!(sim.distribute(&create("users")).is_empty());
        let warn = sim.set_shard_count(48, "SET citus.shard_count = 48");
        assert_eq!(warn.len(), 1);
        assert_eq!(warn[0].severity, Severity::Warn);
        let f = sim.distribute(&create("orders"));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RuleId::ShardCountColocation);
        // a blocked call leaves the simulation unchanged
        assert_eq!(sim.cluster.groups.len(), 1);
        assert_eq!(sim.cluster.groups[0].tables, vec!["users".to_string()]);
        // the fix joins users' group
        sim.set_shard_count(24, "SET");
        assert!(sim.distribute(&create("orders")).is_empty());
        assert_eq!(
            sim.cluster.groups[0].tables,
            vec!["orders".to_string(), "users".to_string()]
        );
    }
}
