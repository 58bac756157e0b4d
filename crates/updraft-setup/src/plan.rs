//! The plan: each resource setup keeps, what it is now and what it should be, shown as a
//! diff (`+` made, `~` changed with the lines that change, `=` as it should be).

use std::fmt::Write as _;

use serde_json::{Value, json};

/// What setup keeps, one of each per bucket, provider or pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Bucket,
    /// The bucket's CORS rule [`crate::model::CORS_RULE_ID`].
    Cors,
    /// The bucket's lifecycle rule [`crate::model::LIFECYCLE_RULE_ID`].
    Lifecycle,
    PublicAccessBlock,
    /// The bucket policy's statement [`crate::model::PUBLIC_READ_SID`].
    BucketPolicy,
    /// An IAM OpenID Connect provider (its URL is the item's name).
    OidcProvider,
    /// An IAM role and its inline policy.
    Role,
    /// A Cognito identity pool and its unauthenticated role.
    IdentityPool,
}

impl Kind {
    fn label(&self) -> &'static str {
        match self {
            Kind::Bucket => "S3 bucket",
            Kind::Cors => "CORS rule of bucket",
            Kind::Lifecycle => "lifecycle rule of bucket",
            Kind::PublicAccessBlock => "Block Public Access of bucket",
            Kind::BucketPolicy => "bucket policy statement of bucket",
            Kind::OidcProvider => "IAM OpenID Connect provider",
            Kind::Role => "IAM role",
            Kind::IdentityPool => "Cognito identity pool",
        }
    }

    /// The name in `--json` output.
    fn id(&self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::Cors => "cors-rule",
            Kind::Lifecycle => "lifecycle-rule",
            Kind::PublicAccessBlock => "public-access-block",
            Kind::BucketPolicy => "bucket-policy-statement",
            Kind::OidcProvider => "oidc-provider",
            Kind::Role => "role",
            Kind::IdentityPool => "identity-pool",
        }
    }
}

/// What applying does to an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Create,
    Change,
    Keep,
}

impl Action {
    fn id(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Change => "change",
            Action::Keep => "keep",
        }
    }
}

/// One resource: what it is (`None`: it does not exist) and what it should be.
#[derive(Clone, Debug)]
pub struct Item {
    pub kind: Kind,
    pub name: String,
    pub current: Option<Value>,
    pub desired: Value,
}

impl Item {
    pub fn action(&self) -> Action {
        match &self.current {
            None => Action::Create,
            Some(c) if *c == self.desired => Action::Keep,
            Some(_) => Action::Change,
        }
    }
}

/// The plan, in order of application.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub items: Vec<Item>,
    /// What setup noticed and explains (a trap handled, a choice made).
    pub notes: Vec<String>,
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn indented(out: &mut String, mark: char, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "    {mark} {line}");
    }
}

impl Plan {
    /// How many items applying would make or change.
    pub fn changes(&self) -> usize {
        self.items
            .iter()
            .filter(|i| i.action() != Action::Keep)
            .count()
    }

    /// The plan for a person: one line per item, a made item's document, a changed one's
    /// differing lines.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for item in &self.items {
            let (mark, what) = match item.action() {
                Action::Create => ('+', "create"),
                Action::Change => ('~', "change"),
                Action::Keep => ('=', "as it should be"),
            };
            let _ = writeln!(out, "  {mark} {} {}: {what}", item.kind.label(), item.name);
            match (item.action(), &item.current) {
                (Action::Create, _) => indented(&mut out, '+', &pretty(&item.desired)),
                (Action::Change, Some(current)) => {
                    let (old, new) = (pretty(current), pretty(&item.desired));
                    let diff = similar::TextDiff::from_lines(&old, &new);
                    for group in diff.grouped_ops(2) {
                        for op in group {
                            for change in diff.iter_changes(&op) {
                                let mark = match change.tag() {
                                    similar::ChangeTag::Delete => '-',
                                    similar::ChangeTag::Insert => '+',
                                    similar::ChangeTag::Equal => ' ',
                                };
                                let _ = write!(out, "    {mark} {}", change.value());
                                if change.missing_newline() {
                                    out.push('\n');
                                }
                            }
                        }
                        let _ = writeln!(out, "      …");
                    }
                }
                _ => {}
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  note: {note}");
        }
        out
    }

    /// The plan for a program (`--json`): each item's kind, name, action, current and
    /// desired document.
    pub fn to_json(&self) -> Value {
        json!({
            "changes": self.changes(),
            "items": self.items.iter().map(|i| json!({
                "kind": i.kind.id(),
                "name": i.name,
                "action": i.action().id(),
                "current": i.current,
                "desired": i.desired,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_shows_only_the_lines_that_differ_and_their_neighbours() {
        let plan = Plan {
            items: vec![
                Item {
                    kind: Kind::Cors,
                    name: "b".into(),
                    current: Some(json!({"A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6})),
                    desired: json!({"A": 1, "B": 2, "C": 3, "D": 4, "E": 50, "F": 6}),
                },
                Item {
                    kind: Kind::Bucket,
                    name: "b".into(),
                    current: Some(json!({"Bucket": "b"})),
                    desired: json!({"Bucket": "b"}),
                },
            ],
            notes: vec![],
        };
        let text = plan.render();
        assert!(text.contains("~ CORS rule of bucket b: change"), "{text}");
        assert!(
            text.contains("-   \"E\": 5,") && text.contains("+   \"E\": 50,"),
            "{text}"
        );
        assert!(!text.contains("\"A\""), "{text}");
        assert!(text.contains("= S3 bucket b: as it should be"), "{text}");
        assert_eq!(plan.changes(), 1);
        assert_eq!(plan.to_json()["items"][0]["action"], "change");
    }
}
