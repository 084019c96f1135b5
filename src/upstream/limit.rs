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
//! Within its cap a target also keeps to its fair share of the process'
//! requests: `max_in_flight` divided among the targets being collected
//! (rounded up, at least one). One large gateway alone gets its whole cap;
//! a fleet with more targets at once than `max_in_flight / cap` spreads the
//! requests over all of them, so a target's first page (read alone the
//! first time, to learn the total) overlaps with other targets' pages
//! rather than leaving places idle. Measured on the fleet benchmark, 16
//! targets at once held to their share read 200 gateways in 1.4 x the
//! floor, against 2.0 x for 8 targets at once at 8 requests each and 1.8 x
//! for 16 at 8 each without the share; 24 at once, with the session pages
//! of a target collected among others read on the blocking pool, in 1.24
//! to 1.38 x over seven runs, 1.11 to 1.30 x once a listing asked for its
//! first page with others, and 1.13 to 1.25 x once those pages were read
//! by one thread beside the worker (docs/fleet.md).
//!
//! Descriptors follow from the target places: a target's connections are
//! its own, kept after its collection ends only within the bound on idle
//! connections and closed otherwise (see [`super::pool`],
//! [`super::retain`]), and a target opens at most one per request it may
//! have in flight, so at most `(max_targets_in_flight + kept clients) ×
//! max_requests_per_target` sockets are open towards the appliances,
//! whatever the size of the fleet.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

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
    /// Told whenever a request or a target ends: a target held to its
    /// share may then send.
    ended: Arc<Notify>,
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
            ended: Arc::new(Notify::new()),
        }
    }

    /// Waits for a place to collect one target (first come, first served).
    pub async fn admit(&self) -> TargetPlace {
        // The semaphores are never closed, so the permit is always given.
        let place = self.targets.clone().acquire_owned().await.ok();
        TargetPlace {
            _place: place,
            own: Arc::new(Semaphore::new(self.per_target)),
            sending: Arc::new(AtomicUsize::new(0)),
            budget: self.clone(),
        }
    }

    /// The requests one target may have in flight now: its cap, or its
    /// share of the process' requests among the targets being collected
    /// when that is smaller (never less than one).
    fn share(&self) -> usize {
        let targets = self.targets_in_flight().max(1);
        self.sizes
            .1
            .div_ceil(targets)
            .clamp(1, self.per_target.max(1))
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
    /// This target's requests past its share's gate (in flight or waiting
    /// for a place of the process').
    sending: Arc<AtomicUsize>,
    /// The process-wide queues.
    budget: Budget,
}

impl Drop for TargetPlace {
    fn drop(&mut self) {
        // Fewer targets: the others' shares may have grown. The place is
        // given back first, so a target woken here counts one target less.
        self._place.take();
        self.budget.ended.notify_waiters();
    }
}

/// Leave to send one request: a place of the target's and one of the
/// process', released when dropped.
#[derive(Debug)]
pub struct RequestPlace {
    _own: Option<OwnedSemaphorePermit>,
    _global: Option<OwnedSemaphorePermit>,
    sending: Arc<AtomicUsize>,
    ended: Arc<Notify>,
}

impl Drop for RequestPlace {
    fn drop(&mut self) {
        self._own.take();
        self._global.take();
        self.sending.fetch_sub(1, Ordering::AcqRel);
        self.ended.notify_waiters();
    }
}

impl TargetPlace {
    /// Whether other targets are being collected at the same time.
    pub fn among_others(&self) -> bool {
        self.budget.targets_in_flight() > 1
    }

    /// Waits until the target (within its cap and its share) and the
    /// process may send one more request.
    pub async fn request(&self) -> RequestPlace {
        let own = self.own.clone().acquire_owned().await.ok();
        loop {
            let ended = self.budget.ended.notified();
            tokio::pin!(ended);
            // Listening before looking, so an end in between is not missed.
            ended.as_mut().enable();
            // Requests waiting here do not count: only those past it, so
            // the gate opens as soon as one of them ends.
            let share = self.budget.share();
            let passed = self
                .sending
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < share).then_some(n + 1)
                })
                .is_ok();
            if passed {
                break;
            }
            ended.await;
        }
        // Made before the wait for the process' place, so that a request
        // given up while it waits still leaves the gate.
        let mut place = RequestPlace {
            _own: own,
            _global: None,
            sending: self.sending.clone(),
            ended: self.budget.ended.clone(),
        };
        place._global = self.budget.requests.clone().acquire_owned().await.ok();
        place
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
    async fn a_target_keeps_to_its_share_while_others_are_collected() {
        let l = limits(2, 4, 4);
        let budget = Budget::new(&l);
        let a = budget.admit().await;
        // Alone, a target has its whole cap.
        assert_eq!(budget.share(), 4);
        assert!(!a.among_others());
        let a1 = a.request().await;
        let a2 = a.request().await;
        let b = budget.admit().await;
        assert_eq!(budget.share(), 2);
        assert!(a.among_others() && b.among_others());
        // a is at its share although the process has places left; b is not.
        assert!(blocks(a.request()).await);
        let b1 = b.request().await;
        let _b2 = b.request().await;
        assert_eq!(budget.requests_in_flight(), 4);
        // A request of a's that ends makes room for a's next.
        drop(a1);
        let a3 = a.request().await;
        // b's collection ends: a's share grows back to its cap.
        drop(b1);
        drop(_b2);
        drop(b);
        assert_eq!(budget.share(), 4);
        let a4 = tokio::time::timeout(Duration::from_secs(5), a.request())
            .await
            .expect("a's share grew when b ended");
        assert_eq!(budget.requests_in_flight(), 3);
        drop((a2, a3, a4));
        assert_eq!(budget.requests_in_flight(), 0);
    }

    #[tokio::test]
    async fn a_target_held_to_its_share_is_woken_by_an_end() {
        for end_the_other_target in [false, true] {
            let l = limits(2, 4, 4);
            let budget = Budget::new(&l);
            let a = Arc::new(budget.admit().await);
            let b = budget.admit().await;
            let mut held = vec![a.request().await, a.request().await];
            // a is at its share of 2 with two of the process' places free.
            let third = {
                let a = a.clone();
                tokio::spawn(async move { a.request().await })
            };
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(!third.is_finished());
            assert_eq!(budget.requests_in_flight(), 2);
            if end_the_other_target {
                drop(b);
            } else {
                held.pop();
            }
            let place = tokio::time::timeout(Duration::from_secs(5), third)
                .await
                .expect("the waiting request was woken")
                .unwrap();
            assert_eq!(budget.requests_in_flight(), held.len() + 1);
            drop(place);
        }
    }

    #[tokio::test]
    async fn requests_arriving_together_over_the_share_do_not_wait_for_each_other() {
        let l = limits(2, 4, 4);
        let budget = Budget::new(&l);
        let a = Arc::new(budget.admit().await);
        let _b = budget.admit().await;
        let release = Arc::new(tokio::sync::Semaphore::new(0));
        let passed = Arc::new(AtomicUsize::new(0));
        let requests: Vec<_> = (0..4)
            .map(|_| {
                let (a, release, passed) = (a.clone(), release.clone(), passed.clone());
                tokio::spawn(async move {
                    let _place = a.request().await;
                    passed.fetch_add(1, Ordering::SeqCst);
                    let _ = release.acquire().await.map(|p| p.forget());
                })
            })
            .collect();
        let reaches = |n: usize| {
            let passed = passed.clone();
            async move {
                while passed.load(Ordering::SeqCst) < n {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            }
        };
        // Two (the share) go, although all four took a place of a's cap.
        tokio::time::timeout(Duration::from_secs(5), reaches(2))
            .await
            .expect("the share's requests went");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(passed.load(Ordering::SeqCst), 2);
        release.add_permits(1);
        tokio::time::timeout(Duration::from_secs(5), reaches(3))
            .await
            .expect("one ended, the next went");
        release.add_permits(3);
        for r in requests {
            r.await.unwrap();
        }
        assert_eq!(budget.requests_in_flight(), 0);
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
