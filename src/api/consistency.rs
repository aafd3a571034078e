//! `citus_sidecar.shard_consistency_report()`: what got through anyway, with what to do about
//! each finding. The coordinator's metadata is read once; the nodes are asked through Citus a
//! few times each, all at once (a listing of their shard relations, checksums of their copy of
//! the metadata, and for the data check, scans of many shards per command); everything is
//! decided in sidecar_rules::consistency.

use std::collections::{BTreeSet, HashSet};

use pgrx::prelude::*;
use pgrx::{PgLogLevel, PgSqlErrorCode};
use sidecar_rules::consistency::catalog::{check_catalog, needs, Context};
use sidecar_rules::consistency::physical::check_physical;
use sidecar_rules::consistency::repair::ranges_valid;
use sidecar_rules::consistency::{
    Category, CheckId, Evidence, Index, Issue, Level, NodeAnswer, Remedy, Selection,
};

use crate::queries;
use crate::reports::cluster::Cluster;
use crate::reports::fanout::{self, Job};
use crate::reports::{listing, metadata, scan, PgQuote};
use crate::rows;

type Row = (
    name!(check_id, String),
    name!(severity, String),
    name!(table_name, Option<String>),
    name!(shard_id, Option<i64>),
    name!(node, Option<String>),
    name!(detail, String),
    name!(remediation, Option<String>),
);

/// Finds what is inconsistent in the cluster's shards. `tables` limits it to some tables;
/// `checks` to some categories (catalog, physical, data, cross-node) or check ids. The data
/// check reads every row and runs only when asked for (`checks => '{data}'`);
/// `max_rows_per_shard` bounds it.
/// (SQL: shard_consistency_report(tables regclass[], checks text[], max_rows_per_shard bigint),
/// in sql/consistency.sql, calls this with the tables as OIDs.)
// pgrx reads the result columns from the tuple in the signature itself.
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe, name = "_shard_consistency_report")]
fn shard_consistency_report(
    tables: Option<Vec<Option<pg_sys::Oid>>>,
    checks: Option<Vec<String>>,
    max_rows_per_shard: Option<i64>,
) -> TableIterator<
    'static,
    (
        name!(check_id, String),
        name!(severity, String),
        name!(table_name, Option<String>),
        name!(shard_id, Option<i64>),
        name!(node, Option<String>),
        name!(detail, String),
        name!(remediation, Option<String>),
    ),
> {
    let selection = match Selection::parse(checks.as_deref()) {
        Ok(s) => s,
        Err(unknown) => {
            let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            let ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
            ereport!(
                PgLogLevel::ERROR,
                PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
                format!("unknown check \"{unknown}\""),
                format!(
                    "Checks are the categories {} or a check id: {}.",
                    categories.join(", "),
                    ids.join(", ")
                )
            );
            unreachable!()
        }
    };
    if max_rows_per_shard.is_some_and(|n| n < 1) {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "max_rows_per_shard must be at least 1"
        );
    }
    let filter = tables.map(|t| citus_tables(&t));
    let rows: Vec<Row> = report(&selection, filter, max_rows_per_shard)
        .into_iter()
        .map(|i| {
            (
                i.check.as_str().to_string(),
                i.level.as_str().to_string(),
                i.table,
                i.shard,
                i.node,
                i.detail,
                Some(i.remedy.text()),
            )
        })
        .collect();
    TableIterator::new(rows)
}

/// The OIDs of `tables`, each checked to be a Citus table; anything else is a clear ERROR.
fn citus_tables(tables: &[Option<pg_sys::Oid>]) -> Vec<pg_sys::Oid> {
    const SQL: &str = "SELECT o.oid::int8, c.oid IS NOT NULL, p.logicalrelid IS NOT NULL, \
                              CASE WHEN c.oid IS NOT NULL THEN o.oid::regclass::text END \
                         FROM unnest($1::oid[]) AS o(oid) \
                         LEFT JOIN pg_catalog.pg_class c ON c.oid = o.oid \
                         LEFT JOIN pg_catalog.pg_dist_partition p ON p.logicalrelid = o.oid";
    if tables.iter().any(Option::is_none) {
        ereport!(
            PgLogLevel::ERROR,
            PgSqlErrorCode::ERRCODE_NULL_VALUE_NOT_ALLOWED,
            "tables must not contain NULL"
        );
    }
    let oids: Vec<pg_sys::Oid> = tables.iter().flatten().copied().collect();
    for (oid, exists, citus, name) in
        rows::all(SQL, &[oids.clone().into()], "the tables argument", |r| {
            (
                rows::col::<i64>(r, 1, "tables"),
                rows::col::<bool>(r, 2, "tables"),
                rows::col::<bool>(r, 3, "tables"),
                rows::opt::<String>(r, 4, "tables"),
            )
        })
    {
        if !exists {
            ereport!(
                PgLogLevel::ERROR,
                PgSqlErrorCode::ERRCODE_UNDEFINED_TABLE,
                format!("no relation has OID {oid}"),
                "Pass the tables by name, e.g. tables => '{orders}'."
            );
        }
        if !citus {
            ereport!(
                PgLogLevel::ERROR,
                PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
                format!("{} is not a Citus table", name.unwrap_or_default()),
                "The report checks tables in pg_dist_partition (distributed, reference and Citus local tables)."
            );
        }
    }
    oids
}

/// How many times a report is made when the metadata keeps changing under it, and how long it
/// waits before the next time (doubled each time: 0.1 + 0.2 + 0.4 + 0.8 s at most). Citus drops
/// a move's old copies one after another and deletes each one's cleanup record after it; a
/// report made again at once could land in the middle of that again (seen on Citus 14.0.1
/// after a rebalance: two old copies reported as orphans after three attempts).
const ATTEMPTS: usize = 5;
const FIRST_WAIT_MS: u64 = 100;

/// Every finding the selection asks for, in a stable order. A report with findings that
/// compare the metadata with the nodes' answers ([`CheckId::compares_moments`]) is made again
/// when the metadata changed while the nodes were asked: the two could then show two moments
/// (Citus dropping a moved shard's old copy after the listing saw it, a move committing in
/// between), and the finding would be a moment's state, not a fault. Healthy clusters pay
/// nothing for this, nor does a data check that found misplaced rows.
fn report(
    selection: &Selection,
    filter: Option<Vec<pg_sys::Oid>>,
    limit: Option<i64>,
) -> Vec<Issue> {
    let mut attempt = 1;
    loop {
        let cluster = Cluster::read(filter.clone());
        let out = report_once(&cluster, selection, filter.is_some(), limit);
        let settled = !out.iter().any(|i| i.check.compares_moments())
            || attempt == ATTEMPTS
            || !cluster.changed_since(filter.clone());
        if settled {
            return out;
        }
        wait_ms(FIRST_WAIT_MS << (attempt - 1));
        attempt += 1;
    }
}

/// Sleeps `ms` milliseconds, in slices that a cancel or statement_timeout ends.
fn wait_ms(ms: u64) {
    for _ in 0..ms.div_ceil(10) {
        pgrx::check_for_interrupts!();
        // SAFETY: a plain sleep of 10 ms.
        unsafe { pg_sys::pg_usleep(10_000) };
    }
    pgrx::check_for_interrupts!();
}

/// One report against the metadata in `cluster`.
fn report_once(
    cluster: &Cluster,
    selection: &Selection,
    filtered: bool,
    limit: Option<i64>,
) -> Vec<Issue> {
    let ix = Index::new(&cluster.snapshot);
    let need = needs(&ix);
    let catalog = selection.runs(Category::Catalog);
    let want_listing = selection.runs(Category::Physical)
        || selection.runs(Category::Data)
        || (catalog && need.placements);
    let want_cross = selection.runs(Category::CrossNode) || (catalog && need.ranges);

    // The listing and the checksums, where both are wanted, in one round trip to the nodes.
    let (listing_answers, sums_answers) = first_round(
        cluster,
        want_listing,
        want_cross,
        selection.runs(Category::Data),
    );
    let mut node_rows: Vec<Issue> = Vec::new();
    let mut ev = Evidence::default();
    if let Some(answers) = listing_answers {
        let (e, issues) = listing::evidence_from(cluster, answers);
        ev = e;
        node_rows.extend(issues);
    }
    let mut cross_rows = Vec::new();
    if want_cross {
        let only: Option<BTreeSet<String>> = filtered.then(|| {
            cluster
                .snapshot
                .tables
                .iter()
                .map(|t| t.qualified.clone())
                .collect()
        });
        let cross = metadata::cross_node(cluster, only.as_ref(), sums_answers);
        ev.workers = cross.workers;
        ev.worker_labels = cross.worker_labels;
        let (nodes, drift): (Vec<Issue>, Vec<Issue>) = cross
            .issues
            .into_iter()
            .partition(|i| i.check.always_reported());
        node_rows.extend(nodes);
        cross_rows = drift;
    }

    let cx = Context::with_index(ix, &ev, &PgQuote);
    let mut out = Vec::new();
    if catalog {
        out.extend(check_catalog(&cx));
        out.extend(colocation_splits(cluster));
    }
    if selection.runs(Category::Physical) || selection.runs(Category::Data) {
        out.extend(check_physical(&cx.ix, &ev, &cx.placement_repairs, &PgQuote));
    }
    out.extend(cross_rows);
    if selection.runs(Category::Data) {
        out.extend(scan::data_check(
            cluster,
            &ev,
            &broken_ranges(cluster),
            limit,
        ));
    }
    // One row per node that did not answer, whichever command it did not answer.
    let mut seen = HashSet::new();
    out.extend(
        node_rows
            .into_iter()
            .filter(|i| seen.insert(i.node.clone())),
    );
    out.retain(|i| selection.keeps(i.check));
    out
}

/// Tables that belong together in different colocation groups (src/api/split.rs), for the
/// tables the report looks at.
fn colocation_splits(cluster: &Cluster) -> Vec<Issue> {
    let names: HashSet<&str> = cluster
        .snapshot
        .tables
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    crate::api::splits()
        .into_iter()
        .filter(|s| {
            s.moving_tables.iter().any(|t| names.contains(t.as_str()))
                || names.contains(s.target_table.as_str())
        })
        .map(|s| {
            Issue::new(
                CheckId::ColocationSplit,
                Level::Warning,
                s.detail(),
                Remedy::Run(s.remediation()),
            )
            .table(s.table())
        })
        .collect()
}

type Answers = Option<Vec<NodeAnswer<String>>>;

/// The first questions to the nodes, asked together: the listing of every node and the
/// checksums of every metadata worker.
fn first_round(cluster: &Cluster, listing: bool, sums: bool, sizes: bool) -> (Answers, Answers) {
    let nodes = if listing {
        cluster.nodes_to_ask()
    } else {
        Vec::new()
    };
    let workers = if sums {
        cluster.metadata_workers()
    } else {
        Vec::new()
    };
    // the data check shares its work out by the size of what it reads
    let listing_command = listing::command(if sizes {
        listing::Sizes::Heap
    } else {
        listing::Sizes::None
    });
    let mut jobs: Vec<Job> = nodes
        .iter()
        .map(|n| Job {
            node: n,
            command: listing_command.clone(),
        })
        .collect();
    jobs.extend(workers.iter().map(|n| Job {
        node: n,
        command: queries::METADATA_SUMS.to_string(),
    }));
    let mut answers = fanout::run(&jobs);
    let sums_answers = answers.split_off(nodes.len());
    (listing.then_some(answers), sums.then_some(sums_answers))
}

/// Hash tables whose ranges fail the checks: the data check would judge rows against them, so
/// it skips them (their range findings say so).
fn broken_ranges(cluster: &Cluster) -> HashSet<usize> {
    cluster
        .snapshot
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_hash())
        .filter(|(_, t)| {
            let r: Vec<(i32, i32)> = t.shards.iter().filter_map(|s| s.range()).collect();
            r.len() != t.shards.len() || !ranges_valid(&r)
        })
        .map(|(i, _)| i)
        .collect()
}
