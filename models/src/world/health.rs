//! Health checks: a balancer probes the instances it knows every `interval`; a `timeout`
//! later the verdicts come in, and an instance that failed `unhealthy_after` probes in a
//! row leaves rotation (one that passed `healthy_after` comes back), on the timeline.

use super::World;
use crate::control::Verb;
use crate::ids::NodeId;
use crate::kernel::{Ev, Queue};
use crate::report::TimelineKind;
use sim_core::SimTime;

impl World {
    /// Balancer `node` probes every instance it knows; the verdicts come a timeout later.
    pub(super) fn health_probe(&mut self, now: SimTime, node: NodeId, q: &mut Queue) {
        let states = &self.states;
        let serving = |(pool, inst): (NodeId, crate::ids::InstanceId)| {
            states[pool.index()]
                .as_pool()
                .is_some_and(|p| p.is_serving(inst))
        };
        let results: Vec<bool> = match states[node.index()].as_balancer() {
            Some(b) => b.probe_targets().map(serving).collect(),
            None => return,
        };
        let b = self.states[node.index()]
            .as_balancer_mut()
            .expect("a balancer");
        let Some(h) = b.health() else {
            return;
        };
        b.set_probe(results.into_iter());
        q.schedule(now + h.timeout, Ev::Control(Verb::HealthVerdict { node }));
        q.schedule(now + h.interval, Ev::Tick(node));
    }

    /// Balancer `node`'s probes are in: eject the failing, admit the passing.
    pub(super) fn health_verdict(&mut self, now: SimTime, node: NodeId, _q: &mut Queue) {
        let Some(b) = self.states[node.index()].as_balancer_mut() else {
            return;
        };
        let h = b.health().expect("probed");
        for (pool, inst, up) in b.apply_probe() {
            let name = &self.k.sc.nodes[pool.index()].name;
            let text = if up {
                format!(
                    "{name}/{} in rotation after {} passed checks",
                    inst.index(),
                    h.healthy_after
                )
            } else {
                format!(
                    "{name}/{} ejected after {} failed checks",
                    inst.index(),
                    h.unhealthy_after
                )
            };
            self.note(now, TimelineKind::Health, node, text);
            if !up {
                self.fault_detected(now);
            }
        }
    }
}
