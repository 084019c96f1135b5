//! One budget of upstream work for the whole process: how many targets are
//! collected at once, how many requests one target may have in flight, and
//! how many requests the whole process has in flight.
//!
//! Every queue is a FIFO (tokio's semaphore is fair), so one large gateway
//! with many session pages waits its turn like the others instead of
//! starving them: it holds one target place and at most its own cap of
//! requests. A target acquires its own request place before a global one,
//! so a target at its cap never holds a global place it cannot use.
//!
//! Descriptors follow from the target places: a target's connections are
//! its own and are closed when its collection ends (see [`super::pool`]),
//! and a target opens at most one per request it may have in flight, so
//! at most `max_targets_in_flight × max_requests_per_target` sockets are
//! open towards the appliances, whatever the size of the fleet.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Limits;

/// The process-wide queues; clones share them.
#[derive(Debug, Clone)]
pub struct Budget {
    /// Places for targets being collected.
    targets: Arc<Semaphore>,
    /// Places for requests in flight, across all targets.
    requests: Arc<Semaphore>,
    /// Requests one target may have in flight.
    per_target: usize,
    /// The sizes of the two process-wide queues, to tell what is in use.
    sizes: (usize, usize),
}

impl Budget {
    /// Queues sized by `limits`.
    pub fn new(limits: &Limits) -> Self {
        Self {
            targets: Arc::new(Semaphore::new(limits.max_targets_in_flight as usize)),
            requests: Arc::new(Semaphore::new(limits.max_in_flight as usize)),
            per_target: limits.max_requests_per_target as usize,
            sizes: (
                limits.max_targets_in_flight as usize,
                limits.max_in_flight as usize,
            ),
        }
    }

    /// Waits for a place to collect one target (first come, first served).
    pub async fn admit(&self) -> TargetPlace {
        // The semaphores are never closed, so the permit is always given.
        let place = self.targets.clone().acquire_owned().await.ok();
        TargetPlace {
            _place: place,
            own: Arc::new(Semaphore::new(self.per_target)),
            requests: self.requests.clone(),
        }
    }

    /// Targets being collected now.
    pub fn targets_in_flight(&self) -> usize {
        self.sizes
            .0
            .saturating_sub(self.targets.available_permits())
    }

    /// Requests in flight now.
    pub fn requests_in_flight(&self) -> usize {
        self.sizes
            .1
            .saturating_sub(self.requests.available_permits())
    }
}

/// A target's place in the budget, held for the whole collection.
#[derive(Debug)]
pub struct TargetPlace {
    /// The place among the targets collected at once.
    _place: Option<OwnedSemaphorePermit>,
    /// This target's own request cap.
    own: Arc<Semaphore>,
    /// The process-wide request queue.
    requests: Arc<Semaphore>,
}

/// Leave to send one request: a place of the target's and one of the
/// process', released when dropped.
#[derive(Debug)]
pub struct RequestPlace {
    _own: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
}

impl TargetPlace {
    /// Waits until the target and the process may send one more request.
    pub async fn request(&self) -> RequestPlace {
        let own = self.own.clone().acquire_owned().await.ok();
        let global = self.requests.clone().acquire_owned().await.ok();
        RequestPlace {
            _own: own,
            _global: global,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(targets: u32, per_target: u32, in_flight: u32) -> Limits {
        Limits {
            max_targets_in_flight: targets,
            max_requests_per_target: per_target,
            max_in_flight: in_flight,
            ..Limits::default()
        }
    }

    async fn blocks<F: std::future::Future>(f: F) -> bool {
        tokio::time::timeout(Duration::from_millis(50), f)
            .await
            .is_err()
    }

    #[tokio::test]
    async fn a_target_waits_for_a_place_and_gets_it_when_one_ends() {
        let l = limits(1, 2, 10);
        let budget = Budget::new(&l);
        let first = budget.admit().await;
        assert_eq!(budget.targets_in_flight(), 1);
        assert!(blocks(budget.admit()).await);
        drop(first);
        let _second = budget.admit().await;
    }

    #[tokio::test]
    async fn a_target_is_held_to_its_own_cap_and_the_process_to_its_own() {
        let l = limits(2, 2, 3);
        let budget = Budget::new(&l);
        let (a, b) = (budget.admit().await, budget.admit().await);
        let a1 = a.request().await;
        let _a2 = a.request().await;
        // a is at its cap; b still gets the process' last place.
        assert!(blocks(a.request()).await);
        let _b1 = b.request().await;
        assert_eq!(budget.requests_in_flight(), 3);
        assert!(blocks(b.request()).await);
        drop(a1);
        let _b2 = b.request().await;
    }

    #[tokio::test]
    async fn waiting_targets_are_served_in_arrival_order() {
        let l = limits(1, 1, 1);
        let budget = Budget::new(&l);
        let held = budget.admit().await;
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..5 {
            let (budget, order) = (budget.clone(), order.clone());
            waiters.push(tokio::spawn(async move {
                let _place = budget.admit().await;
                order.lock().unwrap().push(i);
            }));
            // Each waiter queues before the next is spawned.
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        drop(held);
        for w in waiters {
            w.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4]);
    }
}
