//! Sessions kept in instance memory (`Service(sessions: InMemory)`): created, lost with
//! a stopped instance, moved by routing that is not sticky — checked against counting
//! identities and the hand computation of where a request lands.

use super::{num, run_json, scenario_file};

fn scenario(algorithm: &str, actions: &str) -> String {
    format!(
        r#"Scenario(
    name: "sessions",
    seed: 5,
    duration: "10m",
    warmup: "0s",
    sources: [Source(name: "users", target: "lb", rate: Constant(200), arrivals: Poisson, sessions: 1000)],
    nodes: [
        LoadBalancer(name: "lb", backends: ["api"], algorithm: {algorithm}),
        Service(name: "api", instances: 4, cores: 2, sessions: InMemory, handlers: {{"*": [Cpu(Exp("10ms"))]}}),
    ],
    actions: [{actions}],
)"#
    )
}

#[test]
fn sticky_sessions_are_lost_with_their_instance_and_never_move() {
    // 1 000 users, each seen ~60 times before the kill at 5 min and ~30 times between
    // each change and the next: every session exists when its instance stops, and every
    // lost one comes back. The killed instance holds Bin(1000, 1/4) ≈ 250 sessions
    // (± 35 at 99%), and started = 1 000 + lost exactly.
    let kill = r#"At("5m", KillInstances(node: "api", count: 1))"#;
    let (_d, path) = scenario_file(&scenario("ConsistentHash", kill));
    let r = run_json(&path, &[]);
    let (created, lost, moved) = sessions(&r);
    assert_eq!(
        moved, 0.0,
        "a consistent hash moved a session off a serving instance"
    );
    assert_eq!(
        created,
        1000.0 + lost,
        "every lost session starts again once"
    );
    assert!(
        (215.0..=285.0).contains(&lost),
        "lost {lost}, expected ≈ 250"
    );
    // Then one of the 3 left is drained at 7 min: it holds its own ≈ 250 and a third of
    // the killed one's. Its users' requests go elsewhere while it drains (moved), and
    // what it still holds when it stops is lost: together ≈ 333 more.
    let drain = format!(r#"{kill}, At("7m", StopInstances(node: "api", count: 1))"#);
    let (_d, path) = scenario_file(&scenario("ConsistentHash", &drain));
    let r = run_json(&path, &[]);
    let (created2, lost2, moved2) = sessions(&r);
    assert_eq!(created2, 1000.0 + lost2 + moved2);
    let more = lost2 + moved2 - lost;
    assert!(
        (283.0..=383.0).contains(&more),
        "the drain took {more}, expected ≈ 333"
    );
    // Nothing stops, nothing is lost.
    let (_d, path) = scenario_file(&scenario("ConsistentHash", ""));
    let r = run_json(&path, &[]);
    assert_eq!(sessions(&r), (1000.0, 0.0, 0.0));
}

/// The pool's (created, lost, moved).
fn sessions(r: &serde_json::Value) -> (f64, f64, f64) {
    (
        num(r, "/nodes/1/sessions/created"),
        num(r, "/nodes/1/sessions/lost"),
        num(r, "/nodes/1/sessions/moved"),
    )
}

#[test]
fn round_robin_moves_three_sessions_in_four() {
    // Round robin places a request without regard to its user: it finds its session on
    // one instance in n. With 4 instances, 3 in 4 requests after a user's first move the
    // session: moved / (requests - 1 000) = 0.75, ± 0.005 at 99% over 120 000 requests.
    let (_d, path) = scenario_file(&scenario("RoundRobin", ""));
    let r = run_json(&path, &[]);
    let requests = num(&r, "/summary/requests");
    let (created, _, moved) = sessions(&r);
    assert_eq!(created, 1000.0 + moved, "a moved session starts again");
    let share = moved / (requests - 1000.0);
    assert!(
        (0.74..=0.76).contains(&share),
        "moved share {share}, expected 0.75"
    );
}

#[test]
fn a_stateless_pool_reports_no_sessions() {
    let text = scenario("RoundRobin", "").replace("sessions: InMemory, ", "");
    let (_d, path) = scenario_file(&text);
    let r = run_json(&path, &[]);
    assert!(r["nodes"][1].get("sessions").is_none(), "{}", r["nodes"][1]);
}
