//! Faults a hand can break and heal: before the run, the UI arms (adds, never scheduled)
//! a latency fault and an error fault per node that serves requests and an outage per
//! zone, so a key press is one `Verb::Fault` injected on the simulation's queue — the
//! same path as a scripted fault, on the timeline and in the report like one.

use models::control::faults::{Fault, FaultKind};
use models::scenario::dist::Dist;
use models::scenario::raw::{Dur, RawDist};
use models::Scenario;
use sim_core::SimTime;

/// The extra latency `l` injects (an exponential of this mean).
pub const LATENCY: &str = "100ms";
/// The share of requests `e` fails.
pub const ERRORS: f64 = 0.2;

/// Armed faults: per node, its latency and error faults (ids in `Scenario::faults`); per
/// zone (scenario zone id − 1), its outage.
#[derive(Debug, Clone, Default)]
pub struct Armed {
    /// Per node.
    pub latency: Vec<Option<u32>>,
    /// Per node.
    pub errors: Vec<Option<u32>>,
    /// Per zone.
    pub zones: Vec<u32>,
}

/// `sc` with the armed faults added, and where they are.
pub fn arm(sc: &Scenario) -> (Scenario, Armed) {
    let mut sc = sc.clone();
    let mut armed = Armed::default();
    let extra = Dist::from_raw(&RawDist::Exp(Dur(SimTime::from_nanos(100_000_000))))
        .expect("a valid distribution");
    let add = |sc: &mut Scenario, kind: FaultKind, name: String| {
        sc.faults.push(Fault::by_hand(kind, name));
        (sc.faults.len() - 1) as u32
    };
    for i in 0..sc.nodes.len() {
        let node = models::ids::NodeId::new(i);
        let name = sc.nodes[i].name.clone();
        let serves = matches!(
            sc.nodes[i].kind.kind().label(),
            "service" | "cache" | "database"
        );
        armed.latency.push(serves.then(|| {
            add(
                &mut sc,
                FaultKind::NodeLatency { node, extra },
                format!("NodeLatency({name})"),
            )
        }));
        armed.errors.push(serves.then(|| {
            add(
                &mut sc,
                FaultKind::ErrorInjection {
                    node,
                    fraction: ERRORS,
                },
                format!("ErrorInjection({name}, {ERRORS})"),
            )
        }));
    }
    for z in 0..sc.zones.len() {
        let name = sc.zones[z].clone();
        let id = add(
            &mut sc,
            FaultKind::ZoneOutage { zone: z as u16 + 1 },
            format!("ZoneOutage({name})"),
        );
        armed.zones.push(id);
    }
    (sc, armed)
}
