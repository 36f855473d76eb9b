//! What a config reload may not do by accident. A truncated file (an editor crash, a `>` typo)
//! is refused when it loads (an empty file is a config error), but a file cut down to `{}`, or
//! one that lost its `gateway` or `models` section, is valid JSON5. A reload that would
//! - **remove the gateway's auth** (a token or password in effect before, none after), or
//! - **remove every configured provider** (`models.providers` had entries, has none after)
//!
//! is refused and the running config kept, unless the new file says so in writing:
//! `gateway.auth.mode: "none"` for the first, `models: { providers: {} }` (the key written out,
//! empty) for the second.
//!
//! A reload that changes `state.*` is refused too: the stores are built once per process (a
//! reload keeps them, with the replica's in-memory view), so switching them needs a restart.

use clawgate_config::schema::GatewayAuthMode;
use clawgate_config::source::NodeKind;
use clawgate_runtime::Services;

use crate::error::GatewayError;

/// True when the file writes `models.providers` as an object with no entries.
fn providers_emptied_explicitly(next: &Services) -> bool {
    let tree = &next.loaded().tree;
    tree.get("models")
        .and_then(|models| models.get("providers"))
        .is_some_and(
            |providers| matches!(&providers.kind, NodeKind::Object(props) if props.is_empty()),
        )
}

/// Refuses a reload from `current` to `next` that drops auth or every provider unasked.
pub(crate) fn check_reload(current: &Services, next: &Services) -> Result<(), GatewayError> {
    let had_auth = matches!(current.auth_token(), Ok(Some(_)));
    let has_auth = !matches!(next.auth_token(), Ok(None));
    if had_auth && !has_auth && next.config().gateway.auth.mode != GatewayAuthMode::None {
        return Err(GatewayError::ReloadDropsAuth);
    }
    if current.config().state != next.config().state {
        return Err(GatewayError::ReloadChangesState);
    }
    let had_providers = current.config().models.providers.len();
    if had_providers > 0
        && next.config().models.providers.is_empty()
        && !providers_emptied_explicitly(next)
    {
        return Err(GatewayError::ReloadDropsProviders {
            count: had_providers,
        });
    }
    Ok(())
}
