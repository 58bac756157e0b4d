//! The sign-in providers a role can trust, and what IAM calls each: the `Federated`
//! principal, the condition key that holds the app's id, and the policy variable that
//! holds the user's id (the `{sub}` of the package's keys, which STS returns as
//! `SubjectFromWebIdentityToken`).
//!
//! The keys are AWS's "available keys for AWS web identity federation":
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif>.
//! Google, Login with Amazon and Facebook are built into STS and need no IAM identity
//! provider of their own; any other OpenID Connect issuer does (an IAM OIDC provider whose
//! URL is the issuer's, and whose ARN is the principal):
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html>.

use std::fmt;

/// One `--provider` of `updraft setup aws`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provider {
    /// Google Identity Services: the OAuth client id (`….apps.googleusercontent.com`).
    Google { client_id: String },
    /// Login with Amazon: the security profile's app id (`amzn1.application.…`).
    Amazon { app_id: String },
    /// Facebook Login: the app id.
    Facebook { app_id: String },
    /// Any OpenID Connect issuer (`https://…`), with the page's client id.
    Oidc { issuer: String, client_id: String },
}

/// What `--provider` accepts, for its help and its errors.
pub const PROVIDER_FORMS: &str =
    "google:CLIENT_ID, amazon:APP_ID, facebook:APP_ID or oidc:ISSUER_URL,CLIENT_ID";

impl Provider {
    /// Parses `google:ID`, `amazon:ID`, `facebook:ID`, `oidc:https://issuer,CLIENT_ID`.
    pub fn parse(s: &str) -> Result<Provider, String> {
        let Some((kind, rest)) = s.split_once(':') else {
            return Err(format!("`{s}` names no provider: give {PROVIDER_FORMS}"));
        };
        let rest = rest.trim();
        let id = |what: &str| -> Result<String, String> {
            if rest.is_empty() {
                Err(format!("`{s}` has no {what} after `{kind}:`"))
            } else if rest.contains(char::is_whitespace) || rest.contains(',') {
                Err(format!(
                    "`{s}`: the {what} `{rest}` has a space or a comma; give one id"
                ))
            } else {
                Ok(rest.to_string())
            }
        };
        match kind {
            "google" => Ok(Provider::Google {
                client_id: id("client id")?,
            }),
            "amazon" => Ok(Provider::Amazon {
                app_id: id("app id")?,
            }),
            "facebook" => Ok(Provider::Facebook {
                app_id: id("app id")?,
            }),
            "oidc" => {
                let Some((issuer, client_id)) = rest.rsplit_once(',') else {
                    return Err(format!(
                        "`{s}`: an OpenID Connect provider is `oidc:ISSUER_URL,CLIENT_ID`"
                    ));
                };
                let (issuer, client_id) = (issuer.trim(), client_id.trim());
                let Some(host) = issuer.strip_prefix("https://") else {
                    return Err(format!(
                        "`{s}`: the issuer `{issuer}` is not an https:// URL (IAM trusts only \
                         https issuers; give the `iss` of the provider's ID tokens)"
                    ));
                };
                if host.is_empty() || host.starts_with('/') || host.contains(['?', '#', ' ']) {
                    return Err(format!(
                        "`{s}`: the issuer `{issuer}` is not a URL with a host (and no query)"
                    ));
                }
                // IAM: "The URL should not contain a port number", no query; no thumbprint
                // is needed (IAM fetches the CA's itself):
                // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
                if host.split('/').next().is_some_and(|h| h.contains(':')) {
                    return Err(format!(
                        "`{s}`: the issuer `{issuer}` has a port; IAM trusts issuers only on \
                         https's own port 443"
                    ));
                }
                if client_id.is_empty() {
                    return Err(format!("`{s}` has no client id after the issuer's comma"));
                }
                Ok(Provider::Oidc {
                    issuer: issuer.to_string(),
                    client_id: client_id.to_string(),
                })
            }
            other => Err(format!(
                "`{s}`: `{other}` is not a provider updraft knows; give {PROVIDER_FORMS}"
            )),
        }
    }

    /// The short name: in the role's name, the plan and `config.json`.
    pub fn kind(&self) -> &'static str {
        match self {
            Provider::Google { .. } => "google",
            Provider::Amazon { .. } => "amazon",
            Provider::Facebook { .. } => "facebook",
            Provider::Oidc { .. } => "oidc",
        }
    }

    /// The app's id with this provider (the token's audience).
    pub fn app_id(&self) -> &str {
        match self {
            Provider::Google { client_id } | Provider::Oidc { client_id, .. } => client_id,
            Provider::Amazon { app_id } | Provider::Facebook { app_id } => app_id,
        }
    }

    /// The issuer as IAM names it: the URL without `https://` (an OIDC provider's ARN
    /// ends with it, and its condition keys begin with it); the built-in providers' names.
    pub fn iam_name(&self) -> &str {
        match self {
            Provider::Google { .. } => "accounts.google.com",
            Provider::Amazon { .. } => "www.amazon.com",
            Provider::Facebook { .. } => "graph.facebook.com",
            Provider::Oidc { issuer, .. } => issuer.strip_prefix("https://").unwrap_or(issuer),
        }
    }

    /// The trust policy's `Federated` principal.
    pub fn principal(&self, account: &str) -> String {
        match self {
            Provider::Oidc { .. } => oidc_provider_arn(account, self.iam_name()),
            _ => self.iam_name().to_string(),
        }
    }

    /// The condition key whose value is the app's id. Google's `aud` key holds the
    /// token's `azp` when it has one, which a browser sign-in's token does (equal to its
    /// `aud`, the client id).
    pub fn audience_key(&self) -> String {
        match self {
            Provider::Google { .. } => "accounts.google.com:aud".into(),
            Provider::Amazon { .. } => "www.amazon.com:app_id".into(),
            Provider::Facebook { .. } => "graph.facebook.com:app_id".into(),
            Provider::Oidc { .. } => format!("{}:aud", self.iam_name()),
        }
    }

    /// The policy variable of the signed-in user's id.
    pub fn user_variable(&self) -> String {
        match self {
            Provider::Google { .. } => "${accounts.google.com:sub}".into(),
            Provider::Amazon { .. } => "${www.amazon.com:user_id}".into(),
            Provider::Facebook { .. } => "${graph.facebook.com:id}".into(),
            Provider::Oidc { .. } => format!("${{{}:sub}}", self.iam_name()),
        }
    }

    /// The role's name: `updraft-uploader-google`, …, `updraft-uploader-oidc-HOST` (IAM
    /// names allow letters, digits and `+=,.@_-`, at most 64 characters).
    pub fn role_name(&self, base: &str) -> String {
        let mut name = format!("{base}-{}", self.kind());
        if let Provider::Oidc { .. } = self {
            name.push('-');
            let host: String = self
                .iam_name()
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            name.push_str(host.trim_end_matches('-'));
        }
        name.truncate(64);
        name
    }
}

/// The ARN of the IAM OIDC provider of an issuer (`host/path`, no scheme).
pub fn oidc_provider_arn(account: &str, iam_name: &str) -> String {
    format!("arn:aws:iam::{account}:oidc-provider/{iam_name}")
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provider::Oidc { issuer, client_id } => write!(f, "{issuer} (client {client_id})"),
            p => write!(f, "{} (app {})", p.iam_name(), p.app_id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_parses_and_names_its_keys() {
        let g = Provider::parse("google:123.apps.googleusercontent.com").unwrap();
        assert_eq!(g.principal("1"), "accounts.google.com");
        assert_eq!(g.audience_key(), "accounts.google.com:aud");
        assert_eq!(g.user_variable(), "${accounts.google.com:sub}");
        assert_eq!(g.role_name("updraft-uploader"), "updraft-uploader-google");
        let a = Provider::parse("amazon:amzn1.application.abc").unwrap();
        assert_eq!(a.audience_key(), "www.amazon.com:app_id");
        assert_eq!(a.user_variable(), "${www.amazon.com:user_id}");
        let f = Provider::parse("facebook:42").unwrap();
        assert_eq!(f.audience_key(), "graph.facebook.com:app_id");
        assert_eq!(f.user_variable(), "${graph.facebook.com:id}");
        let o = Provider::parse("oidc:https://id.example.com/realms/x,web").unwrap();
        assert_eq!(o.app_id(), "web");
        assert_eq!(
            o.principal("123456789012"),
            "arn:aws:iam::123456789012:oidc-provider/id.example.com/realms/x"
        );
        assert_eq!(o.audience_key(), "id.example.com/realms/x:aud");
        assert_eq!(o.user_variable(), "${id.example.com/realms/x:sub}");
        assert_eq!(
            o.role_name("updraft-uploader"),
            "updraft-uploader-oidc-id.example.com-realms-x"
        );
    }

    #[test]
    fn bad_forms_say_what_is_wrong() {
        for (bad, says) in [
            ("google", "names no provider"),
            ("google:", "no client id"),
            ("github:abc", "not a provider updraft knows"),
            ("oidc:https://id.example.com", "oidc:ISSUER_URL,CLIENT_ID"),
            ("oidc:http://id.example.com,web", "not an https:// URL"),
            ("oidc:https://,web", "not a URL with a host"),
            ("oidc:https://id.example.com,", "no client id"),
            ("oidc:https://id.example.com:8443,web", "has a port"),
            ("facebook:1 2", "a space or a comma"),
        ] {
            let e = Provider::parse(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
