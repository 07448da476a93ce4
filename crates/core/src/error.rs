//! Why an indicator was refused: a kind a program can act on, and a
//! message a person can.
//!
//! Loaders, normalisation and the checked constructors all report an
//! [`IndicatorError`]; a loader wraps it in a
//! [`Rejection`](crate::Rejection) with the place it was read.

use std::fmt;

/// What is wrong with an indicator. New kinds may be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No value at all.
    EmptyValue,
    /// A file hash of the wrong length or with non-hex characters.
    InvalidHash,
    /// A certificate thumbprint of the wrong length or not hex.
    InvalidThumbprint,
    /// Not an IP address.
    InvalidIp,
    /// A malformed CIDR network.
    InvalidCidr,
    /// A private, loopback, link-local, documentation or other
    /// non-public address, which Defender refuses.
    NonPublicIp,
    /// A malformed domain name.
    InvalidDomain,
    /// A malformed URL.
    InvalidUrl,
    /// A value of another type than the one named (an IP address given
    /// as a domain, a URL given as a domain).
    WrongType,
    /// An indicator type name nobody knows.
    UnknownType,
    /// A plain-list value whose type cannot be told.
    UnknownValueType,
    /// No action given.
    MissingAction,
    /// An action name nobody knows.
    UnknownAction,
    /// An action Defender does not accept on this type
    /// (`BlockAndRemediate` on an IP, `Block` on a certificate).
    RefusedAction,
    /// A severity name nobody knows.
    InvalidSeverity,
    /// An unreadable expiration time.
    InvalidTime,
    /// A metadata field of the wrong shape (`generateAlert` that is not a
    /// boolean, say).
    InvalidField,
    /// An entry the format allows but iocmatch cannot use (a STIX
    /// pattern with operators other than `=` and `OR`).
    Unsupported,
    /// An entry that is not readable at all (a broken JSON line, a CSV row
    /// with invalid UTF-8, an object that is not an indicator).
    Unreadable,
}

impl ErrorKind {
    /// A stable, lower-case name for reports (`non_public_ip`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::EmptyValue => "empty_value",
            ErrorKind::InvalidHash => "invalid_hash",
            ErrorKind::InvalidThumbprint => "invalid_thumbprint",
            ErrorKind::InvalidIp => "invalid_ip",
            ErrorKind::InvalidCidr => "invalid_cidr",
            ErrorKind::NonPublicIp => "non_public_ip",
            ErrorKind::InvalidDomain => "invalid_domain",
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::WrongType => "wrong_type",
            ErrorKind::UnknownType => "unknown_type",
            ErrorKind::UnknownValueType => "unknown_value_type",
            ErrorKind::MissingAction => "missing_action",
            ErrorKind::UnknownAction => "unknown_action",
            ErrorKind::RefusedAction => "refused_action",
            ErrorKind::InvalidSeverity => "invalid_severity",
            ErrorKind::InvalidTime => "invalid_time",
            ErrorKind::InvalidField => "invalid_field",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Unreadable => "unreadable",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An indicator (or one of its fields) that cannot be used: its
/// [`ErrorKind`] and a message that says what was expected.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IndicatorError {
    kind: ErrorKind,
    message: Box<str>,
}

impl IndicatorError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Box<str>>) -> Self {
        IndicatorError { kind, message: message.into() }
    }

    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, for people (`expected 64 hex digits, found 63`).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for IndicatorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for IndicatorError {}

/// An entry that cannot be read at all.
pub(crate) fn unreadable(message: impl Into<Box<str>>) -> IndicatorError {
    IndicatorError::new(ErrorKind::Unreadable, message)
}

/// An entry the format allows but iocmatch cannot use.
pub(crate) fn unsupported(message: impl Into<Box<str>>) -> IndicatorError {
    IndicatorError::new(ErrorKind::Unsupported, message)
}

/// A field of the wrong shape.
pub(crate) fn invalid_field(message: impl Into<Box<str>>) -> IndicatorError {
    IndicatorError::new(ErrorKind::InvalidField, message)
}
