//! AWS STS `AssumeRole` (awsQuery: a form POST answered in XML), for hub and spoke. A seeded
//! role of another account that trusts the caller's account gives credentials for it; a
//! request signed with them is served by that account's state (see [`crate::accounts`]).
//! Refusals are STS's: `AccessDenied` (the role missing, not trusting the caller, the
//! external id wrong), `ValidationError` (a bad session name or duration), and an EKS call with
//! expired credentials or in a region the account has not enabled is refused as AWS does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::error::ApiError;
use crate::seed::{SeedAccount, SeedRole};
use crate::util::{iso8601, parse_query};

/// Who signed a request: the access key and the region of its SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signer {
    pub access_key: String,
    pub region: Option<String>,
}

/// Reads `Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, ...`.
pub(crate) fn signer(headers: &HeaderMap) -> Option<Signer> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let scope = auth.split("Credential=").nth(1)?.split(',').next()?;
    let mut parts = scope.split('/');
    let access_key = parts.next()?.to_owned();
    let region = parts.nth(1).map(str::to_owned);
    Some(Signer { access_key, region })
}

/// An STS call: a form POST whose `Action` is one of STS's.
pub(crate) fn recognize(headers: &HeaderMap, body: &[u8]) -> bool {
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    form && parse_query(std::str::from_utf8(body).ok())
        .iter()
        .any(|(k, v)| k == "Action" && v == "AssumeRole")
}

struct Session {
    account: String,
    arn: String,
    expires: f64,
}

#[derive(Default)]
struct Inner {
    roles: BTreeMap<(String, String), SeedRole>,
    disabled: BTreeSet<(String, String)>,
    sessions: HashMap<String, Session>,
    /// AssumeRole calls that gave credentials, by account.
    assumed: BTreeMap<String, u64>,
    /// EKS changes (Update* calls answered) made with assumed credentials, by session ARN: what
    /// the member's CloudTrail would name as each change's identity.
    changes: BTreeMap<String, u64>,
}

/// The accounts' roles and the sessions given out.
pub(crate) struct Sts {
    home: String,
    inner: Mutex<Inner>,
}

/// What the caller of an EKS request is: its account, when not the emulator's own.
pub(crate) type CallerAccount = Option<String>;

impl Sts {
    pub(crate) fn new(home_account: &str) -> Self {
        Self {
            home: home_account.to_owned(),
            inner: Mutex::default(),
        }
    }

    pub(crate) fn apply_seed(&self, accounts: &[SeedAccount]) {
        let mut inner = self.inner.lock().unwrap();
        for account in accounts {
            for role in &account.roles {
                inner
                    .roles
                    .insert((account.id.clone(), role.name.clone()), role.clone());
            }
            for region in &account.disabled_regions {
                inner.disabled.insert((account.id.clone(), region.clone()));
            }
        }
    }

    pub(crate) fn clear(&self) {
        *self.inner.lock().unwrap() = Inner::default();
    }

    pub(crate) fn assumed(&self) -> BTreeMap<String, u64> {
        self.inner.lock().unwrap().assumed.clone()
    }

    pub(crate) fn changes(&self) -> BTreeMap<String, u64> {
        self.inner.lock().unwrap().changes.clone()
    }

    /// Counts an EKS change made by `signer`, when it signed with an assumed role's
    /// credentials (bounded: sessions are few, and a reset forgets them).
    pub(crate) fn count_change(&self, signer: Option<&Signer>) {
        let mut inner = self.inner.lock().unwrap();
        let Some(arn) = signer
            .and_then(|s| inner.sessions.get(&s.access_key))
            .map(|s| s.arn.clone())
        else {
            return;
        };
        *inner.changes.entry(arn).or_default() += 1;
    }

    /// The account of an EKS request's signer (none: the emulator's own), or EKS's refusal of
    /// expired credentials or of a region the account has not enabled.
    pub(crate) fn account_of(&self, signer: Option<&Signer>, now: f64) -> Result<CallerAccount, ApiError> {
        let Some(signer) = signer else { return Ok(None) };
        let inner = self.inner.lock().unwrap();
        let Some(session) = inner.sessions.get(&signer.access_key) else {
            return Ok(None);
        };
        if session.expires <= now {
            return Err(ApiError::expired_token());
        }
        if let Some(region) = &signer.region {
            if inner.disabled.contains(&(session.account.clone(), region.clone())) {
                return Err(ApiError::unrecognized_client());
            }
        }
        Ok(Some(session.account.clone()))
    }

    /// `AssumeRole`: credentials for the role, if it trusts the caller.
    fn assume_role(&self, signer: Option<&Signer>, form: &[(String, String)], now: f64) -> Result<String, StsError> {
        let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        let role_arn = get("RoleArn").unwrap_or_default();
        let (session, duration) = checked(get("RoleSessionName").unwrap_or_default(), get("DurationSeconds"))?;
        let mut inner = self.inner.lock().unwrap();
        let caller = signer.and_then(|s| inner.sessions.get(&s.access_key));
        let (caller_account, caller_arn) = match (caller, signer) {
            (Some(s), _) => (s.account.clone(), s.arn.clone()),
            (None, Some(s)) => (
                self.home.clone(),
                format!("arn:aws:iam::{}:user/{}", self.home, s.access_key),
            ),
            (None, None) => (self.home.clone(), format!("arn:aws:iam::{}:root", self.home)),
        };
        let denied = || {
            StsError::access_denied(format!(
                "User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
            ))
        };
        let Some((account, name)) = parse_role_arn(role_arn) else {
            return Err(denied());
        };
        let Some(role) = inner.roles.get(&(account.clone(), name.clone())) else {
            return Err(denied());
        };
        let trusted = if role.trusts.is_empty() {
            caller_account == self.home
        } else {
            role.trusts.contains(&caller_account)
        };
        if !trusted || role.external_id.as_deref() != get("ExternalId") {
            return Err(denied());
        }
        let key = format!(
            "ASIA{}",
            &uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase()
        );
        let arn = format!("arn:aws:sts::{account}:assumed-role/{name}/{session}");
        let expires = now + duration;
        let xml = format!(
            "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>\
             <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>\
             <SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration></Credentials>\
             <AssumedRoleUser><AssumedRoleId>AROA{role_id}:{session}</AssumedRoleId><Arn>{arn}</Arn></AssumedRoleUser>\
             </AssumeRoleResult><ResponseMetadata><RequestId>{request}</RequestId></ResponseMetadata></AssumeRoleResponse>",
            secret = uuid::Uuid::new_v4().simple(),
            token = uuid::Uuid::new_v4().simple(),
            expiration = iso8601(expires),
            role_id = &crate::util::stable_id(role_arn)[..16].to_uppercase(),
            request = uuid::Uuid::new_v4(),
        );
        *inner.assumed.entry(account.clone()).or_default() += 1;
        inner.sessions.insert(key, Session { account, arn, expires });
        Ok(xml)
    }
}

/// The session name and duration asked for, as STS's constraints allow them.
fn checked<'a>(session: &'a str, duration: Option<&str>) -> Result<(&'a str, f64), StsError> {
    let valid = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if session.len() < 2 || session.len() > 64 || !session.chars().all(valid) {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value '{session}' at 'roleSessionName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    let duration = match duration {
        None => 3600.0,
        Some(d) => match d.parse::<u32>() {
            Ok(d) if (900..=43200).contains(&d) => d as f64,
            _ => {
                return Err(StsError::validation(format!(
                    "1 validation error detected: Value '{d}' at 'durationSeconds' failed to satisfy constraint: \
                     Member must have value less than or equal to 43200"
                )))
            }
        },
    };
    Ok((session, duration))
}

/// `arn:aws:iam::<account>:role/<path/>name` to (account, name).
fn parse_role_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let (_partition, service, _region, account, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (service == "iam" && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (account.to_owned(), name.to_owned()))
}

struct StsError {
    status: u16,
    code: &'static str,
    message: String,
}

impl StsError {
    fn access_denied(message: String) -> Self {
        Self {
            status: 403,
            code: "AccessDenied",
            message,
        }
    }
    fn validation(message: String) -> Self {
        Self {
            status: 400,
            code: "ValidationError",
            message,
        }
    }
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn xml_response(status: u16, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("text/xml"));
    r
}

/// Answers an STS call.
pub(crate) fn handle(
    sts: &Sts,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
    now: f64,
) -> (Response, &'static str) {
    let form = parse_query(std::str::from_utf8(body).ok());
    let signer = signer(headers);
    match sts.assume_role(signer.as_ref(), &form, now) {
        Ok(xml) => (xml_response(200, xml), "AssumeRole"),
        Err(e) => {
            let xml = format!(
                "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>\
                 <Code>{}</Code><Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
                e.code,
                xml_escape(&e.message)
            );
            let mut r = xml_response(e.status, xml);
            r.headers_mut()
                .insert("x-amzn-errortype", HeaderValue::from_static(e.code));
            (r, "AssumeRole")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_signers_are_read() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::210987654321:role/ops/eks-upgrade-spoke"),
            Some(("210987654321".into(), "eks-upgrade-spoke".into()))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::2109:role/x"), None);
        let mut h = HeaderMap::new();
        h.insert(
            "authorization",
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=ASIAX/20261203/eu-west-1/eks/aws4_request, SignedHeaders=host, Signature=0"),
        );
        assert_eq!(
            signer(&h),
            Some(Signer {
                access_key: "ASIAX".into(),
                region: Some("eu-west-1".into())
            })
        );
    }
}
