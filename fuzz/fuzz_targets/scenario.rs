//! Any bytes as a scenario file: read, validate, and if valid, run a bounded number of
//! events. The property: no panic, no hang (the event budget), no abort.
#![no_main]

use libfuzzer_sys::fuzz_target;
use models::world::World;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(sc) = models::load_str("fuzz.ron", text) {
        let sc = Arc::new(sc);
        let mut sim = World::simulation_with(sc.clone(), 1, false).with_event_limit(20_000);
        World::run_to_end(&mut sim);
        let stats = World::finish(sim);
        let _ = models::Report::from_run(&sc, &stats).to_json(None);
    }
});
