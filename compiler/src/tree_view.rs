//! Pictures of a contract's script tree: indented text for the terminal, SVG for documents.
//!
//! Both show every leaf with its spend path, depth, weight and worst-case witness size, the
//! key path at the root. Output is deterministic (no randomness, fixed number formatting).

use biscol_taproot::compile::Compiled;
use biscol_taproot::tree::TreeNode;

use crate::artifact::Artifact;

/// A leaf's label: the path name, with the branch of a split path (`claim#1`).
pub fn leaf_name(path: &str, branch: Option<usize>) -> String {
    match branch {
        Some(b) => format!("{path}#{b}"),
        None => path.to_string(),
    }
}

/// The `@weight` of the spend path a leaf belongs to.
fn path_weight(a: &Artifact, path: &str) -> u32 {
    a.taproot
        .paths
        .iter()
        .find(|p| p.name == path)
        .map_or(0, |p| p.weight)
}

fn leaf_label(a: &Artifact, i: usize) -> String {
    let Some(leaf) = a.taproot.leaves.get(i) else {
        return String::from("?");
    };
    let weight = path_weight(a, &leaf.path);
    format!(
        "{} (depth {}, weight {}, {} vB): {}",
        leaf_name(&leaf.path, leaf.branch),
        leaf.depth,
        weight,
        leaf.witness.vbytes,
        leaf.template
    )
}

/// The tree as indented text.
pub fn text(a: &Artifact, compiled: &Compiled) -> String {
    let mut out = format!(
        "{}\n└─ key path: {}\n",
        a.contract, a.taproot.key_path.template
    );
    let Some(tree) = &compiled.tree else {
        out.push_str("   (no script paths)\n");
        return out;
    };
    // Iterative walk: (node, prefix, is_last).
    let mut stack = vec![(tree, String::from("   "), true)];
    while let Some((node, prefix, last)) = stack.pop() {
        let branch = if last { "└─ " } else { "├─ " };
        let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
        match node {
            TreeNode::Leaf(i) => out.push_str(&format!("{prefix}{branch}{}\n", leaf_label(a, *i))),
            TreeNode::Branch(l, r) => {
                out.push_str(&format!("{prefix}{branch}•\n"));
                stack.push((r, child_prefix.clone(), true));
                stack.push((l, child_prefix, false));
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The tree as an SVG picture: branches as dots, leaves as labelled boxes, one row per depth.
pub fn svg(a: &Artifact, compiled: &Compiled) -> String {
    const ROW: i64 = 90;
    const COL: i64 = 260;
    // Lay out leaves left to right in tree order; a branch sits above the middle of its leaves.
    let mut nodes: Vec<(i64, i64, Option<usize>)> = Vec::new(); // (x, depth, leaf)
    let mut edges: Vec<(usize, usize)> = Vec::new();
    let mut next_x = 0i64;
    fn place(
        node: &TreeNode,
        depth: i64,
        next_x: &mut i64,
        nodes: &mut Vec<(i64, i64, Option<usize>)>,
        edges: &mut Vec<(usize, usize)>,
    ) -> usize {
        match node {
            TreeNode::Leaf(i) => {
                nodes.push((*next_x, depth, Some(*i)));
                *next_x += 1;
                nodes.len() - 1
            }
            TreeNode::Branch(l, r) => {
                let li = place(l, depth + 1, next_x, nodes, edges);
                let ri = place(r, depth + 1, next_x, nodes, edges);
                let x = (nodes[li].0 + nodes[ri].0) / 2;
                nodes.push((x, depth, None));
                let me = nodes.len() - 1;
                edges.push((me, li));
                edges.push((me, ri));
                me
            }
        }
    }
    // Depth is at most 128 (BIP341), so this recursion is bounded.
    let root = compiled
        .tree
        .as_ref()
        .map(|t| place(t, 1, &mut next_x, &mut nodes, &mut edges));
    let width = (next_x.max(1)) * COL + 40;
    let max_depth = nodes.iter().map(|n| n.1).max().unwrap_or(0);
    let height = (max_depth + 1) * ROW + 80;
    let pos = |n: &(i64, i64, Option<usize>)| (n.0 * COL + COL / 2 + 20, n.1 * ROW + 40);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"monospace\" font-size=\"11\">\n"
    );
    out.push_str(&format!(
        "  <text x=\"20\" y=\"20\" font-size=\"14\">{}: key path {}</text>\n",
        escape(&a.contract),
        escape(&a.taproot.key_path.template)
    ));
    if let Some(root) = root {
        let (rx, ry) = pos(&nodes[root]);
        out.push_str(&format!(
            "  <line x1=\"{rx}\" y1=\"30\" x2=\"{rx}\" y2=\"{ry}\" stroke=\"#888\"/>\n"
        ));
    }
    for (from, to) in &edges {
        let (x1, y1) = pos(&nodes[*from]);
        let (x2, y2) = pos(&nodes[*to]);
        out.push_str(&format!(
            "  <line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"#888\"/>\n"
        ));
    }
    for n in &nodes {
        let (x, y) = pos(n);
        match n.2 {
            None => out.push_str(&format!(
                "  <circle cx=\"{x}\" cy=\"{y}\" r=\"5\" fill=\"#444\"/>\n"
            )),
            Some(i) => {
                let leaf = &a.taproot.leaves[i];
                let weight = path_weight(a, &leaf.path);
                out.push_str(&format!(
                    "  <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"44\" rx=\"6\" fill=\"#eef\" stroke=\"#446\"/>\n",
                    x - COL / 2 + 10,
                    y - 12,
                    COL - 20
                ));
                out.push_str(&format!(
                    "  <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>\n",
                    y + 2,
                    escape(&leaf_name(&leaf.path, leaf.branch))
                ));
                out.push_str(&format!(
                    "  <text x=\"{x}\" y=\"{}\" text-anchor=\"middle\">depth {} · weight {} · {} vB</text>\n",
                    y + 16,
                    leaf.depth,
                    weight,
                    leaf.witness.vbytes
                ));
                out.push_str(&format!("  <title>{}</title>\n", escape(&leaf.template)));
            }
        }
    }
    out.push_str("</svg>\n");
    out
}
