//! Store lists as people bring them: a CSV file with a `store` column (and optionally
//! `label`), or a pasted list with one store per line. Only the shape is read here; the
//! names themselves are checked by the bulk operation, which reports every bad row.

use super::StoreRow;

/// Reads a CSV store list: a header row naming a `store` column (any case) and optionally
/// `label`; cells are trimmed and an empty label is no label.
pub fn parse_store_csv(text: &str) -> Result<Vec<StoreRow>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let store_col = column("store").ok_or_else(|| {
        format!(
            "there is no `store` column (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        )
    })?;
    let label_col = column("label");
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", i + 1))?;
        rows.push(StoreRow {
            store: record.get(store_col).unwrap_or_default().to_owned(),
            label: label_col
                .and_then(|c| record.get(c))
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        });
    }
    Ok(rows)
}

/// Reads a pasted or uploaded list: CSV when the first line names a `store` column,
/// otherwise one store per line (blank lines skipped, no labels).
pub fn parse_store_list(text: &str) -> Result<Vec<StoreRow>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let is_csv = first
        .split(',')
        .any(|cell| cell.trim().trim_matches('"').eq_ignore_ascii_case("store"));
    if is_csv {
        return parse_store_csv(text);
    }
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|store| StoreRow {
            store: store.to_owned(),
            label: None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stores(rows: &[StoreRow]) -> Vec<(&str, Option<&str>)> {
        rows.iter()
            .map(|r| (r.store.as_str(), r.label.as_deref()))
            .collect()
    }

    #[test]
    fn a_pasted_list_has_one_store_per_line() {
        let rows = parse_store_list("Store 1\r\n\n  Store, two \nStore 3").unwrap();
        assert_eq!(
            stores(&rows),
            [("Store 1", None), ("Store, two", None), ("Store 3", None)]
        );
    }

    #[test]
    fn a_csv_list_names_its_store_and_label_columns() {
        let rows = parse_store_list("\u{feff}Label,Store\nFront,Main St\n,\"Dock, 2\"\n").unwrap();
        assert_eq!(
            stores(&rows),
            [("Main St", Some("Front")), ("Dock, 2", None)]
        );
        let err = parse_store_csv("name,label\nA,B\n").unwrap_err();
        assert!(err.contains("no `store` column"), "{err}");
    }
}
