//! Deployments and resizes at run time: a new generation of instances replaces the old,
//! Kubernetes-Deployment style — at most `surge` instances above the pool's size and at
//! most `unavailable` serving instances below it — or blue/green (a whole new pool, the
//! old stopped once every new instance serves). Each step is taken when the pool changes
//! (an instance ready, stopped, killed), so a rollout paces itself by the start-up time.
//! Old instances are stopped draining. An autoscaler holds still while a rollout is
//! under way on its pool (its datapoints are still taken).

use super::World;
use crate::components::station::Life;
use crate::control::Strategy;
use crate::ids::{InstanceId, NodeId};
use crate::kernel::{Cx, Queue};
use crate::report::TimelineKind;
use sim_core::SimTime;

/// A deployment under way on one pool.
#[derive(Debug, Clone)]
pub struct Rollout {
    /// What it does.
    deploy: crate::control::Deploy,
    /// The pool's size when it began (what the new generation must reach).
    n: u32,
    /// The new generation.
    gen: u16,
    /// When it began.
    started: SimTime,
}

impl World {
    /// Deployment `id` of the scenario begins.
    pub(super) fn deploy_start(&mut self, now: SimTime, id: usize, q: &mut Queue) {
        let d = self.k.sc.deploys[id].clone();
        self.begin_deploy(now, d, q);
    }

    /// Deployment `d` (scripted, or an autoscaler's resize) begins.
    pub(super) fn begin_deploy(&mut self, now: SimTime, d: crate::control::Deploy, q: &mut Queue) {
        let node = d.node;
        if self.rollouts[node.index()].is_some() {
            let text = format!("{}: not started, another deployment is under way", d.what);
            return self.note(now, TimelineKind::Deploy, node, text);
        }
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        let Some(pool) = self.states[node.index()].as_pool_mut() else {
            return;
        };
        let (cores, price) = d
            .size
            .unwrap_or(*pool.gens.last().expect("a pool has a size"));
        let gen = pool.new_gen(&mut cx, cores, price);
        let n = pool.size();
        let text = format!("{} of {} begins", d.what, super::instances(n));
        self.rollouts[node.index()] = Some(Rollout {
            deploy: d,
            n,
            gen,
            started: now,
        });
        self.note(now, TimelineKind::Deploy, node, text);
        self.deploy_step(now, node, q);
    }

    /// The rollout on `node` starts and stops what it may now.
    pub(super) fn deploy_step(&mut self, now: SimTime, node: NodeId, q: &mut Queue) {
        let Some(ro) = self.rollouts[node.index()].clone() else {
            return;
        };
        let strategy = ro.deploy.strategy;
        let mut cx = Cx {
            k: &mut self.k,
            q,
            now,
        };
        let Some(pool) = self.states[node.index()].as_pool_mut() else {
            return;
        };
        let n = ro.n;
        let mut done = false;
        // Each pass starts or stops some; stopping may allow starting (and back): a few
        // passes reach the fixed point.
        for _ in 0..4 {
            let (mut old_starting, mut old_ready, mut new_up, mut new_ready) =
                (vec![], vec![], 0, 0);
            for (i, inst) in pool.instances.iter().enumerate() {
                let old = inst.gen < ro.gen;
                match inst.life {
                    Life::Starting { .. } if old => old_starting.push(InstanceId::new(i)),
                    Life::Ready if old => old_ready.push(InstanceId::new(i)),
                    Life::Starting { .. } => new_up += 1,
                    Life::Ready => {
                        new_up += 1;
                        new_ready += 1;
                    }
                    _ => {}
                }
            }
            let old_up = (old_starting.len() + old_ready.len()) as u32;
            if old_up == 0 && new_ready >= n {
                done = true;
                break;
            }
            let mut changed = false;
            // Old instances still starting serve nobody: stop them first.
            for i in old_starting.drain(..) {
                pool.stop(&mut cx, i, true);
                changed = true;
            }
            let (start, stop) = match strategy {
                Strategy::Rolling { surge, unavailable } => {
                    let total = old_ready.len() as u32 + new_up;
                    let start = (n + surge)
                        .saturating_sub(total)
                        .min(n.saturating_sub(new_up));
                    let ready = old_ready.len() as u32 + new_ready;
                    let stop = ready
                        .saturating_sub(n.saturating_sub(unavailable))
                        .min(old_ready.len() as u32);
                    (start, stop)
                }
                Strategy::BlueGreen => {
                    let stop = if new_ready >= n {
                        old_ready.len() as u32
                    } else {
                        0
                    };
                    (n.saturating_sub(new_up), stop)
                }
            };
            if start > 0 && pool.start(&mut cx, start) > 0 {
                changed = true;
            }
            // The oldest go first.
            old_ready.sort_by_key(|&i| (pool.instances[i.index()].started, i.index()));
            for &i in old_ready.iter().take(stop as usize) {
                pool.stop(&mut cx, i, true);
                changed = true;
            }
            if !changed {
                break;
            }
        }
        self.apply_membership();
        self.kick_queues(now, node, q);
        if done {
            self.rollouts[node.index()] = None;
            let text = format!("{} done in {}", ro.deploy.what, now - ro.started);
            self.note(now, TimelineKind::Deploy, node, text);
        }
    }
}
