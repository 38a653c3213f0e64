//! The call graph: which node a request can go to from which, per class. Used to reject
//! call cycles, to check every class is handled wherever it can go, and for call depths
//! (the bottleneck rule) and `scalelab validate`'s graph.

use super::resolve::Resolver;
use super::{Scenario, ScenarioError};
use crate::ids::{ClassId, NodeId};
use petgraph::graph::DiGraph;

impl Scenario {
    /// Successor nodes of `node` in the call graph (balancer backends, calls of any class).
    pub fn callees(&self, node: NodeId) -> Vec<NodeId> {
        let mut out = vec![];
        for c in 0..self.classes.len() {
            out.extend(self.class_callees(node, ClassId::new(c)));
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Nodes a request of `class` can go to next from `node`.
    pub fn class_callees(&self, node: NodeId, class: ClassId) -> Vec<NodeId> {
        let mut out = vec![];
        self.nodes[node.index()].kind.callees(class, &mut out);
        out
    }

    pub(super) fn check_cycles(&self, r: &Resolver) -> Result<(), ScenarioError> {
        let mut g = DiGraph::<NodeId, ()>::new();
        let ids: Vec<_> = (0..self.nodes.len())
            .map(|i| g.add_node(NodeId::new(i)))
            .collect();
        for i in 0..self.nodes.len() {
            for c in self.callees(NodeId::new(i)) {
                g.add_edge(ids[i], ids[c.index()], ());
            }
        }
        for scc in petgraph::algo::kosaraju_scc(&g) {
            let self_loop = scc.len() == 1 && g.contains_edge(scc[0], scc[0]);
            if scc.len() > 1 || self_loop {
                // Walk the cycle in call order for the message.
                let members: Vec<NodeId> = scc.iter().map(|n| g[*n]).collect();
                let start = *members.iter().min().expect("a cycle has members");
                let mut path = vec![start];
                let mut cur = start;
                loop {
                    let next = self
                        .callees(cur)
                        .into_iter()
                        .find(|c| members.contains(c))
                        .expect("a cycle member calls another");
                    path.push(next);
                    if next == start || path.len() > members.len() + 1 {
                        break;
                    }
                    cur = next;
                }
                let names: Vec<&str> = path
                    .iter()
                    .map(|&i| self.nodes[i.index()].name.as_str())
                    .collect();
                let last = names[names.len() - 2];
                let span = r
                    .loc()
                    .decl(last)
                    .and_then(|d| r.loc().quoted(names[names.len() - 1], d.1));
                return Err(r
                    .err(span, format!("calls form a cycle with no end: {}", names.join(" → ")))
                    .with_hint("a request would call round this loop for ever; calls must form a tree (DAG)"));
            }
        }
        Ok(())
    }

    pub(super) fn check_coverage(&self, r: &Resolver) -> Result<(), ScenarioError> {
        // (node, class) pairs already walked, for any source: each is checked once, so the
        // work is bounded by nodes × classes, not sources × nodes.
        let mut seen: std::collections::BTreeSet<(NodeId, ClassId)> = Default::default();
        for s in &self.sources {
            for m in &s.mix {
                let mut stack: Vec<(NodeId, Option<NodeId>)> = vec![(s.target, None)];
                while let Some((n, from)) = stack.pop() {
                    if !seen.insert((n, m.class)) {
                        continue;
                    }
                    let node = &self.nodes[n.index()];
                    if !node.kind.handles(m.class) {
                        let class = &self.classes[m.class.index()];
                        let via = from
                            .map(|f| format!(" via `{}`", self.nodes[f.index()].name))
                            .unwrap_or_default();
                        return Err(r
                            .err(r.loc().field_in(&node.name, "handlers"), format!(
                                "service `{}` has no handler for class `{class}` (sent by source `{}`{via})", node.name, s.name
                            ))
                            .with_hint(format!("add \"{class}\": [...] or a \"*\" handler to `{}`", node.name)));
                    }
                    if let crate::components::NodeKind::Cache(c) = &node.kind {
                        if c.edge && self.class_ops[m.class.index()] == super::raw::KeyOp::Write {
                            let class = &self.classes[m.class.index()];
                            let via = from
                                .map(|f| format!(" via `{}`", self.nodes[f.index()].name))
                                .unwrap_or_default();
                            return Err(r
                                .err(
                                    r.loc().field_in(&node.name, "edge"),
                                    format!(
                                        "class `{class}` writes (op: Write), and reaches `{}`{via}, a read-only CDN edge",
                                        node.name
                                    ),
                                )
                                .with_hint("send writes to the origin, not through the edge; or make it a Cache without edge: true"));
                        }
                    }
                    for c in self.class_callees(n, m.class) {
                        stack.push((c, Some(n)));
                    }
                }
            }
        }
        Ok(())
    }

    /// Call depth of every node: 0 for nodes sources send to, 1 + the caller's depth
    /// otherwise (the longest path; the call graph is acyclic).
    pub fn depths(&self) -> Vec<u32> {
        let mut depth = vec![0u32; self.nodes.len()];
        // Relax edges until stable: at most |nodes| rounds in a DAG; graphs are small.
        for _ in 0..self.nodes.len() {
            let mut changed = false;
            for n in 0..self.nodes.len() {
                for c in self.callees(NodeId::new(n)) {
                    if depth[c.index()] < depth[n] + 1 {
                        depth[c.index()] = depth[n] + 1;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        depth
    }
}
