//! Sessions kept in an instance's memory (`Service(sessions: InMemory)`), the state a
//! sticky balancer exists for.
//!
//! A user (source and session) is *created* on the instance that serves their first
//! request, which then holds the session. A later request the pool places on another
//! instance while the holder still serves finds no session there: the user's state is
//! *moved* — in a real system, logged out or a cart emptied — and the new instance holds
//! it from then on. When the holder stops (killed, crashed, scaled in, replaced by a
//! deploy), every session it holds is *lost*, counted at that moment; the user's next
//! request creates it again wherever it lands. A session lives until its instance stops
//! (no idle expiry).
//!
//! Memory: one map entry per user seen. Cost: one map lookup per request placed on an
//! instance (pools with `Stateless` sessions, the default, do nothing), and a pass over
//! the users when an instance stops.

use crate::kernel::KeyMap;
use serde::Deserialize;
use sim_core::Counter;

/// Where a service pool keeps its users' sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename = "sessions")]
pub enum SessionMode {
    /// Not on the instances: any instance serves any request (a stateless tier; a shared
    /// session store, if any, is a `Call` in the handler).
    #[default]
    Stateless,
    /// In the memory of the instance that served the user first: another instance has
    /// none, and a stopped instance loses all it held.
    InMemory,
}

/// Session counts over the measured window.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionStats {
    /// Sessions started (a user's first request, or the first after theirs was lost or
    /// moved).
    pub created: Counter,
    /// Sessions that stopped with the instance holding them.
    pub lost: Counter,
    /// Requests placed on an instance without their session while another instance
    /// held it: the session starts again there.
    pub moved: Counter,
}

/// What placing a request did to its user's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// The instance holds the session.
    Home,
    /// The user had none: it starts here.
    Created,
    /// Another serving instance held it: it starts again here.
    Moved,
}

/// Which instance holds each user's session.
#[derive(Debug, Clone, Default)]
pub struct Homes {
    home: KeyMap<u32>,
    /// Sessions held, by instance slot.
    held: Vec<u32>,
}

impl Homes {
    /// A request of `user` is placed on instance slot `inst`.
    #[inline]
    pub fn visit(&mut self, user: u64, inst: u32) -> Visit {
        let held = &mut self.held;
        if held.len() <= inst as usize {
            held.resize(inst as usize + 1, 0);
        }
        match self.home.insert(user, inst) {
            Some(h) if h == inst => Visit::Home,
            Some(h) => {
                held[h as usize] -= 1;
                held[inst as usize] += 1;
                Visit::Moved
            }
            None => {
                held[inst as usize] += 1;
                Visit::Created
            }
        }
    }

    /// Instance slot `inst` stopped: its sessions are gone. Returns how many.
    pub fn stop(&mut self, inst: u32) -> u32 {
        let Some(n) = self.held.get_mut(inst as usize) else {
            return 0;
        };
        let lost = std::mem::take(n);
        if lost > 0 {
            self.home.retain(|_, h| *h != inst);
        }
        lost
    }

    /// Sessions held now, all instances together.
    pub fn live(&self) -> usize {
        self.home.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_created_once_moves_with_its_user_and_is_lost_with_its_instance() {
        let mut h = Homes::default();
        assert_eq!(h.visit(7, 0), Visit::Created);
        assert_eq!(h.visit(7, 0), Visit::Home);
        assert_eq!(h.visit(8, 1), Visit::Created);
        assert_eq!(h.visit(9, 1), Visit::Created);
        assert_eq!(h.visit(7, 1), Visit::Moved);
        assert_eq!(h.visit(7, 1), Visit::Home);
        assert_eq!(h.stop(0), 0, "user 7 moved away from instance 0");
        assert_eq!(h.stop(1), 3);
        assert_eq!(h.live(), 0);
        assert_eq!(h.stop(1), 0, "stopping twice loses nothing more");
        assert_eq!(h.stop(40), 0, "an instance that never held a session");
        assert_eq!(h.visit(8, 2), Visit::Created, "a lost session starts again");
    }
}
