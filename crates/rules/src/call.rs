//! What a call of one of Citus's distribution functions means, decided once for every front end.
//!
//! Three steps, each usable on its own:
//!
//! 1. [`CitusFunction`]: the five functions the guard watches, with their exact SQL signatures.
//! 2. [`bind`]: a call's arguments as written (positional, then `name => value` or
//!    `name := value`) matched to the parameters the way PostgreSQL matches them, defaults
//!    filled in, or a [`BindError`] saying why PostgreSQL would not find the function.
//! 3. [`describe`]: a [`BoundCall`] plus a [`Catalog`] lookup → the rules' [`DistCall`], or a
//!    [`NotDescribed`] reason: the call does nothing, Citus refuses it itself, the table does
//!    not exist, or PostgreSQL would reject an argument value.
//!
//! ## How each front end calls it
//!
//! *The runtime guard* (`guarded_call`) has every argument already bound and converted by
//! PostgreSQL; it passes them positionally, all of them, as the types' output functions print
//! them, and the table as an OID:
//!
//! ```
//! use sidecar_rules::call::*;
//! # struct Glue; impl Catalog for Glue { fn table(&mut self, _: &RelationRef, _: Option<&str>) -> Option<sidecar_rules::TableFacts> { None } }
//! # let mut glue = Glue;
//! let args = vec![
//!     Arg::positional(Value::Relation(RelationRef::Oid(16384))),
//!     Arg::positional(Value::Text("user_id".into())),
//!     Arg::positional(Value::Text("hash".into())),
//!     Arg::positional(Value::Text("default".into())),
//!     Arg::positional(Value::Null),
//! ];
//! let bound = bind(CitusFunction::CreateDistributedTable, args).expect("PostgreSQL bound it already");
//! match describe(&bound, &mut glue) {
//!     Ok(call) => { /* check_distribution_call(&call, &cluster, &settings) */ }
//!     Err(why) => { /* nothing to check: Citus does nothing, or reports the problem itself */ let _ = why; }
//! }
//! ```
//!
//! A [`BindError`] cannot happen there (PostgreSQL found the function), and neither can
//! [`NotDescribed::InvalidArgument`] (PostgreSQL converted the values).
//!
//! *check_ddl* (and a CLI) have the raw call: they pass each argument as written, positional
//! or named (names as the parser gives them, i.e. already case-folded), constants as text
//! (`'48'`, `48`, `TRUE` → `"48"`, `"48"`, `"true"`), NULL as [`Value::Null`], and the table
//! as a name ([`Value::Text`] or [`RelationRef::Name`]). They report a [`BindError`] or a
//! [`NotDescribed`] as a note (each has a message), and check the [`DistCall`] otherwise. An
//! argument that is not a constant cannot be described statically: leave the call to the guard.

use std::fmt;

use crate::facts::{ColocateWith, DistCall, TableFacts};
use crate::pgvalue::{
    keyword_eq, parse_bool, parse_int4, truncate_identifier, BoolError, IntError,
};
use crate::MAX_SHARD_COUNT;

/// The Citus functions the guard intercepts. Their SQL signatures are identical in Citus
/// 13.2.2 and 14.0.1 (`src/backend/distributed/sql/udfs/<name>/latest.sql`, the same files
/// the `citus--*.sql` upgrade chain includes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CitusFunction {
    /// `udfs/create_distributed_table/10.1-1.sql`: LANGUAGE C, not strict.
    CreateDistributedTable,
    /// `udfs/create_distributed_table_concurrently/11.1-1.sql`: LANGUAGE C, not strict.
    CreateDistributedTableConcurrently,
    /// `udfs/alter_distributed_table/10.0-1.sql`: LANGUAGE C, not strict.
    AlterDistributedTable,
    /// `udfs/undistribute_table/10.0-1.sql`: LANGUAGE C STRICT.
    UndistributeTable,
    /// `udfs/update_distributed_table_colocation/9.3-2.sql`: LANGUAGE C STRICT.
    UpdateDistributedTableColocation,
}

/// A parameter's SQL type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// `regclass`: the table.
    RegClass,
    /// `text`.
    Text,
    /// The enum `citus.distribution_type` (`'hash'`, `'range'`, `'append'`; citus--8.0-1.sql).
    DistributionType,
    /// `int` (int4).
    Int4,
    /// `boolean`.
    Bool,
}

/// A parameter's default, as the SQL definition writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamDefault {
    /// No default: the call must pass it.
    Required,
    /// `DEFAULT NULL`.
    Null,
    /// A text or enum literal default (`'hash'`, `'default'`).
    Text(&'static str),
    /// A boolean default (`false`).
    Bool(bool),
}

/// One parameter of a [`CitusFunction`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The parameter name named arguments use.
    pub name: &'static str,
    /// Its SQL type.
    pub ty: ParamType,
    /// Its default, or [`ParamDefault::Required`].
    pub default: ParamDefault,
}

const fn p(name: &'static str, ty: ParamType, default: ParamDefault) -> Param {
    Param { name, ty, default }
}

use ParamDefault::{Null as DNull, Required as Req};
use ParamType::*;

const CREATE_PARAMS: [Param; 5] = [
    p("table_name", RegClass, Req),
    p("distribution_column", Text, Req),
    p(
        "distribution_type",
        DistributionType,
        ParamDefault::Text("hash"),
    ),
    p("colocate_with", Text, ParamDefault::Text("default")),
    p("shard_count", Int4, DNull),
];
const ALTER_PARAMS: [Param; 5] = [
    p("table_name", RegClass, Req),
    p("distribution_column", Text, DNull),
    p("shard_count", Int4, DNull),
    p("colocate_with", Text, DNull),
    p("cascade_to_colocated", Bool, DNull),
];
const UNDISTRIBUTE_PARAMS: [Param; 2] = [
    p("table_name", RegClass, Req),
    p("cascade_via_foreign_keys", Bool, ParamDefault::Bool(false)),
];
const UPDATE_COLOCATION_PARAMS: [Param; 2] = [
    p("table_name", RegClass, Req),
    p("colocate_with", Text, Req),
];

/// The labels of `citus.distribution_type`, in their enum order.
pub const DISTRIBUTION_TYPES: [&str; 3] = ["hash", "range", "append"];

impl CitusFunction {
    /// All five, in the order above.
    pub const ALL: [CitusFunction; 5] = [
        CitusFunction::CreateDistributedTable,
        CitusFunction::CreateDistributedTableConcurrently,
        CitusFunction::AlterDistributedTable,
        CitusFunction::UndistributeTable,
        CitusFunction::UpdateDistributedTableColocation,
    ];

    /// The SQL name in pg_catalog, which is also the C symbol (`prosrc`) in both versions.
    pub fn proname(self) -> &'static str {
        match self {
            CitusFunction::CreateDistributedTable => "create_distributed_table",
            CitusFunction::CreateDistributedTableConcurrently => {
                "create_distributed_table_concurrently"
            }
            CitusFunction::AlterDistributedTable => "alter_distributed_table",
            CitusFunction::UndistributeTable => "undistribute_table",
            CitusFunction::UpdateDistributedTableColocation => {
                "update_distributed_table_colocation"
            }
        }
    }

    /// The function called `name` (a SQL name or a C symbol), exactly as spelled.
    pub fn from_name(name: &str) -> Option<CitusFunction> {
        CitusFunction::ALL.into_iter().find(|f| f.proname() == name)
    }

    /// The parameters, in order, with types and defaults.
    pub fn params(self) -> &'static [Param] {
        match self {
            CitusFunction::CreateDistributedTable
            | CitusFunction::CreateDistributedTableConcurrently => &CREATE_PARAMS,
            CitusFunction::AlterDistributedTable => &ALTER_PARAMS,
            CitusFunction::UndistributeTable => &UNDISTRIBUTE_PARAMS,
            CitusFunction::UpdateDistributedTableColocation => &UPDATE_COLOCATION_PARAMS,
        }
    }

    /// STRICT: PostgreSQL does not call it at all when an argument is NULL.
    pub fn is_strict(self) -> bool {
        matches!(
            self,
            CitusFunction::UndistributeTable | CitusFunction::UpdateDistributedTableColocation
        )
    }

    /// Where the SQL is defined, for messages and reviews.
    pub fn sql_source(self) -> &'static str {
        match self {
            CitusFunction::CreateDistributedTable => "sql/udfs/create_distributed_table/10.1-1.sql",
            CitusFunction::CreateDistributedTableConcurrently => {
                "sql/udfs/create_distributed_table_concurrently/11.1-1.sql"
            }
            CitusFunction::AlterDistributedTable => "sql/udfs/alter_distributed_table/10.0-1.sql",
            CitusFunction::UndistributeTable => "sql/udfs/undistribute_table/10.0-1.sql",
            CitusFunction::UpdateDistributedTableColocation => {
                "sql/udfs/update_distributed_table_colocation/9.3-2.sql"
            }
        }
    }
}

impl fmt::Display for CitusFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proname())
    }
}

/// The table a call names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RelationRef {
    /// An OID, as the guard gets it from the `regclass` argument.
    Oid(u32),
    /// A name as written in the script (`orders`, `public.orders`, `"Orders"`), to be resolved
    /// the way `regclassin` resolves it (quotes respected, unquoted parts downcased, the search
    /// path applied). Citus resolves a `colocate_with` table name the same way
    /// (`ResolveRelationId`: `textToQualifiedNameList` + `RangeVarGetRelid`).
    Name(String),
}

impl fmt::Display for RelationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RelationRef::Oid(o) => write!(f, "relation {o}"),
            RelationRef::Name(n) => f.write_str(n),
        }
    }
}

/// One argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// The value as text: what the type's output function prints (guard), or the constant as
    /// written without its quotes (check_ddl). Read with PostgreSQL's input rules.
    Text(String),
    /// A relation, for the `regclass` parameter.
    Relation(RelationRef),
}

/// One argument as the call writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// `Some(name)` for `name => value` (or the older `name := value`), as the parser gives it.
    pub name: Option<String>,
    /// The value.
    pub value: Value,
}

impl Arg {
    /// A positional argument.
    pub fn positional(value: Value) -> Arg {
        Arg { name: None, value }
    }
    /// `name => value`.
    pub fn named(name: impl Into<String>, value: Value) -> Arg {
        Arg {
            name: Some(name.into()),
            value,
        }
    }
}

/// Why PostgreSQL would not call the function with these arguments. Apart from
/// `PositionalAfterNamed` and `DuplicateName` (which PostgreSQL reports as such), PostgreSQL
/// says only `function <name>(<types>) does not exist`; the variants say which rule failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BindError {
    /// `positional argument cannot follow named argument`
    PositionalAfterNamed {
        /// 1-based position of the offending argument.
        position: usize,
    },
    /// `argument name "x" used more than once`
    DuplicateName(String),
    /// No parameter has that name.
    UnknownName(String),
    /// More arguments than parameters.
    TooManyArguments {
        /// Arguments in the call.
        given: usize,
        /// Parameters of the function.
        max: usize,
    },
    /// A named argument for a parameter already given positionally.
    AlreadyGiven(&'static str),
    /// A parameter without a default was not given.
    Missing(&'static str),
}

impl BindError {
    /// The SQLSTATE PostgreSQL raises (42601 syntax error, 42883 undefined function).
    pub fn sqlstate(&self) -> &'static str {
        match self {
            BindError::PositionalAfterNamed { .. } | BindError::DuplicateName(_) => "42601",
            _ => "42883",
        }
    }

    /// A message for `function`, naming the rule PostgreSQL applies.
    pub fn message(&self, function: CitusFunction) -> String {
        let f = function.proname();
        match self {
            BindError::PositionalAfterNamed { position } => {
                format!("{f}: positional argument {position} cannot follow named argument")
            }
            BindError::DuplicateName(n) => format!("{f}: argument name \"{n}\" used more than once"),
            BindError::UnknownName(n) => {
                format!("function {f} does not exist with these arguments: it has no parameter named \"{n}\"")
            }
            BindError::TooManyArguments { given, max } => {
                format!("function {f} does not exist with these arguments: {given} given, it takes at most {max}")
            }
            BindError::AlreadyGiven(n) => format!(
                "function {f} does not exist with these arguments: \"{n}\" is given both by position and by name"
            ),
            BindError::Missing(n) => {
                format!("function {f} does not exist with these arguments: \"{n}\" has no default and is not given")
            }
        }
    }
}

/// A call with every parameter filled: what the function really receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundCall {
    /// The function called.
    pub function: CitusFunction,
    /// One value per parameter of `function.params()`, defaults applied.
    pub values: Vec<Value>,
    /// Whether each parameter was passed (true) or left at its default (false).
    pub given: Vec<bool>,
}

impl BoundCall {
    /// The value of parameter `name` (panics on a name the function does not have: a bug).
    pub fn value(&self, name: &str) -> &Value {
        let i = self
            .function
            .params()
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("{} has no parameter {name}", self.function));
        &self.values[i]
    }
}

/// PostgreSQL's rules for a call's arguments (`ParseFuncOrColumn`, `MatchNamedCall`):
/// positional arguments first, then named ones; each name used once, naming a parameter not
/// already given by position; no more arguments than parameters; every parameter without a
/// default given. Parameter names match exactly (the parser has already folded unquoted names
/// to lower case). Defaults are filled in as the SQL definition writes them.
pub fn bind(function: CitusFunction, args: Vec<Arg>) -> Result<BoundCall, BindError> {
    let params = function.params();
    // ParseFuncOrColumn's own checks come first.
    let mut seen_named = false;
    let mut names: Vec<&str> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        match &a.name {
            Some(n) => {
                if names.contains(&n.as_str()) {
                    return Err(BindError::DuplicateName(n.clone()));
                }
                names.push(n);
                seen_named = true;
            }
            None if seen_named => return Err(BindError::PositionalAfterNamed { position: i + 1 }),
            None => {}
        }
    }
    if args.len() > params.len() {
        return Err(BindError::TooManyArguments {
            given: args.len(),
            max: params.len(),
        });
    }
    let mut slots: Vec<Option<Value>> = vec![None; params.len()];
    let positional = args.iter().take_while(|a| a.name.is_none()).count();
    for a in args {
        let slot = match a.name {
            None => slots
                .iter()
                .position(Option::is_none)
                .expect("fewer args than params"),
            Some(n) => {
                let i = params
                    .iter()
                    .position(|p| p.name == n)
                    .ok_or(BindError::UnknownName(n.clone()))?;
                if i < positional {
                    return Err(BindError::AlreadyGiven(params[i].name));
                }
                i
            }
        };
        slots[slot] = Some(a.value);
    }
    let mut values = Vec::with_capacity(params.len());
    let mut given = Vec::with_capacity(params.len());
    for (p, slot) in params.iter().zip(slots) {
        given.push(slot.is_some());
        values.push(match (slot, p.default) {
            (Some(v), _) => v,
            (None, ParamDefault::Required) => return Err(BindError::Missing(p.name)),
            (None, ParamDefault::Null) => Value::Null,
            (None, ParamDefault::Text(t)) => Value::Text(t.to_string()),
            (None, ParamDefault::Bool(b)) => {
                Value::Text(if b { "true" } else { "false" }.to_string())
            }
        });
    }
    Ok(BoundCall {
        function,
        values,
        given,
    })
}

/// What the glue looks up in the catalog (SPI in the guard; the script's own CREATE TABLEs,
/// then the catalog, in check_ddl).
pub trait Catalog {
    /// Facts about table `rel` and the column a call distributes on: `column` when given
    /// (already truncated the way Citus truncates it; match it exactly, it is not downcased),
    /// else the table's current distribution column, if any. `None` when no such relation
    /// exists. A `Some(table)` whose `column` is `None` although `column` was given means the
    /// table has no such column.
    fn table(&mut self, rel: &RelationRef, column: Option<&str>) -> Option<TableFacts>;
}

/// An argument value PostgreSQL would reject before the function runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// `int4in` rejects it.
    Int(IntError),
    /// `boolin` rejects it.
    Bool(BoolError),
    /// `invalid input value for enum citus.distribution_type: "<input>"` (enum labels match
    /// exactly: `'HASH'` is not `hash`).
    DistributionType(String),
    /// A relation given where the parameter is not a regclass, or text where it is none.
    WrongType {
        /// The parameter's type.
        expected: ParamType,
    },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::Int(e) => e.fmt(f),
            ValueError::Bool(e) => e.fmt(f),
            ValueError::DistributionType(s) => {
                write!(
                    f,
                    "invalid input value for enum citus.distribution_type: \"{s}\""
                )
            }
            ValueError::WrongType { expected } => write!(f, "argument is not of type {expected:?}"),
        }
    }
}

/// Why a call yields no [`DistCall`] to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotDescribed {
    /// PostgreSQL would reject this argument's value (check_ddl and CLI only).
    InvalidArgument {
        /// The parameter.
        param: &'static str,
        /// Why PostgreSQL rejects the value.
        error: ValueError,
    },
    /// The call does nothing: a STRICT function with a NULL argument, or one of Citus's early
    /// returns on NULL.
    NoOp {
        /// Why, for a note.
        reason: String,
    },
    /// The table does not exist; PostgreSQL or Citus reports it.
    TableMissing(RelationRef),
    /// Citus raises this error itself before it changes anything (or rolls everything back);
    /// the guard lets Citus's own error through.
    CitusRefuses {
        /// Citus's error message (or what it amounts to).
        message: String,
    },
}

impl NotDescribed {
    /// A one-line explanation for a note.
    pub fn message(&self, function: CitusFunction) -> String {
        match self {
            NotDescribed::InvalidArgument { param, error } => {
                format!("{function}: {param}: {error}")
            }
            NotDescribed::NoOp { reason } => format!("{function} does nothing here: {reason}"),
            NotDescribed::TableMissing(r) => format!("{function}: table {r} does not exist"),
            NotDescribed::CitusRefuses { message } => format!("{function} will fail: {message}"),
        }
    }
}

fn refuses(message: impl Into<String>) -> NotDescribed {
    NotDescribed::CitusRefuses {
        message: message.into(),
    }
}

fn text<'a>(call: &'a BoundCall, name: &'static str) -> Result<Option<&'a str>, NotDescribed> {
    match call.value(name) {
        Value::Null => Ok(None),
        Value::Text(s) => Ok(Some(s)),
        Value::Relation(_) => Err(NotDescribed::InvalidArgument {
            param: name,
            error: ValueError::WrongType {
                expected: ParamType::Text,
            },
        }),
    }
}

fn int(call: &BoundCall, name: &'static str) -> Result<Option<i32>, NotDescribed> {
    text(call, name)?
        .map(|s| {
            parse_int4(s).map_err(|e| NotDescribed::InvalidArgument {
                param: name,
                error: ValueError::Int(e),
            })
        })
        .transpose()
}

fn boolean(call: &BoundCall, name: &'static str) -> Result<Option<bool>, NotDescribed> {
    text(call, name)?
        .map(|s| {
            parse_bool(s).map_err(|e| NotDescribed::InvalidArgument {
                param: name,
                error: ValueError::Bool(e),
            })
        })
        .transpose()
}

fn relation(call: &BoundCall) -> Result<Option<RelationRef>, NotDescribed> {
    Ok(match call.value("table_name") {
        Value::Null => None,
        Value::Relation(r) => Some(r.clone()),
        Value::Text(s) => Some(RelationRef::Name(s.clone())),
    })
}

fn distribution_type(call: &BoundCall) -> Result<Option<&'static str>, NotDescribed> {
    text(call, "distribution_type")?
        .map(|s| {
            DISTRIBUTION_TYPES
                .into_iter()
                .find(|l| *l == s)
                .ok_or_else(|| NotDescribed::InvalidArgument {
                    param: "distribution_type",
                    error: ValueError::DistributionType(s.to_string()),
                })
        })
        .transpose()
}

/// `colocate_with` as create_distributed_table[_concurrently] read it: `IsColocateWithDefault`
/// / `IsColocateWithNone` (utils/colocation_utils.c:147-160 in 13.2.2, :121-134 in 14.0.1) and
/// the equivalent inline `pg_strncasecmp` of create_distributed_table_concurrently
/// (create_distributed_table.c:346 / :347): case-insensitive, nothing trimmed.
pub fn colocate_with_for_create(s: &str) -> ColocateWith {
    if keyword_eq(s, "default") {
        ColocateWith::Default
    } else if keyword_eq(s, "none") {
        ColocateWith::None
    } else {
        ColocateWith::Table(s.to_string())
    }
}

/// `colocate_with` as update_distributed_table_colocation reads it: only `none` is a keyword
/// (case-insensitive, colocation_utils.c:125 / :99); `'default'` is a table name there.
pub fn colocate_with_for_update(s: &str) -> ColocateWith {
    if keyword_eq(s, "none") {
        ColocateWith::None
    } else {
        ColocateWith::Table(s.to_string())
    }
}

fn column_facts(
    catalog: &mut dyn Catalog,
    rel: &RelationRef,
    column: Option<&str>,
) -> Result<TableFacts, NotDescribed> {
    let t = catalog
        .table(rel, column)
        .ok_or_else(|| NotDescribed::TableMissing(rel.clone()))?;
    if let (Some(c), None) = (column, &t.column) {
        return Err(refuses(format!(
            "column \"{c}\" of relation \"{}\" does not exist",
            t.name
        )));
    }
    Ok(t)
}

/// The rules' view of a bound call: the table's facts from `catalog`, the distribution column
/// truncated as Citus truncates it, `colocate_with` keywords read as each function reads them,
/// integers and booleans read with PostgreSQL's input rules. See [`NotDescribed`] for what
/// yields no call to check.
pub fn describe(call: &BoundCall, catalog: &mut dyn Catalog) -> Result<DistCall, NotDescribed> {
    let f = call.function;
    if f.is_strict() && call.values.contains(&Value::Null) {
        return Err(NotDescribed::NoOp {
            reason: format!(
                "{f} is STRICT and an argument is NULL, so PostgreSQL does not call it"
            ),
        });
    }
    match f {
        CitusFunction::CreateDistributedTable
        | CitusFunction::CreateDistributedTableConcurrently => describe_create(call, catalog),
        CitusFunction::AlterDistributedTable => describe_alter(call, catalog),
        CitusFunction::UndistributeTable => {
            boolean(call, "cascade_via_foreign_keys")?;
            let rel = relation(call)?.expect("strict");
            Ok(DistCall::UndistributeTable {
                table: column_facts(catalog, &rel, None)?,
            })
        }
        CitusFunction::UpdateDistributedTableColocation => {
            let rel = relation(call)?.expect("strict");
            let cw = colocate_with_for_update(text(call, "colocate_with")?.expect("strict"));
            Ok(DistCall::UpdateDistributedTableColocation {
                table: column_facts(catalog, &rel, None)?,
                colocate_with: cw,
            })
        }
    }
}

/// create_distributed_table (create_distributed_table.c:219-314 in 13.2.2, :220-315 in 14.0.1)
/// and create_distributed_table_concurrently (:318-368 / :319-369).
fn describe_create(call: &BoundCall, catalog: &mut dyn Catalog) -> Result<DistCall, NotDescribed> {
    let concurrently = call.function == CitusFunction::CreateDistributedTableConcurrently;
    // Every value is read first: PostgreSQL converts them all before the function runs.
    let rel = relation(call)?;
    let column = text(call, "distribution_column")?;
    let dtype = distribution_type(call)?;
    let colocate = text(call, "colocate_with")?;
    let shard_count = int(call, "shard_count")?;
    let (Some(rel), Some(colocate)) = (rel, colocate) else {
        return Err(NotDescribed::NoOp {
            reason: "Citus returns without doing anything when table_name or colocate_with is NULL"
                .into(),
        });
    };
    let colocate_with = colocate_with_for_create(colocate);
    if concurrently && dtype.is_none() {
        return Err(NotDescribed::NoOp {
            reason: "Citus returns without doing anything when distribution_type is NULL".into(),
        });
    }
    let Some(column) = column else {
        if concurrently {
            return Err(refuses(
                "cannot use create_distributed_table_concurrently to create a distributed table with a null shard key, consider using create_distributed_table()",
            ));
        }
        if shard_count.is_some() {
            return Err(refuses("shard_count can't be specified when the distribution column is null because in that case it's automatically set to 1"));
        }
        if dtype.is_some_and(|d| d != "hash") {
            return Err(refuses(
                "distribution_type can't be specified when the distribution column is null ",
            ));
        }
        // A single-shard table.
        return Ok(DistCall::CreateDistributedTable {
            concurrently,
            table: column_facts(catalog, &rel, None)?,
            distribution_column: None,
            distribution_type: "hash".into(),
            colocate_with,
            shard_count: None,
        });
    };
    let Some(dtype) = dtype else {
        return Err(NotDescribed::NoOp {
            reason: "Citus returns without doing anything when distribution_type is NULL".into(),
        });
    };
    if shard_count.is_some() && matches!(colocate_with, ColocateWith::Table(_)) {
        return Err(refuses(
            "Cannot use colocate_with with a table and shard_count at the same time",
        ));
    }
    if concurrently && dtype != "hash" {
        // CreateDistributedTableConcurrently, create_distributed_table.c:407 (13.2.2) / :408
        // (14.0.1), before the table is touched.
        return Err(refuses(
            "only hash-distributed tables can be distributed without blocking writes",
        ));
    }
    if let (false, Some(n)) = (concurrently, shard_count) {
        // create_distributed_table.c:266 (13.2.2) / :267 (14.0.1). The concurrent variant has
        // no such check.
        if !(1..=MAX_SHARD_COUNT).contains(&n) {
            return Err(refuses(format!(
                "{n} is outside the valid range for parameter \"shard_count\" (1 .. {MAX_SHARD_COUNT})"
            )));
        }
    }
    let column = truncate_identifier(column);
    Ok(DistCall::CreateDistributedTable {
        concurrently,
        table: column_facts(catalog, &rel, Some(column))?,
        distribution_column: Some(column.to_string()),
        distribution_type: dtype.to_string(),
        colocate_with,
        shard_count,
    })
}

/// alter_distributed_table (alter_table.c:268-320) and the checks of
/// `CheckAlterDistributedTableConversionParameters` (alter_table.c:1957 in 13.2.2, :1954 in
/// 14.0.1) that depend on the arguments alone.
fn describe_alter(call: &BoundCall, catalog: &mut dyn Catalog) -> Result<DistCall, NotDescribed> {
    let rel = relation(call)?;
    let column = text(call, "distribution_column")?;
    let shard_count = int(call, "shard_count")?;
    let colocate = text(call, "colocate_with")?;
    let cascade = boolean(call, "cascade_to_colocated")?;
    let Some(rel) = rel else {
        // PG_GETARG_OID(0) of a NULL is InvalidOid: EnsureRelationExists fails.
        return Err(NotDescribed::TableMissing(RelationRef::Oid(0)));
    };
    if column.is_none() && shard_count.is_none() && colocate.is_none() && cascade != Some(true) {
        return Err(refuses(
            "you have to specify at least one of the distribution_column, shard_count or colocate_with parameters",
        ));
    }
    // The parameter check compares the keywords with strcmp (alter_table.c:1983-1984, 2053,
    // 2071-2072 in 13.2.2; 1980-1981, 2050, 2068-2069 in 14.0.1): any other spelling is
    // resolved as a table name there (textToQualifiedNameList folds 'DEFAULT' to default).
    // The conversion itself then reads the keyword case-insensitively (CreateDistributedTable
    // → IsColocateWithDefault/None), so a call that gets past the check colocates like the
    // keyword.
    let colocate_with = match colocate {
        None => None,
        Some("default") => Some(ColocateWith::Default),
        Some("none") => Some(ColocateWith::None),
        Some(s) => match colocate_with_for_create(s) {
            ColocateWith::Table(t) => Some(ColocateWith::Table(t)),
            keyword => {
                let as_table = RelationRef::Name(s.to_string());
                if catalog.table(&as_table, None).is_none() {
                    return Err(refuses(format!(
                        "relation \"{}\" does not exist (only the lower-case spelling '{}' is a keyword in alter_distributed_table's parameter check)",
                        s.to_lowercase(),
                        s.to_lowercase()
                    )));
                }
                Some(keyword)
            }
        },
    };
    // alter_table.c:2020 (13.2.2) / :2017 (14.0.1).
    if shard_count == Some(0) {
        return Err(refuses("shard_count cannot be 0"));
    }
    if cascade == Some(true) && column.is_some() {
        return Err(refuses(
            "distribution_column cannot be cascaded to colocated tables",
        ));
    }
    if cascade == Some(true) && shard_count.is_none() && colocate.is_none() {
        return Err(refuses(
            "shard_count or colocate_with is necessary for cascading to colocated tables",
        ));
    }
    if cascade == Some(true) && colocate == Some("none") {
        return Err(refuses(
            "colocate_with := 'none' cannot be cascaded to colocated tables",
        ));
    }
    if let Some(n) = shard_count.filter(|n| *n < 0) {
        // No check in alter_table.c; the new table's shards are created by
        // CreateShardsWithRoundRobinPolicy, which refuses (operations/create_shards.c:115-118 in
        // both versions) and the whole conversion rolls back.
        return Err(refuses(format!(
            "shard_count must be positive (shard_count is {n})"
        )));
    }
    let column = column.map(truncate_identifier);
    Ok(DistCall::AlterDistributedTable {
        table: column_facts(catalog, &rel, column)?,
        distribution_column: column.map(str::to_string),
        shard_count,
        colocate_with,
        cascade_to_colocated: cascade,
    })
}

/// [`bind`] then [`describe`], for a front end that wants one answer.
pub fn describe_call(
    function: CitusFunction,
    args: Vec<Arg>,
    catalog: &mut dyn Catalog,
) -> Result<DistCall, CallError> {
    let bound = bind(function, args).map_err(CallError::Bind)?;
    describe(&bound, catalog).map_err(CallError::NotDescribed)
}

/// What [`describe_call`] can return instead of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// PostgreSQL would not find the function for these arguments.
    Bind(BindError),
    /// Bound, but nothing to check.
    NotDescribed(NotDescribed),
}

impl CallError {
    /// A one-line explanation for a note.
    pub fn message(&self, function: CitusFunction) -> String {
        match self {
            CallError::Bind(e) => e.message(function),
            CallError::NotDescribed(e) => e.message(function),
        }
    }
}

#[cfg(test)]
mod tests;
