//! What the machine itself was like while a bench ran. This machine is a
//! shared virtual one: the same binaries take a quarter more CPU from one hour
//! to the next, and what a process had in the caches is gone after a few
//! milliseconds of waiting (docs/benchmarks.md, "Where our code's time goes"). A probe on a
//! thread of its own times two fixed pieces of work every 100 ms while a bench
//! runs, so that two runs' figures can be compared against the machine's state:
//! a random walk over 1 MiB right after the sleep (memory, cold, as every AWS
//! call's client work finds it) and again right after that (warm), and a loop
//! of multiplications (the clock alone). It costs about 2-3 % of one core
//! on a busy machine (the walks take longer there).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use shop_local::aws_costs::Spread;

const INTERVAL: Duration = Duration::from_millis(100);
/// 2^18 four-byte slots: 1 MiB, inside this machine's caches when warm.
const WALK_SLOTS: usize = 1 << 18;
const WALK_STEPS: usize = 20_000;
const MULTIPLICATIONS: u64 = 200_000;

/// CPU time (µs) of each piece of work, over the probe's samples.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineReference {
    pub samples: usize,
    /// 20,000 steps of the walk right after 100 ms asleep.
    pub walk_after_sleep_us: Spread,
    /// The same right after the first: what the caches hold when warm.
    pub walk_warm_us: Spread,
    /// 200,000 multiplications (registers only).
    pub multiplications_us: Spread,
}

/// A running probe; [`MachineProbe::finish`] stops it and answers its figures.
pub struct MachineProbe {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<MachineReference>,
}

impl MachineProbe {
    pub fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut walk = MemoryWalk::new();
            let (mut cold, mut warm, mut arithmetic) = (Vec::new(), Vec::new(), Vec::new());
            while !stopping.load(Ordering::Relaxed) {
                std::thread::sleep(INTERVAL);
                cold.push(cpu_us(|| walk.run()));
                warm.push(cpu_us(|| walk.run()));
                arithmetic.push(cpu_us(|| {
                    std::hint::black_box(multiply(MULTIPLICATIONS));
                }));
            }
            MachineReference {
                samples: cold.len(),
                walk_after_sleep_us: Spread::of(cold),
                walk_warm_us: Spread::of(warm),
                multiplications_us: Spread::of(arithmetic),
            }
        });
        Self { stop, thread }
    }

    pub fn finish(self) -> Option<MachineReference> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().ok()
    }
}

/// CPU time of `work` on this thread, in microseconds.
fn cpu_us(work: impl FnOnce()) -> u64 {
    let started = cpu_time::ThreadTime::now();
    work();
    started.elapsed().as_micros() as u64
}

/// 20,000 steps of a random walk over 1 MiB, each run going on where the
/// last stopped: memory work with little code, so its CPU time says what the
/// caches held.
pub struct MemoryWalk {
    cycle: Vec<u32>,
    at: u32,
}

impl MemoryWalk {
    pub fn new() -> Self {
        Self { cycle: random_cycle(WALK_SLOTS), at: 0 }
    }

    pub fn run(&mut self) {
        for _ in 0..WALK_STEPS {
            self.at = self.cycle[self.at as usize];
        }
        std::hint::black_box(self.at);
    }
}

impl Default for MemoryWalk {
    fn default() -> Self {
        Self::new()
    }
}

/// One step of a linear congruential generator (Knuth's constants).
fn lcg(x: u64) -> u64 {
    x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407)
}

fn multiply(n: u64) -> u64 {
    let mut x = 1u64;
    for _ in 0..std::hint::black_box(n) {
        x = lcg(x);
    }
    x
}

/// A random cycle through `len` slots: following it touches one cache line per
/// step, in an order no prefetcher guesses.
fn random_cycle(len: usize) -> Vec<u32> {
    let mut order: Vec<u32> = (0..len as u32).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..len).rev() {
        state = lcg(state);
        order.swap(i, (state >> 33) as usize % (i + 1));
    }
    let mut next = vec![0u32; len];
    for pair in order.windows(2) {
        next[pair[0] as usize] = pair[1];
    }
    if let (Some(&last), Some(&first)) = (order.last(), order.first()) {
        next[last as usize] = first;
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_visits_every_slot_once_before_it_comes_back() {
        let cycle = random_cycle(1024);
        let mut seen = vec![false; 1024];
        let mut at = 0u32;
        for _ in 0..1024 {
            assert!(!seen[at as usize], "slot {at} visited twice");
            seen[at as usize] = true;
            at = cycle[at as usize];
        }
        assert_eq!(at, 0);
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn the_probe_answers_what_it_sampled() {
        let probe = MachineProbe::start();
        std::thread::sleep(INTERVAL * 3);
        let reference = probe.finish().expect("probe thread");
        assert!(reference.samples >= 1, "{reference:?}");
        assert!(reference.walk_after_sleep_us.max > 0 && reference.multiplications_us.max > 0, "{reference:?}");
    }
}
