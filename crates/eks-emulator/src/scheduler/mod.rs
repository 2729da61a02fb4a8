//! An EventBridge Scheduler stand-in, apart from the EKS emulation: the one-time schedules a
//! function arranges to be woken (`CreateSchedule`, `GetSchedule`, `DeleteSchedule`, restJson1
//! on `/schedules/{Name}`), fired at their time on the emulator's clock by invoking their
//! target through the Lambda relay, as an asynchronous (`Event`) invocation.
//!
//! `store.rs` keeps the schedules and Scheduler's rules (names, `at()` expressions, duplicates);
//! `wire.rs` speaks the protocol.

mod store;
pub(crate) mod wire;

pub(crate) use store::Schedules;
