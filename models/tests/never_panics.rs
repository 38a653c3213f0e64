//! Bad input never panics: thousands of random edits of the default scenario (deleting,
//! duplicating or replacing a character or a token) must each load to `Ok` or to a
//! `ScenarioError`; the ones that load must also simulate one second without panicking.

use sim_core::{RngStreams, SimTime};

const DEFAULT: &str = include_str!("../../scenarios/default.ron");
const TOKENS: [&str; 12] = [
    "0",
    "-1",
    "\"\"",
    "\"0s\"",
    "1e400",
    "(",
    ")",
    "[",
    ",",
    "Call(\"web\")",
    "None",
    "999999999999",
];

#[test]
fn random_edits_never_panic() {
    let mut rng = RngStreams::new(2026).get("mutations");
    let chars: Vec<char> = DEFAULT.chars().collect();
    let (mut ok, mut rejected) = (0, 0);
    for _ in 0..3000 {
        let mut c = chars.clone();
        for _ in 0..=rng.below(2) {
            let at = rng.below(c.len() as u64) as usize;
            match rng.below(4) {
                0 => {
                    c.remove(at);
                }
                1 => c.insert(at, c[at]),
                2 => {
                    c[at] =
                        ['"', '(', ')', ',', '0', '9', '-', 'x', ':', ' '][rng.below(10) as usize]
                }
                _ => {
                    let tok = TOKENS[rng.below(TOKENS.len() as u64) as usize];
                    for (k, ch) in tok.chars().enumerate() {
                        c.insert(at + k, ch);
                    }
                }
            }
        }
        let text: String = c.into_iter().collect();
        let result = std::panic::catch_unwind(|| match models::load_str("mutant.ron", &text) {
            Ok(mut sc) => {
                let d = sc.warmup + SimTime::from_secs(1);
                sc.set_duration(d).unwrap();
                sc.max_in_flight = sc.max_in_flight.min(100_000);
                let run = models::world::simulate(&sc, 1);
                let _ = models::Report::from_run(&sc, &run).to_json(None);
                true
            }
            Err(e) => {
                assert!(!e.message.is_empty());
                let _ = e.to_string();
                false
            }
        });
        match result {
            Ok(true) => ok += 1,
            Ok(false) => rejected += 1,
            Err(_) => panic!("panicked on this input:\n{text}"),
        }
    }
    assert!(ok > 100 && rejected > 1000, "ok {ok}, rejected {rejected}");
}
