//! Read-only questions about the organization forest of a scope.
//!
//! Only *live* organizations take part; tombstones are invisible. Every helper is at most
//! O(n log n) in the number of organizations, so one decision never goes quadratic:
//!
//! ```text
//!   root (depth 1) ── child (2) ── grandchild (3)        height(root) = 3
//!   root2 (1)                                            height(root2) = 1
//! ```

use std::collections::{BTreeMap, VecDeque};

use super::TenantScope;
use crate::domain::{
    ids::OrganizationId,
    organization::{Organization, OrganizationStatus},
};

/// Live children of every live organization that has any (`None` key = the roots).
pub(super) type ChildrenIndex = BTreeMap<Option<OrganizationId>, Vec<OrganizationId>>;

impl TenantScope {
    /// A live organization.
    pub(super) fn live(&self, id: OrganizationId) -> Option<&Organization> {
        self.organizations
            .get(&id)
            .filter(|o| o.status == OrganizationStatus::Active)
    }

    /// Live organizations.
    pub(super) fn live_organizations(&self) -> impl Iterator<Item = &Organization> {
        self.organizations
            .values()
            .filter(|o| o.status == OrganizationStatus::Active)
    }

    /// Depth of a live organization, walking up its parents (bounded, so a corrupt state
    /// cannot loop forever; a missing or deleted parent ends the walk).
    pub(super) fn live_depth(&self, id: OrganizationId) -> Option<usize> {
        self.live(id).map(|o| o.depth)
    }

    /// Whether `ancestor` is `id` itself or one of its (live) ancestors.
    pub(super) fn is_self_or_ancestor(&self, ancestor: OrganizationId, id: OrganizationId) -> bool {
        let mut current = Some(id);
        let mut steps = 0;
        while let Some(c) = current {
            if c == ancestor {
                return true;
            }
            if steps > self.organizations.len() {
                break;
            }
            steps += 1;
            current = self.live(c).and_then(|o| o.parent_id);
        }
        false
    }

    /// The live children index (one pass over the organizations).
    pub(super) fn children_index(&self) -> ChildrenIndex {
        let mut index = ChildrenIndex::new();
        for org in self.live_organizations() {
            index.entry(org.parent_id).or_default().push(org.id);
        }
        index
    }

    /// Live descendants of `root` (excluding it), level by level: each entry is
    /// `(descendant, depth below root)` with depth 1 for direct children.
    pub(super) fn live_descendants(
        index: &ChildrenIndex,
        root: OrganizationId,
    ) -> Vec<(OrganizationId, usize)> {
        let mut out = Vec::new();
        let mut queue = VecDeque::from([(root, 0usize)]);
        while let Some((id, level)) = queue.pop_front() {
            for &child in index.get(&Some(id)).map_or(&[][..], Vec::as_slice) {
                // Every organization has one parent, so only a cycle through `root` itself
                // could bring the walk back; skipping `root` keeps even a corrupt state finite.
                if child != root {
                    out.push((child, level + 1));
                    queue.push_back((child, level + 1));
                }
            }
        }
        out
    }

    /// Height of the live subtree under `root`: 1 for a leaf.
    pub(super) fn subtree_height(index: &ChildrenIndex, root: OrganizationId) -> usize {
        Self::live_descendants(index, root)
            .last()
            .map_or(1, |&(_, level)| level + 1)
    }

    /// A live organization under `parent` whose name equals `name` case-insensitively
    /// (both trimmed), other than `except`.
    pub(super) fn sibling_named(
        &self,
        parent: Option<OrganizationId>,
        name: &str,
        except: Option<OrganizationId>,
    ) -> Option<&Organization> {
        let wanted = name.trim();
        self.live_organizations().find(|o| {
            o.parent_id == parent && Some(o.id) != except && same_name(o.name.trim(), wanted)
        })
    }
}

/// Case-insensitive (Unicode lower-case) equality without allocating.
pub(super) fn same_name(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}
