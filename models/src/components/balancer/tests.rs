//! Unit tests of the balancer: algorithms over changing membership, zone preference.
use super::*;
use sim_core::RngStreams;

fn balancer(alg: Algorithm, pools: &[(u32, f64)]) -> Balancer {
    let backends = pools
        .iter()
        .enumerate()
        .map(|(i, &(_, w))| Backend {
            node: NodeId::new(i),
            link: None,
            weight: w,
        })
        .collect();
    let lb = LoadBalancer {
        health: None,
        algorithm: alg,
        backends,
        prefer_zone: false,
    };
    let mut b = Balancer::new(&lb, RngStreams::new(1).get("lb"));
    for (bi, &(n, _)) in pools.iter().enumerate() {
        for i in 0..n {
            b.join(bi, InstanceId::new(i as usize));
        }
    }
    b
}

#[test]
fn consistent_hash_is_sticky_and_moves_only_the_leaving_instances_sessions() {
    let mut b = balancer(Algorithm::ConsistentHash, &[(4, 1.0)]);
    let mut first = vec![];
    let mut counts = [0; 4];
    for session in 0..4000u64 {
        let t = b.pick(session).unwrap();
        assert_eq!(b.pick(session), Some(t), "session {session} moved");
        counts[t as usize] += 1;
        first.push(t);
    }
    for c in counts {
        assert!((900..1100).contains(&c), "uneven spread: {counts:?}");
    }
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(2),
        up: false,
        died: false,
        zone: 0,
    });
    for (session, &t) in first.iter().enumerate() {
        let now = b.pick(session as u64).unwrap();
        if t == 2 {
            assert_ne!(now, 2, "a session stayed on the instance that left");
        } else {
            assert_eq!(now, t, "session {session} moved though its instance stayed");
        }
    }
}

#[test]
fn jump_hash_moves_only_the_keys_of_the_new_bucket_and_spreads_evenly() {
    let mut counts = [0u32; 10];
    for k in 0..100_000u64 {
        let key = mix64(k);
        let b = jump(key, 10);
        counts[b as usize] += 1;
        let grown = jump(key, 11);
        assert!(
            grown == b || grown == 10,
            "key {k} moved from {b} to {grown}"
        );
    }
    for c in counts {
        assert!((9_500..10_500).contains(&c), "{counts:?}");
    }
    assert_eq!(jump(mix64(7), 1), 0);
}

#[test]
fn consistent_hash_sends_a_returning_instance_its_sessions_back_and_a_new_one_a_share() {
    let mut b = balancer(Algorithm::ConsistentHash, &[(8, 1.0)]);
    let before: Vec<u32> = (0..4000).map(|s| b.pick(s).unwrap()).collect();
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(5),
        up: false,
        died: false,
        zone: 0,
    });
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(5),
        up: true,
        died: false,
        zone: 0,
    });
    let again: Vec<u32> = (0..4000).map(|s| b.pick(s).unwrap()).collect();
    assert_eq!(before, again, "a rejoin restores every session");
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(8),
        up: true,
        died: false,
        zone: 0,
    });
    let grown: Vec<u32> = (0..4000).map(|s| b.pick(s).unwrap()).collect();
    let moved: Vec<usize> = (0..4000).filter(|&s| grown[s] != before[s]).collect();
    assert!(
        moved.iter().all(|&s| grown[s] == 8),
        "moved elsewhere than the new one"
    );
    assert!(
        (300..600).contains(&moved.len()),
        "{} of 4000 moved",
        moved.len()
    );
}

#[test]
fn least_connections_scan_and_tree_pick_the_same_across_the_switch() {
    let mut b = balancer(Algorithm::LeastConnections, &[(20, 1.0)]);
    let mut x: u64 = 5;
    let mut rnd = |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    for step in 0..3000 {
        match rnd(10) {
            0 => b.set_member(crate::kernel::Membership {
                node: NodeId::new(0),
                inst: InstanceId::new(rnd(60) as usize),
                up: true,
                died: false,
                zone: 0,
            }),
            1 => b.set_member(crate::kernel::Membership {
                node: NodeId::new(0),
                inst: InstanceId::new(rnd(60) as usize),
                up: false,
                died: false,
                zone: 0,
            }),
            _ => {
                let t = rnd(b.targets.len() as u64) as u32;
                let d = if b.outstanding[t as usize] > 0 && rnd(2) == 0 {
                    -1
                } else {
                    1
                };
                b.add_outstanding(t, d);
            }
        }
        if b.members.is_empty() {
            continue;
        }
        let n = b.targets.len();
        let start = rnd(n as u64) as usize;
        let want = (0..n)
            .map(|k| ((start + k) % n) as u32)
            .filter(|&t| b.members.contains(t))
            .min_by_key(|&t| b.outstanding[t as usize])
            .unwrap();
        assert_eq!(b.least_from(start), want, "step {step}, {n} targets");
    }
    assert!(b.targets.len() > SCAN_MAX, "the tree was exercised");
}

#[test]
fn least_connections_and_p2c_avoid_the_busy_target() {
    let mut b = balancer(Algorithm::LeastConnections, &[(4, 1.0)]);
    for (t, o) in [3, 1, 0, 2].into_iter().enumerate() {
        b.add_outstanding(t as u32, o);
    }
    for _ in 0..8 {
        assert_eq!(b.pick(0), Some(2));
    }
    // The least loaded leaves: the next least loaded takes over.
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(2),
        up: false,
        died: false,
        zone: 0,
    });
    assert_eq!(b.pick(0), Some(1));
    let mut b = balancer(Algorithm::PowerOfTwoChoices, &[(4, 1.0)]);
    b.add_outstanding(0, 100);
    for _ in 0..1000 {
        assert_ne!(
            b.pick(0),
            Some(0),
            "the busiest of two distinct choices is never taken"
        );
    }
}

#[test]
fn round_robin_skips_instances_that_left_and_takes_back_those_that_return() {
    let mut b = balancer(Algorithm::RoundRobin, &[(2, 1.0), (1, 1.0)]);
    let picks: Vec<u32> = (0..6).map(|_| b.pick(0).unwrap()).collect();
    assert_eq!(picks, vec![0, 1, 2, 0, 1, 2]);
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(1),
        up: false,
        died: false,
        zone: 0,
    });
    let picks: Vec<u32> = (0..4).map(|_| b.pick(0).unwrap()).collect();
    assert!(picks.iter().all(|&t| t != 1), "{picks:?}");
    b.set_member(crate::kernel::Membership {
        node: NodeId::new(0),
        inst: InstanceId::new(1),
        up: true,
        died: false,
        zone: 0,
    });
    let picks: Vec<u32> = (0..3).map(|_| b.pick(0).unwrap()).collect();
    assert!(picks.contains(&1), "{picks:?}");
    for (pool, inst) in [(0, 0), (0, 1), (1, 0)] {
        b.set_member(crate::kernel::Membership {
            node: NodeId::new(pool),
            inst: InstanceId::new(inst),
            up: false,
            died: false,
            zone: 0,
        });
    }
    assert_eq!(b.pick(0), None, "nothing routable");
}

#[test]
fn smooth_weighted_round_robin_interleaves_by_pool_weight() {
    // Pools of one instance with weights 3 and 1: a a b a (nginx's smooth order).
    let mut b = balancer(
        Algorithm::WeightedRoundRobin { weights: vec![] },
        &[(1, 3.0), (1, 1.0)],
    );
    let picks: Vec<u32> = (0..8).map(|_| b.pick(0).unwrap()).collect();
    assert_eq!(picks, vec![0, 0, 1, 0, 0, 0, 1, 0]);
    // A pool's share follows its ready instances: 2 instances × 1 vs 1 × 1.
    let mut b = balancer(
        Algorithm::WeightedRoundRobin { weights: vec![] },
        &[(2, 1.0), (1, 1.0)],
    );
    let mut c = [0; 3];
    for _ in 0..300 {
        c[b.pick(0).unwrap() as usize] += 1;
    }
    assert_eq!(c, [100, 100, 100]);
}

#[test]
fn prefer_zone_keeps_requests_in_their_zone_then_region_then_anywhere() {
    // Six instances: two in each of zones 1, 2 (region 1) and 3 (region 2).
    for alg in [
        Algorithm::RoundRobin,
        Algorithm::Random,
        Algorithm::LeastConnections,
        Algorithm::PowerOfTwoChoices,
    ] {
        let mut b = balancer(alg.clone(), &[]);
        b.backends.push(BackendState {
            node: NodeId::new(0),
            link: None,
            weight: 1.0,
            current: 0.0,
            members: DenseSet::new(),
            rr: 0,
            target_of: vec![],
        });
        b.locality = Some(Locality {
            zone_of: vec![],
            region_of: vec![0, 1, 1, 2],
            zones: vec![Local::default(); 4],
            regions: vec![Local::default(); 3],
        });
        let m = |i: usize, up: bool| crate::kernel::Membership {
            node: NodeId::new(0),
            inst: InstanceId::new(i),
            up,
            died: false,
            zone: 1 + (i / 2) as u16,
        };
        for i in 0..6 {
            b.set_member(m(i, true));
        }
        let zone_of = |b: &mut Balancer, from: u16| {
            let t = b.pick_local(from).or_else(|| b.pick(0)).unwrap();
            1 + b.targets[t as usize].inst.index() as u16 / 2
        };
        for from in 1..=3 {
            for _ in 0..20 {
                assert_eq!(zone_of(&mut b, from), from, "{alg:?}");
            }
        }
        // Zone 1 empties: its callers stay in region 1 (zone 2).
        b.set_member(m(0, false));
        b.set_member(m(1, false));
        for _ in 0..20 {
            assert_eq!(zone_of(&mut b, 1), 2, "{alg:?}");
        }
        // Region 1 empties: anywhere (zone 3).
        b.set_member(m(2, false));
        b.set_member(m(3, false));
        for _ in 0..20 {
            assert_eq!(zone_of(&mut b, 1), 3, "{alg:?}");
        }
        // Zone 1 comes back: its callers return.
        b.set_member(m(0, true));
        assert_eq!(zone_of(&mut b, 1), 1, "{alg:?}");
        // No zone: no preference; every member is used.
        let mut seen = [0u32; 4];
        for _ in 0..200 {
            seen[zone_of(&mut b, 0) as usize] += 1;
        }
        assert!(seen[1] > 0 && seen[3] > 0, "{alg:?}: {seen:?}");
    }
}
