//! Unit tests of the cooldown bookkeeping that need no router.

use std::time::Duration;

use clawgate_providers::FailureKind;

use super::*;

#[test]
fn cooldown_keys_round_trip_through_their_file_form() {
    for key in [
        CooldownKey::provider("anthropic"),
        CooldownKey::api_key("anthropic", 0),
        CooldownKey::api_key("openrouter", 12),
        CooldownKey::provider("odd#keyname"),
    ] {
        assert_eq!(CooldownKey::parse(&key.to_string()), key);
    }
    assert_eq!(CooldownKey::api_key("p", 3).to_string(), "p#key3");
}

#[test]
fn disable_spans_double_and_cap() {
    let schedule = CooldownSchedule::default();
    let hours = |kind, n| schedule.disable_for("p", kind, n).as_secs() / 3600;
    assert_eq!(
        (1..=5).map(|n| hours("billing", n)).collect::<Vec<_>>(),
        [5, 10, 20, 24, 24]
    );
    let minutes = |n| schedule.disable_for("p", "auth_permanent", n).as_secs() / 60;
    assert_eq!((1..=4).map(minutes).collect::<Vec<_>>(), [10, 20, 40, 60]);
    // a tiny configured base is raised to a minute
    let tiny = CooldownSchedule {
        billing_base: Duration::from_secs(1),
        ..CooldownSchedule::default()
    };
    assert_eq!(tiny.disable_for("p", "billing", 1), Duration::from_secs(60));
}

#[test]
fn billing_base_can_differ_per_provider() {
    let schedule = CooldownSchedule {
        billing_base_by_provider: [("openai".to_string(), Duration::from_secs(2 * 3600))].into(),
        ..CooldownSchedule::default()
    };
    let hours = |provider, n| schedule.disable_for(provider, "billing", n).as_secs() / 3600;
    assert_eq!([hours("openai", 1), hours("openai", 2)], [2, 4]);
    assert_eq!([hours("anthropic", 1), hours("anthropic", 2)], [5, 10]);
    // the override is for billing only
    assert_eq!(
        schedule.disable_for("openai", "auth_permanent", 1),
        Duration::from_secs(600)
    );
}

#[test]
fn a_replaced_schedule_applies_to_the_next_failure_and_keeps_the_state() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::provider("p");
    let until = store.record_failure(&key, &FailureKind::ServerError, Penalty::Cooldown, 0);
    assert_eq!(until, Some(60_000));
    store.set_schedule(CooldownSchedule {
        steps: vec![Duration::from_secs(7), Duration::from_secs(9)],
        ..CooldownSchedule::default()
    });
    assert_eq!(store.schedule().steps[0], Duration::from_secs(7));
    // the entry's count survived: this is the 2nd failure, 9 s after it
    let until = store.record_failure(&key, &FailureKind::ServerError, Penalty::Cooldown, 100_000);
    assert_eq!(until, Some(109_000));
    assert_eq!(store.entry(&key).map(|e| e.error_count), Some(2));
}

#[test]
fn billing_on_a_key_uses_its_providers_base() {
    let store = CooldownStore::in_memory(CooldownSchedule {
        billing_base_by_provider: [("cheap".to_string(), Duration::from_secs(3600))].into(),
        ..CooldownSchedule::default()
    });
    let until = store.record_failure(
        &CooldownKey::api_key("cheap", 1),
        &FailureKind::Billing,
        Penalty::Disable,
        0,
    );
    assert_eq!(until, Some(3_600_000));
}

#[test]
fn availability_prefers_the_lowest_free_key_and_reports_the_soonest_blocked_one() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let rate = FailureKind::RateLimit {
        retry_after: Some(Duration::from_secs(300)),
    };
    store.record_failure(&CooldownKey::api_key("p", 0), &rate, Penalty::Cooldown, 0);
    assert_eq!(
        store.availability("p", 3, 1),
        Availability::Ready { key_index: 1 }
    );
    store.record_failure(
        &CooldownKey::api_key("p", 1),
        &FailureKind::Auth,
        Penalty::Cooldown,
        0,
    );
    store.record_failure(&CooldownKey::api_key("p", 2), &rate, Penalty::Cooldown, 0);
    match store.availability("p", 3, 1) {
        Availability::Blocked { block, soonest_key } => {
            assert_eq!(soonest_key, 1, "auth cooled for 60 s, the others for 300 s");
            assert_eq!(block.until, 60_000);
            assert_eq!(block.reason, "auth");
        }
        other => panic!("{other:?}"),
    }
    // a provider-wide block outlasting every key decides the until
    store.record_failure(
        &CooldownKey::provider("p"),
        &FailureKind::Billing,
        Penalty::Disable,
        0,
    );
    match store.availability("p", 3, 1) {
        Availability::Blocked { block, .. } => {
            assert!(block.disabled);
            assert_eq!(block.until, 5 * 3_600_000);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reset_clears_every_entry_of_a_provider_only() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    store.record_failure(
        &CooldownKey::provider("a"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        0,
    );
    store.record_failure(
        &CooldownKey::api_key("a", 1),
        &FailureKind::Auth,
        Penalty::Cooldown,
        0,
    );
    store.record_failure(
        &CooldownKey::provider("b"),
        &FailureKind::Timeout,
        Penalty::Cooldown,
        0,
    );
    store.reset("a", 10);
    assert_eq!(
        store.availability("a", 2, 11),
        Availability::Ready { key_index: 0 }
    );
    assert!(matches!(
        store.availability("b", 1, 11),
        Availability::Blocked { .. }
    ));
}

#[derive(Debug, Default)]
struct RecordingSink(Mutex<Vec<(String, CooldownEntry)>>);

impl CooldownSink for RecordingSink {
    fn changed(&self, entries: Vec<(String, CooldownEntry)>) {
        locked(&self.0).extend(entries);
    }
}

#[test]
fn a_sink_hears_failures_and_recoveries_and_nothing_for_a_clean_success() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let sink = Arc::new(RecordingSink::default());
    store.set_sink(sink.clone());
    store.record_success("local", 0, 1_000);
    assert!(
        locked(&sink.0).is_empty(),
        "a clean success changes nothing"
    );
    let key = CooldownKey::provider("local");
    let until = store.record_failure(&key, &FailureKind::Overloaded, Penalty::Cooldown, 2_000);
    {
        let heard = locked(&sink.0);
        assert_eq!(heard.len(), 1);
        assert_eq!(heard[0].0, "local");
        assert_eq!(heard[0].1.cooldown_until, until);
    }
    store.record_success("local", 0, 3_000);
    let heard = locked(&sink.0);
    assert_eq!(heard.len(), 2);
    assert_eq!(heard[1].1.cooldown_until, None);
    assert_eq!(heard[1].1.updated_at, 3_000);
}

#[test]
fn remote_entries_apply_when_newer_and_never_roll_back_a_newer_local_one() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let key = CooldownKey::provider("gpu");
    let remote = CooldownEntry {
        error_count: 1,
        cooldown_until: Some(70_000),
        last_failure_at: Some(10_000),
        last_failure_kind: Some("network".into()),
        updated_at: 10_000,
        ..CooldownEntry::default()
    };
    store.apply_remote(&BTreeMap::from([("gpu".to_string(), remote.clone())]));
    assert!(
        store.blocked(&key, 20_000).is_some(),
        "a remote failure blocks here"
    );
    store.record_success("gpu", 0, 30_000);
    store.apply_remote(&BTreeMap::from([("gpu".to_string(), remote)]));
    assert!(
        store.blocked(&key, 40_000).is_none(),
        "an older remote entry does not undo a newer local recovery"
    );
}

#[test]
fn a_providers_entries_are_found_among_neighbours_with_longer_names() {
    let store = CooldownStore::in_memory(CooldownSchedule::default());
    let fail = |key: CooldownKey| {
        store.record_failure(&key, &FailureKind::ServerError, Penalty::Cooldown, 0);
    };
    // Entries of `ab` and of a provider named like one of `a`'s keys sort next to `a`'s.
    fail(CooldownKey::provider("ab"));
    fail(CooldownKey::provider("a#keyx"));
    assert!(matches!(
        store.availability("a", 2, 1),
        Availability::Ready { key_index: 0 }
    ));
    fail(CooldownKey::api_key("a", 0));
    assert!(matches!(
        store.availability("a", 2, 1),
        Availability::Ready { key_index: 1 }
    ));
    fail(CooldownKey::api_key("a", 1));
    assert!(matches!(
        store.availability("a", 2, 1),
        Availability::Blocked { .. }
    ));
    // A success clears the key that answered; the neighbours stay blocked.
    store.record_success("a", 1, 2);
    assert!(matches!(
        store.availability("a", 2, 3),
        Availability::Ready { key_index: 1 }
    ));
    assert!(matches!(
        store.availability("ab", 1, 3),
        Availability::Blocked { .. }
    ));
}
