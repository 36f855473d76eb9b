//! Results → the rows of the one table, each with its target (from
//! `shared/spec/benchmark-protocol.md`; the agent and engine targets from issues 5 and 7) and
//! the gap to it. Figures a run did not measure are simply absent (the run lists why).

use crate::groups::Results;
use crate::memory::MemoryFigures;
use crate::report::{Row, added, gap_above, gap_below, heading, mb, ms, rate};
use crate::stats::show_us;
use crate::throughput::THRESHOLDS_MS;

const LATENCY_P50_US: f64 = 100.0;
const LATENCY_P99_US: f64 = 250.0;
const TTFT_US: f64 = 200.0;
const STREAMS: usize = 1_000;
const RSS_IDLE_KB: u64 = 12 * 1024;
const RSS_LOAD_KB: u64 = 64 * 1024;
const STARTUP_MS: f64 = 20.0;
const THROUGHPUT_RPS: f64 = 10_000.0;

fn show_us_signed(us: f64) -> String {
    added(us)
}

fn latency_rows(r: &Results, rows: &mut Vec<Row>) {
    let Some(c) = &r.latency_clawgate else { return };
    let l = r.latency_litellm.as_ref();
    rows.push(heading(&format!(
        "added latency, c=1 (non-streaming chat; clawgate {} req/path, LiteLLM {} req/path)",
        c.requests,
        l.map_or(0, |l| l.requests)
    )));
    let pairs = [
        ("chat", "clawgate chat", Some("LiteLLM chat")),
        (
            "Responses-in → chat upstream",
            "clawgate responses→chat",
            Some("LiteLLM responses→chat"),
        ),
        (
            "Anthropic-in → chat upstream",
            "clawgate anthropic→chat",
            None,
        ),
    ];
    for (what, ours, theirs) in pairs {
        let Some(ours) = c.path(ours) else { continue };
        let peer = theirs.and_then(|t| l.and_then(|l| l.path(t)));
        for (pct, target) in [("p50", LATENCY_P50_US), ("p99", LATENCY_P99_US)] {
            let (base, mine, other) = match pct {
                "p50" => (
                    c.direct.p50_us,
                    ours.added.p50_us,
                    peer.map(|p| p.added.p50_us),
                ),
                _ => (
                    c.direct.p99_us,
                    ours.added.p99_us,
                    peer.map(|p| p.added.p99_us),
                ),
            };
            let mut row = Row::new(format!("{what}: added {pct}"))
                .direct(show_us(base))
                .clawgate(show_us_signed(mine))
                .peer(other.map(show_us_signed).unwrap_or_else(|| "—".into()))
                .target(format!("≤ {}", show_us(target)))
                .gap(gap_below(mine, target, show_us));
            if let Some(o) = other {
                row = row.advantage(o, mine);
            }
            rows.push(row);
        }
    }
}

fn throughput_rows(r: &Results, rows: &mut Vec<Row>) {
    if r.throughput.is_empty() {
        return;
    }
    rows.push(heading(
        "throughput frontier (fixed rate, oha; gateway on 1 pinned core): highest rate with 0 errors and p99 under",
    ));
    let find = |label: &str| r.throughput.iter().find(|f| f.label == label);
    let (direct, ours, peer) = (find("direct"), find("clawgate"), find("LiteLLM"));
    for t in THRESHOLDS_MS {
        let mine = ours.and_then(|f| f.at(t)).map(f64::from);
        let other = peer.and_then(|f| f.at(t)).map(f64::from);
        let mut row = Row::new(format!("p99 ≤ {t} ms"))
            .direct(frontier_at(direct, t))
            .clawgate(frontier_at(ours, t))
            .peer(frontier_at(peer, t));
        if let (Some(m), Some(o)) = (mine, other) {
            row = row.advantage(m, o);
        }
        if t == 1.0 {
            row = row
                .target(format!("≥ {}", rate(THROUGHPUT_RPS)))
                .gap(gap_above(mine.unwrap_or(0.0), THROUGHPUT_RPS, rate));
        }
        rows.push(row);
    }
}

fn streaming_rows(r: &Results, rows: &mut Vec<Row>) {
    if let Some(c) = &r.streaming_clawgate {
        let l = r.streaming_litellm.as_ref();
        rows.push(heading(&format!(
            "streaming (64 chunks 20 ms apart; {} streams per path, one of each path at a time)",
            c.rounds
        )));
        let pairs = [
            ("chat", "clawgate chat", Some("LiteLLM chat")),
            (
                "Responses-in → chat",
                "clawgate responses→chat",
                Some("LiteLLM responses→chat"),
            ),
            ("Anthropic-in → chat", "clawgate anthropic→chat", None),
        ];
        for (what, ours, theirs) in pairs {
            let Some(ours) = c.path(ours) else { continue };
            let peer = theirs.and_then(|t| l.and_then(|l| l.path(t)));
            let mut row = Row::new(format!("{what}: added TTFT p50"))
                .direct(show_us(c.direct.ttft.p50_us))
                .clawgate(added(ours.added_ttft_p50_us))
                .peer(peer.map_or("—".into(), |p| added(p.added_ttft_p50_us)))
                .target(format!("≤ {}", show_us(TTFT_US)))
                .gap(gap_below(ours.added_ttft_p50_us, TTFT_US, show_us));
            if let Some(p) = peer {
                row = row.advantage(p.added_ttft_p50_us, ours.added_ttft_p50_us);
            }
            rows.push(row);
            let mut row = Row::new(format!("{what}: added inter-chunk p99"))
                .direct(show_us(c.direct.gaps.p99_us))
                .clawgate(added(ours.added_gap_p99_us))
                .peer(peer.map_or("—".into(), |p| added(p.added_gap_p99_us)));
            if let Some(p) = peer {
                row = row.advantage(p.added_gap_p99_us, ours.added_gap_p99_us);
            }
            rows.push(row);
        }
    }
    if let Some(b) = &r.streaming_back_to_back {
        rows.push(heading(&format!(
            "streaming back to back (0 ms mock, 4 chunks, no idle between streams; {} per path)",
            b.streams
        )));
        for (what, ours) in [
            ("chat", "clawgate chat"),
            ("Responses-in → chat", "clawgate responses→chat"),
            ("Anthropic-in → chat", "clawgate anthropic→chat"),
        ] {
            let Some(added_p50) = b.added_p50(ours) else {
                continue;
            };
            rows.push(
                Row::new(format!("{what}: added TTFT p50"))
                    .direct(show_us(b.direct.p50_us))
                    .clawgate(added(added_p50))
                    .target(format!("≤ {}", show_us(TTFT_US)))
                    .gap(gap_below(added_p50, TTFT_US, show_us)),
            );
        }
    }
    if !r.sweeps.is_empty() {
        let find = |label: &str| r.sweeps.iter().find(|s| s.label == label);
        let show = |label: &str| match find(label) {
            None => "—".to_string(),
            Some(s) => match s.highest_passed {
                Some(c) => format!("{c} streams"),
                None => "none passed".to_string(),
            },
        };
        let tried = r
            .sweeps
            .first()
            .and_then(|s| s.levels.iter().map(|l| l.concurrency).max())
            .unwrap_or(0);
        let mine = find("clawgate chat").and_then(|s| s.highest_passed);
        let other = find("LiteLLM chat").and_then(|s| s.highest_passed);
        let mut row = Row::new(format!(
            "concurrent streams, no chunk lost, no stall > 200 ms (tried up to {tried})"
        ))
        .direct(show("direct"))
        .clawgate(show("clawgate chat"))
        .peer(show("LiteLLM chat"))
        .target(format!("≥ {STREAMS}"))
        .gap(gap_above(mine.unwrap_or(0) as f64, STREAMS as f64, |v| {
            format!("{v:.0}")
        }));
        if let (Some(m), Some(o)) = (mine, other) {
            row = row.advantage(m as f64, o as f64);
        }
        rows.push(row);
        // The largest level each path reached, whether it passed or not: on a loaded machine
        // the baseline itself may stall, and this row shows what the gateway added to that.
        let top = |label: &str| {
            find(label)
                .and_then(|s| s.levels.last())
                .map_or("—".to_string(), |l| {
                    format!(
                        "c={}: {} lost, max gap {}",
                        l.concurrency,
                        l.lost_chunks,
                        ms(l.max_gap_ms)
                    )
                })
        };
        rows.push(
            Row::new("largest level tried: chunks lost, longest gap")
                .direct(top("direct"))
                .clawgate(top("clawgate chat"))
                .peer(top("LiteLLM chat")),
        );
    }
}

fn memory_rows(r: &Results, rows: &mut Vec<Row>) {
    let find = |label: &str| r.memory.iter().find(|m| m.label == label);
    let Some(ours) = find("clawgate") else { return };
    let peer = find("LiteLLM");
    rows.push(heading("memory (VmRSS of the process tree)"));
    type Read = fn(&MemoryFigures) -> u64;
    let lines: [(&str, Read, Option<u64>); 3] = [
        ("RSS idle after start", |m| m.idle_kb, Some(RSS_IDLE_KB)),
        ("RSS plateau", |m| m.plateau_kb, Some(RSS_LOAD_KB)),
        ("RSS 2 s after the load", |m| m.after_kb, None),
    ];
    for (what, get, target) in lines {
        let what = if what == "RSS plateau" {
            format!("RSS plateau, {} open streams", ours.streams)
        } else {
            what.to_string()
        };
        let mine = get(ours);
        let mut row = Row::new(what)
            .clawgate(mb(mine))
            .peer(peer.map_or("—".into(), |p| mb(get(p))));
        if let Some(p) = peer {
            row = row.advantage(get(p) as f64, mine as f64);
        }
        row = match target {
            Some(t) => {
                row.target(format!("≤ {}", mb(t)))
                    .gap(gap_below(mine as f64, t as f64, |v| mb(v as u64)))
            }
            None => row.target("back to idle").gap(format!(
                "{} above idle",
                mb(mine.saturating_sub(ours.idle_kb))
            )),
        };
        rows.push(row);
    }
    // What the resident set is made of: the heap and stacks (anonymous) against pages of the
    // executable and libraries, which the kernel can drop and read back.
    let anon = |m: &MemoryFigures| format!("{} → {}", mb(m.idle_anon_kb), mb(m.after_anon_kb));
    rows.push(
        Row::new("of which anonymous (RssAnon): idle → 2 s after")
            .clawgate(anon(ours))
            .peer(peer.map_or("—".into(), anon)),
    );
}

fn body_rows(r: &Results, rows: &mut Vec<Row>) {
    let Some(b) = &r.bodies else { return };
    rows.push(heading(&format!(
        "memory under large request bodies ({} clients × {:.0} MiB at once: {})",
        b.clients,
        b.body_bytes as f64 / (1024.0 * 1024.0),
        b.describe_statuses()
    )));
    rows.push(Row::new("RSS idle").clawgate(mb(b.idle_kb)));
    rows.push(Row::new("RSS peak during the load").clawgate(mb(b.peak_kb)));
    rows.push(
        Row::new("RSS 2 s after the load")
            .clawgate(mb(b.after_kb))
            .target("back to idle")
            .gap(format!(
                "{} above idle",
                mb(b.after_kb.saturating_sub(b.idle_kb))
            )),
    );
}

fn startup_rows(r: &Results, rows: &mut Vec<Row>) {
    let find = |label: &str| r.startup.iter().find(|s| s.label == label);
    let Some(ours) = find("clawgate") else { return };
    let peer = find("LiteLLM");
    rows.push(heading("start-up"));
    let mut row = Row::new(format!(
        "exec → first healthy answer (median of {})",
        ours.runs_ms.len()
    ))
    .clawgate(ms(ours.median_ms))
    .peer(peer.map_or("—".into(), |p| ms(p.median_ms)))
    .target(format!("≤ {}", ms(STARTUP_MS)))
    .gap(gap_below(ours.median_ms, STARTUP_MS, ms));
    if let Some(p) = peer {
        row = row.advantage(p.median_ms, ours.median_ms);
    }
    rows.push(row);
}

fn failover_rows(r: &Results, rows: &mut Vec<Row>) {
    let Some(f) = &r.failover else { return };
    rows.push(heading("failover (in-process router, 0 ms mocks)"));
    rows.push(
        Row::new(format!(
            "refused local upstream → fallback: added p50 ({} req)",
            f.refused.requests
        ))
        .direct(show_us(f.refused.fallback_alone.p50_us))
        .clawgate(added(f.refused.added_attempted.p50_us))
        .target("≤ 1 ms")
        .gap(gap_below(f.refused.added_attempted.p50_us, 1000.0, show_us)),
    );
    rows.push(
        Row::new("refused upstream in cooldown → fallback: added p50")
            .direct(show_us(f.refused.fallback_alone.p50_us))
            .clawgate(added(f.refused.added_in_cooldown.p50_us)),
    );
    rows.push(
        Row::new(format!(
            "hung upstream → fallback: beyond the {} ms first-event timeout, p50",
            f.hung.first_event_timeout_ms
        ))
        .clawgate(show_us(f.hung.beyond_timeout.p50_us)),
    );
    for d in &f.dead_upstream {
        rows.push(
            Row::new(format!(
                "dead upstream ({}): attempts over {} requests",
                d.fault, d.requests
            ))
            .clawgate(format!("{} (the first failure)", d.upstream_requests))
            .target("0 during cooldown")
            .gap(if d.upstream_requests <= 2 {
                "met"
            } else {
                "missed"
            }),
        );
    }
}

fn agent_rows(r: &Results, rows: &mut Vec<Row>) {
    if r.agent.is_empty() {
        return;
    }
    rows.push(heading(
        "agent overhead per turn (instant model; 2M window, no compaction: whole history per request)",
    ));
    for a in &r.agent {
        rows.push(
            Row::new(format!(
                "{} messages, fsync {}: p50 / p99",
                a.messages,
                if a.fsync { "on" } else { "off" }
            ))
            .clawgate(format!(
                "{} / {}",
                show_us(a.per_turn.p50_us),
                show_us(a.per_turn.p99_us)
            )),
        );
    }
}

fn agent_index_rows(r: &Results, rows: &mut Vec<Row>) {
    if r.agent_index.is_empty() {
        return;
    }
    rows.push(heading(
        "agent turn against the index size (session closed after each turn, as the gateway does)",
    ));
    for a in &r.agent_index {
        rows.push(
            Row::new(format!("{} sessions in the index: p50 / p99", a.sessions)).clawgate(format!(
                "{} / {}",
                show_us(a.per_turn.p50_us),
                show_us(a.per_turn.p99_us)
            )),
        );
    }
}

/// A frontier's highest passing rate under `threshold_ms`, as the table shows it.
fn frontier_at(f: Option<&crate::throughput::Frontier>, threshold_ms: f64) -> String {
    match f {
        None => "—".to_string(),
        Some(f) => match f.at(threshold_ms) {
            Some(v) => rate(f64::from(v)),
            None => "none passed".to_string(),
        },
    }
}

fn shared_state_rows(r: &Results, rows: &mut Vec<Row>) {
    use crate::shared_state::{FILES, POSTGRES};
    let Some(figures) = &r.shared_state else {
        return;
    };
    let (routed, s) = (&figures.routed, &figures.state);
    let phase = &routed.latency;
    rows.push(heading(&format!(
        "shared state: routed calls through a gateway on each backend (1 pinned core each; c=1: {} req/path, interleaved)",
        phase.requests
    )));
    if let (Some(files), Some(pg)) = (phase.path(FILES), phase.path(POSTGRES)) {
        for (label, path) in [("files", files), ("postgres", pg)] {
            rows.push(
                Row::new(format!("added latency c=1, state in {label}: p50 / p99")).clawgate(
                    format!(
                        "{} / {}",
                        show_us_signed(path.added.p50_us),
                        show_us_signed(path.added.p99_us)
                    ),
                ),
            );
        }
        rows.push(
            Row::new("postgres minus files, c=1: p50 / p99")
                .clawgate(format!(
                    "{} / {}",
                    show_us_signed(pg.added.p50_us - files.added.p50_us),
                    show_us_signed(pg.added.p99_us - files.added.p99_us)
                ))
                .target("no difference (no database access on the hot path)"),
        );
    }
    let find = |label: &str| routed.frontiers.iter().find(|f| f.label == label);
    if !routed.frontiers.is_empty() {
        for t in THRESHOLDS_MS {
            rows.push(
                Row::new(format!(
                    "throughput frontier p99 ≤ {t} ms: files / postgres"
                ))
                .clawgate(format!(
                    "{} / {}",
                    frontier_at(find(FILES), t),
                    frontier_at(find(POSTGRES), t)
                )),
            );
        }
    }
    if let Some(why) = &routed.frontiers_skipped {
        rows.push(Row::new("throughput frontier, files / postgres").clawgate(why.clone()));
    }
    rows.push(heading(
        "shared state: agent turn c=1 (10-message session, closed after each turn), Postgres on loopback beside files",
    ));
    rows.push(Row::new("agent turn, files: p50 / p99").clawgate(format!(
        "{} / {}",
        show_us(s.files_turn.p50_us),
        show_us(s.files_turn.p99_us)
    )));
    rows.push(
        Row::new("agent turn, postgres: p50 / p99").clawgate(format!(
            "{} / {}",
            show_us(s.postgres_turn.p50_us),
            show_us(s.postgres_turn.p99_us)
        )),
    );
    rows.push(
        Row::new("added by postgres, p50")
            .clawgate(show_us_signed(s.postgres_turn.p50_us - s.files_turn.p50_us)),
    );
    rows.push(
        Row::new(format!(
            "cooldown seen by another replica ({} failures): p50 / p99",
            s.rounds
        ))
        .clawgate(format!(
            "{} / {}",
            show_us(s.cooldown_propagation.p50_us),
            show_us(s.cooldown_propagation.p99_us)
        )),
    );
}

fn engine_rows(r: &Results, rows: &mut Vec<Row>) {
    let Some(e) = &r.engine else { return };
    rows.push(heading(&format!(
        "embedded engine vs llama.cpp server (llama-cpp-python), {}, 2 threads, temperature 0",
        e.model
    )));
    let pct = (e.speed_ratio - 1.0) * 100.0;
    rows.push(
        Row::new("generation speed (median of runs)")
            .clawgate(format!("{:.1} tok/s", e.engine_tokens_per_s))
            .peer(format!("{:.1} tok/s", e.server_tokens_per_s))
            .advantage(e.engine_tokens_per_s, e.server_tokens_per_s)
            .target("within 5% of the server")
            .gap(if pct >= -5.0 {
                format!("met ({pct:+.1}%)")
            } else {
                format!("{pct:+.1}%")
            }),
    );
    let cold = |runs: &[crate::engine::GenerationRun]| runs.first().map_or(0.0, |r| r.ttft_ms);
    let warm = |runs: &[crate::engine::GenerationRun]| {
        let mut w: Vec<f64> = runs.iter().skip(1).map(|r| r.ttft_ms).collect();
        w.sort_by(f64::total_cmp);
        w.get(w.len() / 2).copied().unwrap_or(0.0)
    };
    rows.push(
        Row::new("time to first token, cold (engine: incl. model load; server: first request)")
            .clawgate(ms(cold(&e.engine)))
            .peer(format!(
                "{} (+ {} start-up)",
                ms(cold(&e.server)),
                ms(e.server_start_ms)
            )),
    );
    rows.push(
        Row::new("time to first token, warm (median)")
            .clawgate(ms(warm(&e.engine)))
            .peer(ms(warm(&e.server)))
            .advantage(warm(&e.server), warm(&e.engine)),
    );
}

/// Every row, group by group.
pub fn build(r: &Results) -> Vec<Row> {
    let mut rows = Vec::new();
    latency_rows(r, &mut rows);
    throughput_rows(r, &mut rows);
    streaming_rows(r, &mut rows);
    memory_rows(r, &mut rows);
    body_rows(r, &mut rows);
    startup_rows(r, &mut rows);
    failover_rows(r, &mut rows);
    agent_rows(r, &mut rows);
    agent_index_rows(r, &mut rows);
    shared_state_rows(r, &mut rows);
    engine_rows(r, &mut rows);
    if let Some(f) = &r.engine_load {
        crate::engine_load::rows(f, &mut rows);
    }
    rows
}
