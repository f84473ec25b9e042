//! Who a plan document belongs to, and whose documents a member reads (docs/DESIGN.md §6).
//!
//! A document belongs to a **plan** (loaded once by an operator, read by every member of that plan) or to a
//! **member** (uploaded by them, read by nobody else). A member's search reads their own documents and their plan's,
//! and nothing else: [`Readers`] is that pair, and the only way a search names what it may read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use uuid::Uuid;

use crate::NavigatorError;

/// The longest plan id accepted.
pub const MAX_PLAN_ID_LEN: usize = 64;

/// A plan's id, as the identity provider's plan claim and the operator's upload prefix (`plans/<plan_id>/…`) name it:
/// 1 to 64 ASCII letters, digits, `.`, `_` or `-`, so it is safe in a storage key, a path segment and a log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PlanId(String);

impl PlanId {
    pub fn parse(raw: &str) -> Result<Self, NavigatorError> {
        let valid = !raw.is_empty()
            && raw.len() <= MAX_PLAN_ID_LEN
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            && !raw.starts_with('.');
        if valid {
            Ok(Self(raw.to_string()))
        } else {
            Err(NavigatorError::invalid(format!(
                "plan id {raw:?}: must be 1 to {MAX_PLAN_ID_LEN} ASCII letters, digits, '.', '_' or '-', not starting with '.'"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PlanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PlanId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PlanId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// Who a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    Plan(PlanId),
    Member(Uuid),
}

impl Owner {
    /// The owner as stored beside every document and chunk: `plan:<plan_id>` or `member:<uuid>`. The prefix keeps
    /// the two kinds apart whatever ids an identity provider issues.
    pub fn key(&self) -> String {
        match self {
            Self::Plan(plan) => format!("plan:{plan}"),
            Self::Member(member) => format!("member:{member}"),
        }
    }

    /// The owner a stored key names.
    pub fn from_key(key: &str) -> Result<Self, NavigatorError> {
        match key.split_once(':') {
            Some(("plan", plan)) => Ok(Self::Plan(PlanId::parse(plan)?)),
            Some(("member", member)) => Uuid::parse_str(member)
                .map(Self::Member)
                .map_err(|e| NavigatorError::internal(format!("owner key {key:?}: {e}"))),
            _ => Err(NavigatorError::internal(format!("owner key {key:?}: unknown kind"))),
        }
    }

    /// `plan` or `member`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Plan(_) => "plan",
            Self::Member(_) => "member",
        }
    }
}

/// Whose documents one member's search reads: their own, and their plan's when they have one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Readers {
    pub member: Uuid,
    pub plan: Option<PlanId>,
}

impl Readers {
    pub fn new(member: Uuid, plan: Option<PlanId>) -> Self {
        Self { member, plan }
    }

    /// Every owner whose documents this member may read.
    pub fn owners(&self) -> Vec<Owner> {
        let mut owners = vec![Owner::Member(self.member)];
        owners.extend(self.plan.clone().map(Owner::Plan));
        owners
    }

    /// The stored keys of [`Self::owners`].
    pub fn owner_keys(&self) -> Vec<String> {
        self.owners().iter().map(Owner::key).collect()
    }

    /// Whether this member may read a document of `owner`.
    pub fn may_read(&self, owner: &Owner) -> bool {
        match owner {
            Owner::Member(member) => *member == self.member,
            Owner::Plan(plan) => self.plan.as_ref() == Some(plan),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_ids_are_safe_in_keys_paths_and_logs() {
        for good in ["scan-classic-hmo-2025", "H5425_001", "a", "plan.v2"] {
            assert_eq!(PlanId::parse(good).unwrap().as_str(), good);
        }
        let long = "x".repeat(MAX_PLAN_ID_LEN + 1);
        for bad in [
            "",
            "../etc",
            "a/b",
            "plan id",
            "plan\n",
            ".hidden",
            "plán",
            long.as_str(),
        ] {
            assert!(PlanId::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(serde_json::from_str::<PlanId>("\"a/b\"").is_err());
    }

    #[test]
    fn owner_keys_round_trip_and_keep_the_kinds_apart() {
        let member = Uuid::from_u128(7);
        let plan = PlanId::parse("p1").unwrap();
        for owner in [Owner::Member(member), Owner::Plan(plan.clone())] {
            assert_eq!(Owner::from_key(&owner.key()).unwrap(), owner);
        }
        // A plan named like a member id is still a plan.
        let lookalike = Owner::Plan(PlanId::parse(&member.to_string()).unwrap());
        assert_ne!(lookalike.key(), Owner::Member(member).key());
        assert!(Owner::from_key("someone:1").is_err());
    }

    #[test]
    fn a_member_reads_their_own_documents_and_their_plans_only() {
        let plan_a = PlanId::parse("plan-a").unwrap();
        let plan_b = PlanId::parse("plan-b").unwrap();
        let me = Readers::new(Uuid::from_u128(1), Some(plan_a.clone()));
        assert!(me.may_read(&Owner::Member(Uuid::from_u128(1))));
        assert!(me.may_read(&Owner::Plan(plan_a)));
        assert!(!me.may_read(&Owner::Plan(plan_b)));
        assert!(!me.may_read(&Owner::Member(Uuid::from_u128(2))));
        assert_eq!(me.owner_keys().len(), 2);
        let planless = Readers::new(Uuid::from_u128(1), None);
        assert_eq!(planless.owner_keys(), vec![format!("member:{}", Uuid::from_u128(1))]);
    }
}
