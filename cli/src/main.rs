use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use citus_sidecar_cli::catalog::read_snapshot;
use citus_sidecar_cli::finding::{self, FailOn, FileError, FileResult, Format};
use citus_sidecar_cli::offline;
use citus_sidecar_cli::online::Server;
use citus_sidecar_cli::report::{self, ReportFailOn, ReportFormat};
use clap::{Args, Parser, Subcommand};
use sidecar_rules::RuleId;

const CONNECTION_HELP: &str = "\
Connection: --db takes a connection string as libpq does (key=value pairs, a postgresql:// URI, or
a database name); what it leaves out comes from the service file (service=NAME or PGSERVICE, read
from PGSERVICEFILE or ~/.pg_service.conf, then PGSYSCONFDIR/pg_service.conf), then from PGHOST,
PGHOSTADDR, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGPASSFILE, PGOPTIONS, PGAPPNAME,
PGCONNECT_TIMEOUT, PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGTARGETSESSIONATTRS; a password
from ~/.pgpass (or PGPASSFILE). Without --db, the environment alone, as psql does.";

#[derive(Parser)]
#[command(
    name = "citus-sidecar",
    version,
    about = "Check Citus migrations in CI and run citus-sidecar's reports from a shell",
    long_about = "Check Citus migration files against a live coordinator (the extension's check_ddl) or \
                  offline against a catalog snapshot, and run the consistency, hot-shard and \
                  prepared-transaction reports. Exit codes: 0 nothing at the --fail-on level, 1 \
                  something at or above it, 2 cannot connect, cannot read or parse a file, or the \
                  extension is missing.",
    after_help = "Examples:
  citus-sidecar check migrations/*.sql --db postgresql://ci@coordinator/app
  citus-sidecar check - < migration.sql                       # PG* environment, stdin
  citus-sidecar check migrations/ --format github --fail-on warn
  citus-sidecar snapshot --db service=prod > catalog.json
  citus-sidecar check --catalog catalog.json migrations/*.sql  # no server
  citus-sidecar report --db service=prod --fail-on warn        # for cron"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check migration files: each finding as file:line:col, exit 1 when one blocks.
    #[command(after_help = format!("Examples:
  citus-sidecar check migrations/*.sql --db postgresql://ci@coordinator:5432/app
  citus-sidecar check migrations/ --db 'host=coordinator dbname=app' --format github
  git diff --name-only origin/main -- migrations | xargs citus-sidecar check --fail-on warn
  cat migration.sql | citus-sidecar check - --stdin-name migration.sql
  citus-sidecar check --catalog catalog.json migrations/*.sql --exclude no-replica-identity

Each file is sent to citus_sidecar.check_ddl() in a read-only transaction that is rolled back
(nothing runs), or, with --catalog, parsed here with libpg_query and checked by the same rules
against the snapshot. A file is checked on its own: what an earlier file creates or sets is not
seen by the next. psql meta-commands and COPY ... FROM stdin data are skipped (a note says so).

{CONNECTION_HELP}"))]
    Check(CheckArgs),
    /// Write the catalog snapshot offline checks need (JSON, no data) to stdout or a file.
    #[command(after_help = format!("Examples:
  citus-sidecar snapshot --db postgresql://ci@coordinator/app > catalog.json
  citus-sidecar snapshot --db service=prod -o catalog.json

The snapshot holds what check_ddl reads from the catalog: colocation groups and their shard counts,
distribution column types and collations, nodes that hold shards, citus.shard_count and
citus.shard_replication_factor as this session sees them (and their RESET values), the search
path, and every relation, column, type and collation. Take it as the role and with the settings
your migrations run with.

{CONNECTION_HELP}"))]
    Snapshot(SnapshotArgs),
    /// Run the consistency report, hot shards and stale prepared transactions; exit 1 on errors.
    #[command(after_help = format!("Examples:
  citus-sidecar report --db service=prod
  citus-sidecar report --db service=prod --checks catalog,cross-node --fail-on warn
  citus-sidecar report --checks stale-prepared-xacts --older-than '15 minutes' --format json
  # crontab: every hour, mail the output when something needs attention
  0 * * * * citus-sidecar report --db service=prod --fail-on warn > /tmp/citus-report.txt || mail -s citus ops < /tmp/citus-report.txt

--checks takes the consistency report's categories (catalog, physical, data, cross-node) or check
ids, plus hot-shards (or shard-skew, node-load) and stale-prepared-xacts. Without --checks: the
consistency report's default checks (all but the data scan), hot shards and stale prepared
transactions. Severities are info, warning and error; hot shards above
citus_sidecar.shard_skew_threshold and prepared transactions Citus will not resolve by itself are
warnings, unreachable nodes errors.

{CONNECTION_HELP}"))]
    Report(ReportArgs),
}

#[derive(Args)]
struct CheckArgs {
    /// Migration files or directories (their *.sql files, sorted); - reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// The coordinator to check against (connection string or URI); default: PG* environment.
    #[arg(long, value_name = "CONNINFO", conflicts_with = "catalog")]
    db: Option<String>,
    /// Check offline against this snapshot (from `citus-sidecar snapshot`), with no server.
    #[arg(long, value_name = "FILE")]
    catalog: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// The lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = FailOn::Block)]
    fail_on: FailOn,
    /// Leave out the findings of this rule (repeat, or separate with commas).
    #[arg(long, value_name = "RULE-ID", value_delimiter = ',')]
    exclude: Vec<String>,
    /// The file name to report for stdin (-).
    #[arg(long, value_name = "NAME", default_value = "<stdin>")]
    stdin_name: String,
}

#[derive(Args)]
struct SnapshotArgs {
    /// The coordinator (connection string or URI); default: PG* environment.
    #[arg(long, value_name = "CONNINFO")]
    db: Option<String>,
    /// Write here instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Args)]
struct ReportArgs {
    /// The coordinator (connection string or URI); default: PG* environment.
    #[arg(long, value_name = "CONNINFO")]
    db: Option<String>,
    /// Categories or check ids to run (repeat, or separate with commas).
    #[arg(long, value_name = "CHECK", value_delimiter = ',')]
    checks: Vec<String>,
    /// Prepared transactions older than this are stale (an interval).
    #[arg(long, value_name = "INTERVAL", default_value = "5 minutes")]
    older_than: String,
    /// The lowest severity that makes the exit code 1.
    #[arg(long, value_enum, default_value_t = ReportFailOn::Error)]
    fail_on: ReportFailOn,
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
}

fn fatal(message: &str) -> ExitCode {
    eprintln!("citus-sidecar: {message}");
    ExitCode::from(2)
}

/// The files to check, directories expanded to their *.sql files (sorted).
fn expand(files: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for f in files {
        if f.is_dir() {
            let mut sql: Vec<PathBuf> = std::fs::read_dir(f)
                .map_err(|e| format!("{}: {e}", f.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
                .collect();
            sql.sort();
            out.extend(sql);
        } else {
            out.push(f.clone());
        }
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<String, String> {
    let mut bytes = Vec::new();
    let read = if path == Path::new("-") {
        std::io::stdin().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    };
    read.map_err(|e| format!("cannot read it: {e}"))?;
    String::from_utf8(bytes)
        .map_err(|e| format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
}

fn check(args: CheckArgs) -> ExitCode {
    for r in &args.exclude {
        if RuleId::ALL.iter().all(|id| id.as_str() != r) {
            let known: Vec<&str> = RuleId::ALL.iter().map(|id| id.as_str()).collect();
            eprintln!(
                "citus-sidecar: warning: --exclude {r}: no such rule (rules: {})",
                known.join(", ")
            );
        }
    }
    if args.files.is_empty() {
        return fatal("no migration files given (pass files or directories, or - to read stdin)");
    }
    let files = match expand(&args.files) {
        Ok(f) => f,
        Err(e) => return fatal(&e),
    };
    enum Mode {
        Online(Box<Server>),
        Offline(Box<sidecar_rules::snapshot::CatalogSnapshot>),
    }
    let mut mode = match &args.catalog {
        Some(path) => {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    return fatal(&format!(
                        "{}: cannot read the catalog snapshot: {e}",
                        path.display()
                    ))
                }
            };
            match read_snapshot(&text) {
                Ok(s) => Mode::Offline(Box::new(s)),
                Err(e) => return fatal(&format!("{}: {e}", path.display())),
            }
        }
        None => match Server::open(args.db.as_deref()) {
            Ok(s) => Mode::Online(Box::new(s)),
            Err(e) => return fatal(&e),
        },
    };
    let mut results = Vec::new();
    for f in &files {
        let name = if f == Path::new("-") {
            args.stdin_name.clone()
        } else {
            f.display().to_string()
        };
        let outcome = match read_file(f) {
            Err(e) => Err(FileError::plain(e)),
            Ok(script) => {
                let rows = match &mut mode {
                    Mode::Offline(snap) => offline::check(&script, snap),
                    Mode::Online(server) => match server.check_ddl(&script) {
                        Ok(rows) => Ok(rows),
                        Err(Ok(e)) => Err(e),
                        Err(Err(fatal_error)) => return fatal(&fatal_error),
                    },
                };
                rows.map(|mut rows| {
                    finding::at_first_token(&script, &mut rows);
                    rows
                })
            }
        };
        results.push(FileResult {
            file: name,
            outcome,
        });
    }
    finding::exclude(&mut results, &args.exclude);
    let s = finding::summary(&results);
    let out = match args.format {
        Format::Text => finding::render_text(&results),
        Format::Json => finding::render_json(&results, &s),
        Format::Github => finding::render_github(&results),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    if args.format != Format::Json {
        eprintln!(
            "citus-sidecar: {} file(s) checked: {} blocking, {} warning(s), {} note(s){}",
            s.files,
            s.block,
            s.warn,
            s.note,
            if s.errors > 0 {
                format!(", {} could not be checked", s.errors)
            } else {
                String::new()
            }
        );
    }
    ExitCode::from(finding::exit_code(&s, args.fail_on) as u8)
}

fn snapshot(args: SnapshotArgs) -> ExitCode {
    let mut server = match Server::open(args.db.as_deref()) {
        Ok(s) => s,
        Err(e) => return fatal(&e),
    };
    let text = match server.snapshot() {
        Ok(t) => t,
        Err(e) => return fatal(&e),
    };
    // Read back as the offline check will read it, and written pretty for reviews and diffs.
    let snap = match read_snapshot(&text) {
        Ok(s) => s,
        Err(e) => return fatal(&format!("{}: the server's snapshot: {e}", server.label)),
    };
    let mut pretty = serde_json::to_string_pretty(&snap).expect("plain data serializes");
    pretty.push('\n');
    let written = match &args.output {
        Some(p) => {
            std::fs::write(p, pretty.as_bytes()).map_err(|e| format!("{}: {e}", p.display()))
        }
        None => std::io::stdout()
            .lock()
            .write_all(pretty.as_bytes())
            .map_err(|e| e.to_string()),
    };
    match written {
        Ok(()) => {
            eprintln!(
                "citus-sidecar: snapshot of {} ({} tables, {} colocation groups, server {}, Citus {})",
                server.label,
                snap.tables.len(),
                snap.cluster.groups.len(),
                snap.server_version_num,
                snap.citus_version.as_deref().unwrap_or("not installed")
            );
            ExitCode::SUCCESS
        }
        Err(e) => fatal(&e),
    }
}

fn run_report(args: ReportArgs) -> ExitCode {
    let mut server = match Server::open(args.db.as_deref()) {
        Ok(s) => s,
        Err(e) => return fatal(&e),
    };
    let checks: Vec<String> = args
        .checks
        .iter()
        .map(|c| c.trim().to_lowercase())
        .collect();
    let sel = report::select(&checks);
    let rows = match report::run(&mut server, &sel, &args.older_than, &checks) {
        Ok(r) => r,
        Err(e) => return fatal(&e),
    };
    let s = report::summary(&rows);
    let out = match args.format {
        ReportFormat::Text => report::render_text(&rows),
        ReportFormat::Json => report::render_json(&rows, &s),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes());
    let _ = stdout.flush();
    if args.format == ReportFormat::Text {
        eprintln!(
            "citus-sidecar: report of {}: {} error(s), {} warning(s), {} info",
            server.label, s.error, s.warning, s.info
        );
    }
    ExitCode::from(report::exit_code(&s, args.fail_on) as u8)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(a) => check(a),
        Command::Snapshot(a) => snapshot(a),
        Command::Report(a) => run_report(a),
    }
}
