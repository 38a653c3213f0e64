//! A pool's instances through their lives ([`Life`]): started (after the start-up),
//! ready, draining, stopped or killed, degraded, resized into a new generation. Every
//! change goes through `set_life`, which keeps the pool's counts, its routing set, the
//! balancers in front (the kernel's `membership`), the billing and the sessions held in
//! step.

use super::{Pool, MAX_INSTANCES, MAX_TOTAL_INSTANCES};
use crate::components::station::{Instance, Life};
use crate::ids::InstanceId;
use crate::kernel::{Cx, Ev, Membership};
use sim_core::SimTime;

impl Pool {
    /// A new generation of instances of `cores` at `price` per hour (a deploy or a
    /// resize): instances started from now on are of it. Returns its number.
    pub fn new_gen(&mut self, cx: &mut Cx, cores: u32, price: f64) -> u16 {
        self.gens.push((cores, price));
        self.gen_running.push(0);
        self.cores = cores;
        // Over the same spans as the pool's own (a mean is over the whole span).
        let st = &mut cx.k.nodes[self.id.index()];
        let (run, window) = (
            st.running.area_at(cx.now).1,
            st.running_window.area_at(cx.now).1,
        );
        st.gen_running.push(crate::world::stats::GenStats {
            cores,
            price,
            run: sim_core::TimeWeighted::new(run, 0),
            window: sim_core::TimeWeighted::new(window, 0),
        });
        (self.gens.len() - 1) as u16
    }

    /// Change instance `i`'s life, keeping the counts and (for routability) the pool's
    /// own routing set and the balancers' in step.
    pub(super) fn set_life(&mut self, cx: &mut Cx, i: InstanceId, life: Life) {
        let inst = &mut self.instances[i.index()];
        let before = (
            inst.is_up(),
            inst.life == Life::Ready,
            inst.is_running(),
            inst.is_working(),
        );
        inst.life = life;
        let after = (
            inst.is_up(),
            inst.life == Life::Ready,
            inst.is_running(),
            inst.is_working(),
        );
        let step = |n: &mut u32, b: bool, a: bool| {
            if a && !b {
                *n += 1
            } else if b && !a {
                *n -= 1
            }
        };
        step(&mut self.up, before.0, after.0);
        step(&mut self.ready, before.1, after.1);
        step(&mut self.running, before.2, after.2);
        step(&mut self.working, before.3, after.3);
        let (gen, cores) = (inst.gen as usize, inst.cores as u64);
        if before.3 != after.3 {
            if after.3 {
                self.working_cores += cores;
            } else {
                self.working_cores -= cores;
            }
        }
        let stopped = before.2 && !after.2;
        let gen_changed = gen > 0 && before.2 != after.2;
        if before.2 != after.2 {
            step(&mut self.gen_running[gen], before.2, after.2);
        }
        if before.1 != after.1 {
            self.instances[i.index()].transition = cx.now;
            let id = i.index() as u32;
            if after.1 {
                self.routable.insert(id);
            } else {
                self.routable.remove(id);
            }
            cx.k.membership.push(Membership {
                node: self.id,
                inst: i,
                up: after.1,
                died: self.killing,
                zone: self.zone_ids[self.instances[i.index()].zone as usize],
            });
        }
        let now = cx.now;
        let st = &mut cx.k.nodes[self.id.index()];
        st.serving.set(now, self.ready as u64);
        st.serving_min = st.serving_min.min(self.ready as u64);
        st.running.set(now, self.running as u64);
        st.running_window.set(now, self.running as u64);
        st.workers.set(now, self.working_cores);
        if let Some(homes) = self.homes.as_mut().filter(|_| stopped) {
            let lost = homes.stop(i.index() as u32);
            st.sessions
                .get_or_insert_with(Default::default)
                .lost
                .add(lost as u64);
        }
        if gen_changed {
            let n = self.gen_running[gen] as u64;
            let g = &mut st.gen_running[gen - 1];
            g.run.set(now, n);
            g.window.set(now, n);
        }
    }

    /// Start `n` instances (reusing stopped slots first). Each serves after the pool's
    /// `startup` time. Returns how many started (fewer only at [`MAX_INSTANCES`] in the
    /// pool or [`MAX_TOTAL_INSTANCES`] in the world).
    pub fn start(&mut self, cx: &mut Cx, n: u32) -> u32 {
        let mut started = 0;
        let mut free = 0;
        let down = |ids: &[u16], zone: u32, cx: &Cx| cx.k.zones_down[ids[zone as usize] as usize];
        while started < n {
            // A stopped slot in a zone that is up (none starts in a zone that is down).
            while free < self.instances.len()
                && (self.instances[free].life != Life::Stopped
                    || down(&self.zone_ids, self.instances[free].zone, cx))
            {
                free += 1;
            }
            if free == self.instances.len() {
                if self.instances.len() >= MAX_INSTANCES as usize
                    || cx.k.instance_slots >= MAX_TOTAL_INSTANCES
                {
                    break;
                }
                // In turn over the zones, skipping those down.
                let first = self.instances.len() as u32;
                let Some(zone) = (0..self.zones)
                    .map(|d| (first + d) % self.zones)
                    .find(|&z| !down(&self.zone_ids, z, cx))
                else {
                    break;
                };
                cx.k.instance_slots += 1;
                self.instances
                    .push(Instance::new(Life::Stopped, zone, cx.now));
            }
            let i = InstanceId::new(free);
            let inst = &mut self.instances[free];
            inst.epoch = inst.epoch.wrapping_add(1);
            inst.restart_clock(cx.now);
            inst.speed = 1.0;
            inst.cores = self.cores;
            inst.gen = (self.gens.len() - 1) as u16;
            let epoch = inst.epoch;
            if self.startup == SimTime::ZERO {
                self.set_life(cx, i, Life::Ready);
            } else {
                let ready_at = cx.now + self.startup;
                self.set_life(cx, i, Life::Starting { ready_at });
                cx.q.schedule(ready_at, Ev::InstanceReady(self.id, i, epoch));
            }
            started += 1;
        }
        started
    }

    /// An instance finished starting (ignored if it was stopped meanwhile).
    pub fn on_ready(&mut self, cx: &mut Cx, i: InstanceId, epoch: u32) {
        let inst = &self.instances[i.index()];
        if inst.epoch == epoch && matches!(inst.life, Life::Starting { .. }) {
            self.set_life(cx, i, Life::Ready);
        }
    }

    /// Stop instance `i`. With `drain`, it takes no new requests and stops when its
    /// in-flight work is done, or at the drain timeout (what is left then fails); without,
    /// it stops at once and its work fails. A starting instance just stops.
    pub fn stop(&mut self, cx: &mut Cx, i: InstanceId, drain: bool) {
        let life = self.instances[i.index()].life;
        let inst = &mut self.instances[i.index()];
        match life {
            Life::Stopped => {}
            Life::Starting { .. } => {
                inst.epoch = inst.epoch.wrapping_add(1);
                self.set_life(cx, i, Life::Stopped);
            }
            Life::Ready | Life::Draining if !drain => self.kill(cx, i),
            Life::Ready => {
                inst.epoch = inst.epoch.wrapping_add(1);
                let (epoch, idle) = (inst.epoch, inst.present == 0);
                if idle {
                    self.set_life(cx, i, Life::Stopped);
                } else {
                    self.set_life(cx, i, Life::Draining);
                    cx.q.schedule(
                        cx.now + self.drain_timeout,
                        Ev::DrainTimeout(self.id, i, epoch),
                    );
                }
            }
            Life::Draining => {}
        }
    }

    /// A drain's time is up: fail what is left (ignored if the drain finished).
    pub fn on_drain_timeout(&mut self, cx: &mut Cx, i: InstanceId, epoch: u32) {
        let inst = &self.instances[i.index()];
        if inst.epoch == epoch && inst.life == Life::Draining {
            self.kill(cx, i);
        }
    }

    /// Kill instance `i`: every request on it (queued, in service, waiting on a call)
    /// fails at once and is counted in `killed`. Requests already on their way to it are
    /// refused when they arrive. O(frames in flight): a rare event, not per request.
    pub fn kill(&mut self, cx: &mut Cx, i: InstanceId) {
        if self.instances[i.index()].life == Life::Stopped {
            return;
        }
        let mut victims = std::mem::take(&mut self.scratch);
        victims.clear();
        victims.extend(
            cx.k.frames
                .iter()
                .filter(|(_, fr)| fr.node == self.id && fr.inst == Some(i) && fr.placed)
                .map(|(k, _)| k),
        );
        let inst = &mut self.instances[i.index()];
        inst.abort(cx, self.id);
        inst.present = 0;
        inst.epoch = inst.epoch.wrapping_add(1);
        for &k in &victims {
            if !self.calls.is_empty() {
                self.calls.remove(&k);
            }
            cx.kill(k);
        }
        if !self.strays.is_empty() {
            let frames = &cx.k.frames;
            self.strays.retain(|s| frames.get(s.0).is_some());
        }
        for b in &mut self.bulk {
            if let Some(n) = b.get_mut(i.index()) {
                *n = 0;
            }
        }
        self.scratch = victims;
        self.killing = true;
        self.set_life(cx, i, Life::Stopped);
        self.killing = false;
    }

    /// Kill every instance (starting, serving or draining) in zone `zone` (a scenario
    /// zone id). Returns how many.
    pub fn kill_zone(&mut self, cx: &mut Cx, zone: u16) -> u32 {
        let mut n = 0;
        for i in 0..self.instances.len() {
            let inst = &self.instances[i];
            if self.zone_ids[inst.zone as usize] == zone && inst.life != Life::Stopped {
                self.kill(cx, InstanceId::new(i));
                n += 1;
            }
        }
        n
    }

    /// Whether instance `i` is serving now (what a health check probes).
    pub fn is_serving(&self, i: InstanceId) -> bool {
        self.instances
            .get(i.index())
            .is_some_and(|x| x.life == Life::Ready)
    }

    /// The `k`-th serving instance (`k` < [`Pool::ready`]), in no particular order.
    pub fn serving_instance(&self, k: u32) -> InstanceId {
        InstanceId::new(self.routable.get(k as usize) as usize)
    }

    /// Run instance `i` at `factor` of its CPU speed (1 restores it).
    pub fn degrade(&mut self, i: InstanceId, factor: f64) {
        self.instances[i.index()].speed = factor;
        self.degraded = self.instances.iter().any(|x| x.speed != 1.0);
    }

    /// Up to `n` instances to stop or kill, newest first; with `starting_first`, those
    /// still starting come before serving ones (they have done no work yet).
    pub fn newest(&self, n: u32, starting_first: bool) -> Vec<InstanceId> {
        let mut c: Vec<(bool, SimTime, usize)> = self
            .instances
            .iter()
            .enumerate()
            .filter(|(_, x)| {
                x.life == Life::Ready || (starting_first && matches!(x.life, Life::Starting { .. }))
            })
            .map(|(i, x)| (x.life == Life::Ready, x.started, i))
            .collect();
        c.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
        c.into_iter()
            .take(n as usize)
            .map(|(_, _, i)| InstanceId::new(i))
            .collect()
    }

    /// Start or stop (draining) instances until `n` are starting or serving.
    pub fn set_instances(&mut self, cx: &mut Cx, n: u32) {
        if n > self.up {
            self.start(cx, n - self.up);
        } else {
            for i in self.newest(self.up - n, true) {
                self.stop(cx, i, true);
            }
        }
    }
}
