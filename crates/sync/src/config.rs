//! Where to publish and as whom: the API and login hosts, the tenant,
//! the app's credentials, and the tag that marks our indicators. Read
//! from the Azure SDK's environment variables and an optional TOML file;
//! the environment wins over the file.

use std::path::Path;

use serde::Deserialize;

use crate::error::SyncError;
use crate::secret::Secret;

/// The documented API host.
pub const DEFAULT_API_URL: &str = "https://api.security.microsoft.com";
/// The public cloud's login host.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// The scope that carries the `WindowsDefenderATP` roles.
pub const SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";
/// The `application` value our indicators carry unless told otherwise.
pub const DEFAULT_APPLICATION: &str = "iocmatch";

/// Settings for one tenant.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The API's base URL (`https://api.security.microsoft.com`).
    pub api_url: String,
    /// The login host (`AZURE_AUTHORITY_HOST`).
    pub authority_host: String,
    /// `AZURE_TENANT_ID`.
    pub tenant_id: String,
    /// `AZURE_CLIENT_ID`: also the `createdBy` of our indicators.
    pub client_id: String,
    /// `AZURE_CLIENT_SECRET`.
    pub client_secret: Secret,
    /// The OAuth scope.
    pub scope: String,
    /// The `application` value that marks our indicators (set at
    /// creation; Defender does not let it change).
    pub application: String,
}

/// The `[defender]` table of a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    api_url: Option<String>,
    authority_host: Option<String>,
    tenant_id: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    application: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    defender: FileSettings,
}

/// Values given on the command line, which win over everything.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--application`.
    pub application: Option<String>,
}

impl Settings {
    /// Settings from `env` (a lookup, normally `std::env::var`), the
    /// optional config file and the overrides.
    ///
    /// # Errors
    ///
    /// A [`SyncError::Config`] naming what is missing or unsafe.
    pub fn load(
        env: &dyn Fn(&str) -> Option<String>,
        file: Option<&Path>,
        overrides: &Overrides,
    ) -> Result<Settings, SyncError> {
        let from_file = match file {
            Some(p) => read_file(p)?,
            None => FileSettings::default(),
        };
        let pick = |flag: &Option<String>, var: &str, f: &Option<String>| {
            flag.clone()
                .or_else(|| env(var).filter(|v| !v.trim().is_empty()))
                .or_else(|| f.clone())
        };
        let none = None;
        let need = |v: Option<String>, what: &str| {
            v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).ok_or_else(|| {
                SyncError::Config(format!(
                    "{what} is not set (environment variable or the config file's [defender] table)"
                ))
            })
        };
        let settings = Settings {
            api_url: pick(
                &overrides.api_url,
                "IOCMATCH_API_URL",
                &from_file.api_url,
            )
            .unwrap_or_else(|| DEFAULT_API_URL.into()),
            authority_host: pick(
                &none,
                "AZURE_AUTHORITY_HOST",
                &from_file.authority_host,
            )
            .unwrap_or_else(|| DEFAULT_AUTHORITY.into()),
            tenant_id: need(
                pick(&none, "AZURE_TENANT_ID", &from_file.tenant_id),
                "AZURE_TENANT_ID",
            )?,
            client_id: need(
                pick(&none, "AZURE_CLIENT_ID", &from_file.client_id),
                "AZURE_CLIENT_ID",
            )?,
            client_secret: Secret::new(need(
                pick(&none, "AZURE_CLIENT_SECRET", &from_file.client_secret),
                "AZURE_CLIENT_SECRET",
            )?),
            scope: SCOPE.into(),
            application: pick(
                &overrides.application,
                "IOCMATCH_APPLICATION",
                &from_file.application,
            )
            .unwrap_or_else(|| DEFAULT_APPLICATION.into()),
        };
        settings.check()?;
        Ok(settings)
    }

    /// Refuses plain HTTP to anything but this machine: the token and
    /// the secret would cross the network in the clear.
    fn check(&self) -> Result<(), SyncError> {
        for (what, url) in [
            ("the API URL", &self.api_url),
            ("the login host", &self.authority_host),
        ] {
            check_url(url).map_err(|m| {
                SyncError::Config(format!("{what} {url}: {m}"))
            })?;
        }
        if self.application.trim().is_empty() {
            return Err(SyncError::Config(
                "the application tag is empty".into(),
            ));
        }
        Ok(())
    }
}

fn read_file(path: &Path) -> Result<FileSettings, SyncError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| SyncError::Config(format!("{}: {e}", path.display())))?;
    // The parser's message may quote the line, which may hold the
    // secret: say only where.
    let parsed: ConfigFile = toml::from_str(&text).map_err(|e| {
        let at = e.span().map(|s| line_of(&text, s.start)).unwrap_or(0);
        SyncError::Config(format!(
            "{}: line {at}: not a valid config file (expected a [defender] table with \
             api_url, authority_host, tenant_id, client_id, client_secret, application)",
            path.display()
        ))
    })?;
    Ok(parsed.defender)
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `https://…`, or `http://` to a loopback host.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    if url.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err("must start with https://".into());
    };
    if is_loopback(host_of(rest)) {
        Ok(())
    } else {
        Err("plain http is allowed only to this machine (127.0.0.1, ::1, localhost); use https://".into())
    }
}

/// The host of `rest`, the URL after its scheme.
pub(crate) fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |k| map.get(k).cloned()
    }

    const CREDS: [(&str, &str); 3] = [
        ("AZURE_TENANT_ID", "t"),
        ("AZURE_CLIENT_ID", "c"),
        ("AZURE_CLIENT_SECRET", "s3cr3t"),
    ];

    #[test]
    fn environment_then_file_then_defaults() {
        let s =
            Settings::load(&env(&CREDS), None, &Overrides::default()).unwrap();
        assert_eq!(s.api_url, DEFAULT_API_URL);
        assert_eq!(s.application, "iocmatch");
        let dir = std::env::temp_dir()
            .join(format!("iocmatch-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(&f, "[defender]\ntenant_id = \"ft\"\nclient_id = \"fc\"\nclient_secret = \"fs\"\napplication = \"iocmatch:prod\"\n").unwrap();
        let s = Settings::load(
            &env(&[("AZURE_TENANT_ID", "envt")]),
            Some(&f),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(
            (s.tenant_id.as_str(), s.client_id.as_str()),
            ("envt", "fc")
        );
        assert_eq!(s.application, "iocmatch:prod");
        std::fs::write(&f, "[defender]\nclient_secret = \"leaky\nx").unwrap();
        let e = Settings::load(&env(&CREDS), Some(&f), &Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(!e.contains("leaky"), "{e}");
        assert!(e.contains("c.toml: line "), "{e}");
    }

    #[test]
    fn missing_credentials_and_plain_http_are_refused() {
        let e = Settings::load(&env(&CREDS[..2]), None, &Overrides::default())
            .unwrap_err();
        assert!(e.to_string().contains("AZURE_CLIENT_SECRET"), "{e}");
        let o = |u: &str| Overrides {
            api_url: Some(u.into()),
            ..Overrides::default()
        };
        assert!(
            Settings::load(&env(&CREDS), None, &o("http://api.example.com"))
                .is_err()
        );
        for ok in [
            "http://127.0.0.1:8080",
            "http://[::1]:1/x",
            "http://localhost",
            "https://eu.api.security.microsoft.com",
        ] {
            assert!(
                Settings::load(&env(&CREDS), None, &o(ok)).is_ok(),
                "{ok}"
            );
        }
        assert!(
            Settings::load(
                &env(&CREDS),
                None,
                &o("http://127.0.0.1.evil.com")
            )
            .is_err()
        );
        assert!(
            Settings::load(&env(&CREDS), None, &o("http://user@evil.com:1@x"))
                .is_err()
        );
    }
}
