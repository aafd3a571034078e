//! Rules for distribution calls: create_distributed_table[_concurrently],
//! alter_distributed_table, undistribute_table, update_distributed_table_colocation.

use crate::facts::*;
use crate::finding::{Finding, RuleId};
use crate::MAX_SHARD_COUNT;

/// All findings for one distribution call, most severe first.
pub fn check_distribution_call(
    call: &DistCall,
    cluster: &Cluster,
    settings: &Settings,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match call {
        DistCall::CreateDistributedTable {
            concurrently,
            table,
            distribution_column,
            distribution_type,
            colocate_with,
            shard_count,
        } => {
            let hash = distribution_type.eq_ignore_ascii_case("hash");
            if *concurrently {
                if let Some(n) = shard_count {
                    if let Some(f) = shard_count_range(call, *n, settings) {
                        // Nothing else is meaningful for a count Citus would choke on.
                        return vec![f];
                    }
                }
            }
            if hash && distribution_column.is_some() {
                let effective = shard_count.unwrap_or(settings.shard_count);
                if let Some(col) = &table.column {
                    column_rules(call, col, &mut out);
                    let joins = joins_existing_group(col, cluster, settings, *shard_count);
                    if *colocate_with == ColocateWith::Default && joins.is_none() {
                        if let Some(f) =
                            breaks_colocation(call, table, col, cluster, settings, *shard_count)
                        {
                            out.push(f);
                        }
                    }
                    let new_group = match colocate_with {
                        ColocateWith::Default => joins.is_none(),
                        ColocateWith::None => true,
                        ColocateWith::Table(_) => false,
                    };
                    if new_group {
                        if let Some(f) = shard_count_vs_nodes(call, effective, cluster.shard_nodes)
                        {
                            out.push(f);
                        }
                    }
                }
            }
            replica_identity(call, table, &mut out);
        }
        DistCall::AlterDistributedTable {
            table,
            distribution_column,
            shard_count,
            colocate_with,
            cascade_to_colocated,
        } => {
            if let Some(n) = shard_count {
                if let Some(f) = shard_count_range(call, *n, settings) {
                    return vec![f];
                }
                if colocate_with.is_none()
                    && *cascade_to_colocated != Some(true)
                    && !table.colocated_with.is_empty()
                {
                    out.push(alter_splits_group(table, *n));
                }
                if let Some(f) = shard_count_vs_nodes(call, *n, cluster.shard_nodes) {
                    out.push(f);
                }
            }
            if distribution_column.is_some() {
                if let Some(col) = &table.column {
                    column_rules(call, col, &mut out);
                }
            }
        }
        DistCall::UndistributeTable { .. } | DistCall::UpdateDistributedTableColocation { .. } => {}
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    out
}

/// A new value for `citus.shard_count` (SET, SET LOCAL, RESET, ALTER ROLE/DATABASE ... SET,
/// ALTER SYSTEM). Setting it is not harmful in itself, so this only warns, early: when no
/// populated hash colocation group has that shard count, every table distributed afterwards with
/// `colocate_with` left at default starts a group of its own (and is blocked then).
pub fn check_shard_count_setting(value: i32, how: &str, cluster: &Cluster) -> Option<Finding> {
    let populated: Vec<&ColocationGroup> = cluster
        .groups
        .iter()
        .filter(|g| !g.tables.is_empty())
        .collect();
    if populated.is_empty() || populated.iter().any(|g| g.shard_count == value) {
        return None;
    }
    let mut counts: Vec<i32> = populated.iter().map(|g| g.shard_count).collect();
    counts.sort_unstable();
    counts.dedup();
    let groups: Vec<String> = populated
        .iter()
        .map(|g| {
            format!(
                "{} shards: {} ({})",
                g.shard_count,
                g.tables.join(", "),
                g.type_name
            )
        })
        .collect();
    let common = populated
        .iter()
        .max_by_key(|g| (g.tables.len(), std::cmp::Reverse(g.id)))
        .map(|g| g.shard_count)
        .unwrap_or(value);
    let mut f = Finding::new(
        RuleId::ShardCountColocation,
        format!("citus.shard_count = {value} matches no existing colocation group"),
    )
    .detail(format!(
        "{how}. Existing groups: {}. A table distributed with colocate_with left at default would start a new group, not colocated with them.",
        groups.join("; ")
    ))
    .hint(format!(
        "Keep citus.shard_count at {} (SET citus.shard_count = {common};), or pass colocate_with => '<table>' when distributing.",
        counts.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(" or ")
    ));
    f.severity = crate::finding::Severity::Warn;
    Some(f)
}

/// The guard could not learn a call's arguments before Citus would run it (the call was inlined
/// from a SQL-language function and its arguments are not constants).
pub fn unchecked_call(function: &str, why: &str) -> Finding {
    Finding::new(
        RuleId::UncheckedCall,
        format!("citus_sidecar cannot check this call of {function}"),
    )
    .detail(why.to_string())
    .hint(format!(
        "Call {function} directly (SELECT, PERFORM, EXECUTE or a prepared statement all work), or from a PL/pgSQL function instead of a SQL-language one."
    ))
}

/// A SQL string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The group Citus would put a new table in with `colocate_with => 'default'`, per its
/// `ColocationIdForNewTable`: same type, collation, shard count and replication factor; the
/// smallest id wins; with an explicit shard_count the group must really have that many shards.
pub fn joins_existing_group<'a>(
    col: &ColumnFacts,
    cluster: &'a Cluster,
    settings: &Settings,
    explicit_shard_count: Option<i32>,
) -> Option<&'a ColocationGroup> {
    let effective = explicit_shard_count.unwrap_or(settings.shard_count);
    cluster
        .groups
        .iter()
        .filter(|g| {
            g.type_oid == col.type_oid
                && g.collation == col.collation
                && g.shard_count == effective
                && g.replication_factor == settings.replication_factor
                && (explicit_shard_count.is_none() || g.actual_shard_count == effective)
        })
        .min_by_key(|g| g.id)
}

fn breaks_colocation(
    call: &DistCall,
    table: &TableFacts,
    col: &ColumnFacts,
    cluster: &Cluster,
    settings: &Settings,
    explicit: Option<i32>,
) -> Option<Finding> {
    // Groups a table with this column type could be colocated with; the one with the most
    // tables (then the oldest) is the one to suggest.
    let mut peers: Vec<&ColocationGroup> = cluster
        .groups
        .iter()
        .filter(|g| {
            g.type_oid == col.type_oid && g.collation == col.collation && !g.tables.is_empty()
        })
        .collect();
    if peers.is_empty() {
        return None;
    }
    peers.sort_by(|a, b| b.tables.len().cmp(&a.tables.len()).then(a.id.cmp(&b.id)));
    let best = peers[0];
    let effective = explicit.unwrap_or(settings.shard_count);
    let source = match explicit {
        Some(_) => format!("shard_count => {effective}"),
        None => format!("citus.shard_count is {effective}"),
    };
    let existing: Vec<String> = peers
        .iter()
        .map(|g| {
            format!(
                "group {} has {} shard{} ({})",
                g.id,
                g.actual_shard_count,
                if g.actual_shard_count == 1 { "" } else { "s" },
                g.tables.join(", ")
            )
        })
        .collect();
    let anchor = &best.tables[0];
    let fix = format!(
        "SELECT {}({}, {}, colocate_with => {});",
        call.function_name(),
        quote_literal(&table.name),
        quote_literal(&col.name),
        quote_literal(anchor)
    );
    let why_none = if settings.replication_factor != best.replication_factor {
        format!(
            " (citus.shard_replication_factor is {} but group {} has replication factor {})",
            settings.replication_factor, best.id, best.replication_factor
        )
    } else {
        String::new()
    };
    Some(
        Finding::new(
            RuleId::ShardCountColocation,
            format!(
                "{} would put {} in a new colocation group, not colocated with the existing {} tables",
                call.function_name(),
                table.name,
                col.type_name
            ),
            )
        .detail(format!(
            "{source}{why_none}; existing colocation groups for distribution column type {}: {}. Joins, foreign keys and tenant routing between {} and those tables would stop being colocated.",
            col.type_name,
            existing.join("; "),
            table.name
        ))
        .hint(format!(
            "Colocate it: {fix} Or match the shard count: shard_count => {}. To start a separate group on purpose, pass colocate_with => 'none'.",
            best.actual_shard_count
        ))
        .remediation(fix),
    )
}

fn alter_splits_group(table: &TableFacts, n: i32) -> Finding {
    let fix = format!(
        "SELECT alter_distributed_table({}, shard_count => {n}, cascade_to_colocated => true);",
        quote_literal(&table.name)
    );
    Finding::new(
        RuleId::ShardCountColocation,
        format!(
            "alter_distributed_table would take {} out of its colocation group",
            table.name
        ),
    )
    .detail(format!(
        "{} is colocated with {}; changing only its shard count to {n} leaves them in a group with a different shard count, so their joins stop being colocated.",
        table.name,
        table.colocated_with.join(", ")
    ))
    .hint(format!("Change the whole group: {fix}"))
    .remediation(fix)
}

fn shard_count_range(call: &DistCall, n: i32, settings: &Settings) -> Option<Finding> {
    if (1..=MAX_SHARD_COUNT).contains(&n) {
        return None;
    }
    let consequence = match call {
        DistCall::CreateDistributedTable { .. } => {
            "Citus does not check it for the concurrent variant: it converts the table to a Citus local table first and then fails (0 raises a floating-point exception), leaving the table half-converted."
        }
        _ => "Citus does not check this bound for alter_distributed_table; it would fail late or create that many shards.",
    };
    let suggested = if n > MAX_SHARD_COUNT {
        MAX_SHARD_COUNT
    } else {
        settings.shard_count.clamp(1, MAX_SHARD_COUNT)
    };
    let table = quote_literal(&call.table().name);
    let fix = match call {
        DistCall::CreateDistributedTable {
            distribution_column: Some(col),
            ..
        } => format!(
            "SELECT {}({table}, {}, shard_count => {suggested});",
            call.function_name(),
            quote_literal(col)
        ),
        _ => format!(
            "SELECT {}({table}, shard_count => {suggested});",
            call.function_name()
        ),
    };
    Some(
        Finding::new(
            RuleId::ShardCountRange,
            format!(
                "shard_count {n} is outside the valid range for {} (1 .. {MAX_SHARD_COUNT})",
                call.function_name()
            ),
        )
        .detail(consequence.to_string())
        .hint(format!(
            "Pass a shard count between 1 and {MAX_SHARD_COUNT}, e.g. {fix}"
        ))
        .remediation(fix),
    )
}

fn shard_count_vs_nodes(call: &DistCall, n: i32, nodes: u32) -> Option<Finding> {
    if nodes == 0 || n < 1 {
        return None;
    }
    let nodes_i = nodes as i64;
    let n_i = n as i64;
    let (message, detail) = if n_i < nodes_i {
        (
            format!("shard count {n} is lower than the {nodes} nodes that can hold shards"),
            format!(
                "With {n} shards, {} of the {nodes} nodes would hold no shard of {} and sit idle for it.",
                nodes_i - n_i,
                call.table().name
            ),
        )
    } else if n_i % nodes_i != 0 {
        (
            format!("shard count {n} is not a multiple of the {nodes} nodes that can hold shards"),
            format!(
                "{} nodes get {} shards and the others {}, so load is uneven from the start.",
                n_i % nodes_i,
                n_i / nodes_i + 1,
                n_i / nodes_i
            ),
        )
    } else {
        return None;
    };
    let suggested =
        ((n_i + nodes_i - 1) / nodes_i * nodes_i).clamp(nodes_i, MAX_SHARD_COUNT as i64);
    let table = quote_literal(&call.table().name);
    let fix = match call {
        DistCall::CreateDistributedTable {
            distribution_column: Some(col),
            colocate_with,
            ..
        } => {
            let cw = match colocate_with {
                ColocateWith::None => ", colocate_with => 'none'",
                _ => "",
            };
            format!(
                "SELECT {}({table}, {}{cw}, shard_count => {suggested});",
                call.function_name(),
                quote_literal(col)
            )
        }
        _ => format!("SELECT alter_distributed_table({table}, shard_count => {suggested}, cascade_to_colocated => true);"),
    };
    Some(
        Finding::new(RuleId::ShardCountNodes, message)
            .detail(detail)
            .hint(format!("Use a multiple of {nodes}: {fix}"))
            .remediation(fix),
    )
}

fn column_rules(call: &DistCall, col: &ColumnFacts, out: &mut Vec<Finding>) {
    let table = &call.table().name;
    if col.enum_based {
        out.push(
            Finding::new(
                RuleId::EnumDistributionColumn,
                format!(
                    "cannot distribute {table} on column \"{}\" of type {}: its hash depends on node-local OIDs",
                    col.name, col.type_name
                ),
            )
            .detail(
                "Enum values hash by the OID of their pg_enum row, and every node has its own OIDs: a query routed from a worker reaches a different shard than the same query routed from the coordinator.",
            )
            .hint(format!(
                "Store it as text (or another stable type) and distribute on that: {}",
                enum_fix(table, col)
            ))
            .remediation(enum_fix(table, col)),
        );
    }
    if !col.not_null {
        let fix = format!(
            "ALTER TABLE {table} ALTER COLUMN {} SET NOT NULL;",
            quote_ident(&col.name)
        );
        out.push(
            Finding::new(
                RuleId::NullableDistributionColumn,
                format!("distribution column \"{}\" of {table} allows NULL", col.name),
            )
            .detail("Rows with a NULL distribution value cannot be inserted into a distributed table; the failure shows up at write time, not now.")
            .hint(format!("Declare it NOT NULL first: {fix}"))
            .remediation(fix),
        );
    }
    if col.tiny_domain {
        out.push(
            Finding::new(
                RuleId::TinyDomainDistributionColumn,
                format!(
                    "distribution column \"{}\" of {table} has type {}, which has only a few distinct values",
                    col.name, col.type_name
                ),
            )
            .detail("All rows land in as many shards as the type has values; the other shards stay empty.")
            .hint(match tiny_fix(call, col) {
                Some(fix) => format!("Distribute on a high-cardinality column such as the tenant or entity id, e.g. {fix}"),
                None => "Distribute on a high-cardinality column such as the tenant or entity id.".to_string(),
            })
            .remediation_opt(tiny_fix(call, col)),
        );
    }
}

/// `ALTER TABLE t ALTER COLUMN c TYPE text USING c::text;` (text[] for arrays).
fn enum_fix(table: &str, col: &ColumnFacts) -> String {
    let target = if col.type_name.ends_with("[]") {
        "text[]"
    } else {
        "text"
    };
    let c = quote_ident(&col.name);
    format!("ALTER TABLE {table} ALTER COLUMN {c} TYPE {target} USING {c}::{target};")
}

/// The same call on the table's first primary-key column, when that is another column.
fn tiny_fix(call: &DistCall, col: &ColumnFacts) -> Option<String> {
    let t = call.table();
    let pk = t.primary_key.iter().find(|c| **c != col.name)?;
    Some(match call {
        DistCall::AlterDistributedTable { .. } => format!(
            "SELECT alter_distributed_table({}, distribution_column => {});",
            quote_literal(&t.name),
            quote_literal(pk)
        ),
        _ => format!(
            "SELECT {}({}, {});",
            call.function_name(),
            quote_literal(&t.name),
            quote_literal(pk)
        ),
    })
}

fn replica_identity(call: &DistCall, table: &TableFacts, out: &mut Vec<Finding>) {
    if table.has_replica_identity {
        return;
    }
    let fix = format!("ALTER TABLE {} REPLICA IDENTITY FULL;", table.name);
    out.push(
        Finding::new(
            RuleId::NoReplicaIdentity,
            format!("{} has no primary key or replica identity", table.name),
        )
        .detail(format!(
            "Online shard moves, splits and tenant isolation use logical replication; UPDATE and DELETE on {} will fail while they run.",
            table.name
        ))
        .hint(format!(
            "Before {}, add a primary key that includes the distribution column (ALTER TABLE {} ADD PRIMARY KEY (...)), or at least: {fix}",
            call.function_name(),
            table.name
        ))
        .remediation(fix),
    );
}

/// A SQL identifier, quoted when it needs to be.
pub fn quote_ident(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests;
