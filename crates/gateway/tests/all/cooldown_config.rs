//! `auth.cooldowns` is the schedule the router uses (and a reload changes it, a refused reload
//! does not); a gateway token naming an unset variable fails only the server (start and
//! reload), never `Services` itself.

use std::net::SocketAddr;
use std::time::Duration;

use clawgate_gateway::{Gateway, GatewayError, GatewayOptions};
use clawgate_router::{CancellationToken, CooldownKey};
use clawgate_runtime::{FallbackMode, RuntimeError, Services, ServicesOptions};
use clawgate_wire::Request;

use crate::support::{
    Harness, MODEL, Setup, config_text, dead_port, load_options, mock, provider_entry,
};

/// `text` (a `config_text` object) with `extra` added at the top level.
fn with_top_level(text: &str, extra: &str) -> String {
    let body = text.trim_end().strip_suffix('}').unwrap();
    format!("{body}\n  {extra}\n}}")
}

fn dead_setup() -> Setup {
    let dead = format!("http://127.0.0.1:{}/v1", dead_port());
    Setup {
        primary: format!("deadup/{MODEL}"),
        extra_providers: provider_entry("deadup", "openai-completions", &dead),
        ..Setup::default()
    }
}

#[tokio::test]
async fn the_configured_schedule_is_what_the_router_uses() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let text = with_top_level(
        &config_text(&mock, &dir.path().join("ws"), &dead_setup()),
        "auth: { cooldowns: { backoffMinutes: [2, 7], billingBackoffHoursByProvider: { DeadUp: 1 } } },",
    );
    let path = dir.path().join("clawgate.json");
    std::fs::write(&path, text).unwrap();
    let services =
        Services::load(&load_options(dir.path(), path), ServicesOptions::default()).unwrap();
    let schedule = services.router().cooldowns().schedule();
    assert_eq!(
        schedule.steps,
        [Duration::from_secs(120), Duration::from_secs(420)]
    );
    assert_eq!(
        schedule.billing_base_by_provider.get("deadup"),
        Some(&Duration::from_secs(3600))
    );
    assert_eq!(&schedule, services.cooldown_schedule());

    // A refused connection cools the provider down for the first configured step.
    let chain = services
        .chain_for(&format!("deadup/{MODEL}"), FallbackMode::None)
        .unwrap();
    let error = services
        .router()
        .call(Request::default(), &chain, &CancellationToken::new())
        .await
        .err()
        .unwrap();
    assert_eq!(error.attempts().len(), 1, "{error}");
    let entry = services
        .cooldowns()
        .entry(&CooldownKey::provider("deadup"))
        .unwrap();
    assert_eq!(
        entry.cooldown_until.unwrap() - entry.last_failure_at.unwrap(),
        120_000
    );
}

#[tokio::test]
async fn a_reload_applies_a_new_schedule_and_a_refused_one_keeps_the_old() {
    let h = Harness::start().await;
    let write = |extra: &str| {
        let text = config_text(&h.mock, &h.dir.path().join("workspace"), &Setup::default());
        std::fs::write(&h.config_path, with_top_level(&text, extra)).unwrap();
    };
    write("auth: { cooldowns: { backoffMinutes: [3] } },");
    h.gateway.reload().unwrap();
    let three = vec![Duration::from_secs(180)];
    assert_eq!(h.gateway.services().cooldowns().schedule().steps, three);

    // Same new schedule, but a token the server cannot resolve: refused, schedule kept.
    write(
        r#"auth: { cooldowns: { backoffMinutes: [9] } },
           gateway: { auth: { mode: "token", token: { source: "env", id: "CGTEST_UNSET_TOKEN" } } },"#,
    );
    let error = h.gateway.reload().unwrap_err();
    assert!(
        matches!(
            error,
            GatewayError::Runtime(RuntimeError::MissingToken { .. })
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("CGTEST_UNSET_TOKEN"), "{error}");
    assert_eq!(h.gateway.services().cooldowns().schedule().steps, three);
}

#[tokio::test]
async fn an_unset_token_variable_fails_the_server_not_the_services() {
    let mock = mock().await;
    let dir = tempfile::tempdir().unwrap();
    let text = with_top_level(
        &config_text(&mock, &dir.path().join("ws"), &Setup::default()),
        r#"gateway: { auth: { token: { source: "env", id: "CGTEST_UNSET_TOKEN" } } },"#,
    );
    let path = dir.path().join("clawgate.json");
    std::fs::write(&path, text).unwrap();
    let services =
        Services::load(&load_options(dir.path(), path), ServicesOptions::default()).unwrap();
    assert!(services.readiness().is_ok());
    let error = services.auth_token().unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("gateway.auth.token names ${CGTEST_UNSET_TOKEN}, which is not set"),
        "{error}"
    );
    let options = GatewayOptions::new(SocketAddr::from(([127, 0, 0, 1], 0)));
    let error = Gateway::start(services, None, options).await.unwrap_err();
    assert!(
        matches!(
            error,
            GatewayError::Runtime(RuntimeError::MissingToken { .. })
        ),
        "{error:?}"
    );
}
