//! Rules for distribution calls: create_distributed_table[_concurrently],
//! alter_distributed_table, undistribute_table, update_distributed_table_colocation.
//!
//! Every statement a finding suggests (remediation or hint) that is itself a distribution call
//! is checked by these same rules before it is offered: it is not one Citus refuses, and it
//! draws no blocking finding and no shard-count finding. A suggestion that would not pass is
//! not made. (Tested from the outside, through the SQL text, in `fixes_tests.rs`.)

use crate::consistency::issue::literal;
use crate::facts::*;
use crate::finding::{Finding, RuleId, Severity};
use crate::MAX_SHARD_COUNT;

/// All findings for one distribution call, most severe first. A call Citus refuses itself
/// before it changes anything ([`citus_refuses`]) gets none: Citus's own error is the one to
/// see.
pub fn check_distribution_call(
    call: &DistCall,
    cluster: &Cluster,
    settings: &Settings,
) -> Vec<Finding> {
    check(
        call,
        &Ctx {
            cluster,
            settings,
            suggest: true,
        },
    )
}

/// What the rules look at, and whether to build suggestions (not when checking one).
struct Ctx<'a> {
    cluster: &'a Cluster,
    settings: &'a Settings,
    suggest: bool,
}

/// The rules that are about shard counts and colocation: a suggested statement must draw none.
const SHARD_COUNT_RULES: [RuleId; 3] = [
    RuleId::ShardCountColocation,
    RuleId::ShardCountRange,
    RuleId::ShardCountNodes,
];

fn check(call: &DistCall, ctx: &Ctx) -> Vec<Finding> {
    if citus_refuses(call, ctx.settings).is_some() {
        return Vec::new();
    }
    let (cluster, settings) = (ctx.cluster, ctx.settings);
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
                    if let Some(f) = shard_count_range(call, *n, ctx) {
                        // Nothing else is meaningful for a count Citus would choke on.
                        return vec![f];
                    }
                }
            }
            if hash && distribution_column.is_some() {
                let effective = shard_count.unwrap_or(settings.shard_count);
                if let Some(col) = &table.column {
                    column_rules(call, col, ctx, &mut out);
                    let joins = default_group(*concurrently, col, cluster, settings, *shard_count);
                    if *colocate_with == ColocateWith::Default && joins.is_none() {
                        if let Some(f) = breaks_colocation(call, table, col, ctx, *shard_count) {
                            out.push(f);
                        }
                    }
                    let new_group = match colocate_with {
                        ColocateWith::Default => joins.is_none(),
                        ColocateWith::None => true,
                        ColocateWith::Table(_) => false,
                    };
                    if new_group {
                        if let Some(f) = shard_count_vs_nodes(call, effective, ctx) {
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
                if let Some(f) = shard_count_range(call, *n, ctx) {
                    return vec![f];
                }
                // With a shard count, leaving colocate_with out and passing 'default' are the
                // same thing: CreateDistributedTableLike (alter_table.c:1462 in 13.2.2, :1463 in
                // 14.0.1) substitutes "default" for a NULL colocate_with whenever shard_count is
                // given, and the new table goes through the default-group lookup either way.
                let default = matches!(colocate_with, None | Some(ColocateWith::Default));
                if default
                    && *cascade_to_colocated != Some(true)
                    && !table.colocated_with.is_empty()
                {
                    out.push(alter_splits_group(call, table, *n, ctx));
                }
                if let Some(f) = shard_count_vs_nodes(call, *n, ctx) {
                    out.push(f);
                }
            }
            if distribution_column.is_some() {
                if let Some(col) = &table.column {
                    column_rules(call, col, ctx, &mut out);
                }
            }
        }
        DistCall::UndistributeTable { .. } | DistCall::UpdateDistributedTableColocation { .. } => {}
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    out
}

/// The error Citus raises itself for this call before it changes anything (or with everything
/// rolled back), when the call's arguments and the settings are enough to know it. The rules
/// stay silent then, so Citus's own, accurate error reaches the user. (Checks that need more of
/// the catalog than [`DistCall`] carries, such as a missing column, are made by
/// [`crate::call::describe`].)
///
/// Sources, Citus 13.2.2 / 14.0.1, src/backend/distributed/:
/// * create_distributed_table: shard_count with a colocate_with table
///   (commands/create_distributed_table.c:248 / :249), shard_count outside 1..64000 (:266 /
///   :267), shard_count or a non-hash type with a NULL column (:280, :297 / :281, :298);
/// * create_distributed_table_concurrently: NULL column (:330 / :331), shard_count with a table
///   (:349 / :350), non-hash (:407 / :408), citus.shard_replication_factor > 1 (:414 / :415),
///   all before the table is touched;
/// * alter_distributed_table: nothing to change (commands/alter_table.c:1963 / :1960),
///   shard_count 0 (:2020 / :2017), distribution_column with cascade (:2029 / :2026), cascade
///   without shard_count or colocate_with (:2035 / :2032), colocate_with 'none' with cascade
///   (:2055 / :2052); a negative shard_count fails in operations/create_shards.c:115-118 (both)
///   and the conversion rolls back.
pub fn citus_refuses(call: &DistCall, settings: &Settings) -> Option<String> {
    let refuse = |s: &str| Some(s.to_string());
    match call {
        DistCall::CreateDistributedTable {
            concurrently,
            distribution_column,
            distribution_type,
            colocate_with,
            shard_count,
            ..
        } => {
            let table_and_count =
                shard_count.is_some() && matches!(colocate_with, ColocateWith::Table(_));
            if *concurrently {
                if distribution_column.is_none() {
                    return refuse("cannot use create_distributed_table_concurrently to create a distributed table with a null shard key, consider using create_distributed_table()");
                }
                if table_and_count {
                    return refuse(
                        "Cannot use colocate_with with a table and shard_count at the same time",
                    );
                }
                if !distribution_type.eq_ignore_ascii_case("hash") {
                    return refuse(
                        "only hash-distributed tables can be distributed without blocking writes",
                    );
                }
                if settings.replication_factor > 1 {
                    return refuse("cannot distribute a table concurrently when citus.shard_replication_factor > 1");
                }
                return None;
            }
            if distribution_column.is_none() {
                if shard_count.is_some() {
                    return refuse("shard_count can't be specified when the distribution column is null because in that case it's automatically set to 1");
                }
                if !distribution_type.eq_ignore_ascii_case("hash") {
                    return refuse("distribution_type can't be specified when the distribution column is null ");
                }
                return None;
            }
            if table_and_count {
                return refuse(
                    "Cannot use colocate_with with a table and shard_count at the same time",
                );
            }
            match shard_count {
                Some(n) if !(1..=MAX_SHARD_COUNT).contains(n) => Some(format!(
                    "{n} is outside the valid range for parameter \"shard_count\" (1 .. {MAX_SHARD_COUNT})"
                )),
                _ => None,
            }
        }
        DistCall::AlterDistributedTable {
            distribution_column,
            shard_count,
            colocate_with,
            cascade_to_colocated,
            ..
        } => {
            let cascade = *cascade_to_colocated == Some(true);
            if distribution_column.is_none()
                && shard_count.is_none()
                && colocate_with.is_none()
                && !cascade
            {
                return refuse("you have to specify at least one of the distribution_column, shard_count or colocate_with parameters");
            }
            if *shard_count == Some(0) {
                return refuse("shard_count cannot be 0");
            }
            if cascade && distribution_column.is_some() {
                return refuse("distribution_column cannot be cascaded to colocated tables");
            }
            if cascade && shard_count.is_none() && colocate_with.is_none() {
                return refuse(
                    "shard_count or colocate_with is necessary for cascading to colocated tables",
                );
            }
            if cascade && *colocate_with == Some(ColocateWith::None) {
                return refuse("colocate_with := 'none' cannot be cascaded to colocated tables");
            }
            match shard_count {
                Some(n) if *n < 0 => refuse("shard_count must be positive"),
                _ => None,
            }
        }
        DistCall::UndistributeTable { .. } | DistCall::UpdateDistributedTableColocation { .. } => {
            None
        }
    }
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

/// The group Citus would put a new table in with `colocate_with => 'default'`
/// (`FindColocateWithColocationId` → `ColocationId`, utils/colocation_utils.c:1406 and :521 in
/// 13.2.2, :1380 in 14.0.1): among the groups with the same distribution column type,
/// collation ([`Settings::colocation_collation`]), shard count and replication factor
/// (`citus.shard_replication_factor`), the smallest id; with an explicit shard_count
/// (`shardCountIsStrict`) that one group is then dropped, and a new group started, unless its
/// first table really has that many shards. (Citus does not go on to the next group.)
pub fn default_group<'a>(
    concurrently: bool,
    col: &ColumnFacts,
    cluster: &'a Cluster,
    settings: &Settings,
    explicit_shard_count: Option<i32>,
) -> Option<&'a ColocationGroup> {
    let effective = explicit_shard_count.unwrap_or(settings.shard_count);
    let collation = settings.colocation_collation(col, concurrently);
    let g = cluster
        .groups
        .iter()
        .filter(|g| {
            g.type_oid == col.type_oid
                && g.collation == collation
                && g.shard_count == effective
                && g.replication_factor == settings.replication_factor
        })
        .min_by_key(|g| g.id)?;
    let strict_mismatch =
        explicit_shard_count.is_some() && !g.tables.is_empty() && g.actual_shard_count != effective;
    (!strict_mismatch).then_some(g)
}

/// [`default_group`] for create_distributed_table (and alter_distributed_table, which goes
/// through the same `CreateDistributedTable`).
pub fn joins_existing_group<'a>(
    col: &ColumnFacts,
    cluster: &'a Cluster,
    settings: &Settings,
    explicit_shard_count: Option<i32>,
) -> Option<&'a ColocationGroup> {
    default_group(false, col, cluster, settings, explicit_shard_count)
}

/// Populated groups a table with this column could be colocated with (same type and the
/// collation Citus keys on), the one with the most tables (then the oldest) first.
fn peers<'a>(col: &ColumnFacts, concurrently: bool, ctx: &Ctx<'a>) -> Vec<&'a ColocationGroup> {
    let collation = ctx.settings.colocation_collation(col, concurrently);
    let mut peers: Vec<&ColocationGroup> = ctx
        .cluster
        .groups
        .iter()
        .filter(|g| g.type_oid == col.type_oid && g.collation == collation && !g.tables.is_empty())
        .collect();
    peers.sort_by(|a, b| b.tables.len().cmp(&a.tables.len()).then(a.id.cmp(&b.id)));
    peers
}

/// Would the rules let `candidate` through without any shard-count finding, and would Citus
/// run it? Only then is it offered as a fix.
fn acceptable(candidate: &DistCall, ctx: &Ctx) -> bool {
    if citus_refuses(candidate, ctx.settings).is_some() {
        return false;
    }
    let inner = Ctx {
        suggest: false,
        ..*ctx
    };
    check(candidate, &inner)
        .iter()
        .all(|f| f.severity != Severity::Block && !SHARD_COUNT_RULES.contains(&f.rule))
}

/// The first candidate that is [`acceptable`], as SQL. None when not suggesting.
fn first_fix(candidates: Vec<DistCall>, ctx: &Ctx) -> Option<String> {
    if !ctx.suggest {
        return None;
    }
    candidates
        .into_iter()
        .find(|c| acceptable(c, ctx))
        .map(|c| render_call(&c))
}

/// A copy of a create call with other colocation arguments.
fn create_like(call: &DistCall, colocate_with: ColocateWith, shard_count: Option<i32>) -> DistCall {
    let mut c = call.clone();
    if let DistCall::CreateDistributedTable {
        colocate_with: cw,
        shard_count: sc,
        ..
    } = &mut c
    {
        *cw = colocate_with;
        *sc = shard_count;
    }
    c
}

/// `alter_distributed_table(table, shard_count => n, cascade_to_colocated => cascade)`.
fn alter_count(table: &TableFacts, n: i32, cascade: Option<bool>) -> DistCall {
    DistCall::AlterDistributedTable {
        table: table.clone(),
        distribution_column: None,
        shard_count: Some(n),
        colocate_with: None,
        cascade_to_colocated: cascade,
    }
}

/// The smallest multiple of `nodes` that is at least `n`, within 1..=64000 (the largest
/// multiple when that is beyond 64000). None without nodes or with more nodes than 64000.
fn multiple_of_nodes(n: i64, nodes: u32) -> Option<i32> {
    let nodes = nodes as i64;
    if nodes == 0 || nodes > MAX_SHARD_COUNT as i64 {
        return None;
    }
    let up = (n.max(1) + nodes - 1) / nodes * nodes;
    let capped = if up > MAX_SHARD_COUNT as i64 {
        MAX_SHARD_COUNT as i64 / nodes * nodes
    } else {
        up
    };
    Some(capped as i32)
}

fn breaks_colocation(
    call: &DistCall,
    table: &TableFacts,
    col: &ColumnFacts,
    ctx: &Ctx,
    explicit: Option<i32>,
) -> Option<Finding> {
    let settings = ctx.settings;
    let concurrently = matches!(
        call,
        DistCall::CreateDistributedTable {
            concurrently: true,
            ..
        }
    );
    let peers = peers(col, concurrently, ctx);
    let best = *peers.first()?;
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
    let why_none = if settings.replication_factor != best.replication_factor {
        format!(
            " (citus.shard_replication_factor is {} but group {} has replication factor {})",
            settings.replication_factor, best.id, best.replication_factor
        )
    } else {
        String::new()
    };
    let anchor = &best.tables[0];
    let colocate = first_fix(
        vec![create_like(call, ColocateWith::Table(anchor.clone()), None)],
        ctx,
    );
    // An explicit shard count joins the group only if the default lookup finds it and its
    // tables really have that many shards: after a split they have more than the group records.
    let count = first_fix(
        vec![create_like(
            call,
            ColocateWith::Default,
            Some(best.actual_shard_count),
        )],
        ctx,
    );
    // Without shard_count, citus.shard_count is matched against the count the group records.
    let guc_joins = count.is_none()
        && (1..=MAX_SHARD_COUNT).contains(&best.shard_count)
        && default_group(
            concurrently,
            col,
            ctx.cluster,
            &Settings {
                shard_count: best.shard_count,
                ..*settings
            },
            None,
        )
        .is_some_and(|g| g.id == best.id);
    let mut hint = Vec::new();
    if let Some(fix) = &colocate {
        hint.push(format!("Colocate it: {fix}"));
    }
    if let Some(fix) = &count {
        hint.push(format!("Or match the shard count: {fix}"));
    } else if guc_joins {
        hint.push(format!(
            "Or leave shard_count out and SET citus.shard_count = {}; first: group {} records {} shards although its tables have {} (split since), and an explicit shard count of {} would start a new group.",
            best.shard_count, best.id, best.shard_count, best.actual_shard_count, best.actual_shard_count
        ));
    }
    hint.push("To start a separate group on purpose, pass colocate_with => 'none'.".to_string());
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
        .hint(hint.join(" "))
        .remediation_opt(colocate.or(count)),
    )
}

fn alter_splits_group(call: &DistCall, table: &TableFacts, n: i32, ctx: &Ctx) -> Finding {
    let mut candidates = vec![alter_count(table, n, Some(true))];
    if let Some(m) = multiple_of_nodes(n as i64, ctx.cluster.shard_nodes).filter(|m| *m != n) {
        candidates.push(alter_count(table, m, Some(true)));
    }
    let fix = first_fix(candidates, ctx);
    let column_note = match call {
        DistCall::AlterDistributedTable {
            distribution_column: Some(c),
            ..
        } => format!(
            " Citus cannot cascade a change of distribution column, so change \"{c}\" in a call of its own."
        ),
        _ => String::new(),
    };
    let hint = match &fix {
        Some(fix) => format!("Change the whole group: {fix}{column_note}"),
        None => format!("Change the whole group with cascade_to_colocated => true.{column_note}"),
    };
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
    .hint(hint)
    .remediation_opt(fix)
}

/// A shard count Citus does not check itself and fails on, or accepts beyond its own limit.
/// Only reached for calls [`citus_refuses`] lets through: create_distributed_table_concurrently
/// (no range check at all) and alter_distributed_table above 64000 (it checks only 0).
fn shard_count_range(call: &DistCall, n: i32, ctx: &Ctx) -> Option<Finding> {
    if (1..=MAX_SHARD_COUNT).contains(&n) {
        return None;
    }
    let (settings, cluster) = (ctx.settings, ctx.cluster);
    let table = call.table();
    let (consequence, candidates) = match call {
        DistCall::CreateDistributedTable { colocate_with, .. } => {
            let consequence = if n > MAX_SHARD_COUNT {
                format!(
                    "create_distributed_table_concurrently does not check shard_count: it first makes {} a Citus local table (committed on its own), then fails splitting its shard into {n} (\"greater than max shard count\"), leaving the table a Citus local table.",
                    table.name
                )
            } else if n == 0 {
                format!(
                    "create_distributed_table_concurrently does not check shard_count: it first makes {} a Citus local table (committed on its own), then fails with a floating-point exception (a division by zero computing the hash ranges), leaving the table a Citus local table.",
                    table.name
                )
            } else {
                format!(
                    "create_distributed_table_concurrently does not check shard_count: it first makes {} a Citus local table (committed on its own), then fails splitting its shard, leaving the table a Citus local table.",
                    table.name
                )
            };
            let mut candidates = vec![create_like(call, colocate_with.clone(), None)];
            if let (ColocateWith::Default, Some(col)) = (colocate_with, &table.column) {
                if let Some(best) = peers(col, true, ctx).first() {
                    candidates.push(create_like(
                        call,
                        ColocateWith::Table(best.tables[0].clone()),
                        None,
                    ));
                }
            }
            let near = if n > MAX_SHARD_COUNT {
                MAX_SHARD_COUNT
            } else {
                settings.shard_count
            };
            for m in [
                multiple_of_nodes(near as i64, cluster.shard_nodes),
                Some(near.clamp(1, MAX_SHARD_COUNT)),
            ]
            .into_iter()
            .flatten()
            {
                candidates.push(create_like(call, colocate_with.clone(), Some(m)));
            }
            (consequence, candidates)
        }
        DistCall::AlterDistributedTable {
            cascade_to_colocated,
            ..
        } => {
            let consequence = format!(
                "alter_distributed_table checks only shard_count = 0 (commands/alter_table.c); it would rebuild {} with {n} shards, beyond the 64000 that citus.shard_count and create_distributed_table allow.",
                table.name
            );
            let cascade = if table.colocated_with.is_empty() {
                *cascade_to_colocated
            } else {
                Some(true)
            };
            let candidates = [
                multiple_of_nodes(MAX_SHARD_COUNT as i64, cluster.shard_nodes),
                Some(MAX_SHARD_COUNT),
            ]
            .into_iter()
            .flatten()
            .map(|m| alter_count(table, m, cascade))
            .collect();
            (consequence, candidates)
        }
        _ => return None,
    };
    let fix = first_fix(candidates, ctx);
    let hint = match &fix {
        Some(fix) => format!("Pass a shard count between 1 and {MAX_SHARD_COUNT}, e.g. {fix}"),
        None => format!("Pass a shard count between 1 and {MAX_SHARD_COUNT}."),
    };
    Some(
        Finding::new(
            RuleId::ShardCountRange,
            format!(
                "shard_count {n} is outside the valid range for {} (1 .. {MAX_SHARD_COUNT})",
                call.function_name()
            ),
        )
        .detail(consequence)
        .hint(hint)
        .remediation_opt(fix),
    )
}

fn shard_count_vs_nodes(call: &DistCall, n: i32, ctx: &Ctx) -> Option<Finding> {
    let nodes = ctx.cluster.shard_nodes;
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
    let suggested = multiple_of_nodes(n_i, nodes);
    let mut by_count = Vec::new();
    let mut by_colocation = Vec::new();
    match call {
        DistCall::CreateDistributedTable {
            colocate_with,
            table,
            concurrently,
            ..
        } => {
            by_count.extend(suggested.map(|m| create_like(call, colocate_with.clone(), Some(m))));
            if let (ColocateWith::Default, Some(col)) = (colocate_with, &table.column) {
                if let Some(best) = peers(col, *concurrently, ctx).first() {
                    by_colocation.push(create_like(
                        call,
                        ColocateWith::Table(best.tables[0].clone()),
                        None,
                    ));
                }
            }
        }
        _ => by_count.extend(suggested.map(|m| alter_count(call.table(), m, Some(true)))),
    }
    let (fix, hint) = if let Some(fix) = first_fix(by_count, ctx) {
        let hint = format!("Use a multiple of {nodes}: {fix}");
        (Some(fix), hint)
    } else if let Some(fix) = first_fix(by_colocation, ctx) {
        let hint = format!("Use a multiple of {nodes}, or join an existing colocation group, whose shards are placed already: {fix}");
        (Some(fix), hint)
    } else {
        (None, format!("Use a multiple of {nodes}."))
    };
    Some(
        Finding::new(RuleId::ShardCountNodes, message)
            .detail(detail)
            .hint(hint)
            .remediation_opt(fix),
    )
}

fn column_rules(call: &DistCall, col: &ColumnFacts, ctx: &Ctx, out: &mut Vec<Finding>) {
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
        let fix = tiny_fix(call, col, ctx);
        out.push(
            Finding::new(
                RuleId::TinyDomainDistributionColumn,
                format!(
                    "distribution column \"{}\" of {table} has type {}, which has only a few distinct values",
                    col.name, col.type_name
                ),
            )
            .detail("All rows land in as many shards as the type has values; the other shards stay empty.")
            .hint(match &fix {
                Some(fix) => format!("Distribute on a high-cardinality column such as the tenant or entity id, e.g. {fix}"),
                None => "Distribute on a high-cardinality column such as the tenant or entity id.".to_string(),
            })
            .remediation_opt(fix),
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

/// The same call on the table's first primary-key column, when that is another column. With
/// that column's facts ([`TableFacts::key_columns`]) the call is checked like any suggestion
/// (keeping the call's colocation arguments, else colocating with that column type's group);
/// without them it can only be the bare call, unchecked.
fn tiny_fix(call: &DistCall, col: &ColumnFacts, ctx: &Ctx) -> Option<String> {
    let t = call.table();
    let pk = t.primary_key.iter().find(|c| **c != col.name)?;
    let Some(facts) = t.key_columns.iter().find(|k| k.name == *pk) else {
        return Some(match call {
            DistCall::AlterDistributedTable { .. } => format!(
                "SELECT alter_distributed_table({}, distribution_column => {});",
                literal(&t.name),
                literal(pk)
            ),
            _ => format!(
                "SELECT {}({}, {});",
                call.function_name(),
                literal(&t.name),
                literal(pk)
            ),
        });
    };
    let table = TableFacts {
        column: Some(facts.clone()),
        ..t.clone()
    };
    let mut candidates = Vec::new();
    match call {
        DistCall::CreateDistributedTable {
            concurrently,
            colocate_with,
            ..
        } => {
            let on_pk = |colocate_with: ColocateWith, shard_count: Option<i32>| {
                let mut c = create_like(call, colocate_with, shard_count);
                if let DistCall::CreateDistributedTable {
                    table: tt,
                    distribution_column,
                    ..
                } = &mut c
                {
                    *tt = table.clone();
                    *distribution_column = Some(pk.clone());
                }
                c
            };
            if let DistCall::CreateDistributedTable { shard_count, .. } = call {
                candidates.push(on_pk(colocate_with.clone(), *shard_count));
            }
            if let Some(best) = peers(facts, *concurrently, ctx).first() {
                candidates.push(on_pk(ColocateWith::Table(best.tables[0].clone()), None));
            }
        }
        _ => candidates.push(DistCall::AlterDistributedTable {
            table,
            distribution_column: Some(pk.clone()),
            shard_count: None,
            colocate_with: None,
            cascade_to_colocated: None,
        }),
    }
    first_fix(candidates, ctx)
}

/// A distribution call as SQL, arguments left at their defaults left out:
/// `SELECT create_distributed_table('orders', 'user_id', colocate_with => 'users');`.
pub fn render_call(call: &DistCall) -> String {
    let mut args = vec![literal(&call.table().name)];
    let cw = |c: &ColocateWith| match c {
        ColocateWith::Default => "'default'".to_string(),
        ColocateWith::None => "'none'".to_string(),
        ColocateWith::Table(t) => literal(t),
    };
    match call {
        DistCall::CreateDistributedTable {
            distribution_column,
            distribution_type,
            colocate_with,
            shard_count,
            ..
        } => {
            args.push(
                distribution_column
                    .as_deref()
                    .map_or("NULL".to_string(), literal),
            );
            if distribution_type != "hash" {
                args.push(format!(
                    "distribution_type => {}",
                    literal(distribution_type)
                ));
            }
            if *colocate_with != ColocateWith::Default {
                args.push(format!("colocate_with => {}", cw(colocate_with)));
            }
            if let Some(n) = shard_count {
                args.push(format!("shard_count => {n}"));
            }
        }
        DistCall::AlterDistributedTable {
            distribution_column,
            shard_count,
            colocate_with,
            cascade_to_colocated,
            ..
        } => {
            if let Some(c) = distribution_column {
                args.push(format!("distribution_column => {}", literal(c)));
            }
            if let Some(n) = shard_count {
                args.push(format!("shard_count => {n}"));
            }
            if let Some(c) = colocate_with {
                args.push(format!("colocate_with => {}", cw(c)));
            }
            if let Some(b) = cascade_to_colocated {
                args.push(format!("cascade_to_colocated => {b}"));
            }
        }
        DistCall::UndistributeTable { .. } => {}
        DistCall::UpdateDistributedTableColocation { colocate_with, .. } => {
            args.push(cw(colocate_with))
        }
    }
    format!("SELECT {}({});", call.function_name(), args.join(", "))
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

pub use crate::ident::quote_ident;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod call_semantics_tests;

#[cfg(test)]
mod fixes_tests;
