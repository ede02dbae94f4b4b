//! Creating links: the steps shared by the API and the CLI (look up campaign and account,
//! validate, check store names, store all or nothing).

use super::{BulkLinkRequest, Link, LinkError, LinkRequest, NewLink, RowError, store_key};
use crate::db::{Db, DbError};

/// Why links were not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error("{} of the store rows are invalid; nothing was created", .0.len())]
    Rows(Vec<RowError>),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Creates one link in a campaign.
pub async fn create_link(
    db: &Db,
    campaign_id: i64,
    request: LinkRequest,
) -> Result<Link, CreateError> {
    let campaign = db.campaign(campaign_id).await?;
    let account = match request.account_id {
        Some(id) => Some(db.account(id).await?),
        None => None,
    };
    let link = NewLink::parse(&campaign, account.as_ref(), request)?;
    if let Some(store) = &link.store {
        ensure_store_free(db, campaign_id, store, None).await?;
    }
    let created = db
        .insert_links(std::slice::from_ref(&link))
        .await?
        .remove(0);
    tracing::info!(id = created.id, code = %created.code, "link created");
    Ok(created)
}

/// Creates one link per store; every row is checked (including against the campaign's
/// existing stores) before anything is written.
pub async fn create_bulk(
    db: &Db,
    campaign_id: i64,
    request: BulkLinkRequest,
) -> Result<Vec<Link>, CreateError> {
    let campaign = db.campaign(campaign_id).await?;
    let account = match request.account_id {
        Some(id) => Some(db.account(id).await?),
        None => None,
    };
    let existing: Vec<String> = db
        .campaign_stores(campaign_id)
        .await?
        .iter()
        .map(|s| store_key(s))
        .collect();
    let taken: Vec<RowError> = request
        .stores
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let name = row.store.trim();
            (!name.is_empty() && existing.contains(&store_key(name))).then(|| RowError {
                row: i + 1,
                message: format!("store `{name}` already has a link in this campaign"),
            })
        })
        .collect();
    let mut rows = match NewLink::parse_bulk(&campaign, account.as_ref(), request) {
        Ok(links) if taken.is_empty() => {
            let created = db.insert_links(&links).await?;
            tracing::info!(campaign_id, count = created.len(), "store links created");
            return Ok(created);
        }
        Ok(_) => taken,
        Err(invalid) => {
            let mut rows = invalid.rows;
            let reported: Vec<usize> = rows.iter().map(|r| r.row).collect();
            rows.extend(taken.into_iter().filter(|t| !reported.contains(&t.row)));
            rows
        }
    };
    rows.sort_by_key(|r| r.row);
    Err(CreateError::Rows(rows))
}

/// Refuses a store name another link of the campaign already has (compared by [`store_key`],
/// as bulk creation does), with the conflict the unique index would give for an exact match.
/// `except` is the link being edited, which may keep or re-case its own name.
pub(crate) async fn ensure_store_free(
    db: &Db,
    campaign_id: i64,
    store: &str,
    except: Option<i64>,
) -> Result<(), DbError> {
    let key = store_key(store);
    let taken = db
        .link_stores(campaign_id)
        .await?
        .into_iter()
        .any(|(id, name)| Some(id) != except && store_key(&name) == key);
    if taken {
        return Err(DbError::Conflict(format!(
            "store `{}` already has a link in this campaign",
            store.trim()
        )));
    }
    Ok(())
}
