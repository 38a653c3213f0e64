//! Analysis of a scenario or a run, beyond the raw figures:
//! - [`capacity`]: the static estimate behind `scalelab validate` (offered load, ρ per
//!   node, the predicted bottleneck);
//! - [`bottleneck`]: the node that limited a run, and why;
//! - [`slo`]: service-level objectives, validated from the file and checked on a report;
//! - [`expect`]: assertions on any figure of the report (`expect:`), for `scalelab check`;
//! - [`alerts`]: alert rules evaluated as the run goes (`alerts:`).

pub mod alerts;
pub mod bottleneck;
pub mod capacity;
pub mod expect;
pub mod slo;
