//! What can go wrong while syncing, said so that the user knows what to
//! fix. No variant ever holds a secret: request bodies and tokens are
//! not kept.

use std::fmt;

/// A sync that could not be done (or not completely).
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncError {
    /// The settings are incomplete or unsafe (a missing tenant id, an
    /// `http://` URL to a remote host).
    Config(String),
    /// The API answered with an error that retrying will not fix.
    Api {
        /// What was being done (`importing indicators`).
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
        /// Defender's error code (`InvalidRequestBody`), when given.
        code: Option<String>,
        /// Defender's message, when given.
        message: String,
        /// What to do about it.
        hint: Option<&'static str>,
    },
    /// The token endpoint refused the credentials.
    Auth {
        /// The HTTP status.
        status: u16,
        /// The identity platform's error (`invalid_client`, …).
        message: String,
    },
    /// No answer after every retry (timeouts, dropped connections, 5xx,
    /// 429s).
    Unavailable {
        /// What was being done.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// An answer that is not what the API documents.
    BadResponse {
        /// What was being done.
        endpoint: &'static str,
        /// What was wrong with it.
        message: String,
    },
    /// The plan breaks a guardrail; nothing was written.
    Refused(Vec<String>),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Config(m) => write!(f, "configuration: {m}"),
            SyncError::Api { endpoint, status, code, message, hint } => {
                write!(f, "{endpoint}: HTTP {status}")?;
                if let Some(c) = code {
                    write!(f, " {c}")?;
                }
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                if let Some(h) = hint {
                    write!(f, " ({h})")?;
                }
                Ok(())
            }
            SyncError::Auth { status, message } => write!(
                f,
                "getting a token: HTTP {status}: {message} (check AZURE_TENANT_ID, \
                 AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, and that the secret has not expired)"
            ),
            SyncError::Unavailable { endpoint, attempts, last } => write!(
                f,
                "{endpoint}: no answer after {attempts} attempts (last: {last}); \
                 nothing more was sent, and a re-run resumes where this stopped"
            ),
            SyncError::BadResponse { endpoint, message } => {
                write!(f, "{endpoint}: unexpected answer: {message}")
            }
            SyncError::Refused(reasons) => {
                write!(f, "the plan was refused, nothing was written:")?;
                for r in reasons {
                    write!(f, "\n  - {r}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for SyncError {}

/// What to fix for a status that is not retried.
pub(crate) fn hint(status: u16) -> Option<&'static str> {
    match status {
        401 => Some(
            "the token was refused: check the tenant and client id, and that the app's secret is valid",
        ),
        403 => Some(
            "the app lacks permission: grant it the WindowsDefenderATP application permission \
             Ti.ReadWrite (or Ti.ReadWrite.All) and admin consent",
        ),
        400 => Some("Defender refused the request body"),
        404 => Some("no such endpoint or indicator: check --api-url"),
        _ => None,
    }
}
