//! The ports the orchestrator reaches, bundled as one set of types, as controller-rs passes one
//! context: a new port is one associated type here and one field on `Orchestrator`, and none of
//! the handler's impl blocks changes.

use super::{Alarms, Clock, Eks, Notifier, RecordStore, SelfInvoker, WakeScheduler};

/// The orchestrator's adapters, by type.
pub trait Ports {
    type Eks: Eks;
    type Store: RecordStore;
    type Invoker: SelfInvoker;
    type Clock: Clock;
    type Notifier: Notifier;
    type Alarms: Alarms;
    type Scheduler: WakeScheduler;
}

/// Any seven adapters, in this order, are a bundle: `Orchestrator<(EksAdapter, DynamoStore,
/// LambdaInvoker, SystemClock, EventBridgeNotifier, CloudWatchAlarms, SchedulerWakes)>` needs
/// no declaration.
impl<E: Eks, S: RecordStore, I: SelfInvoker, C: Clock, N: Notifier, A: Alarms, W: WakeScheduler> Ports
    for (E, S, I, C, N, A, W)
{
    type Eks = E;
    type Store = S;
    type Invoker = I;
    type Clock = C;
    type Notifier = N;
    type Alarms = A;
    type Scheduler = W;
}
