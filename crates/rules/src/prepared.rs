//! `stale_prepared_xacts()`: what to do about a prepared transaction that has been waiting too
//! long. Citus names its 2PC transactions `citus_<initiator group>_<pid>_<transaction>_<conn>`
//! and its recovery resolves only its own, on reachable active primaries, in its own database,
//! while recovery is enabled: COMMIT PREPARED when the initiator holds a commit record in
//! pg_dist_transaction, ROLLBACK PREPARED otherwise.

use crate::consistency::issue::literal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitusGid {
    pub group: i32,
    pub pid: i32,
    pub transaction: i64,
    pub connection: i32,
}

/// Parses Citus's gid format (`PREPARED_TRANSACTION_NAME_FORMAT "citus_%u_%u_%llu_%u"`).
pub fn parse_gid(gid: &str) -> Option<CitusGid> {
    let rest = gid.strip_prefix("citus_")?;
    let mut it = rest.split('_');
    let g = CitusGid {
        group: it.next()?.parse::<u32>().ok()? as i32,
        pid: it.next()?.parse::<u32>().ok()? as i32,
        transaction: it.next()?.parse::<u64>().ok()? as i64,
        connection: it.next()?.parse::<u32>().ok()? as i32,
    };
    it.next().is_none().then_some(g)
}

/// What is known about one stale prepared transaction.
#[derive(Debug, Clone)]
pub struct Xact {
    pub gid: String,
    /// The database it was prepared in, and whether that is the Citus database we run in.
    pub in_citus_database: bool,
    /// The initiator group exists in pg_dist_node.
    pub initiator_exists: bool,
    /// The initiator holds a commit record for it (None: could not be read).
    pub commit_record: Option<bool>,
    /// Citus's 2PC recovery is enabled (citus.recover_2pc_interval <> -1).
    pub recovery_enabled: bool,
    /// The node holding it is an active primary in pg_dist_node.
    pub node_active_primary: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advice {
    pub citus_will_resolve: bool,
    pub why: String,
    /// commit | rollback | ask the application
    pub action: &'static str,
    pub statement: Option<String>,
}

pub fn advise(x: &Xact) -> Advice {
    let Some(g) = parse_gid(&x.gid) else {
        return Advice {
            citus_will_resolve: false,
            why: "not a Citus transaction: Citus's recovery leaves it alone; it holds its locks and VACUUM's horizon until the application that prepared it (or a person) ends it".into(),
            action: "ask the application",
            statement: Some(format!(
                "-- prepared by an application, not by Citus: end it the way that application decides.\n-- If nobody owns it any more:\nROLLBACK PREPARED {};",
                literal(&x.gid)
            )),
        };
    };
    let commit = x.commit_record == Some(true);
    let action = if commit { "commit" } else { "rollback" };
    let statement = Some(format!(
        "{} PREPARED {};",
        if commit { "COMMIT" } else { "ROLLBACK" },
        literal(&x.gid)
    ));
    let mut blockers = Vec::new();
    if !x.initiator_exists {
        blockers.push(format!("its initiator group {} no longer exists", g.group));
    }
    if !x.in_citus_database {
        blockers.push("it was prepared in another database than Citus's".into());
    }
    if !x.recovery_enabled {
        blockers.push("citus.recover_2pc_interval is -1 (recovery is off)".into());
    }
    if !x.node_active_primary {
        blockers.push("its node is not an active primary in pg_dist_node".into());
    }
    if x.commit_record.is_none() {
        blockers.push("the initiator's commit records could not be read".into());
    }
    let record = match x.commit_record {
        Some(true) => "the initiator holds a commit record: the transaction committed",
        Some(false) => "the initiator holds no commit record: the transaction did not commit",
        None => "whether it committed is unknown",
    };
    if blockers.is_empty() {
        Advice {
            citus_will_resolve: true,
            why: format!("{record}; Citus's recovery will resolve it on its next run (or now: SELECT recover_prepared_transactions();)"),
            action,
            statement,
        }
    } else if x.commit_record.is_none() && !x.initiator_exists {
        // The initiator is gone, and its commit records with it.
        Advice {
            citus_will_resolve: false,
            why: format!("{record}; Citus's recovery will not resolve it: {}", blockers.join("; ")),
            action: "rollback",
            statement: Some(format!(
                "-- unverified: the initiator's commit records are gone with it. If the same transaction committed\n-- on other nodes (their tables show its writes), run COMMIT PREPARED instead.\nROLLBACK PREPARED {};",
                literal(&x.gid)
            )),
        }
    } else {
        Advice {
            citus_will_resolve: false,
            why: format!(
                "{record}; Citus's recovery will not resolve it: {}",
                blockers.join("; ")
            ),
            action: if x.commit_record.is_none() {
                "ask the application"
            } else {
                action
            },
            statement: if x.commit_record.is_none() {
                None
            } else {
                statement
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn xact(gid: &str) -> Xact {
        Xact {
            gid: gid.into(),
            in_citus_database: true,
            initiator_exists: true,
            commit_record: Some(false),
            recovery_enabled: true,
            node_active_primary: true,
        }
    }

    #[test]
    fn parses_citus_gids_only() {
        assert_eq!(
            parse_gid("citus_0_20857_2_0"),
            Some(CitusGid {
                group: 0,
                pid: 20857,
                transaction: 2,
                connection: 0
            })
        );
        assert_eq!(parse_gid("citus_0_20857_2"), None);
        assert_eq!(parse_gid("citus_0_20857_2_0_9"), None);
        assert_eq!(parse_gid("my_app_xact_1"), None);
        assert_eq!(parse_gid("citus_x_1_2_3"), None);
    }

    #[test]
    fn advice() {
        let a = advise(&xact("citus_0_99999_12345_0"));
        assert!(a.citus_will_resolve);
        assert_eq!(
            a.statement.as_deref(),
            Some("ROLLBACK PREPARED 'citus_0_99999_12345_0';")
        );
        let mut x = xact("citus_0_1_2_0");
        x.commit_record = Some(true);
        assert_eq!(
            advise(&x).statement.as_deref(),
            Some("COMMIT PREPARED 'citus_0_1_2_0';")
        );
        let mut x = xact("citus_7_1_2_0");
        x.initiator_exists = false;
        let a = advise(&x);
        assert!(!a.citus_will_resolve);
        assert!(a.why.contains("group 7 no longer exists"), "{}", a.why);
        x.commit_record = None;
        let a = advise(&x);
        assert_eq!(a.action, "rollback");
        assert!(a.statement.unwrap().contains("unverified"));
        let a = advise(&xact("my_app_xact_1"));
        assert_eq!(a.action, "ask the application");
        assert!(a
            .statement
            .unwrap()
            .ends_with("ROLLBACK PREPARED 'my_app_xact_1';"));
        let mut x = xact("citus_0_1_2_0");
        x.recovery_enabled = false;
        assert!(advise(&x).why.contains("recovery is off"));
    }

    proptest! {
        #[test]
        fn any_gid_gets_advice(gid in ".{0,80}") {
            let a = advise(&xact(&gid));
            prop_assert!(!a.why.is_empty());
            if let Some(s) = a.statement { prop_assert!(s.ends_with(';')); }
        }
    }
}
