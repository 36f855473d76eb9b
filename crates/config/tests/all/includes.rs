//! `$include`: order, sibling precedence, relative paths, depth, non-object includes.

use super::harness::Sandbox;

#[test]
fn array_includes_merge_in_order_and_siblings_win() {
    let sb = Sandbox::new();
    sb.write(
        "cfg/base.json5",
        r#"{ models: { providers: { a: { baseUrl: "http://127.0.0.1:1/v1", models: [{ id: "x" }] } } },
             gateway: { port: 1000, bind: "loopback" } }"#,
    );
    sb.write(
        "cfg/over.json5",
        r#"{ gateway: { port: 2000, bind: "lan" } }"#,
    );
    let root = sb.write(
        "cfg/root.json5",
        r#"{ $include: ["base.json5", "over.json5"], gateway: { port: 3000 } }"#,
    );
    let loaded = sb.load_file(&root, &[]).unwrap();
    assert_eq!(loaded.config.gateway.port, 3000);
    assert_eq!(
        loaded.config.gateway.bind,
        clawgate_config::schema::GatewayBind::Lan
    );
    assert!(loaded.registry.provider("a").is_some());
}

#[test]
fn paths_are_relative_to_the_including_file() {
    let sb = Sandbox::new();
    sb.write("cfg/sub/a.json5", r#"{ models: { $include: "b.json5" } }"#);
    sb.write("cfg/sub/b.json5", r#"{ mode: "replace" }"#);
    let root = sb.write("cfg/root.json5", r#"{ $include: "sub/a.json5" }"#);
    let loaded = sb.load_file(&root, &[]).unwrap();
    assert_eq!(
        loaded.config.models.mode(),
        clawgate_config::schema::ModelsMode::Replace
    );
}

#[test]
fn ten_levels_are_allowed() {
    let sb = Sandbox::new();
    for i in 1..=10 {
        let next = if i < 10 {
            format!(r#"{{ $include: "d{}.json5" }}"#, i + 1)
        } else {
            r#"{ gateway: { port: 4242 } }"#.to_string()
        };
        sb.write(&format!("cfg/d{i}.json5"), &next);
    }
    let root = sb.write("cfg/root.json5", r#"{ $include: "d1.json5" }"#);
    assert_eq!(sb.load_file(&root, &[]).unwrap().config.gateway.port, 4242);
}

#[test]
fn a_single_include_may_replace_an_array_value() {
    let sb = Sandbox::new();
    sb.write(
        "cfg/agents.json5",
        r#"[{ id: "main" }, { id: "reader", tools: { profile: "minimal" } }]"#,
    );
    let root = sb.write(
        "cfg/root.json5",
        r#"{ agents: { list: { $include: "agents.json5" } } }"#,
    );
    let loaded = sb.load_file(&root, &[]).unwrap();
    let ids: Vec<&str> = loaded
        .config
        .agents
        .list
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    assert_eq!(ids, ["main", "reader"]);
}

#[test]
fn diagnostics_inside_an_include_name_that_file() {
    let sb = Sandbox::new();
    sb.write("cfg/gw.json5", "{\n  gateway: {\n    prot: 1,\n  },\n}\n");
    let root = sb.write("cfg/root.json5", r#"{ $include: "gw.json5" }"#);
    let err = sb.load_file(&root, &[]).unwrap_err();
    let d = &err.diagnostics()[0];
    let loc = d.location.as_ref().unwrap();
    assert!(loc.file.ends_with("gw.json5"), "{}", loc.file.display());
    assert_eq!((loc.line, loc.column), (3, 5));
    assert_eq!(d.path, "gateway");
    assert_eq!(d.hint.as_deref(), Some("did you mean \"port\"?"));
}

#[test]
fn substitution_applies_inside_included_files() {
    let sb = Sandbox::new();
    sb.write(
        "cfg/p.json5",
        r#"{ local: { baseUrl: "${CGTEST_INC_BASE}/v1", models: [{ id: "m" }] } }"#,
    );
    let root = sb.write(
        "cfg/root.json5",
        r#"{ models: { providers: { $include: "p.json5" } } }"#,
    );
    let loaded = sb
        .load_file(&root, &[("CGTEST_INC_BASE", "http://10.0.0.5:8000")])
        .unwrap();
    let p = loaded.registry.provider("local").unwrap();
    assert_eq!(p.base_url, "http://10.0.0.5:8000/v1");
    assert!(p.is_local);
}
