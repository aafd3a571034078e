//! The SQL the extension runs on the nodes is kept in files (src/queries/*.sql) whose few
//! parameters are `{name}` placeholders. [`fill`] drops the files' comments first: a value put
//! into a `--` comment ends the comment at its first newline, and a table's name may hold one,
//! making the rest of the name SQL on every node.

use crate::psql::strip_comments;

/// `template` without its comments, with each `{name}` replaced by its value (a SQL literal or
/// keyword, quoted by the caller), in one pass: a value is never read again for placeholders
/// (a table named `x{nodes}` stays so inside its literal).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let text = strip_comments(template, false);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        rest = &rest[open..];
        let hit = values.iter().find(|(name, _)| {
            rest[1..].starts_with(name) && rest[1 + name.len()..].starts_with('}')
        });
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &rest[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consistency::issue::literal;

    const TEMPLATES: [(&str, &str); 13] = [
        ("tables", include_str!("../../../src/queries/tables.sql")),
        (
            "hash_function",
            include_str!("../../../src/queries/hash_function.sql"),
        ),
        ("shards", include_str!("../../../src/queries/shards.sql")),
        (
            "placements",
            include_str!("../../../src/queries/placements.sql"),
        ),
        ("nodes", include_str!("../../../src/queries/nodes.sql")),
        (
            "colocation",
            include_str!("../../../src/queries/colocation.sql"),
        ),
        (
            "allocated_shard_ids",
            include_str!("../../../src/queries/allocated_shard_ids.sql"),
        ),
        (
            "node_listing",
            include_str!("../../../src/queries/node_listing.sql"),
        ),
        (
            "metadata_sums",
            include_str!("../../../src/queries/metadata_sums.sql"),
        ),
        (
            "metadata_rows",
            include_str!("../../../src/queries/metadata_rows.sql"),
        ),
        (
            "table_states",
            include_str!("../../../src/queries/table_states.sql"),
        ),
        (
            "prepared_xacts",
            include_str!("../../../src/queries/prepared_xacts.sql"),
        ),
        (
            "tenant_stats",
            include_str!("../../../src/queries/tenant_stats.sql"),
        ),
    ];

    fn placeholders(sql: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = sql;
        while let Some(open) = rest.find('{') {
            rest = &rest[open + 1..];
            let Some(close) = rest.find('}') else { break };
            let name = &rest[..close];
            if !name.is_empty() && name.bytes().all(|c| c.is_ascii_lowercase() || c == b'_') {
                out.push(name.to_string());
            }
        }
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn a_value_with_a_newline_stays_inside_its_literal_in_every_query_file() {
        // A table may be named "x<newline>''; DROP TABLE t; --": in a comment, its newline
        // ended the comment and the rest ran as SQL on every node.
        for (file, template, evil) in TEMPLATES.iter().flat_map(|(f, t)| {
            ["\n", "\r"].map(|end| {
                (
                    f,
                    t,
                    literal(&format!("public.\"x{end}''; DROP TABLE t; --\"")),
                )
            })
        }) {
            let names = placeholders(template);
            let values: Vec<(&str, &str)> =
                names.iter().map(|n| (n.as_str(), evil.as_str())).collect();
            let filled = fill(template, &values);
            let code = strip_comments(&filled, true);
            assert!(!code.contains("DROP"), "{file}: {filled}");
            assert_eq!(
                code.matches(';').count(),
                strip_comments(template, true).matches(';').count(),
                "{file}"
            );
            assert!(
                placeholders(&strip_comments(&filled, false))
                    .iter()
                    .all(|n| !names.contains(n)),
                "{file}"
            );
        }
    }

    #[test]
    fn every_query_file_is_checked() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../src/queries");
        let files = std::fs::read_dir(dir).unwrap().count();
        assert_eq!(
            files,
            TEMPLATES.len(),
            "a query file is missing from TEMPLATES"
        );
    }

    #[test]
    fn a_value_is_not_filled_again() {
        let t = "WHERE t = ANY ({tables}) AND {nodes} AND '{}' <> '{x'";
        assert_eq!(
            fill(t, &[("tables", "ARRAY['x{nodes}']"), ("nodes", "true")]),
            "WHERE t = ANY (ARRAY['x{nodes}']) AND true AND '{}' <> '{x'"
        );
    }

    #[test]
    fn comments_go_and_quoted_text_stays() {
        let sql = "-- {x} in a comment\nSELECT '--not {x}', \"a--b\", $q$ /* no */ $q$, {x} /* {x} /* nested */ */ -- end\n";
        assert_eq!(
            fill(sql, &[("x", "1")]),
            "\nSELECT '--not 1', \"a--b\", $q$ /* no */ $q$, 1   \n"
        );
    }
}
