//! `GET /store`: the store staff view. Pick a store (a campaign's active store link), see
//! its code large, download it at a size in millimetres and print it. The image comes from
//! the QR routes (`/links/{id}/qr.svg|png`), so it is the code every other view prints.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;

use super::{CurrentUser, Layout, PageError, render};
use crate::{app::AppState, links::LinkView};

/// A store to pick: its link and the campaign it belongs to.
pub struct StoreChoice {
    pub link_id: i64,
    pub store: String,
}

/// A campaign's stores, for one group of the picker.
pub struct CampaignStores {
    pub name: String,
    pub stores: Vec<StoreChoice>,
}

/// The chosen store's link.
pub struct Chosen {
    pub campaign: String,
    pub store: String,
    pub link: LinkView,
}

#[derive(Template)]
#[template(path = "store.html")]
struct StorePage {
    layout: Layout,
    groups: Vec<CampaignStores>,
    chosen: Option<Chosen>,
}

super::layout_fields!(StorePage);

impl StorePage {
    fn is_chosen(&self, link_id: &i64) -> bool {
        self.chosen.as_ref().is_some_and(|c| c.link.id == *link_id)
    }
}

/// `?link=ID`: the store link to show.
#[derive(Debug, Deserialize)]
pub struct StoreQuery {
    link: Option<String>,
}

/// `GET /store`.
pub async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<StoreQuery>,
) -> Result<Response, PageError> {
    let wanted = query
        .link
        .as_deref()
        .and_then(|l| l.trim().parse::<i64>().ok());
    let mut groups = Vec::new();
    let mut chosen = None;
    for campaign in state.db.list_campaigns().await? {
        let views =
            LinkView::of_campaign(&state.db, &state.config, &state.key, campaign.id).await?;
        let mut stores = Vec::new();
        for view in views {
            let Some(store) = view.store.clone().filter(|_| view.active) else {
                continue;
            };
            stores.push(StoreChoice {
                link_id: view.id,
                store: store.clone(),
            });
            if Some(view.id) == wanted {
                chosen = Some(Chosen {
                    campaign: campaign.name.clone(),
                    store,
                    link: view,
                });
            }
        }
        if !stores.is_empty() {
            groups.push(CampaignStores {
                name: campaign.name,
                stores,
            });
        }
    }
    let status = if wanted.is_some() && chosen.is_none() {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        &StorePage {
            layout: Layout::new(Some(&current)),
            groups,
            chosen,
        },
    ))
}
