//! Reaching a member account (hub and spoke): the function assumes
//! `arn:<partition>:iam::<account>:role/<SPOKE_ROLE_NAME>` with STS `AssumeRole` (one
//! session per account for looks, [`HUB_SESSION`]; one named after the cluster for its
//! changes, [`change_session`]), keeps the credentials until shortly before they expire, and builds clients for that
//! account and the cluster's region. A member it cannot reach (the role missing, not trusting
//! the hub, a region not enabled) is an [`EksFailure`] that names the account, the role and
//! AWS's message, and blocks that cluster only.

use super::aws::{AwsConfig, LazyClient};
use super::sdk_failure;
use crate::domain::{EksFailure, FailureKind, Location};
use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Credentials are used until this long before they expire: an invocation that took them
/// may still be making calls that long after.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(15 * 60 + 60);

/// The spoke role to assume (`SPOKE_ROLE_NAME`, `SPOKE_EXTERNAL_ID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokeRole {
    pub name: String,
    pub external_id: Option<String>,
}

/// Credentials of member accounts, by account and session, until shortly before they expire.
#[derive(Debug, Default)]
pub struct CredentialCache {
    held: HashMap<(String, String), Credentials>,
}

impl CredentialCache {
    /// The credentials kept for `(account, session)`, if they are good for [`REFRESH_BEFORE`]
    /// more.
    pub fn fresh(&self, account: &str, session: &str, now: SystemTime) -> Option<Credentials> {
        let held = self.held.get(&(account.to_owned(), session.to_owned()))?;
        match held.expiry() {
            Some(expiry) if expiry > now + REFRESH_BEFORE => Some(held.clone()),
            Some(_) => None,
            None => Some(held.clone()),
        }
    }

    pub fn keep(&mut self, account: &str, session: &str, credentials: Credentials, now: SystemTime) {
        // Bounded: what expired goes whenever something is added.
        self.held.retain(|_, c| c.expiry().is_none_or(|e| e > now));
        self.held.insert((account.to_owned(), session.to_owned()), credentials);
    }
}

/// Clients of one kind per (account, region, session), with when their credentials expire.
type Clients<C> = Arc<Mutex<HashMap<(String, String, String), (Option<SystemTime>, C)>>>;

/// The session the spoke roles are assumed as for looks: one per account, so a warm instance
/// assumes each account's role about once an hour. (A session per cluster for every call cost
/// an AssumeRole for nearly every look: 610 per account in the 1,000-cluster benchmark.)
pub const HUB_SESSION: &str = "eks-upgrade-orchestrator";

/// The session a member cluster's changes (UpdateClusterVersion, UpdateNodegroupVersion,
/// UpdateAddon) are made as: named after the cluster, so the member's CloudTrail says which
/// upgrade made each change.
pub fn change_session(cluster_name: &str) -> String {
    let wanted = format!("eks-upgrade-{cluster_name}");
    if wanted.len() <= 64 {
        return session_name(&wanted);
    }
    // Cut to STS's 64 characters, told apart from another long name by a hash of the whole.
    let hash = uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, cluster_name.as_bytes())
        .simple()
        .to_string();
    session_name(&format!("{}-{}", &wanted[..55], &hash[..8]))
}

/// The AWS configuration of a member account and region.
#[derive(Clone)]
pub struct Spokes {
    aws: AwsConfig,
    sts: Arc<LazyClient<aws_sdk_sts::Client>>,
    role: SpokeRole,
    cache: Arc<Mutex<CredentialCache>>,
    /// Built once per set of credentials: a client holds its connections (and, with
    /// `TLS_TRUST_ROOTS=system`, its own HTTPS set-up), so one per call would redo both.
    eks_clients: Clients<aws_sdk_eks::Client>,
    cloudwatch_clients: Clients<aws_sdk_cloudwatch::Client>,
}

impl std::fmt::Debug for Spokes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spokes").field("role", &self.role).finish()
    }
}

impl Spokes {
    pub fn new(aws: AwsConfig, sts: LazyClient<aws_sdk_sts::Client>, role: SpokeRole) -> Self {
        Self {
            aws,
            sts: Arc::new(sts),
            role,
            cache: Arc::default(),
            eks_clients: Arc::default(),
            cloudwatch_clients: Arc::default(),
        }
    }

    /// An EKS client for `at`, signed as the spoke role (session `session`), kept while its
    /// credentials are.
    pub async fn eks(&self, at: &Location, session: &str) -> Result<aws_sdk_eks::Client, EksFailure> {
        Box::pin(self.client(&self.eks_clients, at, session, aws_sdk_eks::Client::new)).await
    }

    /// An EKS client for `at` signed as `session`, not kept: a change session (one per
    /// cluster) makes a few calls per hop, and a client kept per cluster would hold a
    /// thousand clients (and their connections) for an hour in a large rollout. The
    /// credentials are kept as ever.
    pub async fn eks_once(&self, at: &Location, session: &str) -> Result<aws_sdk_eks::Client, EksFailure> {
        let credentials = self.credentials(at, session).await?;
        Ok(aws_sdk_eks::Client::new(&self.signed(at, credentials).await))
    }

    /// A CloudWatch client for `at` (the alarms a member cluster's verification reads live in
    /// its own account and region), kept while its credentials are.
    pub async fn cloudwatch(&self, at: &Location, session: &str) -> Result<aws_sdk_cloudwatch::Client, EksFailure> {
        Box::pin(self.client(&self.cloudwatch_clients, at, session, aws_sdk_cloudwatch::Client::new)).await
    }

    async fn client<C: Clone>(
        &self,
        clients: &Clients<C>,
        at: &Location,
        session: &str,
        make: fn(&SdkConfig) -> C,
    ) -> Result<C, EksFailure> {
        let key = (
            at.account.as_str().to_owned(),
            at.region.as_str().to_owned(),
            session.to_owned(),
        );
        let now = SystemTime::now();
        let fresh = |expiry: &Option<SystemTime>| expiry.is_none_or(|e| e > now + REFRESH_BEFORE);
        if let Some((_, client)) = clients.lock().expect("clients").get(&key).filter(|(e, _)| fresh(e)) {
            return Ok(client.clone());
        }
        let credentials = self.credentials(at, session).await?;
        let expiry = credentials.expiry();
        let client = make(&self.signed(at, credentials).await);
        let mut clients = clients.lock().expect("clients");
        // Bounded: what expired goes whenever something is added.
        clients.retain(|_, (e, _)| e.is_none_or(|e| e > now));
        clients.insert(key, (expiry, client.clone()));
        Ok(client)
    }

    /// The configuration for `at`, signed as the spoke role (session `session`).
    pub async fn config_for(&self, at: &Location, session: &str) -> Result<SdkConfig, EksFailure> {
        let credentials = self.credentials(at, session).await?;
        Ok(self.signed(at, credentials).await)
    }

    /// This function's configuration (endpoints, time-outs, HTTPS client) for `at`, signed
    /// with `credentials`. They are fixed: no identity cache (whose partitions would push out
    /// the function's own credentials).
    async fn signed(&self, at: &Location, credentials: Credentials) -> SdkConfig {
        let base = Box::pin(self.aws.get()).await;
        base.to_builder()
            .region(aws_config::Region::new(at.region.as_str().to_owned()))
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .identity_cache(aws_config::identity::IdentityCache::no_cache())
            .build()
    }

    async fn credentials(&self, at: &Location, session: &str) -> Result<Credentials, EksFailure> {
        let (account, role) = (at.account.as_str(), &self.role);
        let now = SystemTime::now();
        if let Some(credentials) = self.cache.lock().expect("cache").fresh(account, session, now) {
            return Ok(credentials);
        }
        let role_arn = format!("arn:{}:iam::{account}:role/{}", at.region.partition(), role.name);
        let out = Box::pin(
            self.sts
                .get()
                .await
                .assume_role()
                .role_arn(&role_arn)
                .role_session_name(session_name(session))
                .set_external_id(role.external_id.clone())
                .send(),
        )
        .await
        .map_err(|e| {
            let f = sdk_failure(&e);
            let message = format!("assuming {role_arn} (account {account}): {}", f.message);
            EksFailure::new(f.kind, f.code, message)
        })?;
        let Some(given) = out.credentials() else {
            return Err(EksFailure::new(
                FailureKind::Transient,
                "",
                format!("assuming {role_arn}: STS answered without credentials"),
            ));
        };
        let credentials = Credentials::new(
            given.access_key_id(),
            given.secret_access_key(),
            Some(given.session_token().to_owned()),
            SystemTime::try_from(*given.expiration()).ok(),
            "spoke-role",
        );
        tracing::info!(account, role = %role_arn, session, "assumed the spoke role");
        self.cache
            .lock()
            .expect("cache")
            .keep(account, session, credentials.clone(), now);
        Ok(credentials)
    }
}

/// Why a cluster of another account can't be reached when no spoke role is configured.
pub fn no_spoke_role(at: &Location) -> EksFailure {
    EksFailure::new(
        FailureKind::AccessDenied,
        "SpokeRoleNotConfigured",
        format!(
            "account {} is not this function's: reaching it needs the spoke role (the \
             template's SpokeRoleName parameter, SPOKE_ROLE_NAME)",
            at.account.as_str()
        ),
    )
}

/// STS allows 2-64 characters of `[\w+=,.@-]` in a session name.
pub fn session_name(wanted: &str) -> String {
    let mut name: String = wanted
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(expires_in: u64, now: SystemTime) -> Credentials {
        Credentials::new(
            "AK",
            "SK",
            Some("T".into()),
            Some(now + Duration::from_secs(expires_in)),
            "t",
        )
    }

    #[test]
    fn credentials_are_reused_until_shortly_before_they_expire() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut cache = CredentialCache::default();
        cache.keep("111111111111", "s", credentials(3600, now), now);
        assert!(cache.fresh("111111111111", "s", now).is_some());
        assert!(cache.fresh("222222222222", "s", now).is_none(), "another account");
        assert!(cache.fresh("111111111111", "other", now).is_none(), "another session");
        let late = now + Duration::from_secs(3600) - REFRESH_BEFORE;
        assert!(cache
            .fresh("111111111111", "s", late - Duration::from_secs(1))
            .is_some());
        assert!(
            cache.fresh("111111111111", "s", late).is_none(),
            "refreshed near expiry"
        );
    }

    #[test]
    fn expired_credentials_are_dropped() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let mut cache = CredentialCache::default();
        cache.keep("111111111111", "old", credentials(60, now), now);
        cache.keep(
            "111111111111",
            "new",
            credentials(3600, now + Duration::from_secs(120)),
            now + Duration::from_secs(120),
        );
        assert_eq!(cache.held.len(), 1);
    }

    #[test]
    fn change_sessions_of_long_names_stay_apart() {
        assert_eq!(change_session("web"), "eks-upgrade-web");
        let a = change_session(&format!("{}-a", "n".repeat(90)));
        let b = change_session(&format!("{}-b", "n".repeat(90)));
        assert_eq!((a.len(), b.len()), (64, 64));
        assert_ne!(a, b);
        assert_eq!(a, change_session(&format!("{}-a", "n".repeat(90))), "stable");
    }

    #[test]
    fn session_names_are_what_sts_allows() {
        assert_eq!(session_name("eks-upgrade-prod_1"), "eks-upgrade-prod_1");
        assert_eq!(session_name("a/b c"), "a-b-c");
        assert_eq!(session_name("x"), "x-");
        assert_eq!(session_name(&"n".repeat(100)).len(), 64);
    }
}
