//! Connection parameters the way libpq users expect them: a connection string (`key=value`
//! pairs or a `postgresql://` URI, or a bare database name) from `--db`, then a service from a
//! service file (`service=` or `PGSERVICE`), then the `PG*` environment variables, then the
//! defaults; a password from the password file (`~/.pgpass`) when none was given. rust-postgres
//! reads none of these by itself, so they are resolved here into a [`Params`] map and then into
//! a `postgres::Config`.
//!
//! The precedence is libpq's (`conninfo_add_defaults`): an explicit parameter wins over the
//! service file, which wins over the environment, which wins over the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode};
use postgres::config::{ChannelBinding, LoadBalanceHosts, SslMode, TargetSessionAttrs};
use postgres::{Client, Config};
use postgres_openssl::MakeTlsConnector;

/// Resolved connection parameters, by libpq keyword.
pub type Params = BTreeMap<String, String>;

/// The libpq keywords this tool understands, with their environment variables.
const KEYWORDS: &[(&str, Option<&str>)] = &[
    ("host", Some("PGHOST")),
    ("hostaddr", Some("PGHOSTADDR")),
    ("port", Some("PGPORT")),
    ("dbname", Some("PGDATABASE")),
    ("user", Some("PGUSER")),
    ("password", Some("PGPASSWORD")),
    ("passfile", Some("PGPASSFILE")),
    ("options", Some("PGOPTIONS")),
    ("application_name", Some("PGAPPNAME")),
    ("fallback_application_name", None),
    ("connect_timeout", Some("PGCONNECT_TIMEOUT")),
    ("keepalives", None),
    ("keepalives_idle", None),
    ("keepalives_interval", None),
    ("keepalives_count", None),
    ("tcp_user_timeout", None),
    ("sslmode", Some("PGSSLMODE")),
    ("sslrootcert", Some("PGSSLROOTCERT")),
    ("sslcert", Some("PGSSLCERT")),
    ("sslkey", Some("PGSSLKEY")),
    ("channel_binding", Some("PGCHANNELBINDING")),
    ("target_session_attrs", Some("PGTARGETSESSIONATTRS")),
    ("load_balance_hosts", Some("PGLOADBALANCEHOSTS")),
    ("client_encoding", Some("PGCLIENTENCODING")),
    ("gssencmode", Some("PGGSSENCMODE")),
    ("service", Some("PGSERVICE")),
];

/// libpq's default Unix-socket directory as Debian builds it, and upstream's.
const SOCKET_DIRS: [&str; 2] = ["/var/run/postgresql", "/tmp"];

fn known(key: &str) -> bool {
    KEYWORDS.iter().any(|(k, _)| *k == key)
}

/// Where the tool looks things up: the environment and the home directory. Tests pass their own.
pub struct Env<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub home: Option<PathBuf>,
}

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.is_empty())
    }
}

/// The process's own environment.
pub fn process_env() -> Env<'static> {
    static VAR: fn(&str) -> Option<String> = |n| std::env::var(n).ok();
    Env {
        var: &VAR,
        home: std::env::var_os("HOME").map(PathBuf::from),
    }
}

/// Parses `--db`: a URI (`postgresql://` or `postgres://`), `key=value` pairs, or a database
/// name.
pub fn parse_conninfo(s: &str) -> Result<Params, String> {
    if s.starts_with("postgresql://") || s.starts_with("postgres://") {
        return parse_uri(s);
    }
    if !s.contains('=') {
        let mut p = Params::new();
        if !s.is_empty() {
            p.insert("dbname".into(), s.into());
        }
        return Ok(p);
    }
    let mut p = Params::new();
    let mut it = s.chars().peekable();
    loop {
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(&c) = it.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            it.next();
        }
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        if it.next() != Some('=') {
            return Err(format!(
                "missing \"=\" after \"{key}\" in connection info string"
            ));
        }
        while it.peek().is_some_and(|c| c.is_whitespace()) {
            it.next();
        }
        let mut val = String::new();
        if it.peek() == Some(&'\'') {
            it.next();
            loop {
                match it.next() {
                    None => {
                        return Err("unterminated quoted string in connection info string".into())
                    }
                    Some('\\') => {
                        if let Some(c) = it.next() {
                            val.push(c);
                        }
                    }
                    Some('\'') => break,
                    Some(c) => val.push(c),
                }
            }
        } else {
            while let Some(&c) = it.peek() {
                if c.is_whitespace() {
                    break;
                }
                it.next();
                if c == '\\' {
                    if let Some(n) = it.next() {
                        val.push(n);
                    }
                } else {
                    val.push(c);
                }
            }
        }
        if !known(&key) {
            return Err(format!("invalid connection option \"{key}\""));
        }
        p.insert(key, val);
    }
    Ok(p)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .ok_or_else(|| format!("invalid percent-encoded token: \"{s}\""))?;
            let v = u8::from_str_radix(hex, 16)
                .map_err(|_| format!("invalid percent-encoded token: \"{s}\""))?;
            if v == 0 {
                return Err(format!(
                    "forbidden value %00 in percent-encoded value: \"{s}\""
                ));
            }
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("invalid UTF-8 in \"{s}\""))
}

/// `postgresql://[user[:password]@][host[:port][,...]][/dbname][?param=value&...]`, as libpq
/// reads it (`conninfo_uri_parse_options`).
fn parse_uri(uri: &str) -> Result<Params, String> {
    let rest = uri.split_once("://").map(|x| x.1).unwrap_or("");
    let mut p = Params::new();
    // credentials: up to an '@' before the first '/'
    let netloc_end = rest.find('/').unwrap_or(rest.len());
    let (creds, rest) = match rest[..netloc_end].rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    if let Some(c) = creds {
        let (u, pw) = match c.split_once(':') {
            Some((u, pw)) => (u, Some(pw)),
            None => (c, None),
        };
        if !u.is_empty() {
            p.insert("user".into(), percent_decode(u)?);
        }
        if let Some(pw) = pw {
            p.insert("password".into(), percent_decode(pw)?);
        }
    }
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (hostlist, rest) = rest.split_at(host_end);
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    if !hostlist.is_empty() {
        for h in hostlist.split(',') {
            let (host, port) = if let Some(v6) = h.strip_prefix('[') {
                let (addr, after) = v6.split_once(']').ok_or_else(|| {
                    format!("missing \"]\" in IPv6 host address in URI: \"{uri}\"")
                })?;
                (
                    addr.to_string(),
                    after.strip_prefix(':').map(str::to_string),
                )
            } else {
                match h.rsplit_once(':') {
                    Some((a, b)) => (a.to_string(), Some(b.to_string())),
                    None => (h.to_string(), None),
                }
            };
            hosts.push(percent_decode(&host)?);
            ports.push(
                port.map(|x| percent_decode(&x))
                    .transpose()?
                    .unwrap_or_default(),
            );
        }
        if hosts.iter().any(|h| !h.is_empty()) {
            p.insert("host".into(), hosts.join(","));
        }
        if ports.iter().any(|x| !x.is_empty()) {
            p.insert("port".into(), ports.join(","));
        }
    }
    let (path, query) = match rest.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (rest, None),
    };
    if let Some(db) = path.strip_prefix('/') {
        if !db.is_empty() {
            p.insert("dbname".into(), percent_decode(db)?);
        }
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|x| !x.is_empty()) {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                format!("missing key/value separator \"=\" in URI query parameter: \"{pair}\"")
            })?;
            let (mut k, mut v) = (percent_decode(k)?, percent_decode(v)?);
            if k == "ssl" && v == "true" {
                k = "sslmode".into();
                v = "require".into();
            }
            if !known(&k) {
                return Err(format!("invalid URI query parameter: \"{k}\""));
            }
            p.insert(k, v);
        }
    }
    Ok(p)
}

/// Reads the `[service]` section of a service file into `p`, not overriding what is set.
/// Ok(true) when the service was found there.
fn read_service_file(file: &Path, service: &str, p: &mut Params) -> Result<bool, String> {
    let Ok(text) = std::fs::read_to_string(file) else {
        return Ok(false);
    };
    let mut found = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            if found {
                return Ok(true);
            }
            found = line
                .get(1..)
                .and_then(|l| l.strip_prefix(service))
                .is_some_and(|r| r.starts_with(']'));
            continue;
        }
        if !found {
            continue;
        }
        let Some((key, val)) = line.split_once('=') else {
            return Err(format!(
                "syntax error in service file \"{}\", line {}",
                file.display(),
                n + 1
            ));
        };
        if key == "service" {
            return Err(format!(
                "nested service specifications not supported in service file \"{}\", line {}",
                file.display(),
                n + 1
            ));
        }
        if !known(key) {
            return Err(format!(
                "syntax error in service file \"{}\", line {}",
                file.display(),
                n + 1
            ));
        }
        p.entry(key.to_string()).or_insert_with(|| val.to_string());
    }
    Ok(found)
}

/// The parameters for `--db` (None: from the environment only), completed from the service
/// file and the environment as libpq completes them. Defaults (host, port, user, database) and
/// the password file are applied later, by [`config`].
pub fn resolve(db: Option<&str>, env: &Env) -> Result<Params, String> {
    let mut p = match db {
        Some(s) => parse_conninfo(s)?,
        None => Params::new(),
    };
    let service = p.get("service").cloned().or_else(|| env.get("PGSERVICE"));
    if let Some(service) = service {
        let user_file = env
            .get("PGSERVICEFILE")
            .map(PathBuf::from)
            .or_else(|| env.home.as_ref().map(|h| h.join(".pg_service.conf")));
        let mut found = false;
        if let Some(f) = user_file {
            found = read_service_file(&f, &service, &mut p)?;
        }
        if !found {
            let dir = env
                .get("PGSYSCONFDIR")
                .unwrap_or_else(|| "/etc/postgresql-common".into());
            found = read_service_file(&Path::new(&dir).join("pg_service.conf"), &service, &mut p)?;
        }
        if !found {
            return Err(format!("definition of service \"{service}\" not found"));
        }
    }
    for (key, var) in KEYWORDS {
        if let (false, Some(var)) = (p.contains_key(*key), var) {
            if let Some(v) = env.get(var) {
                p.insert(key.to_string(), v);
            }
        }
    }
    Ok(p)
}

/// The OS user name, as libpq finds it (the effective uid's passwd entry), else `$USER`.
fn os_user(env: &Env) -> Option<String> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        });
    if let (Some(uid), Ok(passwd)) = (uid, std::fs::read_to_string("/etc/passwd")) {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 2 && f[2] == uid {
                return Some(f[0].to_string());
            }
        }
    }
    env.get("USER").or_else(|| env.get("LOGNAME"))
}

/// One field of a password-file line, with `\` escapes; None at the end of the line.
fn pgpass_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut it = line.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => {
                if let Some(n) = it.next() {
                    out.last_mut().expect("one field").push(n);
                }
            }
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().expect("one field").push(c),
        }
    }
    out
}

/// The password for host, port, database and user from a password file (libpq's
/// `passwordFromFile`): the first matching line, `*` matching anything. A file others can read
/// is ignored, with a warning, as libpq does.
pub fn password_from_file(
    file: &Path,
    host: &str,
    port: &str,
    db: &str,
    user: &str,
) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(file).ok()?;
        if !meta.is_file() {
            return None;
        }
        if meta.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "citus-sidecar: warning: password file \"{}\" has group or world access; permissions should be u=rw (0600) or less",
                file.display()
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = if host.is_empty() || SOCKET_DIRS.contains(&host) {
        "localhost"
    } else {
        host
    };
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f = pgpass_fields(line);
        if f.len() < 5 {
            continue;
        }
        let m = |pat: &str, v: &str| pat == "*" || pat == v;
        if m(&f[0], host) && m(&f[1], port) && m(&f[2], db) && m(&f[3], user) {
            return Some(f[4].clone());
        }
    }
    None
}

fn bad(key: &str, v: &str) -> String {
    format!("invalid {key} value: \"{v}\"")
}

fn seconds(key: &str, v: &str) -> Result<Duration, String> {
    v.trim()
        .parse::<u64>()
        .map(Duration::from_secs)
        .map_err(|_| bad(key, v))
}

/// What to connect to: the rust-postgres configuration and the TLS connector.
pub struct Target {
    pub config: Config,
    pub tls: MakeTlsConnector,
    /// `host:port/dbname`, for messages.
    pub label: String,
}

/// Builds the configuration from resolved parameters, with libpq's defaults.
pub fn config(p: &Params, env: &Env) -> Result<Target, String> {
    let mut c = Config::new();
    let hosts: Vec<String> = match p.get("host") {
        Some(h) => h.split(',').map(str::to_string).collect(),
        None => vec![],
    };
    let hostaddrs: Vec<String> = match p.get("hostaddr") {
        Some(h) => h.split(',').map(str::to_string).collect(),
        None => vec![],
    };
    let mut hosts: Vec<String> = if hosts.is_empty() && hostaddrs.is_empty() {
        let dir = SOCKET_DIRS
            .iter()
            .find(|d| Path::new(d).is_dir())
            .unwrap_or(&"/tmp");
        vec![dir.to_string()]
    } else {
        hosts
    };
    if hosts.is_empty() {
        hosts = vec![String::new(); hostaddrs.len()];
    }
    let ports: Vec<String> = p
        .get("port")
        .map(|x| x.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let n = hosts.len().max(hostaddrs.len());
    if !hostaddrs.is_empty() && hostaddrs.len() != hosts.len() {
        return Err(format!(
            "could not match {} host names to {} hostaddr values",
            hosts.len(),
            hostaddrs.len()
        ));
    }
    if ports.len() > 1 && ports.len() != n {
        return Err(format!(
            "could not match {} port numbers to {} hosts",
            ports.len(),
            n
        ));
    }
    let all_unix = hostaddrs.is_empty() && hosts.iter().all(|h| h.starts_with('/'));
    for (i, h) in hosts.iter().enumerate() {
        if !hostaddrs.is_empty() {
            let a = hostaddrs[i]
                .parse()
                .map_err(|_| bad("hostaddr", &hostaddrs[i]))?;
            c.hostaddr(a);
            if !h.is_empty() {
                c.host(h);
            }
        } else if h.is_empty() {
            c.host(
                SOCKET_DIRS
                    .iter()
                    .find(|d| Path::new(d).is_dir())
                    .unwrap_or(&"/tmp"),
            );
        } else {
            c.host(h);
        }
    }
    let port_of = |i: usize| -> String {
        match ports.len() {
            0 => "5432".into(),
            1 => {
                if ports[0].is_empty() {
                    "5432".into()
                } else {
                    ports[0].clone()
                }
            }
            _ => {
                if ports[i].is_empty() {
                    "5432".into()
                } else {
                    ports[i].clone()
                }
            }
        }
    };
    for i in 0..n.max(1) {
        let v = port_of(i);
        c.port(v.trim().parse().map_err(|_| bad("port", &v))?);
    }
    let user = match p.get("user") {
        Some(u) => u.clone(),
        None => {
            os_user(env).ok_or("could not determine the user name: set PGUSER or user= in --db")?
        }
    };
    let db = p.get("dbname").cloned().unwrap_or_else(|| user.clone());
    c.user(&user).dbname(&db);
    let password = match p.get("password") {
        Some(pw) => Some(pw.clone()),
        None => {
            let file = p
                .get("passfile")
                .map(PathBuf::from)
                .or_else(|| env.home.as_ref().map(|h| h.join(".pgpass")));
            let host = hosts.first().cloned().unwrap_or_default();
            file.and_then(|f| password_from_file(&f, &host, &port_of(0), &db, &user))
        }
    };
    if let Some(pw) = password {
        c.password(pw);
    }
    if let Some(o) = p.get("options") {
        c.options(o);
    }
    match p
        .get("application_name")
        .or(p.get("fallback_application_name"))
    {
        Some(a) => c.application_name(a),
        None => c.application_name("citus-sidecar"),
    };
    if let Some(v) = p.get("connect_timeout") {
        let d = seconds("connect_timeout", v)?;
        // libpq: 0 means wait forever; values below 2 seconds are taken as 2.
        if !d.is_zero() {
            c.connect_timeout(d.max(Duration::from_secs(2)));
        }
    }
    if let Some(v) = p.get("keepalives") {
        c.keepalives(v.trim() != "0");
    }
    if let Some(v) = p.get("keepalives_idle") {
        c.keepalives_idle(seconds("keepalives_idle", v)?);
    }
    if let Some(v) = p.get("keepalives_interval") {
        c.keepalives_interval(seconds("keepalives_interval", v)?);
    }
    if let Some(v) = p.get("keepalives_count") {
        c.keepalives_retries(v.trim().parse().map_err(|_| bad("keepalives_count", v))?);
    }
    if let Some(v) = p.get("tcp_user_timeout") {
        let ms: u64 = v.trim().parse().map_err(|_| bad("tcp_user_timeout", v))?;
        c.tcp_user_timeout(Duration::from_millis(ms));
    }
    if let Some(v) = p.get("target_session_attrs") {
        c.target_session_attrs(match v.as_str() {
            "any" => TargetSessionAttrs::Any,
            "read-write" => TargetSessionAttrs::ReadWrite,
            "read-only" => TargetSessionAttrs::ReadOnly,
            other => {
                return Err(format!(
                "target_session_attrs \"{other}\" is not supported (any, read-write, read-only)"
            ))
            }
        });
    }
    if let Some(v) = p.get("channel_binding") {
        c.channel_binding(match v.as_str() {
            "disable" => ChannelBinding::Disable,
            "prefer" => ChannelBinding::Prefer,
            "require" => ChannelBinding::Require,
            other => return Err(bad("channel_binding", other)),
        });
    }
    if let Some(v) = p.get("load_balance_hosts") {
        c.load_balance_hosts(match v.as_str() {
            "disable" => LoadBalanceHosts::Disable,
            "random" => LoadBalanceHosts::Random,
            other => return Err(bad("load_balance_hosts", other)),
        });
    }
    if let Some(v) = p.get("client_encoding") {
        if !v.eq_ignore_ascii_case("utf8") && !v.eq_ignore_ascii_case("utf-8") && v != "auto" {
            return Err(format!(
                "client_encoding \"{v}\" is not supported: this tool speaks UTF8"
            ));
        }
    }
    let tls = tls(p, env, &mut c, all_unix)?;
    let label = format!(
        "{}:{}/{}",
        hosts
            .first()
            .filter(|h| !h.is_empty())
            .or(hostaddrs.first())
            .cloned()
            .unwrap_or_default(),
        port_of(0),
        db
    );
    Ok(Target {
        config: c,
        tls,
        label,
    })
}

/// TLS as libpq's sslmode has it: `disable`; `allow` and `prefer` (TLS when the server offers
/// it); `require`; `verify-ca` (the server's certificate must chain to `sslrootcert`);
/// `verify-full` (and name the host). Like libpq, `require` verifies the chain too when a root
/// certificate file exists, and Unix sockets never use TLS. `sslrootcert=system` uses the
/// system's trusted roots (and implies verify-full, as in libpq 16+).
fn tls(p: &Params, env: &Env, c: &mut Config, all_unix: bool) -> Result<MakeTlsConnector, String> {
    let postgresql_dir = env.home.as_ref().map(|h| h.join(".postgresql"));
    let root = p.get("sslrootcert").cloned();
    let system_roots = root.as_deref() == Some("system");
    let mode = p
        .get("sslmode")
        .map(String::as_str)
        .unwrap_or(if system_roots {
            "verify-full"
        } else {
            "prefer"
        });
    let (ssl_mode, verify) = match mode {
        "disable" => (SslMode::Disable, false),
        "allow" | "prefer" => (SslMode::Prefer, false),
        "require" => (SslMode::Require, false),
        "verify-ca" | "verify-full" => (SslMode::Require, true),
        other => return Err(bad("sslmode", other)),
    };
    if system_roots && !matches!(mode, "verify-full") {
        return Err(format!(
            "weak sslmode \"{mode}\" may not be used with sslrootcert=system (use \"verify-full\")"
        ));
    }
    c.ssl_mode(if all_unix { SslMode::Disable } else { ssl_mode });
    let err = |e: openssl::error::ErrorStack| format!("TLS set-up failed: {e}");
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(err)?;
    let root_file = if system_roots {
        None
    } else {
        root.map(PathBuf::from)
            .or_else(|| postgresql_dir.as_ref().map(|d| d.join("root.crt")))
    };
    let have_root = root_file.as_ref().is_some_and(|f| f.is_file());
    if system_roots {
        b.set_default_verify_paths().map_err(err)?;
        b.set_verify(SslVerifyMode::PEER);
    } else if have_root {
        let f = root_file.as_ref().expect("checked");
        b.set_ca_file(f).map_err(|e| {
            format!(
                "could not read root certificate file \"{}\": {e}",
                f.display()
            )
        })?;
        b.set_verify(SslVerifyMode::PEER);
    } else if verify {
        return Err(format!(
            "root certificate file \"{}\" does not exist; either provide the file, use the system's trusted roots with sslrootcert=system, or change sslmode to disable server certificate verification",
            root_file.map(|f| f.display().to_string()).unwrap_or_else(|| "~/.postgresql/root.crt".into())
        ));
    } else {
        b.set_verify(SslVerifyMode::NONE);
    }
    let cert = p
        .get("sslcert")
        .map(PathBuf::from)
        .or_else(|| postgresql_dir.as_ref().map(|d| d.join("postgresql.crt")));
    if let Some(cert) = cert.filter(|f| f.is_file()) {
        let key = p
            .get("sslkey")
            .map(PathBuf::from)
            .or_else(|| postgresql_dir.as_ref().map(|d| d.join("postgresql.key")))
            .ok_or("sslkey is not set")?;
        b.set_certificate_chain_file(&cert).map_err(|e| {
            format!(
                "could not read certificate file \"{}\": {e}",
                cert.display()
            )
        })?;
        b.set_private_key_file(&key, SslFiletype::PEM)
            .map_err(|e| format!("could not load private key file \"{}\": {e}", key.display()))?;
    }
    let mut connector = MakeTlsConnector::new(b.build());
    let full = mode == "verify-full";
    connector.set_callback(move |cfg, _domain| {
        cfg.set_verify_hostname(full);
        Ok(())
    });
    Ok(connector)
}

/// Connects with the parameters of `--db` and the environment.
pub fn connect(db: Option<&str>) -> Result<(Client, String), String> {
    let env = process_env();
    let params = resolve(db, &env)?;
    let t = config(&params, &env)?;
    match t.config.connect(t.tls) {
        Ok(c) => Ok((c, t.label)),
        Err(e) => Err(format!("cannot connect to {}: {}", t.label, error_text(&e))),
    }
}

/// An error's text with its cause, and a server error's detail and hint.
pub fn error_text(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(&format!("\n  detail: {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("\n  hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        src = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(
        vars: &[(&str, &str)],
        home: Option<PathBuf>,
    ) -> (Vec<(String, String)>, Option<PathBuf>) {
        (
            vars.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            home,
        )
    }

    fn resolve_with(
        db: Option<&str>,
        vars: &[(&str, &str)],
        home: Option<PathBuf>,
    ) -> Result<Params, String> {
        let (vars, home) = env_of(vars, home);
        let f = move |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
        resolve(db, &Env { var: &f, home })
    }

    fn map(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn conninfo_strings_uris_and_names() {
        assert_eq!(
            parse_conninfo("host=db1 port = 6432 dbname='my app' password='it\\'s'").unwrap(),
            map(&[
                ("host", "db1"),
                ("port", "6432"),
                ("dbname", "my app"),
                ("password", "it's")
            ])
        );
        assert_eq!(parse_conninfo("app").unwrap(), map(&[("dbname", "app")]));
        assert_eq!(
            parse_conninfo(
                "postgresql://alice:s%40cret@db1:6432,db2/app?sslmode=require&application_name=ci"
            )
            .unwrap(),
            map(&[
                ("user", "alice"),
                ("password", "s@cret"),
                ("host", "db1,db2"),
                ("port", "6432,"),
                ("dbname", "app"),
                ("sslmode", "require"),
                ("application_name", "ci"),
            ])
        );
        assert_eq!(
            parse_conninfo("postgres://%2Fvar%2Frun%2Fpostgresql/app").unwrap(),
            map(&[("host", "/var/run/postgresql"), ("dbname", "app")])
        );
        assert_eq!(
            parse_conninfo("postgresql://[::1]:5433").unwrap(),
            map(&[("host", "::1"), ("port", "5433")])
        );
        assert_eq!(
            parse_conninfo("postgresql:///app?host=/tmp").unwrap(),
            map(&[("dbname", "app"), ("host", "/tmp")])
        );
        assert!(parse_conninfo("hots=x")
            .unwrap_err()
            .contains("invalid connection option \"hots\""));
        assert!(
            parse_conninfo("host").is_ok(),
            "a bare word is a database name"
        );
        assert!(parse_conninfo("postgresql://h/?nope=1").is_err());
    }

    #[test]
    fn explicit_then_service_then_environment() {
        let dir = std::env::temp_dir().join(format!("citus-sidecar-conn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("services.conf");
        std::fs::write(
            &file,
            "# services\n[other]\nhost=nowhere\n\n[ci]\nhost=svc-host\nport=7000\ndbname=svc_db\n[later]\nport=1\n",
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let vars = [
            ("PGSERVICEFILE", f),
            ("PGHOST", "env-host"),
            ("PGUSER", "env-user"),
            ("PGPORT", "9999"),
        ];
        // service from the environment: its values beat PG* variables, explicit ones beat both
        let mut with_service = vars.to_vec();
        with_service.push(("PGSERVICE", "ci"));
        let p = resolve_with(Some("dbname=explicit"), &with_service, None).unwrap();
        assert_eq!(p["host"], "svc-host");
        assert_eq!(p["port"], "7000");
        assert_eq!(p["dbname"], "explicit");
        assert_eq!(p["user"], "env-user");
        // service= in the string
        let p = resolve_with(Some("service=ci port=1234"), &vars, None).unwrap();
        assert_eq!(
            (p["host"].as_str(), p["port"].as_str(), p["dbname"].as_str()),
            ("svc-host", "1234", "svc_db")
        );
        // no service: the environment
        let p = resolve_with(None, &vars, None).unwrap();
        assert_eq!(
            (p["host"].as_str(), p["port"].as_str()),
            ("env-host", "9999")
        );
        // a service nowhere to be found is an error, as in libpq
        let mut missing = vars.to_vec();
        missing.push(("PGSYSCONFDIR", dir.to_str().unwrap()));
        let e = resolve_with(Some("service=nope"), &missing, None).unwrap_err();
        assert_eq!(e, "definition of service \"nope\" not found");
        // the system file when the user's has no such service
        std::fs::write(dir.join("pg_service.conf"), "[sys]\nhost=sys-host\n").unwrap();
        let p = resolve_with(Some("service=sys"), &missing, None).unwrap();
        assert_eq!(p["host"], "sys-host");
        // ~/.pg_service.conf when PGSERVICEFILE is not set
        std::fs::write(dir.join(".pg_service.conf"), "[home]\nport=4242\n").unwrap();
        let p = resolve_with(Some("service=home"), &[], Some(dir.clone())).unwrap();
        assert_eq!(p["port"], "4242");
        std::fs::write(&file, "[bad]\nhost = spaced\n").unwrap();
        assert!(resolve_with(Some("service=bad"), &vars, None)
            .unwrap_err()
            .contains("syntax error in service file"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn password_file_lines_match_like_libpq() {
        let dir = std::env::temp_dir().join(format!("citus-sidecar-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("pgpass");
        std::fs::write(
            &f,
            "# comment\ndb1:5432:app:alice:first\n*:*:*:bob:pa\\:ss\nlocalhost:5432:*:carol:sock\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(
            password_from_file(&f, "db1", "5432", "app", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(password_from_file(&f, "db1", "5433", "app", "alice"), None);
        assert_eq!(
            password_from_file(&f, "x", "1", "y", "bob").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            password_from_file(&f, "/var/run/postgresql", "5432", "app", "carol").as_deref(),
            Some("sock")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
            assert_eq!(
                password_from_file(&f, "db1", "5432", "app", "alice"),
                None,
                "readable by others: ignored"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn configs_carry_hosts_ports_and_defaults() {
        let f = |_: &str| None;
        let env = Env {
            var: &f,
            home: None,
        };
        let t = config(
            &map(&[("host", "a,b"), ("port", "1,2"), ("user", "u")]),
            &env,
        )
        .unwrap();
        assert_eq!(t.config.get_ports(), &[1, 2]);
        assert_eq!(
            t.config.get_dbname(),
            Some("u"),
            "the database defaults to the user"
        );
        assert_eq!(t.config.get_application_name(), Some("citus-sidecar"));
        let t = config(
            &map(&[("host", "h"), ("user", "u"), ("sslmode", "disable")]),
            &env,
        )
        .unwrap();
        assert_eq!(t.config.get_ports(), &[5432]);
        assert!(config(
            &map(&[("host", "a,b"), ("port", "1,2,3"), ("user", "u")]),
            &env
        )
        .is_err());
        assert!(config(
            &map(&[
                ("host", "h"),
                ("user", "u"),
                ("sslmode", "verify-full"),
                ("sslrootcert", "/nonexistent")
            ]),
            &env
        )
        .err()
        .is_some_and(|e| e.contains("does not exist")));
    }
}
