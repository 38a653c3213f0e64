//! models: scalelab's world.
//!
//! - [`schema`]: the scenario file as written (serde + RON);
//! - [`scenario`]: validation into a [`Scenario`] with resolved indices and filled defaults;
//! - [`dist`], [`profile`]: service-time distributions and arrival-rate profiles;
//! - [`world`]: the simulation itself (sources, load balancers, service pools, links);
//! - [`capacity`]: the static capacity estimate behind `scalelab validate`;
//! - [`report`]: per-run and merged reports, human and JSON.
#![warn(missing_docs)]

pub mod dist;
pub mod error;
pub mod parse;
pub mod profile;
pub mod schema;

pub use error::{ErrorKind, ScenarioError};
